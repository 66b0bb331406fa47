from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from kechuang.enterprises.models import Enterprise


class AssessmentStatus(models.TextChoices):
    MET = "met", "满足"
    NOT_MET = "not_met", "不满足"
    UNKNOWN = "unknown", "待定"


class AssessmentArea(models.TextChoices):
    """The qualifications the rules engine assesses (kechuang.rules.QUALIFICATIONS)."""

    HNTE = "hnte", "高新技术企业"
    TECH_SME = "tech_sme", "科技型中小企业"


class AssessmentQuerySet(models.QuerySet):
    def on(self, assessed_on) -> "AssessmentQuerySet":
        return self.filter(assessed_on=assessed_on)


class Assessment(models.Model):
    """One enterprise's result for one qualification on one date, with what it was computed from: the
    situation row (inputs) and the fingerprint of the parameter files, so that it can be replayed."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="assessments"
    )
    area = models.CharField("资质", max_length=20, choices=AssessmentArea.choices)
    assessed_on = models.DateField("评价日期")
    status = models.CharField("结果", max_length=10, choices=AssessmentStatus.choices)
    score_min = models.IntegerField("评分下限", null=True, blank=True)
    score_max = models.IntegerField("评分上限", null=True, blank=True)
    explanation = models.JSONField(
        "逐项说明",
        default=list,
        blank=True,
        help_text="[{code, label, status, value, threshold, source, gap, notes, unconfirmed, kind, text}]",
    )
    inputs = models.JSONField(
        "输入快照",
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text="评价所用的情况表一行（null 表示未知）",
    )
    parameters_version = models.CharField("参数版本", max_length=64)
    created_at = models.DateTimeField("评价时间", auto_now_add=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = "梯度评估"
        verbose_name_plural = "梯度评估"
        ordering = ["enterprise_id", "area", "-assessed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "area", "assessed_on"], name="assessment_unique_per_day"
            ),
        ]
        indexes = [models.Index(fields=["assessed_on", "area", "status"], name="assessment_day_area_status")]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.get_area_display()} {self.assessed_on}：{self.get_status_display()}"
