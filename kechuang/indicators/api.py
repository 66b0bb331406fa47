"""The monitoring API (mounted at /api/indicators): indicators with their documented figures and values over
time, observations (read, record, correct), each target's progress, and the plan tasks with their notes.

Reading needs indicators.view_indicator (officers and leaders); recording observations
indicators.add_observation, correcting indicators.change_observation; tasks need indicators.view_plantask and
adding a note indicators.add_tasknote. Errors are in the project's format (kechuang.core.api_errors): a bad
observation answers 422 with the field and the Chinese reason, and nothing is saved.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.enterprises.models import Park
from kechuang.indicators import selectors, services, task_selectors, tasks
from kechuang.indicators.models import Indicator, Observation, PlanTask, Target

router = Router(tags=["统计监测"])

R401 = {401: Message}
GUARDED = {**R401, 403: Message}
ONE = {**GUARDED, 404: Message}
WRITE = {**ONE, 422: ValidationErrors}


def _require(request, permission: str, message: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(message)


def _indicator(code: str) -> Indicator:
    found = Indicator.objects.filter(code=code).first()
    if found is None:
        raise Http404(f"指标 {code} 不存在")
    return found


class IndicatorOut(Schema):
    code: str
    name: str
    unit: str
    direction: str = Field(description="increase 越大越好 / decrease 越小越好")
    frequency: str = Field(description="year / quarter / month")
    data_source: str
    scope: str
    computed: str = Field(description="由企业库计算的方法；空字符串表示由业务人员录入观测值")


class FigureOut(Schema):
    kind: str = Field(description="baseline 基期值 / history 历史值 / achieved 期间完成值 / target 目标值")
    year: int
    period_start: int | None
    text: str = Field(description="文件原文中的数值写法，如 1-2、50%左右")
    value: Decimal | None
    value_high: Decimal | None
    comparator: str
    document: str = Field(description="文件编号（docs/sources）")
    document_title: str
    place: str
    quote: str = Field(description="文件中逐字出现的原文")


class PointOut(Schema):
    year: int
    value: float
    source: str = Field(description="document 文件 / observation 业务录入 / registry 企业库实时计算")
    label: str
    on: dt.date | None = Field(description="企业库计算所依据的日期")


class IndicatorDetailOut(IndicatorOut):
    figures: list[FigureOut]
    series: list[PointOut]


class ObservationOut(Schema):
    id: int
    year: int
    sub_period: int
    park: str | None
    value: Decimal
    source: str
    note: str
    recorded_at: dt.datetime


def _observation_out(o: Observation) -> dict:
    fields = ("id", "year", "sub_period", "value", "source", "note", "recorded_at")
    return {**{f: getattr(o, f) for f in fields}, "park": o.park.name if o.park else None}


class ObservationIn(Schema):
    year: int
    sub_period: int = Field(0, description="年度指标为 0；季度 1–4；月度 1–12")
    park_id: int | None = Field(None, description="园区；空为全区")
    value: str = Field(description="数值，十进制字符串")
    source: str = ""
    note: str = ""


class CorrectionIn(Schema):
    value: str
    note: str = Field(description="更正原因（必填）")


class ProgressOut(Schema):
    target_id: int
    indicator: str
    indicator_name: str
    unit: str
    year: int
    target: Decimal
    baseline_year: int
    baseline: Decimal
    park: str | None
    unit_responsible: str | None
    document_place: str | None
    latest_year: int | None
    latest: float | None
    latest_source: str | None
    share: float | None = Field(description="完成度：(最新值 − 基期值) ÷ (目标值 − 基期值)")
    forecast: float | None = Field(description="按现有趋势推算的目标年数值")
    achieved_rate: float | None = Field(description="基期以来年均增长（复合为比例，线性为每年增量）")
    needed_rate: float | None = Field(description="剩余年份需达到的年均增长")
    compound: bool
    status: str = Field(description="achieved / on_track / at_risk / off_track / no_data")
    status_text: str
    reason: str


def _progress_out(state: selectors.Progress) -> dict:
    t = state.target
    return {
        "target_id": t.pk,
        "indicator": t.indicator.code,
        "indicator_name": t.indicator.name,
        "unit": t.indicator.unit,
        "year": t.year,
        "target": t.value,
        "baseline_year": t.baseline_year,
        "baseline": t.baseline_value,
        "park": t.park.name if t.park else None,
        "unit_responsible": t.unit.name if t.unit else None,
        "document_place": f"{t.figure.get_document_display()} {t.figure.place}" if t.figure else None,
        "latest_year": state.latest.year if state.latest else None,
        "latest": state.latest.value if state.latest else None,
        "latest_source": state.latest.label if state.latest else None,
        "share": state.share,
        "forecast": state.forecast,
        "achieved_rate": state.achieved_rate,
        "needed_rate": state.needed_rate,
        "compound": state.compound,
        "status": state.status,
        "status_text": state.status_text,
        "reason": state.reason,
    }


VIEW = ("indicators.view_indicator", "无权查看统计监测")


@router.get("/", response={200: list[IndicatorOut], **GUARDED}, summary="指标目录")
def indicator_list(request):
    _require(request, *VIEW)
    return list(Indicator.objects.all())


class ProgressFilters(Schema):
    year: int | None = Field(None, description="目标年")
    status: str | None = Field(None, description="achieved / on_track / at_risk / off_track / no_data")
    parts: bool = Field(False, description="包含分解目标（按园区、责任单位、阶段）")


@router.get("/progress", response={200: list[ProgressOut], **GUARDED}, summary="目标进度")
def progress_list(request, filters: Query[ProgressFilters]):
    _require(request, *VIEW)
    found = Target.objects.select_related("indicator", "figure", "park", "unit")
    if not filters.parts:
        found = found.filter(parent__isnull=True)
    if filters.year is not None:
        found = found.filter(year=filters.year)
    today = timezone.localdate()
    states = [selectors.progress(t, today) for t in found.order_by("year", "indicator__order", "pk")]
    return [_progress_out(s) for s in states if filters.status in (None, s.status)]


@router.get("/{code}", response={200: IndicatorDetailOut, **ONE}, summary="指标详情：文件数据与历年数值")
def indicator_detail(request, code: str):
    _require(request, *VIEW)
    indicator = _indicator(code)
    figures = [
        {
            **{f: getattr(fig, f) for f in FigureOut.model_fields if f != "document_title"},
            "document_title": fig.get_document_display(),
        }
        for fig in selectors.documented(indicator)
    ]
    series = [p.__dict__ for p in selectors.series(indicator)]
    return {**IndicatorOut.from_orm(indicator).model_dump(), "figures": figures, "series": series}


@router.get("/{code}/observations", response={200: list[ObservationOut], **ONE}, summary="观测值")
@paginate(LimitOffsetPagination)
def observation_list(request, code: str):
    _require(request, "indicators.view_observation", "无权查看观测值")
    indicator = _indicator(code)
    return [
        _observation_out(o)
        for o in indicator.observations.select_related("park").order_by("year", "sub_period", "park_id")
    ]


@router.post("/{code}/observations", response={201: ObservationOut, **WRITE}, summary="录入观测值")
def observation_create(request, code: str, payload: ObservationIn):
    _require(request, "indicators.add_observation", "无权录入观测值")
    indicator = _indicator(code)
    park = get_object_or_404(Park, pk=payload.park_id) if payload.park_id is not None else None
    o = services.record_observation(
        indicator,
        year=payload.year,
        sub_period=payload.sub_period,
        park=park,
        value=payload.value,
        source=payload.source,
        note=payload.note,
        user=request.user,
    )
    return Status(201, _observation_out(o))


@router.patch(
    "/{code}/observations/{observation_id}", response={200: ObservationOut, **WRITE}, summary="更正观测值"
)
def observation_correct(request, code: str, observation_id: int, payload: CorrectionIn):
    _require(request, "indicators.change_observation", "无权更正观测值")
    o = (
        Observation.objects.filter(pk=observation_id, indicator__code=code)
        .select_related("indicator", "park")
        .first()
    )
    if o is None:
        raise Http404("观测值不存在")
    services.correct_observation(o, value=payload.value, note=payload.note, user=request.user)
    return _observation_out(o)


# --- plan tasks ------------------------------------------------------------------------------------------------

TASK_VIEW = ("indicators.view_plantask", "无权查看计划任务")


class TaskOut(Schema):
    id: int
    kind: str = Field(
        description="reform_task 重点任务 / key_project 重点项目 / service 服务事项 / work_item 年度工作要点"
    )
    number: int
    title: str
    category: str
    content: str
    units: list[str] = Field(description="实施主体/责任单位")
    period_text: str
    deadline: dt.date
    status: str = Field(description="not_started / in_progress / done / suspended")
    progress: int = Field(description="进度（%）")
    overdue: bool = Field(description="逾期：今天已过完成期限且未完成")
    document: str
    place: str


class TaskNoteOut(Schema):
    id: int
    date: dt.date
    text: str
    progress: int | None
    author: str | None
    created_at: dt.datetime


class TaskNoteIn(Schema):
    date: dt.date
    text: str
    progress: int | None = Field(None, description="0–100；留空表示只记录进展、不改进度")
    reason: str = Field("", description="进度下调时必填的原因")


class TaskQuery(Schema):
    q: str = ""
    kind: str = ""
    document: str = ""
    unit: str = Field("", description="责任单位编号")
    status: str = ""
    overdue: str = Field("", description="1 仅逾期；0 未逾期")
    sort: str = Field("number", description="number / deadline / -deadline / progress / -progress")


def _task_out(task, today: dt.date) -> dict:
    fields = (
        "id",
        "kind",
        "number",
        "title",
        "category",
        "content",
        "period_text",
        "deadline",
        "status",
        "progress",
        "document",
        "place",
    )
    return {
        **{f: getattr(task, f) for f in fields},
        "units": [u.name for u in task.units.all()],
        "overdue": task_selectors.is_overdue(task, today),
    }


def _note_out(note) -> dict:
    fields = ("id", "date", "text", "progress", "created_at")
    return {
        **{f: getattr(note, f) for f in fields},
        "author": note.author.get_username() if note.author else None,
    }


@router.get("/tasks/", response={200: list[TaskOut], **GUARDED}, summary="计划任务")
@paginate(LimitOffsetPagination)
def task_list(request, filters: Query[TaskQuery]):
    _require(request, *TASK_VIEW)
    today = timezone.localdate()
    chosen = task_selectors.TaskFilters.from_params(filters.model_dump())
    return [_task_out(t, today) for t in task_selectors.tasks(chosen, today=today)]


@router.get("/tasks/{task_id}", response={200: TaskOut, **ONE}, summary="计划任务详情")
def task_detail(request, task_id: int):
    _require(request, *TASK_VIEW)
    task = PlanTask.objects.filter(pk=task_id).prefetch_related("units").first()
    if task is None:
        raise Http404("计划任务不存在")
    return _task_out(task, timezone.localdate())


@router.get("/tasks/{task_id}/notes", response={200: list[TaskNoteOut], **ONE}, summary="进展记录")
def task_notes(request, task_id: int):
    _require(request, *TASK_VIEW)
    task = get_object_or_404(PlanTask, pk=task_id)
    return [_note_out(n) for n in task_selectors.task_notes(task)]


@router.post("/tasks/{task_id}/notes", response={201: TaskNoteOut, **WRITE}, summary="填报进展")
def task_note_add(request, task_id: int, payload: TaskNoteIn):
    _require(request, "indicators.add_tasknote", "无权填报进展")
    task = get_object_or_404(PlanTask, pk=task_id)
    note = tasks.add_note(
        task,
        date=payload.date,
        text=payload.text,
        progress=payload.progress,
        author=request.user,
        reason=payload.reason,
    )
    return Status(201, _note_out(note))
