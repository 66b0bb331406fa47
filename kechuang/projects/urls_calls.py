"""申报 pages (views_calls.py). No app_name: the lead includes `urlpatterns` under the namespace "projects"."""

from django.urls import path

from kechuang.projects import views_calls

urlpatterns = [
    # Officers: programmes and calls, the call builder, open/close.
    path("calls/", views_calls.call_list, name="call-list"),
    path("calls/new/", views_calls.call_create, name="call-create"),
    path("calls/open/", views_calls.open_calls, name="open-calls"),
    path("calls/<int:pk>/", views_calls.call_detail, name="call-detail"),
    path("calls/<int:pk>/edit/", views_calls.call_edit, name="call-edit"),
    path("calls/<int:pk>/transition/<slug:name>/", views_calls.call_transition, name="call-transition"),
    # Enterprise users: eligibility first, then the application.
    path("calls/<int:pk>/apply/", views_calls.application_start, name="application-start"),
    path("applications/", views_calls.application_list, name="my-applications"),
    path("applications/<int:pk>/", views_calls.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", views_calls.application_edit, name="application-edit"),
    path("applications/<int:pk>/budget/", views_calls.application_budget, name="application-budget"),
    path("applications/<int:pk>/attachments/", views_calls.application_attach, name="application-attach"),
    path("applications/<int:pk>/submit/", views_calls.application_submit, name="application-submit"),
    path("attachments/<int:pk>/", views_calls.attachment_download, name="attachment-download"),
    path("attachments/<int:pk>/remove/", views_calls.attachment_remove, name="attachment-remove"),
    # Officers: 形式审查.
    path("formal-review/", views_calls.formal_review_queue, name="formal-review-queue"),
    path("formal-review/<int:pk>/", views_calls.formal_review, name="formal-review"),
]
