"""结算: an officer pays a provider its verified redemptions of a period (by the day each was verified, both ends
included) in one settlement, with the payment date and the accounting voucher number; each redemption moves to
已结算 through the workflow (logged). A redemption is settled once: checked here under row locks (the provider's,
then the redemptions'), held by the database (SettlementLine.redemption is one-to-one).

The payment list (.xlsx) is written with kechuang.core.excel, safe against spreadsheet formula injection.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from kechuang.core.excel import write_xlsx
from kechuang.vouchers.models import Provider, Redemption, Settlement, SettlementLine
from kechuang.vouchers.parsing import actor, collect, date, history_user, text, yuan
from kechuang.vouchers.workflows import SETTLE
from kechuang.workflows import engine

VERIFIED = "verified"


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return low, high


def candidates(provider: Provider, start: dt.date, end: dt.date) -> QuerySet[Redemption]:
    """The provider's verified redemptions, verified within [start, end] and not yet settled."""
    low, high = _day_bounds(start, end)
    return (
        Redemption.objects.filter(
            provider=provider,
            state=VERIFIED,
            verified_at__gte=low,
            verified_at__lt=high,
            settlement_line__isnull=True,
        )
        .select_related("voucher__enterprise", "service")
        .order_by("verified_at", "pk")
    )


@transaction.atomic
def settle(
    *,
    provider: Provider,
    period_start: Any,
    period_end: Any,
    paid_on: Any,
    voucher_no: Any = "",
    user,
    today: dt.date | None = None,
) -> Settlement:
    today = today or timezone.localdate()
    if not user.has_perm(SETTLE):
        raise PermissionDenied("无权办理结算")
    errors: dict[str, list[str]] = {}
    start = collect(errors, "period_start", date, period_start, "核验期间起")
    end = collect(errors, "period_end", date, period_end, "核验期间止")
    paid = collect(errors, "paid_on", date, paid_on, "支付日期")
    if start and end and end < start:
        errors.setdefault("period_end", []).append(f"核验期间止 {end} 早于核验期间起 {start}")
    if end and end > today:
        errors.setdefault("period_end", []).append(f"核验期间止 {end} 晚于今天 {today}")
    if paid and end and paid < end:
        errors.setdefault("paid_on", []).append(f"支付日期 {paid} 早于核验期间止 {end}")
    number = text(voucher_no)
    if len(number) > 40:
        errors.setdefault("voucher_no", []).append(f"会计凭证号“{number[:20]}…”超过 40 个字符")
    if errors:
        raise ValidationError(errors)
    locked_provider = Provider.objects.select_for_update().get(pk=provider.pk)
    rows = list(candidates(locked_provider, start, end).select_for_update(of=("self",)))
    if not rows:
        raise ValidationError(
            {"period_start": f"服务机构“{locked_provider.name}”在 {start} 至 {end} 没有已核验、待结算的兑付"}
        )
    total = sum((r.voucher_part for r in rows), Decimal("0"))
    settlement = Settlement(
        provider=locked_provider,
        period_start=start,
        period_end=end,
        total=total,
        paid_on=paid,
        voucher_no=number,
        created_by=actor(user),
    )
    try:
        with transaction.atomic():
            history_user(settlement, user).save()
            SettlementLine.objects.bulk_create(
                [SettlementLine(settlement=settlement, redemption=r, amount=r.voucher_part) for r in rows]
            )
    except IntegrityError:
        raise ValidationError({"period_start": "其中有兑付已被同时结算，请刷新后重试"}) from None
    reason = f"结算 #{settlement.pk}，支付日期 {paid}" + (f"，凭证号 {number}" if number else "")
    for redemption in rows:
        engine.take(redemption, "settle", user, reason)
    return settlement


def payment_rows(settlement: Settlement) -> list[list]:
    lines = settlement.lines.select_related(
        "redemption__voucher__enterprise", "redemption__service"
    ).order_by("redemption__verified_at", "redemption_id")
    rows = []
    for number, line in enumerate(lines, 1):
        r = line.redemption
        rows.append(
            [
                number,
                r.pk,
                r.voucher.number,
                r.voucher.enterprise.name,
                r.voucher.enterprise.uscc,
                r.service.name,
                r.contract_no,
                r.invoice_no,
                r.invoice_date,
                r.invoice_amount,
                line.amount,
                timezone.localtime(r.verified_at).replace(tzinfo=None) if r.verified_at else None,
            ]
        )
    return rows


PAYMENT_HEADERS = [
    "序号",
    "兑付编号",
    "创新券券号",
    "持券企业",
    "持券企业统一社会信用代码",
    "服务项目",
    "服务合同编号",
    "发票号码",
    "开票日期",
    "发票金额（元）",
    "创新券支付（元）",
    "核验时间",
]


def payment_list_xlsx(settlement: Settlement) -> bytes:
    """The payment list of a settlement: one row per redemption, and the payee and total in the notes."""
    p = settlement.provider
    notes = [
        f"收款单位：{p.name}（统一社会信用代码 {p.uscc}）",
        f"结算编号：{settlement.pk}；核验期间：{settlement.period_start} 至 {settlement.period_end}",
        f"结算金额：{yuan(settlement.total)}；支付日期：{settlement.paid_on}；会计凭证号：{settlement.voucher_no or '—'}",
        "金额单位：元。文本单元格中以 = + - @ 开头的内容已加前导撇号，防止公式注入。",
    ]
    return write_xlsx([("支付清单", PAYMENT_HEADERS, payment_rows(settlement))], notes)
