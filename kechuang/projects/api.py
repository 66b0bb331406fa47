"""The projects API (mounted at /api/projects): calls, applications, reviews, awards, disbursements.

Thin: every write is the service the pages call (calls.py, applications.py, review.py, money.py, or a workflow
step through kechuang.workflows.selectors.take, which routes submission and formal review through
applications.py as the task inbox does), every read a selector; a refusal is the service's ValidationError,
answered 422 with its Chinese messages (kechuang.core.api_errors), and nothing is changed.

Scope first, then permission, as the rest of the API: an object outside the user's scope is 404, in scope
without the permission 403, anonymous 401. The scopes and permissions are the pages':

  calls               scope: workflows.visible_calls (drafts for officers only); read projects.view_call;
                      create, change projects.change_call; transitions: the workflow's own permissions
  applications        scope: applications.applications_visible_to (an enterprise user its own, officers and
                      leaders all, none without projects.view_application); starting, changing and submitting
                      a draft: projects.add_application and a user of the applying enterprise; formal review
                      projects.change_application; reviews projects.view_score; the 任务书 projects.add_award
  review assignments  an expert its own assignments it may see (review_selectors.expert_assignment: never one
                      withdrawn or in conflict); an officer with projects.change_reviewassignment any (代为办理,
                      as review.py allows); read, accept, withdraw projects.view_reviewassignment; scores
                      projects.add_score (the officer: projects.change_reviewassignment)
  ranking             projects.view_score
  awards              list projects.view_award; one award: money_selectors.visible_awards (officers and leaders
                      all, otherwise the awards of the enterprises the user may see); milestone report: a user of
                      the award's enterprise; accept/return projects.change_milestone; disburse
                      projects.add_disbursement; expenditure a user of the enterprise or projects.add_expenditure;
                      evaluations projects.add_evaluation (as views_money.py)
"""

import datetime as dt
import os
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Status

from kechuang.core import api_errors as errors
from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.projects import (
    applications,
    calls,
    eligibility,
    money,
    money_selectors,
    review,
    review_selectors,
    schemas,
    workflows,
)
from kechuang.projects.models import (
    Application,
    Award,
    BudgetCategory,
    Call,
    Programme,
    ReviewAssignment,
)
from kechuang.workflows import engine
from kechuang.workflows import selectors as workflow_selectors
from kechuang.workflows.selectors import known_states

router = Router(tags=["科技计划项目"])

MAX_LIMIT = 500
R401 = {401: Message}
GUARDED = {**R401, 403: Message}
ONE = {**GUARDED, 404: Message}
WRITE = {**ONE, 422: ValidationErrors}
LIST = {**GUARDED, 422: ValidationErrors}  # a list, or a creation addressed to no object

VIEW_CALL = "projects.view_call"
MANAGE_CALL = "projects.change_call"
APPLY = "projects.add_application"
FORMAL_REVIEW = "projects.change_application"
VIEW_SCORES = "projects.view_score"
VIEW_ASSIGNMENTS = "projects.view_reviewassignment"
SCORE = "projects.add_score"
ACT_FOR_EXPERTS = "projects.change_reviewassignment"
AWARD = "projects.add_award"

CALL_NOT_FOUND = "申报批次不存在或无权查看"
ASSIGNMENT_NOT_FOUND = "评审任务不存在或无权查看"
AWARD_NOT_FOUND = "立项不存在或无权查看"
MILESTONE_NOT_FOUND = "里程碑不存在"
NOT_AN_EXPERT = "您的账号未登记为评审专家"
NO_ENTERPRISE = "您的账号未关联企业，不能申报"
NOT_APPLICANT = "仅申报单位的用户可以修改申报"
AWARD_ACTIONS = {
    "report": "仅项目承担单位的用户可以提交节点报告",
    "review": "无权验收或退回节点",
    "disburse": "无权拨付",
    "expend": "无权填报经费支出",
    "evaluate": "无权登记检查与评价",
}


# --- helpers ---------------------------------------------------------------------------------------------------


def _require(request, permission: str, message: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(message)


def _window(page: schemas.PageQuery) -> slice:
    return slice(page.offset, page.offset + min(page.limit, MAX_LIMIT))


def _renamed(error: ValidationError, prefix: str, keys: Collection[str]) -> list[dict[str, Any]]:
    """A service's 422 items, the fields it names by key within an input object (a form field, a budget
    category, a criterion) given as that input's path ("data.summary", "budget.business.subsidy")."""
    items = errors.from_django(error)
    for item in items:
        field = item["field"]
        if field and field.split(".")[0] in keys:
            item["field"] = f"{prefix}.{field}"
    return items


def _refuse(items: list[dict[str, Any]]) -> errors.FieldErrors:
    seen, unique = set(), []
    for item in items:
        key = (item["field"], item["message"])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return errors.FieldErrors(unique)


class _Undo(Exception):
    """Leaves a transaction.atomic block so that it rolls back."""


def _known_states(key: str) -> dict[str, str]:
    """{state: label} of every published version of workflow `key`, in the order the work goes."""
    return dict(known_states(key))


def _check_state(key: str, state: str | None) -> None:
    if state is None:
        return
    known = _known_states(key)
    if state not in known:
        allowed = "、".join(f"{s}（{label}）" for s, label in known.items())
        raise errors.FieldErrors(
            [{"field": "state", "message": f"状态“{state}”不存在，可选：{allowed}", "code": "invalid"}]
        )


def _transitions(obj, user) -> list[dict]:
    """The steps from the object's state the user holds the permission for, each with whether its checks pass
    now and, if not, why (the engine's options)."""
    permissions = {t["name"]: t.get("permission", "") for t in obj.workflow.definition["transitions"]}
    return [
        {"name": o.name, "label": o.label, "to": o.to, "allowed": o.allowed, "reason": o.reason}
        for o in engine.options(obj, user)
        if not permissions.get(o.name) or user.has_perm(permissions[o.name])
    ]


def _reason(payload: schemas.ProjectTransitionIn | None) -> str:
    """A step's reason; the body may be left out."""
    return payload.reason if payload is not None else ""


def _actor(user) -> str | None:
    return (user.get_full_name() or user.username) if user is not None else None


def _history(obj) -> list[dict]:
    return [
        {
            "transition": e.transition,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "actor": _actor(e.actor),
            "at": e.at,
            "reason": e.reason,
        }
        for e in engine.history(obj).order_by("at", "pk")
    ]


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A time without a time zone is Beijing time (the platform's TIME_ZONE)."""
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


def _eligibility_out(enterprise, results: eligibility.Results) -> dict:
    return {
        "enterprise_id": enterprise.pk,
        "enterprise_name": enterprise.name,
        "eligible": results.eligible,
        "refusal": eligibility.refusal(results),
        "conditions": [
            {"rule": r.rule, "label": r.label, "met": r.met, "status": r.status_text, "reason": r.reason}
            for r in results
        ],
    }


# --- calls -----------------------------------------------------------------------------------------------------


def _call(user, call_id: int) -> Call:
    found = workflows.visible_calls(user).select_related("programme", "workflow").filter(pk=call_id).first()
    if found is None:
        raise Http404(CALL_NOT_FOUND)
    return found


def _programme(pk: int | None) -> Programme:
    found = Programme.objects.filter(pk=pk).first() if pk is not None else None
    if found is None:
        message = "须选择科技计划" if pk is None else f"科技计划 {pk} 不存在"
        raise errors.FieldErrors([{"field": "programme_id", "message": message, "code": "invalid"}])
    return found


def _call_out(call: Call) -> dict:
    return {
        "id": call.pk,
        "programme_id": call.programme_id,
        "programme_name": call.programme.name,
        "year": call.year,
        "title": call.title,
        "state": call.state,
        "state_label": engine.state_label(call),
        "budget_total": call.budget_total,
        "cap_per_project": call.cap_per_project,
        "opens_at": call.opens_at,
        "closes_at": call.closes_at,
        "experts_per_application": call.experts_per_application,
        "accepting": calls.accepting_refusal(call) is None,
    }


def _call_detail(call: Call, user) -> dict:
    rules = []
    for item in call.eligibility or []:
        code = item.get("rule", "") if isinstance(item, dict) else str(item)
        rule = eligibility.RULES.get(code)
        label = (item.get("label") if isinstance(item, dict) else "") or (rule.label if rule else code)
        rules.append({"rule": code, "label": label, "source": rule.source if rule else ""})
    mine = None
    if user.has_perm(APPLY):
        mine = [
            _eligibility_out(e, eligibility.check(call, e)) for e in applications.acting_enterprises(user)
        ]
    counts = None
    if user.has_perm(MANAGE_CALL):
        labels = _known_states(applications.WORKFLOW)
        counts = [
            {"state": row["state"], "label": labels.get(row["state"], row["state"]), "count": row["n"]}
            for row in call.applications.values("state").annotate(n=Count("pk")).order_by("state")
        ]
    return {
        **_call_out(call),
        "guide": call.guide,
        "form": call.form or [],
        "score_sheet": call.score_sheet or [],
        "eligibility": rules,
        "accepting_refusal": calls.accepting_refusal(call),
        "transitions": _transitions(call, user),
        "my_eligibility": mine,
        "application_counts": counts,
    }


CALL_ORDER = {
    "-year": ("-year", "-opens_at", "-pk"),
    "year": ("year", "opens_at", "pk"),
    "-opens_at": ("-opens_at", "-pk"),
    "opens_at": ("opens_at", "pk"),
    "closes_at": ("closes_at", "pk"),
    "-closes_at": ("-closes_at", "-pk"),
    "title": ("title", "pk"),
    "-title": ("-title", "-pk"),
}


@router.get(
    "/calls",
    response={200: schemas.ProjectCallPage, **LIST},
    summary="申报批次列表",
    operation_id="projects_call_list",
)
def call_list(request, filters: Query[schemas.CallFilters]):
    """科委业务人员看到全部批次（含草稿），其他有查看权限的用户（企业用户、领导）看到已发布的批次。
    可按状态、年度、科技计划（含下属计划）筛选，按名称、申报指南或科技计划名称搜索；`accepting=true` 只列出
    现在受理申报的批次。分页（limit/offset）。"""
    _require(request, VIEW_CALL, "无权查看申报批次")
    _check_state(calls.WORKFLOW, filters.state)
    qs = workflows.visible_calls(request.user).select_related("programme", "workflow")
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(Q(title__icontains=q) | Q(guide__icontains=q) | Q(programme__name__icontains=q))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.year is not None:
        qs = qs.filter(year=filters.year)
    if filters.programme is not None:
        qs = qs.filter(programme_id__in=calls.programme_family(filters.programme))
    if filters.accepting is not None:
        accepting = [c.pk for c in calls.open_calls()]
        qs = qs.filter(pk__in=accepting) if filters.accepting else qs.exclude(pk__in=accepting)
    qs = qs.order_by(*CALL_ORDER[filters.ordering])
    return {"count": qs.count(), "items": [_call_out(c) for c in qs[_window(filters)]]}


@router.get(
    "/calls/{int:call_id}",
    response={200: schemas.ProjectCallDetailOut, **ONE},
    summary="申报批次详情（申报书、评分表、申报条件；企业用户含本企业是否符合条件）",
    operation_id="projects_call_detail",
)
def call_detail(request, call_id: int):
    """企业用户另有 `my_eligibility`：本账号关联的每家企业逐条是否满足申报条件（满足、不满足、待核实）及依据。"""
    call = _call(request.user, call_id)
    _require(request, VIEW_CALL, "无权查看申报批次")
    return _call_detail(call, request.user)


@router.post(
    "/calls",
    response={201: schemas.ProjectCallDetailOut, **LIST},
    summary="新建申报批次（科委业务人员，草稿）",
    operation_id="projects_call_create",
)
def call_create(request, payload: schemas.ProjectCallCreate):
    """申报书、评分表、申报条件逐项校验，错误说明指出哪一部分、哪个字段、什么值；有错误时不保存。"""
    _require(request, MANAGE_CALL, "无权新建申报批次")
    values = payload.model_dump()
    programme = _programme(values.pop("programme_id"))
    values["opens_at"], values["closes_at"] = _aware(values["opens_at"]), _aware(values["closes_at"])
    call = calls.call_create(programme=programme, user=request.user, **values)
    return Status(201, _call_detail(_call(request.user, call.pk), request.user))


@router.patch(
    "/calls/{int:call_id}",
    response={200: schemas.ProjectCallDetailOut, **WRITE},
    summary="修改申报批次（科委业务人员）",
    operation_id="projects_call_update",
)
def call_update(request, call_id: int, payload: schemas.ProjectCallPatch):
    """只修改传入的字段。已有申报后申报书、申报条件、单项资助上限、开始受理时间不能再改；专家开始评分后评分表不能再改。"""
    call = _call(request.user, call_id)
    _require(request, MANAGE_CALL, "无权修改申报批次")
    changes = payload.model_dump(exclude_unset=True)
    if "programme_id" in changes:
        changes["programme"] = _programme(changes.pop("programme_id"))
    for name in ("opens_at", "closes_at"):
        if name in changes:
            changes[name] = _aware(changes[name])
    calls.call_update(call, user=request.user, **changes)
    return _call_detail(_call(request.user, call_id), request.user)


@router.post(
    "/calls/{int:call_id}/transitions/{name}",
    response={200: schemas.ProjectCallDetailOut, **WRITE},
    summary="申报批次的流程操作（发布、截止受理、开始评审、公布结果、归档）",
    operation_id="projects_call_transition",
)
def call_transition(request, call_id: int, name: str, payload: schemas.ProjectTransitionIn | None = None):
    """`name` 为详情中 `transitions` 的操作代码。无此操作的权限为 403；状态不对或检查未通过（如未设置评分表、
    截止时间未到、尚有申报未作出立项决定）为 422，说明原因，状态不变。每次操作记入流程记录。"""
    call = _call(request.user, call_id)
    workflow_selectors.take(workflows.CALL, call, name, request.user, _reason(payload))
    return _call_detail(_call(request.user, call_id), request.user)


# --- applications ----------------------------------------------------------------------------------------------


def _application(user, application_id: int) -> Application:
    """Out of the user's scope 404, in scope without projects.view_application 403 (applications.py's getter)."""
    return applications.application_for_user(user, application_id)


def _owner(user, application: Application) -> bool:
    return (
        user.has_perm(APPLY)
        and applications.acting_enterprises(user).filter(pk=application.enterprise_id).exists()
    )


def _editable(user, application_id: int) -> Application:
    """The application, for its applicant's changes (as the pages' _editable_for)."""
    application = _application(user, application_id)
    if not _owner(user, application):
        raise PermissionDenied(NOT_APPLICANT)
    return application


def _award_id(application: Application) -> int | None:
    try:
        return application.award.pk
    except ObjectDoesNotExist:
        return None


def _application_out(application: Application) -> dict:
    return {
        "id": application.pk,
        "call_id": application.call_id,
        "call_title": application.call.title,
        "enterprise_id": application.enterprise_id,
        "enterprise_name": application.enterprise.name,
        "title": application.title,
        "field": application.field,
        "keywords": application.keywords,
        "state": application.state,
        "state_label": engine.state_label(application),
        "requested_amount": application.requested_amount,
        "submitted_at": application.submitted_at,
        "created_at": application.created_at,
        "award_id": _award_id(application),
    }


def _file_size(attachment) -> int | None:
    try:
        return attachment.file.size
    except (OSError, ValueError):
        return None


def _application_detail(application_id: int, user) -> dict:
    application = Application.objects.select_related(
        "call__programme", "call__workflow", "enterprise", "workflow", "award"
    ).get(pk=application_id)
    call = application.call
    data = application.data or {}
    order = {value: number for number, value in enumerate(BudgetCategory.values)}
    lines = sorted(application.budget_lines.all(), key=lambda line: order.get(line.category, 99))
    subsidy = sum((line.subsidy for line in lines), Decimal(0))
    own = sum((line.self_funded for line in lines), Decimal(0))
    file_fields = [k for k, f in calls.field_index(call.form or []).items() if f.get("type") == "file"]
    referenced = {data[k]: k for k in file_fields if data.get(k) is not None}
    can_edit = _owner(user, application) and applications.editable(application)
    return {
        **_application_out(application),
        "data": data,
        "shown_sections": [s["key"] for s in applications.visible_sections(call.form or [], data)],
        "budget_lines": [
            {
                "category": line.category,
                "category_label": line.get_category_display(),
                "subsidy": line.subsidy,
                "self_funded": line.self_funded,
                "note": line.note,
            }
            for line in lines
        ],
        "budget_totals": {"subsidy": subsidy, "self_funded": own, "total": subsidy + own},
        "cap_per_project": call.cap_per_project,
        "over_cap": subsidy > call.cap_per_project,
        "attachments": [
            {
                "id": a.pk,
                "title": a.title,
                "filename": os.path.basename(a.file.name or ""),
                "size": _file_size(a),
                "uploaded_at": a.uploaded_at,
                "field_key": referenced.get(a.pk),
                "download_url": reverse("projects:attachment-download", args=[a.pk]),
            }
            for a in application.attachments.order_by("uploaded_at", "pk")
        ],
        "editable": can_edit,
        "form_errors": applications.form_errors(application) if can_edit else {},
        "submit_problems": applications.submit_problems(application, user) if can_edit else [],
        "eligibility": _eligibility_out(
            application.enterprise, eligibility.check(call, application.enterprise)
        ),
        "transitions": _transitions(application, user),
        "history": _history(application),
    }


APPLICATION_ORDER = {
    "-created_at": ("-created_at", "-pk"),
    "created_at": ("created_at", "pk"),
    "-submitted_at": ("-submitted_at", "-pk"),
    "submitted_at": ("submitted_at", "pk"),
    "title": ("title", "pk"),
    "-title": ("-title", "-pk"),
    "requested_amount": ("requested_amount", "pk"),
    "-requested_amount": ("-requested_amount", "-pk"),
}


@router.get(
    "/applications",
    response={200: schemas.ProjectApplicationPage, **LIST},
    summary="项目申报列表",
    operation_id="projects_application_list",
)
def application_list(request, filters: Query[schemas.ApplicationFilters]):
    """企业用户看到本企业的申报，科委业务人员和领导看到全部。可按申报批次、状态、申报单位筛选，按项目名称或
    申报单位名称搜索，分页（limit/offset）。"""
    _require(request, "projects.view_application", "无权查看项目申报")
    _check_state(applications.WORKFLOW, filters.state)
    qs = applications.applications_visible_to(request.user).select_related(
        "call", "enterprise", "workflow", "award"
    )
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(Q(title__icontains=q) | Q(enterprise__name__icontains=q))
    if filters.call is not None:
        qs = qs.filter(call_id=filters.call)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.enterprise is not None:
        qs = qs.filter(enterprise_id=filters.enterprise)
    qs = qs.order_by(*APPLICATION_ORDER[filters.ordering])
    return {"count": qs.count(), "items": [_application_out(a) for a in qs[_window(filters)]]}


@router.get(
    "/applications/{int:application_id}",
    response={200: schemas.ProjectApplicationDetailOut, **ONE},
    summary="项目申报详情（申报书内容、预算、附件、状态与可执行的操作）",
    operation_id="projects_application_detail",
)
def application_detail(request, application_id: int):
    """申报单位的用户在草稿或退回修改时另见 `form_errors`（未填完整的字段）和 `submit_problems`（提交前须解决的全部问题）。"""
    application = _application(request.user, application_id)
    return _application_detail(application.pk, request.user)


@router.post(
    "/calls/{int:call_id}/applications",
    response={201: schemas.ProjectApplicationDetailOut, **WRITE},
    summary="开始申报（企业用户，建立草稿）",
    operation_id="projects_application_create",
)
def application_create(request, call_id: int, payload: schemas.ProjectApplicationCreate):
    """批次须在受理期内，申报单位须满足申报条件（不满足的条件逐条列出，待核实的不妨碍申报）；同一单位在同一批次
    不能有同名申报。"""
    call = _call(request.user, call_id)
    _require(request, APPLY, "无权申报")
    enterprises = list(applications.acting_enterprises(request.user))
    if not enterprises:
        raise PermissionDenied(NO_ENTERPRISE)
    choices = "、".join(f"{e.pk}（{e.name}）" for e in enterprises)
    if payload.enterprise_id is None:
        if len(enterprises) > 1:
            raise errors.FieldErrors(
                [
                    {
                        "field": "enterprise_id",
                        "message": f"本账号关联多家企业，须指定申报单位，可选：{choices}",
                        "code": "missing",
                    }
                ]
            )
        enterprise = enterprises[0]
    else:
        enterprise = next((e for e in enterprises if e.pk == payload.enterprise_id), None)
        if enterprise is None:
            raise errors.FieldErrors(
                [
                    {
                        "field": "enterprise_id",
                        "message": f"企业 {payload.enterprise_id} 不是本账号关联的企业，可选：{choices}",
                        "code": "invalid",
                    }
                ]
            )
    application = applications.application_start(
        call=call,
        enterprise=enterprise,
        title=payload.title,
        user=request.user,
        field=payload.field.value if payload.field else "",
        keywords=payload.keywords.strip(),
    )
    return Status(201, _application_detail(application.pk, request.user))


@router.patch(
    "/applications/{int:application_id}",
    response={200: schemas.ProjectApplicationDetailOut, **WRITE},
    summary="修改申报（申报书内容、项目名称、经费预算；企业用户，草稿或退回修改时）",
    operation_id="projects_application_update",
)
def application_update(request, application_id: int, payload: schemas.ProjectApplicationPatch):
    """必填项可暂不填写（提交时检查）；填写的值须符合字段的要求。申请资助为各科目资助之和，超过单项资助上限可保存、
    不能提交。任何一处不合规，全部不保存。"""
    application = _editable(request.user, application_id)
    problems: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            if payload.title is not None or payload.data is not None:
                try:
                    applications.application_save(
                        application, data=payload.data or {}, title=payload.title, user=request.user
                    )
                except ValidationError as error:
                    problems += _renamed(error, "data", set(payload.data or {}))
            if payload.budget is not None:
                lines = {category: line.model_dump() for category, line in payload.budget.items()}
                try:
                    applications.budget_set(application, lines=lines, user=request.user)
                except ValidationError as error:
                    problems += _renamed(error, "budget", set(lines))
            if problems:
                raise _Undo
    except _Undo:
        raise _refuse(problems) from None
    return _application_detail(application.pk, request.user)


@router.post(
    "/applications/{int:application_id}/submit",
    response={200: schemas.ProjectApplicationDetailOut, **WRITE},
    summary="提交申报（企业用户）",
    operation_id="projects_application_submit",
)
def application_submit(request, application_id: int):
    """流程的“提交申报”（退回后为“修改后重新提交”）：批次受理中、未过截止时间（截止时刻提交有效）、申报书填写完整、
    申请资助不超过单项资助上限、满足申报条件。不通过时为 422，列出全部原因，申报不变。"""
    application = _editable(request.user, application_id)
    try:
        applications.application_submit(application, user=request.user)
    except ValidationError as error:
        # The engine stops at the first refusal; the others are listed too, as the page lists them.
        items = errors.from_django(error)
        said = {item["message"] for item in items}
        fresh = Application.objects.select_related("call__workflow", "enterprise", "workflow").get(
            pk=application.pk
        )
        items += [
            {"field": "transition", "message": problem, "code": "invalid"}
            for problem in applications.submit_problems(fresh, request.user)
            if problem not in said
        ]
        raise _refuse(items) from None
    return _application_detail(application.pk, request.user)


@router.post(
    "/applications/{int:application_id}/formal-review",
    response={200: schemas.ProjectApplicationDetailOut, **WRITE},
    summary="形式审查：通过，或退回修改（科委业务人员）",
    operation_id="projects_application_formal_review",
)
def application_formal_review(request, application_id: int, payload: schemas.ProjectFormalReviewIn):
    """退回须写明理由（每行一条），理由记入流程记录，申报单位可修改后重新提交。"""
    application = _application(request.user, application_id)
    _require(request, FORMAL_REVIEW, "无权进行形式审查")
    applications.formal_review(application, payload.decision == "pass", payload.reasons, request.user)
    return _application_detail(application.pk, request.user)


@router.post(
    "/applications/{int:application_id}/transitions/{name}",
    response={200: schemas.ProjectApplicationDetailOut, **WRITE},
    summary="申报的流程操作（如送专家评审、评审完成、不予立项、撤回申报）",
    operation_id="projects_application_transition",
)
def application_transition(
    request, application_id: int, name: str, payload: schemas.ProjectTransitionIn | None = None
):
    """`name` 为详情中 `transitions` 的操作代码，与待办事项页面的办理相同（提交、形式审查经由申报服务：提交记录时间，
    退回须写明理由）。无权限为 403，状态不对或检查未通过为 422。"""
    application = _application(request.user, application_id)
    workflow_selectors.take(workflows.APPLICATION, application, name, request.user, _reason(payload))
    return _application_detail(application.pk, request.user)


# --- reviews ---------------------------------------------------------------------------------------------------


def _expert(user):
    try:
        return user.expert
    except ObjectDoesNotExist:
        raise Http404(NOT_AN_EXPERT) from None


def _assignment(user, assignment_id: int) -> ReviewAssignment:
    """An expert's own assignment it may see (never a withdrawn or conflicted one); any for an officer who keeps
    assignments (代为办理)."""
    if user.has_perm(ACT_FOR_EXPERTS):
        found = (
            ReviewAssignment.objects.select_related("application__call", "application__enterprise", "expert")
            .filter(pk=assignment_id)
            .first()
        )
    else:
        try:
            expert = user.expert
        except ObjectDoesNotExist:
            expert = None
        found = review_selectors.expert_assignment(expert, assignment_id) if expert else None
    if found is None:
        raise Http404(ASSIGNMENT_NOT_FOUND)
    _require_view_assignments(user)
    return found


def _require_view_assignments(user) -> None:
    if not user.has_perm(VIEW_ASSIGNMENTS):
        raise PermissionDenied("无权查看评审任务")


def _assignment_out(a: ReviewAssignment) -> dict:
    application = a.application
    return {
        "id": a.pk,
        "state": a.state,
        "state_label": a.get_state_display(),
        "expert_id": a.expert_id,
        "expert_name": a.expert.name,
        "call_id": application.call_id,
        "call_title": application.call.title,
        "application_id": application.pk,
        "application_title": application.title,
        "enterprise_name": application.enterprise.name,
        "field": application.field,
        "field_label": review.field_label(application.field) if application.field else "",
        "keywords": application.keywords,
        "reason": a.reason,
        "submitted_at": a.submitted_at,
        "total": a.total,
    }


def _criteria_out(sheet: list[review.Criterion]) -> list[dict]:
    return [{"key": c.key, "label": c.label, "max": c.max, "weight": c.weight} for c in sheet]


def _assignment_detail(assignment_id: int, user) -> dict:
    a = ReviewAssignment.objects.select_related("application__call", "application__enterprise", "expert").get(
        pk=assignment_id
    )
    application = a.application
    try:
        sheet, problem = review.criteria(application.call), ""
    except ValidationError as error:
        sheet, problem = [], "；".join(error.messages)
    return {
        **_assignment_out(a),
        "form": application.call.form or [],
        "data": application.data or {},
        "score_sheet": _criteria_out(sheet),
        "score_sheet_problem": problem,
        "scores": {s.criterion: s.value for s in a.scores.all()},
        "comment": a.comment,
        "conflicts": review.conflicts(a.expert, application) if user.has_perm(ACT_FOR_EXPERTS) else [],
    }


@router.get(
    "/assignments",
    response={200: schemas.ProjectAssignmentPage, **ONE, 422: ValidationErrors},
    summary="我的评审任务（专家）",
    operation_id="projects_assignment_list",
)
def assignment_list(request, filters: Query[schemas.AssignmentFilters]):
    """专家本人的评审任务，最新的批次在前；已申明回避或存在回避关系的不显示（`hidden` 为其数目）。账号未登记为
    专家时为 404。"""
    _require_view_assignments(request.user)
    expert = _expert(request.user)
    inbox = review_selectors.expert_assignments(expert)
    rows = [
        a
        for a in inbox.assignments
        if (filters.call is None or a.application.call_id == filters.call)
        and (filters.state is None or a.state == filters.state)
    ]
    for a in rows:
        a.expert = expert
    return {
        "count": len(rows),
        "hidden": inbox.hidden,
        "items": [_assignment_out(a) for a in rows[_window(filters)]],
    }


@router.get(
    "/assignments/{int:assignment_id}",
    response={200: schemas.ProjectAssignmentDetailOut, **ONE},
    summary="评审任务详情（申报书内容、评分表、已提交的得分）",
    operation_id="projects_assignment_detail",
)
def assignment_detail(request, assignment_id: int):
    a = _assignment(request.user, assignment_id)
    return _assignment_detail(a.pk, request.user)


@router.post(
    "/assignments/{int:assignment_id}/accept",
    response={200: schemas.ProjectAssignmentDetailOut, **WRITE},
    summary="接受评审邀请（专家）",
    operation_id="projects_assignment_accept",
)
def assignment_accept(request, assignment_id: int):
    a = _assignment(request.user, assignment_id)
    review.accept(a, request.user)
    return _assignment_detail(a.pk, request.user)


@router.post(
    "/assignments/{int:assignment_id}/withdraw",
    response={200: schemas.ProjectAssignmentOut, **WRITE},
    summary="申明回避，退出评审（专家）",
    operation_id="projects_assignment_withdraw",
)
def assignment_withdraw(request, assignment_id: int, payload: schemas.ProjectWithdrawIn):
    """评审任务变为“回避退出”，并登记与申报单位的回避关系（本人申明回避），此后不再推荐该专家评审该单位的申报；
    此后专家本人看不到该任务。已提交评分的不能再申明回避。"""
    a = _assignment(request.user, assignment_id)
    withdrawn = review.declare_conflict(a, payload.reason, request.user)
    return _assignment_out(withdrawn)


@router.post(
    "/assignments/{int:assignment_id}/scores",
    response={200: schemas.ProjectAssignmentDetailOut, **WRITE},
    summary="提交评分（专家；科委业务人员可代为办理）",
    operation_id="projects_assignment_scores",
)
def assignment_scores(request, assignment_id: int, payload: schemas.ProjectScoresIn):
    """每个评分项 0 至满分、最多两位小数，全部填写，只能提交一次。存在回避关系、已回避退出的不能评分。
    不合规时为 422（`field` 为 `scores.评分项`），不保存任何得分。"""
    a = _assignment(request.user, assignment_id)
    own = a.expert.user_id == request.user.pk
    if own and not request.user.has_perm(SCORE):
        raise PermissionDenied("无权提交评分")
    try:
        review.submit_scores(a, payload.scores, payload.comment, request.user)
    except ValidationError as error:
        sheet_keys = {str(c.get("key")) for c in a.application.call.score_sheet or [] if isinstance(c, dict)}
        raise _refuse(_renamed(error, "scores", sheet_keys | set(payload.scores))) from None
    return _assignment_detail(a.pk, request.user)


def _rank_row_out(row: review_selectors.RankRow) -> dict:
    app, result = row.application, row.aggregate
    return {
        "rank": row.rank,
        "application_id": app.pk,
        "title": app.title,
        "field": app.field,
        "state": app.state,
        "enterprise_id": app.enterprise_id,
        "enterprise_name": app.enterprise_name,
        "submitted_at": app.submitted_at,
        "assigned": row.assigned,
        "n": row.n,
        "pending": row.pending,
        "mean": result.mean,
        "trimmed": result.trimmed,
        "median": result.median,
        "low": result.low,
        "high": result.high,
        "spread": result.spread,
        "outliers": len(row.outliers),
        "experts": [
            {
                "assignment_id": e.assignment_id,
                "expert_id": e.expert_id,
                "expert_name": e.expert_name,
                "total": e.total,
                "outlier": e.outlier,
            }
            for e in row.experts
        ],
    }


@router.get(
    "/calls/{int:call_id}/ranking",
    response={200: schemas.ProjectRankingOut, **ONE, 422: ValidationErrors},
    summary="申报批次的评审排名（科委业务人员）",
    operation_id="projects_call_ranking",
)
def call_ranking(request, call_id: int, query: Query[schemas.RankingQuery]):
    """与排名页相同：每项申报的得分为专家加权得分的均分，5 位及以上专家时去掉一个最高分和一个最低分；
    与中位数相差超过 20 分的专家得分标为偏离。得分相同按提交时间先后；尚无评分的排在最后、无名次。"""
    call = _call(request.user, call_id)
    _require(request, VIEW_SCORES, "无权查看评审结果")
    rows = review_selectors.call_ranking(call)
    ordered = review_selectors.sorted_ranking(rows, query.sort)
    return {
        "call_id": call.pk,
        "call_title": call.title,
        "trim_from": review.TRIM_FROM,
        "outlier_points": review.OUTLIER_POINTS,
        "scored": sum(1 for r in rows if r.n),
        "flagged": sum(1 for r in rows if r.outliers),
        "count": len(rows),
        "items": [_rank_row_out(r) for r in ordered[_window(query)]],
    }


@router.get(
    "/applications/{int:application_id}/reviews",
    response={200: schemas.ProjectApplicationReviewsOut, **ONE},
    summary="一项申报的专家评审（每位专家的得分、加权得分、偏离标记）",
    operation_id="projects_application_reviews",
)
def application_reviews(request, application_id: int):
    application = _application(request.user, application_id)
    _require(request, VIEW_SCORES, "无权查看评审结果")
    try:
        found = review_selectors.application_reviews(application)
    except ValidationError as error:
        raise Http404("；".join(error.messages)) from None
    result = found.aggregate
    return {
        "application_id": application.pk,
        "score_sheet": _criteria_out(found.sheet),
        "reviews": [
            {
                "assignment_id": r.assignment.pk,
                "expert_id": r.assignment.expert_id,
                "expert_name": r.assignment.expert.name,
                "state": r.assignment.state,
                "state_label": r.assignment.get_state_display(),
                "comment": r.assignment.comment,
                "scores": r.scores,
                "total": r.total,
                "outlier": r.outlier,
            }
            for r in found.reviews
        ],
        "n": result.n,
        "mean": result.mean,
        "trimmed": result.trimmed,
        "median": result.median,
        "low": result.low,
        "high": result.high,
    }


# --- awards and money ------------------------------------------------------------------------------------------


def _award(user, award_id: int) -> Award:
    found = money_selectors.visible_awards(user).filter(pk=award_id).first()
    if found is None:
        raise Http404(AWARD_NOT_FOUND)
    return found


def _require_on_award(user, award: Award, action: str) -> None:
    if not money_selectors.award_permissions(user, award)[action]:
        raise PermissionDenied(AWARD_ACTIONS[action])


def _award_out(award: Award) -> dict:
    application = award.application
    remaining = getattr(award, "remaining", None)
    return {
        "id": award.pk,
        "contract_no": award.contract_no,
        "application_id": application.pk,
        "application_title": application.title,
        "enterprise_id": application.enterprise_id,
        "enterprise_name": application.enterprise.name,
        "call_id": application.call_id,
        "call_title": application.call.title,
        "state": award.state,
        "state_label": engine.state_label(award),
        "amount": award.amount,
        "disbursed": award.disbursed,
        "remaining": remaining if remaining is not None else award.amount - award.disbursed,
        "approved_at": award.approved_at,
        "start_date": award.start_date,
        "end_date": award.end_date,
    }


def _award_detail(award_id: int, user) -> dict:
    award = Award.objects.select_related("application__enterprise", "application__call", "workflow").get(
        pk=award_id
    )
    summary = money_selectors.money_summary(award)
    spending = money_selectors.expenditure_vs_budget(award)
    return {
        **_award_out(award),
        "pct": summary.pct,
        "consistent": summary.consistent,
        "tranches_total": summary.tranches_total,
        "milestones": [
            {
                "id": row.milestone.pk,
                "number": row.number,
                "title": row.title,
                "deliverables": row.milestone.deliverables,
                "due_date": row.due_date,
                "tranche": row.tranche,
                "state": row.state,
                "state_label": row.state_label,
                "report": row.milestone.report,
                "reported_at": row.milestone.reported_at,
                "accepted_at": row.milestone.accepted_at,
                "paid": row.paid,
                "paid_at": row.paid_at,
                "paid_amount": row.paid_amount,
                "voucher_no": row.voucher_no,
                "payable": row.payable,
                "overdue": row.overdue,
            }
            for row in summary.milestones
        ],
        "disbursements": [
            {
                "id": p.pk,
                "milestone_id": p.milestone_id,
                "milestone_number": p.milestone.number,
                "amount": p.amount,
                "paid_at": p.paid_at,
                "paid_by": _actor(p.paid_by),
                "voucher_no": p.voucher_no,
            }
            for p in summary.disbursements
        ],
        "spending": {
            "rows": [vars(row) for row in spending.rows],
            "budget_total": spending.budget_total,
            "spent_total": spending.spent_total,
            "disbursed": spending.disbursed,
            "pct": spending.pct,
            "over_disbursed": spending.over_disbursed,
            "periods": spending.periods,
            "warnings": money.expenditure_warnings(award),
        },
        "evaluations": [
            {
                "id": e.pk,
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "held_on": e.held_on,
                "patents": e.patents,
                "revenue": e.revenue,
                "jobs": e.jobs,
                "score": e.score,
                "conclusion": e.conclusion,
                "opinion": e.opinion,
            }
            for e in award.evaluations.order_by("held_on", "pk")
        ],
        "transitions": _transitions(award, user),
        "can": money_selectors.award_permissions(user, award),
        "history": _history(award),
    }


@router.get(
    "/awards",
    response={200: schemas.ProjectAwardPage, **LIST},
    summary="立项列表（科委业务人员、领导）",
    operation_id="projects_award_list",
)
def award_list(request, filters: Query[schemas.AwardFilters]):
    """按任务书编号、项目名称、申报单位搜索，按申报批次、状态筛选，排序，分页；`totals` 为筛选结果的资助、拨付合计。
    企业用户从其申报详情的 `award_id` 查看本企业的立项。"""
    _require(request, money_selectors.VIEW_ALL, "无权查看立项列表")
    _check_state(money.AWARD_WORKFLOW, filters.state)
    chosen = money_selectors.AwardFilters(
        q=(filters.q or "").strip(),
        call=str(filters.call) if filters.call is not None else "",
        state=filters.state or "",
        sort=filters.sort,
    )
    qs = money_selectors.awards(chosen, user=request.user)
    return {
        "count": qs.count(),
        "totals": money_selectors.totals(qs),
        "items": [_award_out(a) for a in qs[_window(filters)]],
    }


@router.get(
    "/awards/{int:award_id}",
    response={200: schemas.ProjectAwardDetailOut, **ONE},
    summary="立项详情（里程碑、拨付、经费支出与预算对比、检查与评价）",
    operation_id="projects_award_detail",
)
def award_detail(request, award_id: int):
    """科委业务人员和领导可查看全部立项，企业用户本企业的，园区运营方本园区企业的。`can` 为当前用户能做的操作。"""
    award = _award(request.user, award_id)
    return _award_detail(award.pk, request.user)


@router.post(
    "/applications/{int:application_id}/award",
    response={201: schemas.ProjectAwardDetailOut, **WRITE},
    summary="立项：下达任务书（科委业务人员）",
    operation_id="projects_award_create",
)
def award_create(request, application_id: int, payload: schemas.ProjectAwardCreate):
    """只有评审完成（或已批准立项）的申报可以立项；资助金额不超过单项资助上限和申请的资助；各节点拨款之和恰好等于
    资助金额，计划完成日期在任务书期限内。评审完成的申报随之转为“立项”（流程检查本批次总预算），记入流程记录。"""
    application = _application(request.user, application_id)
    _require(request, AWARD, "无权立项")
    created = money.award(
        application,
        amount=payload.amount,
        contract_no=payload.contract_no,
        start_date=payload.start_date,
        end_date=payload.end_date,
        milestones=[m.model_dump() for m in payload.milestones],
        user=request.user,
    )
    return Status(201, _award_detail(created.pk, request.user))


@router.post(
    "/awards/{int:award_id}/transitions/{name}",
    response={200: schemas.ProjectAwardDetailOut, **WRITE},
    summary="立项的流程操作（开始实施、中期检查、验收、绩效评价、归档）",
    operation_id="projects_award_transition",
)
def award_transition(request, award_id: int, name: str, payload: schemas.ProjectTransitionIn | None = None):
    award = _award(request.user, award_id)
    workflow_selectors.take(workflows.AWARD, award, name, request.user, _reason(payload))
    return _award_detail(award.pk, request.user)


def _milestone(user, award_id: int, milestone_id: int, action: str):
    award = _award(user, award_id)
    milestone = award.milestones.filter(pk=milestone_id).first()
    if milestone is None:
        raise Http404(MILESTONE_NOT_FOUND)
    _require_on_award(user, award, action)
    return award, milestone


@router.post(
    "/awards/{int:award_id}/milestones/{int:milestone_id}/report",
    response={200: schemas.ProjectAwardDetailOut, **WRITE},
    summary="提交节点报告（项目承担单位）",
    operation_id="projects_milestone_report",
)
def milestone_report(request, award_id: int, milestone_id: int, payload: schemas.ProjectReportIn):
    """计划中或退回修改的节点可以提交报告。"""
    award, milestone = _milestone(request.user, award_id, milestone_id, "report")
    money.report_milestone(milestone, payload.text, request.user)
    return _award_detail(award.pk, request.user)


@router.post(
    "/awards/{int:award_id}/milestones/{int:milestone_id}/accept",
    response={200: schemas.ProjectAwardDetailOut, **WRITE},
    summary="节点验收通过（科委业务人员）",
    operation_id="projects_milestone_accept",
)
def milestone_accept(request, award_id: int, milestone_id: int):
    """只有已报告的节点可以验收；验收后方可拨付该节点的拨款。"""
    award, milestone = _milestone(request.user, award_id, milestone_id, "review")
    money.accept_milestone(milestone, request.user)
    return _award_detail(award.pk, request.user)


@router.post(
    "/awards/{int:award_id}/milestones/{int:milestone_id}/return",
    response={200: schemas.ProjectAwardDetailOut, **WRITE},
    summary="节点退回修改（科委业务人员）",
    operation_id="projects_milestone_return",
)
def milestone_return(request, award_id: int, milestone_id: int, payload: schemas.ProjectReturnIn):
    award, milestone = _milestone(request.user, award_id, milestone_id, "review")
    money.return_milestone(milestone, payload.reason, request.user)
    return _award_detail(award.pk, request.user)


@router.post(
    "/awards/{int:award_id}/milestones/{int:milestone_id}/disburse",
    response={200: schemas.ProjectAwardDetailOut, **WRITE},
    summary="拨付节点拨款（科委业务人员）",
    operation_id="projects_milestone_disburse",
)
def milestone_disburse(
    request, award_id: int, milestone_id: int, payload: schemas.ProjectDisburseIn | None = None
):
    """节点须已验收、尚未拨付；拨付后累计不能超过资助金额；验收不通过的项目不再拨付。不合规时为 422，不写入任何记录。"""
    award, milestone = _milestone(request.user, award_id, milestone_id, "disburse")
    money.disburse(milestone, user=request.user, voucher_no=payload.voucher_no if payload else "")
    return _award_detail(award.pk, request.user)


@router.post(
    "/awards/{int:award_id}/expenditures",
    response={201: schemas.ProjectAwardDetailOut, **WRITE},
    summary="填报经费支出（项目承担单位或科委业务人员）",
    operation_id="projects_expenditure_report",
)
def expenditure_report(request, award_id: int, payload: schemas.ProjectExpenditureIn):
    """按预算科目填报截至某日的本期支出，同一截至日期的同一科目只能填报一次。保存后 `spending.warnings` 列出超支
    （累计支出超过该科目预算）和支出超过已拨付的提示。"""
    award = _award(request.user, award_id)
    _require_on_award(request.user, award, "expend")
    try:
        money.report_expenditure(
            award, payload.period_end, dict(payload.amounts), request.user, note=payload.note
        )
    except ValidationError as error:
        raise _refuse(_renamed(error, "amounts", set(payload.amounts))) from None
    return Status(201, _award_detail(award.pk, request.user))


@router.post(
    "/awards/{int:award_id}/evaluations",
    response={201: schemas.ProjectAwardDetailOut, **WRITE},
    summary="登记中期检查、验收或绩效评价（科委业务人员）",
    operation_id="projects_evaluation_create",
)
def evaluation_create(request, award_id: int, payload: schemas.ProjectEvaluationIn):
    """每类一条。登记后项目按流程转入下一状态（中期检查 → 已中期检查；验收 → 验收通过或不通过；绩效评价 →
    已绩效评价），当前用户无权执行该步时留在待办事项中。"""
    award = _award(request.user, award_id)
    _require_on_award(request.user, award, "evaluate")
    values = payload.model_dump()
    money.evaluate(award, values.pop("kind"), **values, user=request.user)
    return Status(201, _award_detail(award.pk, request.user))
