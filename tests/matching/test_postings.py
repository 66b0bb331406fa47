"""Postings (services.py): who posts what, every value checked with a Chinese message naming the field, the
value and what is allowed (boundaries included), duplicates refused naming the existing posting, HTML kept as
text, moderation steps with who may take them, edits and deletes, and the tokens and index changes every write
leaves. Every refusal is checked with nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kechuang.matching import services
from kechuang.matching.models import Achievement, Demand, IndexChange, TalentProfile
from tests.matching import fixtures as f
from tests.matching.fixtures import achievement, achievement_values, demand, demand_values, talent

mf = f.mf
pytestmark = pytest.mark.django_db


def changes(kind: str, pk: int) -> list[tuple[str, int, bool]]:
    return list(
        IndexChange.objects.filter(kind=kind, object_id=pk)
        .order_by("pk")
        .values_list("kind", "object_id", "deleted")
    )


# —— who posts ———————————————————————————————————————————————————————————————————————————————————————————————


def test_an_enterprise_user_posts_a_draft_demand_with_its_tokens_history_and_index_change(mf):
    d = demand(mf)
    assert d.state == "draft" and d.enterprise == mf.ent_a and d.created_by == mf.alice
    assert d.fingerprint == "伺服电机温升控制"
    assert set(d.tokens) >= {"title", "keywords", "text"} and d.tokens["title"]
    assert changes("demand", d.pk) == [("demand", d.pk, False)]
    [record] = d.history.all()
    assert record.history_user == mf.alice and record.history_change_reason == "新建"
    assert d.budget == Decimal("800000.00")


def test_a_user_may_post_only_for_its_own_enterprise(mf):
    with pytest.raises(PermissionDenied, match="您不是上海乙生物有限公司的用户，不能以其名义发布需求"):
        services.demand_create(enterprise=mf.ent_b, user=mf.alice, **demand_values())
    with pytest.raises(PermissionDenied, match="无权发布技术需求（需企业用户账号）"):
        services.demand_create(enterprise=mf.ent_a, user=mf.uma, **demand_values())
    assert not Demand.objects.exists() and not IndexChange.objects.exists()


def test_a_university_user_posts_for_its_organisation_only(mf):
    a = achievement(mf)
    assert a.organisation == f.UNIVERSITY and a.created_by == mf.uma
    with pytest.raises(PermissionDenied, match="您是上海示例大学的用户，不能以“另一所大学”的名义发布"):
        services.achievement_create(
            user=mf.uma, organisation=f.OTHER_UNIVERSITY, **achievement_values(title="其他")
        )
    with pytest.raises(PermissionDenied, match="无权发布科技成果"):
        services.achievement_create(user=mf.alice, **achievement_values(title="企业不能发成果"))
    assert Achievement.objects.count() == 1


def test_a_university_user_without_an_affiliation_is_told_to_ask_for_one(mf):
    mf.vic.affiliation.delete()
    vic = f.fresh(mf.vic)
    with pytest.raises(
        PermissionDenied, match="您的账号未关联高校或科研院所，请联系科委业务人员设置所属单位后再发布"
    ):
        services.talent_create(user=vic, **f.talent_values())
    assert not TalentProfile.objects.exists()


def test_an_officer_posts_an_achievement_for_a_named_organisation_and_must_name_it(mf):
    a = services.achievement_create(user=mf.carol, organisation="东华大学", **achievement_values())
    assert a.organisation == "东华大学"
    with pytest.raises(ValidationError) as excinfo:
        services.achievement_create(user=mf.carol, **achievement_values(title="无单位"))
    assert excinfo.value.message_dict == {"organisation": ["所属单位必须填写（高校或科研院所的全称）"]}
    assert Achievement.objects.count() == 1


# —— values ——————————————————————————————————————————————————————————————————————————————————————————————————


def test_bad_values_are_refused_field_by_field_naming_value_and_what_is_allowed(mf):
    with pytest.raises(ValidationError) as excinfo:
        demand(
            mf,
            title="",
            field="99",
            description="",
            budget="-1",
            deadline=timezone.localdate() - dt.timedelta(days=1),
            contact_phone="call me",
        )
    errors = excinfo.value.message_dict
    assert errors["title"] == ["需求名称必须填写"]
    assert errors["field"][0].startswith("技术领域“99”不存在，可选：01（电子信息）、02（生物与新医药）")
    assert errors["description"] == ["需求描述必须填写（要解决的技术问题、指标、应用场景）"]
    assert errors["budget"] == ["预算 -1 元为负数，金额不能为负"]
    assert errors["deadline"][0].startswith("截止日期 ") and "早于今天" in errors["deadline"][0]
    assert errors["contact_phone"][0].startswith("联系电话“call me”格式不对")
    assert not Demand.objects.exists() and not IndexChange.objects.exists()


@pytest.mark.parametrize(
    ("trl", "message"),
    [
        ("0", "技术成熟度 0 不在 1–9 之间（1 基本原理 … 9 规模应用）"),
        (10, "技术成熟度 10 不在 1–9 之间（1 基本原理 … 9 规模应用）"),
        ("高", "技术成熟度“高”不是整数（1–9）"),
    ],
)
def test_a_trl_outside_1_to_9_is_refused(mf, trl, message):
    with pytest.raises(ValidationError) as excinfo:
        achievement(mf, trl=trl)
    assert excinfo.value.message_dict == {"trl": [message]}
    assert not Achievement.objects.exists()


@pytest.mark.parametrize("trl", [1, 9, "7", None])
def test_trl_1_and_9_and_none_are_accepted(mf, trl):
    assert achievement(mf, trl=trl).trl == (int(trl) if trl else None)


def test_unknown_cooperation_modes_are_refused_naming_the_allowed_ones(mf):
    with pytest.raises(ValidationError) as excinfo:
        achievement(mf, cooperation_modes=["licence", "买断"])
    [message] = excinfo.value.message_dict["cooperation_modes"]
    assert message.startswith("合作方式“买断”不存在，可选：transfer（技术转让）、licence（技术许可）")
    a = achievement(mf, cooperation_modes=["技术转让", "licence", "licence"])
    assert a.cooperation_modes == ["transfer", "licence"]


def test_an_achievement_without_a_field_is_refused_but_a_talent_profile_may_have_none(mf):
    with pytest.raises(ValidationError) as excinfo:
        achievement(mf, field="")
    assert excinfo.value.message_dict["field"][0].startswith("技术领域必须选择，可选：01（电子信息）")
    assert talent(mf, field="").field == ""


def test_the_description_may_have_5000_characters_not_5001(mf):
    assert len(demand(mf, description="字" * 5000).description) == 5000
    with pytest.raises(ValidationError) as excinfo:
        demand(mf, title="另一个需求", description="字" * 5001)
    assert excinfo.value.message_dict == {"description": ["需求描述最多 5,000 字，现为 5,001 字"]}
    assert Demand.objects.count() == 1


def test_a_title_of_200_characters_is_accepted_and_201_refused(mf):
    assert len(demand(mf, title="题" * 200).title) == 200
    with pytest.raises(ValidationError) as excinfo:
        demand(mf, title="长" * 201)
    assert excinfo.value.message_dict == {"title": ["需求名称最多 200 字，现为 201 字"]}


def test_a_bio_over_3000_and_keywords_over_300_characters_are_refused(mf):
    with pytest.raises(ValidationError) as excinfo:
        talent(mf, bio="研" * 3001, keywords="词" * 301)
    assert excinfo.value.message_dict == {
        "keywords": ["关键词最多 300 字，现为 301 字"],
        "bio": ["研究方向与成果最多 3,000 字，现为 3,001 字"],
    }
    assert not TalentProfile.objects.exists()


def test_a_title_of_punctuation_only_is_refused(mf):
    with pytest.raises(ValidationError) as excinfo:
        demand(mf, title="！？……")
    assert excinfo.value.message_dict == {"title": ["需求名称“！？……”只有标点或空白，请填写实际内容"]}


def test_budget_zero_and_to_the_fen_are_accepted_three_decimals_refused(mf):
    assert demand(mf, budget="0").budget == 0
    assert demand(mf, title="二", budget="1,234.56").budget == Decimal("1234.56")
    with pytest.raises(ValidationError) as excinfo:
        demand(mf, title="三", budget="1.234")
    assert excinfo.value.message_dict == {"budget": ["预算 1.234 元超过两位小数（金额精确到分）"]}
    with pytest.raises(ValidationError) as excinfo:
        demand(mf, title="四", budget="五十万")
    assert excinfo.value.message_dict == {"budget": ["预算“五十万”不是数字（单位：元）"]}


def test_a_deadline_of_today_is_accepted(mf):
    assert demand(mf, deadline=timezone.localdate()).deadline == timezone.localdate()


def test_keywords_are_normalised_and_html_stays_as_typed(mf):
    d = demand(mf, title="<script>alert('x')</script>需求", keywords="电机,  散热；电机 / 温升、3D  打印")
    assert d.keywords == "电机、散热、温升、3D 打印"
    assert Demand.objects.get(pk=d.pk).title == "<script>alert('x')</script>需求"


def test_unknown_fields_are_a_programming_error(mf):
    with pytest.raises(TypeError, match="unknown demand fields"):
        services.demand_create(enterprise=mf.ent_a, user=mf.alice, **demand_values(), colour="red")


# —— duplicates ——————————————————————————————————————————————————————————————————————————————————————————————


def test_a_duplicate_title_is_refused_naming_the_existing_posting(mf):
    first = demand(mf, title="5G 基站：散热")
    with pytest.raises(ValidationError) as excinfo:
        demand(mf, title="５ｇ基站散热")
    assert excinfo.value.message_dict == {
        "title": [
            f"上海甲科技有限公司已发布同名需求“5G 基站：散热”（编号 {first.pk}，草稿），不能重复发布；如需修改请编辑原需求"
        ]
    }
    assert Demand.objects.count() == 1


def test_another_enterprise_or_organisation_may_use_the_same_title(mf):
    demand(mf)
    other = services.demand_create(enterprise=mf.ent_b, user=mf.ben, **demand_values())
    assert other.pk
    achievement(mf)
    services.achievement_create(user=mf.vic, **achievement_values())
    assert Achievement.objects.count() == 2


def test_a_withdrawn_posting_frees_its_title(mf):
    first = demand(mf)
    services.posting_take(first, "withdraw", user=mf.alice)
    again = demand(mf)
    assert again.pk != first.pk


def test_the_database_constraint_is_the_last_line(mf):
    first = demand(mf)
    with pytest.raises(IntegrityError), transaction.atomic():
        Demand.objects.create(
            enterprise=mf.ent_a, title="x", description="y", fingerprint=first.fingerprint, state="draft"
        )


def test_a_duplicate_by_editing_is_refused_and_nothing_changes(mf):
    demand(mf, title="甲需求")
    second = demand(mf, title="乙需求")
    with pytest.raises(ValidationError) as excinfo:
        services.posting_update(second, user=mf.alice, title="甲 需求")
    assert "已发布同名需求“甲需求”" in excinfo.value.message_dict["title"][0]
    assert Demand.objects.get(pk=second.pk).title == "乙需求"


# —— moderation ——————————————————————————————————————————————————————————————————————————————————————————————


def test_moderation_submit_return_with_reason_resubmit_publish(mf):
    d = demand(mf)
    services.posting_take(d, "submit", user=mf.alice)
    assert Demand.objects.get(pk=d.pk).state == "pending"
    with pytest.raises(ValidationError) as excinfo:
        services.posting_take(d, "return", user=mf.carol, reason="  ")
    assert excinfo.value.message_dict == {"reason": ["退回修改须说明原因（发布方据此修改）"]}
    assert Demand.objects.get(pk=d.pk).state == "pending"
    services.posting_take(d, "return", user=mf.carol, reason="请补充考核指标")
    d.refresh_from_db()
    assert (d.state, d.moderation_note, d.moderated_by) == ("returned", "请补充考核指标", mf.carol)
    services.posting_take(d, "resubmit", user=mf.alice)
    services.posting_take(d, "publish", user=mf.carol)
    d.refresh_from_db()
    assert d.state == "published" and d.published_at is not None
    reasons = [r.history_change_reason for r in d.history.order_by("history_date", "history_id")]
    assert reasons == ["新建", "提交审核", "退回修改：请补充考核指标", "修改后重新提交", "审核通过并发布"]
    assert len(changes("demand", d.pk)) == 5


def test_only_officers_moderate_and_only_the_owner_submits(mf):
    d = demand(mf)
    with pytest.raises(PermissionDenied, match="仅发布方可以执行“提交审核”"):
        services.posting_take(d, "submit", user=mf.ben)
    services.posting_take(d, "submit", user=mf.alice)
    with pytest.raises(PermissionDenied, match="仅科委业务人员可以执行“审核通过并发布”"):
        services.posting_take(d, "publish", user=mf.alice)
    with pytest.raises(PermissionDenied):
        services.posting_take(d, "publish", user=mf.leo)
    assert Demand.objects.get(pk=d.pk).state == "pending"


def test_a_step_from_the_wrong_state_or_an_unknown_step_is_refused(mf):
    d = demand(mf)
    with pytest.raises(ValidationError) as excinfo:
        services.posting_take(d, "publish", user=mf.carol)
    assert excinfo.value.message_dict == {"step": ["该需求当前为“草稿”，不能执行“审核通过并发布”"]}
    with pytest.raises(ValidationError) as excinfo:
        services.posting_take(d, "approve", user=mf.carol)
    assert excinfo.value.message_dict["step"][0].startswith("没有操作“approve”，可选：submit（提交审核）")
    assert Demand.objects.get(pk=d.pk).state == "draft"


def test_a_demand_past_its_deadline_cannot_be_submitted(mf):
    d = demand(mf, deadline=timezone.localdate())
    Demand.objects.filter(pk=d.pk).update(deadline=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="截止日期 .* 已过"):
        services.posting_take(d, "submit", user=mf.alice)
    assert Demand.objects.get(pk=d.pk).state == "draft"


def test_moderation_notifies_the_poster_by_email(mf, mailoutbox, django_capture_on_commit_callbacks):
    d = demand(mf)
    services.posting_take(d, "submit", user=mf.alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.posting_take(d, "return", user=mf.carol, reason="请补充指标")
    [mail] = mailoutbox
    assert mail.to == ["alice@example.org"] and "退回修改" in mail.subject and "请补充指标" in mail.body


# —— edits and deletes ———————————————————————————————————————————————————————————————————————————————————————


def test_the_owner_editing_a_published_posting_sends_it_back_to_moderation(mf):
    d = f.published_demand(mf)
    before = len(changes("demand", d.pk))
    services.posting_update(
        d, user=mf.alice, title="伺服电机温升控制（修订）", description="新的描述：伺服电机散热"
    )
    d.refresh_from_db()
    assert d.state == "pending" and d.title == "伺服电机温升控制（修订）"
    assert "散热" in d.tokens["text"]
    assert len(changes("demand", d.pk)) == before + 1


def test_an_officer_edits_a_published_posting_and_it_stays_published(mf):
    a = f.published_achievement(mf)
    services.posting_update(a, user=mf.carol, keywords="伺服电机、相变材料")
    a.refresh_from_db()
    assert a.state == "published" and a.keywords == "伺服电机、相变材料"


def test_others_may_not_edit_and_withdrawn_postings_are_not_edited(mf):
    d = demand(mf)
    with pytest.raises(PermissionDenied, match="仅发布方或科委业务人员可以修改该需求"):
        services.posting_update(d, user=mf.ben, title="改")
    services.posting_take(d, "withdraw", user=mf.alice)
    with pytest.raises(ValidationError) as excinfo:
        services.posting_update(d, user=mf.alice, title="改")
    assert excinfo.value.message_dict == {"state": ["该需求当前为“已撤回”，不能修改"]}
    assert Demand.objects.get(pk=d.pk).title == "伺服电机温升控制"


def test_an_old_deadline_may_stay_when_other_fields_change(mf):
    d = demand(mf, deadline=timezone.localdate())
    Demand.objects.filter(pk=d.pk).update(deadline=timezone.localdate() - dt.timedelta(days=3))
    d.refresh_from_db()
    services.posting_update(d, user=mf.alice, keywords="电机")
    with pytest.raises(ValidationError, match="早于今天"):
        services.posting_update(d, user=mf.alice, deadline=timezone.localdate() - dt.timedelta(days=2))


def test_the_owner_deletes_a_draft_and_the_index_forgets_it(mf):
    d = demand(mf)
    pk = d.pk
    services.posting_delete(d, user=mf.alice)
    assert not Demand.objects.filter(pk=pk).exists()
    assert changes("demand", pk)[-1] == ("demand", pk, True)


def test_the_owner_may_not_delete_a_published_posting_but_an_officer_may(mf):
    d = f.published_demand(mf)
    with pytest.raises(ValidationError) as excinfo:
        services.posting_delete(d, user=mf.alice)
    assert excinfo.value.message_dict == {
        "state": ["该需求当前为“已发布”，只有草稿、退回修改或已撤回的可以删除（可先撤回）"]
    }
    assert Demand.objects.filter(pk=d.pk).exists()
    with pytest.raises(PermissionDenied):
        services.posting_delete(d, user=mf.ben)
    services.posting_delete(d, user=mf.carol)
    assert not Demand.objects.filter(pk=d.pk).exists()


def test_a_posting_with_dockings_is_not_deleted(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    services.docking_create(d, user=mf.alice, achievement=a)
    with pytest.raises(ValidationError) as excinfo:
        services.posting_delete(a, user=mf.carol)
    assert excinfo.value.message_dict == {"state": ["该成果已有 1 条对接记录，不能删除（可关闭或撤回）"]}
    assert Achievement.objects.filter(pk=a.pk).exists()


def test_fingerprint_folds_width_case_spaces_and_punctuation():
    assert services.fingerprint("５Ｇ 基站：散热！") == services.fingerprint("5g基站散热")
    assert services.fingerprint("C++ 编译器") == "c++编译器"
