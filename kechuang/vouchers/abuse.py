"""Checks against abuse of the vouchers, each raised as an AbuseFlag with its reason in Chinese.

What blocks and what only flags:
- Refused outright (kechuang/vouchers/redemptions.py, nothing saved): a redemption beyond the voucher's balance,
  an invoice already used with the same provider (held by the database), an expired voucher, a suspended
  provider, a service the provider does not offer, an invoice dated before the voucher or in the future, an
  invoice above its contract.
- Flagged (the redemption or application is saved; the officer's next step — 核验 or 批准 — waits until every
  flag on it is resolved: cleared with a note, or upheld, which refuses the redemption or rejects the
  application):
  same_uscc        the provider and the redeeming enterprise are one entity: the same 统一社会信用代码, or the
                   provider's registry link is the enterprise itself;
  same_legal_rep   the same 法定代表人 (normalised: NFKC, spaces and the dots of transliterated names removed);
  same_address     the same address (normalised: NFKC — full-width digits and letters to half-width —, spaces
                   and commas removed, 號 → 号, 衖/挵 → 弄, a leading 中国 / 上海市 dropped). Addresses differing
                   by a number do not match: 文诚路500号 and 文诚路501号 stay apart;
  duplicate_invoice  an invoice number standing with another provider for the same amount (with the same
                   provider the database refuses it instead);
  over_cap         the enterprise's vouchers of the year together over the scheme's per-enterprise cap: at
                   submission of an application (amounts granted + requested), at redemption (amounts used);
  burst            BURST_COUNT or more redemptions (this one included, refused ones not) by one provider for one
                   enterprise submitted within BURST_WINDOW: many small claims in a short time are how a contract
                   is split to draw a voucher down.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from kechuang.vouchers.models import (
    REFUSED,
    AbuseFlag,
    FlagKind,
    FlagResolution,
    Redemption,
    Voucher,
    VoucherApplication,
)
from kechuang.vouchers.parsing import actor, history_user, text, yuan

BURST_COUNT = 3
BURST_WINDOW = dt.timedelta(hours=72)
BURST_RULE = "规则：72 小时内同一服务机构为同一企业提交兑付达 3 笔即预警"

_SPACES = re.compile(r"[\s,，、]+")
_NAME_DOTS = re.compile(r"[·•・.．\s]+")
_ADDRESS_FORMS = str.maketrans({"號": "号", "衖": "弄", "挵": "弄", "—": "-", "–": "-", "‐": "-", "－": "-"})
_ADDRESS_PREFIXES = ("中华人民共和国", "中国", "上海市", "上海")


def normalise_person(name: str) -> str:
    """ "张 伟" and "张伟", "Ｊｏｈｎ·Ｓｍｉｔｈ" and "john smith" are the same person's name."""
    return _NAME_DOTS.sub("", unicodedata.normalize("NFKC", name or "")).casefold()


def normalise_address(address: str) -> str:
    """ "上海市松江区文诚路 500 號" and "松江区文诚路５００号" are one address; 500号 and 501号 are not."""
    value = _SPACES.sub("", unicodedata.normalize("NFKC", address or "")).translate(_ADDRESS_FORMS)
    for prefix in _ADDRESS_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value.casefold()


# --- redemptions --------------------------------------------------------------------------------------------------


def redemption_findings(redemption: Redemption, *, now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """(kind, reason) for each suspicion about a stored redemption (its voucher's used total already raised)."""
    now = now or redemption.submitted_at or timezone.now()
    provider = redemption.provider
    voucher = redemption.voucher
    enterprise = voucher.enterprise
    found: list[tuple[str, str]] = []

    if provider.uscc == enterprise.uscc:
        found.append(
            (
                FlagKind.SAME_USCC,
                f"服务机构“{provider.name}”与持券企业“{enterprise.name}”的统一社会信用代码相同（{provider.uscc}），"
                "为同一主体",
            )
        )
    elif provider.enterprise_id == enterprise.pk:
        found.append(
            (
                FlagKind.SAME_USCC,
                f"服务机构“{provider.name}”在企业库中关联的企业即持券企业“{enterprise.name}”（{enterprise.uscc}）",
            )
        )
    person = normalise_person(provider.legal_representative)
    if person and person == normalise_person(enterprise.legal_representative):
        found.append(
            (
                FlagKind.SAME_LEGAL_REP,
                f"服务机构“{provider.name}”的法定代表人“{provider.legal_representative}”与持券企业“{enterprise.name}”"
                f"的法定代表人“{enterprise.legal_representative}”为同一人",
            )
        )
    place = normalise_address(provider.address)
    if place and place == normalise_address(enterprise.address):
        found.append(
            (
                FlagKind.SAME_ADDRESS,
                f"服务机构“{provider.name}”的地址“{provider.address}”与持券企业“{enterprise.name}”的注册地址"
                f"“{enterprise.address}”相同（规范化后均为“{place}”）",
            )
        )

    twin = (
        Redemption.objects.exclude(pk=redemption.pk)
        .exclude(state=REFUSED)
        .exclude(provider_uscc=redemption.provider_uscc)
        .filter(invoice_no=redemption.invoice_no, invoice_amount=redemption.invoice_amount)
        .select_related("provider", "voucher")
        .order_by("submitted_at", "pk")
        .first()
    )
    if twin is not None:
        found.append(
            (
                FlagKind.DUPLICATE_INVOICE,
                f"发票号码 {redemption.invoice_no}、金额 {yuan(redemption.invoice_amount)}已在兑付 #{twin.pk}"
                f"（服务机构“{twin.provider.name}”，创新券 {twin.voucher.number}，"
                f"{timezone.localtime(twin.submitted_at):%Y-%m-%d %H:%M} 提交）中使用",
            )
        )

    scheme = voucher.scheme
    used = Voucher.objects.filter(enterprise=enterprise, scheme__year=scheme.year).aggregate(t=Sum("used"))[
        "t"
    ]
    used = used or Decimal("0")
    if used > scheme.cap_per_enterprise:
        found.append(
            (
                FlagKind.OVER_CAP,
                f"“{enterprise.name}”{scheme.year}年度各创新券累计使用 {yuan(used)}，超过每家企业上限 "
                f"{yuan(scheme.cap_per_enterprise)}（超出 {yuan(used - scheme.cap_per_enterprise)}）",
            )
        )

    recent = (
        Redemption.objects.exclude(state=REFUSED)
        .filter(
            provider=provider,
            voucher__enterprise=enterprise,
            submitted_at__gt=now - BURST_WINDOW,
            submitted_at__lte=now,
        )
        .count()
    )
    if recent >= BURST_COUNT:
        found.append(
            (
                FlagKind.BURST,
                f"服务机构“{provider.name}”72 小时内为“{enterprise.name}”提交兑付 {recent} 笔（含本笔）；{BURST_RULE}",
            )
        )
    return found


def raise_redemption_flags(redemption: Redemption, *, now: dt.datetime | None = None) -> list[AbuseFlag]:
    flags = [
        AbuseFlag(redemption=redemption, kind=kind, reason=reason, raised_at=now or timezone.now())
        for kind, reason in redemption_findings(redemption, now=now)
    ]
    for flag in flags:
        flag.save()
    return flags


# --- applications -------------------------------------------------------------------------------------------------


def year_granted(enterprise_id: int, year: int, *, excluding: VoucherApplication | None = None) -> Decimal:
    qs = Voucher.objects.filter(enterprise_id=enterprise_id, scheme__year=year)
    if excluding is not None:
        qs = qs.exclude(application=excluding)
    return qs.aggregate(t=Sum("amount"))["t"] or Decimal("0")


def over_cap_reason(application: VoucherApplication, amount: Decimal) -> str | None:
    """Why `amount` for this application would take the enterprise's vouchers of the year over the cap."""
    scheme = application.scheme
    held = year_granted(application.enterprise_id, scheme.year, excluding=application)
    total = held + amount
    if total <= scheme.cap_per_enterprise:
        return None
    return (
        f"“{application.enterprise.name}”{scheme.year}年度已获创新券 {yuan(held)}，本次 {yuan(amount)}，"
        f"合计 {yuan(total)}，超过每家企业上限 {yuan(scheme.cap_per_enterprise)}"
    )


def raise_application_flags(application: VoucherApplication) -> list[AbuseFlag]:
    reason = over_cap_reason(application, application.requested_amount)
    if reason is None or AbuseFlag.objects.filter(application=application, kind=FlagKind.OVER_CAP).exists():
        return []
    return [AbuseFlag.objects.create(application=application, kind=FlagKind.OVER_CAP, reason=reason)]


# --- resolving ----------------------------------------------------------------------------------------------------


@transaction.atomic
def flag_resolve(flag: AbuseFlag, *, upheld: bool, note: str, user) -> AbuseFlag:
    """An officer's decision on a flag: cleared (核实无误, with a note), or upheld (确认违规), which also refuses
    the redemption (its balance given back) or rejects the application, with the flag's reason."""
    locked = AbuseFlag.objects.select_for_update().get(pk=flag.pk)
    if not locked.is_open:
        when = timezone.localtime(locked.resolved_at).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(
            {"flag": f"该预警已于 {when} 处理为“{locked.get_resolution_display()}”，不能重复处理"}
        )
    note = text(note)
    if not note:
        raise ValidationError({"note": "处理预警须写明核实情况"})
    if len(note) > 1000:
        raise ValidationError({"note": "处理说明超过 1000 个字符"})
    locked.resolution = FlagResolution.UPHELD if upheld else FlagResolution.CLEARED
    locked.resolved_by = actor(user)
    locked.resolved_at = timezone.now()
    locked.resolution_note = note
    history_user(locked, user).save(
        update_fields=["resolution", "resolved_by", "resolved_at", "resolution_note"]
    )
    if upheld:
        reason = f"异常预警确认违规（{locked.get_kind_display()}）：{locked.reason}；处理说明：{note}"
        if locked.redemption_id:
            from kechuang.vouchers.redemptions import redemption_refuse

            redemption = Redemption.objects.get(pk=locked.redemption_id)
            if redemption.state != REFUSED:
                redemption_refuse(redemption, reason=reason, user=user)
        else:
            from kechuang.vouchers.services import application_reject

            application = VoucherApplication.objects.get(pk=locked.application_id)
            if application.state not in ("rejected", "withdrawn"):
                application_reject(application, reason=reason, user=user)
    return locked


def close_open_flags(*, redemption=None, application=None, user, why: str) -> int:
    """When a redemption is refused or an application rejected or withdrawn by another way, its open flags
    are closed with the reason (they no longer wait for anyone)."""
    qs = AbuseFlag.objects.filter(resolution=FlagResolution.OPEN)
    qs = qs.filter(redemption=redemption) if redemption is not None else qs.filter(application=application)
    closed = 0
    for flag in qs.select_for_update():
        flag.resolution = FlagResolution.CLOSED
        flag.resolved_by = actor(user)
        flag.resolved_at = timezone.now()
        flag.resolution_note = why
        history_user(flag, user).save(
            update_fields=["resolution", "resolved_by", "resolved_at", "resolution_note"]
        )
        closed += 1
    return closed
