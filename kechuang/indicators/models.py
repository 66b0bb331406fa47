"""统计监测: the indicators the documents set, the figures they give (baselines, history, targets), the
observations officers record, targets split by park, unit and period with owners, and the plan tasks.

Documented figures are loaded from catalogue/*.yaml exactly as the documents write them, each with the
document, the place in it and the words it was read from; they are not edited in the browser.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from kechuang.enterprises.models import Park


class Direction(models.TextChoices):
    INCREASE = "increase", "越大越好"
    DECREASE = "decrease", "越小越好"


class Frequency(models.TextChoices):
    YEAR = "year", "年度"
    QUARTER = "quarter", "季度"
    MONTH = "month", "月度"


class Document(models.TextChoices):
    """The five source documents (docs/sources)."""

    PLAN_15 = "000", "沪松府〔2026〕67号《松江区新质生产力发展先行区建设“十五五”规划》"
    WORK_2026 = "001", "松科委〔2026〕13号《松江区科学技术委员会2026年工作要点》"
    PLAN_14 = "002", "松科委〔2022〕2号《松江区科技创新“十四五”规划》"
    OPINIONS = "003", "沪松府〔2025〕150号《松江区关于加快科技创新全链条发展的若干意见》"
    ZHANGJIANG = "004", "沪松府〔2025〕80号《张江高新区松江园改革创新发展行动方案（2025-2026年）》"


class Indicator(models.Model):
    code = models.SlugField("代码", max_length=60, unique=True)
    name = models.CharField("指标", max_length=120)
    unit = models.CharField("单位", max_length=20)
    direction = models.CharField("方向", max_length=10, choices=Direction.choices, default=Direction.INCREASE)
    frequency = models.CharField("统计频度", max_length=10, choices=Frequency.choices, default=Frequency.YEAR)
    data_source = models.CharField("数据来源", max_length=100, help_text="如 火炬统计企业年报、市统计局")
    scope = models.CharField(
        "统计范围", max_length=40, default="松江区", help_text="松江区 或 张江高新区松江园"
    )
    computed = models.CharField(
        "由企业库计算",
        max_length=40,
        blank=True,
        help_text="computed.py 中的计算方法；为空则由业务人员录入观测值",
    )
    value_min = models.DecimalField("合理下限", max_digits=20, decimal_places=4, null=True, blank=True)
    value_max = models.DecimalField("合理上限", max_digits=20, decimal_places=4, null=True, blank=True)
    description = models.TextField("说明", blank=True)
    order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "指标"
        verbose_name_plural = "指标"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.unit}）"


class FigureKind(models.TextChoices):
    BASELINE = "baseline", "基期值"
    HISTORY = "history", "历史值"
    ACHIEVED = "achieved", "期间完成值"
    TARGET = "target", "目标值"


class DocumentedFigure(models.Model):
    """One figure a document gives for an indicator, exactly as written, with where it was read."""

    indicator = models.ForeignKey(
        Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="figures"
    )
    kind = models.CharField("类别", max_length=10, choices=FigureKind.choices)
    year = models.PositiveSmallIntegerField("年份", help_text="目标年或统计年；期间值为期末年")
    period_start = models.PositiveSmallIntegerField(
        "期间起始年", null=True, blank=True, help_text="期间值（如“十四五”期间累计）的起始年"
    )
    text = models.CharField("原文数值", max_length=40, help_text="如 2650、1-2、50%左右、不少于18")
    value = models.DecimalField("数值", max_digits=20, decimal_places=4, null=True, blank=True)
    value_high = models.DecimalField("区间上限", max_digits=20, decimal_places=4, null=True, blank=True)
    comparator = models.CharField("关系", max_length=12, default="=", help_text="=、≥、≤、约、区间")
    document = models.CharField("文件", max_length=3, choices=Document.choices)
    place = models.CharField("位置", max_length=120, help_text="附件、表、章节或段落")
    quote = models.CharField("原文", max_length=300, help_text="文件中逐字出现的文字，用于核对")

    class Meta:
        verbose_name = "文件数据"
        verbose_name_plural = "文件数据"
        ordering = ["indicator", "year", "kind"]
        constraints = [
            # One document may give two figures for the same year (沪松府〔2025〕80号: 700亿元 in its text,
            # 713 in 附件1): both are held, told apart by how they are printed.
            models.UniqueConstraint(
                fields=["indicator", "kind", "year", "document", "text"],
                name="documented_figure_unique",
                violation_error_message="同一文件对同一指标同一年份的同一数据已登记",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.name} {self.year} {self.get_kind_display()} {self.text}"


class Observation(models.Model):
    """A value an officer recorded (or imported) for a period; computed indicators have none."""

    indicator = models.ForeignKey(
        Indicator, verbose_name="指标", on_delete=models.PROTECT, related_name="observations"
    )
    year = models.PositiveSmallIntegerField("年份")
    sub_period = models.PositiveSmallIntegerField(
        "季度或月份", default=0, help_text="年度指标为 0；季度 1–4；月度 1–12"
    )
    park = models.ForeignKey(
        Park, verbose_name="园区", null=True, blank=True, on_delete=models.PROTECT, help_text="为空表示全区"
    )
    value = models.DecimalField("数值", max_digits=20, decimal_places=4)
    source = models.CharField("数据来源", max_length=200, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, on_delete=models.SET_NULL
    )
    recorded_at = models.DateTimeField("录入时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["recorded_at"])

    class Meta:
        verbose_name = "观测值"
        verbose_name_plural = "观测值"
        ordering = ["indicator", "year", "sub_period"]
        constraints = [
            # NULL park (the whole district) is a value of its own: two unique constraints.
            models.UniqueConstraint(
                fields=["indicator", "year", "sub_period", "park"],
                name="observation_unique_park",
                condition=Q(park__isnull=False),
                violation_error_message="该指标该期该园区的观测值已录入",
            ),
            models.UniqueConstraint(
                fields=["indicator", "year", "sub_period"],
                name="observation_unique_district",
                condition=Q(park__isnull=True),
                violation_error_message="该指标该期的全区观测值已录入",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.name} {self.period_label}：{self.value}"

    @property
    def period_label(self) -> str:
        if self.sub_period == 0:
            return f"{self.year}年"
        unit = "季度" if self.indicator.frequency == Frequency.QUARTER else "月"
        return (
            f"{self.year}年第{self.sub_period}{unit}"
            if unit == "季度"
            else f"{self.year}年{self.sub_period}月"
        )


class ResponsibleUnit(models.Model):
    """实施主体 / 责任单位 as the documents name them (区科委, 区经委, 佘山镇, a company…)."""

    name = models.CharField("名称", max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="联系人", blank=True, related_name="responsible_units"
    )

    class Meta:
        verbose_name = "责任单位"
        verbose_name_plural = "责任单位"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """A target for an indicator in a year, from a document (figure) or set by the commission; a part
    (parent set) splits it by park, responsible unit or period, with an owner alerted when it slips."""

    indicator = models.ForeignKey(
        Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="targets"
    )
    year = models.PositiveSmallIntegerField("目标年")
    value = models.DecimalField("目标值", max_digits=20, decimal_places=4)
    baseline_year = models.PositiveSmallIntegerField("基期年")
    baseline_value = models.DecimalField("基期值", max_digits=20, decimal_places=4)
    figure = models.ForeignKey(
        DocumentedFigure,
        verbose_name="文件出处",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    parent = models.ForeignKey(
        "self", verbose_name="所属目标", null=True, blank=True, on_delete=models.CASCADE, related_name="parts"
    )
    park = models.ForeignKey(Park, verbose_name="园区", null=True, blank=True, on_delete=models.PROTECT)
    unit = models.ForeignKey(
        ResponsibleUnit, verbose_name="责任单位", null=True, blank=True, on_delete=models.PROTECT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_targets",
    )
    note = models.CharField("说明", max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "目标"
        verbose_name_plural = "目标"
        ordering = ["indicator", "year", "parent_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gt=models.F("baseline_year")),
                name="target_after_baseline",
                violation_error_message="目标年必须晚于基期年",
            ),
        ]

    def __str__(self) -> str:
        where = " ".join(str(x) for x in (self.park, self.unit) if x)
        return f"{self.indicator.name} {self.year}年目标 {self.value}{(' · ' + where) if where else ''}"


class TargetAlert(models.Model):
    """Raised to a target's owner when its status slips (on track → at risk → off track)."""

    target = models.ForeignKey(Target, verbose_name="目标", on_delete=models.CASCADE, related_name="alerts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        on_delete=models.CASCADE,
        related_name="target_alerts",
    )
    status = models.CharField("状态", max_length=12)
    message = models.CharField("提醒", max_length=300)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读", null=True, blank=True)

    class Meta:
        verbose_name = "目标预警"
        verbose_name_plural = "目标预警"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message


class TaskKind(models.TextChoices):
    REFORM_TASK = "reform_task", "改革创新重点任务"  # 004 附件2
    KEY_PROJECT = "key_project", "重点项目"  # 004 附件3
    SERVICE = "service", "服务事项"  # 004 附件5
    WORK_ITEM = "work_item", "年度工作要点"  # 001


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未开始"
    IN_PROGRESS = "in_progress", "推进中"
    DONE = "done", "已完成"
    SUSPENDED = "suspended", "暂缓"


class PlanTask(models.Model):
    kind = models.CharField("类别", max_length=20, choices=TaskKind.choices)
    number = models.PositiveSmallIntegerField("序号")
    title = models.CharField("名称", max_length=200)
    category = models.CharField(
        "分类", max_length=60, blank=True, help_text="如 服务清单的 政务服务/公共服务/专业服务"
    )
    content = models.TextField("主要内容")
    units = models.ManyToManyField(ResponsibleUnit, verbose_name="实施主体/责任单位", related_name="tasks")
    units_text = models.CharField("实施主体（原文）", max_length=300)
    period_text = models.CharField("实施周期（原文）", max_length=40, blank=True)
    start_date = models.DateField("开始日期", null=True, blank=True)
    deadline = models.DateField("完成期限")
    status = models.CharField(
        "状态", max_length=12, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    document = models.CharField("文件", max_length=3, choices=Document.choices)
    place = models.CharField("位置", max_length=120)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "计划任务"
        verbose_name_plural = "计划任务"
        ordering = ["document", "kind", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "kind", "number"], name="plan_task_unique"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="plan_task_progress_max"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}. {self.title}"


class TaskNote(models.Model):
    task = models.ForeignKey(PlanTask, verbose_name="任务", on_delete=models.CASCADE, related_name="notes")
    date = models.DateField("日期")
    text = models.TextField("进展")
    progress = models.PositiveSmallIntegerField("进度（%）", null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("填报时间", auto_now_add=True)

    class Meta:
        verbose_name = "进展记录"
        verbose_name_plural = "进展记录"
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"{self.task.title} {self.date}"
