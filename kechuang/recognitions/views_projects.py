"""高新技术成果转化项目认定 pages: the list (search, filters, sorting, paging; the year's count against the
documents' target), the enterprise's application form, a project's page (its conditions explained like the
tiering results, the core IP with its age window, expert reviews, the district's steps, the certificate), and
the expert's review inbox and form.

Who may do what (the buttons shown follow the same rules; the views check them again):
  list, page                  recognitions.view_transformationproject, in scope (officers and leaders all;
                              an enterprise its own)
  apply, edit, submit         recognitions.add_transformationproject, a user of the applying enterprise
  return, recommend, judge    recognitions.change_transformationproject
  assign experts              recognitions.add_transformationreview
  认定 / 不予认定               recognitions.decide_transformationproject
  review                      the invited expert (recognitions.submit_transformationreview), never with a
                              conflict (回避)
Reads are in selectors.py and eligibility.py, writes in transformation.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.enterprises.choices import HitechField
from kechuang.enterprises.models import IPAsset
from kechuang.projects.models import Expert
from kechuang.recognitions import config, eligibility, guards, selectors, transformation
from kechuang.recognitions import workflows as wf
from kechuang.recognitions.choices import ReviewState
from kechuang.recognitions.forms import (
    AssignForm,
    ExclusionForm,
    ProjectForm,
    ReasonForm,
    RecognitionForm,
    RecommendForm,
    ReviewForm,
    WithdrawForm,
    add_errors,
)
from kechuang.recognitions.models import TransformationProject, TransformationReview
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog

PAGE_SIZE = 25
VIEW = "recognitions.view_transformationproject"
ASSIGN = "recognitions.add_transformationreview"
REVIEW = "recognitions.submit_transformationreview"


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


def _project(request, pk) -> TransformationProject:
    """The project, if the user may see it (404 otherwise: no hint that it exists)."""
    return get_object_or_404(selectors.visible_projects(request.user), pk=pk)


# —— the list ——————————————————————————————————————————————————————————————————————————————————————


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def project_list(request):
    states = selectors.states_of(wf.PROJECT)
    filters = selectors.ProjectFilters.from_params(request.GET, states)
    today = timezone.localdate()
    qs = selectors.projects(filters, user=request.user, on=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(states)
    for p in page.object_list:
        p.state_label = labels.get(p.state, p.state)
        p.in_force = bool(p.valid_until and p.recognised_on and p.recognised_on <= today <= p.valid_until)
    visible = selectors.visible_projects(request.user).values("pk")
    recognised = selectors.recognised_in(today.year).filter(pk__in=visible).count()
    context = {
        "page": page,
        "filters": filters,
        "states": states,
        "fields": HitechField.choices,
        "years": selectors.recognition_years(),
        "year": today.year,
        "recognised": recognised,
        "target": selectors.YEAR_TARGET,
        "target_source": selectors.YEAR_TARGET_SOURCE,
        "in_force": selectors.visible_projects(request.user).filter(selectors.valid_on(today)).count(),
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
        "can_apply": request.user.has_perm(wf.APPLY) and selectors.acting_enterprises(request.user).exists(),
        "notes": config.notes(),
    }
    return render(request, "recognitions/project_list.html", context)


# —— the application ————————————————————————————————————————————————————————————————————————————————


def _form(request, project: TransformationProject | None, data=None):
    enterprises = selectors.acting_enterprises(request.user)
    if project is not None:
        enterprises = enterprises.filter(pk=project.enterprise_id)
    chosen = (
        project.enterprise_id
        if project
        else (data or {}).get("enterprise") or (enterprises.first().pk if enterprises.exists() else None)
    )
    ips = IPAsset.objects.filter(enterprise__in=enterprises).order_by("-grant_date", "number")
    if chosen and str(chosen).isdigit():
        ips = ips.filter(enterprise_id=int(chosen))
    initial = None
    if project is not None and data is None:
        initial = {
            "enterprise": project.enterprise_id,
            "core_ip": list(project.core_ip.values_list("pk", flat=True)),
            **{
                name: getattr(project, name)
                for name in (
                    "name",
                    "product",
                    "field",
                    "field_detail",
                    "first_transformed_on",
                    "test_report_no",
                    "description",
                    *transformation.DECLARATIONS,
                )
            },
        }
    return ProjectForm(data, enterprises=enterprises, ips=ips, initial=initial)


@login_required
@permission_required(wf.APPLY, raise_exception=True)
@require_http_methods(["GET", "POST"])
def project_create(request):
    if not selectors.acting_enterprises(request.user).exists():
        raise PermissionDenied("您的账号未关联企业，不能申请高新技术成果转化项目认定")
    return _edit(request, None)


@login_required
@permission_required(wf.APPLY, raise_exception=True)
@require_http_methods(["GET", "POST"])
def project_edit(request, pk):
    project = _project(request, pk)
    if not selectors.acting_enterprises(request.user).filter(pk=project.enterprise_id).exists():
        raise PermissionDenied(f"仅{project.enterprise.name}的用户可以修改")
    return _edit(request, project)


def _edit(request, project):
    if request.method == "POST":
        form = _form(request, project, request.POST)
        if form.is_valid():
            data, ips = form.data_for_service()
            try:
                saved = transformation.project_save(
                    project,
                    enterprise=form.cleaned_data["enterprise"],
                    data=data,
                    ip_ids=ips,
                    user=request.user,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"已保存“{saved.name}”。请核对认定条件后提交。")
                return redirect("recognitions:project-detail", pk=saved.pk)
    else:
        form = _form(request, project)
    return render(
        request,
        "recognitions/project_form.html",
        {"form": form, "project": project, "windows": eligibility.IP_WINDOWS, "notes": config.notes()},
    )


# —— one project —————————————————————————————————————————————————————————————————————————————————————


def _log_rows(project: TransformationProject) -> list[dict]:
    steps = {t["name"]: t["label"] for t in project.workflow.definition.get("transitions", [])}
    states = project.workflow.definition.get("states", {})
    entries = (
        TransitionLog.objects.filter(
            content_type=ContentType.objects.get_for_model(TransformationProject), object_id=project.pk
        )
        .select_related("actor")
        .order_by("-at", "-pk")
    )
    return [
        {
            "entry": e,
            "action": steps.get(e.transition, e.transition),
            "to_label": states.get(e.to_state, e.to_state),
        }
        for e in entries
    ]


def _detail(request, project: TransformationProject, *, status: int = 200, **forms_):
    user = request.user
    today = timezone.localdate()
    result = eligibility.check(project)
    options = {o.name: o for o in engine.options(project, user)}
    district = user.has_perm(wf.DISTRICT) and project.state in transformation.DISTRICT_STATES
    experts = transformation.assignable_experts(project) if user.has_perm(ASSIGN) and district else []
    member = selectors.acting_enterprises(user).filter(pk=project.enterprise_id).exists()
    context = {
        "project": project,
        "state_label": engine.state_label(project),
        "result": result,
        "ips": result.ip_checks,
        "reviews": project.reviews.select_related("expert").order_by("assigned_at", "pk"),
        "review_counts": selectors.review_counts(project),
        "reviews_required": config.reviews_required(),
        "sheet": transformation.REVIEW_SHEET,
        "sheet_note": transformation.REVIEW_SHEET_NOTE,
        "options": options,
        "submit_option": options.get(wf.SUBMIT) or options.get(wf.RESUBMIT),
        "can_edit": member and user.has_perm(wf.APPLY) and project.state in transformation.EDITABLE_STATES,
        "district": district,
        "can_assign": bool(experts) or (user.has_perm(ASSIGN) and district),
        "experts": experts,
        "assign_form": AssignForm(experts=experts),
        "assign_errors": forms_.get("assign_errors", []),
        "exclusion_form": forms_.get("exclusion_form")
        or ExclusionForm(initial={"exclusion": project.exclusion, "exclusion_note": project.exclusion_note}),
        "recommend_form": forms_.get("recommend_form") or RecommendForm(),
        "reason_form": forms_.get("reason_form") or ReasonForm(),
        "reason_action": forms_.get("reason_action", ""),
        "recognition_form": forms_.get("recognition_form")
        or RecognitionForm(initial={"recognised_on": today}),
        "can_decide": user.has_perm(wf.DECIDE) and project.state == "district_recommended",
        "recognise_blockers": [
            reason
            for check in (guards.eligible, guards.exclusion_judged, guards.reviews_complete)
            if (reason := check(project))
        ]
        if project.state == "district_recommended"
        else [],
        "in_force": bool(
            project.valid_until
            and project.recognised_on
            and project.recognised_on <= today <= project.valid_until
        ),
        "today": today,
        "log": _log_rows(project),
        "notes": config.notes(),
        "expiry_note": eligibility.EXPIRY_NOTE,
    }
    return render(request, "recognitions/project_detail.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def project_detail(request, pk):
    return _detail(request, _project(request, pk))


STEPS = {
    wf.SUBMIT: lambda p, user, reason: transformation.project_submit(p, user=user),
    wf.RETURN: lambda p, user, reason: transformation.project_return(p, user=user, reason=reason),
    wf.RECOMMEND: lambda p, user, reason: transformation.project_recommend(p, user=user, opinion=reason),
    wf.REJECT: lambda p, user, reason: transformation.project_reject(p, user=user, reason=reason),
}
DONE = {
    wf.SUBMIT: "已提交认定申请，等待区科委审核推荐。",
    wf.RETURN: "已退回修改。",
    wf.RECOMMEND: "区科委已推荐。",
    wf.REJECT: "已登记为不予认定。",
}


@login_required
@require_POST
def project_step(request, pk, name):
    project = _project(request, pk)
    if name not in STEPS:
        raise Http404("没有该操作")
    reason = (request.POST.get("reason") or request.POST.get("opinion") or "").strip()
    try:
        STEPS[name](project, request.user, reason)
    except ValidationError as error:
        form = ReasonForm(request.POST)
        form.is_valid()
        add_errors(form, error, {"transition": "reason"})
        for message in error.messages:
            messages.error(request, message)
        return _detail(request, project, reason_form=form, reason_action=name)
    messages.success(request, DONE[name])
    return redirect("recognitions:project-detail", pk=project.pk)


@login_required
@require_POST
def project_exclusion(request, pk):
    project = _project(request, pk)
    form = ExclusionForm(request.POST)
    if form.is_valid():
        try:
            transformation.exclusion_judge(
                project,
                exclusion=form.cleaned_data["exclusion"],
                note=form.cleaned_data["exclusion_note"],
                user=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"已记录判断：{project.get_exclusion_display()}。")
            return redirect("recognitions:project-detail", pk=project.pk)
    return _detail(request, project, exclusion_form=form)


@login_required
@require_POST
def project_recognise(request, pk):
    project = _project(request, pk)
    if not request.user.has_perm(wf.DECIDE):
        raise PermissionDenied("无权登记认定结果")
    form = RecognitionForm(request.POST)
    if form.is_valid():
        try:
            transformation.project_recognise(
                project,
                certificate_no=form.cleaned_data["certificate_no"],
                recognised_on=form.cleaned_data["recognised_on"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as error:
            add_errors(form, error, {"transition": "certificate_no"})
        else:
            messages.success(
                request, f"已认定，证书编号 {project.certificate_no}，有效期至 {project.valid_until}。"
            )
            return redirect("recognitions:project-detail", pk=project.pk)
    return _detail(request, project, recognition_form=form)


@login_required
@permission_required(ASSIGN, raise_exception=True)
@require_POST
def review_assign(request, pk):
    project = _project(request, pk)
    expert_id = request.POST.get("expert") or ""
    expert = Expert.objects.filter(pk=expert_id).first() if expert_id.isdigit() else None
    if expert is None:
        return _detail(request, project, assign_errors=["请选择评审专家"])
    try:
        transformation.review_assign(project, expert, user=request.user)
    except ValidationError as error:
        return _detail(request, project, assign_errors=list(error.messages))
    messages.success(request, f"已邀请专家{expert.name}评审。")
    return redirect("recognitions:project-detail", pk=project.pk)


# —— the expert's reviews ————————————————————————————————————————————————————————————————————————————


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_GET
def review_inbox(request):
    reviews = list(selectors.reviews_for(request.user).order_by("state", "-assigned_at"))
    shown = [r for r in reviews if not transformation.conflicts(r.expert, r.project)]
    return render(
        request, "recognitions/review_inbox.html", {"reviews": shown, "hidden": len(reviews) - len(shown)}
    )


def _review(request, pk) -> TransformationReview:
    """The expert's own review (an officer who keeps reviews may open any); never with a conflict."""
    item = get_object_or_404(
        TransformationReview.objects.select_related("expert", "project__enterprise", "project__workflow"),
        pk=pk,
    )
    own = item.expert.user_id == request.user.pk
    if not own and not request.user.has_perm("recognitions.change_transformationreview"):
        raise Http404("评审任务不存在或无权查看")
    if own and transformation.conflicts(item.expert, item.project):
        raise Http404("评审任务不存在或无权查看")
    return item


def _review_page(request, item, *, status=200, form=None, withdraw_form=None):
    project = item.project
    result = eligibility.check(project)
    context = {
        "item": item,
        "project": project,
        "result": result,
        "state_label": engine.state_label(project),
        "form": form or ReviewForm(),
        "withdraw_form": withdraw_form or WithdrawForm(),
        "sheet_note": transformation.REVIEW_SHEET_NOTE,
        "open": item.state == ReviewState.ASSIGNED and project.state in transformation.DISTRICT_STATES,
    }
    return render(request, "recognitions/review_form.html", context, status=status)


@login_required
@require_GET
def review_detail(request, pk):
    return _review_page(request, _review(request, pk))


@login_required
@require_POST
def review_submit(request, pk):
    item = _review(request, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            transformation.review_submit(
                item,
                scores=form.scores(),
                opinion=form.cleaned_data["opinion"],
                recommend=form.cleaned_data["recommend"],
                user=request.user,
            )
        except ValidationError as error:
            aliases = {i["key"]: f"score_{i['key']}" for i in transformation.REVIEW_SHEET}
            add_errors(form, error, aliases)
        else:
            messages.success(request, f"已提交对“{item.project.name}”的评审意见。")
            return redirect("recognitions:review-inbox")
    return _review_page(request, item, form=form)


@login_required
@require_POST
def review_withdraw(request, pk):
    item = _review(request, pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            transformation.review_withdraw(item, reason=form.cleaned_data["reason"], user=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "已申明回避，退出该项目评审。")
            return redirect("recognitions:review-inbox")
    return _review_page(request, item, withdraw_form=form)
