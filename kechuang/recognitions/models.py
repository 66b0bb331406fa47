"""认定登记: 高新技术成果转化项目认定 (沪科规〔2020〕8号) with its expert reviews, and 技术合同认定登记 with the
履约跟踪 of its payment milestones.

Invariants held by the database:
- a 高转 certificate number is unique; a recognised project has its certificate number, date and validity
  (`transformation_recognised_has_certificate`), the validity ending after the recognition;
- an expert reviews a project once (`transformation_review_unique`);
- a contract is registered once: (卖方统一社会信用代码, 合同编号) is unique among contracts still submitted or
  registered (`tech_contract_unique_per_seller`; a contract 未予登记 or cancelled may be submitted again);
- the 合同登记编号 is unique; a registered contract has its number and registration date;
- 技术交易额 ≤ 成交额, both ≥ 0 and 成交额 > 0 (`tech_contract_tech_within_total`);
- the sub-type belongs to the type (`tech_contract_sub_type_of_type`, 民法典第八百五十一条、第八百六十三条、
  第八百七十六条、第八百七十八条、第八百八十七条);
- a milestone's paid amount is between 0 and its planned amount, and has a date once something is paid.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from kechuang.enterprises.choices import HitechField
from kechuang.enterprises.models import Enterprise, IPAsset
from kechuang.projects.models import Expert
from kechuang.recognitions.choices import (
    SUB_TYPES,
    ContractType,
    Exclusion,
    PaymentMode,
    ReviewState,
    SubType,
)
from kechuang.workflows.models import WorkflowModel

MONEY = {"max_digits": 16, "decimal_places": 2}

# States the workflows' defaults give (kechuang/recognitions/workflows.py); the constraints below name them.
RECOGNISED = "recognised"
REGISTERED = "registered"
CLOSED_CONTRACT_STATES = ("not_registered", "cancelled")  # may be submitted again


class TransformationProject(WorkflowModel):
    """高新技术成果转化项目: the unit recognised is a project, not a company (沪科规〔2020〕8号)."""

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="申请单位",
        on_delete=models.PROTECT,
        related_name="transformation_projects",
    )
    name = models.CharField("项目名称", max_length=200)
    field = models.CharField(
        "高新技术领域",
        max_length=2,
        choices=HitechField.choices,
        blank=True,
        help_text="核心技术所属《国家重点支持的高新技术领域》一级领域（沪科规〔2020〕8号 第六条第（一）项）",
    )
    field_detail = models.CharField("细分领域", max_length=100, blank=True, help_text="二级、三级领域")
    core_ip = models.ManyToManyField(
        IPAsset,
        verbose_name="核心知识产权",
        blank=True,
        related_name="transformation_projects",
        help_text="本单位拥有、对核心技术起支持作用的知识产权（第六条第（二）项）",
    )
    product = models.CharField("产品（服务）名称", max_length=200)
    description = models.TextField("技术内容与创新点", blank=True)
    first_transformed_on = models.DateField(
        "首次转化日期", null=True, blank=True, help_text="首次转化为样品、样机或服务的日期（第六条）"
    )
    test_report_no = models.CharField(
        "第三方检测报告编号", max_length=60, blank=True, help_text="质量或性能检测报告（第六条第（四）项）"
    )
    no_infringement = models.BooleanField("近两年无知识产权侵权行为", default=False)
    no_accident = models.BooleanField(
        "近两年无重大安全、质量事故，无严重环境违法、科研失信行为", default=False
    )
    not_dishonest = models.BooleanField("未被列入严重违法失信名单", default=False)
    exclusion = models.CharField(
        "不予认定情形（科委判断）",
        max_length=20,
        choices=Exclusion.choices,
        default=Exclusion.NOT_JUDGED,
    )
    exclusion_note = models.CharField("判断说明", max_length=300, blank=True)
    applied_on = models.DateField(
        "申请日期", null=True, blank=True, help_text="提交之日；知识产权的时限按此日计算"
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    district_opinion = models.TextField("区科委推荐意见", blank=True)
    certificate_no = models.CharField("证书编号", max_length=40, null=True, blank=True, unique=True)
    recognised_on = models.DateField("认定日期", null=True, blank=True)
    valid_until = models.DateField("有效期至", null=True, blank=True, help_text="有效期的最后一天（含当天）")
    decision_note = models.TextField("认定结论说明", blank=True)
    is_demo = models.BooleanField("示例数据", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    history = HistoricalRecords(m2m_fields=[core_ip])

    class Meta:
        verbose_name = "高新技术成果转化项目"
        verbose_name_plural = "高新技术成果转化项目"
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("decide_transformationproject", "可登记高转项目认定结果"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=RECOGNISED)
                | (
                    Q(certificate_no__isnull=False)
                    & Q(recognised_on__isnull=False)
                    & Q(valid_until__isnull=False)
                ),
                name="transformation_recognised_has_certificate",
                violation_error_message="已认定的项目须有证书编号、认定日期和有效期",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(recognised_on__isnull=True)
                | Q(valid_until__gt=F("recognised_on")),
                name="transformation_valid_after_recognised",
                violation_error_message="有效期至须晚于认定日期",
            ),
        ]
        indexes = [models.Index(fields=["recognised_on"], name="transformation_recognised_on")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("recognitions:project-detail", args=[self.pk])


class TransformationReview(models.Model):
    """One expert's review of one 高转 project: scores on the platform's score sheet and an opinion."""

    project = models.ForeignKey(
        TransformationProject, verbose_name="项目", on_delete=models.CASCADE, related_name="reviews"
    )
    expert = models.ForeignKey(
        Expert, verbose_name="专家", on_delete=models.PROTECT, related_name="transformation_reviews"
    )
    state = models.CharField("状态", max_length=12, choices=ReviewState.choices, default=ReviewState.ASSIGNED)
    scores = models.JSONField("评分", default=dict, blank=True, help_text="{评分项: 得分}")
    total = models.DecimalField("加权得分", max_digits=5, decimal_places=2, null=True, blank=True)
    recommend = models.BooleanField("建议认定", null=True, blank=True)
    opinion = models.TextField("评审意见", blank=True)
    assigned_at = models.DateTimeField("分配时间", auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="分配人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("评审时间", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "高转项目评审"
        verbose_name_plural = "高转项目评审"
        ordering = ["project", "assigned_at", "pk"]
        permissions = [("submit_transformationreview", "可提交高转项目评审意见")]
        constraints = [
            models.UniqueConstraint(fields=["project", "expert"], name="transformation_review_unique"),
            models.CheckConstraint(
                condition=Q(total__isnull=True) | (Q(total__gte=0) & Q(total__lte=100)),
                name="transformation_review_total_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expert.name} → {self.project.name}"


def _sub_type_condition() -> Q:
    condition = Q(pk__in=[])
    for contract_type, sub_types in SUB_TYPES.items():
        condition |= Q(contract_type=contract_type, sub_type__in=list(sub_types))
    return condition


class TechContract(WorkflowModel):
    """技术合同认定登记: one contract, registered once by the seller (卖方登记), with the registry's 16-digit
    合同登记编号 (qualification-rules.md §8)."""

    registration_no = models.CharField(
        "合同登记编号",
        max_length=16,
        null=True,
        blank=True,
        unique=True,
        help_text="16 位，登记时由登记机构给出",
    )
    contract_no = models.CharField("合同编号", max_length=60, help_text="当事人自编的合同编号")
    name = models.CharField("项目名称", max_length=200)
    contract_type = models.CharField("合同类型", max_length=12, choices=ContractType.choices)
    sub_type = models.CharField("合同子类", max_length=20, choices=SubType.choices)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="卖方企业（企业库）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tech_contracts",
    )
    seller_name = models.CharField("卖方名称", max_length=200)
    seller_uscc = models.CharField("卖方统一社会信用代码", max_length=18)
    seller_region = models.CharField("卖方行政区划代码", max_length=6, blank=True)
    buyer_name = models.CharField("买方名称", max_length=200)
    buyer_uscc = models.CharField("买方统一社会信用代码", max_length=18, blank=True)
    buyer_region = models.CharField(
        "买方行政区划代码", max_length=6, blank=True, help_text="GB/T 2260，6 位；境外买方不填"
    )
    buyer_country = models.CharField(
        "买方国别", max_length=3, default="CHN", help_text="3 位国别代码（海关代码），境内为 CHN"
    )
    signed_on = models.DateField("签订日期")
    valid_from = models.DateField("合同有效期自")
    valid_to = models.DateField("合同有效期至")
    total_amount = models.DecimalField("成交额（元）", **MONEY)
    tech_amount = models.DecimalField("技术交易额（元）", **MONEY)
    payment_mode = models.CharField("支付方式", max_length=20, choices=PaymentMode.choices)
    plan_note = models.CharField(
        "付款计划说明",
        max_length=300,
        blank=True,
        help_text="各期计划金额合计与成交额不一致时须说明原因（如提成支付）",
    )
    submitted_at = models.DateTimeField("申请登记时间", null=True, blank=True)
    registered_on = models.DateField("登记日期", null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.TextField("未予登记或注销原因", blank=True)
    is_demo = models.BooleanField("示例数据", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "技术合同"
        verbose_name_plural = "技术合同"
        ordering = ["-registered_on", "-pk"]
        permissions = [("register_techcontract", "可办理技术合同认定登记")]
        constraints = [
            models.UniqueConstraint(
                fields=["seller_uscc", "contract_no"],
                condition=~Q(state__in=CLOSED_CONTRACT_STATES),
                name="tech_contract_unique_per_seller",
                violation_error_message="该卖方的同一合同编号已申请或已完成认定登记，不能重复登记",
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gt=0)
                & Q(tech_amount__gte=0)
                & Q(tech_amount__lte=F("total_amount")),
                name="tech_contract_tech_within_total",
                violation_error_message="技术交易额不能超过成交额，成交额须大于 0",
            ),
            models.CheckConstraint(
                condition=_sub_type_condition(),
                name="tech_contract_sub_type_of_type",
                violation_error_message="合同子类与合同类型不符",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__gte=F("valid_from")),
                name="tech_contract_valid_period",
                violation_error_message="合同有效期至不能早于有效期自",
            ),
            models.CheckConstraint(
                condition=~Q(state=REGISTERED)
                | (Q(registration_no__isnull=False) & Q(registered_on__isnull=False)),
                name="tech_contract_registered_has_number",
                violation_error_message="已登记的合同须有合同登记编号和登记日期",
            ),
        ]
        indexes = [
            models.Index(fields=["registered_on"], name="tech_contract_registered_on"),
            models.Index(fields=["seller_uscc"], name="tech_contract_seller_uscc"),
        ]

    def __str__(self) -> str:
        return f"{self.registration_no or self.contract_no} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("recognitions:contract-detail", args=[self.pk])


class PaymentMilestone(models.Model):
    """履约跟踪: one planned payment of a registered contract and what has been paid against it."""

    contract = models.ForeignKey(
        TechContract, verbose_name="技术合同", on_delete=models.CASCADE, related_name="milestones"
    )
    number = models.PositiveSmallIntegerField("期次")
    due_date = models.DateField("计划付款日期")
    amount = models.DecimalField("计划金额（元）", **MONEY)
    paid_amount = models.DecimalField("已付金额（元）", **MONEY, default=Decimal("0"))
    paid_on = models.DateField("最近付款日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "付款节点"
        verbose_name_plural = "付款节点"
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="payment_milestone_unique_number"),
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(paid_amount__gte=0) & Q(paid_amount__lte=F("amount")),
                name="payment_milestone_paid_within_amount",
                violation_error_message="已付金额不能超过本期计划金额",
            ),
            models.CheckConstraint(
                condition=Q(paid_amount=0) | Q(paid_on__isnull=False),
                name="payment_milestone_paid_has_date",
                violation_error_message="已付款的节点须有付款日期",
            ),
        ]

    def __str__(self) -> str:
        return f"第 {self.number} 期 {self.amount}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount

    def is_overdue(self, on) -> bool:
        """Past its due date (the due date itself is not late) and not fully paid."""
        return self.due_date < on and self.paid_amount < self.amount
