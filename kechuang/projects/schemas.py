"""The projects API's schemas (django-ninja / pydantic): calls, applications, reviews, awards and their money.

Money is yuan, as decimal strings on output ("1234.50") and decimal strings or numbers on input, as in the
registry API. Input schemas forbid unknown fields (a misspelt field is an error, not silently ignored). What an
input means — which values a call's form, score sheet and eligibility may hold, what a budget or a milestone
must satisfy — is checked by the services (calls.py, applications.py, review.py, money.py), whose Chinese
messages come back as 422 items; the schemas only check the shape.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator

from kechuang.core.api_schemas import InputSchema, PageQuery  # noqa: F401 (re-exported for the app's api)
from kechuang.enterprises.choices import HitechField
from kechuang.projects.models import AssignmentState, BudgetCategory, EvaluationKind

YUAN = '单位：元（十进制字符串，如 "1234.50"）'
CATEGORY_DOC = "预算科目：" + "、".join(f"{value}（{label}）" for value, label in BudgetCategory.choices)
ASSIGNMENT_STATE_DOC = "评审状态：" + "、".join(f"{v}（{label}）" for v, label in AssignmentState.choices)
EVALUATION_DOC = "类别：" + "、".join(f"{v}（{label}）" for v, label in EvaluationKind.choices)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


# An amount of money on output: always two decimals, whatever the database's sum gave back ("700000" on SQLite).
Yuan = Annotated[Decimal, AfterValidator(_cents)]


# --- shared ---------------------------------------------------------------------------------------------------


class ProjectTransitionOut(Schema):
    """A step of the object's workflow from its current state that the user holds the permission for."""

    name: str = Field(description="操作代码，用于 POST …/transitions/{name}")
    label: str
    to: str = Field(description="执行后的状态")
    allowed: bool = Field(description="现在能否执行（检查全部通过）")
    reason: str = Field(description="不能执行的原因（中文）；能执行时为空字符串")


class ProjectTransitionIn(InputSchema):
    reason: str = Field("", max_length=2000, description="说明（记入流程记录）")


class ProjectLogOut(Schema):
    transition: str
    from_state: str
    to_state: str
    actor: str | None = Field(description="操作人")
    at: datetime
    reason: str


class ProjectEligibilityConditionOut(Schema):
    rule: str = Field(description="条件代码（projects/eligibility.py）")
    label: str
    met: bool | None = Field(description="true 满足 / false 不满足 / null 待核实（形式审查时人工核实）")
    status: str = Field(description="满足、不满足或待核实")
    reason: str = Field(description="依据企业库的说明")


class ProjectEligibilityOut(Schema):
    enterprise_id: int
    enterprise_name: str
    eligible: bool = Field(description="没有“不满足”的条件（待核实的条件不妨碍申报）")
    refusal: str = Field(description="不能申报的原因（每个不满足的条件）；能申报时为空字符串")
    conditions: list[ProjectEligibilityConditionOut]


# --- calls ----------------------------------------------------------------------------------------------------


class ProjectCallOut(Schema):
    id: int
    programme_id: int
    programme_name: str
    year: int
    title: str
    state: str
    state_label: str
    budget_total: Yuan = Field(description=f"总预算。{YUAN}")
    cap_per_project: Yuan = Field(description=f"单项资助上限。{YUAN}")
    opens_at: datetime = Field(description="开始受理")
    closes_at: datetime = Field(description="截止时间（含：截止时刻提交的有效）")
    experts_per_application: int
    accepting: bool = Field(description="现在是否受理申报（受理中，且在开始受理与截止时间之间）")


class ProjectRuleOut(Schema):
    rule: str
    label: str = Field(description="本批次写明的条件")
    source: str = Field(description="判断依据（企业库、梯度评估等）；条件代码未知时为空字符串")


class ProjectStateCountOut(Schema):
    state: str
    label: str
    count: int


class ProjectCallDetailOut(ProjectCallOut):
    guide: str = Field(description="申报指南")
    form: list[dict[str, Any]] = Field(description="申报书定义（部分与字段，见 projects/calls.py）")
    score_sheet: list[dict[str, Any]] = Field(description='评分表 [{"key", "label", "max", "weight"}]')
    eligibility: list[ProjectRuleOut] = Field(description="申报条件")
    accepting_refusal: str | None = Field(description="不受理的原因；受理中为 null")
    transitions: list[ProjectTransitionOut]
    my_eligibility: list[ProjectEligibilityOut] | None = Field(
        description="企业用户：本账号关联的每家企业是否符合申报条件及原因；其他用户为 null"
    )
    application_counts: list[ProjectStateCountOut] | None = Field(
        description="科委业务人员：各状态的申报数；其他用户为 null"
    )


CALL_ORDERINGS = ("-year", "year", "-opens_at", "opens_at", "closes_at", "-closes_at", "title", "-title")


class ProjectCallPage(Schema):
    items: list[ProjectCallOut]
    count: int


class CallFilters(PageQuery):
    q: str | None = Field(None, max_length=100, description="按名称、申报指南或科技计划名称搜索")
    state: str | None = Field(None, description="状态代码（如 open 受理中）")
    year: int | None = Field(None, description="年度")
    programme: int | None = Field(None, description="科技计划 id，含其下属计划")
    accepting: bool | None = Field(None, description="true：只列出现在受理申报的批次")
    ordering: Literal[CALL_ORDERINGS] = Field("-year", description="排序，前缀 - 表示降序")  # type: ignore[valid-type]


class ProjectCallCreate(InputSchema):
    programme_id: int = Field(description="科技计划 id")
    year: int = Field(description="年度（2000–2100）")
    title: str = Field(max_length=200)
    guide: str = Field(description="申报指南")
    budget_total: Decimal = Field(description=f"总预算。{YUAN}")
    cap_per_project: Decimal = Field(description=f"单项资助上限，不超过总预算。{YUAN}")
    opens_at: datetime = Field(description="开始受理；不带时区的时间按北京时间（Asia/Shanghai）")
    closes_at: datetime = Field(description="截止时间，须晚于开始受理；不带时区的按北京时间")
    experts_per_application: int = Field(5, description="每项评审专家数（1–50）")
    form: Any = Field(
        description="申报书定义：部分（section）的列表，至少一个部分，见 projects/calls.py",
        json_schema_extra={"type": "array", "items": {"type": "object"}},
    )
    score_sheet: Any = Field(
        [],
        description='评分表 [{"key", "label", "max": 满分, "weight": 权重}]，权重之和为 100；发布前须设置',
        json_schema_extra={"type": "array", "items": {"type": "object"}},
    )
    eligibility: Any = Field(
        [],
        description='申报条件 [{"rule": 条件代码, "label": 说明}]',
        json_schema_extra={"type": "array", "items": {"type": "object"}},
    )


class ProjectCallPatch(InputSchema):
    """Only the fields sent change. Once the call has applications its form, eligibility, cap and opening time
    are fixed; once scoring has begun, its score sheet."""

    programme_id: int | None = None
    year: int | None = None
    title: str | None = Field(None, max_length=200)
    guide: str | None = None
    budget_total: Decimal | None = Field(None, description=YUAN)
    cap_per_project: Decimal | None = Field(None, description=YUAN)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    experts_per_application: int | None = None
    form: Any = Field(None, json_schema_extra={"type": "array", "items": {"type": "object"}})
    score_sheet: Any = Field(None, json_schema_extra={"type": "array", "items": {"type": "object"}})
    eligibility: Any = Field(None, json_schema_extra={"type": "array", "items": {"type": "object"}})


# --- applications ----------------------------------------------------------------------------------------------


class ProjectApplicationOut(Schema):
    id: int
    call_id: int
    call_title: str
    enterprise_id: int
    enterprise_name: str
    title: str
    field: str = Field(description="技术领域代码（国家重点支持的高新技术领域）；未填为空字符串")
    keywords: str
    state: str
    state_label: str
    requested_amount: Yuan = Field(description=f"申请资助（各预算科目资助之和）。{YUAN}")
    submitted_at: datetime | None
    created_at: datetime
    award_id: int | None = Field(description="已立项时的任务书 id")


class ProjectBudgetLineOut(Schema):
    category: str = Field(description=CATEGORY_DOC)
    category_label: str
    subsidy: Yuan = Field(description=f"申请资助。{YUAN}")
    self_funded: Yuan = Field(description=f"自筹。{YUAN}")
    note: str


class ProjectBudgetTotalsOut(Schema):
    subsidy: Yuan
    self_funded: Yuan
    total: Yuan


class ProjectAttachmentOut(Schema):
    id: int
    title: str
    filename: str
    size: int | None = Field(description="字节数；文件缺失时为 null")
    uploaded_at: datetime
    field_key: str | None = Field(description="申报书中引用它的附件字段代码；无则为 null")
    download_url: str


class ProjectApplicationDetailOut(ProjectApplicationOut):
    data: dict[str, Any] = Field(description="申报书内容 {字段代码: 值}")
    shown_sections: list[str] = Field(description="按所填内容显示的部分代码（条件部分未满足条件时不显示）")
    budget_lines: list[ProjectBudgetLineOut]
    budget_totals: ProjectBudgetTotalsOut
    cap_per_project: Yuan = Field(description=f"本批次单项资助上限。{YUAN}")
    over_cap: bool = Field(description="申请资助超过单项资助上限（可保存草稿，提交时不予通过）")
    attachments: list[ProjectAttachmentOut]
    editable: bool = Field(description="当前用户（申报单位）现在能否修改、提交")
    form_errors: dict[str, str] = Field(
        description="申报书中尚未填写完整或不合规的字段 {字段代码: 说明}（仅对能修改的申报单位用户列出）"
    )
    submit_problems: list[str] = Field(
        description="提交前须解决的全部问题（仅对能修改的申报单位用户列出）；为空时可以提交"
    )
    eligibility: ProjectEligibilityOut
    transitions: list[ProjectTransitionOut]
    history: list[ProjectLogOut]


APPLICATION_ORDERINGS = (
    "-created_at",
    "created_at",
    "-submitted_at",
    "submitted_at",
    "title",
    "-title",
    "requested_amount",
    "-requested_amount",
)


class ProjectApplicationPage(Schema):
    items: list[ProjectApplicationOut]
    count: int


class ApplicationFilters(PageQuery):
    q: str | None = Field(None, max_length=100, description="按项目名称或申报单位名称搜索")
    call: int | None = Field(None, description="申报批次 id")
    state: str | None = Field(None, description="状态代码（如 submitted 已提交）")
    enterprise: int | None = Field(None, description="申报单位 id")
    ordering: Literal[APPLICATION_ORDERINGS] = Field("-created_at", description="排序，前缀 - 表示降序")  # type: ignore[valid-type]


class ProjectApplicationCreate(InputSchema):
    title: str = Field(max_length=200, description="项目名称")
    enterprise_id: int | None = Field(
        None, description="申报单位 id：本账号关联的企业之一；只关联一家时可省略"
    )
    field: HitechField | None = Field(None, description="技术领域代码")
    keywords: str = Field("", max_length=200, description="关键词，以、或逗号分隔")


class ProjectBudgetLineIn(InputSchema):
    subsidy: Decimal | None = Field(None, description=f"申请资助。{YUAN}；空为 0")
    self_funded: Decimal | None = Field(None, description=f"自筹。{YUAN}；空为 0")
    note: str = Field("", description="测算说明（至多 300 字）")


class ProjectApplicationPatch(InputSchema):
    """草稿（或退回修改的申报）的修改：data 中给出的字段替换原值（空值清除该字段），其余不变；budget 中给出的
    科目替换原值（全空的科目删除），其余科目不变。任何一处不合规则全部不保存。"""

    title: str | None = Field(None, description="项目名称")
    data: dict[str, Any] | None = Field(None, description="申报书内容 {字段代码: 值}；附件字段在页面上传")
    budget: dict[str, ProjectBudgetLineIn] | None = Field(
        None, description=f"经费预算 {{科目: 金额}}。{CATEGORY_DOC}"
    )


class ProjectFormalReviewIn(InputSchema):
    decision: Literal["pass", "return"] = Field(description="pass 形式审查通过 / return 退回修改")
    reasons: str | list[str] = Field("", description="退回理由（退回时必填；文本每行一条，或列表）")


# --- reviews ---------------------------------------------------------------------------------------------------


class ProjectCriterionOut(Schema):
    key: str
    label: str
    max: Decimal = Field(description="满分")
    weight: Decimal = Field(description="权重")


class ProjectAssignmentOut(Schema):
    id: int
    state: str = Field(description=ASSIGNMENT_STATE_DOC)
    state_label: str
    expert_id: int
    expert_name: str
    call_id: int
    call_title: str
    application_id: int
    application_title: str
    enterprise_name: str
    field: str
    field_label: str
    keywords: str
    reason: str = Field(description="推荐理由")
    submitted_at: datetime | None
    total: Decimal | None = Field(description="加权得分（0–100），提交评分后才有")


class ProjectAssignmentPage(Schema):
    items: list[ProjectAssignmentOut]
    count: int
    hidden: int = Field(description="因回避（本人申明或回避关系）不再显示的评审任务数")


class ProjectAssignmentDetailOut(ProjectAssignmentOut):
    form: list[dict[str, Any]] = Field(description="申报书定义")
    data: dict[str, Any] = Field(description="申报书内容")
    score_sheet: list[ProjectCriterionOut]
    score_sheet_problem: str = Field(description="评分表有误时的说明；正常时为空字符串")
    scores: dict[str, Decimal] = Field(description="已提交的得分 {评分项: 得分}")
    comment: str = Field(description="评审意见（或回避原因）")
    conflicts: list[str] = Field(description="与申报单位的回避关系（科委业务人员查看时）；无则为空")


class ProjectWithdrawIn(InputSchema):
    reason: str = Field(description="回避原因（必填，至多 300 字）")


class AssignmentFilters(PageQuery):
    call: int | None = Field(None, description="申报批次 id")
    state: AssignmentState | None = Field(None, description=ASSIGNMENT_STATE_DOC)


class ProjectScoresIn(InputSchema):
    scores: dict[str, Decimal | None] = Field(description="{评分项: 得分}，每项 0 至满分，最多两位小数")
    comment: str = Field("", max_length=2000, description="评审意见")


class ProjectExpertTotalOut(Schema):
    assignment_id: int
    expert_id: int
    expert_name: str
    total: Decimal
    outlier: bool = Field(description="与中位数相差超过 20 分")


class ProjectRankRowOut(Schema):
    rank: int | None = Field(description="名次；尚无评分为 null（排在最后）")
    application_id: int
    title: str
    field: str
    state: str
    enterprise_id: int
    enterprise_name: str
    submitted_at: datetime | None
    assigned: int = Field(description="评审专家数（回避退出的不计）")
    n: int = Field(description="已评分专家数")
    pending: int = Field(description="未提交评分的专家数")
    mean: Decimal | None = Field(
        description="得分：5 位及以上专家去掉一个最高分和一个最低分后的均分，否则均分"
    )
    trimmed: bool = Field(description="是否去掉了最高分和最低分")
    median: Decimal | None
    low: Decimal | None
    high: Decimal | None
    spread: Decimal | None = Field(description="极差")
    outliers: int = Field(description="偏离中位数超过 20 分的专家数")
    experts: list[ProjectExpertTotalOut]


RANKING_SORTS = tuple(
    prefix + name
    for name in ("rank", "mean", "n", "low", "high", "spread", "outliers", "title", "enterprise")
    for prefix in ("", "-")
)


class RankingQuery(PageQuery):
    sort: Literal[RANKING_SORTS] = Field(  # type: ignore[valid-type]
        "rank", description="排序列，前缀 - 表示降序；无值（未评分）的始终排在最后"
    )


class ProjectRankingOut(Schema):
    call_id: int
    call_title: str
    trim_from: int = Field(description="达到该专家数时去掉最高分和最低分")
    outlier_points: Decimal = Field(description="偏离中位数超过该分数即标出")
    scored: int = Field(description="已有评分的申报数")
    flagged: int = Field(description="有偏离专家的申报数")
    count: int
    items: list[ProjectRankRowOut]


class ProjectReviewOut(Schema):
    assignment_id: int
    expert_id: int
    expert_name: str
    state: str
    state_label: str
    comment: str = Field(description="评审意见；回避退出时为回避原因")
    scores: dict[str, Decimal]
    total: Decimal | None
    outlier: bool


class ProjectApplicationReviewsOut(Schema):
    application_id: int
    score_sheet: list[ProjectCriterionOut]
    reviews: list[ProjectReviewOut]
    n: int
    mean: Decimal | None
    trimmed: bool
    median: Decimal | None
    low: Decimal | None
    high: Decimal | None


# --- awards and money ------------------------------------------------------------------------------------------


class ProjectAwardOut(Schema):
    id: int
    contract_no: str
    application_id: int
    application_title: str
    enterprise_id: int
    enterprise_name: str
    call_id: int
    call_title: str
    state: str
    state_label: str
    amount: Yuan = Field(description=f"资助金额。{YUAN}")
    disbursed: Yuan = Field(description=f"已拨付。{YUAN}")
    remaining: Yuan = Field(description=f"未拨付。{YUAN}")
    approved_at: datetime
    start_date: date
    end_date: date


class ProjectAwardTotalsOut(Schema):
    amount: Yuan
    disbursed: Yuan
    remaining: Yuan
    pct: Decimal | None = Field(description="拨付率 %")


class ProjectAwardPage(Schema):
    items: list[ProjectAwardOut]
    count: int
    totals: ProjectAwardTotalsOut = Field(description="筛选结果的合计")


class ProjectMilestoneOut(Schema):
    id: int
    number: int
    title: str
    deliverables: str
    due_date: date
    tranche: Yuan = Field(description=f"对应拨款。{YUAN}")
    state: str = Field(description="planned 计划中 / reported 已报告 / returned 退回修改 / accepted 已验收")
    state_label: str
    report: str
    reported_at: datetime | None
    accepted_at: datetime | None
    paid: bool
    paid_at: datetime | None
    paid_amount: Yuan | None
    voucher_no: str
    payable: bool = Field(description="已验收、未拨付、有对应拨款")
    overdue: bool = Field(description="已过计划完成日期而未验收")


class ProjectDisbursementOut(Schema):
    id: int
    milestone_id: int
    milestone_number: int
    amount: Yuan
    paid_at: datetime
    paid_by: str | None
    voucher_no: str


class ProjectSpendingRowOut(Schema):
    category: str
    label: str
    budget: Yuan = Field(description="预算中的申请资助")
    spent: Yuan = Field(description="累计支出")
    remaining: Yuan
    pct: Decimal | None = Field(description="执行率 %；无预算为 null")
    variance_pct: Decimal | None = Field(description="偏差（执行率 − 100）")
    over: bool = Field(description="超支（支出超过预算）")


class ProjectSpendingPeriodOut(Schema):
    period_end: date
    amounts: dict[str, Yuan]
    total: Yuan


class ProjectSpendingOut(Schema):
    rows: list[ProjectSpendingRowOut]
    budget_total: Yuan
    spent_total: Yuan
    disbursed: Yuan
    pct: Decimal | None
    over_disbursed: bool = Field(description="累计支出超过已拨付")
    periods: list[ProjectSpendingPeriodOut]
    warnings: list[str] = Field(description="超支与支出超过已拨付的提示（中文）")


class ProjectEvaluationOut(Schema):
    id: int
    kind: str = Field(description=EVALUATION_DOC)
    kind_label: str
    held_on: date
    patents: int | None
    revenue: Yuan | None
    jobs: int | None
    score: Decimal | None
    conclusion: str
    opinion: str


class ProjectAwardCanOut(Schema):
    report: bool = Field(description="提交节点报告（申报单位用户）")
    review: bool = Field(description="节点验收、退回")
    disburse: bool = Field(description="拨付")
    expend: bool = Field(description="填报经费支出")
    evaluate: bool = Field(description="登记中期检查、验收、绩效评价")


class ProjectAwardDetailOut(ProjectAwardOut):
    pct: Decimal | None = Field(description="拨付率 %")
    consistent: bool = Field(description="拨付记录之和等于已拨付")
    tranches_total: Yuan
    milestones: list[ProjectMilestoneOut]
    disbursements: list[ProjectDisbursementOut]
    spending: ProjectSpendingOut
    evaluations: list[ProjectEvaluationOut]
    transitions: list[ProjectTransitionOut]
    can: ProjectAwardCanOut
    history: list[ProjectLogOut]


AWARD_SORTS = (
    "-approved",
    "approved",
    "contract",
    "-contract",
    "amount",
    "-amount",
    "disbursed",
    "-disbursed",
    "remaining",
    "-remaining",
    "end",
    "-end",
)


class AwardFilters(PageQuery):
    q: str | None = Field(None, max_length=100, description="按任务书编号、项目名称、申报单位名称或简称搜索")
    call: int | None = Field(None, description="申报批次 id")
    state: str | None = Field(None, description="状态代码（如 in_progress 实施中）")
    sort: Literal[AWARD_SORTS] = Field("-approved", description="排序，前缀 - 表示降序")  # type: ignore[valid-type]


class ProjectMilestoneIn(InputSchema):
    title: str = Field(description="节点名称")
    deliverables: str = Field(description="交付物")
    due_date: date = Field(description="计划完成日期，在任务书期限之内")
    tranche: Decimal = Field(description=f"对应拨款。{YUAN}")


class ProjectAwardCreate(InputSchema):
    contract_no: str = Field(description="任务书编号（唯一，至多 40 个字符）")
    amount: Decimal = Field(description=f"资助金额，不超过单项资助上限和申请的资助。{YUAN}")
    start_date: date
    end_date: date
    milestones: list[ProjectMilestoneIn] = Field(
        description="里程碑，按序号排列；各节点拨款之和须恰好等于资助金额"
    )


class ProjectReportIn(InputSchema):
    text: str = Field(description="节点报告：完成情况与交付物说明")


class ProjectReturnIn(InputSchema):
    reason: str = Field(description="退回原因")


class ProjectDisburseIn(InputSchema):
    voucher_no: str = Field("", description="凭证号（至多 40 个字符）")


class ProjectExpenditureIn(InputSchema):
    period_end: date = Field(description="截至日期：不早于项目开始，不晚于今天")
    amounts: dict[str, Decimal] = Field(description=f"本期支出 {{科目: 金额}}。{CATEGORY_DOC}。{YUAN}")
    note: str = Field("", description="说明（至多 300 个字符）")


class ProjectEvaluationIn(InputSchema):
    kind: Literal[tuple(EvaluationKind.values)] = Field(description=EVALUATION_DOC)  # type: ignore[valid-type]
    held_on: date = Field(description="日期：不早于项目开始，不晚于今天")
    conclusion: str = Field(
        description="结论，如 通过、不通过、优秀、良好、合格、不合格（验收“不通过”“不合格”为验收不通过）"
    )
    score: Decimal | None = Field(None, description="评价得分 0–100")
    patents: int | None = Field(None, description="专利（件）")
    revenue: Decimal | None = Field(None, description=f"新增销售收入。{YUAN}")
    jobs: int | None = Field(None, description="新增就业（人）")
    opinion: str = Field("", description="意见")
