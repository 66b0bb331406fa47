from django.urls import path

from kechuang.tiering import views, views_review

app_name = "tiering"

urlpatterns = [
    path("", views.ladder, name="ladder"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/progress/", views.partial_run_progress, name="partial-run-progress"),
    path("pools/<str:key>/", views.pool, name="pool"),
    path("pools/<str:key>/export.xlsx", views.pool_export, name="pool-export"),
    path("enterprises/<int:pk>/", views.enterprise_assessment, name="enterprise-assessment"),
    # 参数核实 and 假设分析 (views_review.py).
    *views_review.urlpatterns,
]
