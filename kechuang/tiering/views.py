"""梯度培育 pages: access-checked get, a form, one service call or selector, render or redirect.

Every page needs tiering.view_assessment; what it counts or lists is limited to the enterprises the user
may see (Enterprise.objects.visible_to). Starting a run needs tiering.add_assessmentrun; exporting a pool
needs enterprises.export_registry.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from kechuang import rules
from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.enterprises import choices
from kechuang.enterprises.access import enterprise_for_user
from kechuang.enterprises.models import Park
from kechuang.tiering import exporting, selectors, services
from kechuang.tiering.forms import RunForm
from kechuang.tiering.models import AssessmentRun

RUNS_PER_PAGE = 20
MOVERS_PER_PAGE = 50
RUN_QUEUED = "已发起 {on} 的梯度评估，后台处理完成后即可查看结果。"


def _park_param(request) -> str:
    park = request.GET.get("park") or ""
    return park if park.isdigit() else ""


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


@login_required
@permission_required("tiering.view_assessment", raise_exception=True)
@require_GET
def ladder(request):
    run = selectors.run_shown(request.GET.get("run"))
    park = _park_param(request)
    context = {
        "run": run,
        "park": park,
        "runs": selectors.done_runs()[:50],
        "parks": Park.objects.order_by("parent_id", "name"),
        "can_run": request.user.has_perm("tiering.add_assessmentrun"),
        "form": RunForm(),
        "pools": selectors.POOLS.values(),
    }
    if run is not None:
        data = selectors.ladder(run=run, user=request.user, park=park)
        direction = request.GET.get("move") or ""
        direction = direction if direction in selectors.MOVE_LABELS else ""
        context |= {
            "ladder": data,
            "chart": {
                "labels": [b.label for b in data.distribution],
                "counts": [b.count for b in data.distribution],
            },
            "direction": direction,
            "direction_label": selectors.MOVE_LABELS.get(direction, ""),
            "movers": selectors.movers_page(
                data.moves, request.GET.get("mpage"), direction=direction, per_page=MOVERS_PER_PAGE
            )
            if data.moves
            else None,
            "movers_query": _query(request, "mpage"),
            "move_query": _query(request, "mpage", "move"),
            "previous_year": run.assessed_on.year - 1,
        }
    return render(request, "tiering/ladder.html", context)


@login_required
@permission_required("tiering.view_assessment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def runs(request):
    can_run = request.user.has_perm("tiering.add_assessmentrun")
    form = RunForm(request.POST or None)
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied("无权发起梯度评估")
        if form.is_valid():
            run = services.run_request(on=form.cleaned_data["assessed_on"], user=request.user)
            messages.success(request, RUN_QUEUED.format(on=run.assessed_on.isoformat()))
            return redirect("tiering:run", pk=run.pk)
    page = Paginator(selectors.runs_list(), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "tiering/runs.html", {"page": page, "form": form, "can_run": can_run})


def _run(pk) -> AssessmentRun:
    return get_object_or_404(AssessmentRun.objects.select_related("created_by"), pk=pk)


@login_required
@permission_required("tiering.view_assessment", raise_exception=True)
@require_GET
def run_detail(request, pk):
    run = _run(pk)
    context = {"run": run}
    if run.status == AssessmentRun.Status.DONE:
        scope = selectors.enterprise_scope(request.user)
        context |= {
            "rungs": selectors.rung_counts(run=run, scope=scope),
            "assessed": selectors.assessed_count(run=run, scope=scope),
        }
    return render(request, "tiering/run_detail.html", context)


@login_required
@permission_required("tiering.view_assessment", raise_exception=True)
@require_GET
def partial_run_progress(request, pk):
    """The run's progress: HTML polled by the run page (every second until it finishes), or JSON."""
    run = _run(pk)
    if request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "id": run.pk,
                "status": run.status,
                "status_label": run.get_status_display(),
                "stage": run.stage,
                "processed": run.processed,
                "total": run.total,
                "percent": run.percent,
                "finished": run.is_finished,
                "message": run.message,
            }
        )
    response = render(request, "tiering/partials/run_progress.html", {"run": run})
    if run.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the page then shows the results
    return response


def _pool(key) -> selectors.Pool:
    try:
        return selectors.POOLS[key]
    except KeyError:
        raise Http404("没有这个培育库") from None


@login_required
@permission_required("tiering.view_assessment", raise_exception=True)
@require_GET
def pool(request, key):
    pool = _pool(key)
    filters = selectors.PoolFilters.from_params(request.GET, pool)
    run = selectors.run_shown(request.GET.get("run"))
    qs = selectors.pool_queryset(pool, run=run, user=request.user, filters=filters)
    partial = bool(request.headers.get("HX-Request"))
    page = selectors.pool_page(pool, qs, request.GET.get("page"), run=run, with_rule=not partial)
    context = {
        "pool": pool,
        "pools": selectors.POOLS.values(),
        "run": run,
        "filters": filters,
        "page": page,
        "query": _query(request, "page"),
        "can_export": request.user.has_perm("enterprises.export_registry"),
        # A pool without a score (种子选手, 隐形冠军储备库 today) shows no empty score column.
        "show_score": any(getattr(row, "score_max", None) is not None for row in page.object_list),
    }
    if partial:
        return render(request, "tiering/partials/pool_table.html", context)
    context |= {
        "runs": selectors.done_runs()[:50],
        "rule": page.rule,
        "parks": Park.objects.order_by("parent_id", "name"),
        "industries": choices.Industry.choices,
        "hitech_fields": choices.HitechField.choices,
        "kinds": choices.QualificationKind.choices,
        "reapply_area": rules.NAMES.get(selectors.AREA_OF_KIND.get(filters.kind, "")),
    }
    return render(request, "tiering/pool.html", context)


@login_required
@permission_required("tiering.view_assessment", raise_exception=True)
@permission_required("enterprises.export_registry", raise_exception=True)
@require_GET
def pool_export(request, key):
    pool = _pool(key)
    filters = selectors.PoolFilters.from_params(request.GET, pool)
    run = selectors.run_shown(request.GET.get("run"))
    qs = selectors.pool_queryset(pool, run=run, user=request.user, filters=filters)
    notes = exporting.pool_notes(pool, filters, run=run, user=request.user)
    content = exporting.pool_xlsx(pool, qs, run=run, notes=notes)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    filename = exporting.pool_filename(pool, run)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@login_required
@require_GET
def enterprise_assessment(request, pk):
    enterprise = enterprise_for_user(request.user, pk)
    on = timezone.localdate()
    context = {
        "enterprise": enterprise,
        "on": on,
        "areas": selectors.enterprise_assessment(enterprise=enterprise, on=on),
    }
    return render(request, "tiering/enterprise_assessment.html", context)
