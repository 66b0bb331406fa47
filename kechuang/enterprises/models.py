from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from kechuang.core import uscc
from kechuang.core.validators import validate_uscc
from kechuang.enterprises import choices
from kechuang.enterprises.figures import (
    FIGURES_BY_NAME,
    MONEY_FIGURES,
    MONEY_MAX_YUAN,
    PEOPLE_FIGURES,
    SIGNED_FIGURES,
    STAFF_MAX,
)

YEAR_MIN = 1949


def _figure_field(name: str) -> models.DecimalField:
    figure = FIGURES_BY_NAME[name]
    if figure.is_money:
        return models.DecimalField(
            figure.label, max_digits=18, decimal_places=2, null=True, blank=True, help_text=f"单位：元。{figure.definition}"
        )
    return models.DecimalField(
        figure.label, max_digits=9, decimal_places=1, null=True, blank=True, help_text=f"单位：人。{figure.definition}"
    )


class Park(models.Model):
    name = models.CharField("名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=40, blank=True)
    kind = models.CharField("类型", max_length=20, choices=choices.ParkKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级园区", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    source = models.CharField("出处", max_length=200, blank=True, help_text="名称所依据的文件及章节")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "园区"
        verbose_name_plural = "园区"
        ordering = ["parent_id", "name"]

    def __str__(self) -> str:
        return self.name

    def with_descendants(self) -> list[int]:
        ids, frontier = [self.pk], [self.pk]
        while frontier:
            frontier = list(Park.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            ids += frontier
        return ids


class EnterpriseQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EnterpriseQuerySet":
        """The enterprises this user may see: all for officers and leaders, a park's for its
        operator, its own for an enterprise user, none otherwise."""
        if not user.is_authenticated or not user.has_perm("enterprises.view_enterprise"):
            return self.none()
        if user.has_perm("enterprises.view_all_enterprises"):
            return self
        memberships = list(Membership.objects.filter(user=user))
        enterprise_ids = [m.enterprise_id for m in memberships if m.enterprise_id]
        park_ids: list[int] = []
        for membership in memberships:
            if membership.park_id:
                park_ids += membership.park.with_descendants()
        return self.filter(Q(pk__in=enterprise_ids) | Q(park_id__in=park_ids))

    def with_valid_qualification(self, kind: str, on: date | None = None) -> "EnterpriseQuerySet":
        return self.filter(pk__in=Qualification.objects.valid_on(on).filter(kind=kind).values("enterprise_id"))


class Enterprise(models.Model):
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    name = models.CharField("企业名称", max_length=200)
    short_name = models.CharField("简称", max_length=60, blank=True)
    registration_date = models.DateField("成立日期", null=True, blank=True)
    park = models.ForeignKey(Park, verbose_name="所在园区", null=True, blank=True, on_delete=models.PROTECT)
    industry = models.CharField("所属行业（GB/T 4754门类）", max_length=1, choices=choices.Industry.choices, blank=True)
    hitech_field = models.CharField(
        "高新技术领域", max_length=2, choices=choices.HitechField.choices, blank=True, help_text="《国家重点支持的高新技术领域》一级领域"
    )
    main_business = models.CharField("主营业务", max_length=200, blank=True)
    address = models.CharField("注册地址", max_length=200, blank=True)
    legal_representative = models.CharField("法定代表人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    status = models.CharField("状态", max_length=20, choices=choices.EnterpriseStatus.choices, default=choices.EnterpriseStatus.ACTIVE)
    is_listed = models.BooleanField("已上市", default=False)
    is_demo = models.BooleanField("示例数据", default=False, help_text="演示用的合成数据，不是真实申报数据")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = EnterpriseQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "企业"
        verbose_name_plural = "企业"
        ordering = ["name"]
        permissions = [
            ("view_all_enterprises", "可查看全部企业"),
            ("import_registry", "可导入企业库数据"),
            ("export_registry", "可导出企业库数据"),
            ("view_history", "可查看变更记录"),
        ]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["park", "name"]),
            models.Index(fields=["industry"]),
            models.Index(fields=["hitech_field"]),
            models.Index(fields=["short_name"]),
            models.Index(fields=["registration_date"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.uscc = uscc.normalise(self.uscc)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("enterprises:detail", args=[self.pk])

    def clean_fields(self, exclude=None):
        # Normalise before the check-character validator sees the code: "91000…0k" is valid.
        self.uscc = uscc.normalise(self.uscc)
        super().clean_fields(exclude=exclude)

    def clean(self):
        if self.registration_date and self.registration_date > timezone.localdate():
            raise ValidationError({"registration_date": f"成立日期 {self.registration_date} 晚于今天"})

    @property
    def masked_phone(self) -> str:
        phone = self.contact_phone
        return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else ("****" if phone else "")


class EnterpriseYear(models.Model):
    """An enterprise's figures for one accounting year. Missing is NULL, never 0."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField("年度")
    employees = _figure_field("employees")
    tech_staff = _figure_field("tech_staff")
    rd_staff = _figure_field("rd_staff")
    sales_revenue = _figure_field("sales_revenue")
    main_business_revenue = _figure_field("main_business_revenue")
    total_income = _figure_field("total_income")
    hitech_revenue = _figure_field("hitech_revenue")
    rd_expense_hnte = _figure_field("rd_expense_hnte")
    rd_expense_hnte_domestic = _figure_field("rd_expense_hnte_domestic")
    rd_expense_deduction = _figure_field("rd_expense_deduction")
    rd_expense = _figure_field("rd_expense")
    cost_expense_total = _figure_field("cost_expense_total")
    total_assets = _figure_field("total_assets")
    net_assets = _figure_field("net_assets")
    total_profit = _figure_field("total_profit")
    net_profit = _figure_field("net_profit")
    tax_paid = _figure_field("tax_paid")
    export_revenue = _figure_field("export_revenue")
    equity_financing = _figure_field("equity_financing")
    valuation = _figure_field("valuation")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "企业年度数据"
        verbose_name_plural = "企业年度数据"
        ordering = ["enterprise_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="enterprise_year_unique", violation_error_message="该企业该年度的数据已存在，请编辑原有记录"),
            models.CheckConstraint(
                condition=Q(rd_staff__isnull=True) | Q(employees__isnull=True) | Q(rd_staff__lte=models.F("employees")),
                name="enterprise_year_rd_staff_within_employees",
                violation_error_message="研发人员数不能多于职工总数",
            ),
            models.CheckConstraint(
                condition=Q(tech_staff__isnull=True) | Q(employees__isnull=True) | Q(tech_staff__lte=models.F("employees")),
                name="enterprise_year_tech_staff_within_employees",
                violation_error_message="科技人员数不能多于职工总数",
            ),
            models.CheckConstraint(
                condition=Q(rd_expense_hnte_domestic__isnull=True)
                | Q(rd_expense_hnte__isnull=True)
                | Q(rd_expense_hnte_domestic__lte=models.F("rd_expense_hnte")),
                name="enterprise_year_domestic_rd_within_rd",
                violation_error_message="境内研发费用不能多于研发费用总额",
            ),
        ] + [
            models.CheckConstraint(condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0}), name=f"enterprise_year_{name}_non_negative", violation_error_message=f"{FIGURES_BY_NAME[name].label}不能为负数")
            for name in (*PEOPLE_FIGURES, *MONEY_FIGURES)
            if name not in SIGNED_FIGURES
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.year}年"

    def clean(self):
        errors = year_errors({name: getattr(self, name) for name in (*PEOPLE_FIGURES, *MONEY_FIGURES)}, self.year)
        if errors:
            raise ValidationError(errors)


def year_errors(values: dict[str, Decimal | None], year: int | None, *, this_year: int | None = None) -> dict[str, str]:
    """The single-row rules of a year's figures, as {field: Chinese message}; shared by the model
    and the importer so a form and a spreadsheet say the same thing. An import of many rows passes
    `this_year` once instead of reading the clock per row."""
    errors: dict[str, str] = {}
    this_year = this_year or timezone.localdate().year
    if year is not None and not YEAR_MIN <= year <= this_year:
        errors["year"] = f"年度 {year} 超出范围：应在 {YEAR_MIN}–{this_year} 之间"
    for name, value in values.items():
        if value is None:
            continue
        figure = FIGURES_BY_NAME[name]
        if value < 0 and name not in SIGNED_FIGURES:
            errors[name] = f"{figure.label}不能为负数（填写值 {_shown(figure, value)}）"
        elif figure.is_money and abs(value) > MONEY_MAX_YUAN:
            errors[name] = f"{figure.label} {_shown(figure, value)} 超过合理上限 1万亿元，请检查单位（应填万元）"
        elif not figure.is_money and value > STAFF_MAX:
            errors[name] = f"{figure.label} {value} 人超过合理上限 {STAFF_MAX} 人"
    employees = values.get("employees")
    for staff in ("tech_staff", "rd_staff"):
        if values.get(staff) is not None and employees is not None and values[staff] > employees and staff not in errors:
            label = FIGURES_BY_NAME[staff].label
            errors[staff] = f"{label}（{values[staff]}）不能多于职工总数（{employees}）"
    rd, domestic = values.get("rd_expense_hnte"), values.get("rd_expense_hnte_domestic")
    if rd is not None and domestic is not None and domestic > rd and "rd_expense_hnte_domestic" not in errors:
        errors["rd_expense_hnte_domestic"] = (
            f"境内研发费用（{_shown(FIGURES_BY_NAME['rd_expense_hnte'], domestic)}）不能多于研发费用总额"
            f"（{_shown(FIGURES_BY_NAME['rd_expense_hnte'], rd)}）"
        )
    sales, main = values.get("sales_revenue"), values.get("main_business_revenue")
    if sales is not None and main is not None and main > sales and "main_business_revenue" not in errors:
        errors["main_business_revenue"] = "主营业务收入不能多于销售收入（销售收入=主营业务收入+其他业务收入）"
    return errors


def _shown(figure, value: Decimal) -> str:
    if figure.is_money:
        return f"{(value / 10000).normalize():f}万元"
    return f"{value}人"


class IPAsset(models.Model):
    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="ip_assets")
    ip_type = models.CharField("类型", max_length=20, choices=choices.IPType.choices)
    number = models.CharField("申请号/登记号", max_length=50)
    title = models.CharField("名称", max_length=200)
    application_date = models.DateField("申请日", null=True, blank=True)
    grant_date = models.DateField("授权/登记日", null=True, blank=True)
    acquisition = models.CharField("获得方式", max_length=20, choices=choices.IPAcquisition.choices, default=choices.IPAcquisition.OWN_RD)
    status = models.CharField("状态", max_length=20, choices=choices.IPStatus.choices, default=choices.IPStatus.VALID)
    hnte_used_year = models.PositiveSmallIntegerField(
        "已用于高企认定的年度", null=True, blank=True, help_text="Ⅱ类知识产权在高企认定中只能使用一次（国科发火〔2016〕195号 三(二)）"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "知识产权"
        verbose_name_plural = "知识产权"
        ordering = ["enterprise_id", "-grant_date", "number"]
        constraints = [
            models.UniqueConstraint(fields=["ip_type", "number"], name="ip_asset_unique_number", violation_error_message="该类型、该编号的知识产权已登记（同一知识产权只能由一家企业使用）"),
            models.CheckConstraint(
                condition=Q(grant_date__isnull=True) | Q(application_date__isnull=True) | Q(grant_date__gte=models.F("application_date")),
                name="ip_asset_granted_after_application",
                violation_error_message="授权/登记日不能早于申请日",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_ip_type_display()} {self.number}"

    @property
    def ip_class(self) -> str | None:
        """Ⅰ类 / Ⅱ类 as 国科发火〔2016〕195号 三(二) defines them; 商标 is neither."""
        if self.ip_type in choices.CLASS_I_TYPES:
            return "I"
        if self.ip_type in choices.CLASS_II_TYPES:
            return "II"
        return None

    @property
    def ip_class_display(self) -> str:
        return {"I": "Ⅰ类", "II": "Ⅱ类"}.get(self.ip_class or "", "不计")

    @property
    def is_used_for_hnte(self) -> bool:
        return self.ip_class == "II" and self.hnte_used_year is not None

    def clean(self):
        errors = {}
        if self.grant_date and self.application_date and self.grant_date < self.application_date:
            errors["grant_date"] = f"授权/登记日 {self.grant_date} 早于申请日 {self.application_date}"
        if self.grant_date and self.grant_date > timezone.localdate():
            errors["grant_date"] = f"授权/登记日 {self.grant_date} 晚于今天"
        if self.status == choices.IPStatus.PENDING and self.grant_date:
            errors["status"] = "已填写授权日的知识产权状态不能是“申请中”"
        if errors:
            raise ValidationError(errors)


class QualificationQuerySet(models.QuerySet):
    def valid_on(self, on: date | None = None) -> "QualificationQuerySet":
        """Certificates in force on a date (有效期内): issued on or before it, and it is not past
        the last day of validity."""
        on = on or timezone.localdate()
        return self.filter(issue_date__lte=on).filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=on))


# Default validity by kind, in years from the issue date, with its source.
VALIDITY_YEARS = {
    choices.QualificationKind.HNTE: 3,  # 国科发火〔2016〕32号 第九条
    choices.QualificationKind.SPECIALISED_SME: 3,  # 工信部企业〔2022〕63号 / 〔2026〕2号
    choices.QualificationKind.LITTLE_GIANT: 3,
    choices.QualificationKind.INNOVATIVE_SME: 3,
}


class Qualification(models.Model):
    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField("资质类型", max_length=40, choices=choices.QualificationKind.choices)
    level = models.CharField("级别", max_length=20, choices=choices.QualificationLevel.choices, blank=True)
    certificate_no = models.CharField("证书编号", max_length=60, blank=True)
    issuer = models.CharField("发证机关", max_length=100, blank=True)
    issue_date = models.DateField("发证日期")
    expiry_date = models.DateField("有效期至", null=True, blank=True, help_text="有效期的最后一天（含当天）；留空且类型有法定有效期时按发证日期自动计算，否则表示长期有效")

    objects = QualificationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "资质"
        verbose_name_plural = "资质"
        ordering = ["enterprise_id", "-issue_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expiry_date__isnull=True) | Q(expiry_date__gt=models.F("issue_date")),
                name="qualification_expiry_after_issue",
                violation_error_message="有效期至必须晚于发证日期",
            ),
            models.UniqueConstraint(fields=["enterprise", "kind", "issue_date"], name="qualification_unique_issue", violation_error_message="该企业同一日期发证的同类资质已登记"),
        ]
        # Covers the "valid on a date" subquery that the list filters and counts use.
        indexes = [models.Index(fields=["kind", "expiry_date", "issue_date", "enterprise"], name="qualification_kind_validity")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.issue_date}）"

    def save(self, *args, **kwargs):
        if self.expiry_date is None and self.kind in VALIDITY_YEARS and self.issue_date:
            self.expiry_date = default_expiry(self.kind, self.issue_date)
        super().save(*args, **kwargs)

    def clean(self):
        if self.issue_date and self.expiry_date and self.expiry_date <= self.issue_date:
            raise ValidationError({"expiry_date": f"有效期至 {self.expiry_date} 必须晚于发证日期 {self.issue_date}"})
        if self.issue_date and self.issue_date > timezone.localdate():
            raise ValidationError({"issue_date": f"发证日期 {self.issue_date} 晚于今天"})

    def is_valid_on(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.issue_date <= on and (self.expiry_date is None or self.expiry_date >= on)

    @property
    def days_to_expiry(self) -> int | None:
        if self.expiry_date is None:
            return None
        return (self.expiry_date - timezone.localdate()).days


def default_expiry(kind: str, issue_date: date) -> date:
    """The last valid day: "有效期为三年" from the issue date, i.e. the day before its third anniversary."""
    years = VALIDITY_YEARS[kind]
    try:
        anniversary = issue_date.replace(year=issue_date.year + years)
    except ValueError:  # issued on 29 February
        anniversary = issue_date.replace(year=issue_date.year + years, month=3, day=1)
    return anniversary - timedelta(days=1)


class Membership(models.Model):
    """Which enterprise (enterprise user) or park (park operator) a user acts for."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="memberships")
    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", null=True, blank=True, on_delete=models.CASCADE)
    park = models.ForeignKey(Park, verbose_name="园区", null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        verbose_name = "用户归属"
        verbose_name_plural = "用户归属"
        constraints = [
            models.CheckConstraint(
                condition=Q(enterprise__isnull=False, park__isnull=True) | Q(enterprise__isnull=True, park__isnull=False),
                name="membership_one_scope",
                violation_error_message="用户归属须且只能是一家企业或一个园区",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.enterprise or self.park}"


class ImportKind(models.TextChoices):
    ENTERPRISES = "enterprises", "企业基本信息"
    YEARS = "years", "企业年度数据"
    IP = "ip", "知识产权"
    QUALIFICATIONS = "qualifications", "资质"


class ImportJob(models.Model):
    """One uploaded file and what became of it: progress while it runs, the row-by-row report after."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "导入中"
        DONE = "done", "已完成"
        REJECTED = "rejected", "有错误，未导入"
        FAILED = "failed", "失败"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", "全部正确才导入（默认）"
        VALID_ONLY = "valid_only", "只导入正确的行"

    kind = models.CharField("数据类型", max_length=20, choices=ImportKind.choices)
    mode = models.CharField("导入方式", max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    filename = models.CharField("文件名", max_length=255)
    content = models.BinaryField("文件内容", editable=False)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    error_rows = models.PositiveIntegerField("出错行数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True, help_text="[{row, column, value, message}]")
    message = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    @property
    def percent(self) -> int:
        if self.status in (self.Status.DONE, self.Status.REJECTED, self.Status.FAILED):
            return 100
        return int(self.processed_rows * 100 / self.total_rows) if self.total_rows else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REJECTED, self.Status.FAILED)


class ExportJob(models.Model):
    """A registry export too large for the request (settings.EXPORT_SYNC_MAX_ENTERPRISES), run by
    the worker: the filters as asked, progress while it runs, the workbook after."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "导出中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    filters = models.JSONField("筛选条件", default=dict, blank=True)  # selectors.RegistryFilters as a dict
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.QUEUED)
    total_enterprises = models.PositiveIntegerField("企业数", default=0)
    total_rows = models.PositiveIntegerField("总行数", default=0, help_text="四个工作表合计，任务开始时统计")
    processed_rows = models.PositiveIntegerField("已写入行数", default=0)
    # In the database like ImportJob.content: the worker and the web server share no disk, and the
    # file goes when the job is deleted.
    content = models.BinaryField("文件内容", editable=False, default=b"")
    file_size = models.PositiveBigIntegerField("文件大小", default=0)
    message = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导出人", null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"企业库导出 {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("enterprises:export-job", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        # 99 at most while running: after the last row the file is still being compressed.
        return min(99, int(self.processed_rows * 100 / self.total_rows)) if self.total_rows else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
