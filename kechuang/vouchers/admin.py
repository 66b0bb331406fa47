"""The admin: the catalogue and who acts for a provider (ProviderMember). Money-carrying objects are read-only
here: vouchers, redemptions and settlements change only through the services (their invariants and logs)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kechuang.vouchers.models import (
    AbuseFlag,
    Provider,
    ProviderMember,
    ProviderService,
    Redemption,
    Settlement,
    Voucher,
    VoucherApplication,
    VoucherScheme,
)


class ReadOnly(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceInline(admin.TabularInline):
    model = ProviderService
    extra = 0


@admin.register(Provider)
class ProviderAdmin(SimpleHistoryAdmin):
    list_display = ("name", "uscc", "kind", "state", "legal_representative")
    list_filter = ("kind", "state")
    search_fields = ("name", "uscc", "address")
    inlines = [ServiceInline]
    raw_id_fields = ("enterprise",)


@admin.register(ProviderMember)
class ProviderMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "provider")
    raw_id_fields = ("user", "provider")


@admin.register(VoucherScheme)
class VoucherSchemeAdmin(ReadOnly):
    list_display = ("year", "name", "state", "budget_total", "granted", "cap_per_enterprise", "share_pct")


@admin.register(VoucherApplication)
class VoucherApplicationAdmin(ReadOnly):
    list_display = ("enterprise", "scheme", "state", "requested_amount", "granted_amount", "submitted_at")
    list_filter = ("scheme", "state")


@admin.register(Voucher)
class VoucherAdmin(ReadOnly):
    list_display = ("number", "enterprise", "amount", "used", "valid_until")
    search_fields = ("number", "enterprise__name")


@admin.register(Redemption)
class RedemptionAdmin(ReadOnly):
    list_display = ("pk", "voucher", "provider", "invoice_no", "invoice_amount", "voucher_part", "state")
    list_filter = ("state",)
    search_fields = ("invoice_no", "contract_no", "voucher__number")


@admin.register(Settlement)
class SettlementAdmin(ReadOnly):
    list_display = ("pk", "provider", "period_start", "period_end", "total", "paid_on")


@admin.register(AbuseFlag)
class AbuseFlagAdmin(ReadOnly):
    list_display = ("kind", "redemption", "application", "resolution", "raised_at")
    list_filter = ("kind", "resolution")
