"""Writes of the voucher schemes, the provider catalogue and the applications: each function is one transaction
and refuses with a ValidationError of Chinese messages naming the field and the value; nothing is saved then.

批准 (application_approve) issues the voucher under a row lock on the scheme: the scheme's granted total is raised
with F() and never passes its budget (checked here, held by the database: `voucher_scheme_granted_within_budget`).
Redemptions are in redemptions.py, settlement in settlement.py, the abuse checks in abuse.py.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kechuang.core import uscc as uscc_codes
from kechuang.enterprises.models import Enterprise, Membership
from kechuang.vouchers import abuse
from kechuang.vouchers.models import (
    AbuseFlag,
    FlagKind,
    FlagResolution,
    Provider,
    ProviderKind,
    ProviderService,
    ProviderState,
    SchemeState,
    Voucher,
    VoucherApplication,
    VoucherScheme,
)
from kechuang.vouchers.parsing import (
    actor,
    collect,
    date,
    history_user,
    money,
    percent,
    required_text,
    text,
    yuan,
)
from kechuang.vouchers.workflows import APPLICATION
from kechuang.workflows import engine

EDITABLE = ("draft", "returned")  # application states its enterprise may still change


# --- schemes -------------------------------------------------------------------------------------------------------


@transaction.atomic
def scheme_save(
    *,
    scheme: VoucherScheme | None = None,
    year: Any,
    name: Any,
    budget_total: Any,
    cap_per_enterprise: Any,
    share_pct: Any,
    opens_on: Any,
    closes_on: Any,
    valid_until: Any,
    source: Any = "",
    user,
) -> VoucherScheme:
    """Create a scheme (草稿) or change one; its budget never below what it has granted."""
    errors: dict[str, list[str]] = {}
    if scheme is not None:
        scheme = VoucherScheme.objects.select_for_update().get(pk=scheme.pk)
    try:
        year = int(str(year).strip())
        if not 2000 <= year <= 2100:
            raise ValueError
    except (TypeError, ValueError):
        errors.setdefault("year", []).append(f"年度“{year}”须为 2000–2100 之间的整数")
        year = None
    name = required_text(errors, "name", name, "名称", 100)
    budget = collect(errors, "budget_total", money, budget_total, "年度总额度")
    cap = collect(errors, "cap_per_enterprise", money, cap_per_enterprise, "每家企业上限")
    share = collect(errors, "share_pct", percent, share_pct, "抵扣比例")
    opens = collect(errors, "opens_on", date, opens_on, "受理开始日期")
    closes = collect(errors, "closes_on", date, closes_on, "受理截止日期")
    valid = collect(errors, "valid_until", date, valid_until, "券有效期")
    if budget is not None and cap is not None and cap > budget:
        errors.setdefault("cap_per_enterprise", []).append(
            f"每家企业上限 {yuan(cap)}超过年度总额度 {yuan(budget)}"
        )
    if opens and closes and closes < opens:
        errors.setdefault("closes_on", []).append(f"受理截止日期 {closes} 早于受理开始日期 {opens}")
    if closes and valid and valid < closes:
        errors.setdefault("valid_until", []).append(f"券有效期 {valid} 早于受理截止日期 {closes}")
    if scheme is not None and budget is not None and budget < scheme.granted:
        errors.setdefault("budget_total", []).append(
            f"年度总额度 {yuan(budget)}低于已发券 {yuan(scheme.granted)}"
        )
    if year and name:
        clash = VoucherScheme.objects.filter(year=year, name=name)
        if scheme is not None:
            clash = clash.exclude(pk=scheme.pk)
        if clash.exists():
            errors.setdefault("name", []).append(f"{year} 年度已有名为“{name}”的方案")
    source = text(source)
    if len(source) > 300:
        errors.setdefault("source", []).append("依据超过 300 个字符")
    if errors:
        raise ValidationError(errors)
    scheme = scheme or VoucherScheme()
    for field, value in {
        "year": year,
        "name": name,
        "budget_total": budget,
        "cap_per_enterprise": cap,
        "share_pct": share,
        "opens_on": opens,
        "closes_on": closes,
        "valid_until": valid,
        "source": source,
    }.items():
        setattr(scheme, field, value)
    history_user(scheme, user).save()
    return scheme


SCHEME_MOVES = {
    SchemeState.OPEN: (SchemeState.DRAFT, SchemeState.CLOSED),
    SchemeState.CLOSED: (SchemeState.OPEN,),
}


@transaction.atomic
def scheme_set_state(scheme: VoucherScheme, state: str, *, user) -> VoucherScheme:
    """开始受理 (草稿 or 已截止 → 受理中) and 截止受理 (受理中 → 已截止)."""
    locked = VoucherScheme.objects.select_for_update().get(pk=scheme.pk)
    if state not in SCHEME_MOVES:
        raise ValidationError({"state": f"状态“{state}”不存在，可用：open（受理中）、closed（已截止）"})
    if locked.state not in SCHEME_MOVES[state]:
        raise ValidationError(
            {"state": f"“{locked}”当前为“{locked.get_state_display()}”，不能改为“{SchemeState(state).label}”"}
        )
    locked.state = state
    history_user(locked, user).save(update_fields=["state"])
    scheme.state = state
    return locked


# --- providers and their services ----------------------------------------------------------------------------------


@transaction.atomic
def provider_save(
    *,
    provider: Provider | None = None,
    name: Any,
    uscc: Any,
    legal_representative: Any,
    address: Any,
    kind: Any,
    contact_person: Any = "",
    contact_phone: Any = "",
    enterprise: Enterprise | None = None,
    description: Any = "",
    user,
) -> Provider:
    errors: dict[str, list[str]] = {}
    name = required_text(errors, "name", name, "机构名称", 200)
    code = uscc_codes.normalise(text(uscc))
    if not code:
        errors.setdefault("uscc", []).append("统一社会信用代码必须填写")
    else:
        problem = uscc_codes.uscc_error(code)
        if problem:
            errors.setdefault("uscc", []).append(problem)
        else:
            clash = Provider.objects.filter(uscc=code)
            if provider is not None:
                clash = clash.exclude(pk=provider.pk)
            other = clash.first()
            if other:
                errors.setdefault("uscc", []).append(
                    f"统一社会信用代码 {code} 已登记为服务机构“{other.name}”"
                )
    legal = required_text(errors, "legal_representative", legal_representative, "法定代表人", 50)
    address = required_text(errors, "address", address, "地址", 200)
    if kind not in ProviderKind.values:
        allowed = "、".join(f"{k}（{v}）" for k, v in ProviderKind.choices)
        errors.setdefault("kind", []).append(f"服务类别“{kind}”不存在，可用：{allowed}")
    person, phone, description = text(contact_person), text(contact_phone), text(description)
    if len(person) > 40:
        errors.setdefault("contact_person", []).append("联系人超过 40 个字符")
    if len(phone) > 30:
        errors.setdefault("contact_phone", []).append("联系电话超过 30 个字符")
    if errors:
        raise ValidationError(errors)
    provider = Provider.objects.select_for_update().get(pk=provider.pk) if provider else Provider()
    provider.name, provider.uscc, provider.legal_representative, provider.address = name, code, legal, address
    provider.kind, provider.contact_person, provider.contact_phone = kind, person, phone
    provider.enterprise, provider.description = enterprise, description
    try:
        with transaction.atomic():
            history_user(provider, user).save()
    except IntegrityError:
        raise ValidationError({"uscc": f"统一社会信用代码 {code} 已被同时登记，请刷新后核对"}) from None
    return provider


@transaction.atomic
def provider_suspend(provider: Provider, *, reason: Any, user) -> Provider:
    """暂停: a suspended provider's redemptions are refused from now on (those already in stand)."""
    locked = Provider.objects.select_for_update().get(pk=provider.pk)
    reason = text(reason)
    if locked.state == ProviderState.SUSPENDED:
        raise ValidationError({"state": f"服务机构“{locked.name}”已暂停"})
    if not reason:
        raise ValidationError({"reason": "暂停须写明原因"})
    if len(reason) > 300:
        raise ValidationError({"reason": "暂停原因超过 300 个字符"})
    locked.state, locked.state_note = ProviderState.SUSPENDED, reason
    history_user(locked, user).save(update_fields=["state", "state_note"])
    provider.state, provider.state_note = locked.state, locked.state_note
    return locked


@transaction.atomic
def provider_relist(provider: Provider, *, user) -> Provider:
    locked = Provider.objects.select_for_update().get(pk=provider.pk)
    if locked.state == ProviderState.LISTED:
        raise ValidationError({"state": f"服务机构“{locked.name}”已在册"})
    locked.state, locked.state_note = ProviderState.LISTED, ""
    history_user(locked, user).save(update_fields=["state", "state_note"])
    provider.state, provider.state_note = locked.state, locked.state_note
    return locked


@transaction.atomic
def service_save(
    *,
    provider: Provider,
    service: ProviderService | None = None,
    name: Any,
    category: Any,
    unit_price: Any,
    unit: Any,
    description: Any = "",
    active: bool = True,
    user,
) -> ProviderService:
    errors: dict[str, list[str]] = {}
    name = required_text(errors, "name", name, "服务名称", 200)
    if category not in ProviderKind.values:
        allowed = "、".join(f"{k}（{v}）" for k, v in ProviderKind.choices)
        errors.setdefault("category", []).append(f"类别“{category}”不存在，可用：{allowed}")
    price = collect(errors, "unit_price", money, unit_price, "单价", allow_zero=True)
    unit = required_text(errors, "unit", unit, "计价单位", 20)
    if name:
        clash = ProviderService.objects.filter(provider=provider, name=name)
        if service is not None:
            clash = clash.exclude(pk=service.pk)
        if clash.exists():
            errors.setdefault("name", []).append(f"“{provider.name}”已有服务“{name}”")
    if errors:
        raise ValidationError(errors)
    service = service or ProviderService(provider=provider)
    service.name, service.category, service.unit_price, service.unit = name, category, price, unit
    service.description, service.active = text(description), bool(active)
    history_user(service, user).save()
    return service


# --- applications -------------------------------------------------------------------------------------------------


def _member(user, enterprise_id: int) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and Membership.objects.filter(user=user, enterprise_id=enterprise_id).exists()
    )


@transaction.atomic
def application_save(
    *,
    application: VoucherApplication | None = None,
    enterprise: Enterprise | None = None,
    scheme: VoucherScheme | None = None,
    requested_amount: Any,
    purpose: Any,
    planned_services: list | None = None,
    user,
) -> VoucherApplication:
    """A new application (草稿) by a user of the enterprise, or changes to one in 草稿 or 退回修改."""
    if application is not None:
        application = (
            VoucherApplication.objects.select_for_update(of=("self",))
            .select_related("scheme", "enterprise", "workflow")
            .get(pk=application.pk)
        )
        enterprise, scheme = application.enterprise, application.scheme
        if application.state not in EDITABLE:
            raise ValidationError(
                {"state": f"申请当前为“{engine.state_label(application)}”，只有草稿或退回修改的申请可以修改"}
            )
    if enterprise is None or scheme is None:
        raise ValidationError({"scheme": "须选择年度方案"})
    if not _member(user, enterprise.pk):
        raise ValidationError({"enterprise": f"仅{enterprise.name}的用户可以填写其创新券申请"})
    errors: dict[str, list[str]] = {}
    if application is None and not scheme.is_accepting():
        errors.setdefault("scheme", []).append(
            f"“{scheme}”当前不受理申请（{scheme.get_state_display()}，受理期 {scheme.opens_on:%Y-%m-%d} 至 "
            f"{scheme.closes_on:%Y-%m-%d}）"
        )
    amount = collect(errors, "requested_amount", money, requested_amount, "申请额度")
    if amount is not None and amount > scheme.cap_per_enterprise:
        errors.setdefault("requested_amount", []).append(
            f"申请额度 {yuan(amount)}超过每家企业上限 {yuan(scheme.cap_per_enterprise)}"
        )
    purpose = required_text(errors, "purpose", purpose, "用途", 2000)
    services = []
    for item in planned_services or []:
        service = (
            item if isinstance(item, ProviderService) else ProviderService.objects.filter(pk=item).first()
        )
        if service is None:
            errors.setdefault("planned_services", []).append(f"服务项目 {item} 不存在")
        elif not service.active or service.provider.state != ProviderState.LISTED:
            errors.setdefault("planned_services", []).append(
                f"服务“{service.name}”（{service.provider.name}）当前不可选：服务已下架或机构已暂停"
            )
        else:
            services.append(service)
    if errors:
        raise ValidationError(errors)
    if application is None:
        application = VoucherApplication(scheme=scheme, enterprise=enterprise, created_by=actor(user))
        engine.start(application, APPLICATION)
    application.requested_amount, application.purpose = amount, purpose
    history_user(application, user).save()
    application.planned_services.set(services)
    return application


def _fresh(application: VoucherApplication) -> VoucherApplication:
    return VoucherApplication.objects.select_related("scheme", "enterprise", "workflow").get(
        pk=application.pk
    )


def _transition_from(application: VoucherApplication, *names: str) -> dict | None:
    for t in application.workflow.definition.get("transitions", []):
        if t["name"] in names and application.state in t["from"]:
            return t
    return None


@transaction.atomic
def application_submit(application: VoucherApplication, *, user) -> VoucherApplication:
    """提交 (or 修改后重新提交) through the engine (applicant, window, cap, purpose); then the cap across the
    enterprise's vouchers of the year is checked and, when passed, flagged (abuse.py)."""
    application = _fresh(application)
    t = _transition_from(application, "submit", "resubmit")
    if t is None:
        raise ValidationError({"state": f"申请当前为“{engine.state_label(application)}”，不能提交"})
    engine.take(application, t["name"], user)
    application.submitted_at = timezone.now()
    history_user(application, user).save(update_fields=["submitted_at"])
    abuse.raise_application_flags(application)
    return application


def _reason(reason: Any, what: str) -> str:
    reason = text(reason)
    if not reason:
        raise ValidationError({"reason": f"{what}须写明理由"})
    if len(reason) > 2000:
        raise ValidationError({"reason": f"{what}理由超过 2000 个字符"})
    return reason


def _decide(application: VoucherApplication, name: str, reason: str, user) -> VoucherApplication:
    application = engine.take(application, name, user, reason)
    application.decision_note = reason
    application.decided_at = timezone.now()
    application.decided_by = actor(user)
    history_user(application, user).save(update_fields=["decision_note", "decided_at", "decided_by"])
    return application


@transaction.atomic
def application_return(application: VoucherApplication, *, reason: Any, user) -> VoucherApplication:
    return _decide(_fresh(application), "return", _reason(reason, "退回修改"), user)


@transaction.atomic
def application_reject(application: VoucherApplication, *, reason: Any, user) -> VoucherApplication:
    application = _decide(_fresh(application), "reject", _reason(reason, "不予批准"), user)
    abuse.close_open_flags(application=application, user=user, why="申请不予批准，预警随之关闭")
    return application


@transaction.atomic
def application_withdraw(application: VoucherApplication, *, user) -> VoucherApplication:
    application = engine.take(_fresh(application), "withdraw", user)
    abuse.close_open_flags(application=application, user=user, why="申请已撤回，预警随之关闭")
    return application


def voucher_number(scheme: VoucherScheme) -> str:
    """CXQ-2026-3-0001: the scheme's vouchers in order (the caller holds the scheme's row lock)."""
    return f"CXQ-{scheme.year}-{scheme.pk}-{Voucher.objects.filter(scheme=scheme).count() + 1:04d}"


@transaction.atomic
def application_approve(
    application: VoucherApplication, *, granted_amount: Any = None, note: Any = "", user
) -> Voucher:
    """批准: grant `granted_amount` (default: the amount applied for) and issue the voucher, valid until the
    scheme's date. Refused when the amount is above the request or the cap, when the scheme's budget left is
    short, when the year's vouchers would pass the cap without an officer having cleared that flag, or when a flag
    is open. Lock order: the scheme, then the application."""
    scheme = VoucherScheme.objects.select_for_update().get(pk=application.scheme_id)
    application = (
        VoucherApplication.objects.select_for_update(of=("self",))
        .select_related("enterprise", "workflow")
        .get(pk=application.pk)
    )
    application.scheme = scheme
    step = _transition_from(application, "approve")
    if step is None:
        raise ValidationError({"state": f"申请当前为“{engine.state_label(application)}”，不能批准"})
    if step.get("permission") and not user.has_perm(step["permission"]):
        raise PermissionDenied(f"无权执行“{step['label']}”")
    errors: dict[str, list[str]] = {}
    if granted_amount is None or (isinstance(granted_amount, str) and not granted_amount.strip()):
        granted_amount = application.requested_amount
    amount = collect(errors, "granted_amount", money, granted_amount, "核定额度")
    if amount is not None:
        if amount > application.requested_amount:
            errors.setdefault("granted_amount", []).append(
                f"核定额度 {yuan(amount)}超过申请额度 {yuan(application.requested_amount)}"
            )
        if amount > scheme.cap_per_enterprise:
            errors.setdefault("granted_amount", []).append(
                f"核定额度 {yuan(amount)}超过每家企业上限 {yuan(scheme.cap_per_enterprise)}"
            )
        if scheme.granted + amount > scheme.budget_total:
            errors.setdefault("granted_amount", []).append(
                f"“{scheme}”年度总额度 {yuan(scheme.budget_total)}，已发券 {yuan(scheme.granted)}，"
                f"余额 {yuan(scheme.left)}，不足以核定 {yuan(amount)}"
            )
        over = abuse.over_cap_reason(application, amount)
        cleared = AbuseFlag.objects.filter(
            application=application, kind=FlagKind.OVER_CAP, resolution=FlagResolution.CLEARED
        ).exists()
        if over and not cleared:
            errors.setdefault("granted_amount", []).append(f"{over}；须先有超上限预警并经核实无误后方可批准")
    note = text(note)
    if len(note) > 2000:
        errors.setdefault("note", []).append("审核意见超过 2000 个字符")
    if errors:
        raise ValidationError(errors)
    voucher = Voucher(
        number=voucher_number(scheme),
        application=application,
        scheme=scheme,
        enterprise=application.enterprise,
        amount=amount,
        share_pct=scheme.share_pct,
        issued_at=timezone.now(),
        valid_until=scheme.valid_until,
    )
    history_user(voucher, user).save()
    VoucherScheme.objects.filter(pk=scheme.pk).update(granted=F("granted") + amount)
    # The step itself: refused (and the voucher with it) without the permission or with an open flag.
    engine.take(application, "approve", user, note or f"核定 {yuan(amount)}，发放创新券 {voucher.number}")
    application.granted_amount = amount
    application.decision_note = note
    application.decided_at = voucher.issued_at
    application.decided_by = actor(user)
    history_user(application, user).save(
        update_fields=["granted_amount", "decision_note", "decided_at", "decided_by"]
    )
    return voucher


def application_take(application: VoucherApplication, name: str, *, user, reason: str = ""):
    """A step by name, as the task inbox and the API take it, through the services above."""
    if name in ("submit", "resubmit"):
        return application_submit(application, user=user)
    if name == "approve":
        application_approve(application, note=reason, user=user)
        return _fresh(application)
    if name == "return":
        return application_return(application, reason=reason, user=user)
    if name == "reject":
        return application_reject(application, reason=reason, user=user)
    if name == "withdraw":
        return application_withdraw(application, user=user)
    return engine.take(_fresh(application), name, user, reason)
