"""The policies API (mounted at /api/policies): the policy library, policy items (and creating a draft), an item
tried on one enterprise, an enterprise's 可享政策, 免申即享 runs with their benefits, and the review steps.

The same rules as the pages (kechuang/policies/views.py): 403 without the permission, 404 for an object outside
the user's scope (an enterprise, a benefit of another enterprise, a draft item for a reader), 422 for bad input
with Chinese messages naming the field, 409 for a run that is not finished. Errors are in the project's format
(kechuang.core.api_errors).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from kechuang.core import api_errors as errors
from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.enterprises.access import enterprise_for_user
from kechuang.enterprises.models import Enterprise
from kechuang.policies import schemas, selectors, services
from kechuang.policies.models import Article, Benefit, BenefitRun, PolicyDocument, PolicyItem
from kechuang.policies.periods import Period, PeriodError

router = Router(tags=["政策库与免申即享"])

MAX_LIMIT = 500
GUARDED = {401: Message, 403: Message}
ONE = {**GUARDED, 404: Message}
NOT_FOUND = "{what}不存在或无权查看"
RUN_NOT_DONE = "批次尚未核定完成（{status}），暂无结果"


def _require(request, permission: str, message: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(message)


def _item(request, item_id: int) -> PolicyItem:
    _require(request, "policies.view_policyitem", "无权查看政策事项")
    item = PolicyItem.objects.filter(pk=item_id).first()
    if item is None or (item.state == "draft" and not request.user.has_perm("policies.change_policyitem")):
        raise Http404(NOT_FOUND.format(what="政策事项"))
    return item


def _run(request, run_id: int) -> BenefitRun:
    _require(request, "policies.view_benefitrun", "无权查看免申即享批次")
    run = BenefitRun.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404(NOT_FOUND.format(what="批次"))
    return run


def _benefit(request, benefit_id: int) -> Benefit:
    """A benefit of an enterprise the user may see (404 otherwise), then the right to see benefits (403)."""
    visible = Enterprise.objects.visible_to(request.user).values("pk")
    benefit = (
        Benefit.objects.select_related("enterprise").filter(pk=benefit_id, enterprise__in=visible).first()
    )
    if benefit is None:
        raise Http404(NOT_FOUND.format(what="兑现记录"))
    _require(request, "policies.view_benefit", "无权查看政策兑现")
    return benefit


def _validation(error: ValidationError, *, field_map: dict[str, str] | None = None) -> errors.FieldErrors:
    items = errors.from_django(error)
    for item in items:
        if field_map and item["field"] in field_map:
            item["field"] = field_map[item["field"]]
    return errors.FieldErrors(items)


# --- the library ------------------------------------------------------------------------------------------------


@router.get(
    "/documents",
    response={200: list[schemas.DocumentOut], **GUARDED, 422: ValidationErrors},
    summary="政策文件列表（可搜索、筛选）",
    operation_id="policies_document_list",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def document_list(request, filters: Query[schemas.DocumentFilters]):
    """政策库中的政策文件，最新成文的在前。搜索为包含匹配（标题、文号、摘要、全文、条款）。"""
    _require(request, "policies.view_policydocument", "无权查看政策库")
    return selectors.documents(selectors.DocumentFilters.from_params(filters.dict()))


@router.get(
    "/documents/{int:document_id}",
    response={200: schemas.DocumentDetailOut, **ONE},
    summary="政策文件详情（含全文和条款）",
    operation_id="policies_document_retrieve",
)
def document_retrieve(request, document_id: int):
    _require(request, "policies.view_policydocument", "无权查看政策库")
    document = PolicyDocument.objects.prefetch_related("articles").filter(pk=document_id).first()
    if document is None:
        raise Http404(NOT_FOUND.format(what="政策文件"))
    return document


# --- items ----------------------------------------------------------------------------------------------------------


@router.get(
    "/items",
    response={200: list[schemas.ItemOut], **GUARDED, 422: ValidationErrors},
    summary="政策事项列表",
    operation_id="policies_item_list",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def item_list(request):
    """已发布和已停止执行的政策事项；科委业务人员另可见草稿。"""
    _require(request, "policies.view_policyitem", "无权查看政策事项")
    return selectors.items(None, request.user)


@router.get(
    "/items/{int:item_id}",
    response={200: schemas.ItemOut, **ONE},
    summary="政策事项详情（资格条件、公式、参数、上限）",
    operation_id="policies_item_retrieve",
)
def item_retrieve(request, item_id: int):
    return _item(request, item_id)


@router.post(
    "/items",
    response={201: schemas.ItemOut, **GUARDED, 422: ValidationErrors},
    summary="新增政策事项（草稿）",
    operation_id="policies_item_create",
)
def item_create(request, payload: schemas.ItemIn):
    """保存时检查资格条件、公式和参数：未知的数据列、运算符、资质或名称，除以常数 0 以外的结构错误，均为 422 并指明。"""
    _require(request, "policies.add_policyitem", "无权新增政策事项")
    data = payload.dict()
    document = PolicyDocument.objects.filter(pk=data.pop("document_id")).first()
    if document is None:
        raise errors.FieldErrors([{"field": "document_id", "message": "政策文件不存在", "code": "invalid"}])
    article_id = data.pop("article_id")
    article = Article.objects.filter(pk=article_id).first() if article_id else None
    if article_id and article is None:
        raise errors.FieldErrors([{"field": "article_id", "message": "条款不存在", "code": "invalid"}])
    try:
        item = services.item_save(
            item=PolicyItem(document=document, article=article, **data), user=request.user
        )
    except ValidationError as error:
        raise _validation(error, field_map={"article": "article_id", "document": "document_id"}) from None
    return Status(201, item)


def _test_out(item: PolicyItem | None, name: str, result: services.EnterpriseTest) -> dict:
    return {
        "item_id": item.pk if item else None,
        "item_name": name,
        "enterprise_id": result.enterprise.pk,
        "period": result.period.code,
        "on": result.on,
        "eligibility": result.eligibility,
        "outcome": result.outcome,
        "amount": result.amount,
        "reason": result.reason,
        "explanation": result.explanation,
    }


@router.post(
    "/items/{int:item_id}/test",
    response={200: schemas.EligibilityOut, **ONE, 422: ValidationErrors},
    summary="在一家企业上测试政策事项（资格、金额与说明）",
    operation_id="policies_item_test",
)
def item_test(request, item_id: int, payload: schemas.TestIn):
    """与免申即享批次同一计算（一行数据），不含批次预算核减，不保存。企业须在当前用户可见范围内。"""
    item = _item(request, item_id)
    enterprise = enterprise_for_user(request.user, payload.enterprise_id)
    try:
        period = Period.parse(payload.period)
    except PeriodError as error:
        raise errors.FieldErrors([{"field": "period", "message": str(error), "code": "invalid"}]) from None
    try:
        result = services.item_test(definition=item.definition(), enterprise=enterprise, period=period)
    except ValidationError as error:
        raise _validation(error) from None
    return _test_out(item, item.name, result)


@router.get(
    "/enterprises/{int:enterprise_id}/eligibility",
    response={200: schemas.EnterprisePoliciesOut, **ONE},
    summary="一家企业的可享政策（现在符合的、补齐差距后可享的、已核定的兑现）",
    operation_id="policies_enterprise_eligibility",
)
def enterprise_eligibility(request, enterprise_id: int):
    enterprise = enterprise_for_user(request.user, enterprise_id)
    _require(request, "policies.view_policyitem", "无权查看政策事项")
    data = selectors.enterprise_policies(
        enterprise=enterprise,
        today=timezone.localdate(),
        include_review=request.user.has_perm("policies.view_benefitrun"),
    )

    def out(r: selectors.ItemResult) -> dict:
        return {
            "item_id": r.item.pk,
            "item_name": r.item.name,
            "period": r.period.code,
            "eligibility": r.eligibility,
            "amount": r.amount,
            "summary": r.explanation.get("summary", ""),
            "held_state": r.held.state if r.held else None,
            "gaps": [{"condition": label, "gaps": gaps} for label, gaps in r.gaps],
        }

    return {
        "enterprise_id": enterprise.pk,
        "on": data.on,
        "benefits": data.benefits if request.user.has_perm("policies.view_benefit") else [],
        "qualifies": [out(r) for r in data.qualifies],
        "undetermined": [out(r) for r in data.undetermined],
        "with_gaps": [out(r) for r in data.with_gaps],
    }


# --- runs -----------------------------------------------------------------------------------------------------------


@router.get(
    "/runs",
    response={200: list[schemas.RunOut], **GUARDED, 422: ValidationErrors},
    summary="免申即享批次列表",
    operation_id="policies_run_list",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def run_list(request):
    _require(request, "policies.view_benefitrun", "无权查看免申即享批次")
    return selectors.runs()


@router.get(
    "/runs/{int:run_id}",
    response={200: schemas.RunOut, **ONE},
    summary="批次详情（含进度、统计和事项定义快照）",
    operation_id="policies_run_retrieve",
)
def run_retrieve(request, run_id: int):
    return _run(request, run_id)


@router.post(
    "/items/{int:item_id}/runs",
    response={201: schemas.RunOut, **ONE, 422: ValidationErrors},
    summary="发起免申即享核定（科委业务人员）",
    operation_id="policies_run_create",
)
def run_create(request, item_id: int, payload: schemas.RunIn):
    """对一项已发布的政策事项和一个兑现期间核定全部企业：批次进入队列由后台处理，用 GET /runs/{run_id} 查看进度。
    期间早于事项施行日期、晚于截止日期、尚未开始、与事项的兑现周期不符，或同期已有未完成的批次时为 422。"""
    item = _item(request, item_id)
    _require(request, "policies.add_benefitrun", "无权发起免申即享核定")
    try:
        run = services.run_request(
            item=item, period_text=payload.period, as_of=payload.as_of, user=request.user
        )
    except ValidationError as error:
        raise _validation(error) from None
    return Status(201, run)


@router.get(
    "/runs/{int:run_id}/benefits",
    response={200: list[schemas.BenefitOut], **ONE, 409: Message, 422: ValidationErrors},
    summary="批次的核定结果（每户一条，含说明和输入快照）",
    operation_id="policies_run_benefits",
)
@paginate(LimitOffsetPagination, max_limit=MAX_LIMIT)
def run_benefits(request, run_id: int, filters: Query[schemas.BenefitFilters]):
    run = _run(request, run_id)
    _require(request, "policies.view_benefit", "无权查看政策兑现")
    if run.status != BenefitRun.Status.DONE:
        raise errors.Conflict(RUN_NOT_DONE.format(status=run.get_status_display()))
    return selectors.run_benefits(run, selectors.BenefitFilters.from_params(filters.dict()), request.user)


@router.post(
    "/runs/{int:run_id}/{transition}",
    response={200: schemas.RunOut, **ONE, 422: ValidationErrors},
    summary="批次审核：confirm 确认兑现名单 / cancel 作废（须填原因）/ close 结案",
    operation_id="policies_run_transition",
)
def run_transition(request, run_id: int, transition: str, payload: schemas.ReasonIn):
    run = _run(request, run_id)
    _require(request, "policies.change_benefitrun", "无权审核免申即享批次")
    if transition not in ("confirm", "cancel", "close"):
        raise Http404("没有这个操作")
    try:
        return services.run_transition(run=run, name=transition, user=request.user, reason=payload.reason)
    except ValidationError as error:
        raise _validation(error) from None


@router.post(
    "/benefits/{int:benefit_id}/exclude",
    response={200: schemas.BenefitOut, **ONE, 422: ValidationErrors},
    summary="剔除一户（须填原因）",
    operation_id="policies_benefit_exclude",
)
def benefit_exclude(request, benefit_id: int, payload: schemas.ReasonIn):
    benefit = _benefit(request, benefit_id)
    _require(request, "policies.change_benefit", "无权审核政策兑现")
    try:
        return services.benefit_exclude(benefit=benefit, user=request.user, reason=payload.reason)
    except ValidationError as error:
        raise _validation(error) from None


@router.post(
    "/benefits/{int:benefit_id}/accept",
    response={200: schemas.BenefitOut, **ONE, 422: ValidationErrors},
    summary="企业确认领受（本企业用户）",
    operation_id="policies_benefit_accept",
)
def benefit_accept(request, benefit_id: int):
    benefit = _benefit(request, benefit_id)
    _require(request, "policies.accept_benefit", "无权确认领受政策兑现")
    try:
        return services.benefit_accept(benefit=benefit, user=request.user)
    except ValidationError as error:
        raise _validation(error) from None
