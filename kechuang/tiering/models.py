"""Stored assessments: a run assesses many enterprises on one date with one parameter set; each result
keeps its status and score, and the run keeps each enterprise's situation and the parameter files, so that
any past result can be replayed with its explanation (the explanation itself is not stored: replaying
rebuilds it exactly, and storing it would multiply a whole-registry run's writes tenfold)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from kechuang.enterprises.models import Enterprise


class AssessmentStatus(models.TextChoices):
    MET = "met", "满足"
    NOT_MET = "not_met", "不满足"
    UNKNOWN = "unknown", "待定"


class ParameterSnapshot(models.Model):
    """The parameter files and the officers' revisions an assessment was computed with, by fingerprint."""

    version = models.CharField("参数版本", max_length=16, primary_key=True)
    texts = models.JSONField("参数文件", help_text="{文件名: YAML 内容}")
    revisions = models.JSONField(
        "核实修正", default=list, blank=True, help_text="[{path, effective_from, value, note}]"
    )
    created_at = models.DateTimeField("首次使用", auto_now_add=True)

    class Meta:
        verbose_name = "参数版本"
        verbose_name_plural = "参数版本"

    def __str__(self) -> str:
        return self.version


class ParameterRevision(models.Model):
    """An officer's decision on one dated parameter value marked 待核实: confirm it, or correct it."""

    path = models.CharField("参数", max_length=100)
    effective_from = models.DateField("生效日期")
    value = models.JSONField("修正后的取值", null=True, blank=True, help_text="为空表示按原值确认")
    note = models.CharField("核实依据", max_length=300)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="核实人", null=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField("核实时间", auto_now=True)

    class Meta:
        verbose_name = "参数核实"
        verbose_name_plural = "参数核实"
        ordering = ["path", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["path", "effective_from"], name="parameter_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.path}（{self.effective_from} 起）"


class AssessmentRun(models.Model):
    """One assessment of many enterprises on one date: progress while it runs, the results after."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "评估中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    assessed_on = models.DateField("评价日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    parameters = models.ForeignKey(
        ParameterSnapshot, verbose_name="参数版本", null=True, blank=True, on_delete=models.PROTECT
    )
    total = models.PositiveIntegerField("企业数", default=0)
    processed = models.PositiveIntegerField("已完成企业数", default=0)
    stage = models.CharField("进度说明", max_length=100, blank=True)
    message = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    seconds = models.FloatField("用时（秒）", null=True, blank=True)

    class Meta:
        verbose_name = "梯度评估批次"
        verbose_name_plural = "梯度评估批次"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "assessed_on"], name="assessment_run_status_date")]

    def __str__(self) -> str:
        return f"{self.assessed_on} 梯度评估（{self.get_status_display()}）"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0


# The results of a run are millions of rows written at once: their foreign keys are kept by Django (the
# run writes only enterprises it read; deleting a run or an enterprise cascades through the ORM), not by
# database triggers, which took two thirds of a whole-registry run's time on PostgreSQL. The run needs no index
# of its own: it leads the composite ones.
NO_DB_CONSTRAINT = {"db_constraint": False}


class Assessment(models.Model):
    """One enterprise's result for one qualification in one run."""

    run = models.ForeignKey(
        AssessmentRun,
        verbose_name="评估批次",
        on_delete=models.CASCADE,
        related_name="results",
        db_index=False,
        **NO_DB_CONSTRAINT,
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="企业",
        on_delete=models.CASCADE,
        related_name="assessments",
        db_index=False,
        **NO_DB_CONSTRAINT,
    )
    area = models.CharField("资质", max_length=30)
    status = models.CharField("结果", max_length=10, choices=AssessmentStatus.choices)
    score_min = models.IntegerField("评分下限", null=True, blank=True)
    score_max = models.IntegerField("评分上限", null=True, blank=True)
    unmet = models.PositiveSmallIntegerField("不满足的条件数", default=0)
    unknown = models.PositiveSmallIntegerField("无法判断的条件数", default=0)

    class Meta:
        verbose_name = "梯度评估"
        verbose_name_plural = "梯度评估"
        constraints = [
            # Enterprise first: it also serves the cascade from a deleted enterprise, so the foreign key
            # needs no index of its own (each index costs a sixth of a whole-registry run's writes).
            models.UniqueConstraint(fields=["enterprise", "run", "area"], name="assessment_unique_per_run"),
        ]
        indexes = [
            models.Index(fields=["run", "area", "status", "enterprise"], name="assessment_run_area_status")
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.area}：{self.get_status_display()}"


class AssessedSituation(models.Model):
    """The situation row an enterprise was assessed with in a run (non-null columns only)."""

    run = models.ForeignKey(
        AssessmentRun,
        verbose_name="评估批次",
        on_delete=models.CASCADE,
        related_name="situations",
        db_index=False,
        **NO_DB_CONSTRAINT,
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="+", **NO_DB_CONSTRAINT
    )
    inputs = models.JSONField("输入快照", encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = "评估输入快照"
        verbose_name_plural = "评估输入快照"
        constraints = [
            models.UniqueConstraint(fields=["run", "enterprise"], name="assessed_situation_unique_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.enterprise_id}"
