"""The tiering API (mounted at /api/tiering): assessment runs and their results, one enterprise's assessment
(live, or replayed from a run) with every explanation, the HNTE cultivation pool, and the dated parameters.

The same rules as the pages: runs, their results and the pool need tiering.view_assessment, starting a run
tiering.add_assessmentrun, the parameters tiering.view_parameterrevision (403 without); results are
limited to the enterprises the user may see, and an enterprise outside that scope is not found (404).
An enterprise's live assessment needs only the right to see the enterprise, as its 梯度评估 page.
Errors are in the project's format (kechuang.core.api_errors).
"""

import re
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from kechuang import rules
from kechuang.core import api_errors as errors
from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.enterprises.access import enterprise_for_user
from kechuang.enterprises.models import Enterprise
from kechuang.enterprises.selectors import in_park
from kechuang.tiering import review, schemas, selectors, services
from kechuang.tiering.forms import DATE_INVALID, RunForm
from kechuang.tiering.models import AssessedSituation, Assessment, AssessmentRun

router = Router(tags=["梯度培育"])

MAX_LIMIT = 500
R401 = {401: Message}
GUARDED = {**R401, 403: Message}
ONE = {**GUARDED, 404: Message}

NO_PERMISSION_VIEW = "无权查看梯度评估"
NO_PERMISSION_RUN = "无权发起梯度评估"
NO_PERMISSION_PARAMETERS = "无权查看评价参数"
RUN_NOT_FOUND = "评估批次不存在"
RUN_NOT_DONE = "评估批次尚未完成（{status}），暂无结果"
NOT_IN_RUN = "该企业不在此评估批次中"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _require(request, permission: str, message: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(message)


def _run(run_id: int) -> AssessmentRun:
    run = AssessmentRun.objects.select_related("parameters").filter(pk=run_id).first()
    if run is None:
        raise Http404(RUN_NOT_FOUND)
    return run


def _done_run(run_id: int) -> AssessmentRun:
    run = _run(run_id)
    if run.status != AssessmentRun.Status.DONE:
        raise errors.Conflict(RUN_NOT_DONE.format(status=run.get_status_display()))
    return run


def _scope(user, park: int | None = None):
    """The enterprises the user may see (in `park`, if given); None for the whole registry."""
    scope = selectors.enterprise_scope(user)
    if park is None:
        return scope
    return in_park(Enterprise.objects.all() if scope is None else scope, park)


def _areas_out(areas: list[selectors.AreaResult]) -> list[dict[str, Any]]:
    return [
        {
            "area": a.area,
            "label": a.label,
            "status": a.status,
            "status_display": a.status_label,
            "score_min": a.score_min,
            "score_max": a.score_max,
            "unconfirmed": a.unconfirmed,
            "gaps": a.gaps,
            "explanations": [item.as_dict() for item in (*a.conditions, *a.score_items)],
        }
        for a in areas
    ]


# --- runs -----------------------------------------------------------------------------------------------------


@router.get(
    "/runs",
    response={200: list[schemas.TieringRunOut], **GUARDED, 422: ValidationErrors},
    summary="评估批次列表",
    operation_id="tiering_run_list",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def run_list(request):
    """所有评估批次，最近发起的在前，分页（limit/offset）。需梯度评估查看权限（科委、领导、园区运营方）。"""
    _require(request, "tiering.view_assessment", NO_PERMISSION_VIEW)
    return selectors.runs_list()


@router.get(
    "/runs/{int:run_id}",
    response={200: schemas.TieringRunOut, **ONE},
    summary="评估批次详情（含进度）",
    operation_id="tiering_run_retrieve",
)
def run_retrieve(request, run_id: int):
    _require(request, "tiering.view_assessment", NO_PERMISSION_VIEW)
    return _run(run_id)


@router.post(
    "/runs",
    response={201: schemas.TieringRunOut, **GUARDED, 422: ValidationErrors},
    summary="发起梯度评估（科委业务人员）",
    operation_id="tiering_run_create",
)
def run_create(request, payload: schemas.RunCreate):
    """按评价日期评估全部企业：批次进入队列，由后台处理；用 GET /runs/{run_id} 查看进度。
    日期无效、早于 2000-01-01 或晚于一年以后时为 422（与发起评估页面的校验相同）。"""
    _require(request, "tiering.add_assessmentrun", NO_PERMISSION_RUN)
    text = payload.assessed_on.strip()
    if text and not ISO_DATE.fullmatch(text):  # the page also takes 2026/06/30; the API only ISO dates
        raise errors.FieldErrors(
            [{"field": "assessed_on", "message": DATE_INVALID.format(value=text[:30]), "code": "invalid"}]
        )
    form = RunForm(data={"assessed_on": text})
    if not form.is_valid():
        raise errors.FieldErrors(
            [
                {"field": name, "message": str(error.message), "code": error.code or "invalid"}
                for name, field_errors in form.errors.as_data().items()
                for error in field_errors
            ]
        )
    return Status(201, services.run_request(on=form.cleaned_data["assessed_on"], user=request.user))


@router.get(
    "/runs/{int:run_id}/assessments",
    response={200: list[schemas.AssessmentOut], **ONE, 409: Message, 422: ValidationErrors},
    summary="评估批次的结果",
    operation_id="tiering_run_assessments",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def run_assessments(request, run_id: int, filters: Query[schemas.AssessmentFilters]):
    """一个已完成批次中、当前用户可见企业的每项资质结果（每家企业每项资质一条），按企业、资质排列，分页。
    批次未完成时为 409。"""
    _require(request, "tiering.view_assessment", NO_PERMISSION_VIEW)
    run = _done_run(run_id)
    qs = Assessment.objects.filter(run=run).select_related("enterprise__park")
    scope = _scope(request.user, filters.park)
    if scope is not None:
        qs = qs.filter(enterprise_id__in=scope.values("pk"))
    if filters.area:
        qs = qs.filter(area=filters.area)
    if filters.status:
        qs = qs.filter(status=filters.status)
    ladder = Case(
        *[When(area=area, then=Value(i)) for i, area in enumerate(rules.QUALIFICATIONS)],
        output_field=IntegerField(),
    )
    return qs.order_by("enterprise_id", ladder, "pk")


@router.get(
    "/runs/{int:run_id}/enterprises/{int:enterprise_id}",
    response={200: schemas.EnterpriseAssessmentOut, **ONE, 409: Message},
    summary="一家企业在评估批次中的结果（重放，含全部说明）",
    operation_id="tiering_run_enterprise",
)
def run_enterprise(request, run_id: int, enterprise_id: int):
    """按批次保存的企业数据和参数版本重放，结果与说明与当时完全相同（之后企业数据或参数的变化不影响）。
    企业不在可见范围内或不在该批次中为 404。"""
    enterprise = enterprise_for_user(request.user, enterprise_id)
    _require(request, "tiering.view_assessment", NO_PERMISSION_VIEW)
    run = _done_run(run_id)
    situation = AssessedSituation.objects.filter(run=run, enterprise=enterprise).first()
    if situation is None:
        raise Http404(NOT_IN_RUN)
    report = services.replay(run=run, situations=[situation])[enterprise.pk]
    return {
        "enterprise_id": enterprise.pk,
        "enterprise_name": enterprise.name,
        "on": run.assessed_on,
        "run_id": run.pk,
        "parameters_version": run.parameters_id,
        "areas": _areas_out(selectors.area_results(report)),
    }


# --- one enterprise, live --------------------------------------------------------------------------------------


@router.get(
    "/enterprises/{int:enterprise_id}/assessment",
    response={200: schemas.EnterpriseAssessmentOut, **ONE, 422: ValidationErrors},
    summary="一家企业的实时梯度评估（含全部说明）",
    operation_id="tiering_enterprise_assessment",
)
def enterprise_assessment(request, enterprise_id: int, on: date | None = None):
    """按企业库现有数据和现行参数（含科委的核实结论）实时评价，与企业的梯度评估页相同。
    `on` 为评价日期，默认今天。能查看该企业的用户即可查看（企业用户：本企业）。"""
    enterprise = enterprise_for_user(request.user, enterprise_id)
    on = on or timezone.localdate()
    areas = selectors.enterprise_assessment(enterprise=enterprise, on=on)
    return {
        "enterprise_id": enterprise.pk,
        "enterprise_name": enterprise.name,
        "on": on,
        "run_id": None,
        "parameters_version": services.parameter_set().version,
        "areas": _areas_out(areas),
    }


# --- pools -----------------------------------------------------------------------------------------------------


@router.get(
    "/pools/hnte-cultivation",
    response={200: schemas.PoolPage, **ONE, 409: Message, 422: ValidationErrors},
    summary="高企培育库",
    operation_id="tiering_pool_hnte_cultivation",
)
def pool_hnte_cultivation(request, query: Query[schemas.PoolQuery]):
    """批次中高新技术企业认定不满足或待定、且评价日期未持有有效高企证书的可见企业，按差距由小到大排名：
    不满足的条件数升序，其次待定的条件数升序，再次评分上限降序。`run` 默认最近一次已完成的批次。"""
    _require(request, "tiering.view_assessment", NO_PERMISSION_VIEW)
    run = _done_run(query.run) if query.run is not None else selectors.run_shown(None)
    pool = selectors.POOLS["hnte-cultivation"]
    filters = selectors.PoolFilters(park=str(query.park) if query.park is not None else "", sort="closest")
    qs = selectors.pool_queryset(pool, run=run, user=request.user, filters=filters)
    count = qs.count()
    rows = list(qs[query.offset : query.offset + query.limit])
    return {
        "run_id": run.pk if run else None,
        "assessed_on": run.assessed_on if run else None,
        "count": count,
        "items": [
            {
                "rank": query.offset + index,
                "enterprise_id": row.enterprise_id,
                "enterprise_name": row.enterprise.name,
                "park_id": row.enterprise.park_id,
                "park_name": row.enterprise.park.name if row.enterprise.park_id else None,
                "status": row.status,
                "unmet": row.unmet,
                "unknown": row.unknown,
                "score_min": row.score_min,
                "score_max": row.score_max,
            }
            for index, row in enumerate(rows, start=1)
        ],
    }


# --- parameters ------------------------------------------------------------------------------------------------


@router.get(
    "/parameters",
    response={200: list[schemas.ParameterOut], **GUARDED, 422: ValidationErrors},
    summary="评价参数（含待核实及核实结论）",
    operation_id="tiering_parameter_list",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def parameter_list(request, filters: Query[schemas.ParameterFilters]):
    """每个参数的每个生效期间的取值，按参数路径、生效日期排列。需评价参数查看权限（科委业务人员）。"""
    _require(request, "tiering.view_parameterrevision", NO_PERMISSION_PARAMETERS)
    rows = review.parameter_rows(unconfirmed_only=filters.unconfirmed, area=filters.area or None)
    return [
        {
            "path": row.path,
            "area": row.area,
            "area_label": row.area_label,
            "label": row.value.label,
            "effective_from": row.value.effective_from,
            "effective_to": row.value.effective_to,
            "value": row.value.value,
            "value_text": row.text,
            "unit": row.value.unit,
            "reference": row.shipped.reference,
            "source": row.value.source,
            "status": row.value.status,
            "unconfirmed": row.value.unconfirmed,
            "revision": {
                "value": row.revision.value,
                "note": row.revision.note,
                "decided_by": (row.revision.decided_by.get_full_name() or row.revision.decided_by.username)
                if row.revision.decided_by
                else None,
                "decided_at": row.revision.decided_at,
            }
            if row.revision
            else None,
        }
        for row in rows
    ]
