"""Reads of 揭榜挂帅 (challenges.py): the 榜单大厅 (public challenges: search, filter by state and field, sort,
pages), a user's own challenges, answers and review invitations, the officers' moderation queue, and a
challenge's answers with their scores (the ranking of challenges.ranking, limited to what the user may see).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from kechuang.projects import challenges
from kechuang.projects.models import Challenge, ChallengeAnswer, ChallengeReview
from kechuang.workflows import engine
from kechuang.workflows.selectors import known_states

SORTS = {
    "deadline": ("deadline", "pk"),
    "-deadline": ("-deadline", "-pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "budget": ("budget", "pk"),
    "-budget": ("-budget", "-pk"),
    "subsidy": ("subsidy_cap", "pk"),
    "-subsidy": ("-subsidy_cap", "-pk"),
    "answers": ("answer_count", "pk"),
    "-answers": ("-answer_count", "-pk"),
    "title": ("title", "pk"),
    "-title": ("-title", "-pk"),
}
HALL_DEFAULT_STATE = "published"
QUEUE_DEFAULT_STATE = "pending"


def states() -> list[tuple[str, str]]:
    """(state, label) of every published version of the challenge workflow, in the order the work goes."""
    return known_states(challenges.WORKFLOW)


def public_states() -> list[tuple[str, str]]:
    return [(s, label) for s, label in states() if s in challenges.PUBLIC_STATES]


@dataclass
class ChallengeFilters:
    q: str = ""
    field: str = ""
    state: str = ""
    sort: str = "deadline"

    @classmethod
    def from_params(cls, params, *, default_state: str = "", allowed_states=None) -> ChallengeFilters:
        """Unknown values are ignored rather than failing the page: a stale bookmark still opens. `state`
        "all" means every allowed state; empty means `default_state`."""
        allowed = dict(allowed_states if allowed_states is not None else states())
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            field=(params.get("field") or "").strip(),
            state=(params.get("state") or default_state).strip()[:40],
            sort=params.get("sort") or "deadline",
        )
        if f.field not in challenges.FIELD_LABELS:
            f.field = ""
        if f.state != "all" and f.state not in allowed:
            f.state = default_state
        if f.sort not in SORTS:
            f.sort = "deadline"
        return f

    @property
    def active(self) -> bool:
        return bool(self.q or self.field)


def _annotated(qs: QuerySet[Challenge]) -> QuerySet[Challenge]:
    return qs.select_related("poster", "workflow").annotate(
        answer_count=Count("answers", filter=Q(answers__withdrawn=False), distinct=True)
    )


def _filtered(qs: QuerySet[Challenge], filters: ChallengeFilters) -> QuerySet[Challenge]:
    if filters.q:
        q = filters.q
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(description__icontains=q)
            | Q(keywords__icontains=q)
            | Q(poster__name__icontains=q)
        )
    if filters.field:
        qs = qs.filter(field=filters.field)
    if filters.state and filters.state != "all":
        qs = qs.filter(state=filters.state)
    return qs.order_by(*SORTS[filters.sort])


def hall(filters: ChallengeFilters | None = None) -> QuerySet[Challenge]:
    """榜单大厅: the public challenges (揭榜中 by default; the later states on request), each with the number of
    answers still in."""
    filters = filters or ChallengeFilters(state=HALL_DEFAULT_STATE)
    qs = _annotated(Challenge.objects.filter(state__in=challenges.PUBLIC_STATES))
    return _filtered(qs, filters)


def queue(filters: ChallengeFilters | None = None) -> QuerySet[Challenge]:
    """The officers' list: every challenge (待审核 by default)."""
    filters = filters or ChallengeFilters(state=QUEUE_DEFAULT_STATE)
    return _filtered(_annotated(Challenge.objects.all()), filters)


def posted_by(user, filters: ChallengeFilters | None = None) -> QuerySet[Challenge]:
    """The challenges of the enterprises the user acts for, in every state (newest first unless `filters`
    say otherwise)."""
    qs = _annotated(Challenge.objects.filter(poster_id__in=challenges.member_enterprise_ids(user)))
    return _filtered(qs, filters) if filters is not None else qs.order_by("-created_at", "-pk")


def answered_by(user) -> QuerySet[ChallengeAnswer]:
    """The answers the user submitted or its enterprises gave, newest first."""
    if not getattr(user, "is_authenticated", False):
        return ChallengeAnswer.objects.none()
    ids = challenges.member_enterprise_ids(user)
    return (
        ChallengeAnswer.objects.filter(Q(submitted_by=user) | Q(enterprise_id__in=ids))
        .select_related("challenge__workflow", "challenge__poster", "enterprise")
        .order_by("-submitted_at", "-pk")
    )


def invited(user) -> QuerySet[Challenge]:
    """The challenges the user is invited to review as an expert."""
    expert = challenges.expert_of(user)
    if expert is None:
        return Challenge.objects.none()
    return _annotated(expert.challenges.all()).order_by("deadline", "pk")


def with_labels(rows):
    """Each challenge with `state_label` (its own workflow version's name for its state)."""
    rows = list(rows)
    for c in rows:
        c.state_label = engine.state_label(c)
        c.field_label = challenges.field_label(c.field) if c.field else ""
    return rows


def answer_rows(challenge: Challenge, user) -> list[challenges.RankRow]:
    """The answers the user may see with their scores: for the poster's users and officers the ranking (then
    the withdrawn answers); for anyone else (an invited expert, an answering unit) the visible answers in
    submission order with only the user's own reviews — no one else's scores."""
    visible = challenges.answers_visible_to(user, challenge)
    if challenges.may_see_all_answers(user, challenge):
        rows = challenges.ranking(challenge)
        shown = {r.answer.pk for r in rows}
        return rows + [challenges.RankRow(a) for a in visible if a.pk not in shown]
    own = my_reviews(user, challenge)
    return [challenges.RankRow(a, reviews=[own[a.pk]] if a.pk in own else []) for a in visible]


def my_reviews(user, challenge: Challenge) -> dict[int, ChallengeReview]:
    """answer id → the user's review of it."""
    if not getattr(user, "is_authenticated", False):
        return {}
    return {
        r.answer_id: r for r in ChallengeReview.objects.filter(reviewer=user, answer__challenge=challenge)
    }
