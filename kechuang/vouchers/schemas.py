"""The voucher API's schemas (django-ninja / pydantic). Money is yuan: decimal strings on output ("1234.50"),
decimal strings or numbers on input. Input schemas forbid unknown fields. What an input means is checked by the
services, whose Chinese messages come back as 422 items; the schemas only check the shape."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Schema

from kechuang.core.api_schemas import InputSchema, PageQuery  # noqa: F401 (re-exported for the app's api)
from kechuang.vouchers.models import FlagKind, ProviderKind

YUAN = '单位：元（十进制字符串，如 "1234.50"）'
KIND_DOC = "服务类别：" + "、".join(f"{v}（{label}）" for v, label in ProviderKind.choices)
FLAG_DOC = "预警类别：" + "、".join(f"{v}（{label}）" for v, label in FlagKind.choices)


class TransitionOut(Schema):
    name: str = Field(description="操作代码，用于 POST …/transitions/{name}")
    label: str
    to: str
    allowed: bool = Field(description="现在能否执行（检查全部通过）")
    reason: str = Field(description="不能执行的原因（中文）；能执行时为空字符串")


class VoucherReasonIn(InputSchema):
    reason: str = Field("", max_length=2000, description="说明；退回、不予批准、不予兑付时必填")


# --- schemes and the catalogue ----------------------------------------------------------------------------------


class SchemeOut(Schema):
    id: int
    year: int
    name: str
    state: str
    state_display: str
    budget_total: Decimal = Field(description=f"年度总额度，{YUAN}")
    granted: Decimal = Field(description=f"已发券，{YUAN}")
    left: Decimal = Field(description=f"剩余可发 = 年度总额度 − 已发券，{YUAN}")
    used: Decimal = Field(description=f"未被退回的兑付占用的券额，{YUAN}")
    settled: Decimal = Field(description=f"已结算给服务机构的金额，{YUAN}")
    cap_per_enterprise: Decimal = Field(description=f"每家企业上限，{YUAN}")
    share_pct: Decimal = Field(description="抵扣比例（%）：创新券最多支付服务发票金额的比例")
    opens_on: date
    closes_on: date = Field(description="受理截止日期（含当日）")
    valid_until: date = Field(description="券有效期至")


class ServiceOut(Schema):
    id: int
    name: str
    category: str = Field(description=KIND_DOC)
    unit_price: Decimal = Field(description=f"单价，{YUAN}")
    unit: str
    description: str
    active: bool


class ProviderOut(Schema):
    id: int
    name: str
    uscc: str
    kind: str = Field(description=KIND_DOC)
    kind_display: str
    state: str = Field(description="listed（在册）或 suspended（暂停）")
    legal_representative: str
    address: str
    services: list[ServiceOut]


class ProviderFilters(Schema):
    q: str = Field("", max_length=100, description="机构名称、统一社会信用代码、地址或服务名称")
    kind: str = Field("", description=KIND_DOC)
    limit: int = Field(100, ge=1)
    offset: int = Field(0, ge=0)


# --- applications and vouchers ------------------------------------------------------------------------------------


class ApplicationOut(Schema):
    id: int
    scheme_id: int
    scheme: str
    enterprise_id: int
    enterprise_name: str
    requested_amount: Decimal = Field(description=f"申请额度，{YUAN}")
    granted_amount: Decimal | None = Field(description=f"核定额度（批准后），{YUAN}")
    purpose: str
    planned_service_ids: list[int]
    state: str
    state_display: str
    submitted_at: datetime | None
    decision_note: str
    voucher_number: str | None = Field(description="批准后发放的创新券券号")
    open_flags: int = Field(description="未处理的异常预警条数（处理完毕前不能批准）")
    transitions: list[TransitionOut] = Field(description="当前用户有权执行的操作")


class ApplicationIn(InputSchema):
    scheme_id: int
    enterprise_id: int
    requested_amount: Decimal = Field(description=f"申请额度，{YUAN}")
    purpose: str = Field(max_length=2000)
    planned_service_ids: list[int] = Field(default_factory=list, description="拟购服务的编号")


class ApproveIn(InputSchema):
    granted_amount: Decimal | None = Field(None, description=f"核定额度，默认为申请额度，{YUAN}")
    note: str = Field("", max_length=2000, description="审核意见")


class VoucherOut(Schema):
    id: int
    number: str
    scheme_id: int
    enterprise_id: int
    enterprise_name: str
    amount: Decimal = Field(description=f"券面额度，{YUAN}")
    used: Decimal = Field(description=f"已使用（未被退回的兑付），{YUAN}")
    balance: Decimal = Field(description=f"余额，{YUAN}")
    share_pct: Decimal
    issued_at: datetime
    valid_until: date
    expired: bool


# --- redemptions, flags, settlements -------------------------------------------------------------------------------


class FlagOut(Schema):
    id: int
    kind: str = Field(description=FLAG_DOC)
    kind_display: str
    reason: str = Field(description="预警原因（中文）")
    raised_at: datetime
    resolution: str = Field(
        description="空字符串为待处理；cleared 核实无误；upheld 确认违规；closed 随办结关闭"
    )
    resolution_display: str
    resolved_at: datetime | None
    resolution_note: str
    redemption_id: int | None
    application_id: int | None


class FlagResolveIn(InputSchema):
    upheld: bool = Field(description="true 确认违规（兑付不予兑付 / 申请不予批准）；false 核实无误")
    note: str = Field(max_length=1000, description="核实情况（必填）")


class RedemptionOut(Schema):
    id: int
    voucher_number: str
    enterprise_id: int
    enterprise_name: str
    provider_id: int
    provider_name: str
    service_id: int
    service_name: str
    contract_no: str
    contract_amount: Decimal = Field(description=f"合同金额，{YUAN}")
    invoice_no: str = Field(description="发票号码（规范化后）")
    invoice_date: date
    invoice_amount: Decimal = Field(description=f"发票金额，{YUAN}")
    voucher_part: Decimal = Field(description=f"创新券抵扣，{YUAN}")
    state: str
    state_display: str
    submitted_at: datetime
    verified_at: datetime | None
    refusal_reason: str
    flags: list[FlagOut]
    transitions: list[TransitionOut]


class RedemptionIn(InputSchema):
    provider_id: int | None = Field(
        None, description="服务机构编号；服务机构用户可省略（取其所属机构），科委代为录入时必填"
    )
    voucher_number: str = Field(max_length=40)
    enterprise_uscc: str = Field(max_length=30, description="持券企业统一社会信用代码，须与券号一致")
    service_id: int
    contract_no: str = Field(max_length=60)
    contract_amount: Decimal = Field(description=f"合同金额，{YUAN}")
    invoice_no: str = Field(max_length=60)
    invoice_date: date
    invoice_amount: Decimal = Field(description=f"发票金额，{YUAN}")
    amount: Decimal | None = Field(None, description=f"本次抵扣；省略时按抵扣比例计算且不超过余额，{YUAN}")


class SettlementOut(Schema):
    id: int
    provider_id: int
    provider_name: str
    period_start: date
    period_end: date
    total: Decimal = Field(description=f"结算金额，{YUAN}")
    paid_on: date
    voucher_no: str
    redemption_ids: list[int]


class SettlementIn(InputSchema):
    provider_id: int
    period_start: date = Field(description="核验期间起（含）")
    period_end: date = Field(description="核验期间止（含）")
    paid_on: date
    voucher_no: str = Field("", max_length=40, description="会计凭证号")


class SchemePage(Schema):
    items: list[SchemeOut]
    count: int


class ProviderPage(Schema):
    items: list[ProviderOut]
    count: int


class ApplicationPage(Schema):
    items: list[ApplicationOut]
    count: int


class VoucherPage(Schema):
    items: list[VoucherOut]
    count: int


class RedemptionPage(Schema):
    items: list[RedemptionOut]
    count: int


class FlagPage(Schema):
    items: list[FlagOut]
    count: int


class SettlementPage(Schema):
    items: list[SettlementOut]
    count: int
