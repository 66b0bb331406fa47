"""Workflow versions and the transition log, read-only: versions are published at /workflows/ (validated, with
a note), and the log is only ever written by engine.take."""

from django.contrib import admin

from kechuang.workflows.models import TransitionLog, Workflow


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Workflow)
class WorkflowAdmin(ReadOnly):
    list_display = ["key", "version", "note", "published_by", "published_at"]
    list_filter = ["key"]
    search_fields = ["key", "note"]


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnly):
    list_display = [
        "at",
        "content_type",
        "object_id",
        "workflow",
        "transition",
        "from_state",
        "to_state",
        "actor",
    ]
    list_filter = ["content_type", "transition"]
    search_fields = ["reason", "actor__username"]
    list_select_related = ["content_type", "workflow", "actor"]
    date_hierarchy = "at"
