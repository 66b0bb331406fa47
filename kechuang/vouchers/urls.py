from django.urls import path

from kechuang.vouchers import views

app_name = "vouchers"
urlpatterns = [
    path("", views.scheme_list, name="schemes"),
    path("schemes/new/", views.scheme_edit, name="scheme-create"),
    path("schemes/<int:pk>/edit/", views.scheme_edit, name="scheme-edit"),
    path("schemes/<int:pk>/state/", views.scheme_state, name="scheme-state"),
    path("providers/", views.provider_list, name="providers"),
    path("providers/new/", views.provider_edit, name="provider-create"),
    path("providers/<int:pk>/", views.provider_detail, name="provider-detail"),
    path("providers/<int:pk>/edit/", views.provider_edit, name="provider-edit"),
    path("providers/<int:pk>/suspend/", views.provider_suspend, name="provider-suspend"),
    path("providers/<int:pk>/relist/", views.provider_relist, name="provider-relist"),
    path("providers/<int:pk>/services/", views.service_create, name="service-create"),
    path("enterprises/<int:pk>/", views.enterprise_vouchers, name="enterprise"),
    path("enterprises/<int:enterprise_pk>/apply/", views.application_create, name="application-create"),
    path("applications/", views.application_list, name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application-edit"),
    path("applications/<int:pk>/step/", views.application_step, name="application-step"),
    path("applications/<int:pk>/approve/", views.application_approve, name="application-approve"),
    path("applications/<int:pk>/return/", views.application_return, name="application-return"),
    path("applications/<int:pk>/reject/", views.application_reject, name="application-reject"),
    path("vouchers/<int:pk>/", views.voucher_detail, name="voucher-detail"),
    path("redemptions/", views.redemption_list, name="redemptions"),
    path("redemptions/new/", views.redemption_create, name="redemption-create"),
    path("redemptions/<int:pk>/", views.redemption_detail, name="redemption-detail"),
    path("redemptions/<int:pk>/verify/", views.redemption_verify, name="redemption-verify"),
    path("redemptions/<int:pk>/refuse/", views.redemption_refuse, name="redemption-refuse"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<int:pk>/resolve/", views.flag_resolve, name="flag-resolve"),
    path("settlements/", views.settlement_list, name="settlements"),
    path("settlements/new/", views.settlement_create, name="settlement-create"),
    path("settlements/<int:pk>/", views.settlement_detail, name="settlement-detail"),
    path("settlements/<int:pk>/payment-list.xlsx", views.settlement_xlsx, name="settlement-xlsx"),
]
