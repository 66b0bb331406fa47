"""高新技术成果转化项目认定: the conditions of 沪科规〔2020〕8号 explained (IP age windows at their edges, the
declarations, the exclusions judgement), the application and its refusals, the expert review with the conflict
rule of projects/review.py, and the recognition with its certificate and validity."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from kechuang.projects.models import ConflictKind, ExpertConflict
from kechuang.recognitions import eligibility, transformation
from kechuang.recognitions.choices import Exclusion
from kechuang.recognitions.eligibility import MET, NOT_MET, UNKNOWN
from kechuang.recognitions.models import TransformationProject, TransformationReview
from kechuang.workflows.models import TransitionLog
from tests.recognitions.conftest import (
    SCORES,
    TODAY,
    expert,
    ip,
    make_project,
    messages_of,
    recommended,
    reviewed,
)
from tests.tiering.conftest import enterprise

pytestmark = pytest.mark.django_db

APPLIED = dt.date(2026, 6, 30)


# —— IP age windows (第六条第（二）项) ——


@pytest.mark.parametrize(
    ("ip_type", "granted", "status"),
    [
        ("invention", dt.date(2023, 6, 30), MET),  # exactly 3 years before: at the window's edge, in time
        ("invention", dt.date(2023, 6, 29), NOT_MET),  # one day too old
        ("ic_layout", dt.date(2023, 6, 30), MET),
        ("ic_layout", dt.date(2023, 6, 29), NOT_MET),
        ("utility_model", dt.date(2024, 6, 30), MET),  # 2 years
        ("utility_model", dt.date(2024, 6, 29), NOT_MET),
        ("software", dt.date(2024, 6, 30), MET),
        ("software", dt.date(2024, 6, 29), NOT_MET),
        ("invention", APPLIED, MET),
        ("invention", APPLIED + dt.timedelta(days=1), NOT_MET),  # granted after the application
        ("design", dt.date(2026, 1, 1), NOT_MET),  # not a type the 办法 lists
        ("new_drug", dt.date(2010, 1, 1), UNKNOWN),  # not time-limited: checked by hand
    ],
)
def test_the_ip_window_counts_back_from_the_application_date(p, ip_type, granted, status):
    asset = ip(p.ent_a, ip_type, grant_date=granted)

    assert eligibility.ip_check(asset, APPLIED).status == status


def test_an_ip_one_day_too_old_is_explained_with_the_window(p):
    asset = ip(p.ent_a, "invention", grant_date=dt.date(2023, 6, 29))

    check = eligibility.ip_check(asset, APPLIED)

    assert check.text == (
        f"发明专利 {asset.number}：2023-06-29 授权，超过 3 年时限 1 天（须在 2023-06-30 及以后授权）"
    )
    assert check.window_start == dt.date(2023, 6, 30)


def test_software_is_registered_not_granted_and_at_the_edge_is_in_time(p):
    asset = ip(p.ent_a, "software", grant_date=dt.date(2024, 6, 30))

    assert eligibility.ip_check(asset, APPLIED).text == (
        f"软件著作权 {asset.number}：2024-06-30 登记，在 2 年时限内（2024-06-30 至 2026-06-30）"
    )


def test_the_window_from_29_february_starts_on_28_february(p):
    assert eligibility.years_before(dt.date(2028, 2, 29), 2) == dt.date(2026, 2, 28)
    asset = ip(p.ent_a, "utility_model", grant_date=dt.date(2026, 2, 28))
    assert eligibility.ip_check(asset, dt.date(2028, 2, 29)).status == MET


def test_lapsed_pending_and_undated_ip(p):
    lapsed = ip(p.ent_a, "invention", status="lapsed")
    pending = ip(p.ent_a, "invention", grant_date=None, status="pending")
    pending.grant_date = None
    pending.save()
    undated = ip(p.ent_a, "invention")
    undated.grant_date = None
    undated.save()

    assert eligibility.ip_check(lapsed, TODAY).text.endswith("已失效")
    assert eligibility.ip_check(pending, TODAY).status == NOT_MET
    assert eligibility.ip_check(undated, TODAY).status == UNKNOWN


# —— the conditions ——


def test_each_condition_is_explained_with_its_value_and_article(p):
    project = make_project(p, ips=[ip(p.ent_a, "invention", grant_date=TODAY - dt.timedelta(days=100))])

    result = eligibility.check(project)

    statuses = {c.code: c.status for c in result.conditions}
    assert statuses == {
        "applicant": MET,
        "no_infringement": MET,
        "no_accident": MET,
        "not_dishonest": MET,
        "field": MET,
        "core_ip": MET,
        "first_transformation": MET,
        "business_scope": UNKNOWN,
        "test_report": MET,
        "exclusion": UNKNOWN,  # the default: not judged yet, never taken as met
    }
    assert result.status == UNKNOWN
    assert result.by_code("core_ip").source == "沪科规〔2020〕8号 第六条第（二）项"
    assert result.by_code("applicant").source == "沪科规〔2020〕8号 第五条"
    assert result.by_code("exclusion").value == "尚未判断"
    assert "默认“尚未判断”，按待定计，不按满足计" in result.by_code("exclusion").notes[-1]


def test_a_missing_declaration_is_not_met(p):
    project = make_project(p, no_accident=False)

    condition = eligibility.check(project).by_code("no_accident")

    assert condition.status == NOT_MET
    assert condition.value == "申请人未作出该项声明（须声明方可提交）"


def test_an_excluded_product_is_not_met_once_judged(p):
    project = make_project(p)
    transformation.project_submit(project, user=p.alice)

    transformation.exclusion_judge(project, exclusion=Exclusion.MATURE, note="已批量销售三年", user=p.carol)

    condition = eligibility.check(project).by_code("exclusion")
    assert (condition.status, condition.value) == (NOT_MET, "经判断属于“已形成规模销售的成熟产品”")


def test_the_exclusions_judgement_needs_its_reasoning_and_an_officer(p):
    project = make_project(p)
    transformation.project_submit(project, user=p.alice)

    with pytest.raises(ValidationError) as excinfo:
        transformation.exclusion_judge(project, exclusion=Exclusion.NONE, note="", user=p.carol)
    assert "请写明判断依据" in messages_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        transformation.exclusion_judge(project, exclusion=Exclusion.NONE, note="新产品", user=p.alice)
    assert "只有科委业务人员可以判断不予认定情形" in messages_of(excinfo)
    assert TransformationProject.objects.get(pk=project.pk).exclusion == Exclusion.NOT_JUDGED


# —— the application ——


def test_the_ip_of_another_enterprise_is_refused(p):
    foreign = ip(p.ent_b)

    with pytest.raises(ValidationError) as excinfo:
        make_project(p, ips=[foreign])

    assert excinfo.value.message_dict["core_ip"] == [
        f"知识产权“发明专利 {foreign.number}”不属于申请单位上海甲科技有限公司，核心知识产权须为申请单位拥有"
    ]
    assert not TransformationProject.objects.exists()


def test_submitting_stamps_the_application_date_and_logs_the_step(p):
    project = make_project(p)

    transformation.project_submit(project, user=p.alice)

    stored = TransformationProject.objects.get(pk=project.pk)
    assert (stored.state, stored.applied_on) == ("submitted", TODAY)
    log = TransitionLog.objects.get(object_id=project.pk, transition="submit")
    assert (log.actor, log.reason) == (p.alice, f"申请日期 {TODAY}")


def test_submitting_with_ip_too_old_by_one_day_is_refused_and_nothing_changes(p):
    too_old = ip(
        p.ent_a, "utility_model", grant_date=eligibility.years_before(TODAY, 2) - dt.timedelta(days=1)
    )
    project = make_project(p, ips=[too_old])

    with pytest.raises(ValidationError) as excinfo:
        transformation.project_submit(project, user=p.alice)

    assert "不符合认定条件：不满足“核心技术有有效期内的自主知识产权”" in messages_of(excinfo)
    assert "超过 2 年时限 1 天" in messages_of(excinfo)
    stored = TransformationProject.objects.get(pk=project.pk)
    assert (stored.state, stored.applied_on, stored.submitted_at) == ("draft", None, None)
    assert not TransitionLog.objects.filter(object_id=project.pk).exists()


def test_submitting_with_ip_at_the_window_edge_is_accepted(p):
    edge = ip(p.ent_a, "utility_model", grant_date=eligibility.years_before(TODAY, 2))
    project = make_project(p, ips=[edge])

    transformation.project_submit(project, user=p.alice)

    assert TransformationProject.objects.get(pk=project.pk).state == "submitted"


def test_submitting_without_a_declaration_is_refused(p):
    project = make_project(p, not_dishonest=False)

    with pytest.raises(ValidationError) as excinfo:
        transformation.project_submit(project, user=p.alice)

    assert "不满足“未被列入严重违法失信名单”：申请人未作出该项声明" in messages_of(excinfo)
    assert TransformationProject.objects.get(pk=project.pk).state == "draft"


def test_only_the_applicant_s_users_submit(p):
    project = make_project(p)

    with pytest.raises(PermissionDenied):
        transformation.project_submit(project, user=p.carol)  # officers do not apply
    other = p.alice.__class__.objects.create_user("bella")
    other.groups.add(*p.alice.groups.all())
    with pytest.raises(ValidationError) as excinfo:
        transformation.project_submit(project, user=other)  # an enterprise user, not of this enterprise
    assert "仅上海甲科技有限公司的用户可以办理" in messages_of(excinfo)
    assert TransformationProject.objects.get(pk=project.pk).state == "draft"


def test_a_submitted_project_is_no_longer_edited(p):
    project = make_project(p)
    transformation.project_submit(project, user=p.alice)

    with pytest.raises(ValidationError) as excinfo:
        transformation.project_save(project, data={"name": "改名", "product": "x"}, user=p.alice)

    assert "项目当前状态为“已提交”，只有草稿或退回修改的项目可以修改" in messages_of(excinfo)


def test_a_returned_project_is_changed_and_submitted_again(p):
    project = make_project(p)
    transformation.project_submit(project, user=p.alice)
    with pytest.raises(ValidationError):
        transformation.project_return(project, user=p.carol, reason="")
    transformation.project_return(project, user=p.carol, reason="请补充检测报告")

    transformation.project_save(
        project, data={**project_fields(project), "test_report_no": "JC-2"}, user=p.alice
    )
    transformation.project_submit(project, user=p.alice)

    stored = TransformationProject.objects.get(pk=project.pk)
    assert (stored.state, stored.test_report_no) == ("submitted", "JC-2")
    assert list(
        TransitionLog.objects.filter(object_id=project.pk).order_by("pk").values_list("transition", flat=True)
    ) == ["submit", "return", "resubmit"]


def project_fields(project) -> dict:
    names = (
        "name",
        "product",
        "field",
        "first_transformed_on",
        "no_infringement",
        "no_accident",
        "not_dishonest",
    )
    return {n: getattr(project, n) for n in names}


# —— expert review (回避: projects/review.py's rule) ——


def test_an_expert_of_the_applicant_is_refused_and_nothing_is_assigned(p):
    project = recommended(p)
    insider = expert("张工", organisation="上海甲科技有限公司", code=p.ent_a.uscc)

    with pytest.raises(ValidationError) as excinfo:
        transformation.review_assign(project, insider, user=p.carol)

    assert excinfo.value.message_dict["expert"] == [
        f"专家张工与“晶圆缺陷智能检测系统”存在回避关系：工作单位即申报单位（统一社会信用代码 {p.ent_a.uscc}），不能分配"
    ]
    assert not TransformationReview.objects.exists()


def test_an_expert_with_a_recorded_conflict_is_refused(p):
    project = recommended(p)
    partner = expert("李教授", organisation="某大学")
    ExpertConflict.objects.create(expert=partner, enterprise=p.ent_a, kind=ConflictKind.COLLABORATION)

    with pytest.raises(ValidationError) as excinfo:
        transformation.review_assign(project, partner, user=p.carol)

    assert "与上海甲科技有限公司存在回避关系：近三年合作" in messages_of(excinfo)
    assert not TransformationReview.objects.exists()


def test_an_expert_whose_conflict_appears_after_the_assignment_cannot_review(p):
    project = recommended(p)
    e = expert("王研究员", user=p.eve)
    item = transformation.review_assign(project, e, user=p.carol)
    ExpertConflict.objects.create(expert=e, enterprise=p.ent_a, kind=ConflictKind.SAME_ORGANISATION)

    with pytest.raises(ValidationError) as excinfo:
        transformation.review_submit(item, scores=SCORES, opinion="好", recommend=True, user=p.eve)

    assert "存在回避关系：与上海甲科技有限公司存在回避关系：同一单位，不能评审" in messages_of(excinfo)
    stored = TransformationReview.objects.get(pk=item.pk)
    assert (stored.state, stored.total) == ("assigned", None)


def test_the_expert_reviews_once_with_scores_in_range(p):
    project = recommended(p)
    item = transformation.review_assign(project, expert("王研究员", user=p.eve), user=p.carol)

    with pytest.raises(ValidationError) as excinfo:
        transformation.review_submit(
            item, scores={**SCORES, "benefit": 21}, opinion="好", recommend=True, user=p.eve
        )
    assert excinfo.value.message_dict["benefit"] == ["“市场前景与经济社会效益”的得分 21 超出允许范围 0–20"]

    transformation.review_submit(item, scores=SCORES, opinion="建议认定", recommend=True, user=p.eve)
    stored = TransformationReview.objects.get(pk=item.pk)
    assert (stored.state, str(stored.total), stored.recommend) == ("submitted", "80.00", True)
    with pytest.raises(ValidationError) as excinfo:
        transformation.review_submit(item, scores=SCORES, opinion="再交", recommend=True, user=p.eve)
    assert "不能重复提交" in messages_of(excinfo)


def test_another_user_does_not_review_for_the_expert(p):
    project = recommended(p)
    item = transformation.review_assign(project, expert("王研究员", user=p.eve), user=p.carol)

    with pytest.raises(ValidationError) as excinfo:
        transformation.review_submit(item, scores=SCORES, opinion="好", recommend=True, user=p.alice)

    assert messages_of(excinfo) == "只有受邀专家本人可以提交评审意见"


def test_withdrawing_records_the_conflict_against_the_enterprise(p):
    project = recommended(p)
    e = expert("王研究员", user=p.eve)
    item = transformation.review_assign(project, e, user=p.carol)

    transformation.review_withdraw(item, reason="曾为该企业提供咨询", user=p.eve)

    assert TransformationReview.objects.get(pk=item.pk).state == "withdrawn"
    assert ExpertConflict.objects.filter(expert=e, enterprise=p.ent_a, kind=ConflictKind.DECLARED).exists()
    other = make_project(p, name="另一个项目")
    transformation.project_submit(other, user=p.alice)
    with pytest.raises(ValidationError, match="本人申明回避"):
        transformation.review_assign(other, e, user=p.carol)


# —— the recognition ——


def test_recognition_waits_for_the_judgement_and_the_reviews(p):
    project = make_project(p)
    transformation.project_submit(project, user=p.alice)
    transformation.project_recommend(project, user=p.carol, opinion="同意推荐")

    with pytest.raises(ValidationError) as excinfo:
        transformation.project_recognise(
            project, certificate_no="2026-001", recognised_on=TODAY, user=p.carol
        )
    assert "尚未判断是否属于不予认定情形" in messages_of(excinfo)

    transformation.exclusion_judge(project, exclusion=Exclusion.NONE, note="新产品", user=p.carol)
    reviewed(p, project, n=2)
    with pytest.raises(ValidationError) as excinfo:
        transformation.project_recognise(
            project, certificate_no="2026-001", recognised_on=TODAY, user=p.carol
        )
    assert "已评审专家 2 位，须至少 3 位（回避退出的不计）" in messages_of(excinfo)
    stored = TransformationProject.objects.get(pk=project.pk)
    assert (stored.state, stored.certificate_no, stored.valid_until) == ("district_recommended", None, None)


def test_a_recognised_project_has_its_certificate_valid_for_the_configured_years(p):
    project = reviewed(p, recommended(p))
    on = TODAY

    transformation.project_recognise(project, certificate_no="gz-2026-0001", recognised_on=on, user=p.carol)

    stored = TransformationProject.objects.get(pk=project.pk)
    expected_end = transformation.valid_until(on, 3)
    assert (stored.state, stored.certificate_no, stored.recognised_on, stored.valid_until) == (
        "recognised",
        "GZ-2026-0001",
        on,
        expected_end,
    )
    assert on < expected_end <= on.replace(year=on.year + 3, day=min(on.day, 28)) + dt.timedelta(days=3)


def test_the_validity_is_a_setting_and_counts_from_29_february(p):
    assert transformation.valid_until(dt.date(2024, 2, 29), 3) == dt.date(2027, 2, 28)
    with override_settings(RECOGNITIONS_CERTIFICATE_YEARS=2):
        assert transformation.valid_until(dt.date(2026, 3, 1)) == dt.date(2028, 2, 29)


def test_a_certificate_number_is_unique(p):
    first = reviewed(p, recommended(p))
    transformation.project_recognise(first, certificate_no="GZ-1", recognised_on=TODAY, user=p.carol)
    second = reviewed(p, recommended(p, name="第二个项目"))

    with pytest.raises(ValidationError) as excinfo:
        transformation.project_recognise(second, certificate_no="gz-1", recognised_on=TODAY, user=p.carol)

    assert (
        "证书编号 GZ-1 已用于项目“晶圆缺陷智能检测系统”（上海甲科技有限公司），证书编号不能重复"
        in messages_of(excinfo)
    )
    assert TransformationProject.objects.get(pk=second.pk).state == "district_recommended"


def test_only_the_decision_permission_recognises(p):
    project = reviewed(p, recommended(p))

    with pytest.raises(PermissionDenied):
        transformation.project_recognise(project, certificate_no="GZ-9", recognised_on=TODAY, user=p.leo)

    assert TransformationProject.objects.get(pk=project.pk).certificate_no is None


def test_a_rejection_needs_its_reason(p):
    project = recommended(p)

    with pytest.raises(ValidationError, match="不予认定须说明原因"):
        transformation.project_reject(project, user=p.carol, reason="")
    transformation.project_reject(project, user=p.carol, reason="属于产品改型")

    stored = TransformationProject.objects.get(pk=project.pk)
    assert (stored.state, stored.decision_note) == ("rejected", "属于产品改型")


def test_an_applicant_outside_shanghai_is_unknown_and_a_deregistered_one_not_met(p):
    elsewhere = enterprise(77)  # no park, no address
    assert eligibility.check(make_project(p, elsewhere, user=p.carol)).by_code("applicant").status == UNKNOWN
    gone = enterprise(78, park=p.park_a, status="deregistered")
    condition = eligibility.check(make_project(p, gone, user=p.carol)).by_code("applicant")
    assert (condition.status, condition.value) == (NOT_MET, "企业状态为“注销”")


@pytest.mark.parametrize(
    ("number", "on", "field", "expected"),
    [
        ("", TODAY, "certificate_no", "证书编号必须填写"),
        (
            "GZ-1",
            TODAY + dt.timedelta(days=1),
            "recognised_on",
            f"认定日期 {TODAY + dt.timedelta(days=1)} 晚于今天",
        ),
        ("GZ-1", TODAY - dt.timedelta(days=1), "recognised_on", f"早于申请日期 {TODAY}"),
        ("GZ-1", "2026/01/01", "recognised_on", "认定日期“2026/01/01”不是日期（格式：2026-03-31）"),
    ],
)
def test_a_wrong_recognition_is_refused_and_nothing_changes(p, number, on, field, expected):
    project = reviewed(p, recommended(p))

    with pytest.raises(ValidationError) as excinfo:
        transformation.project_recognise(project, certificate_no=number, recognised_on=on, user=p.carol)

    assert any(expected in m for m in excinfo.value.message_dict[field])
    stored = TransformationProject.objects.get(pk=project.pk)
    assert (stored.state, stored.certificate_no, stored.recognised_on) == ("district_recommended", None, None)


def test_experts_are_assigned_only_between_submission_and_the_result(p):
    draft = make_project(p)

    with pytest.raises(ValidationError) as excinfo:
        transformation.review_assign(draft, expert("李教授"), user=p.carol)

    assert "项目当前状态为“草稿”，只有已提交或已推荐的项目可以分配评审专家" in messages_of(excinfo)
    assert not TransformationReview.objects.exists()


def test_an_unknown_exclusion_and_a_withdrawal_without_reason_are_refused(p):
    project = recommended(p)
    with pytest.raises(ValidationError) as excinfo:
        transformation.exclusion_judge(project, exclusion="maybe", note="x", user=p.carol)
    assert "不予认定情形“maybe”不存在，可选：尚未判断（not_judged）" in messages_of(excinfo)

    item = transformation.review_assign(project, expert("王研究员", user=p.eve), user=p.carol)
    with pytest.raises(ValidationError, match="申明回避须说明原因"):
        transformation.review_withdraw(item, reason="  ", user=p.eve)
    assert TransformationReview.objects.get(pk=item.pk).state == "assigned"
    assert not ExpertConflict.objects.exists()
