"""The checks the voucher workflows name in their transitions ("guards" of kechuang/workflows/engine.py).

A guard is `guard(obj, user) -> None | str`: None when the transition may be taken, otherwise the Chinese
reason it may not. The application window is inclusive at both ends (受理截止日期 itself is accepted).
"""

from __future__ import annotations

from django.utils import timezone

from kechuang.core.money import format_wan
from kechuang.enterprises.models import Membership
from kechuang.vouchers.models import AbuseFlag, FlagResolution, SchemeState, SettlementLine, Voucher

# —— 申请 ——


def applicant(application, user) -> str | None:
    """Only the applying enterprise's own users act for it (submit, withdraw)."""
    if (
        not getattr(user, "is_authenticated", False)
        or not Membership.objects.filter(user=user, enterprise_id=application.enterprise_id).exists()
    ):
        return f"仅{application.enterprise.name}的用户可以办理"
    return None


def scheme_open(application, user=None) -> str | None:
    scheme = application.scheme
    today = timezone.localdate()
    if scheme.state != SchemeState.OPEN:
        return f"“{scheme}”当前为“{scheme.get_state_display()}”，不受理申请"
    if today < scheme.opens_on:
        return f"“{scheme}”将于 {scheme.opens_on:%Y-%m-%d} 开始受理"
    if today > scheme.closes_on:
        return f"“{scheme}”已于 {scheme.closes_on:%Y-%m-%d} 截止受理"
    return None


def within_cap(application, user=None) -> str | None:
    cap = application.scheme.cap_per_enterprise
    requested = application.requested_amount
    if requested is None or requested <= 0:
        return "申请额度须大于 0"
    if requested > cap:
        return f"申请额度 {format_wan(requested)} 万元，超过每家企业上限 {format_wan(cap)} 万元"
    return None


def purpose_given(application, user=None) -> str | None:
    if not (application.purpose or "").strip():
        return "须填写用途（拟购买的服务及其用于哪项研发活动）"
    return None


def _open_flags(queryset) -> str | None:
    flags = list(queryset.filter(resolution=FlagResolution.OPEN).order_by("pk"))
    if not flags:
        return None
    kinds = "、".join(f.get_kind_display() for f in flags)
    return f"尚有 {len(flags)} 条异常预警未处理（{kinds}），须先核实处理"


def application_flags_resolved(application, user=None) -> str | None:
    return _open_flags(AbuseFlag.objects.filter(application=application))


def voucher_issued(application, user=None) -> str | None:
    """批准 goes with the voucher: kechuang.vouchers.services.application_approve issues it first."""
    if not Voucher.objects.filter(application=application).exists():
        return "批准须同时核定额度并发放创新券（请在申请页面办理）"
    return None


# —— 兑付 ——


def redemption_flags_resolved(redemption, user=None) -> str | None:
    return _open_flags(AbuseFlag.objects.filter(redemption=redemption))


def settlement_recorded(redemption, user=None) -> str | None:
    """结算 goes with its settlement: kechuang.vouchers.settlement.settle records the line first."""
    if not SettlementLine.objects.filter(redemption=redemption).exists():
        return "须通过结算办理（结算页面）"
    return None
