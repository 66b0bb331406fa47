"""Reads of the plan tasks (计划任务): the filtered, sorted list, the overdue rule, the per-unit summary.

逾期 (overdue): the deadline has passed — today is later than the deadline (on the deadline day itself
the task is not overdue yet) — and the task is not done (已完成). A suspended (暂缓) task past its deadline
is overdue too: suspending a task does not move its deadline. The same rule is written on the pages
(OVERDUE_RULE) and in the export.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from kechuang.indicators.models import Document, PlanTask, ResponsibleUnit, TaskKind, TaskNote, TaskStatus

OVERDUE_RULE = (
    "逾期：已过完成期限（完成期限当天不算逾期）且状态不是“已完成”的任务；暂缓的任务不因暂缓而延期。"
)
NOT_DONE = [value for value in TaskStatus.values if value != TaskStatus.DONE]

# The order the documents list their tasks in: 附件2 tasks, 附件3 projects, 附件5 services; the work items.
KIND_ORDER = Case(
    *(When(kind=kind, then=Value(index)) for index, kind in enumerate(TaskKind.values)),
    default=Value(len(TaskKind.values)),
    output_field=IntegerField(),
)
DOCUMENT_ORDER = ("document", "kind_order", "number", "pk")
SORTS = {
    "number": DOCUMENT_ORDER,
    "-number": tuple("-" + key for key in DOCUMENT_ORDER),
    "deadline": ("deadline", *DOCUMENT_ORDER),
    "-deadline": ("-deadline", *DOCUMENT_ORDER),
    "progress": ("progress", *DOCUMENT_ORDER),
    "-progress": ("-progress", *DOCUMENT_ORDER),
}
SORT_COLUMNS = (("number", "序号"), ("deadline", "完成期限"), ("progress", "进度"))
OVERDUE_CHOICES = (("1", "逾期"), ("0", "未逾期"))
UNIT_SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "count": ("-task_count", "name", "pk"),
    "overdue": ("-overdue_count", "-task_count", "name", "pk"),
    "done": ("-done_count", "name", "pk"),
}


@dataclass
class TaskFilters:
    q: str = ""
    kind: str = ""
    document: str = ""
    unit: str = ""
    status: str = ""
    overdue: str = ""  # "1" overdue only, "0" not overdue, "" all
    sort: str = "number"

    @classmethod
    def from_params(cls, params) -> TaskFilters:
        """Unknown values are ignored rather than failing the page: a stale bookmark still opens."""
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            kind=params.get("kind") or "",
            document=params.get("document") or "",
            unit=params.get("unit") or "",
            status=params.get("status") or "",
            overdue=params.get("overdue") or "",
            sort=params.get("sort") or "number",
        )
        if f.kind not in TaskKind.values:
            f.kind = ""
        if f.document not in Document.values:
            f.document = ""
        if not f.unit.isdigit():
            f.unit = ""
        if f.status not in TaskStatus.values:
            f.status = ""
        if f.overdue not in dict(OVERDUE_CHOICES):
            f.overdue = ""
        if f.sort not in SORTS:
            f.sort = "number"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.kind, self.document, self.unit, self.status, self.overdue))

    def described(self) -> list[str]:
        """The filters in words, for the export's 说明 sheet."""
        shown = []
        if self.q:
            shown.append(f"关键词“{self.q}”")
        if self.kind:
            shown.append(f"类别：{TaskKind(self.kind).label}")
        if self.document:
            shown.append(f"文件：{Document(self.document).label}")
        if self.unit:
            unit = ResponsibleUnit.objects.filter(pk=self.unit).first()
            shown.append(f"责任单位：{unit.name if unit else '（已删除的单位）'}")
        if self.status:
            shown.append(f"状态：{TaskStatus(self.status).label}")
        if self.overdue:
            shown.append(dict(OVERDUE_CHOICES)[self.overdue])
        return shown


def overdue_condition(today: dt.date, prefix: str = "") -> Q:
    """The overdue rule (module docstring) as a condition on tasks, or on `prefix`-ed related tasks."""
    return Q(**{f"{prefix}deadline__lt": today, f"{prefix}status__in": NOT_DONE})


def is_overdue(task: PlanTask, today: dt.date) -> bool:
    """逾期: the deadline has passed (today > deadline; not on the deadline day) and the task is not done."""
    return today > task.deadline and task.status != TaskStatus.DONE


def tasks(filters: TaskFilters | None = None, *, today: dt.date | None = None) -> QuerySet[PlanTask]:
    """The plan tasks `filters` select, sorted as asked, each with `overdue` (the rule above, as of
    `today`), `kind_order`, `last_note_date` and `note_count`; units prefetched."""
    filters = filters or TaskFilters()
    today = today or timezone.localdate()
    qs = PlanTask.objects.all()
    if filters.q:
        qs = qs.filter(search_condition(filters.q))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.document:
        qs = qs.filter(document=filters.document)
    if filters.unit:
        qs = qs.filter(units__pk=filters.unit)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue == "1":
        qs = qs.filter(overdue_condition(today))
    elif filters.overdue == "0":
        qs = qs.exclude(overdue_condition(today))
    latest = TaskNote.objects.filter(task=OuterRef("pk")).order_by("-date", "-pk")
    return (
        qs.annotate(
            kind_order=KIND_ORDER,
            overdue=ExpressionWrapper(overdue_condition(today), output_field=BooleanField()),
            last_note_date=Subquery(latest.values("date")[:1]),
            last_note_text=Subquery(latest.values("text")[:1]),
        )
        .prefetch_related("units")
        .order_by(*SORTS[filters.sort])
    )


def search_condition(text: str) -> Q:
    """Title or content containing `text`. Chinese has no case: a query without cased letters uses
    LIKE (contains), as the registry's search does."""
    lookup = "icontains" if text.lower() != text.upper() else "contains"
    return Q(**{f"title__{lookup}": text}) | Q(**{f"content__{lookup}": text})


def task_notes(task: PlanTask) -> QuerySet[TaskNote]:
    """The task's progress notes, newest first (by date, then by entry), with their authors."""
    return task.notes.select_related("author").order_by("-date", "-pk")


def units_summary(
    *, today: dt.date | None = None, q: str = "", sort: str = "name"
) -> QuerySet[ResponsibleUnit]:
    """Every responsible unit with a task, each with `task_count`, `done_count` and `overdue_count`
    (the overdue rule above, as of `today`); `q` filters by name."""
    today = today or timezone.localdate()
    qs = ResponsibleUnit.objects.annotate(**_unit_counts(today)).filter(task_count__gt=0)
    if q.strip():
        qs = qs.filter(name__icontains=q.strip())
    return qs.order_by(*UNIT_SORTS.get(sort, UNIT_SORTS["name"]))


def unit_summary(unit: ResponsibleUnit, *, today: dt.date | None = None) -> dict[str, int]:
    """One unit's task_count, done_count and overdue_count."""
    today = today or timezone.localdate()
    return ResponsibleUnit.objects.filter(pk=unit.pk).aggregate(**_unit_counts(today))


def _unit_counts(today: dt.date) -> dict:
    return {
        "task_count": Count("tasks", distinct=True),
        "done_count": Count("tasks", filter=Q(tasks__status=TaskStatus.DONE), distinct=True),
        "overdue_count": Count("tasks", filter=overdue_condition(today, "tasks__"), distinct=True),
    }


def totals(*, today: dt.date | None = None) -> dict[str, int]:
    """All tasks: count, done, overdue (for the headline of the list)."""
    today = today or timezone.localdate()
    return PlanTask.objects.aggregate(
        task_count=Count("pk"),
        done_count=Count("pk", filter=Q(status=TaskStatus.DONE)),
        overdue_count=Count("pk", filter=overdue_condition(today)),
    )
