"""Reads of 双向发榜: the posting lists (search, filters, sorting), the recommendations of a demand or an
achievement with the postings behind them, the one search box over demands and achievements, the docking
board, the open demands with no good match yet, the analysis of why dockings failed, and the count the
indicator 校企双向发榜成功对接项目 takes (successful_dockings).

Who sees what is access.py's; every list here starts from its querysets.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from kechuang.enterprises.choices import HitechField
from kechuang.enterprises.models import Enterprise, Park
from kechuang.matching import access, index
from kechuang.matching.models import (
    Achievement,
    DeclineReason,
    Demand,
    Docking,
    DockingNote,
    DockingState,
    PostingState,
    TalentProfile,
)
from kechuang.matching.workflows import (
    ACTIVE_DOCKING_STATES,
    DOCKING_PATH,
    SEARCHABLE_STATES,
    SUCCESSFUL_DOCKING_STATES,
)

FIELD_LABELS = dict(HitechField.choices)
STATE_LABELS = dict(PostingState.choices)
DOCKING_LABELS = dict(DockingState.choices)
REASON_LABELS = dict(DeclineReason.choices)
# A state filter of the docking list beyond the states: 签约 or 落地 (what the indicator counts).
SUCCESSFUL = "successful"
STATE_FILTERS = {**DOCKING_LABELS, SUCCESSFUL: "成功对接（签约或落地）"}
Q_MAX = 100

# —— posting lists ——————————————————————————————————————————————————————————————————————————————————————————

_COMMON_SORTS = {
    "-published": (F("published_at").desc(nulls_last=True), "-pk"),
    "published": (F("published_at").asc(nulls_last=True), "pk"),
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "title": ("title", "pk"),
    "-title": ("-title", "-pk"),
}
SORTS: dict[str, dict[str, tuple]] = {
    "demand": {
        **_COMMON_SORTS,
        "deadline": (F("deadline").asc(nulls_last=True), "pk"),
        "-deadline": (F("deadline").desc(nulls_last=True), "-pk"),
        "budget": (F("budget").asc(nulls_last=True), "pk"),
        "-budget": (F("budget").desc(nulls_last=True), "-pk"),
    },
    "achievement": {
        **_COMMON_SORTS,
        "trl": (F("trl").asc(nulls_last=True), "pk"),
        "-trl": (F("trl").desc(nulls_last=True), "-pk"),
    },
    "talent": dict(_COMMON_SORTS),
}
DEFAULT_SORT = "-published"


def _int(value: Any, low: int, high: int) -> int | None:
    text = str(value or "").strip()
    if not text.isdigit():
        return None
    number = int(text)
    return number if low <= number <= high else None


@dataclass
class PostingFilters:
    """A posting list's filters. Unknown values are ignored rather than failing the page (a stale bookmark
    still opens); the API checks them and says what is allowed."""

    q: str = ""
    field: str = ""
    state: str = ""
    park: int | None = None
    trl: int | None = None
    organisation: str = ""
    mine: bool = False
    sort: str = DEFAULT_SORT

    @classmethod
    def from_params(cls, kind: str, params) -> PostingFilters:
        f = cls(
            q=(params.get("q") or "").strip()[:Q_MAX],
            field=params.get("field") or "",
            state=params.get("state") or "",
            park=_int(params.get("park"), 1, 2**62),
            trl=_int(params.get("trl"), 1, 9),
            organisation=(params.get("organisation") or "").strip()[:200],
            mine=params.get("mine") in ("1", "true", "on"),
            sort=params.get("sort") or DEFAULT_SORT,
        )
        if f.field not in FIELD_LABELS:
            f.field = ""
        if f.state not in STATE_LABELS:
            f.state = ""
        if f.sort not in SORTS[kind]:
            f.sort = DEFAULT_SORT
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.field, self.state, self.park, self.trl, self.organisation, self.mine))


def postings(kind: str, filters: PostingFilters | None = None, *, user) -> QuerySet:
    """The postings of `kind` the user may see, as `filters` select and order them."""
    filters = filters or PostingFilters()
    qs = access.own_postings(kind, user) if filters.mine else access.visible_postings(kind, user)
    if kind == "demand":
        qs = qs.select_related("enterprise__park")
    text = {"demand": "description", "achievement": "abstract", "talent": "bio"}[kind]
    if filters.q:
        condition = Q(title__icontains=filters.q) | Q(keywords__icontains=filters.q)
        condition |= Q(**{f"{text}__icontains": filters.q})
        if kind == "demand":
            condition |= Q(enterprise__name__icontains=filters.q)
        else:
            condition |= Q(organisation__icontains=filters.q)
        qs = qs.filter(condition)
    if filters.field:
        qs = qs.filter(field=filters.field)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.park and kind == "demand":
        park = Park.objects.filter(pk=filters.park).first()
        qs = qs.filter(enterprise__park_id__in=park.with_descendants()) if park else qs.none()
    if filters.trl and kind == "achievement":
        qs = qs.filter(trl__gte=filters.trl)
    if filters.organisation and kind != "demand":
        qs = qs.filter(organisation=filters.organisation)
    return qs.order_by(*SORTS[kind].get(filters.sort, SORTS[kind][DEFAULT_SORT]))


def organisations(kind: str) -> list[str]:
    """The organisations with published achievements or talent profiles, for the filter."""
    model = access.MODELS[kind]
    return list(
        model.objects.filter(state__in=SEARCHABLE_STATES)
        .order_by("organisation")
        .values_list("organisation", flat=True)
        .distinct()
    )


def moderation_queue() -> list[tuple[str, Any]]:
    """Every posting waiting for moderation (待审核), oldest first: (kind, posting)."""
    rows = []
    for kind in access.KINDS:
        qs = access.MODELS[kind].objects.filter(state=PostingState.PENDING)
        if kind == "demand":
            qs = qs.select_related("enterprise")
        rows += [(kind, p) for p in qs]
    return sorted(rows, key=lambda row: (row[1].updated_at, row[0], row[1].pk))


def moderation_log(posting, limit: int = 20) -> list:
    """The posting's history records that changed its state (and its creation), newest first."""
    records = list(posting.history.select_related("history_user").order_by("-history_date", "-history_id"))
    shown = []
    for record, older in zip(records, [*records[1:], None], strict=True):
        if older is None or older.state != record.state or record.history_change_reason:
            shown.append(record)
    return shown[:limit]


# —— recommendations ————————————————————————————————————————————————————————————————————————————————————————


@dataclass
class MatchRow:
    kind: str
    obj: Any  # Achievement, TalentProfile, Demand or Enterprise
    score: float
    terms: tuple[str, ...]
    field_match: bool
    explanation: str
    docking: Docking | None = None
    keyword_hits: tuple[str, ...] = ()  # the source posting's own keywords found in this one's text

    @property
    def good(self) -> bool:
        return bool(self.field_match and self.keyword_hits)


# A recommendation is a good match when it is in the source posting's field and one of the keywords its poster
# chose appears in the recommended posting's title, keywords or text: the engine's scores are BM25 sums, whose
# size depends on the texts, so no fixed score threshold would mean the same for a short demand and a long one,
# and a count of shared terms would count common words (工艺, 优化) as much as the technical ones.


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def own_keywords(posting) -> tuple[str, ...]:
    return tuple(k.strip() for k in (posting.keywords or "").split("、") if k.strip())


def _text_of(kind: str, obj) -> str:
    if kind == "enterprise":
        return f"{obj.name}\n{obj.main_business}"
    body = {"demand": "description", "achievement": "abstract", "talent": "bio"}[kind]
    return f"{obj.title}\n{obj.keywords}\n{getattr(obj, body)}"


def keyword_hits(keywords: tuple[str, ...], kind: str, obj) -> tuple[str, ...]:
    text = _fold(_text_of(kind, obj))
    return tuple(k for k in keywords if _fold(k) in text)


def _published(model, pks) -> dict[int, Any]:
    qs = model.objects.filter(pk__in=pks, state__in=SEARCHABLE_STATES)
    if model is Demand:
        qs = qs.select_related("enterprise__park")
    return {obj.pk: obj for obj in qs}


def _rows(
    matches,
    objects: dict[str, dict[int, Any]],
    dockings: dict[tuple[str, int], Docking],
    keywords: tuple[str, ...] = (),
) -> list[MatchRow]:
    rows = []
    for m in matches:
        obj = objects.get(m.kind, {}).get(m.pk)
        if obj is None:  # not published any more (the index catches up on its next read)
            continue
        rows.append(
            MatchRow(
                m.kind,
                obj,
                m.score,
                tuple(m.terms),
                bool(m.field_match),
                m.explanation,
                dockings.get((m.kind, m.pk)),
                keyword_hits(keywords, m.kind, obj),
            )
        )
    return rows


def demand_matches(
    demand: Demand,
    *,
    kinds: tuple[str, ...] = ("achievement", "talent"),
    field: str | None = None,
    trl_min: int | None = None,
    k: int = 10,
) -> list[MatchRow]:
    """The achievements and talent profiles recommended for `demand`, best first, each with its explanation and
    the docking already started with it (if any)."""
    matches = index.recommend_for_demand(demand, k=k, kinds=kinds, field=field or None, trl_min=trl_min)
    objects = {
        "achievement": _published(Achievement, [m.pk for m in matches if m.kind == "achievement"]),
        "talent": _published(TalentProfile, [m.pk for m in matches if m.kind == "talent"]),
    }
    dockings = {}
    for d in demand.dockings.all():
        dockings[("achievement", d.achievement_id) if d.achievement_id else ("talent", d.talent_id)] = d
    return _rows(matches, objects, dockings, own_keywords(demand))


def achievement_matches(
    achievement: Achievement,
    *,
    kinds: tuple[str, ...] = ("demand",),
    field: str | None = None,
    park: int | None = None,
    k: int = 10,
) -> list[MatchRow]:
    """The demands (and, for officers, the enterprises of the registry: kinds includes "enterprise")
    recommended for `achievement`, best first."""
    matches = index.recommend_for_achievement(achievement, k=k, kinds=kinds, field=field or None, park=park)
    objects = {
        "demand": _published(Demand, [m.pk for m in matches if m.kind == "demand"]),
        "enterprise": {
            e.pk: e
            for e in Enterprise.objects.filter(
                pk__in=[m.pk for m in matches if m.kind == "enterprise"]
            ).select_related("park")
        },
    }
    dockings = {("demand", d.demand_id): d for d in achievement.dockings.all()}
    return _rows(matches, objects, dockings, own_keywords(achievement))


# —— the search box ——————————————————————————————————————————————————————————————————————————————————————————


@dataclass
class SearchRow:
    hit: Any  # index.Hit: title_html and snippet_html escaped by the engine, terms in <mark>
    obj: Any


@dataclass
class SearchResult:
    query: str
    error: str = ""
    total: int = 0
    terms: tuple[str, ...] = ()
    rows: list[SearchRow] = field(default_factory=list)
    page: Any = None  # a Django Page over the total, for the pager


SEARCH_PAGE = 20


def search(
    query: str,
    *,
    kinds: tuple[str, ...] = ("demand", "achievement"),
    field: str | None = None,
    park: int | None = None,
    trl_min: int | None = None,
    page: int = 1,
    per_page: int = SEARCH_PAGE,
) -> SearchResult:
    """One search over published demands and achievements, most relevant first; a query the engine refuses
    (empty, one character, too long) comes back as `error`, in Chinese."""
    result = SearchResult(query=query)
    page = max(1, page)
    try:
        found = index.search(
            query,
            kinds=kinds,
            field=field or None,
            park=park,
            trl_min=trl_min,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
    except index.QueryError as error:
        result.error = str(error)
        return result
    models = {"demand": Demand, "achievement": Achievement, "talent": TalentProfile}
    objects = {
        kind: _published(model, [h.pk for h in found.hits if h.kind == kind])
        for kind, model in models.items()
    }
    result.total, result.terms = found.total, tuple(found.terms)
    result.rows = [SearchRow(h, objects[h.kind][h.pk]) for h in found.hits if h.pk in objects.get(h.kind, {})]
    result.page = Paginator(range(found.total), per_page).get_page(page)
    return result


# —— dockings ————————————————————————————————————————————————————————————————————————————————————————————————

DOCKING_SORTS = {
    "-updated": (
        F("last_on").desc(nulls_last=True),
        "-updated_at",
        "-pk",
    ),  # the latest progress (note) first
    "updated": (F("last_on").asc(nulls_last=True), "updated_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "-score": (F("score").desc(nulls_last=True), "-pk"),
    "-signed": (F("signed_on").desc(nulls_last=True), "-pk"),
    "-amount": (F("contract_amount").desc(nulls_last=True), "-pk"),
}


@dataclass
class DockingFilters:
    q: str = ""
    state: str = ""
    field: str = ""
    reason: str = ""
    park: int | None = None
    sort: str = "-updated"
    signed_year: int | None = None  # 签约日期 in this year (the indicator's drill-down)

    @classmethod
    def from_params(cls, params) -> DockingFilters:
        f = cls(
            q=(params.get("q") or "").strip()[:Q_MAX],
            state=params.get("state") or "",
            field=params.get("field") or "",
            reason=params.get("reason") or "",
            park=_int(params.get("park"), 1, 2**62),
            sort=params.get("sort") or "-updated",
            signed_year=_int(params.get("signed_year"), 1900, 9999),
        )
        if f.state not in STATE_FILTERS:
            f.state = ""
        if f.field not in FIELD_LABELS:
            f.field = ""
        if f.reason not in REASON_LABELS:
            f.reason = ""
        if f.sort not in DOCKING_SORTS:
            f.sort = "-updated"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.state, self.field, self.reason, self.park, self.signed_year))


def dockings(filters: DockingFilters | None = None, *, user) -> QuerySet[Docking]:
    """The dockings the user may see, as `filters` select and order them, each with `last_on` (the date of its
    latest note: its latest progress)."""
    filters = filters or DockingFilters()
    qs = _filtered(filters, user).select_related("demand__enterprise", "achievement", "talent")
    return qs.annotate(last_on=Max("notes__on")).order_by(*DOCKING_SORTS[filters.sort])


def _filtered(filters: DockingFilters, user) -> QuerySet[Docking]:
    qs = access.visible_dockings(user)
    if filters.q:
        q = filters.q
        qs = qs.filter(
            Q(demand__title__icontains=q)
            | Q(demand__enterprise__name__icontains=q)
            | Q(achievement__title__icontains=q)
            | Q(achievement__organisation__icontains=q)
            | Q(talent__title__icontains=q)
            | Q(talent__organisation__icontains=q)
        )
    if filters.state == SUCCESSFUL:
        qs = qs.filter(state__in=SUCCESSFUL_DOCKING_STATES)
    elif filters.state:
        qs = qs.filter(state=filters.state)
    if filters.signed_year:
        year = filters.signed_year
        qs = qs.filter(signed_on__gte=dt.date(year, 1, 1), signed_on__lte=dt.date(year, 12, 31))
    if filters.field:
        qs = qs.filter(demand__field=filters.field)
    if filters.reason:
        qs = qs.filter(decline_reason=filters.reason)
    if filters.park:
        park = Park.objects.filter(pk=filters.park).first()
        qs = qs.filter(demand__enterprise__park_id__in=park.with_descendants()) if park else qs.none()
    return qs


@dataclass
class BoardColumn:
    state: str
    label: str
    count: int
    dockings: list[Docking]


BOARD_CARDS = 12


def docking_board(
    filters: DockingFilters | None = None, *, user, per_column: int = BOARD_CARDS
) -> list[BoardColumn]:
    """The dockings the user may see in one column per state (推荐 … 落地, then 未成), each with its count and
    its most recently updated cards."""
    filters = filters or DockingFilters()
    qs = dockings(filters, user=user)
    counts = dict(_filtered(filters, user).order_by().values_list("state").annotate(n=Count("pk")))
    columns = []
    for state in (*DOCKING_PATH, DockingState.DECLINED):
        cards = list(qs.filter(state=state)[:per_column]) if counts.get(state) else []
        columns.append(BoardColumn(state, DOCKING_LABELS[state], counts.get(state, 0), cards))
    return columns


def docking_notes(docking: Docking) -> list[DockingNote]:
    return list(docking.notes.select_related("author").order_by("on", "pk"))


def successful_dockings(year: int) -> int:
    """校企双向发榜成功对接项目 (indicator two_way_listing_projects, computed in indicators/computed.py by the same
    rule, year to date): dockings signed in `year` that are 签约 or 落地 now (one that was signed and then failed,
    未成, no longer counts). The board lists them with ?state=successful&signed_year=<year>."""
    return Docking.objects.filter(state__in=SUCCESSFUL_DOCKING_STATES, signed_on__year=year).count()


# —— open demands with no good match ———————————————————————————————————————————————————————————————————————


def open_demands(today: dt.date | None = None) -> QuerySet[Demand]:
    """Published demands whose deadline (if any) has not passed."""
    today = today or timezone.localdate()
    return Demand.objects.filter(state=PostingState.PUBLISHED).filter(
        Q(deadline__isnull=True) | Q(deadline__gte=today)
    )


@dataclass
class UnmatchedRow:
    demand: Demand
    best: MatchRow | None
    why: str
    declined: int


def unmatched_demands(
    today: dt.date | None = None, *, field: str = "", park: int | None = None
) -> list[UnmatchedRow]:
    """Open demands with no good match yet: no docking under way or successful, and no good recommendation
    (MatchRow.good) among the counterparts not already declined. Oldest published first, with the best candidate
    there is and why it is not good enough."""
    qs = (
        open_demands(today)
        .select_related("enterprise__park")
        .order_by(F("published_at").asc(nulls_last=True), "pk")
    )
    if field:
        qs = qs.filter(field=field)
    if park:
        found = Park.objects.filter(pk=park).first()
        qs = qs.filter(enterprise__park_id__in=found.with_descendants()) if found else qs.none()
    busy = set(
        Docking.objects.filter(state__in=(*ACTIVE_DOCKING_STATES, *SUCCESSFUL_DOCKING_STATES)).values_list(
            "demand_id", flat=True
        )
    )
    declined: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for demand_id, achievement_id, talent_id in Docking.objects.filter(
        state=DockingState.DECLINED
    ).values_list("demand_id", "achievement_id", "talent_id"):
        declined[demand_id].add(("achievement", achievement_id) if achievement_id else ("talent", talent_id))
    rows = []
    for demand in qs:
        if demand.pk in busy:
            continue
        candidates = [
            r
            for r in demand_matches(demand, k=10)
            if (r.kind, r.obj.pk) not in declined.get(demand.pk, set())
        ]
        if any(r.good for r in candidates):
            continue
        best = candidates[0] if candidates else None
        rows.append(UnmatchedRow(demand, best, _why(demand, best), len(declined.get(demand.pk, ()))))
    return rows


def _why(demand: Demand, best: MatchRow | None) -> str:
    if best is None:
        return "没有可推荐的成果或专家团队（未找到共同的技术用语）"
    reasons = []
    if not best.field_match:
        other = FIELD_LABELS.get(best.obj.field, "未填领域")
        reasons.append(f"领域不同（需求：{FIELD_LABELS.get(demand.field, '未填')}，最佳推荐：{other}）")
    if not best.keyword_hits:
        reasons.append(f"未命中需求的关键词（{demand.keywords or '未填'}）")
    return "；".join(reasons)


# —— why dockings failed ———————————————————————————————————————————————————————————————————————————————————


@dataclass
class DeclineAnalysis:
    total: int
    years: list[int]
    reasons: list[tuple[str, str, int, float]]  # code, label, count, share %
    fields: list[tuple[str, str]]  # the fields that have declines, as columns
    table: list[tuple[str, str, list[int], int]]  # reason code, label, counts per field, total
    field_totals: list[int]
    stages: list[tuple[str, str, int]]  # the state a docking was in when it was declined
    recent: list[tuple[Docking, dt.date | None, str]]  # docking, date declined, stage label


def decline_analysis(*, year: int | None = None, field: str = "", recent: int = 20) -> DeclineAnalysis:
    """Declined dockings counted by reason, by reason × the demand's field, and by the stage at which they were
    declined (推荐, 联系, 洽谈, 签约), with the latest ones and their notes. `year` is the year of the decline."""
    declined = list(
        Docking.objects.filter(state=DockingState.DECLINED)
        .select_related("demand__enterprise", "achievement", "talent")
        .order_by("-updated_at", "-pk")
    )
    notes: dict[int, list[DockingNote]] = defaultdict(list)
    for note in DockingNote.objects.filter(docking__in=declined).order_by("on", "pk"):
        notes[note.docking_id].append(note)
    facts = []
    for d in declined:
        own = notes.get(d.pk, [])
        last = next((n for n in reversed(own) if n.state == DockingState.DECLINED), None)
        before = [n for n in own if n.state != DockingState.DECLINED]
        stage = before[-1].state if before else DockingState.RECOMMENDED
        facts.append((d, last.on if last else None, stage))
    years = sorted({on.year for _, on, _ in facts if on}, reverse=True)
    if year:
        facts = [f for f in facts if f[1] and f[1].year == year]
    if field:
        facts = [f for f in facts if f[0].demand.field == field]
    total = len(facts)
    by_reason = Counter(d.decline_reason for d, _, _ in facts)
    reasons = [
        (
            code,
            label,
            by_reason.get(code, 0),
            round(100 * by_reason.get(code, 0) / total, 1) if total else 0.0,
        )
        for code, label in DeclineReason.choices
    ]
    used_fields = sorted({d.demand.field for d, _, _ in facts})
    columns = [(code, FIELD_LABELS.get(code, "未填领域")) for code in used_fields]
    cells = Counter((d.decline_reason, d.demand.field) for d, _, _ in facts)
    table = [
        (code, label, [cells.get((code, f), 0) for f in used_fields], by_reason.get(code, 0))
        for code, label in DeclineReason.choices
    ]
    field_totals = [sum(cells.get((code, f), 0) for code in REASON_LABELS) for f in used_fields]
    by_stage = Counter(stage for _, _, stage in facts)
    stages = [(s, DOCKING_LABELS[s], by_stage.get(s, 0)) for s in DOCKING_PATH[:4]]
    latest = [(d, on, DOCKING_LABELS.get(stage, stage)) for d, on, stage in facts[:recent]]
    return DeclineAnalysis(total, years, reasons, columns, table, field_totals, stages, latest)
