from django.contrib import admin

from kechuang.tiering.models import AssessmentRun, ParameterRevision, ParameterSnapshot


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AssessmentRun)
class AssessmentRunAdmin(ReadOnly):
    list_display = ["assessed_on", "status", "total", "seconds", "parameters", "created_by", "created_at"]
    list_filter = ["status", "assessed_on"]


@admin.register(ParameterSnapshot)
class ParameterSnapshotAdmin(ReadOnly):
    list_display = ["version", "created_at"]


@admin.register(ParameterRevision)
class ParameterRevisionAdmin(ReadOnly):
    list_display = ["path", "effective_from", "value", "note", "decided_by", "decided_at"]
