"""兑付: a provider claims part of an enterprise's voucher for a service it delivered under a contract, against
its invoice; an officer verifies (核验) or refuses (不予兑付) it; settlement.py pays the verified ones.

Who enters it: the provider (a user of the 服务机构 role acting for it, ProviderMember), who holds the contract
and the invoice and is the one paid; the enterprise hands over its voucher number, and the provider must give the
enterprise's 统一社会信用代码 with it (a voucher number alone does not let anyone draw on a voucher). An officer
with vouchers.change_redemption may enter one for any provider (代为录入).

The voucher's part is min(share × invoice amount, balance), rounded down to the 分, unless an amount is asked
for: then it must be within both. Concurrent redemptions on one voucher are serialised by a row lock on the
voucher (select_for_update) and its used total is raised with F(): it never passes the amount (checked here,
held by the database: `voucher_used_within_amount`). An invoice is used once per provider: checked here under the
lock, held by the database (`redemption_invoice_once`), and told in Chinese naming the earlier redemption. A
refusal gives the voucher part back to the balance and frees the invoice.

Every refusal is a ValidationError with Chinese messages naming the field and the value; nothing is saved.
Abuse checks (abuse.py) run after the redemption is stored, in the same transaction: they flag, they do not
refuse.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kechuang.core import uscc as uscc_codes
from kechuang.vouchers import abuse
from kechuang.vouchers.models import (
    REFUSED,
    Provider,
    ProviderMember,
    ProviderService,
    ProviderState,
    Redemption,
    Voucher,
)
from kechuang.vouchers.parsing import CENT, actor, collect, date, history_user, money, text, yuan
from kechuang.vouchers.workflows import REDEMPTION, VERIFY
from kechuang.workflows import engine

ENTER = "vouchers.add_redemption"
INVOICE_NO = re.compile(r"[0-9A-Z-]{1,40}")


def normalise_invoice_no(value: Any) -> str:
    """ "０４４ 0319 0012" → "04403190012": full-width to half-width, spaces out, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text(value))).upper()


def may_enter_for(user, provider: Provider) -> bool:
    """A user of the provider with vouchers.add_redemption, or an officer (vouchers.change_redemption too)."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm(ENTER):
        return False
    if user.has_perm(VERIFY):
        return True
    return ProviderMember.objects.filter(user=user, provider=provider).exists()


def voucher_part(invoice_amount: Decimal, share_pct: Decimal) -> Decimal:
    """The most a voucher pays of an invoice: share × amount, rounded down to the 分."""
    return (invoice_amount * share_pct / Decimal(100)).quantize(CENT, rounding=ROUND_DOWN)


def _fmt(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def invoice_used(earlier: Redemption) -> str:
    state = engine.state_label(earlier)
    return (
        f"发票 {earlier.invoice_no} 已用于兑付 #{earlier.pk}（创新券 {earlier.voucher.number}，"
        f"{_fmt(earlier.submitted_at)} 提交，当前“{state}”），同一张发票不能重复兑付"
    )


def over_balance(voucher: Voucher, asked: Decimal) -> str:
    return (
        f"本次抵扣 {yuan(asked)}超过创新券 {voucher.number} 的余额 {yuan(voucher.balance)}"
        f"（券面 {yuan(voucher.amount)}，已使用 {yuan(voucher.used)}）"
    )


@transaction.atomic
def redeem(
    *,
    voucher_number: Any,
    enterprise_uscc: Any,
    provider: Provider,
    service: ProviderService | Any,
    contract_no: Any,
    contract_amount: Any,
    invoice_no: Any,
    invoice_date: Any,
    invoice_amount: Any,
    amount: Any = None,
    user,
    now: dt.datetime | None = None,
) -> Redemption:
    """Submit a redemption (待核验). Returns it, with the abuse flags raised on it (`redemption.flags`)."""
    if not may_enter_for(user, provider):
        raise PermissionDenied(f"仅服务机构“{provider.name}”的用户可以为其提交兑付")
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    errors: dict[str, list[str]] = {}

    number = text(voucher_number).upper()
    code = uscc_codes.normalise(text(enterprise_uscc))
    if not number:
        errors.setdefault("voucher_number", []).append("券号必须填写")
    if not code:
        errors.setdefault("enterprise_uscc", []).append("持券企业统一社会信用代码必须填写")
    contract = text(contract_no)
    if not contract:
        errors.setdefault("contract_no", []).append("服务合同编号必须填写")
    elif len(contract) > 60:
        errors.setdefault("contract_no", []).append(f"服务合同编号“{contract[:20]}…”超过 60 个字符")
    contract_total = collect(errors, "contract_amount", money, contract_amount, "合同金额")
    invoice = normalise_invoice_no(invoice_no)
    if not invoice:
        errors.setdefault("invoice_no", []).append("发票号码必须填写")
    elif not INVOICE_NO.fullmatch(invoice):
        errors.setdefault("invoice_no", []).append(
            f"发票号码“{text(invoice_no)[:40]}”只能由数字、大写字母和“-”组成，至多 40 位"
        )
    issued_on = collect(errors, "invoice_date", date, invoice_date, "开票日期")
    invoice_total = collect(errors, "invoice_amount", money, invoice_amount, "发票金额")
    asked = None
    if amount is not None and not (isinstance(amount, str) and not amount.strip()):
        asked = collect(errors, "amount", money, amount, "本次抵扣")
    if contract_total is not None and invoice_total is not None and invoice_total > contract_total:
        errors.setdefault("invoice_amount", []).append(
            f"发票金额 {yuan(invoice_total)}超过合同金额 {yuan(contract_total)}"
        )
    if issued_on and issued_on > today:
        errors.setdefault("invoice_date", []).append(f"开票日期 {issued_on} 晚于今天 {today}")

    # The voucher, locked: concurrent redemptions on it wait here, and see the balance the one before left.
    voucher = None
    if number and code:
        voucher = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("enterprise", "scheme")
            .filter(number=number, enterprise__uscc=code)
            .first()
        )
        if voucher is None:
            errors.setdefault("voucher_number", []).append(
                f"券号“{number}”不存在，或不属于统一社会信用代码为 {code} 的企业"
            )
    provider = Provider.objects.get(pk=provider.pk)
    if provider.state != ProviderState.LISTED:
        note = f"（原因：{provider.state_note}）" if provider.state_note else ""
        errors.setdefault("provider", []).append(f"服务机构“{provider.name}”已暂停{note}，不能兑付")
    if not isinstance(service, ProviderService):
        service = ProviderService.objects.filter(pk=service).first() if str(service or "").isdigit() else None
    if service is None:
        errors.setdefault("service", []).append("须选择服务项目")
    elif service.provider_id != provider.pk:
        errors.setdefault("service", []).append(f"服务机构“{provider.name}”未提供服务“{service.name}”")
    elif not service.active:
        errors.setdefault("service", []).append(f"服务机构“{provider.name}”的服务“{service.name}”已下架")

    if voucher is not None:
        if voucher.is_expired(today):
            errors.setdefault("voucher_number", []).append(
                f"创新券 {voucher.number} 已于 {voucher.valid_until} 到期，不能兑付"
            )
        if issued_on:
            issued_at = timezone.localtime(voucher.issued_at).date()
            if issued_on < issued_at:
                errors.setdefault("invoice_date", []).append(
                    f"开票日期 {issued_on} 早于创新券 {voucher.number} 的发放日期 {issued_at}，发券前购买的服务不能兑付"
                )
            if issued_on > voucher.valid_until:
                errors.setdefault("invoice_date", []).append(
                    f"开票日期 {issued_on} 晚于创新券有效期 {voucher.valid_until}"
                )
    if invoice and not errors.get("invoice_no"):
        earlier = (
            Redemption.objects.exclude(state=REFUSED)
            .filter(provider_uscc=provider.uscc, invoice_no=invoice)
            .select_related("voucher", "workflow")
            .first()
        )
        if earlier is not None:
            errors.setdefault("invoice_no", []).append(invoice_used(earlier))

    part = None
    if voucher is not None and invoice_total is not None:
        most = voucher_part(invoice_total, voucher.share_pct)
        if asked is not None:
            if asked > most:
                errors.setdefault("amount", []).append(
                    f"本次抵扣 {yuan(asked)}超过发票金额 {yuan(invoice_total)}的 {voucher.share_pct.normalize():f}%"
                    f"（至多 {yuan(most)}）"
                )
            elif asked > voucher.balance:
                errors.setdefault("amount", []).append(over_balance(voucher, asked))
            part = asked
        elif voucher.balance <= 0:
            errors.setdefault("amount", []).append(
                f"创新券 {voucher.number} 余额为 0 元（券面 {yuan(voucher.amount)}已全部使用），不能兑付"
            )
        else:
            part = min(most, voucher.balance)
            if part <= 0:
                errors.setdefault("invoice_amount", []).append(
                    f"发票金额 {yuan(invoice_total)}按 {voucher.share_pct.normalize():f}% 计不足 1 分，无需兑付"
                )
    if errors:
        raise ValidationError(errors)

    redemption = Redemption(
        voucher=voucher,
        provider=provider,
        provider_uscc=provider.uscc,
        service=service,
        contract_no=contract,
        contract_amount=contract_total,
        invoice_no=invoice,
        invoice_date=issued_on,
        invoice_amount=invoice_total,
        voucher_part=part,
        submitted_at=now,
        submitted_by=actor(user),
    )
    engine.start(redemption, REDEMPTION)
    try:
        with transaction.atomic():
            history_user(redemption, user).save()
            Voucher.objects.filter(pk=voucher.pk).update(used=F("used") + part)
    except IntegrityError:
        # The database's last line: the invoice taken meanwhile, or the balance (neither can pass the lock above
        # unless the service is bypassed).
        earlier = (
            Redemption.objects.exclude(state=REFUSED)
            .filter(provider_uscc=provider.uscc, invoice_no=invoice)
            .select_related("voucher", "workflow")
            .first()
        )
        if earlier is not None:
            raise ValidationError({"invoice_no": invoice_used(earlier)}) from None
        voucher.refresh_from_db()
        raise ValidationError({"amount": over_balance(voucher, part)}) from None
    voucher.used += part
    redemption.voucher = voucher
    abuse.raise_redemption_flags(redemption, now=now)
    return redemption


def _fresh(redemption: Redemption) -> Redemption:
    return Redemption.objects.select_related("voucher", "provider", "workflow").get(pk=redemption.pk)


@transaction.atomic
def redemption_verify(redemption: Redemption, *, user, note: Any = "") -> Redemption:
    """核验通过: the contract and invoice checked; refused while an abuse flag on it is open."""
    redemption = engine.take(_fresh(redemption), "verify", user, text(note))
    redemption.verified_at = timezone.now()
    redemption.verified_by = actor(user)
    history_user(redemption, user).save(update_fields=["verified_at", "verified_by"])
    return redemption


@transaction.atomic
def redemption_refuse(redemption: Redemption, *, reason: Any, user) -> Redemption:
    """不予兑付 (待核验 or 已核验, not once settled): the voucher part goes back to the balance, the invoice is
    free again, the open flags on it are closed. Lock order: the voucher, then the redemption (as redeem)."""
    reason = text(reason)
    if not reason:
        raise ValidationError({"reason": "不予兑付须写明理由"})
    if len(reason) > 2000:
        raise ValidationError({"reason": "不予兑付理由超过 2000 个字符"})
    Voucher.objects.select_for_update().get(pk=redemption.voucher_id)
    redemption = engine.take(_fresh(redemption), "refuse", user, reason)
    Voucher.objects.filter(pk=redemption.voucher_id).update(used=F("used") - redemption.voucher_part)
    redemption.refusal_reason = reason
    history_user(redemption, user).save(update_fields=["refusal_reason"])
    abuse.close_open_flags(redemption=redemption, user=user, why="已不予兑付，预警随之关闭")
    redemption.voucher.refresh_from_db()
    return redemption


def redemption_take(redemption: Redemption, name: str, *, user, reason: str = ""):
    """A step by name, as the task inbox and the API take it, through the services above."""
    if name == "verify":
        return redemption_verify(redemption, user=user, note=reason)
    if name == "refuse":
        return redemption_refuse(redemption, reason=reason, user=user)
    return engine.take(_fresh(redemption), name, user, reason)
