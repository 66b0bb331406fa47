"""The 计划任务 pages, included by kechuang/indicators/urls.py (namespace "indicators"): no app_name here."""

from django.urls import path

from kechuang.indicators import views_tasks

urlpatterns = [
    path("tasks/", views_tasks.task_list, name="task-list"),
    path("tasks/export.xlsx", views_tasks.task_export, name="task-export"),
    path("tasks/units/", views_tasks.unit_list, name="task-units"),
    path("tasks/units/<int:pk>/", views_tasks.unit_detail, name="task-unit"),
    path("tasks/<int:pk>/", views_tasks.task_detail, name="task-detail"),
    path("tasks/<int:pk>/notes/", views_tasks.note_add, name="task-note-add"),
    path("tasks/<int:pk>/status/", views_tasks.status_set, name="task-status"),
]
