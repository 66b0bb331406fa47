"""立项与经费 pages: the officers' award list (search, filters by call and state, sorting, paging), issuing the
任务书 for an application, and the award page — money summary, milestones with their actions, disbursement
history, expenditure against budget with its form, evaluations, the audit log.

Who may do what (the buttons shown follow the same rules, the views check them again):
  list                          projects.view_award
  award page                    projects.view_award, or a user of the award's enterprise
  issue the 任务书               projects.add_award
  report a milestone            a user of the award's enterprise
  accept / return a milestone   projects.change_milestone
  disburse a tranche            projects.add_disbursement
  report expenditure            a user of the award's enterprise, or projects.add_expenditure
  record an evaluation          projects.add_evaluation
Reads are in money_selectors.py, writes in money.py.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms import formset_factory
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.widgets import IsoDateInput
from kechuang.projects import money, money_selectors
from kechuang.projects.models import (
    Application,
    Award,
    BudgetCategory,
    BudgetLine,
    EvaluationKind,
    Milestone,
    MilestoneState,
)
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog

PAGE_SIZE = 25
MONEY_FIELD = {"max_digits": 16, "decimal_places": 2}

# --- forms ---------------------------------------------------------------------------------------------------


class AwardForm(forms.Form):
    contract_no = forms.CharField(label="任务书编号", max_length=40)
    amount = forms.DecimalField(label="资助金额（元）", **MONEY_FIELD)
    start_date = forms.DateField(label="开始日期", widget=IsoDateInput())
    end_date = forms.DateField(label="结束日期", widget=IsoDateInput())


class MilestoneForm(forms.Form):
    """One row of the 任务书's milestones; a row left wholly blank is ignored."""

    title = forms.CharField(label="节点", max_length=200, required=False)
    deliverables = forms.CharField(label="交付物", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_date = forms.DateField(label="计划完成", required=False, widget=IsoDateInput())
    tranche = forms.DecimalField(label="对应拨款（元）", required=False, **MONEY_FIELD)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(
            data.get(k) not in (None, "") for k in ("title", "deliverables", "due_date", "tranche")
        )


MilestoneFormSet = formset_factory(MilestoneForm, extra=6, max_num=24, validate_max=True)


class ReportForm(forms.Form):
    text = forms.CharField(label="节点报告", widget=forms.Textarea(attrs={"rows": 3}))


class ReturnForm(forms.Form):
    reason = forms.CharField(label="退回原因", widget=forms.Textarea(attrs={"rows": 2}))


class DisburseForm(forms.Form):
    voucher_no = forms.CharField(label="凭证号", max_length=40, required=False)


class ExpenditureForm(forms.Form):
    period_end = forms.DateField(label="截至日期", widget=IsoDateInput())
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for category, label in BudgetCategory.choices:
            self.fields[category] = forms.DecimalField(
                label=f"{label}（元）", required=False, max_digits=16, decimal_places=2
            )
        self.order_fields(["period_end", *BudgetCategory.values, "note"])

    def amounts(self) -> dict:
        return {
            c: self.cleaned_data[c] for c in BudgetCategory.values if self.cleaned_data.get(c) is not None
        }


class EvaluationForm(forms.Form):
    kind = forms.ChoiceField(label="类别", choices=EvaluationKind.choices)
    held_on = forms.DateField(label="日期", widget=IsoDateInput())
    conclusion = forms.CharField(
        label="结论", max_length=20, help_text="如 通过、不通过、优秀、良好、合格、不合格"
    )
    score = forms.DecimalField(label="评价得分（0–100）", required=False, max_digits=5, decimal_places=2)
    patents = forms.IntegerField(label="专利（件）", required=False)
    revenue = forms.DecimalField(label="新增销售收入（元）", required=False, **MONEY_FIELD)
    jobs = forms.IntegerField(label="新增就业（人）", required=False)
    opinion = forms.CharField(label="意见", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = kinds


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError onto the form: under the field it names, else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages_ in error.message_dict.items():
        form.add_error(key if key in form.fields else None, messages_)


def _flat(error: ValidationError) -> list[str]:
    return list(error.messages)


# --- permissions -----------------------------------------------------------------------------------------------


def _award(request, pk) -> Award:
    """The award, if the user may see it (404 otherwise: no hint that it exists)."""
    return get_object_or_404(money_selectors.visible_awards(request.user), pk=pk)


def _milestone(request, pk) -> Milestone:
    m = get_object_or_404(Milestone.objects.select_related("award"), pk=pk)
    _award(request, m.award_id)
    return m


def _require(user, award: Award, action: str) -> None:
    if not money_selectors.award_permissions(user, award)[action]:
        raise PermissionDenied("无权执行该操作")


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


# --- the list ---------------------------------------------------------------------------------------------------


@login_required
@permission_required(money_selectors.VIEW_ALL, raise_exception=True)
@require_GET
def award_list(request):
    filters = money_selectors.AwardFilters.from_params(request.GET)
    qs = money_selectors.awards(filters, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for a in page.object_list:
        a.state_label = engine.state_label(a)
    context = {
        "page": page,
        "filters": filters,
        "totals": money_selectors.totals(qs),
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
    }
    if request.headers.get("HX-Request"):
        return render(request, "projects/money/partials/award_table.html", context)
    context |= {"calls": money_selectors.award_calls(), "states": money_selectors.award_states()}
    return render(request, "projects/money/award_list.html", context)


# --- issuing the 任务书 ------------------------------------------------------------------------------------------


@login_required
@permission_required("projects.add_award", raise_exception=True)
@require_http_methods(["GET", "POST"])
def award_create(request, application_pk):
    application = get_object_or_404(
        Application.objects.select_related("call", "enterprise", "workflow"), pk=application_pk
    )
    existing = Award.objects.filter(application=application).first()
    if existing:
        messages.info(request, f"该申报已立项（任务书 {existing.contract_no}）。")
        return redirect("projects:award-detail", pk=existing.pk)
    if request.method == "POST":
        form = AwardForm(request.POST)
        formset = MilestoneFormSet(request.POST, prefix="m")
        if form.is_valid() and formset.is_valid():
            rows = [f.cleaned_data for f in formset.forms if not f.is_blank()]
            try:
                created = money.award(application, **form.cleaned_data, milestones=rows, user=request.user)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, f"已下达任务书 {created.contract_no}，资助 {money.yuan(created.amount)}。"
                )
                return redirect("projects:award-detail", pk=created.pk)
    else:
        form = AwardForm(initial={"amount": application.requested_amount})
        formset = MilestoneFormSet(prefix="m")
    context = {
        "application": application,
        "application_state": engine.state_label(application),
        "awardable": application.state in money.AWARDABLE_STATES,
        "budget_lines": sorted(
            BudgetLine.objects.filter(application=application),
            key=lambda line: BudgetCategory.values.index(line.category),
        ),
        "form": form,
        "formset": formset,
    }
    return render(request, "projects/money/award_form.html", context)


# --- the award page ---------------------------------------------------------------------------------------------


def _log(award: Award):
    milestone_ids = list(award.milestones.values_list("pk", flat=True))
    return (
        TransitionLog.objects.filter(
            Q(content_type=ContentType.objects.get_for_model(Award), object_id=award.pk)
            | Q(content_type=ContentType.objects.get_for_model(Milestone), object_id__in=milestone_ids)
        )
        .select_related("actor", "content_type", "workflow")
        .order_by("-at", "-pk")
    )


MILESTONE_STEPS = {
    "report_milestone": "提交节点报告",
    "accept_milestone": "验收通过",
    "return_milestone": "退回修改",
}


def _log_rows(award: Award) -> list[dict]:
    """The award's workflow steps and its milestones' steps, newest first, in words."""
    numbers = dict(award.milestones.values_list("pk", "number"))
    definition = award.workflow.definition
    award_steps = {t["name"]: t["label"] for t in definition.get("transitions", [])}
    rows = []
    for e in _log(award):
        if e.content_type.model == "milestone":
            number = numbers.get(e.object_id)
            rows.append(
                {
                    "entry": e,
                    "what": f"第 {number} 个节点" if number else "节点",
                    "action": MILESTONE_STEPS.get(e.transition, e.transition),
                    "to_label": MilestoneState(e.to_state).label
                    if e.to_state in MilestoneState.values
                    else e.to_state,
                }
            )
        else:
            states = e.workflow.definition.get("states", {})
            rows.append(
                {
                    "entry": e,
                    "what": "项目",
                    "action": award_steps.get(e.transition, e.transition),
                    "to_label": states.get(e.to_state, e.to_state),
                }
            )
    return rows


def _detail(request, award: Award, *, milestone_errors=None, drafts=None, **forms_):
    can = money_selectors.award_permissions(request.user, award)
    done = set(award.evaluations.values_list("kind", flat=True))
    open_kinds = [(k, label) for k, label in EvaluationKind.choices if k not in done]
    summary = money_selectors.money_summary(award)
    for row in summary.milestones:
        row.errors = (milestone_errors or {}).get(row.milestone.pk, [])
        row.draft = (drafts or {}).get(row.milestone.pk, "")
    context = {
        "award": award,
        "application": award.application,
        "state_label": engine.state_label(award),
        "summary": summary,
        "spending": money_selectors.expenditure_vs_budget(award),
        "evaluations": award.evaluations.order_by("held_on", "pk"),
        "can": can,
        "is_officer": request.user.has_perm(money_selectors.VIEW_ALL),
        "expenditure_form": forms_.get("expenditure_form") or ExpenditureForm(),
        "evaluation_form": forms_.get("evaluation_form") or EvaluationForm(kinds=open_kinds),
        "open_kinds": open_kinds,
        "log": _log_rows(award),
    }
    return render(request, "projects/money/award_detail.html", context)


@login_required
@require_GET
def award_detail(request, pk):
    return _detail(request, _award(request, pk))


def _milestone_action(request, pk, action: str, run, *, form_class=None, draft_field=None):
    m = _milestone(request, pk)
    award = m.award
    _require(request.user, award, action)
    data = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            errors = [f"{form.fields[k].label}：{e}" for k, es in form.errors.items() for e in es]
            return _detail(
                request,
                award,
                milestone_errors={m.pk: errors},
                drafts={m.pk: request.POST.get(draft_field, "")} if draft_field else {},
            )
        data = form.cleaned_data
    try:
        message = run(m, data)
    except ValidationError as error:
        return _detail(
            request,
            award,
            milestone_errors={m.pk: _flat(error)},
            drafts={m.pk: request.POST.get(draft_field, "")} if draft_field else {},
        )
    messages.success(request, message)
    return redirect("projects:award-detail", pk=award.pk)


@login_required
@require_POST
def milestone_report(request, pk):
    def run(m, data):
        money.report_milestone(m, data["text"], request.user)
        return f"第 {m.number} 个节点报告已提交，等待验收。"

    return _milestone_action(request, pk, "report", run, form_class=ReportForm, draft_field="text")


@login_required
@require_POST
def milestone_accept(request, pk):
    def run(m, data):
        money.accept_milestone(m, request.user)
        return f"第 {m.number} 个节点已验收。"

    return _milestone_action(request, pk, "review", run)


@login_required
@require_POST
def milestone_return(request, pk):
    def run(m, data):
        money.return_milestone(m, data["reason"], request.user)
        return f"第 {m.number} 个节点已退回修改。"

    return _milestone_action(request, pk, "review", run, form_class=ReturnForm, draft_field="reason")


@login_required
@require_POST
def milestone_disburse(request, pk):
    def run(m, data):
        payment = money.disburse(m, user=request.user, voucher_no=data.get("voucher_no", ""))
        return f"第 {m.number} 个节点已拨付 {money.yuan(payment.amount)}。"

    return _milestone_action(request, pk, "disburse", run, form_class=DisburseForm)


@login_required
@require_POST
def expenditure_report(request, pk):
    award = _award(request, pk)
    _require(request.user, award, "expend")
    form = ExpenditureForm(request.POST)
    if form.is_valid():
        try:
            warnings = money.report_expenditure(
                award,
                form.cleaned_data["period_end"],
                form.amounts(),
                request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"截至 {form.cleaned_data['period_end']} 的经费支出已保存。")
            for warning in warnings:
                messages.warning(request, warning)
            return redirect("projects:award-detail", pk=award.pk)
    return _detail(request, award, expenditure_form=form)


@login_required
@require_POST
def evaluation_add(request, pk):
    award = _award(request, pk)
    _require(request.user, award, "evaluate")
    form = EvaluationForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        kind = data.pop("kind")
        try:
            record = money.evaluate(award, kind, **data, user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{record.get_kind_display()}已记录：{record.conclusion}。")
            return redirect("projects:award-detail", pk=award.pk)
    return _detail(request, award, evaluation_form=form)
