"""Workflows as versioned data: the states, transitions, who may take each and their guards, per kind of
object ("projects.application"), one row per published version. An object keeps the version it started under,
so publishing a new version never strands one in flight. Every transition taken is logged with who, when, why.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Workflow(models.Model):
    key = models.CharField("流程", max_length=60, help_text="如 projects.application")
    version = models.PositiveIntegerField("版本")
    definition = models.JSONField(
        "定义",
        help_text='{"initial": 状态, "states": {状态: 名称}, "transitions": [{"name", "label", "from": [状态], "to", '
        '"permission", "guards": [检查名]}]}',
    )
    note = models.CharField("修改说明", max_length=300, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True, on_delete=models.SET_NULL
    )
    published_at = models.DateTimeField("发布时间", auto_now_add=True)

    class Meta:
        verbose_name = "流程版本"
        verbose_name_plural = "流程版本"
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="workflow_key_version_unique")]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class WorkflowModel(models.Model):
    """An object that moves through a workflow: pinned to the version it started under."""

    workflow = models.ForeignKey(
        Workflow, verbose_name="流程版本", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField("状态", max_length=40, db_index=True)

    class Meta:
        abstract = True


class TransitionLog(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    workflow = models.ForeignKey(Workflow, verbose_name="流程版本", on_delete=models.PROTECT)
    transition = models.CharField("操作", max_length=60)
    from_state = models.CharField("原状态", max_length=40)
    to_state = models.CharField("新状态", max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.SET_NULL
    )
    reason = models.TextField("说明", blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "流程记录"
        verbose_name_plural = "流程记录"
        ordering = ["content_type", "object_id", "at", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="transition_log_object")]

    def __str__(self) -> str:
        return f"{self.transition}: {self.from_state} → {self.to_state}"
