"""政策库 and 免申即享 pages: access-checked get, a form, one service call or selector, render or redirect.

Who may do what (buttons follow the same rules; the views check them again):
  library, documents, compendium        policies.view_policydocument (every role)
  add or change a document / article    policies.add_policydocument / change_policydocument, add_article
  items (published; drafts for keepers) policies.view_policyitem
  edit, test, publish … an item         policies.add_policyitem / change_policyitem
  runs, their review list               policies.view_benefitrun (benefits limited to the user's enterprises)
  start a run                           policies.add_benefitrun
  confirm, cancel, close, pay           policies.change_benefitrun
  exclude or restore a benefit          policies.change_benefit
  payment list (.xlsx)                  policies.export_benefit
  an enterprise's 可享政策               seeing the enterprise (Enterprise.objects.visible_to) and view_policyitem
  accept a benefit                      policies.accept_benefit, as a user of the benefit's enterprise
Reads are in selectors.py, writes in services.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.enterprises.access import enterprise_for_user
from kechuang.enterprises.models import Enterprise, Park
from kechuang.policies import columns as cols
from kechuang.policies import eligibility as elig
from kechuang.policies import exporting, selectors, services
from kechuang.policies import figures as figure_import
from kechuang.policies.evaluate import BUDGET_RULES, ROUNDING_RULE
from kechuang.policies.forms import (
    ArticleForm,
    DocumentForm,
    FigureForm,
    FigureImportForm,
    ItemForm,
    OptionalReasonForm,
    ReasonForm,
    RunForm,
    TestForm,
)
from kechuang.policies.models import (
    Article,
    Benefit,
    BenefitRun,
    BenefitState,
    DocumentStatus,
    ItemKind,
    PaymentExport,
    PolicyDocument,
    PolicyItem,
)
from kechuang.policies.periods import Period, PeriodError, current
from kechuang.rules import NAMES
from kechuang.workflows import engine

PAGE_SIZE = 20
BENEFITS_PER_PAGE = 50
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ENTERPRISE_NOT_FOUND = "找不到企业“{text}”：请填写企业名称、统一社会信用代码或编号"


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


STEP_LABELS = {"exclude": "剔除", "restore": "恢复", "accept": "企业确认领受", "pay": "登记拨付"}


def _history(obj, workflow) -> list[dict]:
    """The workflow log of `obj` in words: the transitions' and states' labels of `workflow` (the run's for a
    benefit), who, when, why."""
    definition = workflow.definition
    labels = {t["name"]: t["label"] for t in definition["transitions"]} | STEP_LABELS
    states = dict(definition["states"])
    if isinstance(obj, Benefit):
        states |= dict(BenefitState.choices)
    return [
        {
            "at": log.at,
            "label": labels.get(log.transition, log.transition),
            "from": states.get(log.from_state, log.from_state),
            "to": states.get(log.to_state, log.to_state),
            "actor": (log.actor.get_full_name() or log.actor.username) if log.actor else "—",
            "reason": log.reason,
        }
        for log in engine.history(obj)
    ]


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


# --- the library -----------------------------------------------------------------------------------------------


@login_required
@permission_required("policies.view_policydocument", raise_exception=True)
@require_GET
def library(request):
    filters = selectors.DocumentFilters.from_params(request.GET)
    page = Paginator(selectors.documents(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
        "export_query": _query(request, "page"),
        "search_note": selectors.SEARCH_NOTE,
    }
    if request.headers.get("HX-Request"):
        return render(request, "policies/partials/document_table.html", context)
    context |= {
        "issuers": selectors.issuers(),
        "years": selectors.years(),
        "statuses": DocumentStatus.choices,
        "can_add": request.user.has_perm("policies.add_policydocument"),
        "items_in_force": selectors.in_force(timezone.localdate()).count(),
    }
    return render(request, "policies/library.html", context)


@login_required
@permission_required("policies.view_policydocument", raise_exception=True)
@require_http_methods(["GET", "POST"])
def document_detail(request, pk):
    document = get_object_or_404(PolicyDocument, pk=pk)
    q = (request.GET.get("q") or "").strip()[:100]
    can_add_article = request.user.has_perm("policies.add_article")
    form = ArticleForm(request.POST or None, instance=Article(document=document))
    if request.method == "POST":
        if not can_add_article:
            raise PermissionDenied("无权添加政策条款")
        if form.is_valid():
            try:
                article = services.article_save(article=form.instance, user=request.user)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"已添加条款 {article.number}{article.title}")
                return redirect("policies:document", pk=document.pk)
    items = selectors.items(None, request.user).filter(document=document)
    return render(
        request,
        "policies/document_detail.html",
        {
            "document": document,
            "articles": document.articles.all(),
            "items": items,
            "q": q,
            "hits": selectors.matching_articles(document, q),
            "form": form,
            "can_add_article": can_add_article,
            "can_change": request.user.has_perm("policies.change_policydocument"),
            "can_add_item": request.user.has_perm("policies.add_policyitem"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def document_edit(request, pk=None):
    document = get_object_or_404(PolicyDocument, pk=pk) if pk else PolicyDocument()
    permission = "policies.change_policydocument" if pk else "policies.add_policydocument"
    if not request.user.has_perm(permission):
        raise PermissionDenied("无权修改政策文件" if pk else "无权添加政策文件")
    form = DocumentForm(request.POST or None, instance=document)
    if request.method == "POST" and form.is_valid():
        try:
            document = services.document_save(document=form.instance, user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"已保存政策文件“{document.title}”")
            return redirect("policies:document", pk=document.pk)
    return render(request, "policies/document_form.html", {"form": form, "document": document})


@login_required
@permission_required("policies.view_policydocument", raise_exception=True)
@require_GET
def compendium(request, extension):
    filters = selectors.DocumentFilters.from_params(request.GET)
    qs = selectors.documents(filters)
    notes = (
        ["筛选条件：" + "，".join(filters.described())] if filters.active else ["收录政策库中的全部政策文件"]
    )
    if extension == "docx":
        content, content_type = exporting.compendium_docx(qs, notes=notes), DOCX_CONTENT_TYPE
    else:
        content, content_type = exporting.compendium_xlsx(qs, notes=notes), XLSX_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=exporting.compendium_filename(extension)
    )
    return response


# --- items ---------------------------------------------------------------------------------------------------------


@login_required
@permission_required("policies.view_policyitem", raise_exception=True)
@require_GET
def item_list(request):
    filters = selectors.ItemFilters.from_params(request.GET)
    page = Paginator(selectors.items(filters, request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "policies/item_list.html",
        {
            "page": page,
            "filters": filters,
            "query": _query(request, "page"),
            "sort_query": _query(request, "page", "sort"),
            "kinds": ItemKind.choices,
            "can_add": request.user.has_perm("policies.add_policyitem"),
            "can_keep": request.user.has_perm("policies.change_policyitem"),
        },
    )


def _item(request, pk) -> PolicyItem:
    item = get_object_or_404(
        PolicyItem.objects.select_related("document", "article", "workflow", "created_by"), pk=pk
    )
    if item.state == "draft" and not request.user.has_perm("policies.change_policyitem"):
        raise Http404("政策事项不存在")
    return item


@login_required
@permission_required("policies.view_policyitem", raise_exception=True)
@require_GET
def item_detail(request, pk):
    item = _item(request, pk)
    today = timezone.localdate()
    can_run = request.user.has_perm("policies.add_benefitrun")
    context = {
        "item": item,
        "state_label": engine.state_label(item),
        "described": exporting.describe_item(item, today),
        "options": engine.options(item, request.user)
        if request.user.has_perm("policies.change_policyitem")
        else [],
        "history": _history(item, item.workflow),
        "runs": selectors.runs(item)[:20] if request.user.has_perm("policies.view_benefitrun") else None,
        "can_run": can_run and item.state == "published",
        "run_form": RunForm(initial={"period": _default_period(item, today)}),
        "can_edit": request.user.has_perm("policies.change_policyitem") and item.state == "draft",
        "test_form": TestForm(initial={"period": current(item.period_kind, today).code}),
        "can_test": request.user.has_perm("policies.change_policyitem"),
        "held": selectors.item_run_summary(item),
    }
    return render(request, "policies/item_detail.html", context)


def _default_period(item: PolicyItem, today) -> str:
    """The last whole period before today (what a 免申即享 run usually settles)."""
    period = current(item.period_kind, today)
    if period.quarter:
        previous = (
            Period(period.year, period.quarter - 1) if period.quarter > 1 else Period(period.year - 1, 4)
        )
    else:
        previous = Period(period.year - 1)
    return previous.code


def _reference() -> dict:
    """What the editor lists under “可用数据列”: columns, qualifications, rules areas, operators."""
    groups: dict[str, list] = {}
    on = timezone.localdate()
    for column in cols.COLUMNS.values():
        groups.setdefault(column.group, []).append(
            {
                "name": column.name,
                "label": column.label_on(on),
                "unit": column.unit,
                "numeric": column.numeric,
            }
        )
    return {
        "groups": groups,
        "qualifications": cols.QUALIFICATION_KINDS,
        "areas": NAMES,
        "number_ops": elig.NUMBER_OPS,
        "text_ops": elig.TEXT_OPS,
        "budget_rules": BUDGET_RULES,
        "rounding": ROUNDING_RULE,
    }


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request, pk=None):
    item = get_object_or_404(PolicyItem, pk=pk) if pk else PolicyItem()
    permission = "policies.change_policyitem" if pk else "policies.add_policyitem"
    if not request.user.has_perm(permission):
        raise PermissionDenied("无权修改政策事项" if pk else "无权新增政策事项")
    if pk and item.state != "draft":
        messages.error(
            request, services.ITEM_NOT_DRAFT.format(name=item.name, state=engine.state_label(item))
        )
        return redirect("policies:item", pk=item.pk)
    initial = {}
    if not pk and request.GET.get("document", "").isdigit():
        initial["document"] = request.GET["document"]
    form = ItemForm(request.POST or None, instance=item, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.item_save(item=form.instance, user=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"已保存政策事项“{item.name}”（草稿）")
            return redirect("policies:item", pk=item.pk)
    today = timezone.localdate()
    return render(
        request,
        "policies/item_form.html",
        {
            "form": form,
            "item": item,
            "reference": _reference(),
            "test_form": TestForm(initial={"period": current(item.period_kind or "year", today).code}),
        },
    )


def _find_enterprise(user, text: str) -> Enterprise | None:
    text = (text or "").strip()
    visible = Enterprise.objects.visible_to(user)
    if not text:
        return None
    if text.isdigit():
        found = visible.filter(pk=int(text)).first()
        if found:
            return found
    return (
        visible.filter(uscc__iexact=text).first()
        or visible.filter(Q(name=text) | Q(short_name=text)).first()
        or visible.filter(name__icontains=text).order_by("name").first()
    )


@login_required
@permission_required("policies.change_policyitem", raise_exception=True)
@require_POST
def partial_item_test(request):
    """The live “test on an enterprise”: the item as it stands in the editor (or saved: ?item=), evaluated on one
    enterprise by the same code as a run."""
    test = TestForm(request.POST)
    context: dict = {"test_form": test}
    saved = request.POST.get("item")
    if saved and saved.isdigit() and "formula" not in request.POST:
        definition = get_object_or_404(PolicyItem, pk=int(saved)).definition()
    else:
        form = ItemForm(request.POST)
        if not form.is_valid():
            context["errors"] = [
                f"{form.fields[f].label if f in form.fields else ''}：{'；'.join(e)}".lstrip("：")
                for f, e in form.errors.items()
            ]
            return render(request, "policies/partials/test_result.html", context)
        definition = form.instance.definition()
    if not test.is_valid():
        context["errors"] = [m for ms in test.errors.values() for m in ms]
        return render(request, "policies/partials/test_result.html", context)
    enterprise = _find_enterprise(request.user, test.cleaned_data["enterprise"])
    if enterprise is None:
        context["errors"] = [ENTERPRISE_NOT_FOUND.format(text=test.cleaned_data["enterprise"])]
        return render(request, "policies/partials/test_result.html", context)
    try:
        period = Period.parse(test.cleaned_data["period"])
        context["result"] = services.item_test(definition=definition, enterprise=enterprise, period=period)
    except PeriodError as error:
        context["errors"] = [str(error)]
    except ValidationError as error:
        context["errors"] = (
            [m for ms in error.message_dict.values() for m in ms]
            if hasattr(error, "error_dict")
            else error.messages
        )
    return render(request, "policies/partials/test_result.html", context)


@login_required
@permission_required("policies.change_policyitem", raise_exception=True)
@require_POST
def item_transition(request, pk):
    item = _item(request, pk)
    name = request.POST.get("transition", "")
    try:
        services.item_transition(
            item=item, name=name, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"政策事项“{item.name}”：{engine.state_label(item)}")
    return redirect("policies:item", pk=item.pk)


# --- runs ------------------------------------------------------------------------------------------------------------


@login_required
@permission_required("policies.add_benefitrun", raise_exception=True)
@require_POST
def run_create(request, pk):
    item = _item(request, pk)
    form = RunForm(request.POST)
    if form.is_valid():
        try:
            run = services.run_request(
                item=item,
                period_text=form.cleaned_data["period"],
                as_of=form.cleaned_data["as_of"],
                user=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request, f"已发起{Period.parse(run.period).label}的免申即享核定，后台处理完成后即可审核。"
            )
            return redirect("policies:run", pk=run.pk)
    else:
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, message)
    return redirect("policies:item", pk=item.pk)


@login_required
@permission_required("policies.view_benefitrun", raise_exception=True)
@require_GET
def run_list(request):
    filters = selectors.RunFilters.from_params(request.GET)
    page = Paginator(selectors.runs(filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "policies/run_list.html",
        {
            "page": page,
            "filters": filters,
            "query": _query(request, "page"),
            "sort_query": _query(request, "page", "sort"),
            "statuses": BenefitRun.Status.choices,
            "run_states": [
                ("reviewing", "待审核"),
                ("confirmed", "已确认"),
                ("closed", "已结案"),
                ("cancelled", "已作废"),
            ],
        },
    )


def _run(pk) -> BenefitRun:
    return get_object_or_404(BenefitRun.objects.select_related("item", "created_by", "workflow"), pk=pk)


@login_required
@permission_required("policies.view_benefitrun", raise_exception=True)
@require_GET
def run_detail(request, pk):
    run = _run(pk)
    filters = selectors.BenefitFilters.from_params(request.GET)
    context = {
        "run": run,
        "period": Period.parse(run.period),
        "state_label": engine.state_label(run),
        "filters": filters,
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
        "can_review": request.user.has_perm("policies.change_benefit") and run.state == "reviewing",
    }
    if run.status == BenefitRun.Status.DONE:
        page = selectors.benefit_page(
            selectors.run_benefits(run, filters, request.user), request.GET.get("page"), BENEFITS_PER_PAGE
        )
        totals = selectors.run_totals(run, request.user)
        context |= {"page": page, "totals": totals, "all_count": sum(t.count for t in totals)}
    if request.headers.get("HX-Request") and run.status == BenefitRun.Status.DONE:
        return render(request, "policies/partials/benefit_table.html", context)
    context |= {
        "options": engine.options(run, request.user)
        if request.user.has_perm("policies.change_benefitrun")
        else [],
        "history": _history(run, run.workflow),
        "states": BenefitState.choices,
        "parks": Park.objects.order_by("parent_id", "name"),
        "can_export": request.user.has_perm("policies.export_benefit"),
        "can_pay": request.user.has_perm("policies.change_benefitrun") and run.state == "confirmed",
        "reason_form": ReasonForm(),
    }
    return render(request, "policies/run_detail.html", context)


@login_required
@permission_required("policies.view_benefitrun", raise_exception=True)
@require_GET
def partial_run_progress(request, pk):
    run = _run(pk)
    if request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "id": run.pk,
                "status": run.status,
                "stage": run.stage,
                "processed": run.processed,
                "total": run.total,
                "percent": run.percent,
                "finished": run.is_finished,
                "message": run.message,
            }
        )
    response = render(request, "policies/partials/run_progress.html", {"run": run})
    if run.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
@permission_required("policies.change_benefitrun", raise_exception=True)
@require_POST
def run_transition(request, pk):
    run = _run(pk)
    name = request.POST.get("transition", "")
    try:
        services.run_transition(run=run, name=name, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"批次 {run.pk}：{engine.state_label(run)}")
    return redirect("policies:run", pk=run.pk)


@login_required
@permission_required("policies.change_benefitrun", raise_exception=True)
@require_POST
def run_pay(request, pk):
    run = _run(pk)
    form = OptionalReasonForm(request.POST)
    note = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        count = services.run_pay(run=run, user=request.user, note=note)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已登记拨付 {count} 户（企业已确认领受的兑现）")
    return redirect("policies:run", pk=run.pk)


@login_required
@permission_required("policies.export_benefit", raise_exception=True)
@require_http_methods(["GET", "POST"])
def payment_export(request, pk):
    """A short list downloads at once. A long one is written by the worker: a GET shows what will be exported,
    the POST queues it (so a link followed by a crawler or a prefetch starts nothing) and leads to its page."""
    run = _run(pk)
    rows = selectors.payment_list(run).count()
    if rows <= exporting.PAYMENT_SYNC_MAX:
        return _xlsx(exporting.payment_xlsx(run, user=request.user), exporting.payment_filename(run))
    if request.method == "GET":
        latest = (
            PaymentExport.objects.defer("content")
            .filter(run=run, created_by=request.user)
            .order_by("-created_at", "-pk")
            .first()
        )
        context = {"run": run, "period": Period.parse(run.period), "rows": rows, "latest": latest}
        return render(request, "policies/payment_export_confirm.html", context)
    job = exporting.payment_export_request(run=run, user=request.user)
    return redirect(job)


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _payment_job(user, pk) -> PaymentExport:
    """A payment list job its creator may see, or any officer who may change runs."""
    jobs = PaymentExport.objects.defer("content").select_related("run", "created_by")
    if not user.has_perm("policies.change_benefitrun"):
        jobs = jobs.filter(created_by=user)
    job = jobs.filter(pk=pk).first()
    if job is None:
        raise Http404("导出任务不存在或无权查看")
    return job


@login_required
@permission_required("policies.export_benefit", raise_exception=True)
@require_GET
def payment_export_job(request, pk):
    job = _payment_job(request.user, pk)
    context = {"job": job, "run": job.run, "period": Period.parse(job.run.period)}
    return render(request, "policies/payment_export_job.html", context)


@login_required
@permission_required("policies.export_benefit", raise_exception=True)
@require_GET
def partial_payment_export_progress(request, pk):
    job = _payment_job(request.user, pk)
    response = render(request, "policies/partials/payment_export_progress.html", {"job": job})
    if job.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the page then shows when it finished
    return response


@login_required
@permission_required("policies.export_benefit", raise_exception=True)
@require_GET
def payment_export_download(request, pk):
    job = _payment_job(request.user, pk)
    if job.status != PaymentExport.Status.DONE:
        raise Http404("兑付名单文件尚未生成")
    job.refresh_from_db(fields=["content"])
    return _xlsx(bytes(job.content), exporting.payment_filename(job.run))


# --- period figures (贷款利息, 保费 …) -----------------------------------------------------------------------------

FIGURE_ERRORS_SHOWN = 200


def _figure_period(request) -> Period:
    try:
        return Period.parse(request.GET.get("period") or request.POST.get("period") or "")
    except PeriodError:
        return current("year", timezone.localdate())


@login_required
@permission_required("policies.view_policyfigure", raise_exception=True)
@require_http_methods(["GET", "POST"])
def figures(request):
    """The figures of a period, a form to record one, and the .xlsx import of many (all or nothing)."""
    period = _figure_period(request)
    can_add = request.user.has_perm("policies.add_policyfigure") and request.user.has_perm(
        "policies.change_policyfigure"
    )
    form = FigureForm(initial={"period": period.code}, auto_id="figure-%s")
    import_form = FigureImportForm(initial={"period": period.code}, auto_id="import-%s")
    errors = None
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied("无权登记兑现期间数据")
        if request.POST.get("action") == "import":
            import_form = FigureImportForm(request.POST, request.FILES, auto_id="import-%s")
            errors = _figures_import(request, import_form)
            if errors is None and not import_form.errors:
                return redirect(
                    f"{reverse('policies:figures')}?period={import_form.cleaned_data['period_code']}"
                )
        else:
            form = FigureForm(request.POST, auto_id="figure-%s")
            if form.is_valid():
                data = form.cleaned_data
                try:
                    figure, created = services.figure_save(
                        uscc=data["uscc"],
                        period_text=data["period"],
                        name=data["name"],
                        value=data["value"],
                        source=data["source"],
                        user=request.user,
                    )
                except ValidationError as error:
                    _add_errors(form, error)
                else:
                    messages.success(
                        request,
                        f"已{'登记' if created else '更新'}：{figure.enterprise.name} {Period.parse(figure.period).label}"
                        f" {figure.get_name_display()} {figure.value:,.2f} 元",
                    )
                    return redirect(f"{reverse('policies:figures')}?period={figure.period}")
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.period_figures(period, q), 50).get_page(request.GET.get("page"))
    context = {
        "period": period,
        "q": q,
        "page": page,
        "totals": selectors.figure_totals(period),
        "form": form,
        "import_form": import_form,
        "can_add": can_add,
        "errors": errors[:FIGURE_ERRORS_SHOWN] if errors else None,
        "error_count": len(errors) if errors else 0,
        "error_rows": len({e.row for e in errors}) if errors else 0,
        "shown": FIGURE_ERRORS_SHOWN,
        "columns": figure_import.COLUMNS,
    }
    return render(request, "policies/figures.html", context)


def _figures_import(request, form: FigureImportForm) -> list | None:
    """The import of the uploaded file; its row errors (nothing saved), or None (saved, or a form error)."""
    if not form.is_valid():
        return None
    try:
        period = Period.parse(form.cleaned_data["period"])
    except PeriodError as error:
        form.add_error("period", str(error))
        return None
    upload = form.cleaned_data["file"]
    try:
        rows = figure_import.read_upload(upload.read(), upload.name)
        checked = figure_import.check_rows(rows, period=period)
    except figure_import.ImportFileError as error:
        form.add_error("file", str(error))
        return None
    except figure_import.ImportRejected as rejected:
        return rejected.errors
    form.cleaned_data["period_code"] = period.code
    if not checked:
        messages.warning(request, f"“{upload.name}”中没有数据行，未导入任何数据。")
        return None
    saved = services.figures_save(checked, user=request.user)
    unchanged = len(checked) - saved.created - saved.updated
    messages.success(
        request,
        f"已从“{upload.name}”导入 {period.label}的数据 {len(checked)} 行：新登记 {saved.created} 项，"
        f"替换 {saved.updated} 项，与已登记相同 {unchanged} 项。",
    )
    return None


@login_required
@permission_required("policies.add_policyfigure", raise_exception=True)
@require_GET
def figures_template(request):
    return _xlsx(figure_import.template_xlsx(_figure_period(request)), figure_import.TEMPLATE_FILENAME)


# --- benefits ----------------------------------------------------------------------------------------------------------


def _benefit(request, pk) -> Benefit:
    """A benefit the user may see: its enterprise in the user's scope, and the right to see benefits."""
    visible = Enterprise.objects.visible_to(request.user).values("pk")
    benefit = (
        Benefit.objects.select_related("run__workflow", "item", "enterprise", "decided_by", "accepted_by")
        .filter(pk=pk, enterprise__in=visible)
        .first()
    )
    if benefit is None or not request.user.has_perm("policies.view_benefit"):
        raise Http404("兑现记录不存在或无权查看")
    return benefit


@login_required
@require_GET
def benefit_detail(request, pk):
    benefit = _benefit(request, pk)
    return render(
        request,
        "policies/benefit_detail.html",
        {
            "benefit": benefit,
            "explanation": benefit.full_explanation,
            "period": Period.parse(benefit.period),
            "history": _history(benefit, benefit.run.workflow),
            "can_accept": request.user.has_perm("policies.accept_benefit")
            and benefit.state == BenefitState.CONFIRMED,
        },
    )


@login_required
@permission_required("policies.change_benefit", raise_exception=True)
@require_POST
def benefit_exclude(request, pk):
    benefit = _benefit(request, pk)
    try:
        services.benefit_exclude(benefit=benefit, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已剔除 {benefit.enterprise.name}")
    return redirect(request.POST.get("next") or f"/policies/runs/{benefit.run_id}/")


@login_required
@permission_required("policies.change_benefit", raise_exception=True)
@require_POST
def benefit_restore(request, pk):
    benefit = _benefit(request, pk)
    try:
        services.benefit_restore(benefit=benefit, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已恢复 {benefit.enterprise.name}")
    return redirect(request.POST.get("next") or f"/policies/runs/{benefit.run_id}/")


@login_required
@permission_required("policies.accept_benefit", raise_exception=True)
@require_POST
def benefit_accept(request, pk):
    benefit = _benefit(request, pk)
    try:
        services.benefit_accept(benefit=benefit, user=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(
            request,
            f"已确认领受“{benefit.item.name}”{Period.parse(benefit.period).label}：{services.wan(benefit.amount)}",
        )
    return redirect("policies:enterprise", pk=benefit.enterprise_id)


# --- one enterprise: 可享政策 ----------------------------------------------------------------------------------------


@login_required
@permission_required("policies.view_policyitem", raise_exception=True)
@require_GET
def enterprise_policies(request, pk):
    enterprise = enterprise_for_user(request.user, pk)
    today = timezone.localdate()
    data = selectors.enterprise_policies(
        enterprise=enterprise, today=today, include_review=request.user.has_perm("policies.view_benefitrun")
    )
    return render(
        request,
        "policies/enterprise_policies.html",
        {
            "enterprise": enterprise,
            "data": data,
            "can_accept": request.user.has_perm("policies.accept_benefit"),
            "can_view_benefit": request.user.has_perm("policies.view_benefit"),
        },
    )
