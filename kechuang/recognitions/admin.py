"""认定登记 in the admin: for looking things up; writes go through the pages (the services and the workflow)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kechuang.recognitions.models import (
    PaymentMilestone,
    TechContract,
    TransformationProject,
    TransformationReview,
)


class ReadOnly(SimpleHistoryAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MilestoneInline(admin.TabularInline):
    model = PaymentMilestone
    extra = 0
    can_delete = False
    fields = ("number", "due_date", "amount", "paid_amount", "paid_on", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TechContract)
class TechContractAdmin(ReadOnly):
    list_display = (
        "registration_no",
        "contract_no",
        "name",
        "contract_type",
        "seller_name",
        "total_amount",
        "state",
        "registered_on",
    )
    list_filter = ("contract_type", "state")
    search_fields = ("registration_no", "contract_no", "name", "seller_name", "seller_uscc", "buyer_name")
    inlines = [MilestoneInline]


@admin.register(TransformationProject)
class TransformationProjectAdmin(ReadOnly):
    list_display = ("name", "enterprise", "field", "state", "certificate_no", "recognised_on", "valid_until")
    list_filter = ("state", "field")
    search_fields = ("name", "product", "certificate_no", "enterprise__name")
    raw_id_fields = ("enterprise",)


@admin.register(TransformationReview)
class TransformationReviewAdmin(ReadOnly):
    list_display = ("project", "expert", "state", "total", "recommend", "submitted_at")
    list_filter = ("state",)
