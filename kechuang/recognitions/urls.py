"""认定登记 pages, under /recognitions/ (namespace "recognitions")."""

from django.urls import path
from django.views.generic import RedirectView

from kechuang.recognitions import views_contracts, views_projects

app_name = "recognitions"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="recognitions:contract-list"), name="index"),
    # 技术合同认定登记 and 履约跟踪
    path("contracts/", views_contracts.contract_list, name="contract-list"),
    path("contracts/export/", views_contracts.contract_export, name="contract-export"),
    path("contracts/new/", views_contracts.contract_create, name="contract-create"),
    path("contracts/performance/", views_contracts.performance, name="performance"),
    path("contracts/<int:pk>/", views_contracts.contract_detail, name="contract-detail"),
    path("contracts/<int:pk>/register/", views_contracts.contract_register, name="contract-register"),
    path("contracts/<int:pk>/decide/<slug:name>/", views_contracts.contract_decide, name="contract-decide"),
    path("contracts/<int:pk>/plan/", views_contracts.payment_plan, name="payment-plan"),
    path("milestones/<int:pk>/payments/", views_contracts.payment_add, name="payment-add"),
    # 高新技术成果转化项目认定
    path("projects/", views_projects.project_list, name="project-list"),
    path("projects/new/", views_projects.project_create, name="project-create"),
    path("projects/<int:pk>/", views_projects.project_detail, name="project-detail"),
    path("projects/<int:pk>/edit/", views_projects.project_edit, name="project-edit"),
    path("projects/<int:pk>/step/<slug:name>/", views_projects.project_step, name="project-step"),
    path("projects/<int:pk>/exclusion/", views_projects.project_exclusion, name="project-exclusion"),
    path("projects/<int:pk>/recognise/", views_projects.project_recognise, name="project-recognise"),
    path("projects/<int:pk>/reviews/", views_projects.review_assign, name="review-assign"),
    path("reviews/", views_projects.review_inbox, name="review-inbox"),
    path("reviews/<int:pk>/", views_projects.review_detail, name="review-detail"),
    path("reviews/<int:pk>/submit/", views_projects.review_submit, name="review-submit"),
    path("reviews/<int:pk>/withdraw/", views_projects.review_withdraw, name="review-withdraw"),
]
