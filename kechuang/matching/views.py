"""The search page of 双向发榜: one box over the published demands and achievements, the terms highlighted in
the titles and snippets (the engine escapes the text and marks the terms: the only HTML the pages take from
elsewhere as it is), with filters by kind, field, park and maturity, and paging. The posting and docking pages
are in views_postings.py and views_dockings.py."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kechuang.enterprises.models import Park
from kechuang.matching import access, selectors, services

SEARCH_KINDS = {"all": ("demand", "achievement"), "demand": ("demand",), "achievement": ("achievement",)}


@login_required
@require_GET
def search(request):
    q = (request.GET.get("q") or "").strip()
    kind = request.GET.get("kind") or "all"
    kind = kind if kind in SEARCH_KINDS else "all"
    field = request.GET.get("field") or ""
    field = field if field in services.FIELD_LABELS else ""
    park = selectors._int(request.GET.get("park"), 1, 2**62)
    trl = selectors._int(request.GET.get("trl"), 1, 9)
    page = selectors._int(request.GET.get("page"), 1, 10**6) or 1
    result = None
    if "q" in request.GET:
        result = selectors.search(q, kinds=SEARCH_KINDS[kind], field=field, park=park, trl_min=trl, page=page)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "q": q,
        "kind": kind,
        "field": field,
        "park": park,
        "trl": trl,
        "result": result,
        "fields": list(services.FIELD_LABELS.items()),
        "parks": Park.objects.order_by("parent_id", "name"),
        "query": query.urlencode(),
        "page": result.page if result else None,
        "counts": {
            k: access.visible_postings(k, request.user).filter(state="published").count()
            for k in access.KINDS
        },
    }
    return render(request, "matching/search.html", context)
