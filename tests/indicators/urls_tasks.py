"""The project's urls with the 计划任务 pages under /indicators/ (namespace "indicators"), for the tests
until kechuang/urls.py includes kechuang.indicators.urls; once it does, the project's urls as they are."""

from django.urls import include, path

from kechuang import urls as project
from kechuang.indicators import urls_tasks

if any(getattr(pattern, "namespace", None) == "indicators" for pattern in project.urlpatterns):
    urlpatterns = project.urlpatterns
else:
    urlpatterns = [
        *project.urlpatterns,
        path("indicators/", include((urls_tasks.urlpatterns, "indicators"), namespace="indicators")),
    ]
