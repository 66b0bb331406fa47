"""政策库 and 免申即享: policy documents with their articles, policy items (the benefits, with eligibility and a
formula), the period figures some formulas read (贷款利息, 保费 …), benefit runs and the benefits they grant.

"Never twice" is held by the database: a partial unique constraint allows one held benefit (computed, confirmed,
accepted or paid) per policy item, period and enterprise, across all runs. A run keeps the item's definition as it
was (its snapshot) and each benefit keeps the inputs it was computed from, so any run can be replayed exactly.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from kechuang.enterprises.models import Enterprise
from kechuang.policies import evaluate
from kechuang.policies.columns import FIGURES
from kechuang.workflows.models import WorkflowModel

MONEY = {"max_digits": 16, "decimal_places": 2}
# Benefits are written in bulk (up to the whole registry per run): their foreign keys are kept by Django, not by
# database triggers, as tiering's results are (docs/decisions/0003).
NO_DB_CONSTRAINT = {"db_constraint": False}


class DocumentStatus(models.TextChoices):
    IN_FORCE = "in_force", "现行有效"
    EXPIRED = "expired", "已失效"
    REPEALED = "repealed", "已废止"


class PolicyDocument(models.Model):
    """A policy document (政策文件): the compendium (《科技创新政策汇编》) is made of them."""

    title = models.CharField("标题", max_length=300)
    issuer = models.CharField("发文机关", max_length=100)
    number = models.CharField("文号", max_length=60, blank=True)
    issued_on = models.DateField("成文日期")
    effective_from = models.DateField("施行日期", null=True, blank=True)
    effective_to = models.DateField("有效期至", null=True, blank=True, help_text="留空表示长期有效")
    status = models.CharField(
        "效力状态", max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.IN_FORCE
    )
    summary = models.TextField("摘要", blank=True)
    full_text = models.TextField("全文", blank=True)
    source = models.CharField("来源", max_length=300, blank=True, help_text="全文出处（公开网址或存档文件）")
    catalogue_key = models.SlugField(
        "目录代码",
        max_length=40,
        unique=True,
        null=True,
        blank=True,
        help_text="随平台发布的文件（catalogue）",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "政策文件"
        verbose_name_plural = "政策文件"
        ordering = ["-issued_on", "pk"]
        indexes = [models.Index(fields=["status", "issued_on"], name="policy_document_status_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=F("effective_from")),
                name="policy_document_effective_order",
                violation_error_message="有效期至不能早于施行日期",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}" if self.number else self.title

    def get_absolute_url(self) -> str:
        return reverse("policies:document", args=[self.pk])


class Article(models.Model):
    """One article (条款) of a document, e.g. （一）支持高新技术企业发展."""

    document = models.ForeignKey(
        PolicyDocument, verbose_name="政策文件", on_delete=models.CASCADE, related_name="articles"
    )
    number = models.CharField("条款号", max_length=30)
    title = models.CharField("条款标题", max_length=200, blank=True)
    text = models.TextField("条款内容")
    order = models.PositiveIntegerField("顺序", default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "政策条款"
        verbose_name_plural = "政策条款"
        ordering = ["document", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"],
                name="policy_article_unique_number",
                violation_error_message="该文件已有此条款号",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}{self.title}"


class ItemKind(models.TextChoices):
    AWARD = "award", "奖励"
    SUBSIDY = "subsidy", "补贴"
    INTEREST = "interest", "贴息"
    INSURANCE = "insurance", "保费补贴"
    OTHER = "other", "其他"


class PeriodKind(models.TextChoices):
    YEAR = "year", "按年度"
    QUARTER = "quarter", "按季度"


class BudgetRule(models.TextChoices):
    PRO_RATA = evaluate.PRO_RATA, "按比例核减"
    FIRST_COME = evaluate.FIRST_COME, "先入库先得"


class PolicyItem(WorkflowModel):
    """A benefit of a document (政策事项): who is eligible (conditions as data) and how much (a formula with caps).
    Lifecycle (policies/workflows.py): draft → published → withdrawn; only drafts are edited."""

    document = models.ForeignKey(
        PolicyDocument, verbose_name="政策文件", on_delete=models.PROTECT, related_name="items"
    )
    article = models.ForeignKey(
        Article,
        verbose_name="依据条款",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
    )
    name = models.CharField("事项名称", max_length=200)
    kind = models.CharField("类别", max_length=12, choices=ItemKind.choices)
    description = models.TextField("说明", blank=True)
    eligibility = models.JSONField(
        "资格条件",
        default=list,
        blank=True,
        help_text='[{"kind": "qualification|assessed|compare|any", …}]，见 kechuang/policies/eligibility.py',
    )
    formula = models.CharField(
        "金额公式",
        max_length=500,
        help_text="如 min(loan_interest * rate, 500000)；见 kechuang/policies/formula.py",
    )
    parameters = models.JSONField(
        "参数",
        default=dict,
        blank=True,
        help_text='{"rate": {"label": "贴息比例", "value": 0.5, "unit": "比例"}}',
    )
    cap_per_enterprise = models.DecimalField("单户上限（元）", null=True, blank=True, **MONEY)
    budget = models.DecimalField("每期预算（元）", null=True, blank=True, **MONEY)
    budget_rule = models.CharField(
        "预算不足时", max_length=12, choices=BudgetRule.choices, default=BudgetRule.PRO_RATA
    )
    period_kind = models.CharField(
        "兑现周期", max_length=8, choices=PeriodKind.choices, default=PeriodKind.YEAR
    )
    effective_from = models.DateField("施行日期")
    effective_to = models.DateField("截止日期", null=True, blank=True, help_text="留空表示长期")
    is_demo = models.BooleanField("示例数据", default=False, help_text="演示用：金额与参数不是文件规定")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "政策事项"
        verbose_name_plural = "政策事项"
        ordering = ["-effective_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="policy_item_effective_order",
                violation_error_message="截止日期不能早于施行日期",
            ),
            models.CheckConstraint(
                condition=Q(cap_per_enterprise__isnull=True) | Q(cap_per_enterprise__gt=0),
                name="policy_item_cap_positive",
                violation_error_message="单户上限须大于 0",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gt=0),
                name="policy_item_budget_positive",
                violation_error_message="每期预算须大于 0",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("policies:item", args=[self.pk])

    def definition(self) -> dict:
        """What a run stores of the item (its snapshot): enough to compute and explain every benefit again."""
        return {
            "item_id": self.pk,
            "name": self.name,
            "kind": self.kind,
            "document": str(self.document),
            "article": str(self.article) if self.article_id else "",
            "eligibility": self.eligibility,
            "formula": self.formula,
            "parameters": self.parameters,
            "cap_per_enterprise": str(self.cap_per_enterprise)
            if self.cap_per_enterprise is not None
            else None,
            "budget": str(self.budget) if self.budget is not None else None,
            "budget_rule": self.budget_rule,
            "period_kind": self.period_kind,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
        }


class PolicyFigure(models.Model):
    """A figure of an enterprise for one period that the registry's yearly figures do not hold and a formula may
    read (贷款利息支出 for 贴息, 科技保险保费 for 保费补贴 …): from the lending bank, the insurer, the enterprise."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="policy_figures"
    )
    period = models.CharField("期间", max_length=7, help_text="年度（2026）或季度（2026Q2）")
    name = models.CharField("数据项", max_length=30, choices=list(FIGURES.items()))
    value = models.DecimalField("金额（元）", **MONEY)
    source = models.CharField("来源", max_length=200, blank=True)
    recorded_at = models.DateTimeField("登记时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["recorded_at"])

    class Meta:
        verbose_name = "兑现期间数据"
        verbose_name_plural = "兑现期间数据"
        ordering = ["enterprise_id", "-period", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "period", "name"],
                name="policy_figure_unique",
                violation_error_message="该企业该期间的此项数据已登记",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="policy_figure_not_negative",
                violation_error_message="金额不能为负",
            ),
        ]
        indexes = [models.Index(fields=["period", "name"], name="policy_figure_period")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.period} {self.get_name_display()}"


class BenefitRun(WorkflowModel):
    """One 免申即享 run: a policy item for one period over the registry. `status` is the computation (queued →
    running → done / failed); the workflow state is the review (reviewing → confirmed → closed, or cancelled)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "核定中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    item = models.ForeignKey(
        PolicyItem, verbose_name="政策事项", on_delete=models.PROTECT, related_name="runs"
    )
    period = models.CharField("兑现期间", max_length=7)
    as_of = models.DateField("数据截至日期", help_text="资质按该日是否有效，年度数据取其前一年起")
    definition = models.JSONField("事项定义快照", encoder=DjangoJSONEncoder)
    explanation = models.JSONField(
        "说明的共同部分",
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text="每户说明相同的部分（条件名称与要求、公式、取整规则、上限），只存一次；各户只存各自的部分",
    )
    parameters = models.ForeignKey(
        "tiering.ParameterSnapshot",
        verbose_name="评价参数版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # "Assessed" conditions read this tiering run's stored results when it covers the run's date and parameters
    # (far cheaper than evaluating the whole registry again); null: the engine evaluated them during the run.
    # Protected: a run names the assessment it was granted on.
    assessment_run = models.ForeignKey(
        "tiering.AssessmentRun",
        verbose_name="梯度评估批次",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="“评价结果”条件取自该批次已存的评价结果；为空表示核定时按现行参数当场评价",
    )
    status = models.CharField("核定状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField("进度说明", max_length=100, blank=True)
    total = models.PositiveIntegerField("企业数", default=0)
    processed = models.PositiveIntegerField("已处理企业数", default=0)
    counts = models.JSONField("结果统计", default=dict, blank=True, help_text="{状态: 户数}")
    total_amount = models.DecimalField("核定总额（元）", default=0, **MONEY)
    budget_available = models.DecimalField("本批可用预算（元）", null=True, blank=True, **MONEY)
    message = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    seconds = models.FloatField("用时（秒）", null=True, blank=True)

    class Meta:
        verbose_name = "免申即享批次"
        verbose_name_plural = "免申即享批次"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["item", "period", "status"], name="benefit_run_item_period")]

    def __str__(self) -> str:
        return f"{self.definition.get('name', self.item_id)} {self.period}（批次 {self.pk}）"

    def get_absolute_url(self) -> str:
        return reverse("policies:run", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0


class BenefitState(models.TextChoices):
    COMPUTED = "computed", "待审核"
    CONFIRMED = "confirmed", "已确认（待企业确认）"
    ACCEPTED = "accepted", "企业已确认"
    PAID = "paid", "已拨付"
    EXCLUDED = "excluded", "已剔除"
    UNDETERMINED = "undetermined", "待定"
    SKIPPED = "skipped", "未予核定"


# A held benefit counts against "never twice": one per item, period and enterprise across all runs.
HELD_STATES = (BenefitState.COMPUTED, BenefitState.CONFIRMED, BenefitState.ACCEPTED, BenefitState.PAID)


class Benefit(models.Model):
    """One enterprise's benefit in a run: its amount (whole yuan), how it was found, and where it stands."""

    run = models.ForeignKey(
        BenefitRun,
        verbose_name="批次",
        on_delete=models.CASCADE,
        related_name="benefits",
        db_index=False,
        **NO_DB_CONSTRAINT,
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="企业",
        on_delete=models.PROTECT,  # a money record: an enterprise with benefits is not deleted
        related_name="benefits",
        db_index=False,
        **NO_DB_CONSTRAINT,
    )
    item = models.ForeignKey(
        PolicyItem,
        verbose_name="政策事项",
        on_delete=models.PROTECT,
        related_name="benefits",
        db_index=False,
        **NO_DB_CONSTRAINT,
    )
    period = models.CharField("兑现期间", max_length=7)
    state = models.CharField("状态", max_length=12, choices=BenefitState.choices)
    amount = models.DecimalField("核定金额（元）", null=True, blank=True, **MONEY)
    reason = models.CharField("原因", max_length=500, blank=True, help_text="待定、未予核定或剔除的原因")
    explanation = models.JSONField("核定说明", encoder=DjangoJSONEncoder)
    inputs = models.JSONField("输入快照", encoder=DjangoJSONEncoder)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="企业确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted_at = models.DateTimeField("企业确认时间", null=True, blank=True)
    paid_at = models.DateTimeField("拨付登记时间", null=True, blank=True)

    class Meta:
        verbose_name = "政策兑现"
        verbose_name_plural = "政策兑现"
        ordering = ["run", "enterprise_id"]
        permissions = [
            ("accept_benefit", "可确认领受本企业的政策兑现"),
            ("export_benefit", "可导出兑付名单"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "period", "enterprise"],
                condition=Q(state__in=HELD_STATES),
                name="benefit_once_per_item_period",
                violation_error_message="该企业本期已享受此项政策，同一政策同一期间不能重复兑现",
            ),
            models.UniqueConstraint(fields=["run", "enterprise"], name="benefit_unique_per_run"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="benefit_amount_not_negative",
                violation_error_message="金额不能为负",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=HELD_STATES) | Q(amount__gt=0),
                name="benefit_held_has_amount",
                violation_error_message="核定的兑现须有大于 0 的金额",
            ),
        ]
        indexes = [models.Index(fields=["enterprise", "state"], name="benefit_enterprise_state")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.period} {self.get_state_display()}"

    @property
    def is_held(self) -> bool:
        return self.state in HELD_STATES

    @property
    def full_explanation(self) -> dict:
        """The benefit's explanation with its run's shared parts (each condition's label and requirement …)."""
        return evaluate.full_explanation(self.run.explanation, self.explanation)


class PaymentExport(models.Model):
    """A run's payment list (兑付名单) too long for one request (exporting.PAYMENT_SYNC_MAX rows), written by the
    worker: progress while it runs, the workbook after (in the database, as the registry export keeps its file:
    the worker and the web server share no disk)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    run = models.ForeignKey(
        BenefitRun, verbose_name="批次", on_delete=models.CASCADE, related_name="payment_exports"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField("总户数", default=0)
    processed_rows = models.PositiveIntegerField("已写入户数", default=0)
    content = models.BinaryField("文件内容", editable=False, default=b"")
    file_size = models.PositiveBigIntegerField("文件大小", default=0)
    message = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导出人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "兑付名单导出"
        verbose_name_plural = "兑付名单导出"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"兑付名单导出 {self.pk}（批次 {self.run_id}）"

    def get_absolute_url(self) -> str:
        return reverse("policies:payment-export-job", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(self.processed_rows * 100 / self.total_rows) if self.total_rows else 0
