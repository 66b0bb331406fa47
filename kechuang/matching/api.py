"""The 双向发榜 API (mounted at /api/matching): postings (技术需求 demands, 科技成果 achievements, 专家团队
talents) with their moderation, the recommendations of a demand or an achievement, one search over demands and
achievements, dockings with their steps and notes, and the officers' analyses.

Thin: every write is the service the pages call (services.py), every read a selector (selectors.py); a refusal
is the service's ValidationError, answered 422 with its Chinese messages (kechuang.core.api_errors), and nothing
is changed. Scope first, then permission: a posting or docking the user may not see is 404; seen but not the
user's to change 403; anonymous 401. Who sees and does what is access.py's (the pages' rules): anyone logged in
reads published postings; each side its own in every state; officers all.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Query, Router, Status

from kechuang.core import api_errors as errors
from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.matching import access, schemas, selectors, services
from kechuang.matching.models import DeclineReason, Docking, DockingState, PostingState
from kechuang.matching.workflows import DOCKING_STEPS, steps_from

router = Router(tags=["双向发榜"])

MAX_LIMIT = 500
R401 = {401: Message}
GUARDED = {**R401, 403: Message}
ONE = {**GUARDED, 404: Message}
WRITE = {**ONE, 422: ValidationErrors}
LIST = {**GUARDED, 422: ValidationErrors}
PATHS = {"demand": "demands", "achievement": "achievements", "talent": "talents"}
NOT_FOUND = {
    "demand": "技术需求不存在或无权查看",
    "achievement": "科技成果不存在或无权查看",
    "talent": "专家团队不存在或无权查看",
}
DOCKING_NOT_FOUND = "对接不存在或无权查看"


def _window(page) -> slice:
    return slice(page.offset, page.offset + min(page.limit, MAX_LIMIT))


def _invalid(field: str, message: str) -> errors.FieldErrors:
    return errors.FieldErrors([{"field": field, "message": message, "code": "invalid"}])


def _check_choice(field: str, value: str | None, allowed: dict[str, str], what: str) -> None:
    if value and value not in allowed:
        choices = "、".join(f"{k}（{v}）" for k, v in allowed.items())
        raise _invalid(field, f"{what}“{value}”不存在，可选：{choices}")


def _posting(kind: str, user, pk: int):
    found = access.visible_postings(kind, user).filter(pk=pk).first()
    if found is None:
        raise Http404(NOT_FOUND[kind])
    return found


def _posting_out(posting, user) -> dict:
    kind = access.kind_of(posting)
    phone = posting.contact_phone
    if phone and not access.may_see_phone(user, posting):
        phone = access.masked(phone)
    out = {
        "id": posting.pk,
        "kind": kind,
        "title": posting.title,
        "field": posting.field,
        "field_label": services.FIELD_LABELS.get(posting.field, ""),
        "keywords": posting.keywords,
        "state": posting.state,
        "state_label": posting.get_state_display(),
        "owner": posting.enterprise.name if kind == "demand" else posting.organisation,
        "contact_name": posting.contact_name,
        "contact_phone": phone,
        "published_at": posting.published_at,
        "moderation_note": posting.moderation_note,
        "created_at": posting.created_at,
        "updated_at": posting.updated_at,
        "steps": [
            {"name": s.name, "label": s.label, "to": s.to} for s in services.allowed_steps(posting, user)
        ],
    }
    extra = {
        "demand": ("enterprise_id", "description", "budget", "deadline"),
        "achievement": ("abstract", "trl", "ip", "cooperation_modes"),
        "talent": ("position", "bio"),
    }[kind]
    return out | {name: getattr(posting, name) for name in extra}


# —— postings ——————————————————————————————————————————————————————————————————————————————————————————————————


def _list(kind: str, request, filters: schemas.PostingFilters) -> dict:
    _check_choice("field", filters.field, services.FIELD_LABELS, "技术领域")
    _check_choice("state", filters.state, services.STATE_LABELS, "状态")
    sorts = selectors.SORTS[kind]
    if filters.sort not in sorts:
        raise _invalid("sort", f"排序“{filters.sort}”不存在，可选：{'、'.join(sorts)}")
    if filters.trl is not None and not 1 <= filters.trl <= 9:
        raise _invalid("trl", f"技术成熟度 {filters.trl} 不在 1–9 之间")
    chosen = selectors.PostingFilters(
        q=filters.q.strip()[: selectors.Q_MAX],
        field=filters.field or "",
        state=filters.state or "",
        park=filters.park,
        trl=filters.trl,
        organisation=filters.organisation.strip(),
        mine=filters.mine,
        sort=filters.sort,
    )
    qs = selectors.postings(kind, chosen, user=request.user)
    if kind == "demand":
        qs = qs.select_related("enterprise")
    return {"count": qs.count(), "items": [_posting_out(p, request.user) for p in qs[_window(filters)]]}


def _create(kind: str, request, payload) -> dict:
    values = payload.model_dump()
    submit = values.pop("submit", False)
    user = request.user
    if kind == "demand":
        enterprise_id = values.pop("enterprise_id")
        mine = list(access.acting_enterprises(user))
        if enterprise_id is None:
            if len(mine) != 1:
                message = (
                    "您的账号关联多家企业，请填写 enterprise_id"
                    if mine
                    else "您的账号未关联企业，不能发布需求"
                )
                raise _invalid("enterprise_id", message)
            enterprise = mine[0]
        else:
            enterprise = next((e for e in mine if e.pk == enterprise_id), None)
            if enterprise is None:
                raise PermissionDenied(f"您不是企业 {enterprise_id} 的用户，不能以其名义发布需求")
        posting = services.demand_create(enterprise=enterprise, user=user, **values)
    else:
        organisation = values.pop("organisation", "")
        create = services.achievement_create if kind == "achievement" else services.talent_create
        posting = create(user=user, organisation=organisation, **values)
    if submit:
        services.posting_take(posting, "submit", user=user)
    return _posting_out(_posting(kind, user, posting.pk), user)


def _register(kind: str, post_schema, patch_schema) -> None:
    label = access.LABELS[kind]
    base = f"/{PATHS[kind]}"

    @router.get(
        base,
        response={200: schemas.PostingPage, **LIST},
        summary=f"{label}列表",
        operation_id=f"matching_{kind}_list",
    )
    def posting_list(request, filters: Query[schemas.PostingFilters]):
        return _list(kind, request, filters)

    @router.post(
        base,
        response={201: schemas.PostingOut, **WRITE},
        summary=f"发布{label}（草稿，或 submit=true 提交审核）",
        operation_id=f"matching_{kind}_create",
    )
    def posting_create(request, payload: post_schema):
        return Status(201, _create(kind, request, payload))

    @router.get(
        base + "/{int:pk}",
        response={200: schemas.PostingOut, **ONE},
        summary=f"{label}详情",
        operation_id=f"matching_{kind}_detail",
    )
    def posting_detail(request, pk: int):
        return _posting_out(_posting(kind, request.user, pk), request.user)

    @router.patch(
        base + "/{int:pk}",
        response={200: schemas.PostingOut, **WRITE},
        summary=f"修改{label}",
        operation_id=f"matching_{kind}_update",
    )
    def posting_update(request, pk: int, payload: patch_schema):
        """只修改传入的字段。发布方修改已发布的内容后回到待审核；科委业务人员修改不改变状态。"""
        posting = _posting(kind, request.user, pk)
        services.posting_update(posting, user=request.user, **payload.model_dump(exclude_unset=True))
        return _posting_out(_posting(kind, request.user, pk), request.user)

    @router.delete(
        base + "/{int:pk}",
        response={204: None, **WRITE},
        summary=f"删除{label}",
        operation_id=f"matching_{kind}_delete",
    )
    def posting_delete(request, pk: int):
        """发布方可删除草稿、退回修改或已撤回的；科委业务人员可删除任何状态的；已有对接的不能删除。"""
        services.posting_delete(_posting(kind, request.user, pk), user=request.user)
        return Status(204, None)

    @router.post(
        base + "/{int:pk}/steps/{name}",
        response={200: schemas.PostingOut, **WRITE},
        summary=f"{label}的审核操作（submit、resubmit、publish、return、close、withdraw）",
        operation_id=f"matching_{kind}_step",
    )
    def posting_step(request, pk: int, name: str, payload: schemas.PostingStepIn):
        posting = _posting(kind, request.user, pk)
        services.posting_take(posting, name, user=request.user, reason=payload.reason)
        return _posting_out(_posting(kind, request.user, pk), request.user)


_register("demand", schemas.DemandIn, schemas.DemandPatch)
_register("achievement", schemas.AchievementIn, schemas.AchievementPatch)
_register("talent", schemas.TalentIn, schemas.TalentPatch)


# —— recommendations and search ———————————————————————————————————————————————————————————————————————————————


def _kinds(text: str, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(k.strip() for k in (text or "").split(",") if k.strip())
    wrong = [k for k in chosen if k not in allowed]
    if wrong:
        raise _invalid("kinds", f"类别“{wrong[0]}”不存在，可选：{'、'.join(allowed)}")
    return chosen or default


def _match_out(row: selectors.MatchRow) -> dict:
    obj = row.obj
    if row.kind == "enterprise":
        title, owner, field = obj.name, obj.name, obj.hitech_field
    else:
        title, field = obj.title, obj.field
        owner = obj.enterprise.name if row.kind == "demand" else obj.organisation
    return {
        "kind": row.kind,
        "id": obj.pk,
        "title": title,
        "owner": owner,
        "field": field,
        "score": row.score,
        "terms": list(row.terms),
        "field_match": row.field_match,
        "good": row.good,
        "keyword_hits": list(row.keyword_hits),
        "explanation": row.explanation,
        "docking_id": row.docking.pk if row.docking else None,
    }


@router.get(
    "/demands/{int:pk}/matches",
    response={200: list[schemas.MatchOut], **ONE, 422: ValidationErrors},
    summary="需求的推荐：匹配的成果和专家团队，附推荐理由",
    operation_id="matching_demand_matches",
)
def demand_matches(request, pk: int, query: Query[schemas.MatchQuery]):
    demand = _posting("demand", request.user, pk)
    _check_choice("field", query.field, services.FIELD_LABELS, "技术领域")
    if demand.state != PostingState.PUBLISHED:
        raise errors.Conflict(f"需求当前为“{demand.get_state_display()}”，发布后才有推荐")
    kinds = _kinds(query.kinds, ("achievement", "talent"), ("achievement", "talent"))
    rows = selectors.demand_matches(demand, kinds=kinds, field=query.field, trl_min=query.trl_min, k=query.k)
    return [_match_out(r) for r in rows]


@router.get(
    "/achievements/{int:pk}/matches",
    response={200: list[schemas.MatchOut], **ONE, 422: ValidationErrors},
    summary="成果的推荐：匹配的企业需求（科委业务人员另可看企业库中的企业）",
    operation_id="matching_achievement_matches",
)
def achievement_matches(request, pk: int, query: Query[schemas.MatchQuery]):
    achievement = _posting("achievement", request.user, pk)
    _check_choice("field", query.field, services.FIELD_LABELS, "技术领域")
    if achievement.state != PostingState.PUBLISHED:
        raise errors.Conflict(f"成果当前为“{achievement.get_state_display()}”，发布后才有推荐")
    allowed = ("demand", "enterprise") if access.sees_all(request.user, "demand") else ("demand",)
    kinds = _kinds(query.kinds, allowed, ("demand",))
    rows = selectors.achievement_matches(
        achievement, kinds=kinds, field=query.field, park=query.park, k=query.k
    )
    return [_match_out(r) for r in rows]


@router.get(
    "/search",
    response={200: schemas.SearchOut, **LIST},
    summary="检索需求与成果（命中词高亮）",
    operation_id="matching_search",
)
def search(request, query: Query[schemas.SearchQuery]):
    """空的或只有一个字的检索词、过长的检索词为 422，说明原因。只检索已发布的需求和成果。"""
    _check_choice("field", query.field, services.FIELD_LABELS, "技术领域")
    kinds = _kinds(query.kinds, ("demand", "achievement"), ("demand", "achievement"))
    page = query.offset // query.limit + 1 if query.offset % query.limit == 0 else None
    if page is None:
        raise _invalid("offset", f"offset 须为 limit 的整数倍（limit {query.limit}）")
    result = selectors.search(
        query.q,
        kinds=kinds,
        field=query.field,
        park=query.park,
        trl_min=query.trl_min,
        page=page,
        per_page=query.limit,
    )
    if result.error:
        raise _invalid("q", result.error)
    items = []
    for row in result.rows:
        obj = row.obj
        items.append(
            {
                "kind": row.hit.kind,
                "id": obj.pk,
                "score": row.hit.score,
                "title": obj.title,
                "title_html": row.hit.title_html,
                "snippet_html": row.hit.snippet_html,
                "terms": list(row.hit.terms),
                "owner": obj.enterprise.name if row.hit.kind == "demand" else obj.organisation,
                "field": obj.field,
            }
        )
    return {"total": result.total, "terms": list(result.terms), "items": items}


# —— dockings ————————————————————————————————————————————————————————————————————————————————————————————————


def _docking(user, pk: int) -> Docking:
    found = (
        access.visible_dockings(user)
        .select_related("demand__enterprise", "achievement", "talent")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(DOCKING_NOT_FOUND)
    return found


def _docking_out(d: Docking) -> dict:
    other = access.counterpart(d)
    return {
        "id": d.pk,
        "demand_id": d.demand_id,
        "demand_title": d.demand.title,
        "enterprise": d.demand.enterprise.name,
        "counterpart_kind": "achievement" if d.achievement_id else "talent",
        "counterpart_id": other.pk,
        "counterpart_title": other.title,
        "organisation": other.organisation,
        "state": d.state,
        "state_label": d.get_state_display(),
        "score": d.score,
        "explanation": d.explanation if isinstance(d.explanation, dict) else {},
        "decline_reason": d.decline_reason,
        "decline_note": d.decline_note,
        "signed_on": d.signed_on,
        "contract_amount": d.contract_amount,
        "landed_on": d.landed_on,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


def _docking_detail(user, pk: int) -> dict:
    d = _docking(user, pk)
    steps = steps_from(DOCKING_STEPS, d.state) if access.may_act_on_docking(user, d) else []
    notes = [
        {
            "id": n.pk,
            "on": n.on,
            "text": n.text,
            "state": n.state,
            "author": (n.author.get_full_name() or n.author.username) if n.author else None,
            "created_at": n.created_at,
        }
        for n in selectors.docking_notes(d)
    ]
    return _docking_out(d) | {
        "notes": notes,
        "steps": [{"name": s.name, "label": s.label, "to": s.to} for s in steps],
    }


@router.get(
    "/dockings",
    response={200: schemas.DockingPage, **LIST},
    summary="对接列表",
    operation_id="matching_docking_list",
)
def docking_list(request, filters: Query[schemas.DockingFilters]):
    """科委业务人员和领导看到全部对接，其他用户看到本企业、本单位参与的对接。"""
    _check_choice("state", filters.state, dict(DockingState.choices), "对接状态")
    _check_choice("field", filters.field, services.FIELD_LABELS, "技术领域")
    _check_choice("reason", filters.reason, dict(DeclineReason.choices), "未成原因")
    if filters.sort not in selectors.DOCKING_SORTS:
        raise _invalid("sort", f"排序“{filters.sort}”不存在，可选：{'、'.join(selectors.DOCKING_SORTS)}")
    chosen = selectors.DockingFilters(
        q=filters.q.strip()[: selectors.Q_MAX],
        state=filters.state or "",
        field=filters.field or "",
        reason=filters.reason or "",
        park=filters.park,
        sort=filters.sort,
    )
    qs = selectors.dockings(chosen, user=request.user)
    return {"count": qs.count(), "items": [_docking_out(d) for d in qs[_window(filters)]]}


@router.post(
    "/dockings",
    response={201: schemas.DockingDetailOut, **WRITE},
    summary="发起对接（记录推荐得分与理由）",
    operation_id="matching_docking_create",
)
def docking_create(request, payload: schemas.DockingIn):
    """需求方、成果方或科委业务人员发起；需求与成果（或专家团队）须已发布，同一对只能发起一次。"""
    user = request.user
    demand = _posting("demand", user, payload.demand_id)
    if (payload.achievement_id is None) == (payload.talent_id is None):
        raise _invalid(
            "achievement_id", "对接须对应一项成果或一个专家团队（achievement_id 与 talent_id 二选一）"
        )
    if payload.achievement_id is not None:
        other = {"achievement": _posting("achievement", user, payload.achievement_id)}
    else:
        other = {"talent": _posting("talent", user, payload.talent_id)}
    docking = services.docking_create(demand, user=user, note=payload.note, **other)
    return Status(201, _docking_detail(user, docking.pk))


@router.get(
    "/dockings/{int:pk}",
    response={200: schemas.DockingDetailOut, **ONE},
    summary="对接详情与进展记录",
    operation_id="matching_docking_detail",
)
def docking_detail(request, pk: int):
    return _docking_detail(request.user, pk)


@router.post(
    "/dockings/{int:pk}/steps/{name}",
    response={200: schemas.DockingDetailOut, **WRITE},
    summary="推进对接（contact 联系、negotiate 洽谈、sign 签约、land 落地、decline 未成）",
    operation_id="matching_docking_step",
)
def docking_step(request, pk: int, name: str, payload: schemas.DockingStepIn):
    """签约须填 amount（签约日期为 on）；未成须填 reason。日期不晚于今天、不早于上一条记录。"""
    docking = _docking(request.user, pk)
    services.docking_step(
        docking,
        name,
        user=request.user,
        on=payload.on,
        text=payload.text,
        amount=payload.amount,
        reason=payload.reason,
    )
    return _docking_detail(request.user, pk)


@router.post(
    "/dockings/{int:pk}/notes",
    response={201: schemas.DockingDetailOut, **WRITE},
    summary="添加对接记录",
    operation_id="matching_docking_note",
)
def docking_note(request, pk: int, payload: schemas.NoteIn):
    docking = _docking(request.user, pk)
    services.docking_note_add(docking, user=request.user, on=payload.on, text=payload.text)
    return Status(201, _docking_detail(request.user, pk))


# —— officers' analyses ——————————————————————————————————————————————————————————————————————————————————————


def _officer(request) -> None:
    if not request.user.has_perm("matching.view_docking"):
        raise PermissionDenied("无权查看对接分析")


@router.get(
    "/declines",
    response={200: schemas.DeclinesOut, **LIST},
    summary="未成原因分析（按原因、阶段、领域）",
    operation_id="matching_declines",
)
def declines(request, year: int | None = None, field: str | None = None):
    _officer(request)
    _check_choice("field", field, services.FIELD_LABELS, "技术领域")
    analysis = selectors.decline_analysis(year=year, field=field or "")
    by_field = [
        {
            "field": code,
            "field_label": label,
            "reason": reason,
            "reason_label": reason_label,
            "count": counts[i],
        }
        for reason, reason_label, counts, _ in analysis.table
        for i, (code, label) in enumerate(analysis.fields)
        if counts[i]
    ]
    return {
        "total": analysis.total,
        "by_reason": [{"code": c, "label": lb, "count": n} for c, lb, n, _ in analysis.reasons],
        "by_stage": [{"code": c, "label": lb, "count": n} for c, lb, n in analysis.stages],
        "by_field": by_field,
    }


@router.get(
    "/unmatched",
    response={200: list[schemas.UnmatchedOut], **LIST},
    summary="待匹配需求（在征集期内、尚无好的匹配）",
    operation_id="matching_unmatched",
)
def unmatched(request, field: str | None = None, park: int | None = None):
    _officer(request)
    _check_choice("field", field, services.FIELD_LABELS, "技术领域")
    return [
        {
            "demand_id": r.demand.pk,
            "title": r.demand.title,
            "enterprise": r.demand.enterprise.name,
            "field": r.demand.field,
            "deadline": r.demand.deadline,
            "best_kind": r.best.kind if r.best else None,
            "best_id": r.best.obj.pk if r.best else None,
            "best_title": r.best.obj.title if r.best else None,
            "why": r.why,
            "declined": r.declined,
        }
        for r in selectors.unmatched_demands(field=field or "", park=park)
    ]
