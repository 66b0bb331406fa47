"""科技创新券 (innovation vouchers): a yearly scheme with its budget and per-enterprise cap, the catalogue of
service providers (检验检测、研发服务、共享仪器) and their services, an enterprise's application, the voucher
granted on approval, redemptions against a service contract and invoice, settlement to the provider, and the
abuse flags raised on the way.

Money invariants live in the database:
- a scheme's granted total never exceeds its budget (`voucher_scheme_granted_within_budget`), raised with F()
  under a row lock on the scheme when a voucher is issued;
- a voucher's used total never exceeds its amount (`voucher_used_within_amount`), raised with F() under a row
  lock on the voucher when a redemption is submitted and lowered when one is refused;
- an invoice is used once per provider (`redemption_invoice_once`: unique provider USCC and invoice number among
  the redemptions not refused; the USCC is copied onto the redemption so that the database can hold it);
- a redemption is settled once (`SettlementLine.redemption` is one-to-one).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from kechuang.core import uscc
from kechuang.core.validators import validate_uscc
from kechuang.enterprises.models import Enterprise
from kechuang.workflows.models import WorkflowModel

MONEY = {"max_digits": 16, "decimal_places": 2}
# The redemption workflow's state whose rows no longer hold their invoice (kechuang/vouchers/workflows.py).
REFUSED = "refused"


class SchemeState(models.TextChoices):
    DRAFT = "draft", "草稿"
    OPEN = "open", "受理中"
    CLOSED = "closed", "已截止"


class VoucherScheme(models.Model):
    """One year's 创新券: the budget, the most one enterprise may be granted, the share of a service's invoice
    a voucher may pay, the application window and the date the vouchers expire."""

    year = models.PositiveSmallIntegerField("年度")
    name = models.CharField("名称", max_length=100)
    budget_total = models.DecimalField("年度总额度（元）", **MONEY)
    cap_per_enterprise = models.DecimalField("每家企业上限（元）", **MONEY)
    share_pct = models.DecimalField(
        "抵扣比例（%）",
        max_digits=5,
        decimal_places=2,
        help_text="创新券可支付服务发票金额的比例，如 50 表示最多支付发票金额的 50%",
    )
    opens_on = models.DateField("受理开始日期")
    closes_on = models.DateField("受理截止日期", help_text="含当日")
    valid_until = models.DateField(
        "券有效期至", help_text="兑付须在此日期（含）前提交，发票日期也不得晚于此日"
    )
    granted = models.DecimalField("已发券（元）", **MONEY, default=Decimal("0"))
    state = models.CharField("状态", max_length=12, choices=SchemeState.choices, default=SchemeState.DRAFT)
    source = models.CharField("依据", max_length=300, blank=True, help_text="文件及章节")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "创新券年度方案"
        verbose_name_plural = "创新券年度方案"
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "name"],
                name="voucher_scheme_unique_name",
                violation_error_message="该年度已有同名方案",
            ),
            models.CheckConstraint(
                condition=Q(cap_per_enterprise__gt=0) & Q(cap_per_enterprise__lte=F("budget_total")),
                name="voucher_scheme_cap_within_budget",
                violation_error_message="每家企业上限须大于 0 且不超过年度总额度",
            ),
            models.CheckConstraint(
                condition=Q(share_pct__gt=0) & Q(share_pct__lte=100),
                name="voucher_scheme_share_range",
                violation_error_message="抵扣比例须大于 0% 且不超过 100%",
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")) & Q(valid_until__gte=F("closes_on")),
                name="voucher_scheme_dates_in_order",
                violation_error_message="须 受理开始 ≤ 受理截止 ≤ 券有效期",
            ),
            models.CheckConstraint(
                condition=Q(granted__gte=0) & Q(granted__lte=F("budget_total")),
                name="voucher_scheme_granted_within_budget",
                violation_error_message="已发券总额不能超过年度总额度",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.name}"

    @property
    def left(self) -> Decimal:
        return self.budget_total - self.granted

    def is_accepting(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.state == SchemeState.OPEN and self.opens_on <= on <= self.closes_on


class ProviderKind(models.TextChoices):
    TESTING = "testing", "检验检测"
    RD = "rd", "研发服务"
    INSTRUMENT = "instrument", "共享仪器"


class ProviderState(models.TextChoices):
    LISTED = "listed", "在册"
    SUSPENDED = "suspended", "暂停"


class Provider(models.Model):
    """A service provider of the catalogue (服务机构). Its legal representative and address are compared with the
    redeeming enterprise's (kechuang/vouchers/abuse.py)."""

    name = models.CharField("机构名称", max_length=200)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    legal_representative = models.CharField("法定代表人", max_length=50)
    address = models.CharField("地址", max_length=200)
    contact_person = models.CharField("联系人", max_length=40, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    kind = models.CharField("服务类别", max_length=12, choices=ProviderKind.choices)
    state = models.CharField(
        "状态", max_length=12, choices=ProviderState.choices, default=ProviderState.LISTED
    )
    state_note = models.CharField("暂停原因", max_length=300, blank=True)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="企业库中的企业",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="voucher_providers",
        help_text="服务机构本身在企业库中时关联",
    )
    description = models.TextField("机构简介", blank=True)
    listed_on = models.DateField("入库日期", default=timezone.localdate)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "服务机构"
        verbose_name_plural = "服务机构"
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["kind", "state"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.uscc = uscc.normalise(self.uscc)
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        self.uscc = uscc.normalise(self.uscc)
        super().clean_fields(exclude=exclude)

    @property
    def masked_phone(self) -> str:
        phone = self.contact_phone
        return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else ("****" if phone else "")


class ProviderService(models.Model):
    """A catalogue entry: a service a provider offers, with its unit price."""

    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField("服务名称", max_length=200)
    category = models.CharField("类别", max_length=12, choices=ProviderKind.choices)
    unit_price = models.DecimalField("单价（元）", **MONEY)
    unit = models.CharField("计价单位", max_length=20, help_text="如 项、样、机时")
    description = models.TextField("服务内容", blank=True)
    active = models.BooleanField("在售", default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "服务项目"
        verbose_name_plural = "服务项目"
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "name"],
                name="provider_service_unique_name",
                violation_error_message="该机构已有同名服务",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="provider_service_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.provider.name}）"


class ProviderMember(models.Model):
    """Which provider a user of the 服务机构 role acts for (the enterprise registry's Membership knows only
    enterprises and parks)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="voucher_providers",
    )
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.CASCADE, related_name="members"
    )

    class Meta:
        verbose_name = "服务机构用户"
        verbose_name_plural = "服务机构用户"
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="provider_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.provider}"


class VoucherApplication(WorkflowModel):
    """An enterprise's application for a voucher (workflow "vouchers.voucherapplication")."""

    scheme = models.ForeignKey(
        VoucherScheme, verbose_name="年度方案", on_delete=models.PROTECT, related_name="applications"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="申请企业", on_delete=models.PROTECT, related_name="voucher_applications"
    )
    requested_amount = models.DecimalField("申请额度（元）", **MONEY)
    purpose = models.TextField("用途", help_text="拟购买的服务及其用于哪项研发活动")
    planned_services = models.ManyToManyField(
        ProviderService, verbose_name="拟购服务", blank=True, related_name="planned_in"
    )
    granted_amount = models.DecimalField("核定额度（元）", **MONEY, null=True, blank=True)
    decision_note = models.TextField("审核意见", blank=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
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
        verbose_name = "创新券申请"
        verbose_name_plural = "创新券申请"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gt=0),
                name="voucher_application_requested_positive",
                violation_error_message="申请额度须大于 0",
            ),
            models.CheckConstraint(
                condition=Q(granted_amount__isnull=True)
                | (Q(granted_amount__gt=0) & Q(granted_amount__lte=F("requested_amount"))),
                name="voucher_application_granted_within_requested",
                violation_error_message="核定额度须大于 0 且不超过申请额度",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} · {self.scheme}"


class Voucher(models.Model):
    """The grant: a voucher of `amount` yuan, of which `used` is held by redemptions not refused."""

    number = models.CharField("券号", max_length=40, unique=True)
    application = models.OneToOneField(
        VoucherApplication, verbose_name="申请", on_delete=models.PROTECT, related_name="voucher"
    )
    scheme = models.ForeignKey(
        VoucherScheme, verbose_name="年度方案", on_delete=models.PROTECT, related_name="vouchers"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="持券企业", on_delete=models.PROTECT, related_name="vouchers"
    )
    amount = models.DecimalField("券面额度（元）", **MONEY)
    used = models.DecimalField("已使用（元）", **MONEY, default=Decimal("0"))
    share_pct = models.DecimalField("抵扣比例（%）", max_digits=5, decimal_places=2)
    issued_at = models.DateTimeField("发放时间")
    valid_until = models.DateField("有效期至")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "创新券"
        verbose_name_plural = "创新券"
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="voucher_amount_positive"),
            # As projects.Award's disbursed ≤ amount: the database itself holds the balance.
            models.CheckConstraint(
                condition=Q(used__gte=0) & Q(used__lte=F("amount")),
                name="voucher_used_within_amount",
                violation_error_message="已使用金额不能超过券面额度",
            ),
            models.CheckConstraint(
                condition=Q(share_pct__gt=0) & Q(share_pct__lte=100), name="voucher_share_range"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance(self) -> Decimal:
        return self.amount - self.used

    def is_expired(self, on=None) -> bool:
        return (on or timezone.localdate()) > self.valid_until


class Redemption(WorkflowModel):
    """兑付: a provider's claim on a voucher for a service under a contract, against an invoice (workflow
    "vouchers.redemption": 待核验 → 已核验 → 已结算, or 不予兑付)."""

    voucher = models.ForeignKey(
        Voucher, verbose_name="创新券", on_delete=models.PROTECT, related_name="redemptions"
    )
    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="redemptions"
    )
    provider_uscc = models.CharField(
        "服务机构统一社会信用代码", max_length=18, help_text="提交时抄录，数据库据此保证一张发票只兑付一次"
    )
    service = models.ForeignKey(
        ProviderService, verbose_name="服务项目", on_delete=models.PROTECT, related_name="redemptions"
    )
    contract_no = models.CharField("服务合同编号", max_length=60)
    contract_amount = models.DecimalField("合同金额（元）", **MONEY)
    invoice_no = models.CharField(
        "发票号码", max_length=40, help_text="规范化后保存：去空格、全角转半角、大写"
    )
    invoice_date = models.DateField("开票日期")
    invoice_amount = models.DecimalField("发票金额（元）", **MONEY)
    voucher_part = models.DecimalField("创新券抵扣（元）", **MONEY)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField("核验时间", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核验人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    refusal_reason = models.TextField("不予兑付原因", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "创新券兑付"
        verbose_name_plural = "创新券兑付"
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["invoice_no"], name="redemption_invoice_no"),
            models.Index(fields=["provider", "submitted_at"], name="redemption_provider_time"),
        ]
        constraints = [
            # "An invoice is used once": while a redemption of it stands (not refused), no other.
            models.UniqueConstraint(
                fields=["provider_uscc", "invoice_no"],
                condition=~Q(state=REFUSED),
                name="redemption_invoice_once",
                violation_error_message="该服务机构的这张发票已用于兑付",
            ),
            models.CheckConstraint(
                condition=Q(invoice_amount__gt=0) & Q(invoice_amount__lte=F("contract_amount")),
                name="redemption_invoice_within_contract",
                violation_error_message="发票金额须大于 0 且不超过合同金额",
            ),
            models.CheckConstraint(
                condition=Q(voucher_part__gt=0) & Q(voucher_part__lte=F("invoice_amount")),
                name="redemption_part_within_invoice",
                violation_error_message="创新券抵扣须大于 0 且不超过发票金额",
            ),
        ]

    def __str__(self) -> str:
        return f"兑付 #{self.pk} 发票 {self.invoice_no}"

    @property
    def enterprise_part(self):
        """What the enterprise pays itself of the invoice."""
        return self.invoice_amount - self.voucher_part

    @property
    def enterprise(self) -> Enterprise:
        """Whose matter it is (the workflow inbox shows it): the voucher's holder."""
        return self.voucher.enterprise


class Settlement(models.Model):
    """结算: the verified redemptions of one provider in a period, paid to it in one payment."""

    provider = models.ForeignKey(
        Provider, verbose_name="服务机构", on_delete=models.PROTECT, related_name="settlements"
    )
    period_start = models.DateField("核验期间起")
    period_end = models.DateField("核验期间止")
    total = models.DecimalField("结算金额（元）", **MONEY)
    paid_on = models.DateField("支付日期")
    voucher_no = models.CharField("会计凭证号", max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("结算时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "创新券结算"
        verbose_name_plural = "创新券结算"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="settlement_total_positive"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="settlement_period_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"结算 #{self.pk} {self.provider.name}"


class SettlementLine(models.Model):
    settlement = models.ForeignKey(
        Settlement, verbose_name="结算", on_delete=models.PROTECT, related_name="lines"
    )
    redemption = models.OneToOneField(
        Redemption, verbose_name="兑付", on_delete=models.PROTECT, related_name="settlement_line"
    )
    amount = models.DecimalField("金额（元）", **MONEY)

    class Meta:
        verbose_name = "结算明细"
        verbose_name_plural = "结算明细"
        ordering = ["settlement", "redemption"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_line_positive")]

    def __str__(self) -> str:
        return f"{self.settlement} ← {self.redemption}"


class FlagKind(models.TextChoices):
    SAME_USCC = "same_uscc", "关联方：同一统一社会信用代码"
    SAME_LEGAL_REP = "same_legal_rep", "关联方：同一法定代表人"
    SAME_ADDRESS = "same_address", "关联方：同一地址"
    DUPLICATE_INVOICE = "duplicate_invoice", "疑似重复发票"
    OVER_CAP = "over_cap", "超上限使用"
    BURST = "burst", "短时集中兑付"


class FlagResolution(models.TextChoices):
    OPEN = "", "待处理"
    CLEARED = "cleared", "核实无误"
    UPHELD = "upheld", "确认违规"
    CLOSED = "closed", "随办结关闭"


class AbuseFlag(models.Model):
    """A suspicion raised by kechuang/vouchers/abuse.py on a redemption or an application, with its reason in
    Chinese. It does not block the submission; it blocks the officer's next step (verification, approval) until
    resolved: cleared with a note, or upheld — which refuses the redemption or rejects the application."""

    redemption = models.ForeignKey(
        Redemption, verbose_name="兑付", null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    application = models.ForeignKey(
        VoucherApplication,
        verbose_name="申请",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="flags",
    )
    kind = models.CharField("类别", max_length=20, choices=FlagKind.choices)
    reason = models.TextField("原因")
    raised_at = models.DateTimeField("发现时间", default=timezone.now)
    resolution = models.CharField(
        "处理结果", max_length=10, choices=FlagResolution.choices, default=FlagResolution.OPEN, blank=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolution_note = models.TextField("处理说明", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "异常预警"
        verbose_name_plural = "异常预警"
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(redemption__isnull=False) & Q(application__isnull=True))
                | (Q(redemption__isnull=True) & Q(application__isnull=False)),
                name="abuse_flag_one_target",
                violation_error_message="预警须且只能针对一笔兑付或一份申请",
            ),
            models.UniqueConstraint(
                fields=["redemption", "kind"],
                condition=Q(redemption__isnull=False),
                name="abuse_flag_once_per_redemption",
            ),
            models.UniqueConstraint(
                fields=["application", "kind"],
                condition=Q(application__isnull=False),
                name="abuse_flag_once_per_application",
            ),
            models.CheckConstraint(
                condition=Q(resolution="") | (Q(resolved_at__isnull=False) & ~Q(resolution_note="")),
                name="abuse_flag_resolved_with_note",
                violation_error_message="处理预警须写明说明",
            ),
        ]
        indexes = [models.Index(fields=["resolution", "kind"], name="abuse_flag_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.reason[:40]}"

    @property
    def is_open(self) -> bool:
        return self.resolution == FlagResolution.OPEN

    @property
    def target(self):
        return self.redemption if self.redemption_id else self.application
