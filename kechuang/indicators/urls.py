from django.urls import path

from kechuang.indicators import urls_tasks, views

app_name = "indicators"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.xlsx", views.dashboard_export, name="export"),
    path("alerts/<int:pk>/read/", views.alert_read, name="alert-read"),
    path("alerts/read/", views.alerts_read_all, name="alerts-read-all"),
    path("observations/import/", views.observation_import, name="observation-import"),
    path(
        "observations/import/template.xlsx",
        views.observation_import_template,
        name="observation-import-template",
    ),
]
# 计划任务 (views_tasks.py) before the indicator pages, so that "tasks/" is never read as an indicator code.
urlpatterns += urls_tasks.urlpatterns
urlpatterns += [
    path("<slug:code>/", views.indicator_detail, name="detail"),
    path("<slug:code>/enterprises/", views.drilldown, name="drilldown"),
    path("<slug:code>/observations/", views.observation_record, name="observation-record"),
    path("<slug:code>/observations/<int:pk>/correct/", views.observation_correct, name="observation-correct"),
    path("<slug:code>/targets/<int:pk>/parts/", views.target_part_add, name="target-part-add"),
]
