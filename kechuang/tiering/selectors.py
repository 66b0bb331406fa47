"""Reads of tiering: one enterprise's live assessment (through the same situation frame as the batch), the
ladder of a run (counts per rung, highest rungs, tables, moves since last year) and the cultivation pools.

Everything read from a run is aggregated in the database: a run holds one row per enterprise and
qualification (1.3 million rows at 100,000 enterprises), so no read here goes enterprise by enterprise.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from django.core.paginator import Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from kechuang import rules
from kechuang.enterprises.choices import HitechField, QualificationKind
from kechuang.enterprises.models import Enterprise, Park, Qualification
from kechuang.enterprises.selectors import RegistryFilters, in_park, search_condition
from kechuang.rules import parameters
from kechuang.rules.common import Explanation
from kechuang.tiering.models import AssessedSituation, Assessment, AssessmentRun, AssessmentStatus
from kechuang.tiering.services import parameter_set, replay
from kechuang.tiering.situation import situation_frame


@dataclass
class AreaResult:
    area: str
    label: str
    status: str
    status_label: str
    score_min: int | None
    score_max: int | None
    conditions: list[Explanation]
    score_items: list[Explanation]
    gaps: list[str]

    @property
    def unconfirmed(self) -> bool:
        return any(item.unconfirmed for item in (*self.conditions, *self.score_items))


def enterprise_assessment(*, enterprise: Enterprise, on: date) -> list[AreaResult]:
    """Every qualification of one enterprise on `on`, computed live: a one-row situation frame from the
    registry through the same engine call as the whole population."""
    frame = situation_frame(enterprises=Enterprise.objects.filter(pk=enterprise.pk), on=on)
    with parameters.using(parameter_set()):
        row = rules.evaluate(frame, on).row(0, named=True)
        report = rules.explain(row, on)
    return area_results(report)


def area_results(report: rules.Assessment) -> list[AreaResult]:
    """One enterprise's assessment as shown on its page: per qualification, ladder order."""
    row = report.row
    results = []
    for area, column in rules.RESULT_COLUMN.items():
        items = report.explanations[area]
        results.append(
            AreaResult(
                area=area,
                label=rules.NAMES[area],
                status=report.statuses[area],
                status_label=AssessmentStatus(report.statuses[area]).label,
                score_min=row.get(f"{column}_score_min"),
                score_max=row.get(f"{column}_score_max"),
                conditions=[item for item in items if item.kind == "condition"],
                score_items=[item for item in items if item.kind == "score"],
                gaps=report.gaps(area),
            )
        )
    return results


# --- the ladder ------------------------------------------------------------------------------------------

# The rungs of 梯度培育, lowest first. Only those whose rules module is registered are shown.
LADDER = (
    "tech_sme",
    "innovative_sme",
    "hnte",
    "sh_tech_giant_cultivation",
    "sh_tech_giant",
    "srdi",
    "little_giant",
    "potential_gazelle",
    "gazelle",
    "potential_unicorn",
    "unicorn",
)
# Pools beside the ladder (种子选手, 隐形冠军储备库): assessed like the rungs, but not steps of it.
POOL_AREAS = ("seed", "hidden_champion")

# The certificate (Qualification.kind) that holding a rung means.
HELD_KIND = {
    "tech_sme": QualificationKind.TECH_SME,
    "innovative_sme": QualificationKind.INNOVATIVE_SME,
    "hnte": QualificationKind.HNTE,
    "srdi": QualificationKind.SPECIALISED_SME,
    "little_giant": QualificationKind.LITTLE_GIANT,
    "sh_tech_giant": QualificationKind.SH_TECH_GIANT,
    "sh_tech_giant_cultivation": QualificationKind.SH_TECH_GIANT_CULTIVATION,
    "potential_gazelle": QualificationKind.POTENTIAL_GAZELLE,
    "gazelle": QualificationKind.GAZELLE,
    "potential_unicorn": QualificationKind.POTENTIAL_UNICORN,
    "unicorn": QualificationKind.UNICORN,
}
AREA_OF_KIND = {kind: area for area, kind in HELD_KIND.items()}

NO_RUNG = "未达梯度"  # an enterprise meeting no rung


def rungs() -> list[str]:
    """The ladder's rungs that the rules engine assesses, lowest first."""
    return [area for area in LADDER if area in rules.QUALIFICATIONS]


def rung_label(area: str | None) -> str:
    return rules.NAMES.get(area, area) if area else NO_RUNG


def done_runs() -> QuerySet[AssessmentRun]:
    """Finished runs, the latest assessment date first (then the latest started)."""
    return AssessmentRun.objects.filter(status=AssessmentRun.Status.DONE).order_by(
        "-assessed_on", "-created_at"
    )


def run_shown(run_id) -> AssessmentRun | None:
    """The done run `run_id` (from ?run=), else the latest done run; None when there is none."""
    runs = done_runs().select_related("parameters", "created_by")
    if run_id and str(run_id).isdigit():
        run = runs.filter(pk=int(run_id)).first()
        if run is not None:
            return run
    return runs.first()


def previous_year_run(run: AssessmentRun) -> AssessmentRun | None:
    """The latest done run assessed in the calendar year before `run`'s: what the moves compare with."""
    return done_runs().filter(assessed_on__year=run.assessed_on.year - 1).first()


def enterprise_scope(user, *, park: str = "") -> QuerySet[Enterprise] | None:
    """The enterprises `user` may see (in `park` and its sub-parks, if given). None when that is the whole
    registry, so that a count over a run's results needs no filter."""
    if (
        not park
        and user.has_perm("enterprises.view_enterprise")
        and user.has_perm("enterprises.view_all_enterprises")
    ):
        return None
    qs = Enterprise.objects.visible_to(user)
    return in_park(qs, park) if park else qs


def _scoped(qs: QuerySet, scope: QuerySet[Enterprise] | None) -> QuerySet:
    return qs if scope is None else qs.filter(enterprise_id__in=scope.values("pk"))


@dataclass
class RungCount:
    area: str
    label: str
    kind: str  # the certificate that holding the rung means
    met: int = 0  # 满足
    unknown: int = 0  # 待定
    held: int = 0  # 持有 a valid certificate on the run date
    met_held: int = 0  # meets it and holds it

    @property
    def met_not_held(self) -> int:
        """满足但未持有: candidates to apply."""
        return self.met - self.met_held


def rung_counts(
    *, run: AssessmentRun, scope: QuerySet[Enterprise] | None, met: dict[str, int] | None = None
) -> list[RungCount]:
    """Per rung: how many enterprises of the run (in scope) meet it, are unknown, hold its certificate on the
    run's date, and meet it without holding it. Three grouped queries whatever the registry's size (the
    first counts only the unknown when the met counts are given)."""
    areas = rungs()
    counts = {area: RungCount(area, rules.NAMES[area], HELD_KIND[area]) for area in areas}
    results = _scoped(Assessment.objects.filter(run=run, area__in=areas), scope)
    statuses = (
        [AssessmentStatus.UNKNOWN] if met is not None else [AssessmentStatus.MET, AssessmentStatus.UNKNOWN]
    )
    for area, status, n in (
        results.filter(status__in=statuses).values_list("area", "status").annotate(n=Count("*")).order_by()
    ):
        setattr(counts[area], "met" if status == AssessmentStatus.MET else "unknown", n)
    for area, n in (met or {}).items():
        counts[area].met = n
    valid = Qualification.objects.valid_on(run.assessed_on)
    in_run = _scoped(AssessedSituation.objects.filter(run=run), scope).values("enterprise_id")
    by_kind = {counts[area].kind: counts[area] for area in areas}
    for kind, n in (
        valid.filter(kind__in=list(by_kind), enterprise_id__in=in_run)
        .values_list("kind")
        .annotate(n=Count("enterprise_id", distinct=True))
        .order_by()
    ):
        by_kind[kind].held = n
    kind_of_area = Case(
        *[When(area=area, then=Value(str(counts[area].kind))) for area in areas], output_field=CharField()
    )
    held = valid.filter(enterprise_id=OuterRef("enterprise_id"), kind=OuterRef("held_kind"))
    for area, n in (
        results.filter(status=AssessmentStatus.MET)
        .annotate(held_kind=kind_of_area)
        .filter(Exists(held))
        .values_list("area")
        .annotate(n=Count("*"))
        .order_by()
    ):
        counts[area].met_held = n
    return [counts[area] for area in areas]


def met_rows(*, run: AssessmentRun, scope: QuerySet[Enterprise] | None) -> list[tuple[int, str]]:
    """(enterprise id, rung) of every rung met in the run by an enterprise in scope: the one kind of row the
    ladder pulls (a met row is one of a few per enterprise; grouping them in the database instead spills
    to disk on PostgreSQL's default work_mem at 100,000 enterprises, and reads the table twice on SQLite)."""
    met = Assessment.objects.filter(run=run, area__in=rungs(), status=AssessmentStatus.MET)
    return list(_scoped(met, scope).values_list("enterprise_id", "area"))


def highest_rungs(pairs: list[tuple[int, str]]) -> dict[int, int]:
    """enterprise id → index in rungs() of the highest rung it meets, from met_rows."""
    position = {area: i for i, area in enumerate(rungs())}
    tops: dict[int, int] = {}
    for enterprise_id, area in pairs:
        if tops.get(enterprise_id, -1) < position[area]:
            tops[enterprise_id] = position[area]
    return tops


@dataclass
class Bar:
    area: str | None
    label: str
    count: int


@dataclass
class TableRow:
    key: str | int | None
    label: str
    assessed: int
    met: list[int]  # per rung, in ladder order
    indent: bool = False


@dataclass
class Mover:
    enterprise_id: int
    before: str | None  # highest rung met in the compared run (None: none)
    after: str | None
    direction: str  # up / down / new
    enterprise: Enterprise | None = None

    @property
    def before_label(self) -> str:
        return "未参评" if self.direction == "new" else rung_label(self.before)

    @property
    def after_label(self) -> str:
        return rung_label(self.after)


MOVE_LABELS = {"up": "上升", "down": "下降", "new": "新参评"}


@dataclass
class Moves:
    previous: AssessmentRun
    up: int = 0
    down: int = 0
    same: int = 0
    new: int = 0  # assessed now, not in the compared run
    left: int = 0  # in the compared run, no longer assessed (or out of scope)
    # (order, enterprise id, rung before, rung after, direction), rungs as indexes in rungs() (-1: none; None:
    # not assessed), sorted: up (largest rise first), down (largest fall first), new (highest rung first).
    # Kept as tuples: Mover objects are made for the page shown only.
    movers: list[tuple] = field(default_factory=list)


@dataclass
class Ladder:
    run: AssessmentRun
    rungs: list[RungCount]
    assessed: int  # enterprises of the run in scope
    distribution: list[Bar]
    by_park: list[TableRow]
    by_field: list[TableRow]
    previous: AssessmentRun | None
    moves: Moves | None


def ladder(*, run: AssessmentRun, user, park: str = "") -> Ladder:
    """The 梯度 page of one run for one user (optionally one park): counts per rung, the distribution of
    each enterprise's highest rung, tables by park and by 高新技术领域, and the moves since last year.
    Aggregated in the database; the only rows pulled are (enterprise, rung) of the rungs met in this run
    and the compared one and, for the moves, the ids of the two runs' enterprises."""
    scope = enterprise_scope(user, park=park)
    areas = rungs()
    pairs = met_rows(run=run, scope=scope)
    tops = highest_rungs(pairs)
    by_park, by_field = _tables(run, scope, areas)
    assessed = sum(row.assessed for row in by_park)
    per_top = Counter(tops.values())
    distribution = [Bar(None, NO_RUNG, assessed - len(tops))] + [
        Bar(area, rules.NAMES[area], per_top.get(i, 0)) for i, area in enumerate(areas)
    ]
    previous = previous_year_run(run)
    moves = _moves(run, previous, scope, tops) if previous else None
    return Ladder(
        run=run,
        rungs=rung_counts(run=run, scope=scope, met=Counter(area for _, area in pairs)),
        assessed=assessed,
        distribution=distribution,
        by_park=by_park,
        by_field=by_field,
        previous=previous,
        moves=moves,
    )


def _tables(run: AssessmentRun, scope, areas: list[str]) -> tuple[list[TableRow], list[TableRow]]:
    """Enterprises assessed and meeting each rung, by park and by field: two grouped queries (by park and
    field together), folded into the two tables."""
    position = {area: i for i, area in enumerate(areas)}
    situations = _scoped(AssessedSituation.objects.filter(run=run), scope)
    met = _scoped(Assessment.objects.filter(run=run, area__in=areas, status=AssessmentStatus.MET), scope)
    parks: dict = {}
    fields: dict = {}

    def row(table: dict, key) -> TableRow:
        return table.setdefault(key, TableRow(key, "", 0, [0] * len(areas)))

    columns = ("enterprise__park_id", "enterprise__hitech_field")
    for park_id, hitech_field, n in situations.values_list(*columns).annotate(n=Count("*")).order_by():
        row(parks, park_id).assessed += n
        row(fields, hitech_field).assessed += n
    for park_id, hitech_field, area, n in met.values_list(*columns, "area").annotate(n=Count("*")).order_by():
        row(parks, park_id).met[position[area]] += n
        row(fields, hitech_field).met[position[area]] += n
    park_rows = []
    for park in Park.objects.filter(pk__in=[k for k in parks if k is not None]).order_by("parent_id", "name"):
        parks[park.pk].label, parks[park.pk].indent = park.name, park.parent_id is not None
        park_rows.append(parks[park.pk])
    if None in parks:
        parks[None].label = "未填园区"
        park_rows.append(parks[None])
    field_rows = []
    for value, label in [*HitechField.choices, ("", "未填领域")]:
        if value in fields:
            fields[value].label = label
            field_rows.append(fields[value])
    return park_rows, field_rows


def _moves(run, previous, scope, tops: dict[int, int]) -> Moves:
    before_tops = highest_rungs(met_rows(run=previous, scope=scope))
    now_ids = set(
        _scoped(AssessedSituation.objects.filter(run=run), scope).values_list("enterprise_id", flat=True)
    )
    before_ids = set(
        _scoped(AssessedSituation.objects.filter(run=previous), scope).values_list("enterprise_id", flat=True)
    )
    moves = Moves(previous=previous, left=len(before_ids - now_ids))
    movers = []
    for enterprise_id in now_ids:
        after = tops.get(enterprise_id, -1)
        if enterprise_id not in before_ids:
            moves.new += 1
            movers.append(((2, -after, enterprise_id), enterprise_id, None, after, "new"))
            continue
        before = before_tops.get(enterprise_id, -1)
        if after > before:
            moves.up += 1
            movers.append(((0, before - after, enterprise_id), enterprise_id, before, after, "up"))
        elif after < before:
            moves.down += 1
            movers.append(((1, after - before, enterprise_id), enterprise_id, before, after, "down"))
        else:
            moves.same += 1
    movers.sort()
    moves.movers = movers
    return moves


def movers_page(moves: Moves, number, *, direction: str = "", per_page: int = 50):
    """One page of the movers (optionally of one direction) as Mover objects, their enterprises fetched in
    one query."""
    movers = [m for m in moves.movers if m[4] == direction] if direction else moves.movers
    page = Paginator(movers, per_page).get_page(number)
    areas = rungs()

    def area(i):
        return None if i is None or i < 0 else areas[i]

    page.object_list = [Mover(e, area(before), area(after), d) for _, e, before, after, d in page.object_list]
    enterprises = Enterprise.objects.select_related("park").in_bulk(
        [m.enterprise_id for m in page.object_list]
    )
    for mover in page.object_list:
        mover.enterprise = enterprises.get(mover.enterprise_id)
    return page


def runs_list() -> QuerySet[AssessmentRun]:
    return AssessmentRun.objects.select_related("created_by").order_by("-created_at", "-pk")


# --- cultivation pools --------------------------------------------------------------------------------------

POOL_PAGE_SIZE = 50
EXPIRING_MONTHS = (6, 1, 36)  # default, least, most


@dataclass(frozen=True)
class Pool:
    key: str
    title: str
    summary: str
    area: str | None  # the run's qualification it lists; None for a pool read live from the registry
    sorts: tuple[tuple[str, str], ...]  # (key, label); the first is the default
    gaps_area: str | None = None  # rows whose gaps (report.gaps) are shown, replayed from the run

    @property
    def configured(self) -> bool:
        return self.area is None or self.area in rules.QUALIFICATIONS

    @property
    def live(self) -> bool:
        return self.area is None


_BY_NAME = (("name", "企业名称"), ("-name", "企业名称（倒序）"), ("park", "园区"))
POOLS = {
    pool.key: pool
    for pool in (
        Pool(
            "hnte-cultivation",
            "高企培育库",
            "高新技术企业认定尚未满足或待定、评价日期未持有有效高企证书的企业，按差距由小到大排列"
            "（不满足的条件最少者在前，其次待定条件最少，再次评分上限最高）。",
            "hnte",
            (("closest", "差距最小"), ("-score", "评分上限最高"), *_BY_NAME),
            gaps_area="hnte",
        ),
        Pool(
            "tech-sme-candidates",
            "科技型中小企业入库候选",
            "满足科技型中小企业评价条件、评价日期未持有有效入库登记编号的企业；其后列出没有不满足条件、"
            "只有待定条件的企业（第二梯队，补齐数据或确认后即可能满足）。",
            "tech_sme",
            (("tier", "梯队"), ("-score", "评分上限最高"), *_BY_NAME),
            gaps_area="tech_sme",
        ),
        Pool(
            "expiring",
            "资质到期提醒",
            "今天有效、将在所选月数内到期的资质证书（同类资质已有到期更晚的有效证书的企业不列入），按到期日排列，"
            "并给出企业在所选评估批次中是否满足重新申请的条件。",
            None,
            (("expiry", "到期日"), ("-expiry", "到期日（倒序）"), *_BY_NAME),
        ),
        Pool(
            "seed",
            "种子选手",
            "满足种子选手遴选条件的企业。",
            "seed",
            (*_BY_NAME, ("-registration", "成立日期（最近在前）")),
        ),
        Pool(
            "hidden-champion",
            "隐形冠军储备库",
            "满足隐形冠军储备条件的企业。",
            "hidden_champion",
            (*_BY_NAME, ("-registration", "成立日期（最近在前）")),
        ),
    )
}

_ORDERS = {
    "closest": (
        "unmet",
        "unknown",
        F("score_max").desc(nulls_last=True),
        "enterprise__name",
        "enterprise_id",
    ),
    "tier": ("tier", "enterprise__name", "enterprise_id"),
    "-score": (F("score_max").desc(nulls_last=True), "unmet", "enterprise__name", "enterprise_id"),
    "name": ("enterprise__name", "enterprise_id"),
    "-name": ("-enterprise__name", "-enterprise_id"),
    "park": ("enterprise__park__name", "enterprise__name", "enterprise_id"),
    "-registration": (
        F("enterprise__registration_date").desc(nulls_last=True),
        "enterprise__name",
        "enterprise_id",
    ),
    "expiry": ("expiry_date", "enterprise__name", "pk"),
    "-expiry": ("-expiry_date", "enterprise__name", "pk"),
}


@dataclass
class PoolFilters:
    q: str = ""
    park: str = ""
    industry: str = ""
    hitech_field: str = ""
    sort: str = ""
    months: int = EXPIRING_MONTHS[0]
    kind: str = QualificationKind.HNTE

    @classmethod
    def from_params(cls, params, pool: Pool) -> PoolFilters:
        """Like RegistryFilters: unknown values fall back to the default, a stale bookmark still opens."""
        base = RegistryFilters.from_params(params)
        sorts = [key for key, _ in pool.sorts]
        sort = params.get("sort") or ""
        try:
            months = int(params.get("months") or EXPIRING_MONTHS[0])
        except ValueError:
            months = EXPIRING_MONTHS[0]
        kind = params.get("kind") or QualificationKind.HNTE
        return cls(
            q=base.q,
            park=base.park,
            industry=base.industry,
            hitech_field=base.hitech_field,
            sort=sort if sort in sorts else sorts[0],
            months=min(max(months, EXPIRING_MONTHS[1]), EXPIRING_MONTHS[2]),
            kind=kind if kind in QualificationKind.values else QualificationKind.HNTE,
        )

    @property
    def active(self) -> bool:
        return any((self.q, self.park, self.industry, self.hitech_field))


def _filtered_enterprises(user, filters: PoolFilters) -> QuerySet[Enterprise] | None:
    scope = enterprise_scope(user, park=filters.park)
    if not (filters.q or filters.industry or filters.hitech_field):
        return scope
    qs = Enterprise.objects.all() if scope is None else scope
    if filters.q:
        qs = qs.filter(search_condition(filters.q))
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.hitech_field:
        qs = qs.filter(hitech_field=filters.hitech_field)
    return qs


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it has no such day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def pool_queryset(pool: Pool, *, run: AssessmentRun | None, user, filters: PoolFilters) -> QuerySet:
    """The pool's rows for `user`, filtered and sorted: Assessment rows of `run` (Qualification rows for the
    live expiring pool). An empty queryset when the pool needs a run and there is none."""
    enterprises = _filtered_enterprises(user, filters)
    if pool.live:
        return _scoped(_expiring(run, filters), enterprises).order_by(*_ORDERS[filters.sort])
    if run is None or not pool.configured:
        return Assessment.objects.none()
    qs = Assessment.objects.filter(run=run, area=pool.area)
    held_kind = HELD_KIND.get(pool.area)
    if held_kind:
        held = Qualification.objects.valid_on(run.assessed_on).filter(
            kind=held_kind, enterprise_id=OuterRef("enterprise_id")
        )
        qs = qs.filter(~Exists(held))
    if pool.key == "hnte-cultivation":
        qs = qs.filter(status__in=[AssessmentStatus.NOT_MET, AssessmentStatus.UNKNOWN])
    elif pool.key == "tech-sme-candidates":
        qs = qs.filter(Q(status=AssessmentStatus.MET) | Q(status=AssessmentStatus.UNKNOWN, unmet=0))
        qs = qs.annotate(tier=Case(When(status=AssessmentStatus.MET, then=Value(1)), default=Value(2)))
    else:
        qs = qs.filter(status=AssessmentStatus.MET)
    order = _ORDERS[filters.sort]
    if pool.key == "tech-sme-candidates" and order[0] != "tier":
        order = ("tier", *order)  # the second tier always after the first
    return _scoped(qs, enterprises).select_related("enterprise__park").order_by(*order)


def _expiring(run: AssessmentRun | None, filters: PoolFilters) -> QuerySet[Qualification]:
    today = timezone.localdate()
    until = add_months(today, filters.months)
    valid = Qualification.objects.valid_on(today).filter(kind=filters.kind)
    renewed = valid.filter(enterprise_id=OuterRef("enterprise_id")).filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gt=until)
    )
    qs = valid.filter(expiry_date__lte=until).filter(~Exists(renewed)).select_related("enterprise__park")
    area = AREA_OF_KIND.get(filters.kind)
    if run is not None and area in rules.QUALIFICATIONS:
        status = Assessment.objects.filter(run=run, area=area, enterprise_id=OuterRef("enterprise_id"))
        qs = qs.annotate(reapply=Subquery(status.values("status")[:1]))
    return qs


def pool_page(pool: Pool, qs: QuerySet, number, *, run: AssessmentRun | None, with_rule: bool = False):
    """One page (50 rows) of a pool. Where the pool shows gaps, the page's rows are replayed from the run
    (row.gaps: the unmet or unknown conditions with what is missing). With `with_rule`, page.rule holds the
    conditions the pool lists by (label, requirement, source) as the run's parameters state them: the
    explanation of the first row (else of any enterprise of the run: the requirements are the same for
    every enterprise). One replay for the whole page: a replay reads the run's parameter files."""
    page = Paginator(qs, POOL_PAGE_SIZE).get_page(number)
    page.object_list = rows = list(page.object_list)
    page.rule = []
    if pool.live or run is None or not pool.configured:
        return page
    wanted = (
        {row.enterprise_id for row in rows if row.status != AssessmentStatus.MET} if pool.gaps_area else set()
    )
    sample = None
    if with_rule:
        situations = AssessedSituation.objects.filter(run=run).order_by("pk")
        sample = rows[0].enterprise_id if rows else situations.values_list("enterprise_id", flat=True).first()
        if sample is not None:
            wanted.add(sample)
    reports = _replay(run, wanted)
    if pool.gaps_area:
        _attach_gaps(pool, rows, reports)
    if sample in reports:
        page.rule = [
            item for item in reports[sample].explanations.get(pool.area, []) if item.kind == "condition"
        ]
    return page


def _replay(run: AssessmentRun, enterprise_ids: set[int]) -> dict:
    if not enterprise_ids:
        return {}
    return replay(
        run=run, situations=list(AssessedSituation.objects.filter(run=run, enterprise_id__in=enterprise_ids))
    )


def _attach_gaps(pool: Pool, rows: list, reports: dict) -> None:
    for row in rows:
        report = reports.get(row.enterprise_id)
        row.gaps = report.gaps(pool.gaps_area) if report and row.status != AssessmentStatus.MET else []


def assessed_count(*, run: AssessmentRun, scope: QuerySet[Enterprise] | None) -> int:
    """How many enterprises of `scope` the run assessed."""
    return _scoped(AssessedSituation.objects.filter(run=run), scope).count()
