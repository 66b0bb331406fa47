"""The 双向发榜 pages, mounted at /matching/ (namespace "matching")."""

from django.urls import path

from kechuang.matching import views, views_dockings, views_postings

app_name = "matching"


def _posting_urls(kind: str, prefix: str) -> list:
    k = {"kind": kind}
    return [
        path(f"{prefix}/", views_postings.posting_list, k, name=f"{kind}-list"),
        path(f"{prefix}/new/", views_postings.posting_create, k, name=f"{kind}-create"),
        path(f"{prefix}/<int:pk>/", views_postings.posting_detail, k, name=f"{kind}-detail"),
        path(f"{prefix}/<int:pk>/edit/", views_postings.posting_edit, k, name=f"{kind}-edit"),
        path(f"{prefix}/<int:pk>/step/<slug:name>/", views_postings.posting_step, k, name=f"{kind}-step"),
        path(f"{prefix}/<int:pk>/delete/", views_postings.posting_delete, k, name=f"{kind}-delete"),
        path(f"{prefix}/<int:pk>/dock/", views_postings.docking_start, k, name=f"{kind}-dock"),
    ]


urlpatterns = [
    path("", views.search, name="search"),
    path("demands/unmatched/", views_dockings.unmatched, name="unmatched"),
    path("achievements/import/", views_postings.achievement_import, name="achievement-import"),
    path(
        "achievements/import/template.xlsx",
        views_postings.achievement_import_template,
        name="achievement-import-template",
    ),
    *_posting_urls("demand", "demands"),
    *_posting_urls("achievement", "achievements"),
    *_posting_urls("talent", "talents"),
    path("moderation/", views_postings.moderation_queue, name="moderation"),
    path("dockings/", views_dockings.docking_board, name="docking-board"),
    path("dockings/declines/", views_dockings.declines, name="declines"),
    path("dockings/<int:pk>/", views_dockings.docking_detail, name="docking-detail"),
    path("dockings/<int:pk>/step/<slug:name>/", views_dockings.docking_step, name="docking-step"),
    path("dockings/<int:pk>/notes/", views_dockings.docking_note, name="docking-note"),
    path("dockings/<int:pk>/contract/", views_dockings.docking_contract, name="docking-contract"),
]
