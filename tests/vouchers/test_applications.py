"""Applications: saved as drafts by the enterprise's users, submitted through the workflow (window, cap,
purpose), approved by an officer who grants an amount and issues the voucher under the scheme's budget; every
refusal in Chinese with nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from kechuang.vouchers import abuse, services
from kechuang.vouchers.models import AbuseFlag, SchemeState, Voucher, VoucherApplication, VoucherScheme
from kechuang.workflows import engine
from kechuang.workflows import selectors as workflow_selectors
from kechuang.workflows.models import TransitionLog
from tests.vouchers.conftest import TODAY, issue, make_scheme

pytestmark = pytest.mark.django_db


def messages_of(excinfo) -> str:
    return "；".join(excinfo.value.messages)


def draft(scheme, enterprise, user, amount="100000", purpose="委托检测新产品的电磁兼容"):
    return services.application_save(
        enterprise=enterprise, scheme=scheme, requested_amount=amount, purpose=purpose, user=user
    )


def submitted(scheme, enterprise, user, amount="100000"):
    return services.application_submit(draft(scheme, enterprise, user, amount), user=user)


def steps(obj) -> list[tuple[str, str, str]]:
    return list(
        TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
        .order_by("at", "pk")
        .values_list("transition", "from_state", "to_state")
    )


def assert_nothing_issued(scheme, application=None, state="submitted"):
    assert not Voucher.objects.exists()
    scheme.refresh_from_db()
    assert scheme.granted == 0
    if application is not None:
        application.refresh_from_db()
        assert application.state == state and application.granted_amount is None


def test_an_application_goes_from_draft_to_a_voucher_with_a_log(scheme, personas, alice, officer):
    application = draft(scheme, personas.ent_a, alice)
    assert application.state == "draft" and application.created_by == alice

    services.application_submit(application, user=alice)
    voucher = services.application_approve(application, granted_amount="80000", note="同意", user=officer)

    application.refresh_from_db()
    scheme.refresh_from_db()
    assert application.state == "approved" and application.granted_amount == Decimal("80000.00")
    assert application.submitted_at is not None and application.decided_by == officer
    assert voucher.number == f"CXQ-{TODAY.year}-{scheme.pk}-0001"
    assert (voucher.amount, voucher.used, voucher.balance) == (Decimal("80000.00"), 0, Decimal("80000.00"))
    assert voucher.share_pct == Decimal("50.00") and voucher.valid_until == scheme.valid_until
    assert scheme.granted == Decimal("80000.00") and scheme.left == Decimal("920000.00")
    assert steps(application) == [("submit", "draft", "submitted"), ("approve", "submitted", "approved")]
    assert application.history.count() >= 3 and voucher.history.get().history_user == officer


def test_the_granted_amount_defaults_to_the_amount_applied_for(scheme, personas, alice, officer):
    application = submitted(scheme, personas.ent_a, alice, "123456.78")
    voucher = services.application_approve(application, user=officer)
    assert voucher.amount == Decimal("123456.78")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("200000.01", "申请额度 200,000.01 元超过每家企业上限 200,000.00 元"),
        ("0", "申请额度须大于 0 元"),
        ("-5", "申请额度 -5 元为负数"),
        ("12.345", "申请额度 12.345 元超过两位小数"),
        ("十万", "申请额度“十万”不是数字"),
    ],
)
def test_a_requested_amount_over_the_cap_or_malformed_is_refused(scheme, personas, alice, amount, expected):
    with pytest.raises(ValidationError) as excinfo:
        draft(scheme, personas.ent_a, alice, amount)
    assert expected in messages_of(excinfo)
    assert not VoucherApplication.objects.exists()


def test_exactly_the_cap_is_accepted(scheme, personas, alice):
    assert draft(scheme, personas.ent_a, alice, "200000").requested_amount == Decimal("200000.00")


def test_a_scheme_not_accepting_refuses_new_applications(personas, alice):
    closed = make_scheme(state=SchemeState.CLOSED)
    with pytest.raises(ValidationError) as excinfo:
        draft(closed, personas.ent_a, alice)
    assert f"“{closed}”当前不受理申请（已截止" in messages_of(excinfo)
    late = make_scheme(
        name="已过受理期", closes_on=TODAY - dt.timedelta(days=1), opens_on=TODAY - dt.timedelta(days=9)
    )
    with pytest.raises(ValidationError):
        draft(late, personas.ent_a, alice)
    assert not VoucherApplication.objects.exists()


def test_the_last_day_of_the_window_is_accepted_and_submission_refused_after_it(scheme, personas, alice):
    VoucherScheme.objects.filter(pk=scheme.pk).update(closes_on=TODAY)
    application = draft(VoucherScheme.objects.get(pk=scheme.pk), personas.ent_a, alice)
    VoucherScheme.objects.filter(pk=scheme.pk).update(closes_on=TODAY - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as excinfo:
        services.application_submit(application, user=alice)
    assert f"已于 {TODAY - dt.timedelta(days=1):%Y-%m-%d} 截止受理" in messages_of(excinfo)
    application.refresh_from_db()
    assert application.state == "draft" and application.submitted_at is None and not steps(application)


def test_only_the_enterprise_s_users_apply_and_submit(scheme, personas, alice, officer):
    with pytest.raises(ValidationError) as excinfo:
        draft(scheme, personas.ent_b, alice)
    assert "仅上海乙生物有限公司的用户可以填写其创新券申请" in messages_of(excinfo)
    application = draft(scheme, personas.ent_a, alice)
    with pytest.raises(PermissionDenied):
        services.application_submit(application, user=personas.bob)  # a park operator: no add permission
    with pytest.raises(ValidationError) as excinfo:
        services.application_submit(application, user=_with_apply_permission(officer))
    assert "仅上海甲科技有限公司的用户可以办理" in messages_of(excinfo)
    application.refresh_from_db()
    assert application.state == "draft"


def _with_apply_permission(user):
    from django.contrib.auth.models import Permission, User

    user.user_permissions.add(Permission.objects.get(codename="add_voucherapplication"))
    return User.objects.get(pk=user.pk)


def test_a_submitted_application_cannot_be_changed(scheme, personas, alice):
    application = submitted(scheme, personas.ent_a, alice)
    with pytest.raises(ValidationError) as excinfo:
        services.application_save(application=application, requested_amount="1", purpose="改", user=alice)
    assert "申请当前为“已提交”，只有草稿或退回修改的申请可以修改" in messages_of(excinfo)
    application.refresh_from_db()
    assert application.requested_amount == Decimal("100000.00")


def test_return_then_resubmit_and_the_reasons_are_required(scheme, personas, alice, officer):
    application = submitted(scheme, personas.ent_a, alice)
    for run in (services.application_return, services.application_reject):
        with pytest.raises(ValidationError) as excinfo:
            run(application, reason="  ", user=officer)
        assert "须写明理由" in messages_of(excinfo)
    application.refresh_from_db()
    assert application.state == "submitted"

    services.application_return(application, reason="用途写得不具体", user=officer)
    services.application_save(
        application=application, requested_amount="90000", purpose="具体用途", user=alice
    )
    services.application_submit(application, user=alice)
    application.refresh_from_db()
    assert application.state == "submitted" and application.requested_amount == Decimal("90000.00")
    assert [s[0] for s in steps(application)] == ["submit", "return", "resubmit"]
    assert TransitionLog.objects.get(transition="return").reason == "用途写得不具体"


@pytest.mark.parametrize(
    ("granted", "expected"),
    [
        ("100000.01", "核定额度 100,000.01 元超过申请额度 100,000.00 元"),
        ("0", "核定额度须大于 0 元"),
    ],
)
def test_approval_refusals_issue_nothing(scheme, personas, alice, officer, granted, expected):
    application = submitted(scheme, personas.ent_a, alice)
    with pytest.raises(ValidationError) as excinfo:
        services.application_approve(application, granted_amount=granted, user=officer)
    assert expected in messages_of(excinfo)
    assert_nothing_issued(scheme, application)
    assert [s[0] for s in steps(application)] == ["submit"]


def test_the_budget_is_granted_exactly_and_not_one_fen_beyond(personas, alice, officer):
    scheme = make_scheme(budget_total=Decimal("300000"), cap_per_enterprise=Decimal("200000"))
    from kechuang.enterprises.models import Membership

    Membership.objects.create(user=alice, enterprise=personas.ent_b)
    first = submitted(scheme, personas.ent_a, alice, "200000")
    services.application_approve(first, user=officer)
    second = submitted(scheme, personas.ent_b, alice, "100000.01")
    with pytest.raises(ValidationError) as excinfo:
        services.application_approve(second, user=officer)
    assert (
        f"“{scheme}”年度总额度 300,000.00 元，已发券 200,000.00 元，余额 100,000.00 元，不足以核定 100,000.01 元"
        in messages_of(excinfo)
    )
    scheme.refresh_from_db()
    assert scheme.granted == Decimal("200000.00") and Voucher.objects.count() == 1
    services.application_approve(second, granted_amount="100000", user=officer)
    scheme.refresh_from_db()
    assert scheme.granted == scheme.budget_total == Decimal("300000.00")


def test_the_database_holds_the_budget_when_the_service_is_bypassed(scheme):
    with pytest.raises(IntegrityError), transaction.atomic():
        VoucherScheme.objects.filter(pk=scheme.pk).update(granted=F("budget_total") + Decimal("0.01"))


def test_only_officers_with_the_permission_approve(scheme, personas, alice):
    application = submitted(scheme, personas.ent_a, alice)
    with pytest.raises(PermissionDenied):
        services.application_approve(application, user=alice)
    with pytest.raises(PermissionDenied):
        services.application_approve(application, user=personas.leo)
    assert_nothing_issued(scheme, application)


def test_a_bare_workflow_step_cannot_approve_without_a_voucher(scheme, personas, alice, officer):
    application = submitted(scheme, personas.ent_a, alice)
    with pytest.raises(ValidationError) as excinfo:
        engine.take(application, "approve", officer)
    assert "批准须同时核定额度并发放创新券" in messages_of(excinfo)
    assert_nothing_issued(scheme, application)


def test_the_inbox_approves_through_the_service(scheme, personas, alice, officer):
    application = submitted(scheme, personas.ent_a, alice)
    sections = {s.key: s for s in workflow_selectors.inbox(officer)}
    row = sections["vouchers.voucherapplication"].rows[0]
    assert row.obj.pk == application.pk and {o.name for o in row.options} >= {"return", "reject"}
    workflow_selectors.take("vouchers.voucherapplication", application, "approve", officer, "同意")
    application.refresh_from_db()
    assert application.state == "approved" and application.voucher.amount == Decimal("100000.00")


# --- the cap across the year's vouchers --------------------------------------------------------------------------


def test_a_second_application_over_the_year_s_cap_is_flagged_and_approval_waits(
    scheme, personas, alice, officer
):
    issue(scheme, personas.ent_a, alice, officer, "150000")
    second = submitted(scheme, personas.ent_a, alice, "50000.01")
    flag = AbuseFlag.objects.get(application=second)
    assert flag.kind == "over_cap"
    assert flag.reason == (
        f"“上海甲科技有限公司”{TODAY.year}年度已获创新券 150,000.00 元，本次 50,000.01 元，"
        "合计 200,000.01 元，超过每家企业上限 200,000.00 元"
    )
    with pytest.raises(ValidationError) as excinfo:
        services.application_approve(second, user=officer)
    assert "须先有超上限预警并经核实无误后方可批准" in messages_of(excinfo)
    assert Voucher.objects.count() == 1

    abuse.flag_resolve(flag, upheld=False, note="经局务会研究，同意追加", user=officer)
    voucher = services.application_approve(second, user=officer)
    assert voucher.amount == Decimal("50000.01")


def test_reaching_the_cap_exactly_is_not_flagged(scheme, personas, alice, officer):
    issue(scheme, personas.ent_a, alice, officer, "150000")
    second = submitted(scheme, personas.ent_a, alice, "50000")
    assert not AbuseFlag.objects.exists()
    assert services.application_approve(second, user=officer).amount == Decimal("50000.00")


def test_an_open_flag_blocks_approval_even_for_an_amount_within_the_cap(scheme, personas, alice, officer):
    issue(scheme, personas.ent_a, alice, officer, "150000")
    second = submitted(scheme, personas.ent_a, alice, "60000")
    with pytest.raises(ValidationError) as excinfo:
        services.application_approve(second, granted_amount="50000", user=officer)
    assert "尚有 1 条异常预警未处理（超上限使用），须先核实处理" in messages_of(excinfo)
    assert Voucher.objects.count() == 1


def test_upholding_the_flag_rejects_the_application(scheme, personas, alice, officer):
    issue(scheme, personas.ent_a, alice, officer, "150000")
    second = submitted(scheme, personas.ent_a, alice, "60000")
    abuse.flag_resolve(
        AbuseFlag.objects.get(application=second), upheld=True, note="拆分申请规避上限", user=officer
    )
    second.refresh_from_db()
    assert second.state == "rejected" and "拆分申请规避上限" in second.decision_note


def test_scheme_refusals_name_field_and_value(officer):
    with pytest.raises(ValidationError) as excinfo:
        services.scheme_save(
            year="2026",
            name="方案",
            budget_total="100000",
            cap_per_enterprise="100000.01",
            share_pct="0",
            opens_on="2026-03-01",
            closes_on="2026-02-28",
            valid_until="2026-01-01",
            user=officer,
        )
    errors = excinfo.value.message_dict
    assert errors["cap_per_enterprise"] == ["每家企业上限 100,000.01 元超过年度总额度 100,000.00 元"]
    assert errors["share_pct"] == ["抵扣比例 0 须大于 0 且不超过 100（单位：%）"]
    assert errors["closes_on"] == ["受理截止日期 2026-02-28 早于受理开始日期 2026-03-01"]
    assert errors["valid_until"] == ["券有效期 2026-01-01 早于受理截止日期 2026-02-28"]
    assert not VoucherScheme.objects.exists()


def test_a_scheme_s_budget_cannot_drop_below_what_it_granted(scheme, voucher, officer):
    with pytest.raises(ValidationError) as excinfo:
        services.scheme_save(
            scheme=scheme,
            year=scheme.year,
            name=scheme.name,
            budget_total="99999.99",
            cap_per_enterprise="50000",
            share_pct="50",
            opens_on=scheme.opens_on,
            closes_on=scheme.closes_on,
            valid_until=scheme.valid_until,
            user=officer,
        )
    assert excinfo.value.message_dict["budget_total"] == ["年度总额度 99,999.99 元低于已发券 100,000.00 元"]
    scheme.refresh_from_db()
    assert scheme.budget_total == Decimal("1000000.00")
