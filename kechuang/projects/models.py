"""科技计划项目: programmes and their calls, applications with budgets, the expert pool and its conflicts,
review assignments and scores, the award (任务书) with milestones and tranches, disbursements, expenditure
reports and evaluations.

Money invariants live in the database: an award's disbursed total never exceeds its amount (a check
constraint on a running total the disbursement service raises with F() under a row lock), a milestone's
tranche is paid once (unique), and a tranche is paid only for an accepted milestone (the service checks, and a
disbursement row must name its milestone).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from kechuang.enterprises.models import Enterprise
from kechuang.workflows.models import WorkflowModel

MONEY = {"max_digits": 16, "decimal_places": 2}


class Programme(models.Model):
    """A funded programme, e.g. 科技攻关 (联合攻关, 医药卫生, 科技农业)."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级计划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.TextField("说明", blank=True)
    source = models.CharField("依据", max_length=200, blank=True, help_text="文件及章节")

    class Meta:
        verbose_name = "科技计划"
        verbose_name_plural = "科技计划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Call(WorkflowModel):
    """A call for applications (申报指南): budget, dates, cap, eligibility, form and score sheet."""

    programme = models.ForeignKey(
        Programme, verbose_name="科技计划", on_delete=models.PROTECT, related_name="calls"
    )
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("名称", max_length=200)
    guide = models.TextField("申报指南")
    budget_total = models.DecimalField("总预算（元）", **MONEY)
    cap_per_project = models.DecimalField("单项资助上限（元）", **MONEY)
    opens_at = models.DateTimeField("开始受理")
    closes_at = models.DateTimeField("截止时间")
    eligibility = models.JSONField(
        "申报条件",
        default=list,
        blank=True,
        help_text='[{"rule": 条件代码, "label": 说明}]，条件代码见 projects/eligibility.py（如 hnte_valid：有效期内高新技术企业）',
    )
    form = models.JSONField(
        "申报书",
        default=list,
        blank=True,
        help_text='[{"key", "title", "fields": [{"key", "label", "type", "required", "choices", "max_length"}], "show_if": {"field", "equals"}}]',
    )
    score_sheet = models.JSONField(
        "评分表", default=list, blank=True, help_text='[{"key", "label", "max": 满分, "weight": 权重}]'
    )
    experts_per_application = models.PositiveSmallIntegerField("每项评审专家数", default=5)

    class Meta:
        verbose_name = "申报批次"
        verbose_name_plural = "申报批次"
        ordering = ["-year", "-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")),
                name="call_closes_after_opening",
                violation_error_message="截止时间必须晚于开始受理时间",
            ),
            models.CheckConstraint(
                condition=Q(cap_per_project__gt=0) & Q(cap_per_project__lte=F("budget_total")),
                name="call_cap_within_budget",
                violation_error_message="单项资助上限须大于 0 且不超过总预算",
            ),
        ]

    def __str__(self) -> str:
        # Titles usually carry their year already ("2026年度…"); say it once.
        return self.title if str(self.year) in self.title else f"{self.year}年度 {self.title}"


class Application(WorkflowModel):
    call = models.ForeignKey(
        Call, verbose_name="申报批次", on_delete=models.PROTECT, related_name="applications"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="申报单位", on_delete=models.PROTECT, related_name="applications"
    )
    title = models.CharField("项目名称", max_length=200)
    field = models.CharField(
        "技术领域", max_length=40, blank=True, help_text="国家重点支持的高新技术领域代码"
    )
    keywords = models.CharField("关键词", max_length=200, blank=True, help_text="以、或逗号分隔")
    data = models.JSONField("申报书内容", default=dict, blank=True)
    requested_amount = models.DecimalField("申请资助（元）", **MONEY, default=Decimal("0"))
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "项目申报"
        verbose_name_plural = "项目申报"
        ordering = ["call", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "enterprise", "title"],
                name="application_unique_title",
                violation_error_message="该单位在本批次已有同名申报",
            ),
            models.CheckConstraint(
                condition=Q(requested_amount__gte=0), name="application_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class BudgetCategory(models.TextChoices):
    """Direct costs in the three categories of 国办发〔2021〕32号 (设备费、业务费、劳务费), and indirect costs."""

    EQUIPMENT = "equipment", "设备费"
    BUSINESS = "business", "业务费"
    LABOUR = "labour", "劳务费"
    INDIRECT = "indirect", "间接费用"


class BudgetLine(models.Model):
    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="budget_lines"
    )
    category = models.CharField("预算科目", max_length=20, choices=BudgetCategory.choices)
    subsidy = models.DecimalField("申请资助（元）", **MONEY)
    self_funded = models.DecimalField("自筹（元）", **MONEY, default=Decimal("0"))
    note = models.CharField("测算说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "预算"
        verbose_name_plural = "预算"
        constraints = [
            models.UniqueConstraint(fields=["application", "category"], name="budget_line_unique"),
            models.CheckConstraint(
                condition=Q(subsidy__gte=0) & Q(self_funded__gte=0), name="budget_line_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.subsidy}"


class Attachment(models.Model):
    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="attachments"
    )
    title = models.CharField("名称", max_length=200)
    file = models.FileField("文件", upload_to="applications/%Y/")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"

    def __str__(self) -> str:
        return self.title


class Expert(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="expert",
    )
    name = models.CharField("姓名", max_length=40)
    organisation = models.CharField("工作单位", max_length=200)
    organisation_code = models.CharField("单位统一社会信用代码", max_length=18, blank=True)
    title = models.CharField("职称", max_length=40, blank=True)
    fields = models.JSONField("技术领域", default=list, blank=True, help_text="高新技术领域代码列表")
    keywords = models.CharField("专长关键词", max_length=300, blank=True)
    active = models.BooleanField("在库", default=True)

    class Meta:
        verbose_name = "专家"
        verbose_name_plural = "专家"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name}（{self.organisation}）"


class ConflictKind(models.TextChoices):
    SAME_ORGANISATION = "same_organisation", "同一单位"
    COLLABORATION = "collaboration", "近三年合作"
    DECLARED = "declared", "本人申明回避"


class ExpertConflict(models.Model):
    """A recorded reason an expert must not review an enterprise's applications."""

    expert = models.ForeignKey(
        Expert, verbose_name="专家", on_delete=models.CASCADE, related_name="conflicts"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="expert_conflicts"
    )
    kind = models.CharField("回避原因", max_length=20, choices=ConflictKind.choices)
    note = models.CharField("说明", max_length=300, blank=True)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "回避关系"
        verbose_name_plural = "回避关系"
        constraints = [
            models.UniqueConstraint(fields=["expert", "enterprise", "kind"], name="expert_conflict_unique")
        ]

    def __str__(self) -> str:
        return f"{self.expert.name} ↔ {self.enterprise.name}：{self.get_kind_display()}"


class AssignmentState(models.TextChoices):
    PROPOSED = "proposed", "拟邀请"
    ACCEPTED = "accepted", "已接受"
    WITHDRAWN = "withdrawn", "回避退出"
    SUBMITTED = "submitted", "已评分"


class ReviewAssignment(models.Model):
    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="assignments"
    )
    expert = models.ForeignKey(
        Expert, verbose_name="专家", on_delete=models.PROTECT, related_name="assignments"
    )
    state = models.CharField(
        "状态", max_length=12, choices=AssignmentState.choices, default=AssignmentState.PROPOSED
    )
    reason = models.CharField("推荐理由", max_length=300, blank=True)
    comment = models.TextField("评审意见", blank=True)
    submitted_at = models.DateTimeField("评分时间", null=True, blank=True)
    total = models.DecimalField(
        "加权得分",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="0–100：Σ 得分 ÷ 满分 × 权重，提交评分时算定（评分表此后不能再改），排名直接汇总它",
    )

    class Meta:
        verbose_name = "评审分配"
        verbose_name_plural = "评审分配"
        constraints = [
            models.UniqueConstraint(fields=["application", "expert"], name="review_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.expert.name} → {self.application.title}"


class Score(models.Model):
    assignment = models.ForeignKey(
        ReviewAssignment, verbose_name="评审", on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.CharField("评分项", max_length=40)
    value = models.DecimalField("得分", max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = "评分"
        verbose_name_plural = "评分"
        constraints = [
            models.UniqueConstraint(fields=["assignment", "criterion"], name="score_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion} {self.value}"


class Award(WorkflowModel):
    """立项 and its 任务书: the approved amount, and the running total disbursed against it."""

    application = models.OneToOneField(
        Application, verbose_name="申报", on_delete=models.PROTECT, related_name="award"
    )
    contract_no = models.CharField("任务书编号", max_length=40, unique=True)
    amount = models.DecimalField("资助金额（元）", **MONEY)
    disbursed = models.DecimalField("已拨付（元）", **MONEY, default=Decimal("0"))
    approved_at = models.DateTimeField("立项时间")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="批准人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")

    class Meta:
        verbose_name = "立项"
        verbose_name_plural = "立项"
        ordering = ["-approved_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="award_amount_positive"),
            # The closed loop's first invariant, held by the database itself.
            models.CheckConstraint(
                condition=Q(disbursed__gte=0) & Q(disbursed__lte=F("amount")),
                name="award_disbursed_within_amount",
                violation_error_message="拨付总额不能超过资助金额",
            ),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="award_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_no} {self.application.title}"


class MilestoneState(models.TextChoices):
    PLANNED = "planned", "计划中"
    REPORTED = "reported", "已报告"
    RETURNED = "returned", "退回修改"
    ACCEPTED = "accepted", "已验收"


class Milestone(models.Model):
    award = models.ForeignKey(Award, verbose_name="立项", on_delete=models.CASCADE, related_name="milestones")
    number = models.PositiveSmallIntegerField("序号")
    title = models.CharField("节点", max_length=200)
    deliverables = models.TextField("交付物")
    due_date = models.DateField("计划完成")
    tranche = models.DecimalField("对应拨款（元）", **MONEY)
    state = models.CharField(
        "状态", max_length=12, choices=MilestoneState.choices, default=MilestoneState.PLANNED
    )
    report = models.TextField("节点报告", blank=True)
    reported_at = models.DateTimeField("报告时间", null=True, blank=True)
    accepted_at = models.DateTimeField("验收时间", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="验收人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "里程碑"
        verbose_name_plural = "里程碑"
        ordering = ["award", "number"]
        constraints = [
            models.UniqueConstraint(fields=["award", "number"], name="milestone_unique_number"),
            models.CheckConstraint(condition=Q(tranche__gte=0), name="milestone_tranche_not_negative"),
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(accepted_at__isnull=False),
                name="milestone_accepted_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class Disbursement(models.Model):
    award = models.ForeignKey(
        Award, verbose_name="立项", on_delete=models.PROTECT, related_name="disbursements"
    )
    milestone = models.OneToOneField(
        Milestone, verbose_name="里程碑", on_delete=models.PROTECT, related_name="disbursement"
    )
    amount = models.DecimalField("金额（元）", **MONEY)
    paid_at = models.DateTimeField("拨付时间", auto_now_add=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    voucher_no = models.CharField("凭证号", max_length=40, blank=True)

    class Meta:
        verbose_name = "拨付"
        verbose_name_plural = "拨付"
        ordering = ["award", "paid_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive")]

    def __str__(self) -> str:
        return f"{self.award.contract_no} {self.amount}"


class Expenditure(models.Model):
    """A use-of-funds report line: spent from the subsidy in a period, by budget category."""

    award = models.ForeignKey(
        Award, verbose_name="立项", on_delete=models.CASCADE, related_name="expenditures"
    )
    period_end = models.DateField("截至日期")
    category = models.CharField("预算科目", max_length=20, choices=BudgetCategory.choices)
    amount = models.DecimalField("支出（元）", **MONEY)
    note = models.CharField("说明", max_length=300, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "经费支出"
        verbose_name_plural = "经费支出"
        constraints = [
            models.UniqueConstraint(fields=["award", "period_end", "category"], name="expenditure_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="expenditure_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.amount}"


class EvaluationKind(models.TextChoices):
    MID_TERM = "mid_term", "中期检查"
    ACCEPTANCE = "acceptance", "验收"
    PERFORMANCE = "performance", "绩效评价"


class Evaluation(models.Model):
    award = models.ForeignKey(
        Award, verbose_name="立项", on_delete=models.CASCADE, related_name="evaluations"
    )
    kind = models.CharField("类别", max_length=12, choices=EvaluationKind.choices)
    held_on = models.DateField("日期")
    patents = models.PositiveIntegerField("专利（件）", null=True, blank=True)
    revenue = models.DecimalField("新增销售收入（元）", **MONEY, null=True, blank=True)
    jobs = models.PositiveIntegerField("新增就业（人）", null=True, blank=True)
    score = models.DecimalField("评价得分", max_digits=5, decimal_places=2, null=True, blank=True)
    conclusion = models.CharField(
        "结论", max_length=20, blank=True, help_text="如 通过、不通过、优秀、良好、合格、不合格"
    )
    opinion = models.TextField("意见", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "检查与评价"
        verbose_name_plural = "检查与评价"
        ordering = ["award", "held_on"]
        constraints = [
            models.UniqueConstraint(fields=["award", "kind"], name="evaluation_unique_kind"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=100)),
                name="evaluation_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.award.contract_no} {self.get_kind_display()}"


# —— 揭榜挂帅 (challenges.py): an enterprise posts a technical problem, teams answer, the poster and experts
# review, and the winner becomes a funded project (an Application in the challenge's call, then an Award). ——


class Challenge(WorkflowModel):
    """A 榜单: the poster's technical problem, the money it offers (budget), the most the district will fund
    (subsidy_cap, 0 when none), and the deadline for answers (inclusive: an answer stamped exactly then counts)."""

    poster = models.ForeignKey(
        Enterprise, verbose_name="发榜单位", on_delete=models.PROTECT, related_name="challenges"
    )
    title = models.CharField("榜单名称", max_length=200)
    description = models.TextField("技术难题", help_text="需求背景、要解决的技术问题、考核指标")
    field = models.CharField(
        "技术领域", max_length=40, blank=True, help_text="国家重点支持的高新技术领域代码"
    )
    keywords = models.CharField("关键词", max_length=200, blank=True, help_text="以、或逗号分隔")
    budget = models.DecimalField("榜单金额（元）", **MONEY, help_text="发榜单位自筹投入的金额")
    subsidy_cap = models.DecimalField(
        "区级资助上限（元）",
        **MONEY,
        default=Decimal("0"),
        help_text="中选项目区级资助的最高额，0 为不申请资助",
    )
    deadline = models.DateTimeField("揭榜截止时间")
    call = models.ForeignKey(
        Call,
        verbose_name="立项批次",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="challenges",
        help_text="中选方案转为资助项目时所属的申报批次",
    )
    experts = models.ManyToManyField(Expert, verbose_name="阅卷专家", blank=True, related_name="challenges")
    winner = models.OneToOneField(
        "ChallengeAnswer",
        verbose_name="中选方案",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="won",
    )
    application = models.OneToOneField(
        Application,
        verbose_name="资助项目",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="challenge",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "揭榜挂帅榜单"
        verbose_name_plural = "揭榜挂帅榜单"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__gt=0),
                name="challenge_budget_positive",
                violation_error_message="榜单金额须大于 0",
            ),
            models.CheckConstraint(
                condition=Q(subsidy_cap__gte=0),
                name="challenge_subsidy_cap_not_negative",
                violation_error_message="区级资助上限不能为负",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def enterprise(self) -> Enterprise:
        """Whose matter it is (the workflow inbox shows it): the poster."""
        return self.poster


class ChallengeAnswer(models.Model):
    """揭榜: a team's answer, for an enterprise of the registry or for an organisation outside it (a university
    or institute team), never both."""

    challenge = models.ForeignKey(
        Challenge, verbose_name="榜单", on_delete=models.PROTECT, related_name="answers"
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="揭榜单位（企业库）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="challenge_answers",
    )
    organisation = models.CharField(
        "揭榜单位（高校、院所等）", max_length=200, blank=True, help_text="不在企业库中的单位"
    )
    leader = models.CharField("团队负责人", max_length=40)
    members = models.TextField("团队成员", blank=True, help_text="姓名、单位、职称，每行一人")
    proposal = models.TextField("揭榜方案")
    quoted_amount = models.DecimalField("报价（元）", **MONEY)
    period_months = models.PositiveSmallIntegerField("实施周期（月）")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("提交时间")
    withdrawn = models.BooleanField("已撤回", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "揭榜方案"
        verbose_name_plural = "揭榜方案"
        ordering = ["challenge", "submitted_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(enterprise__isnull=False) & Q(organisation=""))
                | (Q(enterprise__isnull=True) & ~Q(organisation="")),
                name="challenge_answer_one_unit",
                violation_error_message="揭榜单位须且只能是企业库中的企业或企业库外的单位之一",
            ),
            models.UniqueConstraint(
                fields=["challenge", "enterprise"],
                condition=Q(enterprise__isnull=False),
                name="challenge_answer_unique_enterprise",
                violation_error_message="该企业已揭此榜",
            ),
            models.UniqueConstraint(
                fields=["challenge", "organisation", "leader"],
                condition=Q(enterprise__isnull=True),
                name="challenge_answer_unique_team",
                violation_error_message="该单位的该负责人已揭此榜",
            ),
            models.CheckConstraint(condition=Q(quoted_amount__gt=0), name="challenge_answer_amount_positive"),
            models.CheckConstraint(condition=Q(period_months__gt=0), name="challenge_answer_period_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_name}（{self.leader}）"

    @property
    def unit_name(self) -> str:
        return self.enterprise.name if self.enterprise_id else self.organisation


class ChallengeReviewRole(models.TextChoices):
    POSTER = "poster", "发榜单位"
    EXPERT = "expert", "专家"


class ChallengeReview(models.Model):
    """阅卷: one reviewer's score (0–100) of one answer, given once."""

    answer = models.ForeignKey(
        ChallengeAnswer, verbose_name="揭榜方案", on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="阅卷人", on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField("身份", max_length=10, choices=ChallengeReviewRole.choices)
    score = models.DecimalField("得分", max_digits=5, decimal_places=2)
    comment = models.TextField("意见", blank=True)
    reviewed_at = models.DateTimeField("阅卷时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "揭榜阅卷"
        verbose_name_plural = "揭榜阅卷"
        ordering = ["answer", "role", "reviewed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "reviewer"],
                name="challenge_review_unique",
                violation_error_message="已对该方案评分",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100),
                name="challenge_review_score_range",
                violation_error_message="得分须在 0–100 之间",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.answer} {self.get_role_display()} {self.score}"
