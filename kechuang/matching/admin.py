"""双向发榜 in the admin: postings, dockings and the index change log read-only (they are written through
services.py, which checks the values, keeps the search tokens and the index in step and notifies both sides of a
docking: a save here would bypass all that); the users' affiliations (which university or institute a
university user acts for) are kept here."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kechuang.matching.models import (
    Achievement,
    Affiliation,
    Demand,
    Docking,
    DockingNote,
    IndexChange,
    TalentProfile,
)


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PostingAdmin(ReadOnly, SimpleHistoryAdmin):
    list_filter = ["state", "field"]
    date_hierarchy = "created_at"
    exclude = ["tokens"]


@admin.register(Demand)
class DemandAdmin(PostingAdmin):
    list_display = ["title", "enterprise", "field", "state", "budget", "deadline", "published_at"]
    search_fields = ["title", "keywords", "enterprise__name"]
    list_select_related = ["enterprise"]


@admin.register(Achievement)
class AchievementAdmin(PostingAdmin):
    list_display = ["title", "organisation", "field", "trl", "state", "import_batch", "published_at"]
    search_fields = ["title", "keywords", "organisation"]


@admin.register(TalentProfile)
class TalentProfileAdmin(PostingAdmin):
    list_display = ["title", "organisation", "position", "field", "state", "published_at"]
    search_fields = ["title", "keywords", "organisation"]


class DockingNoteInline(ReadOnly, admin.TabularInline):
    model = DockingNote
    extra = 0


@admin.register(Docking)
class DockingAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = [
        "__str__",
        "state",
        "score",
        "decline_reason",
        "signed_on",
        "contract_amount",
        "updated_at",
    ]
    list_filter = ["state", "decline_reason"]
    search_fields = ["demand__title", "achievement__title", "talent__title", "demand__enterprise__name"]
    list_select_related = ["demand", "achievement", "talent"]
    inlines = [DockingNoteInline]


@admin.register(IndexChange)
class IndexChangeAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["at", "kind", "object_id", "deleted"]
    list_filter = ["kind", "deleted"]


@admin.register(Affiliation)
class AffiliationAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation"]
    search_fields = ["user__username", "user__first_name", "organisation"]
    autocomplete_fields = ["user"]
