from django.urls import path

from kechuang.enterprises.views import exports, imports, registry

app_name = "enterprises"
urlpatterns = [
    path("", registry.enterprise_list, name="list"),
    path("export.xlsx", exports.enterprise_export, name="export"),
    path("new/", registry.enterprise_create, name="create"),
    path("<int:pk>/", registry.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", registry.enterprise_edit, name="edit"),
    path("<int:pk>/history/", registry.enterprise_history, name="history"),
    path("<int:pk>/years/new/", registry.year_edit, name="year-create"),
    path("<int:pk>/years/<int:year_pk>/edit/", registry.year_edit, name="year-edit"),
    path("<int:pk>/ip/new/", registry.ip_edit, name="ip-create"),
    path("<int:pk>/ip/<int:ip_pk>/edit/", registry.ip_edit, name="ip-edit"),
    path("<int:pk>/qualifications/new/", registry.qualification_edit, name="qualification-create"),
    path("<int:pk>/qualifications/<int:qualification_pk>/edit/", registry.qualification_edit, name="qualification-edit"),
    path("import/", imports.import_start, name="import"),
    path("import/templates/<str:kind>.xlsx", imports.import_template, name="import-template"),
    path("import/jobs/<int:job_pk>/", imports.import_job, name="import-job"),
    path("import/jobs/<int:job_pk>/progress/", imports.partial_import_progress, name="partial-import-progress"),
    path("export/jobs/<int:job_pk>/", exports.export_job, name="export-job"),
    path("export/jobs/<int:job_pk>/progress/", exports.partial_export_progress, name="partial-export-progress"),
    path("export/jobs/<int:job_pk>/download/", exports.export_download, name="export-download"),
]
