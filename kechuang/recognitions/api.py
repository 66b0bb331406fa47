"""The recognitions API (mounted at /api/recognitions): 高新技术成果转化项目 (list, detail with its conditions, create a
draft, submit, record the recognition) and 技术合同认定登记 (list, detail, apply, register, 未予登记, the payment plan
and payments of 履约跟踪).

The same rules as the pages: scope first (an object the user may not see is 404), then the permission (403):
reading needs recognitions.view_transformationproject / view_techcontract (officers and leaders everything, an
enterprise its own); applying recognitions.add_*; registering recognitions.register_techcontract; recording a
recognition recognitions.decide_transformationproject; the payment plan and payments
recognitions.change_paymentmilestone. Amounts are yuan, as decimal strings. Every refusal of a service is 422 in
the project's format (kechuang.core.api_errors), nothing saved: a duplicate registration answers
{"detail": [{"field": "contract_no", "message": "卖方……已于……完成认定登记，合同登记编号……不能重复登记", ...}]}.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from kechuang.core.api_errors import Message, ValidationErrors
from kechuang.recognitions import contracts, eligibility, selectors, transformation
from kechuang.recognitions import workflows as wf
from kechuang.recognitions.models import PaymentMilestone, TechContract, TransformationProject
from kechuang.workflows import engine

router = Router(tags=["认定登记"])

R401 = {401: Message}
GUARDED = {**R401, 403: Message}
ONE = {**GUARDED, 404: Message}
WRITE = {**ONE, 422: ValidationErrors}


def _require(request, permission: str, message: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(message)


# —— schemas ————————————————————————————————————————————————————————————————————————————————————————


class MilestoneOut(Schema):
    id: int
    number: int
    due_date: dt.date
    amount: Decimal = Field(description="计划金额（元）")
    paid_amount: Decimal = Field(description="已付金额（元）")
    paid_on: dt.date | None
    note: str
    overdue: bool = Field(description="逾期：计划付款日期已过（当天不算）且未付清")


class ContractOut(Schema):
    id: int
    registration_no: str | None = Field(description="合同登记编号（16 位），登记后才有")
    contract_no: str
    name: str
    contract_type: str = Field(
        description="development 技术开发 / transfer 转让 / licence 许可 / consulting 咨询 / service 服务（民法典第八百四十三条）"
    )
    sub_type: str
    seller_name: str
    seller_uscc: str
    enterprise_id: int | None = Field(description="卖方在企业库中的企业")
    buyer_name: str
    buyer_uscc: str
    buyer_region: str
    buyer_country: str
    signed_on: dt.date
    valid_from: dt.date
    valid_to: dt.date
    total_amount: Decimal = Field(description="成交额（元）")
    tech_amount: Decimal = Field(description="技术交易额（元），不超过成交额")
    payment_mode: str = Field(
        description="民法典第八百四十六条：lump_sum / instalments / royalty / royalty_with_fee"
    )
    state: str = Field(
        description="submitted 待登记 / registered 已登记 / not_registered 未予登记 / cancelled 已撤回或注销"
    )
    state_label: str
    registered_on: dt.date | None
    decision_note: str


class ContractDetailOut(ContractOut):
    plan_note: str
    milestones: list[MilestoneOut]


class ContractIn(Schema):
    contract_no: str
    name: str
    contract_type: str
    sub_type: str
    seller_name: str = Field("", description="卖方名称；企业用户申请时为本企业，可不填")
    seller_uscc: str = Field("", description="卖方统一社会信用代码；企业用户申请时为本企业，可不填")
    seller_region: str = ""
    buyer_name: str
    buyer_uscc: str = ""
    buyer_region: str = ""
    buyer_country: str = "CHN"
    signed_on: dt.date
    valid_from: dt.date
    valid_to: dt.date
    total_amount: str = Field(description="成交额（元），十进制字符串")
    tech_amount: str = Field(description="技术交易额（元），十进制字符串")
    payment_mode: str


class RegisterIn(Schema):
    registration_no: str = Field("", description="16 位；留空则由平台编号")
    registered_on: dt.date | None = Field(None, description="默认今天")


class RecognitionReasonIn(Schema):
    reason: str


class PlanRowIn(Schema):
    due_date: str
    amount: str = Field(description="计划金额（元）")
    note: str = ""


class PlanIn(Schema):
    milestones: list[PlanRowIn]
    note: str = Field("", description="各期合计与成交额不一致时的说明")


class PaymentIn(Schema):
    amount: str = Field(description="本次付款金额（元）")
    paid_on: dt.date


class ConditionOut(Schema):
    code: str
    label: str
    status: str = Field(description="met 满足 / not_met 不满足 / unknown 待定")
    value: str
    requirement: str
    source: str


class ProjectOut(Schema):
    id: int
    enterprise_id: int
    enterprise: str
    name: str
    product: str
    field: str
    state: str = Field(
        description="draft / submitted / returned / district_recommended / recognised / rejected"
    )
    state_label: str
    applied_on: dt.date | None
    certificate_no: str | None
    recognised_on: dt.date | None
    valid_until: dt.date | None


class ProjectDetailOut(ProjectOut):
    core_ip: list[int]
    eligibility: str = Field(description="met / not_met / unknown")
    conditions: list[ConditionOut]


class ProjectIn(Schema):
    enterprise_id: int
    name: str
    product: str
    field: str = ""
    field_detail: str = ""
    description: str = ""
    first_transformed_on: dt.date | None = None
    test_report_no: str = ""
    core_ip: list[int] = Field(default_factory=list, description="本单位知识产权的 id")
    no_infringement: bool = False
    no_accident: bool = False
    not_dishonest: bool = False


class RecogniseIn(Schema):
    certificate_no: str
    recognised_on: dt.date
    note: str = ""


class ContractQuery(Schema):
    q: str = ""
    type: str = ""
    state: str = ""
    year: str = Field("", description="登记年度")
    behind: str = Field("", description="1：仅履约逾期")
    sort: str = "-submitted"


class ProjectQuery(Schema):
    q: str = ""
    state: str = ""
    field: str = ""
    year: str = Field("", description="认定年度")
    sort: str = "-created"


# —— contracts ——————————————————————————————————————————————————————————————————————————————————————

CONTRACT_FIELDS = [f for f in ContractOut.model_fields if f not in ("state_label",)]


def _contract_out(c: TechContract) -> dict:
    return {**{f: getattr(c, f) for f in CONTRACT_FIELDS}, "state_label": engine.state_label(c)}


def _milestone_out(m: PaymentMilestone, on: dt.date, registered: bool) -> dict:
    fields = ("id", "number", "due_date", "amount", "paid_amount", "paid_on", "note")
    return {**{f: getattr(m, f) for f in fields}, "overdue": registered and m.is_overdue(on)}


def _contract(request, contract_id: int) -> TechContract:
    _require(request, selectors.VIEW_CONTRACT, "无权查看技术合同")
    found = selectors.visible_contracts(request.user).filter(pk=contract_id).first()
    if found is None:
        raise Http404("技术合同不存在或无权查看")
    return found


def _contract_detail(c: TechContract) -> dict:
    today = timezone.localdate()
    rows = [_milestone_out(m, today, c.state == "registered") for m in c.milestones.order_by("number")]
    return {**_contract_out(c), "plan_note": c.plan_note, "milestones": rows}


@router.get("/contracts", response={200: list[ContractOut], **GUARDED}, summary="技术合同列表")
@paginate(LimitOffsetPagination)
def contract_list(request, filters: Query[ContractQuery]):
    _require(request, selectors.VIEW_CONTRACT, "无权查看技术合同")
    chosen = selectors.ContractFilters.from_params(filters.model_dump(), selectors.states_of(wf.CONTRACT))
    return [_contract_out(c) for c in selectors.contracts(chosen, user=request.user)]


@router.get(
    "/contracts/{contract_id}", response={200: ContractDetailOut, **ONE}, summary="技术合同详情与付款节点"
)
def contract_detail(request, contract_id: int):
    return _contract_detail(_contract(request, contract_id))


@router.post("/contracts", response={201: ContractDetailOut, **WRITE}, summary="申请技术合同认定登记")
def contract_create(request, payload: ContractIn):
    _require(request, wf.SUBMIT_CONTRACT, "无权申请技术合同认定登记")
    seller = None
    if not request.user.has_perm(wf.REGISTRY):
        seller = selectors.acting_enterprises(request.user).first()
        if seller is None:
            raise PermissionDenied("您的账号未关联企业，不能申请技术合同认定登记")
    created = contracts.contract_create(payload.model_dump(), user=request.user, enterprise=seller)
    return Status(201, _contract_detail(created))


@router.post(
    "/contracts/{contract_id}/register", response={200: ContractDetailOut, **WRITE}, summary="认定登记"
)
def contract_register(request, contract_id: int, payload: RegisterIn):
    contract = _contract(request, contract_id)
    _require(request, wf.REGISTRY, "无权办理技术合同认定登记")
    contracts.contract_register(
        contract,
        user=request.user,
        registration_no=payload.registration_no,
        registered_on=payload.registered_on,
    )
    return _contract_detail(contract)


@router.post(
    "/contracts/{contract_id}/refuse", response={200: ContractDetailOut, **WRITE}, summary="未予登记"
)
def contract_refuse(request, contract_id: int, payload: RecognitionReasonIn):
    contract = _contract(request, contract_id)
    _require(request, wf.REGISTRY, "无权办理技术合同认定登记")
    contracts.contract_refuse(contract, user=request.user, reason=payload.reason)
    return _contract_detail(contract)


@router.get(
    "/contracts/{contract_id}/milestones",
    response={200: list[MilestoneOut], **ONE},
    summary="付款节点（履约跟踪）",
)
def milestone_list(request, contract_id: int):
    return _contract_detail(_contract(request, contract_id))["milestones"]


@router.put(
    "/contracts/{contract_id}/milestones", response={200: list[MilestoneOut], **WRITE}, summary="制定付款计划"
)
def milestone_plan(request, contract_id: int, payload: PlanIn):
    contract = _contract(request, contract_id)
    _require(request, "recognitions.change_paymentmilestone", "无权制定付款计划")
    rows = [row.model_dump() for row in payload.milestones]
    contracts.payment_plan_set(contract, rows, note=payload.note, user=request.user)
    return _contract_detail(contract)["milestones"]


@router.post(
    "/contracts/{contract_id}/milestones/{milestone_id}/payments",
    response={200: MilestoneOut, **WRITE},
    summary="记录履约付款",
)
def payment_add(request, contract_id: int, milestone_id: int, payload: PaymentIn):
    contract = _contract(request, contract_id)
    _require(request, "recognitions.change_paymentmilestone", "无权记录履约付款")
    milestone = contract.milestones.filter(pk=milestone_id).first()
    if milestone is None:
        raise Http404("付款节点不存在")
    milestone.contract = contract
    m = contracts.payment_record(milestone, amount=payload.amount, paid_on=payload.paid_on, user=request.user)
    return _milestone_out(m, timezone.localdate(), True)


# —— 高转项目 ——————————————————————————————————————————————————————————————————————————————————————————

PROJECT_FIELDS = [f for f in ProjectOut.model_fields if f not in ("state_label", "enterprise")]


def _project_out(p: TransformationProject) -> dict:
    return {
        **{f: getattr(p, f) for f in PROJECT_FIELDS},
        "enterprise": p.enterprise.name,
        "state_label": engine.state_label(p),
    }


def _project_detail(p: TransformationProject) -> dict:
    result = eligibility.check(p)
    conditions = [{f: getattr(c, f) for f in ConditionOut.model_fields} for c in result.conditions]
    return {
        **_project_out(p),
        "core_ip": list(p.core_ip.order_by("pk").values_list("pk", flat=True)),
        "eligibility": result.status,
        "conditions": conditions,
    }


def _project(request, project_id: int) -> TransformationProject:
    _require(request, selectors.VIEW_PROJECT, "无权查看高转项目")
    found = selectors.visible_projects(request.user).filter(pk=project_id).first()
    if found is None:
        raise Http404("项目不存在或无权查看")
    return found


@router.get("/projects", response={200: list[ProjectOut], **GUARDED}, summary="高转项目列表")
@paginate(LimitOffsetPagination)
def project_list(request, filters: Query[ProjectQuery]):
    _require(request, selectors.VIEW_PROJECT, "无权查看高转项目")
    chosen = selectors.ProjectFilters.from_params(filters.model_dump(), selectors.states_of(wf.PROJECT))
    return [_project_out(p) for p in selectors.projects(chosen, user=request.user)]


@router.get(
    "/projects/{project_id}", response={200: ProjectDetailOut, **ONE}, summary="高转项目详情与认定条件"
)
def project_detail(request, project_id: int):
    return _project_detail(_project(request, project_id))


@router.post("/projects", response={201: ProjectDetailOut, **WRITE}, summary="新建高转项目认定申请（草稿）")
def project_create(request, payload: ProjectIn):
    _require(request, wf.APPLY, "无权申请高转项目认定")
    enterprise = selectors.acting_enterprises(request.user).filter(pk=payload.enterprise_id).first()
    if enterprise is None:
        raise Http404("企业不存在或您不能代其申请")
    data = payload.model_dump(exclude={"enterprise_id", "core_ip"})
    created = transformation.project_save(
        None, enterprise=enterprise, data=data, ip_ids=payload.core_ip, user=request.user
    )
    return Status(201, _project_detail(created))


@router.post(
    "/projects/{project_id}/submit", response={200: ProjectDetailOut, **WRITE}, summary="提交认定申请"
)
def project_submit(request, project_id: int):
    project = _project(request, project_id)
    transformation.project_submit(project, user=request.user)
    return _project_detail(project)


@router.post(
    "/projects/{project_id}/recognise",
    response={200: ProjectDetailOut, **WRITE},
    summary="登记认定结果（证书）",
)
def project_recognise(request, project_id: int, payload: RecogniseIn):
    project = _project(request, project_id)
    _require(request, wf.DECIDE, "无权登记认定结果")
    transformation.project_recognise(
        project,
        certificate_no=payload.certificate_no,
        recognised_on=payload.recognised_on,
        note=payload.note,
        user=request.user,
    )
    return _project_detail(project)
