"""The voucher API (mounted at /api/vouchers): schemes, the provider catalogue, applications and their decision,
vouchers, redemptions and their verification, abuse flags, settlements.

Thin: every write is the service the pages call (services.py, redemptions.py, abuse.py, settlement.py); a refusal
is the service's ValidationError, answered 422 with its Chinese messages (kechuang.core.api_errors), and nothing is
changed. Scope first, then permission: an object outside the user's scope is 404, in scope without the permission
403, anonymous 401.

  schemes        vouchers.view_voucherscheme
  providers      vouchers.view_provider (suspended ones only for vouchers.change_provider)
  applications   scope: the enterprises the user may see; read vouchers.view_voucherapplication; create: a user of
                 the enterprise with vouchers.add_voucherapplication; steps: the workflow's own permissions
                 (submit/resubmit/withdraw the applicant, return/reject vouchers.change_voucherapplication);
                 approve vouchers.add_voucher
  vouchers       scope as applications; vouchers.view_voucher
  redemptions    scope: the vouchers' enterprises the user may see, and its provider's; read vouchers.view_redemption
                 or vouchers.view_voucher; create vouchers.add_redemption (a provider's user for its provider, an
                 officer for any); verify/refuse vouchers.change_redemption
  flags          vouchers.view_abuseflag; resolve vouchers.change_abuseflag
  settlements    scope: officers and leaders all, a provider's users their provider's; vouchers.view_settlement;
                 create vouchers.add_settlement
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Query, Router, Status

from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.enterprises.access import enterprise_for_user
from kechuang.vouchers import abuse, redemptions, schemas, selectors, services, settlement
from kechuang.vouchers.models import (
    AbuseFlag,
    Provider,
    ProviderService,
    ProviderState,
    Redemption,
    Settlement,
    Voucher,
    VoucherApplication,
    VoucherScheme,
)
from kechuang.vouchers.workflows import APPLICATION, APPROVE, REDEMPTION
from kechuang.workflows import engine

router = Router(tags=["科技创新券"])

MAX_LIMIT = 500
R401 = {401: Message}
GUARDED = {**R401, 403: Message}
ONE = {**GUARDED, 404: Message}
WRITE = {**ONE, 422: ValidationErrors}
LIST = {**GUARDED, 422: ValidationErrors}

APPLICATION_STEPS = ("submit", "resubmit", "return", "reject", "withdraw")
REDEMPTION_STEPS = ("verify", "refuse")


def _require(request, permission: str, message: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(message)


def _window(qs, limit: int, offset: int):
    return list(qs[offset : offset + min(limit, MAX_LIMIT)])


def _transitions(obj, user) -> list[dict]:
    return [
        {"name": o.name, "label": o.label, "to": o.to, "allowed": o.allowed, "reason": o.reason}
        for o in engine.options(obj, user)
        if not o.reason.startswith("无权")
    ]


# --- schemes and the catalogue ----------------------------------------------------------------------------------


def _scheme_out(f: selectors.SchemeFigures) -> dict:
    s = f.scheme
    return {
        "id": s.pk,
        "year": s.year,
        "name": s.name,
        "state": s.state,
        "state_display": s.get_state_display(),
        "budget_total": s.budget_total,
        "granted": s.granted,
        "left": f.left,
        "used": f.used,
        "settled": f.settled,
        "cap_per_enterprise": s.cap_per_enterprise,
        "share_pct": s.share_pct,
        "opens_on": s.opens_on,
        "closes_on": s.closes_on,
        "valid_until": s.valid_until,
    }


@router.get(
    "/schemes",
    response={200: schemas.SchemePage, **GUARDED},
    summary="年度方案及其额度使用",
    operation_id="vouchers_scheme_list",
)
def scheme_list(request):
    """每个年度方案的年度总额度、已发券、剩余可发、已兑付、已结算（元）。"""
    _require(request, "vouchers.view_voucherscheme", "无权查看创新券年度方案")
    items = [_scheme_out(f) for f in selectors.scheme_figures()]
    return {"items": items, "count": len(items)}


@router.get(
    "/schemes/{int:scheme_id}",
    response={200: schemas.SchemeOut, **ONE},
    summary="一个年度方案",
    operation_id="vouchers_scheme_retrieve",
)
def scheme_retrieve(request, scheme_id: int):
    _require(request, "vouchers.view_voucherscheme", "无权查看创新券年度方案")
    found = selectors.scheme_figures(VoucherScheme.objects.filter(pk=scheme_id))
    if not found:
        raise Http404("年度方案不存在")
    return _scheme_out(found[0])


def _provider_out(p: Provider, *, all_services: bool = False) -> dict:
    services_ = p.services.all() if all_services else p.services.filter(active=True)
    return {
        "id": p.pk,
        "name": p.name,
        "uscc": p.uscc,
        "kind": p.kind,
        "kind_display": p.get_kind_display(),
        "state": p.state,
        "legal_representative": p.legal_representative,
        "address": p.address,
        "services": [
            {
                "id": s.pk,
                "name": s.name,
                "category": s.category,
                "unit_price": s.unit_price,
                "unit": s.unit,
                "description": s.description,
                "active": s.active,
            }
            for s in services_.order_by("name")
        ],
    }


@router.get(
    "/providers",
    response={200: schemas.ProviderPage, **LIST},
    summary="服务机构目录",
    operation_id="vouchers_provider_list",
)
def provider_list(request, filters: Query[schemas.ProviderFilters]):
    """在册服务机构（科委业务人员还看到暂停的），按名称排列；可按名称、代码、地址或服务名称搜索，按类别筛选。"""
    _require(request, "vouchers.view_provider", "无权查看服务机构目录")
    officer = request.user.has_perm("vouchers.change_provider")
    wanted = selectors.ProviderFilters.from_params({"q": filters.q, "kind": filters.kind})
    qs = selectors.providers(wanted, listed_only=not officer)
    return {
        "items": [_provider_out(p) for p in _window(qs, filters.limit, filters.offset)],
        "count": qs.count(),
    }


@router.get(
    "/providers/{int:provider_id}",
    response={200: schemas.ProviderOut, **ONE},
    summary="一家服务机构及其服务",
    operation_id="vouchers_provider_retrieve",
)
def provider_retrieve(request, provider_id: int):
    _require(request, "vouchers.view_provider", "无权查看服务机构目录")
    provider = Provider.objects.filter(pk=provider_id).first()
    officer = request.user.has_perm("vouchers.change_provider")
    if provider is None or (provider.state != ProviderState.LISTED and not officer):
        raise Http404("服务机构不存在或已暂停")
    return _provider_out(provider, all_services=officer)


# --- applications -------------------------------------------------------------------------------------------------


def _application(request, application_id: int) -> VoucherApplication:
    found = selectors.visible_applications(request.user).filter(pk=application_id).first()
    if found is None:
        raise Http404("创新券申请不存在或无权查看")
    return found


def _application_out(a: VoucherApplication, user) -> dict:
    voucher = Voucher.objects.filter(application=a).first()
    return {
        "id": a.pk,
        "scheme_id": a.scheme_id,
        "scheme": str(a.scheme),
        "enterprise_id": a.enterprise_id,
        "enterprise_name": a.enterprise.name,
        "requested_amount": a.requested_amount,
        "granted_amount": a.granted_amount,
        "purpose": a.purpose,
        "planned_service_ids": sorted(a.planned_services.values_list("pk", flat=True)),
        "state": a.state,
        "state_display": engine.state_label(a),
        "submitted_at": a.submitted_at,
        "decision_note": a.decision_note,
        "voucher_number": voucher.number if voucher else None,
        "open_flags": a.flags.filter(resolution="").count(),
        "transitions": _transitions(a, user),
    }


@router.get(
    "/applications",
    response={200: schemas.ApplicationPage, **LIST},
    summary="创新券申请",
    operation_id="vouchers_application_list",
)
def application_list(request, page: Query[schemas.PageQuery], state: str = "", scheme: int | None = None):
    """当前用户可见企业的申请（企业用户：本企业），最近提交的在前；可按状态、年度方案筛选。"""
    _require(request, "vouchers.view_voucherapplication", "无权查看创新券申请")
    states = selectors.workflow_states(APPLICATION)
    filters = selectors.ApplicationFilters.from_params({"state": state, "scheme": str(scheme or "")}, states)
    qs = selectors.applications(filters, user=request.user)
    return {
        "items": [_application_out(a, request.user) for a in _window(qs, page.limit, page.offset)],
        "count": qs.count(),
    }


@router.get(
    "/applications/{int:application_id}",
    response={200: schemas.ApplicationOut, **ONE},
    summary="一份创新券申请",
    operation_id="vouchers_application_retrieve",
)
def application_retrieve(request, application_id: int):
    application = _application(request, application_id)
    _require(request, "vouchers.view_voucherapplication", "无权查看创新券申请")
    return _application_out(application, request.user)


@router.post(
    "/applications",
    response={201: schemas.ApplicationOut, **WRITE},
    summary="新建创新券申请（草稿）",
    operation_id="vouchers_application_create",
)
def application_create(request, payload: schemas.ApplicationIn):
    """企业用户为本企业新建申请（草稿）；提交用 POST /applications/{id}/transitions/submit。"""
    _require(request, "vouchers.add_voucherapplication", "无权申请创新券")
    enterprise = enterprise_for_user(request.user, payload.enterprise_id)
    if enterprise.pk not in selectors.member_enterprise_ids(request.user):
        raise PermissionDenied(f"仅{enterprise.name}的用户可以申请其创新券")
    scheme = VoucherScheme.objects.filter(pk=payload.scheme_id).first()
    if scheme is None:
        raise Http404("年度方案不存在")
    application = services.application_save(
        enterprise=enterprise,
        scheme=scheme,
        requested_amount=payload.requested_amount,
        purpose=payload.purpose,
        planned_services=payload.planned_service_ids,
        user=request.user,
    )
    return Status(201, _application_out(application, request.user))


@router.post(
    "/applications/{int:application_id}/transitions/{name}",
    response={200: schemas.ApplicationOut, **WRITE},
    summary="申请的流程操作：提交、重新提交、退回、不予批准、撤回",
    operation_id="vouchers_application_transition",
)
def application_transition(request, application_id: int, name: str, payload: schemas.VoucherReasonIn):
    """name：submit、resubmit（申请企业的用户）；return、reject（科委，须写理由）；withdraw（申请企业的用户）。
    批准用 POST /applications/{id}/approve。"""
    application = _application(request, application_id)
    if name not in APPLICATION_STEPS:
        raise Http404(f"没有操作 {name}（可用：{'、'.join(APPLICATION_STEPS)}；批准用 …/approve）")
    services.application_take(application, name, user=request.user, reason=payload.reason)
    return _application_out(_application(request, application_id), request.user)


@router.post(
    "/applications/{int:application_id}/approve",
    response={200: schemas.VoucherOut, **WRITE},
    summary="批准并发放创新券（科委）",
    operation_id="vouchers_application_approve",
)
def application_approve(request, application_id: int, payload: schemas.ApproveIn):
    """核定额度（默认申请额度；不超过申请额度和每家企业上限，以年度总额度余额为限）并发放创新券。
    有未处理的异常预警时为 422。"""
    application = _application(request, application_id)
    _require(request, APPROVE, "无权批准创新券申请")
    voucher = services.application_approve(
        application, granted_amount=payload.granted_amount, note=payload.note, user=request.user
    )
    return _voucher_out(voucher)


# --- vouchers -----------------------------------------------------------------------------------------------------


def _voucher_out(v: Voucher) -> dict:
    return {
        "id": v.pk,
        "number": v.number,
        "scheme_id": v.scheme_id,
        "enterprise_id": v.enterprise_id,
        "enterprise_name": v.enterprise.name,
        "amount": v.amount,
        "used": v.used,
        "balance": v.balance,
        "share_pct": v.share_pct,
        "issued_at": v.issued_at,
        "valid_until": v.valid_until,
        "expired": v.is_expired(),
    }


@router.get(
    "/vouchers",
    response={200: schemas.VoucherPage, **LIST},
    summary="创新券",
    operation_id="vouchers_voucher_list",
)
def voucher_list(request, page: Query[schemas.PageQuery], enterprise: int | None = None):
    _require(request, "vouchers.view_voucher", "无权查看创新券")
    qs = selectors.visible_vouchers(request.user).order_by("-issued_at", "-pk")
    if enterprise is not None:
        qs = qs.filter(enterprise_id=enterprise)
    return {"items": [_voucher_out(v) for v in _window(qs, page.limit, page.offset)], "count": qs.count()}


@router.get(
    "/vouchers/{int:voucher_id}",
    response={200: schemas.VoucherOut, **ONE},
    summary="一张创新券（含余额）",
    operation_id="vouchers_voucher_retrieve",
)
def voucher_retrieve(request, voucher_id: int):
    voucher = selectors.visible_vouchers(request.user).filter(pk=voucher_id).first()
    if voucher is None:
        raise Http404("创新券不存在或无权查看")
    _require(request, "vouchers.view_voucher", "无权查看创新券")
    return _voucher_out(voucher)


# --- redemptions --------------------------------------------------------------------------------------------------


def _flag_out(f: AbuseFlag) -> dict:
    return {
        "id": f.pk,
        "kind": f.kind,
        "kind_display": f.get_kind_display(),
        "reason": f.reason,
        "raised_at": f.raised_at,
        "resolution": f.resolution,
        "resolution_display": f.get_resolution_display(),
        "resolved_at": f.resolved_at,
        "resolution_note": f.resolution_note,
        "redemption_id": f.redemption_id,
        "application_id": f.application_id,
    }


def _redemption_out(r: Redemption, user) -> dict:
    return {
        "id": r.pk,
        "voucher_number": r.voucher.number,
        "enterprise_id": r.voucher.enterprise_id,
        "enterprise_name": r.voucher.enterprise.name,
        "provider_id": r.provider_id,
        "provider_name": r.provider.name,
        "service_id": r.service_id,
        "service_name": r.service.name,
        "contract_no": r.contract_no,
        "contract_amount": r.contract_amount,
        "invoice_no": r.invoice_no,
        "invoice_date": r.invoice_date,
        "invoice_amount": r.invoice_amount,
        "voucher_part": r.voucher_part,
        "state": r.state,
        "state_display": engine.state_label(r),
        "submitted_at": r.submitted_at,
        "verified_at": r.verified_at,
        "refusal_reason": r.refusal_reason,
        "flags": [_flag_out(f) for f in r.flags.order_by("raised_at", "pk")],
        "transitions": _transitions(r, user),
    }


def _may_read_redemptions(request) -> None:
    if not (
        request.user.has_perm("vouchers.view_redemption") or request.user.has_perm("vouchers.view_voucher")
    ):
        raise PermissionDenied("无权查看创新券兑付")


def _redemption(request, redemption_id: int) -> Redemption:
    found = selectors.visible_redemptions(request.user).filter(pk=redemption_id).first()
    if found is None:
        raise Http404("兑付不存在或无权查看")
    return found


@router.get(
    "/redemptions",
    response={200: schemas.RedemptionPage, **LIST},
    summary="创新券兑付",
    operation_id="vouchers_redemption_list",
)
def redemption_list(
    request, page: Query[schemas.PageQuery], state: str = "", provider: int | None = None, q: str = ""
):
    """可见的兑付（服务机构用户：本机构的；企业用户：本企业创新券的），最近提交的在前。"""
    _may_read_redemptions(request)
    filters = selectors.RedemptionFilters.from_params(
        {"state": state, "provider": str(provider or ""), "q": q}, selectors.workflow_states(REDEMPTION)
    )
    qs = selectors.redemptions(filters, user=request.user)
    return {
        "items": [_redemption_out(r, request.user) for r in _window(qs, page.limit, page.offset)],
        "count": qs.count(),
    }


@router.get(
    "/redemptions/{int:redemption_id}",
    response={200: schemas.RedemptionOut, **ONE},
    summary="一笔兑付（含预警）",
    operation_id="vouchers_redemption_retrieve",
)
def redemption_retrieve(request, redemption_id: int):
    redemption = _redemption(request, redemption_id)
    _may_read_redemptions(request)
    return _redemption_out(redemption, request.user)


@router.post(
    "/redemptions",
    response={201: schemas.RedemptionOut, **WRITE},
    summary="提交兑付（服务机构）",
    operation_id="vouchers_redemption_create",
)
def redemption_create(request, payload: schemas.RedemptionIn):
    """服务机构凭服务合同和发票提交兑付。超出余额、发票已兑付、创新券到期、机构暂停、机构未提供该服务等为 422
    （中文说明，未作任何修改）；关联方、疑似重复发票、超上限、短时集中兑付等只预警（见返回的 flags）。"""
    _require(request, redemptions.ENTER, "无权提交兑付")
    if payload.provider_id is None:
        provider = (
            Provider.objects.filter(pk__in=selectors.member_provider_ids(request.user)).order_by("pk").first()
        )
        if provider is None:
            raise PermissionDenied("未指定服务机构，且您的账号未关联服务机构")
    else:
        provider = Provider.objects.filter(pk=payload.provider_id).first()
        if provider is None:
            raise Http404("服务机构不存在")
    data = payload.model_dump()
    data.pop("provider_id")
    service = ProviderService.objects.filter(pk=data.pop("service_id")).first()
    redemption = redemptions.redeem(provider=provider, service=service, **data, user=request.user)
    return Status(201, _redemption_out(_redemption(request, redemption.pk), request.user))


@router.post(
    "/redemptions/{int:redemption_id}/transitions/{name}",
    response={200: schemas.RedemptionOut, **WRITE},
    summary="兑付的流程操作：核验通过、不予兑付（科委）",
    operation_id="vouchers_redemption_transition",
)
def redemption_transition(request, redemption_id: int, name: str, payload: schemas.VoucherReasonIn):
    """name：verify（有未处理预警时为 422）、refuse（须写理由；抵扣额退回创新券余额）。"""
    redemption = _redemption(request, redemption_id)
    if name not in REDEMPTION_STEPS:
        raise Http404(f"没有操作 {name}（可用：{'、'.join(REDEMPTION_STEPS)}；结算用 POST /settlements）")
    redemptions.redemption_take(redemption, name, user=request.user, reason=payload.reason)
    return _redemption_out(_redemption(request, redemption_id), request.user)


# --- flags --------------------------------------------------------------------------------------------------------


@router.get(
    "/flags", response={200: schemas.FlagPage, **LIST}, summary="异常预警", operation_id="vouchers_flag_list"
)
def flag_list(request, page: Query[schemas.PageQuery], resolution: str = "open", kind: str = ""):
    """resolution：open（默认，待处理）、cleared、upheld、closed、all。"""
    _require(request, "vouchers.view_abuseflag", "无权查看异常预警")
    filters = selectors.FlagFilters.from_params({"resolution": resolution, "kind": kind})
    qs = selectors.flags(filters, user=request.user)
    return {"items": [_flag_out(f) for f in _window(qs, page.limit, page.offset)], "count": qs.count()}


@router.post(
    "/flags/{int:flag_id}/resolve",
    response={200: schemas.FlagOut, **WRITE},
    summary="处理异常预警（科委）",
    operation_id="vouchers_flag_resolve",
)
def flag_resolve(request, flag_id: int, payload: schemas.FlagResolveIn):
    flag = (
        selectors.flags(selectors.FlagFilters(resolution="all"), user=request.user).filter(pk=flag_id).first()
    )
    if flag is None:
        raise Http404("预警不存在或无权查看")
    _require(request, "vouchers.change_abuseflag", "无权处理异常预警")
    return _flag_out(abuse.flag_resolve(flag, upheld=payload.upheld, note=payload.note, user=request.user))


# --- settlements --------------------------------------------------------------------------------------------------


def _settlement_out(s: Settlement) -> dict:
    return {
        "id": s.pk,
        "provider_id": s.provider_id,
        "provider_name": s.provider.name,
        "period_start": s.period_start,
        "period_end": s.period_end,
        "total": s.total,
        "paid_on": s.paid_on,
        "voucher_no": s.voucher_no,
        "redemption_ids": sorted(s.lines.values_list("redemption_id", flat=True)),
    }


@router.get(
    "/settlements",
    response={200: schemas.SettlementPage, **LIST},
    summary="结算",
    operation_id="vouchers_settlement_list",
)
def settlement_list(request, page: Query[schemas.PageQuery], provider: int | None = None):
    _require(request, "vouchers.view_settlement", "无权查看结算")
    qs = selectors.visible_settlements(request.user).order_by("-created_at", "-pk")
    if provider is not None:
        qs = qs.filter(provider_id=provider)
    return {"items": [_settlement_out(s) for s in _window(qs, page.limit, page.offset)], "count": qs.count()}


@router.get(
    "/settlements/{int:settlement_id}",
    response={200: schemas.SettlementOut, **ONE},
    summary="一次结算",
    operation_id="vouchers_settlement_retrieve",
)
def settlement_retrieve(request, settlement_id: int):
    found = selectors.visible_settlements(request.user).filter(pk=settlement_id).first()
    if found is None:
        raise Http404("结算不存在或无权查看")
    return _settlement_out(found)


@router.post(
    "/settlements",
    response={201: schemas.SettlementOut, **WRITE},
    summary="办理结算（科委）",
    operation_id="vouchers_settlement_create",
)
def settlement_create(request, payload: schemas.SettlementIn):
    """把服务机构在核验期间（按核验日期，含两端）已核验、未结算的兑付一次结清；每笔兑付只结算一次。"""
    _require(request, "vouchers.add_settlement", "无权办理结算")
    provider = Provider.objects.filter(pk=payload.provider_id).first()
    if provider is None:
        raise Http404("服务机构不存在")
    done = settlement.settle(
        provider=provider,
        period_start=payload.period_start,
        period_end=payload.period_end,
        paid_on=payload.paid_on,
        voucher_no=payload.voucher_no,
        user=request.user,
    )
    return Status(201, _settlement_out(done))
