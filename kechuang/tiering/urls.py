from django.urls import path

from kechuang.tiering import views

app_name = "tiering"

urlpatterns = [
    path("enterprises/<int:pk>/", views.enterprise_assessment, name="enterprise-assessment"),
]
