from django.contrib import admin

from kechuang.tiering.models import Assessment


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = [
        "enterprise",
        "area",
        "assessed_on",
        "status",
        "score_min",
        "score_max",
        "parameters_version",
    ]
    list_filter = ["area", "status", "assessed_on"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    raw_id_fields = ["enterprise"]
    readonly_fields = [field.name for field in Assessment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
