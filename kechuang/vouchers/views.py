"""科技创新券 pages: the schemes with their budget used and left, the provider catalogue, an enterprise's
applications and vouchers with their balance, the application page (the officer's decision on it), the
redemption form and page (the officer's verification), the officers' queues (applications, redemptions, abuse
flags) and settlement with its payment list.

Who may do what (the buttons shown follow the same rules; the services check them again):
  schemes                      vouchers.view_voucherscheme; create/change vouchers.add_/change_voucherscheme
  catalogue                    vouchers.view_provider; keep it vouchers.add_/change_provider, add_providerservice
  an enterprise's vouchers     whoever may see the enterprise and holds vouchers.view_voucher
  apply                        vouchers.add_voucherapplication and a user of the enterprise
  decide an application        approve vouchers.add_voucher, return/reject vouchers.change_voucherapplication
  enter a redemption           vouchers.add_redemption: a user of the provider (服务机构), or an officer for any
  verify / refuse              vouchers.change_redemption
  resolve an abuse flag        vouchers.change_abuseflag
  settle                       vouchers.add_settlement; settlements seen by officers, leaders and the provider
Reads are in selectors.py; writes in services.py, redemptions.py, abuse.py, settlement.py.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.enterprises.access import enterprise_for_user
from kechuang.enterprises.models import Enterprise
from kechuang.vouchers import abuse, redemptions, selectors, services, settlement
from kechuang.vouchers.forms import (
    ApplicationForm,
    ApproveForm,
    FlagResolveForm,
    ProviderForm,
    ReasonForm,
    RedemptionForm,
    SchemeForm,
    ServiceForm,
    SettlementForm,
    add_errors,
)
from kechuang.vouchers.models import (
    AbuseFlag,
    FlagKind,
    FlagResolution,
    Provider,
    ProviderKind,
    ProviderState,
    Redemption,
    SchemeState,
    VoucherApplication,
    VoucherScheme,
)
from kechuang.vouchers.parsing import yuan
from kechuang.vouchers.workflows import APPLICATION, APPROVE, DECIDE, REDEMPTION, SETTLE, VERIFY
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog

PAGE_SIZE = 25


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


def _page(request, qs, size: int = PAGE_SIZE):
    page = Paginator(qs, size).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


def _log(obj, *, opened: tuple | None = None) -> list[dict]:
    """The object's workflow steps, oldest first, in words (labels of the version each was taken under).
    `opened`: (when, who, action, state) of a creation the workflow does not log (a redemption starts 待核验)."""
    entries = (
        TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
        .select_related("actor", "workflow")
        .order_by("at", "pk")
    )
    rows = []
    if opened is not None:
        at, actor, action, to_label = opened
        rows.append({"at": at, "actor": actor, "action": action, "to_label": to_label, "reason": ""})
    for e in entries:
        definition = e.workflow.definition
        labels = {t["name"]: t["label"] for t in definition.get("transitions", [])}
        rows.append(
            {
                "at": e.at,
                "actor": e.actor,
                "action": labels.get(e.transition, e.transition),
                "to_label": definition.get("states", {}).get(e.to_state, e.to_state),
                "reason": e.reason,
            }
        )
    return rows


def _flash_errors(request, error: ValidationError, prefix: str = "") -> None:
    messages.error(request, prefix + "；".join(error.messages))


# --- schemes ---------------------------------------------------------------------------------------------------------


@login_required
@permission_required("vouchers.view_voucherscheme", raise_exception=True)
@require_GET
def scheme_list(request):
    user = request.user
    context = {
        "figures": selectors.scheme_figures(),
        "is_officer": user.has_perm(DECIDE),
        "can_add": user.has_perm("vouchers.add_voucherscheme"),
        "can_change": user.has_perm("vouchers.change_voucherscheme"),
        "my_enterprises": Enterprise.objects.filter(pk__in=selectors.member_enterprise_ids(user)),
        "my_providers": Provider.objects.filter(pk__in=selectors.member_provider_ids(user)),
        "open_flags": sum(selectors.open_flag_counts().values())
        if user.has_perm("vouchers.view_abuseflag")
        else 0,
    }
    return render(request, "vouchers/scheme_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def scheme_edit(request, pk=None):
    scheme = get_object_or_404(VoucherScheme, pk=pk) if pk else None
    if not request.user.has_perm("vouchers.change_voucherscheme" if scheme else "vouchers.add_voucherscheme"):
        raise PermissionDenied("无权维护创新券年度方案")
    if request.method == "POST":
        form = SchemeForm(request.POST)
        if form.is_valid():
            try:
                saved = services.scheme_save(scheme=scheme, **form.cleaned_data, user=request.user)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"已保存“{saved}”。")
                return redirect("vouchers:schemes")
    elif scheme:
        form = SchemeForm(
            initial={f: getattr(scheme, f) for f in SchemeForm.base_fields if hasattr(scheme, f)}
        )
    else:
        today = timezone.localdate()
        form = SchemeForm(initial={"year": today.year, "share_pct": 50})
    return render(request, "vouchers/scheme_form.html", {"form": form, "scheme": scheme})


@login_required
@permission_required("vouchers.change_voucherscheme", raise_exception=True)
@require_POST
def scheme_state(request, pk):
    scheme = get_object_or_404(VoucherScheme, pk=pk)
    try:
        services.scheme_set_state(scheme, request.POST.get("state", ""), user=request.user)
    except ValidationError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, f"“{scheme}”现为“{scheme.get_state_display()}”。")
    return redirect("vouchers:schemes")


# --- the provider catalogue ----------------------------------------------------------------------------------------


@login_required
@permission_required("vouchers.view_provider", raise_exception=True)
@require_GET
def provider_list(request):
    filters = selectors.ProviderFilters.from_params(request.GET)
    officer = request.user.has_perm("vouchers.change_provider")
    page = _page(request, selectors.providers(filters, listed_only=not officer))
    context = {
        "page": page,
        "filters": filters,
        "kinds": ProviderKind.choices,
        "states": ProviderState.choices,
        "officer": officer,
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
    }
    if request.headers.get("HX-Request"):
        return render(request, "vouchers/partials/provider_table.html", context)
    return render(request, "vouchers/provider_list.html", context)


def _provider(request, pk) -> Provider:
    provider = get_object_or_404(Provider, pk=pk)
    if provider.state != ProviderState.LISTED and not request.user.has_perm("vouchers.change_provider"):
        raise Http404("服务机构不存在或已暂停")
    return provider


@login_required
@permission_required("vouchers.view_provider", raise_exception=True)
@require_GET
def provider_detail(request, pk, *, service_form=None, suspend_form=None):
    provider = _provider(request, pk)
    user = request.user
    context = {
        "provider": provider,
        "services": provider.services.order_by("-active", "name"),
        "officer": user.has_perm("vouchers.change_provider"),
        "can_add_service": user.has_perm("vouchers.add_providerservice"),
        "service_form": service_form or ServiceForm(initial={"category": provider.kind}),
        "suspend_form": suspend_form or ReasonForm(),
        "redemption_count": Redemption.objects.filter(provider=provider).count(),
        "show_phone": user.has_perm("vouchers.change_provider"),
    }
    return render(request, "vouchers/provider_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit(request, pk=None):
    provider = get_object_or_404(Provider, pk=pk) if pk else None
    if not request.user.has_perm("vouchers.change_provider" if provider else "vouchers.add_provider"):
        raise PermissionDenied("无权维护服务机构")
    if request.method == "POST":
        form = ProviderForm(request.POST)
        if form.is_valid():
            try:
                saved = services.provider_save(provider=provider, **form.cleaned_data, user=request.user)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"已保存服务机构“{saved.name}”。")
                return redirect("vouchers:provider-detail", pk=saved.pk)
    else:
        form = ProviderForm(
            initial={f: getattr(provider, f) for f in ProviderForm.base_fields} if provider else None
        )
    return render(request, "vouchers/provider_form.html", {"form": form, "provider": provider})


@login_required
@permission_required("vouchers.change_provider", raise_exception=True)
@require_POST
def provider_suspend(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.provider_suspend(provider, reason=form.cleaned_data["reason"], user=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"已暂停服务机构“{provider.name}”：此后向其兑付将被拒绝。")
            return redirect("vouchers:provider-detail", pk=provider.pk)
    return provider_detail(request, pk, suspend_form=form)


@login_required
@permission_required("vouchers.change_provider", raise_exception=True)
@require_POST
def provider_relist(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    try:
        services.provider_relist(provider, user=request.user)
    except ValidationError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, f"服务机构“{provider.name}”已恢复在册。")
    return redirect("vouchers:provider-detail", pk=provider.pk)


@login_required
@permission_required("vouchers.add_providerservice", raise_exception=True)
@require_POST
def service_create(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    form = ServiceForm(request.POST)
    if form.is_valid():
        try:
            service = services.service_save(provider=provider, **form.cleaned_data, user=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"已添加服务“{service.name}”。")
            return redirect("vouchers:provider-detail", pk=provider.pk)
    return provider_detail(request, pk, service_form=form)


# --- an enterprise's vouchers ---------------------------------------------------------------------------------------


@login_required
@permission_required("vouchers.view_voucher", raise_exception=True)
@require_GET
def enterprise_vouchers(request, pk):
    enterprise = enterprise_for_user(request.user, pk)
    applications = list(
        VoucherApplication.objects.filter(enterprise=enterprise)
        .select_related("scheme", "workflow")
        .order_by("-created_at", "-pk")
    )
    for a in applications:
        a.state_label = engine.state_label(a)
    member = enterprise.pk in selectors.member_enterprise_ids(request.user)
    context = {
        "enterprise": enterprise,
        "applications": applications,
        "vouchers": selectors.enterprise_vouchers(enterprise),
        "can_apply": member
        and request.user.has_perm("vouchers.add_voucherapplication")
        and any(s.is_accepting() for s in VoucherScheme.objects.filter(state=SchemeState.OPEN)),
    }
    return render(request, "vouchers/enterprise_vouchers.html", context)


def _accepting_schemes():
    today = timezone.localdate()
    return VoucherScheme.objects.filter(state=SchemeState.OPEN, opens_on__lte=today, closes_on__gte=today)


@login_required
@permission_required("vouchers.add_voucherapplication", raise_exception=True)
@require_http_methods(["GET", "POST"])
def application_create(request, enterprise_pk):
    enterprise = enterprise_for_user(request.user, enterprise_pk)
    if enterprise.pk not in selectors.member_enterprise_ids(request.user):
        raise PermissionDenied(f"仅{enterprise.name}的用户可以申请其创新券")
    schemes = _accepting_schemes()
    if request.method == "POST":
        form = ApplicationForm(request.POST, schemes=schemes)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                application = services.application_save(
                    enterprise=enterprise,
                    scheme=data.pop("scheme"),
                    **data,
                    user=request.user,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, "申请已保存为草稿，核对无误后请提交。")
                return redirect("vouchers:application-detail", pk=application.pk)
    else:
        first = schemes.first()
        form = ApplicationForm(
            schemes=schemes, initial={"requested_amount": first.cap_per_enterprise if first else None}
        )
    return render(
        request,
        "vouchers/application_form.html",
        {"form": form, "enterprise": enterprise, "schemes": list(schemes), "application": None},
    )


def _application(request, pk) -> VoucherApplication:
    """Scope first (404 outside it), then the permission to read applications (403)."""
    application = get_object_or_404(selectors.visible_applications(request.user), pk=pk)
    if not request.user.has_perm("vouchers.view_voucherapplication"):
        raise PermissionDenied("无权查看创新券申请")
    return application


@login_required
@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    application = _application(request, pk)
    if application.enterprise_id not in selectors.member_enterprise_ids(request.user):
        raise PermissionDenied(f"仅{application.enterprise.name}的用户可以修改其申请")
    schemes = VoucherScheme.objects.filter(pk=application.scheme_id)
    if request.method == "POST":
        form = ApplicationForm(request.POST, schemes=schemes)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("scheme")
            try:
                services.application_save(application=application, **data, user=request.user)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, "申请已保存。")
                return redirect("vouchers:application-detail", pk=application.pk)
    else:
        form = ApplicationForm(
            schemes=schemes,
            initial={
                "scheme": application.scheme,
                "requested_amount": application.requested_amount,
                "purpose": application.purpose,
                "planned_services": list(application.planned_services.all()),
            },
        )
    return render(
        request,
        "vouchers/application_form.html",
        {
            "form": form,
            "enterprise": application.enterprise,
            "schemes": list(schemes),
            "application": application,
        },
    )


def _application_page(request, application, *, approve_form=None, reason_form=None, flag_forms=None):
    user = request.user
    options = engine.options(application, user)
    member = application.enterprise_id in selectors.member_enterprise_ids(user)
    scheme = application.scheme
    context = {
        "application": application,
        "state_label": engine.state_label(application),
        "options": [o for o in options if o.name in ("submit", "resubmit", "withdraw")],
        "member": member,
        "editable": member and application.state in services.EDITABLE,
        "can_decide": application.state == "submitted" and (user.has_perm(APPROVE) or user.has_perm(DECIDE)),
        "can_approve": user.has_perm(APPROVE),
        "approve_form": approve_form or ApproveForm(initial={"granted_amount": application.requested_amount}),
        "reason_form": reason_form or ReasonForm(),
        "flags": application.flags.select_related("resolved_by").order_by("raised_at", "pk"),
        "flag_forms": flag_forms or {},
        "can_resolve": user.has_perm("vouchers.change_abuseflag"),
        "voucher": getattr(application, "voucher", None) if application.state == "approved" else None,
        "year_held": abuse.year_granted(application.enterprise_id, scheme.year, excluding=application),
        "planned": application.planned_services.select_related("provider"),
        "log": _log(application),
    }
    return render(request, "vouchers/application_detail.html", context)


@login_required
@require_GET
def application_detail(request, pk):
    return _application_page(request, _application(request, pk))


@login_required
@require_POST
def application_step(request, pk):
    """The applicant's steps: 提交 / 修改后重新提交 / 撤回."""
    application = _application(request, pk)
    name = request.POST.get("transition", "")
    if name not in ("submit", "resubmit", "withdraw"):
        raise Http404("没有该操作")
    try:
        services.application_take(application, name, user=request.user)
    except ValidationError as error:
        _flash_errors(request, error, "未能办理：")
    else:
        application.refresh_from_db()
        messages.success(request, f"申请现为“{engine.state_label(application)}”。")
    return redirect("vouchers:application-detail", pk=application.pk)


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def application_approve(request, pk):
    application = _application(request, pk)
    form = ApproveForm(request.POST)
    if form.is_valid():
        try:
            voucher = services.application_approve(
                application,
                granted_amount=form.cleaned_data["granted_amount"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"已批准，发放创新券 {voucher.number}，额度 {yuan(voucher.amount)}。")
            return redirect("vouchers:application-detail", pk=application.pk)
    return _application_page(request, application, approve_form=form)


def _decision(request, pk, run, done: str):
    application = _application(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            run(application, reason=form.cleaned_data["reason"], user=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("vouchers:application-detail", pk=application.pk)
    return _application_page(request, application, reason_form=form)


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def application_return(request, pk):
    return _decision(request, pk, services.application_return, "申请已退回修改。")


@login_required
@permission_required(DECIDE, raise_exception=True)
@require_POST
def application_reject(request, pk):
    return _decision(request, pk, services.application_reject, "申请不予批准。")


@login_required
@require_GET
def application_list(request):
    if not (request.user.has_perm(DECIDE) or request.user.has_perm("vouchers.view_voucherapplication")):
        raise PermissionDenied("无权查看创新券申请")
    states = selectors.workflow_states(APPLICATION)
    filters = selectors.ApplicationFilters.from_params(request.GET, states)
    page = _page(request, selectors.applications(filters, user=request.user))
    for a in page.object_list:
        a.state_label = engine.state_label(a)
    context = {
        "page": page,
        "filters": filters,
        "states": states,
        "schemes": VoucherScheme.objects.order_by("-year", "name"),
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
    }
    return render(request, "vouchers/application_list.html", context)


# --- vouchers and redemptions ---------------------------------------------------------------------------------------


@login_required
@require_GET
def voucher_detail(request, pk):
    voucher = get_object_or_404(selectors.visible_vouchers(request.user), pk=pk)
    if not request.user.has_perm("vouchers.view_voucher"):
        raise PermissionDenied("无权查看创新券")
    rows = list(
        Redemption.objects.filter(voucher=voucher)
        .select_related("provider", "service", "workflow")
        .order_by("-submitted_at", "-pk")
    )
    for r in rows:
        r.state_label = engine.state_label(r)
    return render(request, "vouchers/voucher_detail.html", {"voucher": voucher, "redemptions": rows})


def _entering_provider(user) -> Provider | None:
    """The provider a 服务机构 user enters redemptions for (its first), or None for an officer."""
    if user.has_perm(VERIFY):
        return None
    provider = Provider.objects.filter(pk__in=selectors.member_provider_ids(user)).order_by("pk").first()
    if provider is None:
        raise PermissionDenied("您的账号未关联服务机构，不能提交兑付")
    return provider


@login_required
@permission_required(redemptions.ENTER, raise_exception=True)
@require_http_methods(["GET", "POST"])
def redemption_create(request):
    own = _entering_provider(request.user)
    providers = Provider.objects.filter(state=ProviderState.LISTED).order_by("name")
    if request.method == "POST":
        form = RedemptionForm(request.POST, provider=own, providers=providers)
        if form.is_valid():
            data = dict(form.cleaned_data)
            provider = own or data.pop("provider")
            try:
                redemption = redemptions.redeem(provider=provider, **data, user=request.user)
            except ValidationError as error:
                add_errors(form, error)
            else:
                flags = list(redemption.flags.all())
                messages.success(
                    request,
                    f"兑付 #{redemption.pk} 已提交：创新券 {redemption.voucher.number} 抵扣 "
                    f"{yuan(redemption.voucher_part)}，余额 {yuan(redemption.voucher.balance)}，等待科委核验。",
                )
                for flag in flags:
                    messages.warning(request, f"异常预警（{flag.get_kind_display()}）：{flag.reason}")
                return redirect("vouchers:redemption-detail", pk=redemption.pk)
    else:
        initial = {"invoice_date": timezone.localdate()}
        for key in ("voucher_number", "enterprise_uscc"):
            if request.GET.get(key):
                initial[key] = request.GET[key][:40]
        form = RedemptionForm(provider=own, providers=providers, initial=initial)
    return render(request, "vouchers/redemption_form.html", {"form": form, "own": own})


def _redemption(request, pk) -> Redemption:
    redemption = get_object_or_404(selectors.visible_redemptions(request.user), pk=pk)
    if not (
        request.user.has_perm("vouchers.view_redemption") or request.user.has_perm("vouchers.view_voucher")
    ):
        raise PermissionDenied("无权查看创新券兑付")
    return redemption


def _redemption_page(request, redemption, *, reason_form=None, flag_forms=None):
    user = request.user
    context = {
        "r": redemption,
        "voucher": redemption.voucher,
        "state_label": engine.state_label(redemption),
        "can_verify": user.has_perm(VERIFY) and redemption.state == "submitted",
        "can_refuse": user.has_perm(VERIFY) and redemption.state in ("submitted", "verified"),
        "verify_refusal": next(
            (o.reason for o in engine.options(redemption, user) if o.name == "verify" and not o.allowed), ""
        ),
        "reason_form": reason_form or ReasonForm(),
        "flags": redemption.flags.select_related("resolved_by").order_by("raised_at", "pk"),
        "flag_forms": flag_forms or {},
        "can_resolve": user.has_perm("vouchers.change_abuseflag"),
        "line": getattr(redemption, "settlement_line", None) if redemption.state == "settled" else None,
        "log": _log(
            redemption,
            opened=(
                redemption.submitted_at,
                redemption.submitted_by,
                "提交兑付",
                redemption.workflow.definition["states"].get(redemption.workflow.definition["initial"], ""),
            ),
        ),
    }
    return render(request, "vouchers/redemption_detail.html", context)


@login_required
@require_GET
def redemption_detail(request, pk):
    return _redemption_page(request, _redemption(request, pk))


@login_required
@permission_required(VERIFY, raise_exception=True)
@require_POST
def redemption_verify(request, pk):
    redemption = _redemption(request, pk)
    try:
        redemptions.redemption_verify(redemption, user=request.user, note=request.POST.get("note", ""))
    except ValidationError as error:
        _flash_errors(request, error, "未能核验：")
    else:
        messages.success(request, f"兑付 #{redemption.pk} 已核验通过，待结算。")
    return redirect("vouchers:redemption-detail", pk=redemption.pk)


@login_required
@permission_required(VERIFY, raise_exception=True)
@require_POST
def redemption_refuse(request, pk):
    redemption = _redemption(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            done = redemptions.redemption_refuse(
                redemption, reason=form.cleaned_data["reason"], user=request.user
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                f"兑付 #{done.pk} 不予兑付：{yuan(done.voucher_part)}已退回创新券 {done.voucher.number}"
                f"（余额 {yuan(done.voucher.balance)}）。",
            )
            return redirect("vouchers:redemption-detail", pk=redemption.pk)
    return _redemption_page(request, redemption, reason_form=form)


@login_required
@require_GET
def redemption_list(request):
    if not request.user.has_perm("vouchers.view_redemption"):
        raise PermissionDenied("无权查看创新券兑付")
    states = selectors.workflow_states(REDEMPTION)
    filters = selectors.RedemptionFilters.from_params(request.GET, states)
    qs = selectors.redemptions(filters, user=request.user)
    page = _page(request, qs)
    for r in page.object_list:
        r.state_label = engine.state_label(r)
    context = {
        "page": page,
        "filters": filters,
        "states": states,
        "totals": selectors.totals(qs),
        "providers": Provider.objects.filter(
            pk__in=selectors.visible_redemptions(request.user).values("provider")
        ).order_by("name"),
        "can_enter": request.user.has_perm(redemptions.ENTER),
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
    }
    return render(request, "vouchers/redemption_list.html", context)


# --- abuse flags ----------------------------------------------------------------------------------------------------


@login_required
@permission_required("vouchers.view_abuseflag", raise_exception=True)
@require_GET
def flag_list(request):
    filters = selectors.FlagFilters.from_params(request.GET)
    page = _page(request, selectors.flags(filters, user=request.user))
    counts = selectors.open_flag_counts()
    context = {
        "page": page,
        "filters": filters,
        "kinds": FlagKind.choices,
        "resolutions": [(v, label) for v, label in FlagResolution.choices if v],
        "counts": [(v, label, counts.get(v, 0)) for v, label in FlagKind.choices],
        "can_resolve": request.user.has_perm("vouchers.change_abuseflag"),
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
    }
    return render(request, "vouchers/flag_list.html", context)


@login_required
@permission_required("vouchers.change_abuseflag", raise_exception=True)
@require_POST
def flag_resolve(request, pk):
    visible = selectors.flags(selectors.FlagFilters(resolution="all"), user=request.user)
    flag = get_object_or_404(visible, pk=pk)
    form = FlagResolveForm(request.POST)
    if form.is_valid():
        try:
            abuse.flag_resolve(
                flag,
                upheld=form.cleaned_data["decision"] == "upheld",
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            flag.refresh_from_db()
            messages.success(
                request, f"预警“{flag.get_kind_display()}”已处理为“{flag.get_resolution_display()}”。"
            )
            return redirect(_flag_target_url(flag))
    forms_ = {flag.pk: form}
    if flag.redemption_id:
        return _redemption_page(request, _redemption(request, flag.redemption_id), flag_forms=forms_)
    return _application_page(request, _application(request, flag.application_id), flag_forms=forms_)


def _flag_target_url(flag: AbuseFlag) -> str:
    from django.urls import reverse

    if flag.redemption_id:
        return reverse("vouchers:redemption-detail", args=[flag.redemption_id])
    return reverse("vouchers:application-detail", args=[flag.application_id])


# --- settlement -----------------------------------------------------------------------------------------------------


@login_required
@permission_required("vouchers.view_settlement", raise_exception=True)
@require_GET
def settlement_list(request):
    qs = selectors.visible_settlements(request.user)
    provider = request.GET.get("provider", "")
    if provider.isdigit():
        qs = qs.filter(provider_id=int(provider))
    sort = request.GET.get("sort", "-created")
    orders = {
        "created": ("created_at", "pk"),
        "-created": ("-created_at", "-pk"),
        "total": ("total", "pk"),
        "-total": ("-total", "-pk"),
        "paid": ("paid_on", "pk"),
        "-paid": ("-paid_on", "-pk"),
    }
    if sort not in orders:
        sort = "-created"
    page = _page(request, qs.order_by(*orders[sort]))
    context = {
        "page": page,
        "filters": {"provider": provider, "sort": sort},
        "providers": Provider.objects.filter(pk__in=qs.values("provider")).order_by("name"),
        "can_settle": request.user.has_perm(SETTLE),
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
    }
    return render(request, "vouchers/settlement_list.html", context)


@login_required
@permission_required(SETTLE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def settlement_create(request):
    """GET with a provider and period shows what would be settled; POST settles it."""
    data = (
        request.POST if request.method == "POST" else (request.GET if request.GET.get("provider") else None)
    )
    today = timezone.localdate()
    form = SettlementForm(
        data, initial={"period_start": today.replace(day=1), "period_end": today, "paid_on": today}
    )
    rows, total = [], None
    if data is not None and form.is_valid():
        d = form.cleaned_data
        if request.method == "POST":
            try:
                done = settlement.settle(
                    provider=d["provider"],
                    period_start=d["period_start"],
                    period_end=d["period_end"],
                    paid_on=d["paid_on"],
                    voucher_no=d["voucher_no"],
                    user=request.user,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request,
                    f"已结算：向“{done.provider.name}”支付 {yuan(done.total)}（{done.lines.count()} 笔兑付）。",
                )
                return redirect("vouchers:settlement-detail", pk=done.pk)
        if d["period_end"] >= d["period_start"]:
            rows = list(settlement.candidates(d["provider"], d["period_start"], d["period_end"]))
            total = sum((r.voucher_part for r in rows), Decimal("0")) if rows else None
    waiting = (
        Redemption.objects.filter(state="verified", settlement_line__isnull=True)
        .values("provider", "provider__name")
        .order_by("provider__name")
        .distinct()
    )
    context = {"form": form, "rows": rows, "total": total, "previewed": data is not None, "waiting": waiting}
    return render(request, "vouchers/settlement_form.html", context)


def _settlement(request, pk):
    return get_object_or_404(selectors.visible_settlements(request.user), pk=pk)


@login_required
@require_GET
def settlement_detail(request, pk):
    s = _settlement(request, pk)
    lines = s.lines.select_related("redemption__voucher__enterprise", "redemption__service").order_by(
        "redemption__verified_at", "redemption_id"
    )
    return render(request, "vouchers/settlement_detail.html", {"s": s, "lines": lines})


@login_required
@require_GET
def settlement_xlsx(request, pk):
    s = _settlement(request, pk)
    response = HttpResponse(settlement.payment_list_xlsx(s), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="voucher-settlement-{s.pk}.xlsx"'
    return response
