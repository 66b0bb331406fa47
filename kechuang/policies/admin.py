from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kechuang.policies.models import Article, Benefit, BenefitRun, PolicyDocument, PolicyFigure, PolicyItem


class ArticleInline(admin.TabularInline):
    model = Article
    extra = 0
    fields = ["order", "number", "title", "text"]


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(SimpleHistoryAdmin):
    list_display = ["number", "title", "issuer", "issued_on", "status"]
    list_filter = ["status", "issuer"]
    search_fields = ["title", "number", "full_text"]
    inlines = [ArticleInline]


@admin.register(PolicyFigure)
class PolicyFigureAdmin(SimpleHistoryAdmin):
    """Period figures (贷款利息支出, 保费 …) that formulas read; recorded from the banks' and insurers' lists."""

    list_display = ["enterprise", "period", "name", "value", "source", "recorded_at"]
    list_filter = ["period", "name"]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    raw_id_fields = ["enterprise"]


class ReadOnly(admin.ModelAdmin):
    """Items change through their editor and workflow, runs and benefits through the review pages."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyItem)
class PolicyItemAdmin(ReadOnly):
    list_display = ["name", "kind", "document", "state", "effective_from", "effective_to", "is_demo"]
    list_filter = ["kind", "state", "is_demo"]


@admin.register(BenefitRun)
class BenefitRunAdmin(ReadOnly):
    list_display = ["pk", "item", "period", "as_of", "status", "state", "total_amount", "created_at"]
    list_filter = ["status", "state", "period"]


@admin.register(Benefit)
class BenefitAdmin(ReadOnly):
    list_display = ["run", "enterprise", "period", "state", "amount"]
    list_filter = ["state", "period"]
    raw_id_fields = ["run", "enterprise", "item"]
