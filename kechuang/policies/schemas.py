"""The policies API's schemas (django-ninja / pydantic): documents and articles, items, one enterprise's
eligibility, runs and benefits."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from kechuang.policies.models import BenefitRun, BenefitState, DocumentStatus, ItemKind

STATE_DOC = "、".join(f"{value} {label}" for value, label in BenefitState.choices)


class DocumentOut(Schema):
    id: int
    title: str
    number: str = Field(description="文号")
    issuer: str
    issued_on: date
    effective_from: date | None
    effective_to: date | None
    status: Literal[tuple(DocumentStatus.values)]  # type: ignore[valid-type]
    status_display: str
    summary: str
    source: str

    @staticmethod
    def resolve_status_display(obj) -> str:
        return obj.get_status_display()


class ArticleOut(Schema):
    id: int
    number: str
    title: str
    text: str


class DocumentDetailOut(DocumentOut):
    full_text: str
    articles: list[ArticleOut]

    @staticmethod
    def resolve_articles(obj) -> list:
        return list(obj.articles.all())


class DocumentFilters(Schema):
    q: str = Field("", description="关键词：在标题、文号、摘要、全文和条款中查找（包含即命中）")
    issuer: str = ""
    status: str = Field("", description="in_force 现行有效 / expired 已失效 / repealed 已废止")
    year: str = Field("", description="成文年份，如 2025")


class ItemOut(Schema):
    id: int
    name: str
    kind: Literal[tuple(ItemKind.values)]  # type: ignore[valid-type]
    kind_display: str
    state: str = Field(description="draft 草稿 / published 已发布 / withdrawn 已停止执行")
    document_id: int
    article_id: int | None
    eligibility: list[dict[str, Any]]
    formula: str
    parameters: dict[str, Any]
    cap_per_enterprise: Decimal | None = Field(description="单户上限（元）")
    budget: Decimal | None = Field(description="每期预算（元）")
    budget_rule: str
    period_kind: str
    effective_from: date
    effective_to: date | None
    is_demo: bool

    @staticmethod
    def resolve_kind_display(obj) -> str:
        return obj.get_kind_display()


class ItemIn(Schema):
    model_config = ConfigDict(extra="forbid")

    document_id: int
    article_id: int | None = None
    name: str = Field(max_length=200)
    kind: Literal[tuple(ItemKind.values)]  # type: ignore[valid-type]
    description: str = ""
    eligibility: list[dict[str, Any]] = Field(
        default_factory=list, description="资格条件（见 eligibility.py）"
    )
    formula: str = Field(max_length=500, description="金额公式，如 min(loan_interest * rate, 500000)")
    parameters: dict[str, Any] = Field(default_factory=dict)
    cap_per_enterprise: Decimal | None = Field(None, description="单户上限（元，整数）")
    budget: Decimal | None = Field(None, description="每期预算（元，整数）")
    budget_rule: Literal["pro_rata", "first_come"] = "pro_rata"
    period_kind: Literal["year", "quarter"] = "year"
    effective_from: date
    effective_to: date | None = None


class TestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    enterprise_id: int
    period: str = Field(description="兑现期间：年度 2026 或季度 2026Q2")


class EligibilityOut(Schema):
    item_id: int | None
    item_name: str
    enterprise_id: int
    period: str
    on: date
    eligibility: str = Field(description="met 符合 / not_met 不符合 / unknown 待定（数据缺失）")
    outcome: str = Field(
        description="granted 核定发放 / undetermined 待定 / zero 金额为0 / not_eligible 不符合"
    )
    amount: Decimal | None = Field(description="核定金额（元，整数；不含批次预算核减）")
    reason: str
    explanation: dict[str, Any]


class GapOut(Schema):
    condition: str
    gaps: list[str]


class EnterpriseItemOut(Schema):
    item_id: int
    item_name: str
    period: str
    eligibility: str
    amount: Decimal | None
    summary: str
    held_state: str | None = Field(description="本期已核定时的兑现状态")
    gaps: list[GapOut]


class BenefitOut(Schema):
    id: int
    run_id: int
    item_id: int
    enterprise_id: int
    enterprise_name: str
    period: str
    state: str = Field(description=STATE_DOC)
    state_display: str
    amount: Decimal | None = Field(description="核定金额（元）")
    reason: str
    explanation: dict[str, Any]
    inputs: dict[str, Any]
    accepted_at: datetime | None
    paid_at: datetime | None

    @staticmethod
    def resolve_enterprise_name(obj) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_state_display(obj) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_explanation(obj) -> dict[str, Any]:
        return obj.full_explanation


class EnterprisePoliciesOut(Schema):
    enterprise_id: int
    on: date
    benefits: list[BenefitOut]
    qualifies: list[EnterpriseItemOut]
    undetermined: list[EnterpriseItemOut]
    with_gaps: list[EnterpriseItemOut]


class RunOut(Schema):
    id: int
    item_id: int
    item_name: str
    period: str
    as_of: date
    status: Literal[tuple(BenefitRun.Status.values)]  # type: ignore[valid-type]
    state: str = Field(description="reviewing 待审核 / confirmed 已确认 / closed 已结案 / cancelled 已作废")
    total: int
    processed: int
    percent: int
    counts: dict[str, int]
    total_amount: Decimal
    budget_available: Decimal | None
    message: str
    definition: dict[str, Any] = Field(description="核定时的事项定义快照")
    assessment_run_id: int | None = Field(
        None, description="“评价结果”条件所取的梯度评估批次；为空表示核定时当场评价或未用评价结果"
    )
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_item_name(obj) -> str:
        return obj.definition.get("name", "")


class RunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(description="兑现期间：年度 2026 或季度 2026Q2")
    as_of: date | None = Field(None, description="数据截至日期，默认期间最后一天（期间未结束时为今天）")


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = ""


class BenefitFilters(Schema):
    state: str = Field("", description=STATE_DOC)
    q: str = Field("", description="企业名称或统一社会信用代码")
