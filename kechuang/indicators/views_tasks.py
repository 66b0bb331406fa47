"""计划任务 pages: the task list (search, filters, sorting, paging, export), the responsible units and
one unit's tasks, a task with its progress notes.

Every page needs indicators.view_plantask (officers, leaders); adding a progress note needs
indicators.add_tasknote, changing a task's status indicators.change_plantask (officers). Reads are in
task_selectors.py, writes in tasks.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.indicators import task_exporting, task_selectors
from kechuang.indicators import tasks as services
from kechuang.indicators.models import Document, PlanTask, ResponsibleUnit, TaskKind, TaskStatus
from kechuang.indicators.task_forms import NoteForm, StatusForm

PAGE_SIZE = 25
UNITS_PAGE_SIZE = 50
VIEW = "indicators.view_plantask"
UNIT_SORT_COLUMNS = (("name", "责任单位"), ("count", "任务数"), ("done", "已完成"), ("overdue", "逾期"))


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


def _list_context(request, filters: task_selectors.TaskFilters, today) -> dict:
    qs = task_selectors.tasks(filters, today=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "filters": filters,
        # On a unit's page the unit is the page, not a filter.
        "filtered": any((filters.q, filters.kind, filters.document, filters.status, filters.overdue))
        or bool(filters.unit and "unit" in request.GET),
        "today": today,
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
        "sort_columns": task_selectors.SORT_COLUMNS,
        "overdue_rule": task_selectors.OVERDUE_RULE,
    }


def _without_page(params) -> str:
    params = params.copy()
    params.pop("page", None)
    return params.urlencode()


def _filter_choices() -> dict:
    return {
        "kinds": TaskKind.choices,
        "documents": Document.choices,
        "statuses": TaskStatus.choices,
        "overdue_choices": task_selectors.OVERDUE_CHOICES,
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def task_list(request):
    today = timezone.localdate()
    filters = task_selectors.TaskFilters.from_params(request.GET)
    context = _list_context(request, filters, today)
    context["export_query"] = _query(request, "page")
    if request.headers.get("HX-Request"):
        return render(request, "indicators/tasks/partials/task_table.html", context)
    context |= _filter_choices() | {
        "units": ResponsibleUnit.objects.filter(tasks__isnull=False).distinct().order_by("name"),
        "totals": task_selectors.totals(today=today),
    }
    return render(request, "indicators/tasks/task_list.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def task_export(request):
    filters = task_selectors.TaskFilters.from_params(request.GET)
    qs = task_selectors.tasks(filters, today=timezone.localdate())
    notes = task_exporting.task_notes(filters, user=request.user, count=qs.count())
    response = HttpResponse(task_exporting.tasks_xlsx(qs, notes=notes), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=task_exporting.filename()
    )
    return response


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def unit_list(request):
    today = timezone.localdate()
    q = (request.GET.get("q") or "").strip()[:100]
    sort = request.GET.get("sort") or "name"
    sort = sort if sort in task_selectors.UNIT_SORTS else "name"
    page = Paginator(task_selectors.units_summary(today=today, q=q, sort=sort), UNITS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "q": q,
        "sort": sort,
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
        "sort_columns": UNIT_SORT_COLUMNS,
        "overdue_rule": task_selectors.OVERDUE_RULE,
        "totals": task_selectors.totals(today=today),
    }
    return render(request, "indicators/tasks/unit_list.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def unit_detail(request, pk):
    unit = get_object_or_404(ResponsibleUnit, pk=pk)
    today = timezone.localdate()
    params = request.GET.copy()
    params["unit"] = str(unit.pk)
    filters = task_selectors.TaskFilters.from_params(params)
    context = _list_context(request, filters, today)
    context |= {
        "unit": unit,
        "summary": task_selectors.unit_summary(unit, today=today),
        "members": unit.members.order_by("username"),
        "form_url": reverse("indicators:task-unit", args=[unit.pk]),
        "export_query": _without_page(params),
    }
    if request.headers.get("HX-Request"):
        return render(request, "indicators/tasks/partials/task_table.html", context)
    context |= _filter_choices()
    return render(request, "indicators/tasks/unit_detail.html", context)


def _task(pk) -> PlanTask:
    return get_object_or_404(PlanTask.objects.prefetch_related("units"), pk=pk)


def _detail(request, task: PlanTask, *, note_form=None, status_form=None):
    today = timezone.localdate()
    context = {
        "task": task,
        "today": today,
        "overdue": task_selectors.is_overdue(task, today),
        "overdue_rule": task_selectors.OVERDUE_RULE,
        "notes": task_selectors.task_notes(task),
        "can_add_note": request.user.has_perm("indicators.add_tasknote"),
        "can_change": request.user.has_perm("indicators.change_plantask"),
        "note_form": note_form or NoteForm(task=task),
        "status_form": status_form or StatusForm(task=task),
        "statuses": TaskStatus.choices,
    }
    return render(request, "indicators/tasks/task_detail.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def task_detail(request, pk):
    return _detail(request, _task(pk))


@login_required
@permission_required(VIEW, raise_exception=True)
@permission_required("indicators.add_tasknote", raise_exception=True)
@require_POST
def note_add(request, pk):
    task = _task(pk)
    form = NoteForm(request.POST, task=task)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_note(
                task,
                date=data["date"],
                text=data["text"],
                progress=data["progress"],
                reason=data["reason"],
                author=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "进展已记录。")
            return redirect("indicators:task-detail", pk=task.pk)
    return _detail(request, task, note_form=form)


@login_required
@permission_required(VIEW, raise_exception=True)
@permission_required("indicators.change_plantask", raise_exception=True)
@require_POST
def status_set(request, pk):
    task = _task(pk)
    form = StatusForm(request.POST, task=task)
    if form.is_valid():
        try:
            task = services.set_status(task, form.cleaned_data["status"], author=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"状态已改为“{task.get_status_display()}”。")
            return redirect("indicators:task-detail", pk=task.pk)
    return _detail(request, task, status_form=form)
