from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kechuang.enterprises.models import (
    Enterprise,
    EnterpriseYear,
    ExportJob,
    ImportJob,
    IPAsset,
    Membership,
    Park,
    Qualification,
)


@admin.register(Park)
class ParkAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "parent", "source"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name"]


@admin.register(Enterprise)
class EnterpriseAdmin(SimpleHistoryAdmin):
    list_display = ["name", "uscc", "park", "industry", "hitech_field", "status", "is_demo"]
    list_filter = ["park", "industry", "hitech_field", "status", "is_demo"]
    search_fields = ["name", "short_name", "uscc"]
    list_select_related = ["park"]


@admin.register(EnterpriseYear)
class EnterpriseYearAdmin(SimpleHistoryAdmin):
    list_display = ["enterprise", "year", "employees", "sales_revenue", "rd_expense_hnte"]
    list_filter = ["year"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    raw_id_fields = ["enterprise"]


@admin.register(IPAsset)
class IPAssetAdmin(SimpleHistoryAdmin):
    list_display = ["number", "ip_type", "title", "enterprise", "grant_date", "status", "hnte_used_year"]
    list_filter = ["ip_type", "status", "acquisition"]
    search_fields = ["number", "title", "enterprise__name"]
    raw_id_fields = ["enterprise"]


@admin.register(Qualification)
class QualificationAdmin(SimpleHistoryAdmin):
    list_display = ["enterprise", "kind", "level", "certificate_no", "issue_date", "expiry_date"]
    list_filter = ["kind", "level"]
    search_fields = ["enterprise__name", "certificate_no"]
    raw_id_fields = ["enterprise"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "enterprise", "park"]
    raw_id_fields = ["enterprise"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["filename", "kind", "status", "total_rows", "error_rows", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "content"]
    exclude = ["content"]


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "status",
        "total_enterprises",
        "total_rows",
        "file_size",
        "created_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ExportJob._meta.fields if f.name != "content"]
    exclude = ["content"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")
