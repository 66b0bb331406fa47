"""Reads of 政策库 and 免申即享: the library (search, filters, sorting), items, runs and their review list with
totals, and one enterprise's 可享政策 — what it holds, what it qualifies for now, and what it would qualify for
with its gaps closed (the tiering gaps of the qualifications the conditions ask for).

Search in the library is a simple case-insensitive containment (`icontains`) over a document's title, 文号, summary,
full text and its articles' titles and texts: Chinese needs no word splitting for that, and the library holds
hundreds of documents, not millions. A ranked search (jieba + BM25, kechuang/search) can replace it behind
`documents()`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear

from kechuang import rules
from kechuang.enterprises.models import Enterprise
from kechuang.policies import columns as cols
from kechuang.policies import eligibility as elig
from kechuang.policies import frame as policy_frames
from kechuang.policies.evaluate import (
    NOT_ELIGIBLE,
    Definition,
    DefinitionError,
    evaluate,
    full_explanation,
    static_explanation,
)
from kechuang.policies.models import (
    HELD_STATES,
    Article,
    Benefit,
    BenefitRun,
    BenefitState,
    DocumentStatus,
    ItemKind,
    PolicyDocument,
    PolicyFigure,
    PolicyItem,
)
from kechuang.policies.periods import Period, current
from kechuang.rules.common import MET, NOT_MET
from kechuang.tiering import selectors as tiering_selectors
from kechuang.tiering.models import AssessmentRun, ParameterSnapshot

SEARCH_NOTE = "按关键词在标题、文号、摘要、全文和条款中查找（包含即命中，不分词）"


# --- the library ---------------------------------------------------------------------------------------------

DOCUMENT_SORTS = {
    "-issued": ("-issued_on", "-pk"),
    "issued": ("issued_on", "pk"),
    "title": ("title", "pk"),
    "-title": ("-title", "-pk"),
    "issuer": ("issuer", "-issued_on", "pk"),
}


@dataclass
class DocumentFilters:
    q: str = ""
    issuer: str = ""
    status: str = ""
    year: str = ""
    sort: str = "-issued"

    @classmethod
    def from_params(cls, params) -> DocumentFilters:
        """Unknown values are ignored rather than failing the page: a stale bookmark still opens."""
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            issuer=(params.get("issuer") or "").strip()[:100],
            status=params.get("status") or "",
            year=params.get("year") or "",
            sort=params.get("sort") or "-issued",
        )
        if f.status not in DocumentStatus.values:
            f.status = ""
        if not (f.year.isdigit() and len(f.year) == 4):
            f.year = ""
        if f.sort not in DOCUMENT_SORTS:
            f.sort = "-issued"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.issuer, self.status, self.year))

    def described(self) -> list[str]:
        shown = []
        if self.q:
            shown.append(f"关键词“{self.q}”")
        if self.issuer:
            shown.append(f"发文机关：{self.issuer}")
        if self.status:
            shown.append(f"效力状态：{DocumentStatus(self.status).label}")
        if self.year:
            shown.append(f"成文年份：{self.year}")
        return shown


def search_condition(q: str) -> Q:
    """Documents whose title, 文号, summary, full text or an article holds `q` (case-insensitive)."""
    in_articles = Article.objects.filter(Q(title__icontains=q) | Q(text__icontains=q)).values("document_id")
    return (
        Q(title__icontains=q)
        | Q(number__icontains=q)
        | Q(summary__icontains=q)
        | Q(full_text__icontains=q)
        | Q(pk__in=in_articles)
    )


def documents(filters: DocumentFilters | None = None) -> QuerySet[PolicyDocument]:
    filters = filters or DocumentFilters()
    qs = PolicyDocument.objects.all()
    if filters.q:
        qs = qs.filter(search_condition(filters.q))
    if filters.issuer:
        qs = qs.filter(issuer=filters.issuer)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.year:
        qs = qs.filter(issued_on__year=int(filters.year))
    qs = qs.annotate(
        article_count=Count("articles", distinct=True),
        item_count=Count("items", filter=Q(items__state="published"), distinct=True),
    )
    if filters.q:
        qs = qs.annotate(
            hit_count=Count(
                "articles",
                filter=Q(articles__title__icontains=filters.q) | Q(articles__text__icontains=filters.q),
                distinct=True,
            )
        )
    return qs.order_by(*DOCUMENT_SORTS[filters.sort])


def issuers() -> list[str]:
    return list(PolicyDocument.objects.order_by("issuer").values_list("issuer", flat=True).distinct())


def years() -> list[int]:
    return list(
        PolicyDocument.objects.annotate(y=ExtractYear("issued_on"))
        .order_by("-y")
        .values_list("y", flat=True)
        .distinct()
    )


def matching_articles(document: PolicyDocument, q: str) -> set[int]:
    if not q:
        return set()
    return set(
        document.articles.filter(Q(title__icontains=q) | Q(text__icontains=q)).values_list("pk", flat=True)
    )


# --- items ---------------------------------------------------------------------------------------------------------

ITEM_SORTS = {
    "-effective": ("-effective_from", "-pk"),
    "effective": ("effective_from", "pk"),
    "name": ("name", "pk"),
    "kind": ("kind", "name", "pk"),
}


@dataclass
class ItemFilters:
    q: str = ""
    kind: str = ""
    state: str = ""
    sort: str = "-effective"

    @classmethod
    def from_params(cls, params) -> ItemFilters:
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            kind=params.get("kind") or "",
            state=params.get("state") or "",
            sort=params.get("sort") or "-effective",
        )
        if f.kind not in ItemKind.values:
            f.kind = ""
        if f.state not in ("draft", "published", "withdrawn"):
            f.state = ""
        if f.sort not in ITEM_SORTS:
            f.sort = "-effective"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.kind, self.state))


def items(filters: ItemFilters | None, user) -> QuerySet[PolicyItem]:
    """The items `user` may see: all for those who keep them, the published (and withdrawn) for the others."""
    filters = filters or ItemFilters()
    qs = PolicyItem.objects.select_related("document", "article", "workflow")
    if not user.has_perm("policies.change_policyitem"):
        qs = qs.exclude(state="draft")
    if filters.q:
        qs = qs.filter(
            Q(name__icontains=filters.q)
            | Q(description__icontains=filters.q)
            | Q(document__title__icontains=filters.q)
        )
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.state:
        qs = qs.filter(state=filters.state)
    return qs.order_by(*ITEM_SORTS[filters.sort])


def in_force(today: dt.date) -> QuerySet[PolicyItem]:
    """Published items in force on `today`."""
    return PolicyItem.objects.filter(state="published", effective_from__lte=today).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=today)
    )


# --- runs and their review ----------------------------------------------------------------------------------------

BENEFIT_SORTS = {
    "enterprise": ("enterprise__name", "pk"),
    "-amount": ("-amount", "enterprise__name", "pk"),
    "amount": ("amount", "enterprise__name", "pk"),
    "state": ("state", "enterprise__name", "pk"),
}


@dataclass
class BenefitFilters:
    q: str = ""
    state: str = ""
    park: str = ""
    sort: str = "enterprise"

    @classmethod
    def from_params(cls, params) -> BenefitFilters:
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            state=params.get("state") or "",
            park=params.get("park") or "",
            sort=params.get("sort") or "enterprise",
        )
        if f.state not in BenefitState.values:
            f.state = ""
        if not f.park.isdigit():
            f.park = ""
        if f.sort not in BENEFIT_SORTS:
            f.sort = "enterprise"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.state, self.park))


def scope_of(user) -> QuerySet[Enterprise] | None:
    """The enterprises `user` may see; None for the whole registry (officers, leaders)."""
    return tiering_selectors.enterprise_scope(user)


def run_benefits(run: BenefitRun, filters: BenefitFilters, user) -> QuerySet[Benefit]:
    qs = Benefit.objects.filter(run=run).select_related("enterprise__park", "run")
    scope = scope_of(user)
    if scope is not None:
        qs = qs.filter(enterprise_id__in=scope.values("pk"))
    if filters.q:
        qs = qs.filter(Q(enterprise__name__icontains=filters.q) | Q(enterprise__uscc__icontains=filters.q))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.park:
        from kechuang.enterprises.selectors import in_park

        qs = qs.filter(enterprise_id__in=in_park(Enterprise.objects.all(), filters.park).values("pk"))
    return qs.order_by(*BENEFIT_SORTS[filters.sort])


def benefit_page(qs: QuerySet[Benefit], number, per_page: int):
    """A page of a run's benefits: the page's ids found by a narrow query (sorted and counted without the
    explanations), then those rows read whole — sorting 100,000 wide rows by enterprise name took a second on
    PostgreSQL."""
    from django.core.paginator import Paginator

    page = Paginator(qs.values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    rows = Benefit.objects.select_related("enterprise__park", "run").in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids]
    return page


@dataclass
class StateTotal:
    state: str
    label: str
    count: int = 0
    amount: Decimal = Decimal(0)


def run_totals(run: BenefitRun, user) -> list[StateTotal]:
    """Per state: how many benefits of the run (in the user's scope) and their amount; every state listed."""
    totals = {state: StateTotal(state, label) for state, label in BenefitState.choices}
    qs = Benefit.objects.filter(run=run)
    scope = scope_of(user)
    if scope is not None:
        qs = qs.filter(enterprise_id__in=scope.values("pk"))
    for state, count, amount in qs.values_list("state").annotate(n=Count("pk"), s=Sum("amount")).order_by():
        totals[state].count, totals[state].amount = count, amount or Decimal(0)
    return list(totals.values())


RUN_SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "period": ("-period", "-pk"),
}


@dataclass
class RunFilters:
    q: str = ""
    status: str = ""
    state: str = ""
    period: str = ""
    sort: str = "-created"

    @classmethod
    def from_params(cls, params) -> RunFilters:
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            status=params.get("status") or "",
            state=params.get("state") or "",
            period=(params.get("period") or "").strip().upper()[:7],
            sort=params.get("sort") or "-created",
        )
        if f.status not in BenefitRun.Status.values:
            f.status = ""
        if f.state not in ("reviewing", "confirmed", "closed", "cancelled"):
            f.state = ""
        if f.sort not in RUN_SORTS:
            f.sort = "-created"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.status, self.state, self.period))


def runs(item: PolicyItem | None = None, filters: RunFilters | None = None) -> QuerySet[BenefitRun]:
    filters = filters or RunFilters()
    qs = BenefitRun.objects.select_related("item", "created_by", "workflow")
    if item is not None:
        qs = qs.filter(item=item)
    if filters.q:
        qs = qs.filter(item__name__icontains=filters.q)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.period:
        qs = qs.filter(period=filters.period)
    return qs.order_by(*RUN_SORTS[filters.sort])


def period_figures(period: Period, q: str = "") -> QuerySet[PolicyFigure]:
    """The figures recorded for a period, by enterprise name; `q` narrows to enterprises by name or code."""
    qs = PolicyFigure.objects.filter(period=period.code).select_related("enterprise")
    if q:
        qs = qs.filter(Q(enterprise__name__icontains=q) | Q(enterprise__uscc__icontains=q.upper()))
    return qs.order_by("enterprise__name", "enterprise_id", "name")


def figure_totals(period: Period) -> list[tuple[str, int, Decimal]]:
    """(figure label, enterprises, total in yuan) of the period, for each figure recorded."""
    labels = dict(cols.FIGURES)
    rows = (
        PolicyFigure.objects.filter(period=period.code)
        .values_list("name")
        .annotate(count=Count("pk"), total=Sum("value"))
        .order_by("name")
    )
    return [(labels.get(name, name), count, total) for name, count, total in rows]


def covering_assessment_run(*, on: dt.date, parameters: ParameterSnapshot) -> AssessmentRun | None:
    """The latest finished tiering run assessed on `on` with the same parameter version, if any: its stored
    results are what the engine would compute for the enterprises it assessed (the engine is a pure function of
    situation, date and parameters, docs/decisions/0003), as of when it ran."""
    return (
        AssessmentRun.objects.filter(
            status=AssessmentRun.Status.DONE, assessed_on=on, parameters_id=parameters.pk
        )
        .order_by("-finished_at", "-pk")
        .first()
    )


def payment_list(run: BenefitRun) -> QuerySet[Benefit]:
    """The benefits to pay: confirmed (awaiting the enterprise), accepted and paid, by enterprise name."""
    return (
        Benefit.objects.filter(
            run=run, state__in=[BenefitState.CONFIRMED, BenefitState.ACCEPTED, BenefitState.PAID]
        )
        .select_related("enterprise__park", "accepted_by")
        .order_by("enterprise__name", "pk")
    )


# --- one enterprise: 可享政策 ------------------------------------------------------------------------------------


@dataclass
class ItemResult:
    item: PolicyItem
    period: Period
    eligibility: str
    outcome: str
    amount: Decimal | None
    reason: str
    explanation: dict
    held: Benefit | None = None  # a benefit of this item and period the enterprise already holds
    gaps: list[tuple[str, list[str]]] = field(default_factory=list)  # (condition, what closing it takes)


@dataclass
class EnterprisePolicies:
    on: dt.date
    benefits: list[Benefit]  # confirmed, accepted, paid (and, for officers, those under review)
    qualifies: list[ItemResult]  # eligible now (with the amount, or why it cannot be computed yet)
    undetermined: list[ItemResult]  # eligibility unknown: data missing
    with_gaps: list[ItemResult]  # not eligible, but every unmet condition can be met by closing a gap
    others: int  # not eligible for a reason no gap closes (park, status …)


def enterprise_benefits(enterprise: Enterprise, *, include_review: bool) -> list[Benefit]:
    states = [BenefitState.CONFIRMED, BenefitState.ACCEPTED, BenefitState.PAID]
    if include_review:
        states.append(BenefitState.COMPUTED)
    return list(
        Benefit.objects.filter(enterprise=enterprise, state__in=states)
        .select_related("item", "run")
        .order_by("-run__created_at", "pk")
    )


def enterprise_policies(
    *, enterprise: Enterprise, today: dt.date, include_review: bool = False
) -> EnterprisePolicies:
    """What `enterprise` can have: its benefits, and every published item in force today evaluated on it for the
    current period (the same evaluation as a run, one row); for an item it does not qualify for, the gaps that
    would make it qualify — each unmet condition's shortfall, or the tiering gaps of the qualification it asks for."""
    benefits = enterprise_benefits(enterprise, include_review=include_review)
    held = {
        (b.item_id, b.period): b
        for b in Benefit.objects.filter(enterprise=enterprise, state__in=HELD_STATES).select_related("run")
    }
    items_now = list(in_force(today).select_related("document", "article").order_by("name", "pk"))
    parks, lists = policy_frames.park_tree(), policy_frames.code_lists()
    by_period: dict[str, list[PolicyItem]] = defaultdict(list)
    for item in items_now:
        by_period[current(item.period_kind, today).code].append(item)
    results: list[ItemResult] = []
    assessment = None
    for code, group in by_period.items():
        period = Period.parse(code)
        definitions = {}
        for item in group:
            try:
                definitions[item.pk] = Definition.from_dict(item.definition(), code_lists=lists)
            except DefinitionError:
                continue  # a published item whose definition no longer checks (a park renamed): not offered
        if not definitions:
            continue
        assessed = any(elig.uses_assessment(d.eligibility) for d in definitions.values())
        frame = policy_frames.policy_frame(
            enterprises=Enterprise.objects.filter(pk=enterprise.pk),
            on=today,
            period=period,
            assessed=assessed,
            columns=sorted({c for d in definitions.values() for c in d.columns}),
        )
        for item in group:
            definition = definitions.get(item.pk)
            if definition is None:
                continue
            row = evaluate(
                frame,
                definition,
                on=today,
                period=period,
                parks=parks,
                code_lists=lists,
                keep_not_eligible=True,
            ).row(0, named=True)
            static = static_explanation(definition, on=today, period=period, parks=parks, code_lists=lists)
            explanation = full_explanation(static, json.loads(row["explanation"]))
            result = ItemResult(
                item=item,
                period=period,
                eligibility=row["eligibility"],
                outcome=row["outcome"],
                amount=Decimal(int(row["amount"])) if row["amount"] is not None else None,
                reason=row["reason"] or "",
                explanation=explanation,
                held=held.get((item.pk, period.code)),
            )
            if result.outcome == NOT_ELIGIBLE:
                if assessment is None:
                    assessment = {
                        a.area: a
                        for a in tiering_selectors.enterprise_assessment(enterprise=enterprise, on=today)
                    }
                result.gaps = _gaps(definition, explanation, assessment, today)
            results.append(result)
    return EnterprisePolicies(
        on=today,
        benefits=benefits,
        qualifies=[r for r in results if r.eligibility == MET],
        undetermined=[r for r in results if r.eligibility not in (MET, NOT_MET)],
        with_gaps=[r for r in results if r.eligibility == NOT_MET and r.gaps],
        others=sum(1 for r in results if r.eligibility == NOT_MET and not r.gaps),
    )


def _gaps(
    definition: Definition, explanation: dict, assessment: dict, on: dt.date
) -> list[tuple[str, list[str]]]:
    """(condition, gaps) for every unmet condition, or [] when one of them cannot be met by closing a gap."""
    raw = [elig.IN_BUSINESS, *definition.eligibility]
    found = []
    for condition, shown in zip(raw, explanation["conditions"], strict=True):
        if shown["status"] != NOT_MET:
            continue
        gaps = _condition_gaps(condition, shown, assessment, on)
        if gaps is None:
            return []
        found.append((shown["label"], gaps))
    return found


def _condition_gaps(condition: dict, shown: dict, assessment: dict, on: dt.date) -> list[str] | None:
    kind = condition["kind"]
    if kind == "qualification":
        name = cols.QUALIFICATION_KINDS[condition["qualification"]]
        area = cols.AREA_OF_KIND.get(condition["qualification"])
        if condition.get("test", "held") == "new":
            head = f"于兑现期间内取得{name}认定"
        else:
            head = f"取得有效的{name}证书"
        return [head, *_area_gaps(area, assessment)]
    if kind == "assessed":
        return [f"达到{rules.NAMES[condition['area']]}条件", *_area_gaps(condition["area"], assessment)]
    if kind == "compare":
        column = cols.COLUMNS[condition["column"]]
        if not column.numeric or condition["op"] not in (">=", ">"):
            return None
        return [f"{column.label_on(on)}：现为 {shown['value']}，需 {shown['requirement']}"]
    # Any of several: the first alternative a tiering gap can close (a comparison inside "any" has no value of
    # its own in the explanation, so it is not offered).
    for inner in condition["conditions"]:
        if inner["kind"] in ("qualification", "assessed"):
            return _condition_gaps(inner, shown, assessment, on)
    return None


def _area_gaps(area: str | None, assessment: dict) -> list[str]:
    result = assessment.get(area) if area else None
    if result is None:
        return []
    if result.status == MET:
        return [f"按梯度评价已满足{result.label}条件，可申请认定"]
    return result.gaps or [f"{result.label}：{result.status_label}（详见梯度评估）"]


def held_elsewhere(item: PolicyItem, period: str) -> QuerySet[Benefit]:
    return Benefit.objects.filter(item=item, period=period, state__in=HELD_STATES)


def item_run_summary(item: PolicyItem) -> dict[str, Any]:
    """Per period: the amount held (computed, confirmed, accepted, paid) against the budget."""
    rows = (
        Benefit.objects.filter(item=item, state__in=HELD_STATES)
        .values("period")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("-period")
    )
    return {row["period"]: row for row in rows}
