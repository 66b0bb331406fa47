from django.urls import path

from kechuang.workflows import views

app_name = "workflows"

urlpatterns = [
    path("", views.index, name="index"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<str:key>/<int:pk>/", views.take, name="take"),
    path("<str:key>/", views.detail, name="detail"),
]
