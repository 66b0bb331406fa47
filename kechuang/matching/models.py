"""双向发榜: enterprises' technical demands (需求), universities' and institutes' achievements (成果) and talent
profiles (专家团队), moderated before publication; and the docking records (对接) that follow a match from
推荐 to 落地, with the structured reason when one side declines.

The text a posting is matched on is kept with its tokens (`tokens`, written by the services when the text
changes), so the search index can be rebuilt without segmenting every posting again.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from kechuang.enterprises.choices import HitechField
from kechuang.enterprises.models import Enterprise

MONEY = {"max_digits": 16, "decimal_places": 2}


class PostingState(models.TextChoices):
    DRAFT = "draft", "草稿"
    PENDING = "pending", "待审核"
    RETURNED = "returned", "退回修改"
    PUBLISHED = "published", "已发布"
    CLOSED = "closed", "已关闭"
    WITHDRAWN = "withdrawn", "已撤回"


class Posting(models.Model):
    """What demands, achievements and profiles share: text to match on, a field, moderation, tokens."""

    title = models.CharField("标题", max_length=200)
    field = models.CharField("技术领域", max_length=2, choices=HitechField.choices, blank=True)
    keywords = models.CharField("关键词", max_length=300, blank=True, help_text="以、或逗号分隔")
    state = models.CharField("状态", max_length=12, choices=PostingState.choices, default=PostingState.DRAFT)
    moderation_note = models.CharField("审核意见", max_length=500, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # Normalised title (NFKC, no spaces or punctuation, case-folded): the same poster may not post it twice.
    fingerprint = models.CharField("查重指纹", max_length=200, editable=False)
    tokens = models.JSONField(
        "分词", default=dict, editable=False, help_text='{"title": [...], "keywords": [...], "text": [...]}'
    )

    class Meta:
        abstract = True


class Demand(Posting):
    """An enterprise's technical demand (企业出题 / 技术需求)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="发布企业", on_delete=models.PROTECT, related_name="demands"
    )
    description = models.TextField("需求描述")
    budget = models.DecimalField("预算（元）", **MONEY, null=True, blank=True)
    deadline = models.DateField("截止日期", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "技术需求"
        verbose_name_plural = "技术需求"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "fingerprint"],
                condition=~Q(state="withdrawn"),
                name="demand_unique_title",
                violation_error_message="该企业已发布同名需求",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0), name="demand_budget_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["state", "field"])]

    def __str__(self) -> str:
        return self.title


class CooperationMode(models.TextChoices):
    TRANSFER = "transfer", "技术转让"
    LICENCE = "licence", "技术许可"
    JOINT_DEVELOPMENT = "joint", "合作开发"
    EQUITY = "equity", "作价入股"
    SERVICE = "service", "技术服务"


class Achievement(Posting):
    """A university's or institute's achievement (成果) on offer."""

    organisation = models.CharField("所属单位", max_length=200)
    abstract = models.TextField("成果简介")
    trl = models.PositiveSmallIntegerField(
        "技术成熟度（TRL）",
        null=True,
        blank=True,
        help_text="1–9：1 基本原理 … 4 实验室验证 … 7 实际环境样机 … 9 规模应用",
    )
    ip = models.CharField("知识产权", max_length=300, blank=True, help_text="如：发明专利 ZL2023XXXXXXXX.X")
    cooperation_modes = models.JSONField(
        "合作方式", default=list, blank=True, help_text="CooperationMode 的值"
    )
    import_batch = models.CharField("导入批次", max_length=40, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "科技成果"
        verbose_name_plural = "科技成果"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "fingerprint"],
                condition=~Q(state="withdrawn"),
                name="achievement_unique_title",
                violation_error_message="该单位已发布同名成果",
            ),
            models.CheckConstraint(
                condition=Q(trl__isnull=True) | (Q(trl__gte=1) & Q(trl__lte=9)), name="achievement_trl_1_to_9"
            ),
        ]
        indexes = [models.Index(fields=["state", "field"])]

    def __str__(self) -> str:
        return self.title


class TalentProfile(Posting):
    """A university team or expert on offer for cooperation (title = the person's or team's name)."""

    organisation = models.CharField("所属单位", max_length=200)
    position = models.CharField("职称/职务", max_length=100, blank=True)
    bio = models.TextField("研究方向与成果")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "专家团队"
        verbose_name_plural = "专家团队"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "fingerprint"],
                condition=~Q(state="withdrawn"),
                name="talent_unique_name",
                violation_error_message="该单位已发布同名专家团队",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DockingState(models.TextChoices):
    RECOMMENDED = "recommended", "推荐"
    CONTACTED = "contacted", "联系"
    NEGOTIATING = "negotiating", "洽谈"
    SIGNED = "signed", "签约"
    LANDED = "landed", "落地"
    DECLINED = "declined", "未成"


class DeclineReason(models.TextChoices):
    """Why a match went nowhere (after IN-PART's feedback categories), for officers to analyse."""

    NOT_RELEVANT = "not_relevant", "技术不对口"
    TOO_EARLY = "too_early", "成果太早期"
    TOO_COSTLY = "too_costly", "成本或报价过高"
    IP_UNCLEAR = "ip_unclear", "知识产权不清晰"
    BENEFIT_UNCLEAR = "benefit_unclear", "优势不明显"
    NO_RESPONSE = "no_response", "对方无回应"
    OTHER = "other", "其他"


class Docking(models.Model):
    """A demand matched with an achievement or a talent profile, followed to 签约 and 落地."""

    demand = models.ForeignKey(
        Demand, verbose_name="技术需求", on_delete=models.PROTECT, related_name="dockings"
    )
    achievement = models.ForeignKey(
        Achievement,
        verbose_name="科技成果",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dockings",
    )
    talent = models.ForeignKey(
        TalentProfile,
        verbose_name="专家团队",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dockings",
    )
    state = models.CharField(
        "状态", max_length=12, choices=DockingState.choices, default=DockingState.RECOMMENDED
    )
    score = models.FloatField("推荐得分", null=True, blank=True)
    explanation = models.JSONField(
        "推荐理由", default=dict, blank=True, help_text='{"terms": [...], "field": bool}'
    )
    decline_reason = models.CharField("未成原因", max_length=20, choices=DeclineReason.choices, blank=True)
    decline_note = models.CharField("原因说明", max_length=500, blank=True)
    signed_on = models.DateField("签约日期", null=True, blank=True)
    contract_amount = models.DecimalField("合同金额（元）", **MONEY, null=True, blank=True)
    landed_on = models.DateField("落地日期", null=True, blank=True)
    tech_contract = models.ForeignKey(
        "recognitions.TechContract",
        verbose_name="技术合同",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dockings",
        help_text="签约后申请认定登记的技术合同",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "对接"
        verbose_name_plural = "对接"
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(achievement__isnull=False, talent__isnull=True)
                | Q(achievement__isnull=True, talent__isnull=False),
                name="docking_one_counterpart",
                violation_error_message="对接须对应一项成果或一个专家团队",
            ),
            models.UniqueConstraint(fields=["demand", "achievement"], name="docking_unique_achievement"),
            models.UniqueConstraint(fields=["demand", "talent"], name="docking_unique_talent"),
            models.CheckConstraint(
                condition=~Q(state="declined") | ~Q(decline_reason=""),
                name="docking_declined_has_reason",
                violation_error_message="未成的对接须选择原因",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["signed", "landed"]) | Q(signed_on__isnull=False),
                name="docking_signed_has_date",
                violation_error_message="签约须填写签约日期",
            ),
            models.CheckConstraint(
                condition=Q(contract_amount__isnull=True) | Q(contract_amount__gte=0),
                name="docking_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demand} ↔ {self.achievement or self.talent}"


class DockingNote(models.Model):
    docking = models.ForeignKey(Docking, verbose_name="对接", on_delete=models.CASCADE, related_name="notes")
    on = models.DateField("日期")
    text = models.TextField("记录")
    state = models.CharField("当时状态", max_length=12, choices=DockingState.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "对接记录"
        verbose_name_plural = "对接记录"
        ordering = ["docking", "on", "pk"]

    def __str__(self) -> str:
        return f"{self.on} {self.text[:20]}"


class IndexChange(models.Model):
    """A posting (or enterprise) written or deleted, appended in the same transaction as the write. The search
    index of each process applies the changes after the last one it has seen, so an edit or a deletion shows in
    the next query without rebuilding; `kechuang matching_reindex` rebuilds from scratch."""

    kind = models.CharField("类别", max_length=12, help_text="demand / achievement / talent / enterprise")
    object_id = models.PositiveBigIntegerField("对象")
    deleted = models.BooleanField("已删除", default=False)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "检索索引变更"
        verbose_name_plural = "检索索引变更"

    def __str__(self) -> str:
        return f"{self.kind}#{self.object_id}"


class Affiliation(models.Model):
    """Which university or institute (高校/院所) a user acts for: a university user's achievements and talent
    profiles are its organisation's (Achievement.organisation, TalentProfile.organisation), and the
    organisation's users are that side of their dockings. Set by an officer (admin) or the demo."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="affiliation"
    )
    organisation = models.CharField("所属单位", max_length=200, help_text="高校或科研院所的全称，如 东华大学")

    class Meta:
        verbose_name = "高校/院所用户归属"
        verbose_name_plural = "高校/院所用户归属"
        ordering = ["organisation", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} → {self.organisation}"
