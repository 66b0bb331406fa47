"""Posting pages of 双向发榜: the lists of demands, achievements and talent profiles (search, filters, sorting,
paging), one posting with its recommendations and dockings, posting and changing one, its moderation steps,
the officers' moderation queue, and the import of achievements from .xlsx.

Who may do what (the buttons shown follow the same rules; the services check them again):
  lists, pages      anyone logged in: published and closed postings; its own side's in every state; officers
                    (matching.view_<model>) all
  post, change      an enterprise user for its enterprise (demands), a university user for its organisation
                    (achievements, talent profiles; officers for any organisation)
  moderate          matching.change_<model> (officers)
  start a docking   the demand's side, the counterpart's side, or an officer (matching.change_docking)
  import            matching.add_achievement (a university user for its own organisation; officers)
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.enterprises.models import Park
from kechuang.matching import access, importing, selectors, services
from kechuang.matching.forms import FORMS, ImportForm, ReasonForm, add_service_errors
from kechuang.matching.models import Achievement, PostingState
from kechuang.matching.workflows import POSTING_STEPS

PAGE_SIZE = 20
SORT_LABELS = {
    "-published": "发布时间（新在前）",
    "published": "发布时间（早在前）",
    "-created": "创建时间（新在前）",
    "title": "标题",
    "deadline": "截止日期（近在前）",
    "-budget": "预算（高在前）",
    "budget": "预算（低在前）",
    "-trl": "成熟度（高在前）",
}
NOT_FOUND = "对象不存在或无权查看"
IMPORT_ERRORS_SHOWN = 200


def _kind(kind: str) -> str:
    if kind not in access.KINDS:
        raise Http404(NOT_FOUND)
    return kind


def _posting(request, kind: str, pk: int):
    qs = access.visible_postings(kind, request.user)
    if kind == "demand":
        qs = qs.select_related("enterprise__park")
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


def _flat(error: ValidationError) -> str:
    return "；".join(error.messages)


# —— lists ————————————————————————————————————————————————————————————————————————————————————————————————————


@login_required
@require_GET
def posting_list(request, kind: str):
    kind = _kind(kind)
    filters = selectors.PostingFilters.from_params(kind, request.GET)
    qs = selectors.postings(kind, filters, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "kind": kind,
        "label": access.LABELS[kind],
        "page": page,
        "filters": filters,
        "fields": list(services.FIELD_LABELS.items()),
        "states": list(PostingState.choices),
        "sorts": selectors.SORTS[kind],
        "parks": Park.objects.order_by("parent_id", "name") if kind == "demand" else [],
        "organisations": selectors.organisations(kind) if kind != "demand" else [],
        "query": _query(request, "page"),
        "sort_query": _query(request, "page", "sort"),
        "can_post": request.user.has_perm(access.perm(kind, "add")),
        "show_mine": bool(
            access.enterprise_ids(request.user) if kind == "demand" else access.organisation_of(request.user)
        ),
        "sort_labels": [(key, label) for key, label in SORT_LABELS.items() if key in selectors.SORTS[kind]],
        "sees_states": access.sees_all(request.user, kind) or filters.mine,
    }
    return render(request, "matching/posting_list.html", context)


@login_required
@require_GET
def moderation_queue(request):
    if not any(access.is_moderator(request.user, kind) for kind in access.KINDS):
        raise PermissionDenied("仅科委业务人员可以审核")
    rows = [(kind, p) for kind, p in selectors.moderation_queue() if access.is_moderator(request.user, kind)]
    return render(request, "matching/moderation_queue.html", {"rows": rows})


# —— one posting ——————————————————————————————————————————————————————————————————————————————————————————————

MATCH_KINDS = {
    "demand": {"all": ("achievement", "talent"), "achievement": ("achievement",), "talent": ("talent",)},
    "achievement": {"all": ("demand",), "demand": ("demand",), "enterprise": ("enterprise",)},
}


def _can_dock_from(user, posting) -> bool:
    if user.has_perm("matching.change_docking"):
        return True
    return user.has_perm("matching.add_docking") and access.is_owner(user, posting)


def _matches(request, kind: str, posting) -> dict:
    """The recommendations on a published demand's or achievement's page, with their filters."""
    if kind == "talent" or posting.state != PostingState.PUBLISHED:
        return {}
    choice = request.GET.get("mk") or "all"
    kinds = MATCH_KINDS[kind].get(choice, MATCH_KINDS[kind]["all"])
    officer = access.sees_all(request.user, "demand")
    if kind == "achievement" and choice == "enterprise" and not officer:
        kinds = ("demand",)
    field = request.GET.get("mfield") or ""
    field = field if field in services.FIELD_LABELS else ""
    trl = selectors._int(request.GET.get("mtrl"), 1, 9)
    if kind == "demand":
        rows = selectors.demand_matches(posting, kinds=kinds, field=field, trl_min=trl)
    else:
        park = selectors._int(request.GET.get("mpark"), 1, 2**62)
        rows = selectors.achievement_matches(posting, kinds=kinds, field=field, park=park)
    return {
        "matches": rows,
        "match_kind": choice,
        "match_field": field,
        "match_trl": trl,
        "match_enterprises": officer and kind == "achievement",
        "can_dock": _can_dock_from(request.user, posting),
    }


@login_required
@require_GET
def posting_detail(request, kind: str, pk: int):
    kind = _kind(kind)
    posting = _posting(request, kind, pk)
    user = request.user
    owner = access.is_owner(user, posting) and user.has_perm(access.perm(kind, "add"))
    moderator = access.is_moderator(user, kind)
    related = {"demand": "demand", "achievement": "achievement", "talent": "talent"}[kind]
    dockings = (
        access.visible_dockings(user)
        .filter(**{related: posting})
        .select_related("demand__enterprise", "achievement", "talent")
        .order_by("-updated_at", "-pk")
    )
    context = {
        "kind": kind,
        "label": access.LABELS[kind],
        "posting": posting,
        "steps": services.allowed_steps(posting, user),
        "can_edit": (owner or moderator) and posting.state != PostingState.WITHDRAWN,
        "can_delete": moderator
        or (owner and posting.state in (PostingState.DRAFT, PostingState.RETURNED, PostingState.WITHDRAWN)),
        "is_owner": owner,
        "is_moderator": moderator,
        "dockings": dockings,
        "log": selectors.moderation_log(posting) if (owner or moderator) else [],
        "reason_form": ReasonForm(),
        "fields": list(services.FIELD_LABELS.items()),
        **_matches(request, kind, posting),
    }
    return render(request, f"matching/{kind}_detail.html", context)


# —— posting and changing ————————————————————————————————————————————————————————————————————————————————————


def _form(kind: str, user, *args, **kwargs):
    form_class = FORMS[kind]
    if kind == "demand":
        return form_class(*args, **kwargs)
    return form_class(*args, officer=access.is_moderator(user, kind), **kwargs)


def _values(kind: str, form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("organisation", None)
    return {name: data.get(name) for name in services.FIELDS[kind] if name in data}


@login_required
@require_http_methods(["GET", "POST"])
def posting_create(request, kind: str):
    kind = _kind(kind)
    user = request.user
    if not user.has_perm(access.perm(kind, "add")):
        raise PermissionDenied(f"无权发布{access.LABELS[kind]}")
    enterprises = list(access.acting_enterprises(user)) if kind == "demand" else []
    if kind == "demand" and not enterprises:
        raise PermissionDenied("您的账号未关联企业，不能发布需求")
    organisation = access.organisation_of(user)
    if kind != "demand" and not organisation and not access.is_moderator(user, kind):
        messages.error(request, "您的账号未关联高校或科研院所，请联系科委业务人员设置所属单位后再发布。")
        return redirect(f"matching:{kind}-list")
    form = _form(kind, user, request.POST or None)
    chosen = enterprises[0] if enterprises else None
    if request.method == "POST" and form.is_valid():
        if kind == "demand" and len(enterprises) > 1:
            chosen = next((e for e in enterprises if str(e.pk) == request.POST.get("enterprise")), None)
        try:
            if kind == "demand":
                if chosen is None:
                    raise ValidationError({"enterprise": "请选择发布企业"})
                posting = services.demand_create(enterprise=chosen, user=user, **_values(kind, form))
            else:
                create = services.achievement_create if kind == "achievement" else services.talent_create
                posting = create(
                    user=user, organisation=form.cleaned_data.get("organisation", ""), **_values(kind, form)
                )
            if request.POST.get("then") == "submit":
                services.posting_take(posting, "submit", user=user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if posting.state == PostingState.PENDING:
                messages.success(request, f"“{posting.title}”已保存并提交审核，审核通过后发布。")
            else:
                messages.success(request, f"“{posting.title}”已保存为草稿；提交审核并通过后发布。")
            return redirect(f"matching:{kind}-detail", pk=posting.pk)
    context = {
        "kind": kind,
        "label": access.LABELS[kind],
        "form": form,
        "posting": None,
        "enterprises": enterprises,
        "chosen": chosen,
        "organisation": organisation,
    }
    return render(request, "matching/posting_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def posting_edit(request, kind: str, pk: int):
    kind = _kind(kind)
    posting = _posting(request, kind, pk)
    user = request.user
    if not (
        access.is_moderator(user, kind)
        or (access.is_owner(user, posting) and user.has_perm(access.perm(kind, "add")))
    ):
        raise PermissionDenied(f"仅发布方或科委业务人员可以修改该{access.SHORT[kind]}")
    if request.method == "POST":
        form = _form(kind, user, request.POST)
    else:
        initial = {name: getattr(posting, name) for name in services.FIELDS[kind]}
        if kind != "demand":
            initial["organisation"] = posting.organisation
        form = _form(kind, user, initial=initial)
    if kind != "demand" and "organisation" in form.fields:
        form.fields["organisation"].disabled = True
    if request.method == "POST" and form.is_valid():
        was = posting.state
        try:
            posting = services.posting_update(posting, user=user, **_values(kind, form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if was == PostingState.PUBLISHED and posting.state == PostingState.PENDING:
                messages.warning(
                    request, "已保存。已发布的内容修改后须重新审核，审核通过前不在检索和推荐中出现。"
                )
            else:
                messages.success(request, f"“{posting.title}”已保存。")
            return redirect(f"matching:{kind}-detail", pk=posting.pk)
    context = {
        "kind": kind,
        "label": access.LABELS[kind],
        "form": form,
        "posting": posting,
        "moderator": access.is_moderator(user, kind),
    }
    return render(request, "matching/posting_form.html", context)


@login_required
@require_POST
def posting_step(request, kind: str, pk: int, name: str):
    kind = _kind(kind)
    posting = _posting(request, kind, pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.posting_take(posting, name, user=request.user, reason=form.cleaned_data.get("reason", ""))
    except ValidationError as error:
        messages.error(request, _flat(error))
    else:
        step = POSTING_STEPS[name]
        messages.success(request, f"“{posting.title}”：已{step.label}。")
    target = request.POST.get("next") or ""
    if target == "queue":
        return redirect("matching:moderation")
    return redirect(f"matching:{kind}-detail", pk=posting.pk)


@login_required
@require_POST
def posting_delete(request, kind: str, pk: int):
    kind = _kind(kind)
    posting = _posting(request, kind, pk)
    title = posting.title
    try:
        services.posting_delete(posting, user=request.user)
    except ValidationError as error:
        messages.error(request, _flat(error))
        return redirect(f"matching:{kind}-detail", pk=pk)
    messages.success(request, f"“{title}”已删除。")
    return redirect(f"matching:{kind}-list")


@login_required
@require_POST
def docking_start(request, kind: str, pk: int):
    """Start a docking from a recommendation on a demand's page (an achievement or a talent profile) or on an
    achievement's page (a demand)."""
    kind = _kind(kind)
    posting = _posting(request, kind, pk)
    user = request.user
    try:
        if kind == "demand":
            other_kind = (
                request.POST.get("kind") if request.POST.get("kind") in ("achievement", "talent") else ""
            )
            if not other_kind:
                raise ValidationError("请选择要对接的成果或专家团队")
            other = access.visible_postings(other_kind, user).filter(pk=request.POST.get("pk") or 0).first()
            if other is None:
                raise Http404(NOT_FOUND)
            docking = services.docking_create(
                posting, user=user, **{other_kind: other}, note=request.POST.get("note", "")
            )
        elif kind == "achievement":
            demand = access.visible_postings("demand", user).filter(pk=request.POST.get("pk") or 0).first()
            if demand is None:
                raise Http404(NOT_FOUND)
            docking = services.docking_create(
                demand, user=user, achievement=posting, note=request.POST.get("note", "")
            )
        else:
            raise Http404(NOT_FOUND)
    except ValidationError as error:
        messages.error(request, _flat(error))
        return redirect(f"matching:{kind}-detail", pk=pk)
    messages.success(request, "已发起对接，双方已收到通知；请在对接页记录联系与洽谈的进展。")
    return redirect("matching:docking-detail", pk=docking.pk)


# —— import ———————————————————————————————————————————————————————————————————————————————————————————————————


@login_required
@require_http_methods(["GET", "POST"])
def achievement_import(request):
    user = request.user
    if not user.has_perm(access.perm("achievement", "add")):
        raise PermissionDenied("无权导入科技成果")
    officer = access.is_moderator(user, "achievement")
    organisation = access.organisation_of(user)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = importing.read_upload(upload.read(), upload.name)
            saved = importing.import_achievements(rows, user=user, source_name=upload.name)
        except importing.ImportFileError as error:
            form.add_error("file", str(error))
        except importing.ImportRejected as rejected:
            errors = rejected.errors
        else:
            if not saved:
                messages.warning(request, f"“{upload.name}”中没有数据行，未导入任何成果。")
            elif officer:
                messages.success(request, f"已从“{upload.name}”导入 {len(saved)} 项成果并发布。")
            else:
                messages.success(request, f"已从“{upload.name}”导入 {len(saved)} 项成果，已提交审核。")
            return redirect("matching:achievement-import")
    recent = Achievement.objects.exclude(import_batch="").order_by("-created_at", "-pk")
    if not officer:
        recent = recent.filter(organisation=organisation) if organisation else recent.none()
    context = {
        "form": form,
        "errors": errors[:IMPORT_ERRORS_SHOWN] if errors else None,
        "error_count": len(errors) if errors else 0,
        "error_rows": len({e.row for e in errors}) if errors else 0,
        "shown": IMPORT_ERRORS_SHOWN,
        "columns": importing.COLUMNS,
        "officer": officer,
        "organisation": organisation,
        "recent": recent[:20],
    }
    return render(request, "matching/import.html", context)


@login_required
@require_GET
def achievement_import_template(request):
    if not request.user.has_perm(access.perm("achievement", "add")):
        raise PermissionDenied("无权导入科技成果")
    response = HttpResponse(importing.template_xlsx(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=importing.TEMPLATE_FILENAME
    )
    return response
