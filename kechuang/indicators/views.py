"""统计监测 pages: the dashboard (targets, trends, the registry by park and field, the key enterprises, the
user's alerts) with its export, an indicator's page with its forms, the enterprises behind a computed number,
the observation import.

Reading needs indicators.view_indicator (officers, leaders); recording an observation or importing needs
indicators.add_observation, correcting one indicators.change_observation, splitting a target
indicators.add_target. Reads are in selectors.py, writes in services.py; a form's problems are the service's.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.enterprises import choices
from kechuang.enterprises.models import Enterprise, Park, Qualification
from kechuang.enterprises.selectors import search_condition
from kechuang.indicators import exporting, selectors, services
from kechuang.indicators.computed import COMPUTED
from kechuang.indicators.forms import (
    CorrectionForm,
    ImportForm,
    ObservationForm,
    TargetPartForm,
    add_service_errors,
)
from kechuang.indicators.models import Document, Indicator, Observation, Target, TargetAlert

VIEW = "indicators.view_indicator"
DRILLDOWN_PER_PAGE = 50
IMPORT_ERRORS_SHOWN = 500


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _filters(request) -> tuple[int | None, str]:
    year = request.GET.get("year") or ""
    document = request.GET.get("document") or ""
    return (int(year) if year.isdigit() else None), (document if document in Document.values else "")


# --- dashboard --------------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def dashboard(request):
    year, document = _filters(request)
    today = timezone.localdate()
    board = selectors.dashboard(year=year, document=document, today=today)
    computed = selectors.computed_indicators()
    by = request.GET.get("by") or ""
    shown = next((i for i in computed if i.code == by), None) or next(
        (i for i in computed if i.computed == "hnte_valid"), computed[0] if computed else None
    )
    # One computed indicator's breakdown at a time: a query each, over every valid qualification of its kinds.
    breakdown = selectors.breakdown(shown, today) if shown else None
    context = {
        "board": board,
        "year": year,
        "document": document,
        "years": selectors.target_years(),
        "documents": Document.choices,
        "rule": selectors.RULE_LINES,
        "charts": [chart.data() for chart in board.charts],
        "computed_indicators": computed,
        "breakdown": breakdown,
        "breakdown_data": _breakdown_data(breakdown) if breakdown else None,
        "key": selectors.key_enterprises(today, request.user),
        "alerts": selectors.alerts_for(request.user),
        "query": request.GET.urlencode(),
    }
    return render(request, "indicators/dashboard.html", context)


def _breakdown_data(b: selectors.Breakdown) -> dict:
    """The bar charts' data: the count per park (with its sub-parks) and per high-tech field."""
    return {
        "code": b.indicator.code,
        "name": b.indicator.name,
        "unit": b.indicator.unit,
        "parks": [[("　" * p.depth) + (p.park.name if p.park else "未登记园区"), p.total] for p in b.by_park],
        "fields": [[label, n] for _, label, n in b.by_field],
    }


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def dashboard_export(request):
    year, document = _filters(request)
    board = selectors.dashboard(year=year, document=document, today=timezone.localdate())
    content = exporting.dashboard_xlsx(board, year=year, document=document, user=request.user)
    return _xlsx(content, exporting.export_filename(board))


@login_required
@require_POST
def alert_read(request, pk):
    alert = get_object_or_404(TargetAlert, pk=pk, owner=request.user)
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return redirect(reverse("indicators:dashboard") + "#alerts")


@login_required
@require_POST
def alerts_read_all(request):
    TargetAlert.objects.filter(owner=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect(reverse("indicators:dashboard") + "#alerts")


# --- one indicator -----------------------------------------------------------------------------------------------


def _indicator(code: str) -> Indicator:
    return get_object_or_404(Indicator, code=code)


def _detail(request, indicator: Indicator, *, status: int = 200, **forms):
    today = timezone.localdate()
    baselines = list(indicator.targets.filter(parent__isnull=True).values_list("baseline_year", flat=True))
    points = selectors.series_many([indicator], today, {indicator.pk: min(baselines)} if baselines else None)[
        indicator.pk
    ]
    progresses = selectors.indicator_targets(indicator, points, today)
    can_record = request.user.has_perm("indicators.add_observation") and not indicator.computed
    can_correct = request.user.has_perm("indicators.change_observation")
    can_split = request.user.has_perm("indicators.add_target")
    chart = selectors.Chart(indicator, points, [t.progress for t in progresses]).data()
    computed = COMPUTED.get(indicator.computed) if indicator.computed else None
    context = {
        "indicator": indicator,
        "today": today,
        "figures": selectors.documented(indicator),
        "points": points,
        "chart": chart,
        "targets": [
            (
                tp,
                (
                    forms["part_form"]
                    if forms.get("part_target") == tp.progress.target.pk
                    else TargetPartForm(indicator=indicator, auto_id=f"part-{tp.progress.target.pk}-%s")
                )
                if can_split
                else None,
            )
            for tp in progresses
        ],
        "observations": selectors.observations_with_history(indicator),
        "computed": computed,
        "breakdown": selectors.breakdown(indicator, today) if computed else None,
        "rule": selectors.RULE_LINES,
        "can_record": can_record,
        "can_correct": can_correct,
        "can_split": can_split,
        "record_form": forms.get("record_form")
        or (ObservationForm(indicator=indicator) if can_record else None),
        "correct_form": forms.get("correct_form"),
        "correct_pk": forms.get("correct_pk"),
    }
    return render(request, "indicators/detail.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def indicator_detail(request, code):
    return _detail(request, _indicator(code))


@login_required
@permission_required(VIEW, raise_exception=True)
@permission_required("indicators.add_observation", raise_exception=True)
@require_POST
def observation_record(request, code):
    indicator = _indicator(code)
    form = ObservationForm(request.POST, indicator=indicator)
    if form.is_valid():
        data = form.cleaned_data
        try:
            observation = services.record_observation(
                indicator,
                year=data["year"],
                sub_period=data["sub_period"],
                park=data["park"],
                value=data["value"],
                source=data["source"].strip(),
                note=data["note"].strip(),
                user=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            where = observation.park.name if observation.park else "全区"
            messages.success(
                request,
                f"已录入 {where} {observation.period_label} 的“{indicator.name}”：{observation.value.normalize():f}{indicator.unit}。",
            )
            return redirect(reverse("indicators:detail", args=[indicator.code]) + "#observations")
    return _detail(request, indicator, record_form=form)


@login_required
@permission_required(VIEW, raise_exception=True)
@permission_required("indicators.change_observation", raise_exception=True)
@require_POST
def observation_correct(request, code, pk):
    indicator = _indicator(code)
    observation = get_object_or_404(
        Observation.objects.select_related("indicator", "park"), pk=pk, indicator=indicator
    )
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            services.correct_observation(
                observation,
                value=form.cleaned_data["value"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"已更正 {observation.period_label} 的数值，原因已记入变更记录。")
            return redirect(
                reverse("indicators:detail", args=[indicator.code]) + f"#observation-{observation.pk}"
            )
    return _detail(request, indicator, correct_form=form, correct_pk=observation.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
@permission_required("indicators.add_target", raise_exception=True)
@require_POST
def target_part_add(request, code, pk):
    indicator = _indicator(code)
    parent = get_object_or_404(Target, pk=pk, indicator=indicator, parent__isnull=True)
    form = TargetPartForm(request.POST, indicator=indicator, auto_id=f"part-{parent.pk}-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            part = services.add_target_part(
                parent,
                value=data["value"],
                year=data["year"],
                park=data["park"],
                unit=data["unit"],
                owner=data["owner"],
                baseline_value=data["baseline_value"],
                note=data["note"].strip(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            services.refresh_alerts(
                indicators=[indicator]
            )  # the owner hears at once if the part already slips
            messages.success(request, f"已分解目标：{part}。")
            return redirect(reverse("indicators:detail", args=[indicator.code]) + f"#target-{parent.pk}")
    return _detail(request, indicator, part_form=form, part_target=parent.pk)


# --- the enterprises behind a computed number --------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def drilldown(request, code):
    indicator = _indicator(code)
    if not indicator.computed:
        raise Http404("该指标不是由企业库计算的，没有企业明细")
    today = timezone.localdate()
    on = today
    raw_on = request.GET.get("on") or ""
    if raw_on:
        try:
            on = dt.date.fromisoformat(raw_on)
        except ValueError:
            messages.warning(request, f"日期“{raw_on}”不是 YYYY-MM-DD 格式，已按今天（{today:%Y-%m-%d}）计。")
    if not COMPUTED[indicator.computed].by_registry:
        # Counted from other records (认定登记): their own list is the detail behind the number.
        return redirect(COMPUTED[indicator.computed].records_url(on))
    park = None
    raw_park = request.GET.get("park") or ""
    if raw_park:
        park = Park.objects.filter(pk=raw_park).first() if raw_park.isdigit() else None
        if park is None:
            raise Http404("没有这个园区")
    field = request.GET.get("field")
    if field is not None and field not in ("", *choices.HitechField.values):
        raise Http404("没有这个高新技术领域")
    q = (request.GET.get("q") or "").strip()[:100]
    behind = selectors.drilldown(indicator, on, park, field)
    if not request.user.has_perm("enterprises.view_all_enterprises"):
        behind = behind.filter(pk__in=Enterprise.objects.visible_to(request.user).values("pk"))
    total = behind.count()
    shown = behind.filter(search_condition(q)) if q else behind
    page = Paginator(shown, DRILLDOWN_PER_PAGE).get_page(request.GET.get("page"))
    held: dict[int, list[Qualification]] = {}
    computed = COMPUTED[indicator.computed]
    for qualification in (
        computed.qualifications()
        .valid_on(on)
        .filter(enterprise_id__in=[e.pk for e in page.object_list])
        .order_by("issue_date")
    ):
        held.setdefault(qualification.enterprise_id, []).append(qualification)
    rows = [(enterprise, held.get(enterprise.pk, [])) for enterprise in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "indicator": indicator,
        "computed": computed,
        "on": on,
        "today": today,
        "park": park,
        "field": field,
        "field_label": (dict(choices.HitechField.choices).get(field) or "未登记领域")
        if field is not None
        else "",
        "q": q,
        "total": total,
        "matched": page.paginator.count,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "parks": Park.objects.order_by("parent_id", "name"),
    }
    return render(request, "indicators/drilldown.html", context)


# --- import -------------------------------------------------------------------------------------------------------


@login_required
@permission_required("indicators.add_observation", raise_exception=True)
@require_http_methods(["GET", "POST"])
def observation_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    errors = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = exporting.import_rows(upload.read(), upload.name)
            count = services.import_observations(rows, user=request.user, source_name=upload.name)
        except exporting.ImportFileError as error:
            form.add_error("file", str(error))
        except services.ImportRejected as rejected:
            errors = rejected.errors
        else:
            if count:
                messages.success(request, f"已从“{upload.name}”导入 {count} 个观测值。")
            else:
                messages.warning(request, f"“{upload.name}”中没有数据行，未导入任何观测值。")
            return redirect("indicators:observation-import")
    context = {
        "form": form,
        "errors": errors[:IMPORT_ERRORS_SHOWN] if errors else None,
        "error_count": len(errors) if errors else 0,
        "error_rows": len({e.row for e in errors}) if errors else 0,
        "shown": IMPORT_ERRORS_SHOWN,
        "columns": services.IMPORT_COLUMNS,
        "recent": Observation.objects.select_related("indicator", "park", "recorded_by").order_by(
            "-recorded_at", "-pk"
        )[:20],
    }
    return render(request, "indicators/import.html", context, status=200)


@login_required
@permission_required("indicators.add_observation", raise_exception=True)
@require_GET
def observation_import_template(request):
    return _xlsx(exporting.import_template_xlsx(), exporting.TEMPLATE_FILENAME)
