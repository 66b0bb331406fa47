"""评审 pages (urls_review.py, included by the lead under the namespace "projects").

Officers (科委业务人员):
- review/experts/ — the expert pool: search, filter by field, pages of 20, each expert's recorded conflicts.
- review/calls/<pk>/assign/ — a call's assignments; 生成推荐方案 shows every proposed expert with its reason,
  确认分配 writes exactly the proposal shown (the seed and a fingerprint are kept in the session; if anything
  changed meanwhile, the officer is asked to generate again). A withdrawn expert can be replaced (补充专家).
- review/calls/<pk>/ranking/ — the ranking (trimmed mean, n, min/max, outliers flagged), sortable, pages of 100.
- review/applications/<pk>/ — one application's reviews: every expert's scores, total, outlier flag.
Experts (专家, linked by Expert.user):
- review/inbox/ — their assignments; review/inbox/<pk>/ the application and the score form built from the
  call's score sheet; accept, or declare a conflict (withdraw). An expert never sees an application it has a
  conflict with, nor another expert's assignment (404).
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.enterprises.choices import HitechField
from kechuang.projects import applications, review, review_selectors
from kechuang.projects.models import Application, AssignmentState, Call, ReviewAssignment
from kechuang.workflows import engine

EXPERT_PAGE_SIZE = 20
ASSIGN_PAGE_SIZE = 50
RANKING_PAGE_SIZE = 100
SESSION_KEY = "review-proposal-{pk}"
PROPOSAL_CHANGED = "推荐方案生成后评审名单或专家库已有变化，请重新生成并核对后再确认。"
NO_PROPOSAL = "请先生成推荐方案，核对后再确认。"
NOT_AN_EXPERT = "您的账号未登记为评审专家"


def _messages_of(error: ValidationError) -> list[str]:
    return (
        [m for values in error.message_dict.values() for m in values]
        if hasattr(error, "error_dict")
        else error.messages
    )


# —— 专家库 ————————————————————————————————————————————————————————————————————————————————————————————


@login_required
@permission_required("projects.view_expert", raise_exception=True)
@require_GET
def expert_list(request):
    q = request.GET.get("q", "").strip()
    field_code = request.GET.get("field", "")
    if field_code not in dict(HitechField.choices):
        field_code = ""
    inactive = request.GET.get("inactive") == "1"
    experts = review_selectors.expert_pool(q=q, field_code=field_code, include_inactive=inactive)
    page = Paginator(experts, EXPERT_PAGE_SIZE).get_page(request.GET.get("page"))
    for expert in page.object_list:
        expert.field_names = [review.field_label(str(code)) for code in expert.fields or []]
    query = urlencode(
        {k: v for k, v in (("q", q), ("field", field_code), ("inactive", "1" if inactive else "")) if v}
    )
    return render(
        request,
        "projects/review/expert_list.html",
        {
            "page": page,
            "q": q,
            "field": field_code,
            "inactive": inactive,
            "fields": HitechField.choices,
            "query": query,
        },
    )


# —— 分配 ——————————————————————————————————————————————————————————————————————————————————————————————


def _assignment_rows(call: Call):
    """The applications of the call in review states or already assigned, with their assignments."""
    return (
        Application.objects.filter(call=call)
        .filter(
            Q(state__in=review.DEFAULT_STATES)
            | Q(pk__in=ReviewAssignment.objects.filter(application__call=call).values("application_id"))
        )
        .select_related("enterprise", "workflow")
        .prefetch_related(
            Prefetch("assignments", queryset=ReviewAssignment.objects.select_related("expert").order_by("pk"))
        )
        .order_by("submitted_at", "pk")
    )


@login_required
@permission_required("projects.add_reviewassignment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def call_assign(request, pk: int):
    call = get_object_or_404(Call, pk=pk)
    key = SESSION_KEY.format(pk=call.pk)
    proposal = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "propose":
            seed = secrets.randbelow(10**9)
            proposal = review.propose(call, seed=seed)
            request.session[key] = {"seed": seed, "digest": proposal.digest()}
            if not proposal:
                messages.info(request, "没有需要分配专家的申报：每项已有足额专家，或尚无通过形式审查的申报。")
                return redirect("projects:review-call", pk=call.pk)
        elif action == "confirm":
            kept = request.session.get(key)
            if not kept:
                messages.error(request, NO_PROPOSAL)
                return redirect("projects:review-call", pk=call.pk)
            again = review.propose(call, seed=kept["seed"])
            if again.digest() != kept["digest"]:
                messages.error(request, PROPOSAL_CHANGED)
                return redirect("projects:review-call", pk=call.pk)
            try:
                created = review.assign(call, again, request.user)
            except ValidationError as error:
                for message in _messages_of(error):
                    messages.error(request, message)
                return redirect("projects:review-call", pk=call.pk)
            del request.session[key]
            messages.success(request, f"已分配 {len(created)} 人次评审专家，涉及 {len(again)} 项申报。")
            return redirect("projects:review-call", pk=call.pk)
        else:
            raise Http404("未知操作")
    page = Paginator(_assignment_rows(call), ASSIGN_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "call": call,
        "page": page,
        "proposal": proposal,
        "proposal_rows": [
            (
                proposal.applications[app_id],
                review.field_label(proposal.applications[app_id].field),
                picks,
                proposal.notes.get(app_id),
                proposal.already.get(app_id, 0),
            )
            for app_id, picks in proposal.items()
        ]
        if proposal
        else [],
        "short": len(proposal.notes) if proposal else 0,
    }
    for application in page.object_list:
        application.state_label = application.workflow.definition.get("states", {}).get(
            application.state, application.state
        )
    return render(request, "projects/review/call_assign.html", context)


@login_required
@permission_required("projects.add_reviewassignment", raise_exception=True)
@require_POST
def assignment_replace(request, pk: int):
    assignment = get_object_or_404(ReviewAssignment.objects.select_related("application__call"), pk=pk)
    call = assignment.application.call
    try:
        proposal = review.replace(assignment, seed=secrets.randbelow(10**9))
        if not proposal.count:
            note = proposal.notes.get(assignment.application_id, "该项申报的专家已足额")
            messages.warning(request, f"未能补充专家：{note}")
        else:
            created = review.assign(call, proposal, request.user)
            picks = proposal[assignment.application_id]
            names = "；".join(f"{expert.name}（{reason}）" for expert, reason in picks)
            messages.success(
                request, f"已为“{assignment.application.title}”补充 {len(created)} 名专家：{names}"
            )
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
    return redirect("projects:review-call", pk=call.pk)


# —— 排名与评审意见 ——————————————————————————————————————————————————————————————————————————————————


SORT_COLUMNS = [
    ("rank", "排名"),
    ("title", "项目名称"),
    ("enterprise", "申报单位"),
    ("n", "已评专家"),
    ("mean", "得分（去极值均分）"),
    ("low", "最低"),
    ("high", "最高"),
    ("spread", "极差"),
    ("outliers", "偏离专家"),
]


def _sorted(rows, sort: str):
    """Rows by a column (`-column` descending), the unscored ones last either way; ties keep the ranking order."""
    if sort.lstrip("-") not in review_selectors.RANK_VALUES:
        return rows, "rank"
    return review_selectors.sorted_ranking(rows, sort), sort


@login_required
@permission_required("projects.view_score", raise_exception=True)
@require_GET
def ranking(request, pk: int):
    call = get_object_or_404(Call, pk=pk)
    try:
        rows = review_selectors.call_ranking(call)
    except ValidationError as error:
        messages.error(request, "；".join(_messages_of(error)))
        rows = []
    rows, sort = _sorted(rows, request.GET.get("sort", "rank"))
    page = Paginator(rows, RANKING_PAGE_SIZE).get_page(request.GET.get("page"))
    states = engine.current(applications.WORKFLOW).definition["states"]
    for row in page.object_list:
        row.state_label = states.get(row.application.state, row.application.state)
    context = {
        "call": call,
        "page": page,
        "sort": sort,
        "sort_columns": SORT_COLUMNS,
        "scored": sum(1 for r in rows if r.n),
        "flagged": sum(1 for r in rows if r.outliers),
        "trim_from": review.TRIM_FROM,
        "outlier_points": review.OUTLIER_POINTS,
        "query": urlencode({"sort": sort}) if sort != "rank" else "",
    }
    return render(request, "projects/review/ranking.html", context)


@login_required
@permission_required("projects.view_score", raise_exception=True)
@require_GET
def application_reviews(request, pk: int):
    application = get_object_or_404(Application.objects.select_related("call", "enterprise"), pk=pk)
    try:
        found = review_selectors.application_reviews(application)
    except ValidationError as error:
        raise Http404("；".join(_messages_of(error))) from None
    context = {
        "application": application,
        "found": found,
        "trim_from": review.TRIM_FROM,
        "outlier_points": review.OUTLIER_POINTS,
        "field_label": review.field_label(application.field),
    }
    return render(request, "projects/review/application.html", context)


# —— 专家本人 ——————————————————————————————————————————————————————————————————————————————————————————


def _expert_of(user):
    try:
        return user.expert
    except ObjectDoesNotExist:
        raise Http404(NOT_AN_EXPERT) from None


def _own(request, pk):
    assignment = review_selectors.expert_assignment(_expert_of(request.user), pk)
    if assignment is None:
        raise Http404("评审任务不存在或无权查看")
    return assignment


@login_required
@permission_required("projects.view_reviewassignment", raise_exception=True)
@require_GET
def inbox(request):
    expert = _expert_of(request.user)
    found = review_selectors.expert_assignments(expert)
    waiting = [a for a in found.assignments if a.state != AssignmentState.SUBMITTED]
    done = [a for a in found.assignments if a.state == AssignmentState.SUBMITTED]
    return render(
        request,
        "projects/review/inbox.html",
        {"expert": expert, "waiting": waiting, "done": done, "hidden": found.hidden},
    )


class ScoreForm(forms.Form):
    comment = forms.CharField(
        label="评审意见", required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )

    def __init__(self, *args, sheet: list[review.Criterion], **kwargs):
        super().__init__(*args, **kwargs)
        self.sheet = sheet
        scored = {}
        for c in sheet:
            scored[f"score_{c.key}"] = forms.CharField(
                label=c.label,
                required=False,
                help_text=f"0–{review._plain(c.max)} 分，权重 {review._plain(c.weight)}",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "data-max": review._plain(c.max)}),
            )
        self.fields = {**scored, **self.fields}

    def values(self) -> dict[str, str]:
        return {c.key: self.cleaned_data.get(f"score_{c.key}", "") for c in self.sheet}


def _answer(field: dict, value, attachments: dict) -> str:
    """An answer as the applicant gave it, in words: a file by its title (not its id), 是/否, choices joined,
    money in 元."""
    if field.get("type") == "file":
        found = attachments.get(value)
        return f"附件：{found.title}（{filesizeformat(found.file.size)}）" if found else "附件已删除"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field.get("type") == "money":
        try:
            return f"{Decimal(str(value)):,.2f} 元"
        except InvalidOperation:
            return str(value)
    return str(value)


def _application_sections(application: Application):
    """The call's form with this application's answers, for the expert to read: the sections shown for its
    answers only (a conditional section left hidden is not part of the application)."""
    data = application.data or {}
    attachments = {a.pk: a for a in application.attachments.all()}
    sections = []
    for section in applications.visible_sections(application.call.form or [], data):
        items = [
            (f.get("label") or f.get("key"), _answer(f, data[f.get("key")], attachments))
            for f in section.get("fields", [])
            if data.get(f.get("key")) not in (None, "", [])
        ]
        if items:
            sections.append((section.get("title", ""), items))
    return sections


@login_required
@permission_required("projects.view_reviewassignment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def assignment_detail(request, pk: int):
    assignment = _own(request, pk)
    application = assignment.application
    try:
        sheet = review.criteria(application.call)
    except ValidationError as error:
        sheet, sheet_problem = [], "；".join(_messages_of(error))
    else:
        sheet_problem = ""
    form = ScoreForm(request.POST or None, sheet=sheet)
    if request.method == "POST":
        if not request.user.has_perm("projects.add_score"):
            raise PermissionDenied("无权提交评分")
        if form.is_valid():
            try:
                review.submit_scores(assignment, form.values(), form.cleaned_data["comment"], request.user)
            except ValidationError as error:
                for key, problems in error.message_dict.items():
                    target = f"score_{key}" if f"score_{key}" in form.fields else None
                    for problem in problems:
                        form.add_error(target, problem)
            else:
                messages.success(request, f"已提交“{application.title}”的评分。")
                return redirect("projects:review-inbox")
    scores = {s.criterion: s.value for s in assignment.scores.all()}
    submitted = assignment.state == AssignmentState.SUBMITTED
    context = {
        "assignment": assignment,
        "application": application,
        "sections": _application_sections(application),
        "field_label": review.field_label(application.field),
        "form": form,
        "sheet": sheet,
        "sheet_problem": sheet_problem,
        "submitted": submitted,
        "scored": [(c, scores.get(c.key)) for c in sheet],
        "total": review.weighted_total(sheet, scores) if submitted and sheet else None,
    }
    return render(request, "projects/review/assignment.html", context)


@login_required
@permission_required("projects.view_reviewassignment", raise_exception=True)
@require_POST
def assignment_accept(request, pk: int):
    assignment = _own(request, pk)
    try:
        review.accept(assignment, request.user)
        messages.success(request, f"已接受“{assignment.application.title}”的评审邀请。")
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
    return redirect(reverse("projects:review-assignment", args=[assignment.pk]))


@login_required
@permission_required("projects.view_reviewassignment", raise_exception=True)
@require_POST
def assignment_withdraw(request, pk: int):
    assignment = _own(request, pk)
    try:
        review.declare_conflict(assignment, request.POST.get("reason", ""), request.user)
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
        return redirect(reverse("projects:review-assignment", args=[assignment.pk]))
    messages.success(request, f"已申明回避“{assignment.application.title}”，科委将另行安排专家。")
    return redirect("projects:review-inbox")
