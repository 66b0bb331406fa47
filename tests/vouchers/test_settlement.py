"""Settlement: an officer pays a provider its verified redemptions of a period in one settlement; each
redemption settled once (also held by the database); the payment list is an .xlsx safe against formula injection."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from kechuang.vouchers import abuse, redemptions, settlement
from kechuang.vouchers.models import Redemption, Settlement, SettlementLine
from kechuang.workflows.models import TransitionLog
from tests.vouchers.conftest import TODAY, make_provider, redeem_args

pytestmark = pytest.mark.django_db


def messages_of(excinfo) -> str:
    return "；".join(excinfo.value.messages)


def verified(redeem, officer, **overrides):
    """A redemption verified, any flag on it (a third claim is a burst) cleared first."""
    r = redeem(**overrides)
    for flag in r.flags.all():
        abuse.flag_resolve(flag, upheld=False, note="测试：已核实", user=officer)
    return redemptions.redemption_verify(r, user=officer)


def settle(provider, officer, start=TODAY, end=TODAY, **kwargs):
    return settlement.settle(
        provider=provider,
        period_start=start,
        period_end=end,
        paid_on=kwargs.pop("paid_on", TODAY),
        user=officer,
        **kwargs,
    )


def test_a_provider_s_verified_redemptions_are_settled_once_with_a_log(redeem, provider, officer):
    a = verified(redeem, officer, invoice_no="S1", invoice_amount="16000")
    b = verified(redeem, officer, invoice_no="S2", invoice_amount="7000.03")
    waiting = redeem(invoice_no="S3")  # submitted, not verified: not settled
    done = settle(provider, officer, voucher_no="记-0417")
    assert done.total == Decimal("11500.01") and done.voucher_no == "记-0417"
    assert sorted(done.lines.values_list("redemption_id", flat=True)) == [a.pk, b.pk]
    assert set(Redemption.objects.filter(pk__in=[a.pk, b.pk]).values_list("state", flat=True)) == {"settled"}
    waiting.refresh_from_db()
    assert waiting.state == "submitted"
    log = TransitionLog.objects.get(
        content_type=ContentType.objects.get_for_model(Redemption), object_id=a.pk, transition="settle"
    )
    assert log.actor == officer and f"结算 #{done.pk}" in log.reason and "凭证号 记-0417" in log.reason

    with pytest.raises(ValidationError) as excinfo:
        settle(provider, officer)
    assert f"服务机构“{provider.name}”在 {TODAY} 至 {TODAY} 没有已核验、待结算的兑付" in messages_of(excinfo)
    assert Settlement.objects.count() == 1 and SettlementLine.objects.count() == 2


def test_the_period_is_by_verification_day_both_ends_included(redeem, provider, officer):
    rows = [verified(redeem, officer, invoice_no=f"D{n}") for n in range(3)]
    days = [TODAY - dt.timedelta(days=d) for d in (10, 5, 4)]
    tz = timezone.get_current_timezone()
    for r, day, at in zip(rows, days, (dt.time(0, 0), dt.time(23, 59, 59), dt.time(0, 0)), strict=True):
        Redemption.objects.filter(pk=r.pk).update(verified_at=dt.datetime.combine(day, at, tzinfo=tz))
    done = settle(provider, officer, start=days[0], end=days[1])
    assert sorted(done.lines.values_list("redemption_id", flat=True)) == [rows[0].pk, rows[1].pk]


def test_settlement_refusals_name_the_field(provider, officer):
    with pytest.raises(ValidationError) as excinfo:
        settle(
            provider,
            officer,
            start=TODAY,
            end=TODAY - dt.timedelta(days=1),
            paid_on=TODAY - dt.timedelta(days=2),
        )
    errors = excinfo.value.message_dict
    assert errors["period_end"] == [f"核验期间止 {TODAY - dt.timedelta(days=1)} 早于核验期间起 {TODAY}"]
    assert errors["paid_on"] == [
        f"支付日期 {TODAY - dt.timedelta(days=2)} 早于核验期间止 {TODAY - dt.timedelta(days=1)}"
    ]
    with pytest.raises(ValidationError) as excinfo:
        settle(provider, officer, end=TODAY + dt.timedelta(days=1))
    assert f"核验期间止 {TODAY + dt.timedelta(days=1)} 晚于今天 {TODAY}" in messages_of(excinfo)
    assert not Settlement.objects.exists()


def test_only_settlers_settle_and_a_settled_redemption_cannot_be_refused(redeem, provider, officer, pat):
    r = verified(redeem, officer)
    with pytest.raises(PermissionDenied):
        settle(provider, pat)
    settle(provider, officer)
    with pytest.raises(ValidationError) as excinfo:
        redemptions.redemption_refuse(r, reason="追回", user=officer)
    assert "当前状态“已结算”不能执行“不予兑付”" in messages_of(excinfo)


def test_the_database_settles_a_redemption_once(redeem, provider, officer):
    r = verified(redeem, officer)
    done = settle(provider, officer)
    another = Settlement.objects.create(
        provider=provider, period_start=TODAY, period_end=TODAY, total=Decimal("1"), paid_on=TODAY
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SettlementLine.objects.create(settlement=another, redemption=r, amount=r.voucher_part)
    assert done.lines.count() == 1


def test_other_providers_redemptions_are_not_in_the_settlement(redeem, voucher, provider, officer):
    mine = verified(redeem, officer, invoice_no="M1")
    other = make_provider(2)
    theirs = redemptions.redeem(**redeem_args(voucher, other, invoice_no="M2"), user=officer)
    redemptions.redemption_verify(theirs, user=officer)
    done = settle(provider, officer)
    assert list(done.lines.values_list("redemption_id", flat=True)) == [mine.pk]


def test_the_payment_list_is_safe_against_formula_injection(redeem, provider, officer):
    verified(redeem, officer, contract_no='=HYPERLINK("http://x","点我")', invoice_amount="16000")
    done = settle(provider, officer, voucher_no="@SUM(1+1)")
    sheet = load_workbook(io.BytesIO(settlement.payment_list_xlsx(done)))
    rows = list(sheet["支付清单"].iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "兑付编号", "创新券券号", "持券企业")
    assert rows[1][6] == '\'=HYPERLINK("http://x","点我")'
    assert rows[1][9] == 16000 and rows[1][10] == 8000
    notes = [r[0] for r in sheet["说明"].iter_rows(values_only=True)]
    assert any(n.startswith(f"收款单位：{provider.name}") for n in notes)
    assert any("会计凭证号：@SUM(1+1)" in n for n in notes)  # not at the start of a cell: no formula
