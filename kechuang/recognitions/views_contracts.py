"""技术合同认定登记 pages: the list (search, filters, sorting, paging, totals in 万元) with its .xlsx export, the
application form, a contract's page (parties, amounts, registration, the payment plan and payments, the log),
and the 履约 page of the contracts behind schedule.

Who may do what (the buttons shown follow the same rules; the views check them again):
  list, page, export        recognitions.view_techcontract, in scope (officers and leaders all; an enterprise
                            its own, as seller)
  apply                     recognitions.add_techcontract (an enterprise user for its enterprise; an officer
                            for any seller, typing its name and 统一社会信用代码)
  register / 未予登记 / 注销  recognitions.register_techcontract
  withdraw                  the seller's own users
  payment plan, payments    recognitions.change_paymentmilestone
Reads are in selectors.py, writes in contracts.py.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.recognitions import config, contracts, exporting, selectors
from kechuang.recognitions import workflows as wf
from kechuang.recognitions.choices import TYPE_SOURCES, ContractType, PaymentMode
from kechuang.recognitions.forms import (
    ContractForm,
    PaymentForm,
    PlanFormSet,
    PlanNoteForm,
    ReasonForm,
    RegisterForm,
    add_errors,
    yuan,
)
from kechuang.recognitions.models import PaymentMilestone, TechContract
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog

PAGE_SIZE = 25
VIEW = "recognitions.view_techcontract"
APPLY = "recognitions.add_techcontract"
PAYMENTS = "recognitions.change_paymentmilestone"


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


def _contract(request, pk) -> TechContract:
    """The contract, if the user may see it (404 otherwise: no hint that it exists)."""
    return get_object_or_404(selectors.visible_contracts(request.user), pk=pk)


def _messages_of(error: ValidationError) -> list[str]:
    return list(error.messages)


# —— the list ——————————————————————————————————————————————————————————————————————————————————————


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def contract_list(request):
    states = selectors.states_of(wf.CONTRACT)
    filters = selectors.ContractFilters.from_params(request.GET, states)
    today = timezone.localdate()
    qs = selectors.contracts(filters, user=request.user, on=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(states)
    for c in page.object_list:
        c.state_label = labels.get(c.state, c.state)
    year = today.year
    this_year = selectors.registered_in(year).filter(
        pk__in=selectors.visible_contracts(request.user).values("pk")
    )
    context = {
        "page": page,
        "filters": filters,
        "states": states,
        "types": ContractType.choices,
        "years": selectors.registration_years(),
        "totals": selectors.contract_totals(qs),
        "year": year,
        "year_totals": selectors.contract_totals(this_year),
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
        "export_query": _query(request, "page", "sort", "state"),
        "can_apply": request.user.has_perm(APPLY),
        "notes": config.notes(),
    }
    return render(request, "recognitions/contract_list.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def contract_export(request):
    """The registered contracts the list's filters select (whatever its state filter), as .xlsx."""
    filters = selectors.ContractFilters.from_params(request.GET)
    filters.state = "registered"
    qs = selectors.contracts(filters, user=request.user).order_by("registered_on", "registration_no")
    content = exporting.contracts_xlsx(qs, filters=filters, user=request.user)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    filename = f"技术合同认定登记_{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


# —— applying ————————————————————————————————————————————————————————————————————————————————————————


@login_required
@permission_required(APPLY, raise_exception=True)
@require_http_methods(["GET", "POST"])
def contract_create(request):
    officer = request.user.has_perm(wf.REGISTRY)
    seller = None
    if not officer:
        own = list(selectors.acting_enterprises(request.user)[:2])
        if not own:
            raise PermissionDenied("您的账号未关联企业，不能申请技术合同认定登记")
        seller = own[0]
    if request.method == "POST":
        form = ContractForm(request.POST, seller=seller)
        if form.is_valid():
            try:
                created = contracts.contract_create(
                    form.data_for_service(), user=request.user, enterprise=seller
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"已提交“{created.name}”的认定登记申请，等待登记机构审核。")
                return redirect("recognitions:contract-detail", pk=created.pk)
    else:
        form = ContractForm(seller=seller, initial={"signed_on": timezone.localdate()})
    context = {
        "form": form,
        "seller": seller,
        "type_sources": TYPE_SOURCES,
        "payment_modes": PaymentMode.choices,
        "notes": config.notes(),
    }
    return render(request, "recognitions/contract_form.html", context)


# —— one contract ————————————————————————————————————————————————————————————————————————————————————


def _log(contract: TechContract):
    return (
        TransitionLog.objects.filter(
            content_type=ContentType.objects.get_for_model(TechContract), object_id=contract.pk
        )
        .select_related("actor", "workflow")
        .order_by("-at", "-pk")
    )


def _deadline(contract: TechContract) -> dt.date | None:
    """The registry's decision deadline (config.decision_days() after the application)."""
    if contract.submitted_at is None:
        return None
    return timezone.localtime(contract.submitted_at).date() + dt.timedelta(days=config.decision_days())


def _detail(request, contract: TechContract, *, status: int = 200, **forms_):
    user = request.user
    today = timezone.localdate()
    summary = selectors.payment_summary(contract, today)
    options = {o.name: o for o in engine.options(contract, user)}
    can_plan = user.has_perm(PAYMENTS) and contract.state in contracts.PLANNABLE_STATES
    plan_initial = [
        {"due_date": r.milestone.due_date, "amount": r.milestone.amount / 10000, "note": r.milestone.note}
        for r in summary.rows
    ] or [{"due_date": None, "amount": contract.total_amount / 10000}]
    steps = {t["name"]: t["label"] for t in contract.workflow.definition.get("transitions", [])}
    states = contract.workflow.definition.get("states", {})
    log = [
        {
            "entry": e,
            "action": steps.get(e.transition, e.transition),
            "to_label": states.get(e.to_state, e.to_state),
        }
        for e in _log(contract)
    ]
    context = {
        "contract": contract,
        "state_label": engine.state_label(contract),
        "summary": summary,
        "today": today,
        "options": options,
        "can_register": user.has_perm(wf.REGISTRY) and contract.state == "submitted",
        "can_plan": can_plan and not any(r.milestone.paid_amount for r in summary.rows),
        "can_pay": user.has_perm(PAYMENTS) and contract.state == "registered",
        "register_form": forms_.get("register_form") or RegisterForm(initial={"registered_on": today}),
        "reason_form": forms_.get("reason_form") or ReasonForm(),
        "reason_action": forms_.get("reason_action", ""),
        "plan_formset": forms_.get("plan_formset") or PlanFormSet(prefix="plan", initial=plan_initial),
        "plan_note_form": forms_.get("plan_note_form") or PlanNoteForm(initial={"note": contract.plan_note}),
        "payment_form": forms_.get("payment_form") or PaymentForm(initial={"paid_on": today}),
        "payment_milestone": forms_.get("payment_milestone"),
        "type_source": TYPE_SOURCES.get(contract.contract_type, ""),
        "sub_type_source": contracts.SUB_TYPES.get(contract.contract_type, {}).get(contract.sub_type, ""),
        "deadline": _deadline(contract),
        "log": log,
        "notes": config.notes(),
        "is_officer": user.has_perm(wf.REGISTRY),
    }
    return render(request, "recognitions/contract_detail.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def contract_detail(request, pk):
    return _detail(request, _contract(request, pk))


@login_required
@require_POST
def contract_register(request, pk):
    contract = _contract(request, pk)
    if not request.user.has_perm(wf.REGISTRY):
        raise PermissionDenied("无权办理技术合同认定登记")
    form = RegisterForm(request.POST)
    if form.is_valid():
        try:
            contracts.contract_register(
                contract,
                user=request.user,
                registration_no=form.cleaned_data["registration_no"],
                registered_on=form.cleaned_data["registered_on"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"已登记，合同登记编号 {contract.registration_no}。")
            return redirect("recognitions:contract-detail", pk=contract.pk)
    return _detail(request, contract, register_form=form)


DECISIONS = {
    wf.REFUSE: (contracts.contract_refuse, "已作未予登记处理。"),
    wf.CANCEL: (contracts.contract_cancel, "已注销登记。"),
    wf.WITHDRAW: (contracts.contract_withdraw, "已撤回认定登记申请。"),
}


@login_required
@require_POST
def contract_decide(request, pk, name):
    contract = _contract(request, pk)
    if name not in DECISIONS:
        raise PermissionDenied("没有该操作")
    run, done = DECISIONS[name]
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        run(contract, user=request.user, reason=form.cleaned_data.get("reason", ""))
    except ValidationError as error:
        add_errors(form, error)
        return _detail(request, contract, reason_form=form, reason_action=name)
    messages.success(request, done)
    return redirect("recognitions:contract-detail", pk=contract.pk)


@login_required
@require_POST
def payment_plan(request, pk):
    contract = _contract(request, pk)
    if not request.user.has_perm(PAYMENTS):
        raise PermissionDenied("无权制定付款计划")
    formset = PlanFormSet(request.POST, prefix="plan")
    note_form = PlanNoteForm(request.POST)
    if formset.is_valid() and note_form.is_valid():
        rows = [
            {
                "due_date": f.cleaned_data.get("due_date"),
                "amount": yuan(f.cleaned_data.get("amount")),
                "note": f.cleaned_data.get("note"),
            }
            for f in formset.forms
            if not f.is_blank()
        ]
        try:
            made = contracts.payment_plan_set(
                contract, rows, note=note_form.cleaned_data["note"], user=request.user
            )
        except ValidationError as error:
            add_errors(note_form, error, {"milestones": "note", "state": "note"})
        else:
            messages.success(request, f"付款计划已保存，共 {len(made)} 期。")
            return redirect("recognitions:contract-detail", pk=contract.pk)
    return _detail(request, contract, plan_formset=formset, plan_note_form=note_form)


@login_required
@require_POST
def payment_add(request, pk):
    milestone = get_object_or_404(PaymentMilestone.objects.select_related("contract"), pk=pk)
    contract = _contract(request, milestone.contract_id)
    if not request.user.has_perm(PAYMENTS):
        raise PermissionDenied("无权记录履约付款")
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            contracts.payment_record(
                milestone,
                amount=yuan(form.cleaned_data["amount"]),
                paid_on=form.cleaned_data["paid_on"],
                user=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"已记录第 {milestone.number} 期付款。")
            return redirect("recognitions:contract-detail", pk=contract.pk)
    return _detail(request, contract, payment_form=form, payment_milestone=milestone.pk)


# —— 履约: contracts behind schedule ————————————————————————————————————————————————————————————————————


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def performance(request):
    q = (request.GET.get("q") or "").strip()[:100]
    contract_type = request.GET.get("type") or ""
    sort = request.GET.get("sort") or "since"
    if sort not in selectors.PERFORMANCE_SORTS:
        sort = "since"
    today = timezone.localdate()
    qs = selectors.behind_schedule(request.user, q=q, contract_type=contract_type, sort=sort, on=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for c in page.object_list:
        c.days_overdue = (today - c.first_overdue).days
    context = {
        "page": page,
        "q": q,
        "contract_type": contract_type if contract_type in ContractType.values else "",
        "types": ContractType.choices,
        "filters": {"sort": sort},
        "today": today,
        "count": page.paginator.count,
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
    }
    return render(request, "recognitions/performance.html", context)
