"""申报 pages (urls_calls.py, included by the lead under the namespace "projects").

Officers (科委业务人员, projects.change_call):
- calls/ — programmes and calls: search, filter by programme (with its sub-programmes), year, state; pages of 20.
- calls/new/, calls/<pk>/edit/ — the call builder: dates and money, eligibility conditions, the form (sections
  and fields, reorder, conditional sections) and the score sheet, edited in the browser by a small script over
  the JSON (vendored nothing: the script is inline; without script the JSON itself is editable). Errors in
  Chinese name the section and field.
- calls/<pk>/ — the call, its state with 发布 / 截止受理 (each with the reason it cannot be taken yet) and its
  applications by state.
- formal-review/ and formal-review/<pk>/ — 形式审查 (projects.change_application): pass, or return with reasons.
Enterprise users (企业用户, projects.add_application; scope: their own enterprise):
- calls/open/ — calls accepting applications now, with their enterprise's eligibility shown first.
- calls/<pk>/apply/ — the guide and every condition (满足 / 不满足 / 待核实, with why) before a title starts it.
- applications/ — their applications (officers: all); applications/<pk>/ one, read-only, with its history;
  …/edit/ the form rendered from the call's definition (conditional sections shown or hidden as answered),
  …/budget/, …/attachments/, …/submit/ (every refusal listed).
Another enterprise's application is 404 (its existence does not leak).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.money import WAN, wan_to_yuan, yuan_to_wan
from kechuang.enterprises.choices import HitechField
from kechuang.projects import applications, calls, eligibility
from kechuang.projects.models import Application, Attachment, BudgetCategory, Call, Programme
from kechuang.workflows import engine
from kechuang.workflows.selectors import known_states

PAGE_SIZE = 20
MANAGE = "projects.change_call"
REVIEW = "projects.change_application"
APPLY = "projects.add_application"


def _messages_of(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [m for values in error.message_dict.values() for m in values]
    return error.messages


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


def _call_states() -> dict[str, str]:
    return dict(known_states(calls.WORKFLOW))


# —— 申报批次 (officers) ——————————————————————————————————————————————————————————————————————————————


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_GET
def call_list(request):
    q = (request.GET.get("q") or "").strip()[:100]
    programme_id = request.GET.get("programme") or ""
    year = request.GET.get("year") or ""
    state = request.GET.get("state") or ""
    qs = Call.objects.select_related("programme", "workflow").annotate(
        application_count=Count("applications")
    )
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(guide__icontains=q) | Q(programme__name__icontains=q))
    programme = Programme.objects.filter(pk=programme_id).first() if programme_id.isdigit() else None
    if programme is not None:
        qs = qs.filter(programme_id__in=calls.programme_family(programme.pk))
    if year.isdigit():
        qs = qs.filter(year=int(year))
    if state:
        qs = qs.filter(state=state)
    page = Paginator(qs.order_by("-year", "-opens_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    for call in page.object_list:
        call.state_label = engine.state_label(call)
        call.budget_wan, call.cap_wan = yuan_to_wan(call.budget_total), yuan_to_wan(call.cap_per_project)
    programmes = list(
        Programme.objects.select_related("parent")
        .annotate(call_count=Count("calls"))
        .order_by("parent_id", "code")
    )
    context = {
        "page": page,
        "q": q,
        "programme_id": programme_id,
        "year": year,
        "state": state,
        "states": _call_states(),
        "years": Call.objects.order_by("-year").values_list("year", flat=True).distinct(),
        "roots": [p for p in programmes if p.parent_id is None],
        "programmes": programmes,
        "filtered": any((q, programme_id, year, state)),
        "query": _query(request, "page"),
    }
    return render(request, "projects/calls/call_list.html", context)


def _local_input(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


class CallForm(forms.Form):
    """The call's own fields; the three definitions come as JSON (edited by the builder's script)."""

    programme = forms.ModelChoiceField(Programme.objects.order_by("code"), label="科技计划")
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    title = forms.CharField(label="名称", max_length=200)
    guide = forms.CharField(label="申报指南", widget=forms.Textarea(attrs={"rows": 6}))
    budget_total = forms.DecimalField(label="总预算（万元）", max_digits=14, decimal_places=6)
    cap_per_project = forms.DecimalField(label="单项资助上限（万元）", max_digits=14, decimal_places=6)
    opens_at = forms.DateTimeField(
        label="开始受理",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    closes_at = forms.DateTimeField(
        label="截止时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="截止时刻之前（含截止时刻）提交的申报有效",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    experts_per_application = forms.IntegerField(label="每项评审专家数", min_value=1, max_value=50, initial=5)
    form = forms.CharField(label="申报书（JSON）", required=False, widget=forms.Textarea(attrs={"rows": 12}))
    score_sheet = forms.CharField(
        label="评分表（JSON）", required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    eligibility = forms.CharField(
        label="申报条件（JSON）", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    JSON_NAMES = {"form": "申报书定义", "score_sheet": "评分表", "eligibility": "申报条件"}

    def _json(self, name):
        text = (self.cleaned_data.get(name) or "").strip() or "[]"
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(
                f"{self.JSON_NAMES[name]}不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列：{error.msg}）"
            ) from None

    def clean_form(self):
        return self._json("form")

    def clean_score_sheet(self):
        return self._json("score_sheet")

    def clean_eligibility(self):
        return self._json("eligibility")

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("programme")
        data["budget_total"] = wan_to_yuan(data["budget_total"])
        data["cap_per_project"] = wan_to_yuan(data["cap_per_project"])
        return data

    @classmethod
    def initial_for(cls, call: Call) -> dict:
        return {
            "programme": call.programme_id,
            "year": call.year,
            "title": call.title,
            "guide": call.guide,
            "budget_total": format((call.budget_total / WAN).normalize(), "f"),
            "cap_per_project": format((call.cap_per_project / WAN).normalize(), "f"),
            "opens_at": _local_input(call.opens_at),
            "closes_at": _local_input(call.closes_at),
            "experts_per_application": call.experts_per_application,
            "form": json.dumps(call.form, ensure_ascii=False, indent=1),
            "score_sheet": json.dumps(call.score_sheet, ensure_ascii=False, indent=1),
            "eligibility": json.dumps(call.eligibility, ensure_ascii=False, indent=1),
        }


def _builder(request, form: CallForm, call: Call | None, problems: list[str] | None = None):
    context = {
        "form": form,
        "call": call,
        "problems": problems or [],
        "field_types": calls.FIELD_TYPES,
        "rules": [{"code": r.code, "label": r.label, "source": r.source} for r in eligibility.RULES.values()],
        "locked": calls._locked_fields(call) if call else {},
    }
    return render(request, "projects/calls/call_builder.html", context)


def _save_call(request, form: CallForm, call: Call | None):
    if not form.is_valid():
        return None, []
    values = form.values()
    if call is not None:  # the page shows times to the minute: an untouched time keeps its seconds
        for name in ("opens_at", "closes_at"):
            shown = timezone.localtime(getattr(call, name)).replace(second=0, microsecond=0)
            if values[name] == shown:
                values[name] = getattr(call, name)
    try:
        if call is None:
            saved = calls.call_create(programme=form.cleaned_data["programme"], user=request.user, **values)
        else:
            saved = calls.call_update(
                call, user=request.user, programme=form.cleaned_data["programme"], **values
            )
    except ValidationError as error:
        problems = []
        for name, values in error.message_dict.items():
            if name in ("form", "score_sheet", "eligibility"):
                problems += [f"{CallForm.JSON_NAMES[name]}：{v}" for v in values]
            elif name in form.fields:
                for value in values:
                    form.add_error(name, value)
            else:
                problems += values
        return None, problems
    return saved, []


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def call_create(request):
    if request.method == "POST":
        form = CallForm(request.POST)
        saved, problems = _save_call(request, form, None)
        if saved:
            messages.success(request, f"已保存“{saved}”（草稿）。发布后企业即可申报。")
            return redirect("projects:call-detail", pk=saved.pk)
        return _builder(request, form, None, problems)
    now = timezone.localtime()
    initial = {
        "year": now.year,
        "experts_per_application": 5,
        "form": "[]",
        "score_sheet": "[]",
        "eligibility": json.dumps([{"rule": "registered_in_songjiang", "label": ""}], ensure_ascii=False),
    }
    if request.GET.get("programme", "").isdigit():
        initial["programme"] = int(request.GET["programme"])
    return _builder(request, CallForm(initial=initial), None)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def call_edit(request, pk):
    call = get_object_or_404(Call.objects.select_related("programme", "workflow"), pk=pk)
    if request.method == "POST":
        form = CallForm(request.POST)
        saved, problems = _save_call(request, form, call)
        if saved:
            messages.success(request, f"已保存“{saved}”。")
            return redirect("projects:call-detail", pk=saved.pk)
        return _builder(request, form, call, problems)
    return _builder(request, CallForm(initial=CallForm.initial_for(call)), call)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_GET
def call_detail(request, pk):
    call = get_object_or_404(Call.objects.select_related("programme", "workflow"), pk=pk)
    states = call.workflow.definition["states"]
    app_states = dict(known_states(applications.WORKFLOW))
    order = {state: i for i, state in enumerate(app_states)}
    counts = [
        (app_states.get(row["state"], row["state"]), row["n"])
        for row in sorted(
            call.applications.values("state").annotate(n=Count("pk")).order_by(),
            key=lambda row: (order.get(row["state"], len(order)), row["state"]),
        )
    ]
    context = {
        "call": call,
        "state_label": states.get(call.state, call.state),
        "options": [o for o in engine.options(call, request.user) if o.name in (calls.OPEN, calls.CLOSE)],
        "counts": counts,
        "rules": {code: rule for code, rule in eligibility.RULES.items()},
        "field_types": calls.FIELD_TYPES,
        "accepting": calls.accepting_refusal(call),
        "weights": sum(Decimal(str(c.get("weight", 0))) for c in call.score_sheet),
        "budget_wan": yuan_to_wan(call.budget_total),
        "cap_wan": yuan_to_wan(call.cap_per_project),
    }
    return render(request, "projects/calls/call_detail.html", context)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def call_transition(request, pk, name):
    call = get_object_or_404(Call.objects.select_related("workflow"), pk=pk)
    if name not in (calls.OPEN, calls.CLOSE):
        raise Http404("没有该操作")
    try:
        (calls.call_open if name == calls.OPEN else calls.call_close)(
            call, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
    else:
        messages.success(request, f"“{call}”已{'发布，开始受理' if name == calls.OPEN else '截止受理'}。")
    return redirect("projects:call-detail", pk=call.pk)


# —— 申报 (enterprise users) ——————————————————————————————————————————————————————————————————————————


def _acting(request):
    enterprises = list(applications.acting_enterprises(request.user))
    if not enterprises:
        raise PermissionDenied("您的账号未关联企业，不能申报")
    return enterprises


@login_required
@permission_required(APPLY, raise_exception=True)
@require_GET
def open_calls(request):
    enterprises = _acting(request)
    rows = []
    for call in calls.open_calls():
        results = [(e, eligibility.check(call, e)) for e in enterprises]
        rows.append({"call": call, "checks": results, "cap_wan": yuan_to_wan(call.cap_per_project)})
    return render(
        request,
        "projects/calls/open_calls.html",
        {"rows": rows, "enterprises": enterprises, "now": timezone.now()},
    )


@login_required
@permission_required(APPLY, raise_exception=True)
@require_http_methods(["GET", "POST"])
def application_start(request, pk):
    call = get_object_or_404(Call.objects.select_related("programme", "workflow"), pk=pk)
    if call.state == "draft" and not request.user.has_perm(MANAGE):
        raise Http404("申报批次不存在")
    enterprises = _acting(request)
    chosen = enterprises[0]
    wanted = request.POST.get("enterprise") or request.GET.get("enterprise") or ""
    if wanted.isdigit():
        chosen = next((e for e in enterprises if e.pk == int(wanted)), chosen)
    errors: list[str] = []
    title = ""
    # 技术领域: the enterprise's own field unless the applicant picks another; the expert proposal matches on it.
    field = (
        request.POST.get("field", chosen.hitech_field) if request.method == "POST" else chosen.hitech_field
    )
    field = field if field in HitechField.values else ""
    if request.method == "POST":
        title = (request.POST.get("title") or "").strip()
        try:
            application = applications.application_start(
                call=call,
                enterprise=chosen,
                title=title,
                user=request.user,
                field=field,
                keywords=(request.POST.get("keywords") or "").strip()[:200],
            )
        except ValidationError as error:
            errors = _messages_of(error)
        else:
            messages.success(request, "申报已创建（草稿），请填写申报书、经费预算并上传附件后提交。")
            return redirect("projects:application-edit", pk=application.pk)
    results = eligibility.check(call, chosen)
    context = {
        "call": call,
        "enterprises": enterprises,
        "chosen": chosen,
        "results": results,
        "accepting": calls.accepting_refusal(call),
        "errors": errors,
        "title": title,
        "field": field,
        "fields": HitechField.choices,
        "keywords": (request.POST.get("keywords") or "")[:200],
        "existing": applications.applications_visible_to(request.user).filter(call=call, enterprise=chosen),
        "cap_wan": yuan_to_wan(call.cap_per_project),
    }
    return render(request, "projects/calls/application_start.html", context)


@login_required
@permission_required("projects.view_application", raise_exception=True)
@require_GET
def application_list(request):
    qs = applications.applications_visible_to(request.user).select_related("call", "enterprise", "workflow")
    q = (request.GET.get("q") or "").strip()[:100]
    call_id = request.GET.get("call") or ""
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(enterprise__name__icontains=q))
    if call_id.isdigit():
        qs = qs.filter(call_id=int(call_id))
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    for application in page.object_list:
        application.state_label = engine.state_label(application)
        application.can_edit = request.user.has_perm(APPLY) and applications.editable(application)
    context = {
        "page": page,
        "q": q,
        "call_id": call_id,
        "calls": Call.objects.filter(
            pk__in=applications.applications_visible_to(request.user).values("call_id")
        ),
        "query": _query(request, "page"),
        "can_apply": request.user.has_perm(APPLY),
    }
    return render(request, "projects/calls/application_list.html", context)


def _sections(
    application: Application, data: dict, errors: dict | None = None, missing: dict | None = None
) -> list[dict]:
    """The call's sections for the page, each with its fields' values (and errors) and whether it is shown."""
    errors, missing = errors or {}, missing or {}
    shown = {s["key"] for s in applications.visible_sections(application.call.form, data)}
    attachments = {a.pk: a for a in application.attachments.all()}
    sections = []
    for section in application.call.form:
        fields = []
        for field in section["fields"]:
            value = data.get(field["key"])
            fields.append(
                {
                    **field,
                    "value": value,
                    "values": value if isinstance(value, list) else ([] if value in (None, "") else [value]),
                    "attachment": attachments.get(value) if field["type"] == "file" else None,
                    "error": "；".join(errors.get(field["key"], [])),
                    "missing": missing.get(field["key"], ""),
                    "choices": field.get("choices", []),
                    "required": field.get("required", False),
                }
            )
        sections.append({**section, "fields": fields, "shown": section["key"] in shown})
    return sections


def _budget_rows(
    application: Application, errors: dict | None = None, posted=None
) -> tuple[list[dict], dict]:
    errors = errors or {}
    lines = {line.category: line for line in application.budget_lines.all()}
    rows = []
    for value, label in BudgetCategory.choices:
        line = lines.get(value)
        row = {"category": value, "label": label, "line": line}
        for name in ("subsidy", "self_funded", "note"):
            if posted is not None:
                row[name] = posted.get(f"{value}-{name}", "")
            else:
                stored = getattr(line, name) if line else ""
                row[name] = format(stored, "f") if isinstance(stored, Decimal) else stored
        row["error"] = "；".join(m for key, ms in errors.items() if key.startswith(value) for m in ms)
        rows.append(row)
    totals = {
        "subsidy": sum((line.subsidy for line in lines.values()), Decimal(0)),
        "self_funded": sum((line.self_funded for line in lines.values()), Decimal(0)),
    }
    totals["all"] = totals["subsidy"] + totals["self_funded"]
    return rows, totals


def _history(application: Application) -> list[dict]:
    """The application's steps in words: the step's and the states' names under its workflow version."""
    definition = application.workflow.definition
    steps = {t["name"]: t["label"] for t in definition["transitions"]}
    states = definition["states"]
    return [
        {
            "entry": h,
            "action": steps.get(h.transition, h.transition),
            "from": states.get(h.from_state, h.from_state),
            "to": states.get(h.to_state, h.to_state),
        }
        for h in engine.history(application).order_by("at", "pk")
    ]


def _application_context(request, application: Application) -> dict:
    rows, totals = _budget_rows(application)
    owner = (
        request.user.has_perm(APPLY)
        and applications.acting_enterprises(request.user).filter(pk=application.enterprise_id).exists()
    )
    can_edit = owner and applications.editable(application)
    return {
        "application": application,
        "call": application.call,
        "state_label": engine.state_label(application),
        "budget_rows": rows,
        "totals": totals,
        "over_cap": totals["subsidy"] > application.call.cap_per_project,
        "attachments": application.attachments.order_by("uploaded_at"),
        "can_edit": can_edit,
        "problems": applications.submit_problems(application, request.user) if can_edit else [],
        "decisions": applications.decisions(application),
        "history": _history(application),
        "attachment_rule": applications.ATTACHMENT_RULE,
        "cap_wan": yuan_to_wan(application.call.cap_per_project),
    }


@login_required
@require_GET
def application_detail(request, pk):
    application = applications.application_for_user(request.user, pk)
    context = _application_context(request, application)
    context["sections"] = [s for s in _sections(application, application.data or {}) if s["shown"]]
    context["results"] = eligibility.check(application.call, application.enterprise)
    return render(request, "projects/calls/application_detail.html", context)


def _editable_for(request, pk) -> Application:
    application = applications.application_for_user(request.user, pk, action="add")
    if not applications.acting_enterprises(request.user).filter(pk=application.enterprise_id).exists():
        raise PermissionDenied("仅申报单位的用户可以修改申报")
    return application


def _posted_data(request, application: Application) -> dict:
    data = {}
    for section in application.call.form:
        for field in section["fields"]:
            key = field["key"]
            if field["type"] == "file":
                continue
            if field["type"] == "multichoice":
                data[key] = request.POST.getlist(key)
            else:
                data[key] = request.POST.get(key, "")
    return data


@login_required
@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    application = _editable_for(request, pk)
    errors: dict[str, list[str]] = {}
    data = application.data or {}
    if request.method == "POST":
        posted = _posted_data(request, application)
        try:
            application = applications.application_save(
                application, data=posted, title=request.POST.get("title"), user=request.user
            )
        except ValidationError as error:
            errors = error.message_dict
            data = {**data, **posted}  # show what was typed, with the errors
        else:
            if request.POST.get("action") == "next":
                return redirect("projects:application-budget", pk=application.pk)
            messages.success(request, "草稿已保存。")
            return redirect("projects:application-edit", pk=application.pk)
    if not applications.editable(application):
        messages.info(request, f"申报当前状态为“{engine.state_label(application)}”，不能修改。")
        return redirect("projects:application-detail", pk=application.pk)
    missing = applications.form_errors(application) if not errors else {}
    context = _application_context(request, application)
    context |= {
        "sections": _sections(application, data, errors, missing),
        "errors": errors,
        "missing": missing,
        "title_value": request.POST.get("title", application.title) if errors else application.title,
    }
    return render(request, "projects/calls/application_edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def application_budget(request, pk):
    application = _editable_for(request, pk)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        lines = {
            category: {
                "subsidy": request.POST.get(f"{category}-subsidy", ""),
                "self_funded": request.POST.get(f"{category}-self_funded", ""),
                "note": request.POST.get(f"{category}-note", ""),
            }
            for category in BudgetCategory.values
        }
        try:
            application = applications.budget_set(application, lines=lines, user=request.user)
        except ValidationError as error:
            errors = error.message_dict
        else:
            messages.success(
                request, f"经费预算已保存：申请资助合计 {application.requested_amount:,.2f} 元。"
            )
            return redirect("projects:application-budget", pk=application.pk)
    context = _application_context(request, application)
    context["errors"] = errors
    context["budget_rows"], _ = _budget_rows(application, errors, request.POST if errors else None)
    return render(request, "projects/calls/application_budget.html", context)


@login_required
@require_POST
def application_attach(request, pk):
    application = _editable_for(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的文件")
    else:
        try:
            applications.attachment_add(
                application,
                upload=upload,
                title=request.POST.get("title", ""),
                field_key=request.POST.get("field_key", ""),
                user=request.user,
            )
        except ValidationError as error:
            for message in _messages_of(error):
                messages.error(request, message)
        else:
            messages.success(request, f"已上传“{upload.name}”。")
    target = (
        "projects:application-edit" if request.POST.get("next") == "edit" else "projects:application-budget"
    )
    return redirect(target, pk=pk)


@login_required
@require_POST
def attachment_remove(request, pk):
    attachment = get_object_or_404(Attachment, pk=pk)
    _editable_for(request, attachment.application_id)
    try:
        applications.attachment_remove(attachment, user=request.user)
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
    else:
        messages.success(request, f"已删除附件“{attachment.title}”。")
    return redirect("projects:application-budget", pk=attachment.application_id)


@login_required
@require_GET
def attachment_download(request, pk):
    attachment = get_object_or_404(Attachment, pk=pk)
    applications.application_for_user(request.user, attachment.application_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("附件文件不存在") from None
    return FileResponse(handle, as_attachment=True, filename=attachment.file.name.rsplit("/", 1)[-1])


@login_required
@require_http_methods(["GET", "POST"])
def application_submit(request, pk):
    application = _editable_for(request, pk)
    if request.method == "GET":
        return redirect("projects:application-detail", pk=application.pk)
    try:
        application = applications.application_submit(application, user=request.user)
    except ValidationError as error:
        for message in _messages_of(error):
            messages.error(request, message)
        return redirect("projects:application-detail", pk=application.pk)
    submitted = timezone.localtime(application.submitted_at).strftime("%Y-%m-%d %H:%M:%S")
    messages.success(request, f"已于 {submitted} 提交，等待形式审查。")
    return redirect("projects:application-detail", pk=application.pk)


# —— 形式审查 (officers) ——————————————————————————————————————————————————————————————————————————————


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_GET
def formal_review_queue(request):
    qs = applications.formal_review_queue().select_related("call", "enterprise", "workflow")
    call_id = request.GET.get("call") or ""
    if call_id.isdigit():
        qs = qs.filter(call_id=int(call_id))
    page = Paginator(qs.order_by("submitted_at", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "call_id": call_id,
        "calls": Call.objects.filter(pk__in=applications.formal_review_queue().values("call_id")),
        "query": _query(request, "page"),
    }
    return render(request, "projects/calls/formal_review_queue.html", context)


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
def formal_review(request, pk):
    application = applications.application_for_user(request.user, pk)
    errors: list[str] = []
    reasons = ""
    if request.method == "POST":
        decision = request.POST.get("decision")
        reasons = request.POST.get("reasons", "")
        if decision not in ("pass", "return"):
            errors = ["请选择“通过”或“退回修改”"]
        else:
            try:
                applications.formal_review(application, decision == "pass", reasons, request.user)
            except ValidationError as error:
                errors = _messages_of(error)
            else:
                done = "形式审查通过" if decision == "pass" else "已退回修改"
                messages.success(request, f"《{application.title}》{done}。")
                return redirect("projects:formal-review-queue")
    context = _application_context(request, application)
    context |= {
        "sections": [s for s in _sections(application, application.data or {}) if s["shown"]],
        "results": eligibility.check(application.call, application.enterprise),
        "form_errors": applications.form_errors(application),
        "errors": errors,
        "reasons": reasons,
        "options": {o.name: o for o in engine.options(application, request.user)},
        "pass_name": applications.PASS,
        "return_name": applications.RETURN,
    }
    return render(request, "projects/calls/formal_review.html", context)
