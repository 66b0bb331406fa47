"""Applications: start (call open, enterprise eligible), drafts, the budget and its cap, attachments, submission
against the deadline (the rule: submitted at or before 截止时间 is on time — exactly at the deadline is
accepted, one second after is refused), completeness of the visible sections only, formal review, and who sees
which application (an enterprise user its own only: 404 for another's)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kechuang.projects import applications, calls
from kechuang.projects.models import Application, Attachment
from tests.projects import call_fixtures
from tests.projects.call_fixtures import PDF, filled, started

# The fixture of call_fixtures.py, made available to the tests of this module.
cf = call_fixtures.cf

pytestmark = pytest.mark.django_db


def _at(monkeypatch, moment):
    monkeypatch.setattr(timezone, "now", lambda: moment)


# —— start ——


def test_start_refused_when_a_condition_is_not_met(cf):
    with pytest.raises(ValidationError) as caught:
        started(cf.call, cf.ent_b, None)
    assert caught.value.message_dict == {
        "enterprise": ["不符合申报条件：不满足“有效期内的高新技术企业”：未持有有效期内的高新技术企业证书"]
    }
    assert not Application.objects.exists()


def test_start_refused_when_the_call_is_not_open(cf, monkeypatch):
    draft = calls.call_create(
        programme=cf.programme,
        user=cf.carol,
        **{**_values(cf), "title": "未发布批次"},
    )
    with pytest.raises(ValidationError) as caught:
        started(draft, cf.ent_a, cf.alice)
    assert caught.value.message_dict == {"call": [f"“{draft}”不在受理期（当前状态：草稿）"]}
    _at(monkeypatch, cf.call.closes_at + dt.timedelta(seconds=1))
    with pytest.raises(ValidationError) as caught:
        started(cf.call, cf.ent_a, cf.alice)
    closes = timezone.localtime(cf.call.closes_at).strftime("%Y-%m-%d %H:%M:%S")
    assert caught.value.message_dict == {"call": [f"“{cf.call}”已于 {closes} 截止受理"]}


def _values(cf):
    from tests.projects.call_fixtures import call_values

    return call_values()


# —— drafts and the budget ——


def test_a_draft_may_be_partial_but_every_value_must_fit_its_field(cf):
    application = started(cf.call, cf.ent_a, cf.alice)
    applications.application_save(application, data={"summary": "先写一点"}, user=cf.alice)
    application.refresh_from_db()
    assert application.data == {"summary": "先写一点"}
    with pytest.raises(ValidationError) as caught:
        applications.application_save(
            application,
            data={
                "track": "航空航天",
                "patents": "两件",
                "start_date": "2026/07/01",
                "summary": "x" * 501,
                "nope": 1,
            },
            user=cf.alice,
        )
    assert caught.value.message_dict == {
        "track": ["“申报方向”的“航空航天”不在可选范围（联合攻关、医药卫生、科技农业）"],
        "patents": ["“申请发明专利（件）”须为数字，收到“两件”"],
        "start_date": ["“计划开始日期”须为日期（如 2026-06-30），收到“2026/07/01”"],
        "summary": ["“项目简介”最多 500 字，现为 501 字"],
        "nope": ["申报书中没有字段“nope”"],
    }
    application.refresh_from_db()
    assert application.data == {"summary": "先写一点"}  # nothing saved


def test_budget_by_category_sums_the_subsidies(cf):
    application = started(cf.call, cf.ent_a, cf.alice)
    application = applications.budget_set(
        application,
        lines={
            "equipment": {"subsidy": "120000", "self_funded": "80000", "note": "伺服测试台"},
            "business": {"subsidy": "150000.50"},
            "labour": {"subsidy": ""},
        },
        user=cf.alice,
    )
    assert application.requested_amount == Decimal("270000.50")
    assert sorted(application.budget_lines.values_list("category", flat=True)) == ["business", "equipment"]
    with pytest.raises(ValidationError) as caught:
        applications.budget_set(
            application, lines={"equipment": {"subsidy": "-1"}, "travel": {}}, user=cf.alice
        )
    assert caught.value.message_dict == {
        "equipment.subsidy": ["设备费申请资助须为不小于 0 的数，收到 -1"],
        "travel": ["预算科目“travel”不存在，可用：设备费、业务费、劳务费、间接费用"],
    }


def test_attachments_limited_by_type_content_and_size(cf, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    application = started(cf.call, cf.ent_a, cf.alice)
    with pytest.raises(ValidationError) as caught:
        applications.attachment_add(application, upload=SimpleUploadedFile("run.exe", b"MZ"), user=cf.alice)
    assert caught.value.message_dict["file"] == [
        "附件“run.exe”的类型不允许：只接受 PDF、Word（doc/docx）、Excel（xls/xlsx）、JPG、PNG 文件，单个文件不超过 20MB，每份申报最多 30 个"
    ]
    with pytest.raises(ValidationError) as caught:
        applications.attachment_add(
            application, upload=SimpleUploadedFile("plan.pdf", b"not a pdf"), user=cf.alice
        )
    assert "内容与扩展名 .pdf 不符" in caught.value.message_dict["file"][0]
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * applications.ATTACHMENT_MAX_BYTES)
    with pytest.raises(ValidationError) as caught:
        applications.attachment_add(application, upload=big, user=cf.alice)
    assert "超过 20MB" in caught.value.message_dict["file"][0]
    attachment = applications.attachment_add(
        application, upload=SimpleUploadedFile("方案.pdf", PDF), field_key="plan", user=cf.alice
    )
    application.refresh_from_db()
    assert application.data["plan"] == attachment.pk and attachment.title == "实施方案"
    applications.attachment_remove(attachment, user=cf.alice)
    application.refresh_from_db()
    assert "plan" not in application.data and not Attachment.objects.exists()


# —— submit: deadline, completeness, cap ——


def test_submitted_exactly_at_the_deadline_is_accepted(cf, monkeypatch):
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice)
    _at(monkeypatch, cf.call.closes_at)
    application = applications.application_submit(application, user=cf.alice)
    assert application.state == "submitted" and application.submitted_at == cf.call.closes_at


def test_submitted_one_second_after_the_deadline_is_refused_with_the_deadline(cf, monkeypatch):
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice)
    _at(monkeypatch, cf.call.closes_at + dt.timedelta(seconds=1))
    with pytest.raises(ValidationError) as caught:
        applications.application_submit(application, user=cf.alice)
    shown = timezone.localtime(cf.call.closes_at).strftime("%Y-%m-%d %H:%M")
    assert shown in caught.value.message_dict["transition"][0]
    application.refresh_from_db()
    assert application.state == "draft" and application.submitted_at is None


def test_incomplete_form_is_refused_naming_the_fields(cf):
    application = started(cf.call, cf.ent_a, cf.alice)
    applications.budget_set(application, lines={"business": {"subsidy": "1000"}}, user=cf.alice)
    applications.application_save(application, data={"track": "医药卫生"}, user=cf.alice)
    application.refresh_from_db()
    assert applications.form_errors(application) == {
        "summary": "“项目基本信息”中的“项目简介”为必填项",
        "ethics": "“医药卫生专项”中的“伦理审查意见”为必填项",
        "patents": "“预期成果”中的“申请发明专利（件）”为必填项",
    }
    with pytest.raises(ValidationError) as caught:
        applications.application_submit(application, user=cf.alice)
    assert "申报书未填写完整" in caught.value.message_dict["transition"][0]


def test_a_required_field_in_a_hidden_conditional_section_is_not_required(cf):
    """The 医药卫生 section shows only for that track: for 联合攻关 its required 伦理审查意见 is not asked for."""
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice)
    assert applications.form_errors(application) == {}
    application = applications.application_submit(application, user=cf.alice)
    assert application.state == "submitted"


def test_budget_over_the_cap_is_refused_naming_amount_and_cap(cf):
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice, subsidy="500000.01")
    with pytest.raises(ValidationError) as caught:
        applications.application_submit(application, user=cf.alice)
    message = caught.value.message_dict["transition"][0]
    assert "50.00" in message and "超过单项资助上限 50.00 万元" in message
    assert applications.submit_problems(application, cf.alice) == [message]


def test_budget_exactly_at_the_cap_is_accepted(cf):
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice, subsidy="500000")
    assert applications.application_submit(application, user=cf.alice).state == "submitted"


def test_a_submitted_application_can_no_longer_be_edited(cf):
    application = applications.application_submit(
        filled(started(cf.call, cf.ent_a, cf.alice), cf.alice), user=cf.alice
    )
    with pytest.raises(ValidationError) as caught:
        applications.application_save(application, data={"summary": "改"}, user=cf.alice)
    assert caught.value.message_dict == {"state": ["申报当前状态为“已提交”，不能修改"]}


# —— formal review ——


def test_formal_review_returns_with_reasons_then_passes_the_resubmission(cf):
    application = applications.application_submit(
        filled(started(cf.call, cf.ent_a, cf.alice), cf.alice), user=cf.alice
    )
    assert list(applications.formal_review_queue()) == [application]
    with pytest.raises(ValidationError) as caught:
        applications.formal_review(application, False, "  ", cf.carol)
    assert caught.value.message_dict == {"reasons": ["退回修改须写明理由（每行一条）"]}
    application = applications.formal_review(application, False, ["缺少营业执照", "预算说明不完整"], cf.carol)
    assert application.state == "returned"
    assert applications.decisions(application)[0].reason == "缺少营业执照\n预算说明不完整"
    assert applications.editable(application) and not applications.formal_review_queue().exists()
    applications.application_save(application, data={"summary": "补充了预算说明"}, user=cf.alice)
    application = applications.application_submit(application, user=cf.alice)
    assert application.state == "submitted"
    application = applications.formal_review(application, True, "", cf.carol)
    assert application.state == "formally_passed"


def test_an_enterprise_user_cannot_take_formal_review(cf):
    from django.core.exceptions import PermissionDenied

    application = applications.application_submit(
        filled(started(cf.call, cf.ent_a, cf.alice), cf.alice), user=cf.alice
    )
    with pytest.raises(PermissionDenied):
        applications.formal_review(application, True, "", cf.alice)


# —— pages and permissions ——


def test_enterprise_user_sees_open_calls_with_eligibility_first(cf, client):
    client.force_login(cf.alice)
    page = client.get(reverse("projects:open-calls"))
    body = page.content.decode()
    assert page.status_code == 200 and str(cf.call.title) in body
    page = client.get(reverse("projects:application-start", args=[cf.call.pk]))
    body = page.content.decode()
    assert "满足" in body and "持有高新技术企业证书" in body


def test_ineligible_enterprise_is_told_why_before_starting(cf, client, django_user_model):
    from django.contrib.auth.models import Group

    from kechuang.core import roles
    from kechuang.enterprises.models import Membership

    bea = django_user_model.objects.create_user("bea", password="x")
    bea.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    Membership.objects.create(user=bea, enterprise=cf.ent_b)
    client.force_login(bea)
    page = client.get(reverse("projects:application-start", args=[cf.call.pk]))
    assert "不满足：未持有有效期内的高新技术企业证书" in page.content.decode()
    page = client.post(reverse("projects:application-start", args=[cf.call.pk]), {"title": "乙项目"})
    assert page.status_code == 200 and not Application.objects.exists()


def test_applicant_starts_fills_and_submits_through_the_pages(cf, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(cf.alice)
    response = client.post(
        reverse("projects:application-start", args=[cf.call.pk]), {"title": "伺服系统攻关"}
    )
    application = Application.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "projects:application-edit", args=[application.pk]
    )
    edit = reverse("projects:application-edit", args=[application.pk])
    page = client.get(edit)
    assert page.status_code == 200 and 'data-show-field="track"' in page.content.decode()
    client.post(
        edit,
        {"title": "伺服系统攻关", "track": "联合攻关", "summary": "简介", "patents": "3", "action": "save"},
    )
    client.post(
        reverse("projects:application-budget", args=[application.pk]),
        {"business-subsidy": "200000", "business-self_funded": "100000", "business-note": "测试加工"},
    )
    client.post(
        reverse("projects:application-attach", args=[application.pk]),
        {"field_key": "plan", "file": SimpleUploadedFile("方案.pdf", PDF)},
    )
    response = client.post(reverse("projects:application-submit", args=[application.pk]))
    application.refresh_from_db()
    assert response.status_code == 302 and application.state == "submitted"
    assert application.requested_amount == Decimal("200000")
    assert application.data["patents"] == "3"
    detail = client.get(reverse("projects:application-detail", args=[application.pk]))
    assert "已提交" in detail.content.decode()


def test_enterprise_user_sees_and_edits_only_its_own_applications(cf, client, django_user_model):
    from django.contrib.auth.models import Group

    from kechuang.core import roles
    from kechuang.enterprises.models import Membership
    from kechuang.workflows import engine

    other = engine.start(
        Application(call=cf.call, enterprise=cf.ent_b, title="乙公司项目", data={}), "projects.application"
    )
    other.save()
    own = started(cf.call, cf.ent_a, cf.alice)
    client.force_login(cf.alice)
    mine = client.get(reverse("projects:my-applications")).content.decode()
    assert own.title in mine and "乙公司项目" not in mine
    for name in ("application-detail", "application-edit", "application-budget", "application-submit"):
        assert client.get(reverse(f"projects:{name}", args=[other.pk])).status_code == 404, name
    assert (
        client.post(reverse("projects:application-edit", args=[other.pk]), {"summary": "x"}).status_code
        == 404
    )
    assert client.get(reverse("projects:application-detail", args=[own.pk])).status_code == 200
    # A second user of enterprise B sees B's application and not A's.
    bea = django_user_model.objects.create_user("bea", password="x")
    bea.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    Membership.objects.create(user=bea, enterprise=cf.ent_b)
    client.force_login(bea)
    assert client.get(reverse("projects:application-detail", args=[own.pk])).status_code == 404
    assert client.get(reverse("projects:application-detail", args=[other.pk])).status_code == 200
    # The officer's queue is not theirs.
    assert client.get(reverse("projects:formal-review-queue")).status_code == 403


def test_officer_returns_and_passes_from_the_queue(cf, client):
    application = applications.application_submit(
        filled(started(cf.call, cf.ent_a, cf.alice), cf.alice), user=cf.alice
    )
    client.force_login(cf.carol)
    queue = client.get(reverse("projects:formal-review-queue")).content.decode()
    assert application.title in queue
    url = reverse("projects:formal-review", args=[application.pk])
    page = client.post(url, {"decision": "return", "reasons": ""})
    assert page.status_code == 200 and "退回修改须写明理由" in page.content.decode()
    response = client.post(url, {"decision": "return", "reasons": "缺少营业执照"})
    application.refresh_from_db()
    assert response.status_code == 302 and application.state == "returned"
    client.force_login(cf.alice)
    detail = client.get(reverse("projects:application-detail", args=[application.pk])).content.decode()
    assert "缺少营业执照" in detail
