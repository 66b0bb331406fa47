"""数据导入: upload a file, follow its job, read its report. Officers only (enterprises.import_registry)."""

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.enterprises import exporting, importing
from kechuang.enterprises.models import ImportJob, ImportKind

REPORT_ROWS_SHOWN = 500


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="数据类型", choices=ImportKind.choices)
    # An empty file passes the form, so that the service can say why it cannot be imported.
    file = forms.FileField(label="文件（.xlsx 或 .csv，按模板填写）", allow_empty_file=True)
    valid_only = forms.BooleanField(
        label="只导入正确的行",
        required=False,
        help_text="不勾选时，任何一行有错误整个文件都不导入；勾选后导入正确的行，出错的行列在报告中。",
    )


def _jobs_for(user):
    jobs = ImportJob.objects.defer("content", "errors").select_related("created_by")
    return jobs if user.has_perm("enterprises.import_registry") else jobs.filter(created_by=user)


def _job_for(user, job_pk: int) -> ImportJob:
    try:
        return _jobs_for(user).get(pk=job_pk)
    except ImportJob.DoesNotExist:
        raise Http404("导入任务不存在或无权查看") from None


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@login_required
@permission_required("enterprises.import_registry", raise_exception=True)
def import_start(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        mode = ImportJob.Mode.VALID_ONLY if form.cleaned_data["valid_only"] else ImportJob.Mode.ALL_OR_NOTHING
        try:
            job = importing.import_job_create(
                user=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], mode=mode
            )
        except importing.ImportFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect("enterprises:import-job", job_pk=job.pk)
    context = {"form": form, "kinds": ImportKind.choices, "jobs": _jobs_for(request.user)[:20]}
    return render(request, "enterprises/import.html", context)


@login_required
@permission_required("enterprises.import_registry", raise_exception=True)
def import_template(request, kind):
    if kind not in ImportKind.values:
        raise Http404("没有这种导入模板")
    return _xlsx(exporting.import_template_xlsx(kind=kind), exporting.template_filename(kind))


@login_required
def import_job(request, job_pk):
    job = _job_for(request.user, job_pk)
    job.refresh_from_db(fields=["errors"])
    if request.GET.get("format") == "xlsx":
        return _xlsx(exporting.import_report_xlsx(job=job), f"导入错误报告-{job.pk}.xlsx")
    context = {"job": job, "errors": job.errors[:REPORT_ROWS_SHOWN], "shown": REPORT_ROWS_SHOWN}
    return render(request, "enterprises/import_job.html", context)


@login_required
def partial_import_progress(request, job_pk):
    job = _job_for(request.user, job_pk)
    response = render(request, "enterprises/partials/import_progress.html", {"job": job})
    if job.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the page then shows the report
    return response
