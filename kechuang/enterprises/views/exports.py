"""企业库导出: the filtered list as .xlsx, at once or, for more than
settings.EXPORT_SYNC_MAX_ENTERPRISES enterprises, as a background job with a progress bar and a
download. A job is seen only by its creator and by officers (enterprises.import_registry)."""

from dataclasses import asdict
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.enterprises import choices, exporting, selectors
from kechuang.enterprises.models import ExportJob, Park


def _job_for(user, job_pk: int) -> ExportJob:
    jobs = ExportJob.objects.defer("content").select_related("created_by")
    if not user.has_perm("enterprises.import_registry"):
        jobs = jobs.filter(created_by=user)
    try:
        return jobs.get(pk=job_pk)
    except ExportJob.DoesNotExist:
        raise Http404("导出任务不存在或无权查看") from None


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _filter_labels(filters: dict) -> list[tuple[str, str]]:
    """The job's filters as people chose them on the list page."""
    shown = []
    if filters.get("q"):
        shown.append(("关键词", filters["q"]))
    if filters.get("park"):
        park = Park.objects.filter(pk=filters["park"]).first()
        shown.append(("园区", park.name if park else "（已删除的园区）"))
    for key, label, options in (
        ("industry", "所属行业", choices.Industry.choices),
        ("hitech_field", "高新技术领域", choices.HitechField.choices),
        ("qualification", "资质", choices.QualificationKind.choices),
        ("validity", "有效期", selectors.VALIDITY_CHOICES),
    ):
        if filters.get(key):
            shown.append((label, dict(options).get(filters[key], filters[key])))
    return shown


@login_required
@permission_required("enterprises.export_registry", raise_exception=True)
@require_http_methods(["GET", "POST"])
def enterprise_export(request):
    """Small lists download at once. A large one needs a POST to start its background job, so a
    link followed by a crawler or a prefetch never starts one."""
    filters = selectors.RegistryFilters.from_params(request.GET)
    qs = selectors.enterprise_list(user=request.user, filters=filters)
    total = qs.count()
    if total <= settings.EXPORT_SYNC_MAX_ENTERPRISES:
        return _xlsx(exporting.enterprises_xlsx(qs, user=request.user), exporting.EXPORT_FILENAME)
    if request.method == "GET":
        context = {"total": total, "filters": _filter_labels(asdict(filters)), "query": request.GET.urlencode()}
        return render(request, "enterprises/export_confirm.html", context)
    job = exporting.export_job_create(user=request.user, filters=filters, total_enterprises=total)
    return redirect(job)


@login_required
@permission_required("enterprises.export_registry", raise_exception=True)
def export_job(request, job_pk):
    job = _job_for(request.user, job_pk)
    query = urlencode({k: v for k, v in job.filters.items() if v and (k, v) != ("sort", "name")})
    context = {"job": job, "filters": _filter_labels(job.filters), "query": query}
    return render(request, "enterprises/export_job.html", context)


@login_required
@permission_required("enterprises.export_registry", raise_exception=True)
def partial_export_progress(request, job_pk):
    job = _job_for(request.user, job_pk)
    response = render(request, "enterprises/partials/export_progress.html", {"job": job})
    if job.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the page then shows when it finished
    return response


@login_required
@permission_required("enterprises.export_registry", raise_exception=True)
def export_download(request, job_pk):
    job = _job_for(request.user, job_pk)
    if job.status != ExportJob.Status.DONE:
        raise Http404("导出文件尚未生成")
    job.refresh_from_db(fields=["content"])
    return _xlsx(bytes(job.content), exporting.export_job_filename(job))
