"""Docking pages of 双向发榜: the board (one column per state, or the list of one state with paging), one
docking with its steps and notes, and the officers' pages: open demands with no good match yet, and why
dockings failed.

Who may do what: the board and a docking's page — its two sides and officers (matching.view_docking; leaders
read); steps and notes — its two sides and officers holding matching.change_docking; the analysis pages —
matching.view_docking.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.money import yuan_to_wan
from kechuang.enterprises.models import Park
from kechuang.matching import access, selectors, services
from kechuang.matching.forms import NoteForm, StepForm, add_service_errors
from kechuang.matching.models import DeclineReason, Docking, DockingState
from kechuang.matching.workflows import DOCKING_PATH, DOCKING_STEPS, steps_from

PAGE_SIZE = 25
NOT_FOUND = "对接不存在或无权查看"


def _docking(request, pk: int) -> Docking:
    found = (
        access.visible_dockings(request.user)
        .select_related("demand__enterprise__park", "achievement", "talent", "created_by", "tech_contract")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


@login_required
@require_GET
def docking_board(request):
    filters = selectors.DockingFilters.from_params(request.GET)
    context = {
        "filters": filters,
        "fields": list(services.FIELD_LABELS.items()),
        "states": list(selectors.STATE_FILTERS.items()),
        "reasons": list(DeclineReason.choices),
        "parks": Park.objects.order_by("parent_id", "name"),
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
        "officer": request.user.has_perm("matching.view_docking"),
    }
    if filters.state:
        qs = selectors.dockings(filters, user=request.user)
        context["page"] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        context["columns"] = selectors.docking_board(filters, user=request.user)
        context["board_query"] = _query(request, "page", "state")
    return render(request, "matching/docking_board.html", context)


def _detail(request, docking: Docking, *, forms: dict | None = None, status: int = 200):
    user = request.user
    can_act = access.may_act_on_docking(user, docking)
    steps = steps_from(DOCKING_STEPS, docking.state) if can_act else []
    today = timezone.localdate()
    forms = forms or {}
    step_forms = [
        (step, forms.get(step.name) or StepForm(prefix=step.name, initial={"on": today})) for step in steps
    ]
    other = access.counterpart(docking)
    context = {
        "docking": docking,
        "other": other,
        "other_kind": "achievement" if docking.achievement_id else "talent",
        "notes": selectors.docking_notes(docking),
        "path": [(s, services.DOCKING_LABELS[s]) for s in DOCKING_PATH],
        "reached": _reached(docking),
        "can_act": can_act,
        "step_forms": step_forms,
        "note_form": forms.get("note") or NoteForm(initial={"on": today}),
        "open": docking.state not in (DockingState.DECLINED, DockingState.LANDED),
        "sides": access.sides_of(user, docking),
        "terms": docking.explanation.get("terms", []) if isinstance(docking.explanation, dict) else [],
        "explanation": docking.explanation.get("text", "") if isinstance(docking.explanation, dict) else "",
        "field_match": docking.explanation.get("field") if isinstance(docking.explanation, dict) else None,
    }
    context |= _contract(docking, user)
    return render(request, "matching/docking_detail.html", context, status=status)


def _contract(docking: Docking, user) -> dict:
    """The technology contract a signed docking became, or the button that registers one."""
    if docking.tech_contract_id:
        contract = docking.tech_contract
        return {
            "contract": contract,
            "contract_url": reverse("recognitions:contract-detail", args=[contract.pk]),
            "contract_label": f"查看技术合同 {contract.registration_no or contract.contract_no}",
        }
    if services.may_register_contract(user, docking):
        return {
            "contract_url": reverse("matching:docking-contract", args=[docking.pk]),
            "contract_label": "登记为技术合同",
        }
    return {}


# The contract type a cooperation mode suggests (民法典第八百四十三条), with its usual sub-type.
MODE_CONTRACT = {
    "transfer": ("transfer", "patent_right"),
    "licence": ("licence", "patent_licence"),
    "joint": ("development", "cooperative"),
    "equity": ("development", "achievement"),
}


def contract_initial(docking: Docking) -> dict:
    """The registration form prefilled from the docking: seller = the achievement's (or team's) organisation,
    buyer = the demand's enterprise, the amount (万元) and the signing date."""
    other = access.counterpart(docking)
    enterprise = docking.demand.enterprise
    initial = {
        "name": docking.demand.title,
        "seller_name": other.organisation,
        "buyer_name": enterprise.name,
        "buyer_uscc": enterprise.uscc,
        "buyer_region": "310117",
        "buyer_country": "CHN",
        "signed_on": docking.signed_on,
        "valid_from": docking.signed_on,
        "total_amount": yuan_to_wan(docking.contract_amount, 6),
        "tech_amount": yuan_to_wan(docking.contract_amount, 6),
    }
    modes = getattr(other, "cooperation_modes", None) or []
    found = next((MODE_CONTRACT[m] for m in modes if m in MODE_CONTRACT), ("development", "entrusted"))
    initial["contract_type"], initial["sub_type"] = found
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def docking_contract(request, pk: int):
    """登记为技术合同: the registry's own form (recognitions), prefilled from the signed docking."""
    from kechuang.recognitions.forms import ContractForm
    from kechuang.recognitions.forms import add_errors as add_contract_errors

    docking = _docking(request, pk)
    if not all(request.user.has_perm(p) for p in services.CONTRACT_PERMISSIONS):
        raise PermissionDenied("仅技术合同登记机构的科委业务人员可以为对接登记技术合同")
    if not services.may_register_contract(request.user, docking):
        messages.error(request, "该对接尚未签约或已登记技术合同。")
        return redirect("matching:docking-detail", pk=pk)
    form = ContractForm(request.POST or None, initial=contract_initial(docking))
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.docking_contract_register(docking, form.data_for_service(), user=request.user)
        except ValidationError as error:
            add_contract_errors(form, error)
        else:
            messages.success(request, f"已为对接申请技术合同认定登记“{contract.name}”，等待登记。")
            return redirect("recognitions:contract-detail", pk=contract.pk)
    context = {"docking": docking, "form": form, "seller": access.counterpart(docking).organisation}
    return render(request, "matching/contract_form.html", context)


def _reached(docking: Docking) -> set[str]:
    states = {n.state for n in docking.notes.all()} | {docking.state}
    return states


@login_required
@require_GET
def docking_detail(request, pk: int):
    return _detail(request, _docking(request, pk))


@login_required
@require_POST
def docking_step(request, pk: int, name: str):
    docking = _docking(request, pk)
    if name not in DOCKING_STEPS:
        raise Http404("没有这个操作")
    form = StepForm(request.POST, prefix=name)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.docking_step(
                docking,
                name,
                user=request.user,
                on=data["on"],
                text=data["text"],
                amount=data["amount"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"对接已{DOCKING_STEPS[name].label}，双方已收到通知。")
            return redirect("matching:docking-detail", pk=pk)
    return _detail(request, docking, forms={name: form}, status=200)


@login_required
@require_POST
def docking_note(request, pk: int):
    docking = _docking(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.docking_note_add(
                docking, user=request.user, on=form.cleaned_data["on"], text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "对接记录已保存。")
            return redirect("matching:docking-detail", pk=pk)
    return _detail(request, docking, forms={"note": form})


# —— officers' analysis ———————————————————————————————————————————————————————————————————————————————————————


@login_required
@permission_required("matching.view_docking", raise_exception=True)
@require_GET
def unmatched(request):
    field = request.GET.get("field") or ""
    field = field if field in services.FIELD_LABELS else ""
    park = selectors._int(request.GET.get("park"), 1, 2**62)
    rows = selectors.unmatched_demands(field=field, park=park)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "total": len(rows),
        "open_total": selectors.open_demands().count(),
        "field": field,
        "park": park,
        "fields": list(services.FIELD_LABELS.items()),
        "parks": Park.objects.order_by("parent_id", "name"),
        "query": _query(request, "page"),
    }
    return render(request, "matching/unmatched.html", context)


@login_required
@permission_required("matching.view_docking", raise_exception=True)
@require_GET
def declines(request):
    year = selectors._int(request.GET.get("year"), 2000, 2100)
    field = request.GET.get("field") or ""
    field = field if field in services.FIELD_LABELS else ""
    analysis = selectors.decline_analysis(year=year, field=field)
    context = {
        "analysis": analysis,
        "year": year,
        "field": field,
        "fields": list(services.FIELD_LABELS.items()),
        "max_reason": max((count for _, _, count, _ in analysis.reasons), default=0),
    }
    return render(request, "matching/declines.html", context)
