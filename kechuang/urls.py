from django.contrib import admin
from django.urls import include, path

from kechuang.api.api import api
from kechuang.core import views as core_views

admin.site.site_header = "科创平台 管理后台"
admin.site.site_title = "科创平台"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/", include("kechuang.core.urls")),
    path("enterprises/", include("kechuang.enterprises.urls")),
    path("tiering/", include("kechuang.tiering.urls")),
    path("indicators/", include("kechuang.indicators.urls")),
    path("workflows/", include("kechuang.workflows.urls")),
    path("projects/", include("kechuang.projects.urls")),
    path("matching/", include("kechuang.matching.urls")),
    path("recognitions/", include("kechuang.recognitions.urls", namespace="recognitions")),
    path("vouchers/", include("kechuang.vouchers.urls")),
    path("policies/", include("kechuang.policies.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
