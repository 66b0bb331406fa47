"""Reads for 评审: a call's ranking, an expert's assignments, an application's reviews.

The aggregation rule (weighted totals, trimmed mean, outliers, order) is in kechuang/projects/review.py.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum

from kechuang.projects import review
from kechuang.projects.models import Application, AssignmentState, Call, Expert, ReviewAssignment
from kechuang.workflows.models import TransitionLog


@dataclass
class ExpertTotal:
    assignment_id: int
    expert_id: int
    expert_name: str
    total: Decimal
    outlier: bool = False


@dataclass(frozen=True)
class RankedApplication:
    """What the ranking shows of an application (read as plain values: the ranking reads thousands)."""

    pk: int
    title: str
    field: str
    state: str
    submitted_at: object
    enterprise_id: int
    enterprise_name: str


@dataclass
class RankRow:
    application: RankedApplication
    aggregate: review.Aggregate
    rank: int | None = None
    assigned: int = 0  # active assignments (not withdrawn)
    experts: list[ExpertTotal] = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.aggregate.n

    @property
    def outliers(self) -> list[ExpertTotal]:
        return [e for e in self.experts if e.outlier]

    @property
    def pending(self) -> int:
        return self.assigned - self.n


# The ranking is remembered per call for as long as nothing it shows has changed: its key is read from the
# call's assignments (any new, accepted, withdrawn or (re)submitted one, or a changed total, changes it) and the
# last workflow transition (an application's state). Names of experts and enterprises may lag by RANKING_SECONDS.
# Kept in the process, not in Django's cache: unpickling 2,000 rows from the cache took longer than ranking them.
RANKING_SECONDS = 60
RANKINGS_KEPT = 16
_remembered: dict[str, tuple[float, list[RankRow]]] = {}


RANK_VALUES = {  # a ranking's sortable columns: the value sorted on; None (not scored) always last
    "rank": lambda r: r.rank,
    "mean": lambda r: r.aggregate.mean,
    "n": lambda r: r.n,
    "low": lambda r: r.aggregate.low,
    "high": lambda r: r.aggregate.high,
    "spread": lambda r: r.aggregate.spread,
    "outliers": lambda r: len(r.outliers),
    "title": lambda r: r.application.title,
    "enterprise": lambda r: r.application.enterprise_name,
}


def sorted_ranking(rows: list[RankRow], sort: str) -> list[RankRow]:
    """By a column of RANK_VALUES (`-column` descending), rows without a value last either way; ties keep the
    ranking order."""
    value = RANK_VALUES[sort.lstrip("-")]
    known = [r for r in rows if value(r) is not None]
    unknown = [r for r in rows if value(r) is None]
    return sorted(known, key=value, reverse=sort.startswith("-")) + unknown


def forget_rankings() -> None:
    _remembered.clear()


def _ranking_state(call: Call) -> str:
    assignments = ReviewAssignment.objects.filter(application__call=call).aggregate(
        count=Count("pk"),
        last=Max("pk"),
        accepted=Count("pk", filter=Q(state=AssignmentState.ACCEPTED)),
        submitted=Count("pk", filter=Q(state=AssignmentState.SUBMITTED)),
        withdrawn=Count("pk", filter=Q(state=AssignmentState.WITHDRAWN)),
        last_submitted=Max("submitted_at"),
        totals=Sum("total"),
    )
    last_transition = TransitionLog.objects.aggregate(last=Max("pk"))["last"]
    state = (call.pk, *assignments.values(), last_transition)
    return hashlib.sha256(repr(state).encode()).hexdigest()


def call_ranking(call: Call) -> list[RankRow]:
    """call_ranking_now(call), remembered until an assignment, a score or a transition changes it: two small
    aggregate queries per request instead of reading every score (a call has thousands). Read-only rows."""
    key = _ranking_state(call)
    found = _remembered.get(key)
    if found is not None and time.monotonic() - found[0] < RANKING_SECONDS:
        return found[1]
    rows = call_ranking_now(call)
    while len(_remembered) >= RANKINGS_KEPT:
        _remembered.pop(next(iter(_remembered)), None)
    _remembered[key] = (time.monotonic(), rows)
    return rows


def call_ranking_now(call: Call) -> list[RankRow]:
    """The applications of the call under review or reviewed (any with an assignment, or in a review state),
    each with its submitted totals (stored with the scores) and their aggregate, ranked by review.ranking_key.
    Three queries."""
    names = dict(Expert.objects.values_list("pk", "name"))
    per_app: dict[int, list[ExpertTotal]] = defaultdict(list)
    assigned: dict[int, int] = defaultdict(int)
    for pk, app_id, expert_id, state, total in (
        ReviewAssignment.objects.filter(application__call=call, state__in=review.ACTIVE)
        .values_list("pk", "application_id", "expert_id", "state", "total")
        .order_by("pk")
    ):
        assigned[app_id] += 1
        if state == AssignmentState.SUBMITTED and total is not None:
            per_app[app_id].append(ExpertTotal(pk, expert_id, names.get(expert_id, ""), total))
    apps = (
        Application.objects.filter(call=call)
        .filter(
            Q(state__in=review.DEFAULT_STATES + ("reviewed",))
            | Q(pk__in=ReviewAssignment.objects.filter(application__call=call).values("application_id"))
        )
        .values_list("pk", "title", "field", "state", "submitted_at", "enterprise_id", "enterprise__name")
    )
    rows = []
    for values_row in apps:
        app = RankedApplication(*values_row)
        experts = per_app.get(app.pk, [])
        result = review.aggregate([e.total for e in experts])
        for expert, outlier in zip(experts, result.outliers, strict=True):
            expert.outlier = outlier
        rows.append(RankRow(app, result, None, assigned.get(app.pk, 0), experts))
    rows.sort(
        key=lambda r: review.ranking_key(r.aggregate.mean, r.application.submitted_at, r.application.pk)
    )
    for number, row in enumerate(rows, 1):
        if row.aggregate.mean is not None:
            row.rank = number
    return rows


@dataclass
class Inbox:
    assignments: list[ReviewAssignment]
    hidden: int  # withdrawn, or in conflict since assigned: not shown


def expert_assignments(expert: Expert, *, call: Call | None = None) -> Inbox:
    """The expert's assignments it may see: not withdrawn and without a conflict (an expert never sees an
    application it has a conflict with), newest call first."""
    queryset = (
        ReviewAssignment.objects.filter(expert=expert)
        .select_related("application__call", "application__enterprise")
        .order_by("-application__call__opens_at", "application__submitted_at", "pk")
    )
    if call is not None:
        queryset = queryset.filter(application__call=call)
    everything = list(queryset)
    index = review.ConflictIndex([expert], [a.application for a in everything])
    shown = [
        a
        for a in everything
        if a.state != AssignmentState.WITHDRAWN and not index.reasons(expert, a.application)
    ]
    return Inbox(shown, len(everything) - len(shown))


def expert_assignment(expert: Expert, pk) -> ReviewAssignment | None:
    """One of the expert's visible assignments (None when it is not the expert's, withdrawn or conflicted)."""
    try:
        assignment = ReviewAssignment.objects.select_related(
            "application__call", "application__enterprise", "expert"
        ).get(pk=pk, expert=expert)
    except (ReviewAssignment.DoesNotExist, ValueError, TypeError):
        return None
    if assignment.state == AssignmentState.WITHDRAWN or review.conflicts(expert, assignment.application):
        return None
    return assignment


@dataclass
class Review:
    assignment: ReviewAssignment
    scores: dict[str, Decimal]
    total: Decimal | None
    cells: list[Decimal | None] = field(default_factory=list)  # the scores in the sheet's order
    outlier: bool = False


@dataclass
class ApplicationReviews:
    application: Application
    sheet: list[review.Criterion]
    reviews: list[Review]
    aggregate: review.Aggregate


def application_reviews(application: Application) -> ApplicationReviews:
    """Every assignment of the application (withdrawn ones too, with their reason), its scores and total, and
    the aggregate of the submitted totals."""
    sheet = review.criteria(application.call)
    assignments = list(
        application.assignments.select_related("expert")
        .prefetch_related("scores")
        .order_by("expert__name", "pk")
    )
    reviews = []
    for a in assignments:
        scores = {s.criterion: s.value for s in a.scores.all()}
        total = review.weighted_total(sheet, scores) if a.state == AssignmentState.SUBMITTED else None
        reviews.append(Review(a, scores, total, [scores.get(c.key) for c in sheet]))
    scored = [r for r in reviews if r.total is not None]
    result = review.aggregate([r.total for r in scored])
    for r, outlier in zip(scored, result.outliers, strict=True):
        r.outlier = outlier
    return ApplicationReviews(application, sheet, reviews, result)


def expert_pool(*, q: str = "", field_code: str = "", include_inactive: bool = False):
    """Experts matching a search (name, organisation, keywords) and a field, with their recorded conflicts and
    active assignment count."""
    queryset = Expert.objects.all()
    if not include_inactive:
        queryset = queryset.filter(active=True)
    if q:
        queryset = queryset.filter(
            Q(name__icontains=q)
            | Q(organisation__icontains=q)
            | Q(keywords__icontains=q)
            | Q(title__icontains=q)
        )
    if field_code:
        # JSON list containment is not portable to SQLite: match the quoted code in the stored text.
        queryset = queryset.filter(fields__icontains=f'"{field_code}"')
    return (
        queryset.annotate(
            active_assignments=Count("assignments", filter=Q(assignments__state__in=review.ACTIVE))
        )
        .prefetch_related("conflicts__enterprise")
        .order_by("name", "pk")
    )
