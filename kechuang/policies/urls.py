from django.urls import path

from kechuang.policies import views

app_name = "policies"

urlpatterns = [
    path("", views.library, name="library"),
    path("documents/new/", views.document_edit, name="document-create"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/edit/", views.document_edit, name="document-edit"),
    path("compendium.<str:extension>", views.compendium, name="compendium"),
    path("items/", views.item_list, name="items"),
    path("items/new/", views.item_edit, name="item-create"),
    path("items/test/", views.partial_item_test, name="partial-item-test"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/edit/", views.item_edit, name="item-edit"),
    path("items/<int:pk>/transition/", views.item_transition, name="item-transition"),
    path("items/<int:pk>/runs/", views.run_create, name="run-create"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/progress/", views.partial_run_progress, name="partial-run-progress"),
    path("runs/<int:pk>/transition/", views.run_transition, name="run-transition"),
    path("runs/<int:pk>/pay/", views.run_pay, name="run-pay"),
    path("runs/<int:pk>/payments.xlsx", views.payment_export, name="payment-export"),
    path("payment-exports/<int:pk>/", views.payment_export_job, name="payment-export-job"),
    path(
        "payment-exports/<int:pk>/progress/",
        views.partial_payment_export_progress,
        name="partial-payment-export-progress",
    ),
    path("payment-exports/<int:pk>/download/", views.payment_export_download, name="payment-export-download"),
    path("figures/", views.figures, name="figures"),
    path("figures/template.xlsx", views.figures_template, name="figures-template"),
    path("benefits/<int:pk>/", views.benefit_detail, name="benefit"),
    path("benefits/<int:pk>/exclude/", views.benefit_exclude, name="benefit-exclude"),
    path("benefits/<int:pk>/restore/", views.benefit_restore, name="benefit-restore"),
    path("benefits/<int:pk>/accept/", views.benefit_accept, name="benefit-accept"),
    path("enterprises/<int:pk>/", views.enterprise_policies, name="enterprise"),
]
