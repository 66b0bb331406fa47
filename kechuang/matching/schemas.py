"""The 双向发榜 API's schemas. Input schemas forbid unknown fields (a misspelt field is an error, not silently
ignored); what the values mean (field codes, lengths, dates, amounts, duplicates) is checked by services.py,
whose Chinese messages come back as 422 items. Money is yuan, as decimal strings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from kechuang.core.api_schemas import InputSchema, PageQuery  # noqa: F401 (re-exported for the app's api)
from kechuang.matching.models import CooperationMode, DeclineReason, DockingState, PostingState
from kechuang.matching.services import FIELD_LABELS, TEXT_LIMITS

FIELD_DOC = "技术领域代码：" + "、".join(f"{k}（{v}）" for k, v in FIELD_LABELS.items())
STATE_DOC = "状态：" + "、".join(f"{k}（{v}）" for k, v in PostingState.choices)
MODE_DOC = "合作方式：" + "、".join(f"{k}（{v}）" for k, v in CooperationMode.choices)
DOCKING_STATE_DOC = "对接状态：" + "、".join(f"{k}（{v}）" for k, v in DockingState.choices)
REASON_DOC = "未成原因：" + "、".join(f"{k}（{v}）" for k, v in DeclineReason.choices)
YUAN = '单位：元（十进制字符串，如 "500000.00"）'


# —— postings ——————————————————————————————————————————————————————————————————————————————————————————————


class PostingFilters(PageQuery):
    q: str = Field("", description="在标题、关键词、正文、企业或单位名称中查找（包含即可）")
    field: str | None = Field(None, description=FIELD_DOC)
    state: str | None = Field(None, description=STATE_DOC)
    park: int | None = Field(None, description="需求方企业所在园区（含下级园区），仅技术需求")
    trl: int | None = Field(None, description="技术成熟度不低于（1–9），仅科技成果")
    organisation: str = Field("", description="所属单位全称，仅成果和专家团队")
    mine: bool = Field(False, description="只列本单位（本企业）的，含草稿和待审核")
    sort: str = Field(
        "-published",
        description="-published 发布时间新在前 / published / -created / created / title / -title；"
        "需求另有 deadline、-deadline、budget、-budget；成果另有 trl、-trl",
    )


class _PostingIn(InputSchema):
    title: str = Field(description="标题（最多 200 字）")
    field: str = Field("", description=FIELD_DOC + "；需求和成果必填")
    keywords: str = Field("", description="关键词，以、或逗号分隔，合计最多 300 字")
    contact_name: str = ""
    contact_phone: str = Field("", description="联系电话：数字、空格、+、-、括号，7–20 位数字")


class DemandIn(_PostingIn):
    enterprise_id: int | None = Field(None, description="发布企业；账号只关联一家企业时可省略")
    description: str = Field(description=f"需求描述，最多 {TEXT_LIMITS['description']:,} 字")
    budget: Decimal | None = Field(None, description="预算，" + YUAN)
    deadline: date | None = Field(None, description="截止日期，不能早于今天")
    submit: bool = Field(False, description="保存后立即提交审核")


class AchievementIn(_PostingIn):
    organisation: str = Field("", description="所属单位：高校/院所用户留空为本单位；科委业务人员必填")
    abstract: str = Field(description=f"成果简介，最多 {TEXT_LIMITS['abstract']:,} 字")
    trl: int | None = Field(None, description="技术成熟度 1–9")
    ip: str = ""
    cooperation_modes: list[str] = Field(default_factory=list, description=MODE_DOC)
    submit: bool = False


class TalentIn(_PostingIn):
    organisation: str = ""
    position: str = ""
    bio: str = Field(description=f"研究方向与成果，最多 {TEXT_LIMITS['bio']:,} 字")
    submit: bool = False


class DemandPatch(InputSchema):
    title: str | None = None
    field: str | None = None
    keywords: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    description: str | None = None
    budget: Decimal | None = None
    deadline: date | None = None


class AchievementPatch(InputSchema):
    title: str | None = None
    field: str | None = None
    keywords: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    abstract: str | None = None
    trl: int | None = None
    ip: str | None = None
    cooperation_modes: list[str] | None = None


class TalentPatch(InputSchema):
    title: str | None = None
    field: str | None = None
    keywords: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    position: str | None = None
    bio: str | None = None


class PostingStepIn(InputSchema):
    reason: str = Field("", max_length=2000, description="审核意见；退回时必填")


class StepOut(Schema):
    name: str
    label: str
    to: str


class PostingOut(Schema):
    id: int
    kind: str = Field(description="demand 技术需求 / achievement 科技成果 / talent 专家团队")
    title: str
    field: str
    field_label: str
    keywords: str
    state: str
    state_label: str
    owner: str = Field(description="发布企业或所属单位")
    contact_name: str
    contact_phone: str = Field(description="对接双方和科委可见全号，其他用户为部分隐去的号码")
    published_at: datetime | None
    moderation_note: str
    created_at: datetime
    updated_at: datetime
    # demand
    enterprise_id: int | None = None
    description: str | None = None
    budget: Decimal | None = None
    deadline: date | None = None
    # achievement
    abstract: str | None = None
    trl: int | None = None
    ip: str | None = None
    cooperation_modes: list[str] | None = None
    # talent
    position: str | None = None
    bio: str | None = None
    steps: list[StepOut] = Field(default_factory=list, description="当前用户现在可执行的审核操作")


class PostingPage(Schema):
    count: int
    items: list[PostingOut]


# —— matches and search ——————————————————————————————————————————————————————————————————————————————————————


class MatchQuery(Schema):
    kinds: str = Field(
        "",
        description="逗号分隔；需求的推荐：achievement、talent（默认两者）；成果的推荐：demand（默认），"
        "科委业务人员另可 enterprise（企业库中的企业）",
    )
    field: str | None = Field(None, description=FIELD_DOC)
    trl_min: int | None = Field(None, ge=1, le=9, description="成熟度不低于（需求的推荐）")
    park: int | None = Field(None, description="企业所在园区（成果的推荐）")
    k: int = Field(10, ge=1, le=50, description="条数，1–50")


class MatchOut(Schema):
    kind: str
    id: int
    title: str = Field(description="标题（企业为企业名称）")
    owner: str = Field(description="发布企业或所属单位")
    field: str
    score: float
    terms: list[str] = Field(description="共同的技术用语，最重要的在前")
    field_match: bool
    good: bool = Field(description="较好的匹配：同领域，且对方标题或内容中出现发布方所填的关键词")
    keyword_hits: list[str] = Field(description="对方标题或内容中出现的发布方关键词")
    explanation: str
    docking_id: int | None = Field(description="已发起的对接")


class SearchQuery(Schema):
    q: str = Field(description="检索词（至少 2 个字）")
    kinds: str = Field("demand,achievement", description="逗号分隔：demand、achievement")
    field: str | None = Field(None, description=FIELD_DOC)
    park: int | None = None
    trl_min: int | None = Field(None, ge=1, le=9)
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)


class HitOut(Schema):
    kind: str
    id: int
    score: float
    title: str
    title_html: str = Field(description="标题，已转义，命中词以 <mark> 标出")
    snippet_html: str = Field(description="摘要，已转义，命中词以 <mark> 标出")
    terms: list[str]
    owner: str
    field: str


class SearchOut(Schema):
    total: int
    terms: list[str]
    items: list[HitOut]


# —— dockings ————————————————————————————————————————————————————————————————————————————————————————————————


class DockingFilters(PageQuery):
    q: str = ""
    state: str | None = Field(None, description=DOCKING_STATE_DOC)
    field: str | None = Field(None, description="需求的" + FIELD_DOC)
    reason: str | None = Field(None, description=REASON_DOC)
    park: int | None = None
    sort: str = Field("-updated", description="-updated / updated / -created / -score / -signed / -amount")


class DockingIn(InputSchema):
    demand_id: int
    achievement_id: int | None = Field(None, description="与 talent_id 二选一")
    talent_id: int | None = None
    note: str = Field("", description="发起说明（可选）")


class DockingStepIn(InputSchema):
    on: date = Field(description="日期（不晚于今天，不早于上一条记录）；签约为签约日期，落地为落地日期")
    text: str = Field(description="本步的对接记录（必填）")
    amount: Decimal | None = Field(None, description="签约必填：合同金额，" + YUAN)
    reason: str = Field("", description="未成必填：" + REASON_DOC)


class NoteIn(InputSchema):
    on: date
    text: str


class NoteOut(Schema):
    id: int
    on: date
    text: str
    state: str
    author: str | None
    created_at: datetime


class DockingOut(Schema):
    id: int
    demand_id: int
    demand_title: str
    enterprise: str
    counterpart_kind: str
    counterpart_id: int
    counterpart_title: str
    organisation: str
    state: str
    state_label: str
    score: float | None
    explanation: dict[str, Any]
    decline_reason: str
    decline_note: str
    signed_on: date | None
    contract_amount: Decimal | None
    landed_on: date | None
    created_at: datetime
    updated_at: datetime


class DockingDetailOut(DockingOut):
    notes: list[NoteOut]
    steps: list[StepOut] = Field(description="当前用户现在可执行的对接操作")


class DockingPage(Schema):
    count: int
    items: list[DockingOut]


class CountOut(Schema):
    code: str
    label: str
    count: int


class DeclinesOut(Schema):
    total: int
    by_reason: list[CountOut]
    by_stage: list[CountOut]
    by_field: list[dict[str, Any]] = Field(description="[{field, field_label, reason, reason_label, count}]")


class UnmatchedOut(Schema):
    demand_id: int
    title: str
    enterprise: str
    field: str
    deadline: date | None
    best_kind: str | None
    best_id: int | None
    best_title: str | None
    why: str
    declined: int
