"""Reads: an indicator's values over time (documents, observations, the registry) and each target's progress.

Progress rule (shown on the dashboard as written here):
- 完成度 = (latest − baseline) ÷ (target − baseline).
- The trend is the growth achieved from the baseline to the latest value: compound annual growth for levels
  (counts, amounts), a straight line for ratios and rates (unit %) and wherever a value is ≤ 0. The forecast
  carries that trend on to the target year; the growth needed is what the remaining years must achieve.
- Status: 已达成 when the latest value meets the target; 正常 (on track) when the forecast meets it;
  预警 (at risk) when the forecast reaches at least 90% of the planned change from the baseline;
  滞后 (off track) otherwise, and whenever the target year has ended without the target met;
  无数据 when there is no value after the baseline.
A "decrease" indicator mirrors all of this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from kechuang.enterprises.models import Park
from kechuang.indicators.computed import COMPUTED, cached
from kechuang.indicators.models import DocumentedFigure, FigureKind, Indicator, Observation, Target

AT_RISK_SHARE = 0.9  # the forecast must cover this much of the planned change not to be 滞后

ON_TRACK, AT_RISK, OFF_TRACK, ACHIEVED, NO_DATA = "on_track", "at_risk", "off_track", "achieved", "no_data"
STATUS_TEXT = {ACHIEVED: "已达成", ON_TRACK: "正常", AT_RISK: "预警", OFF_TRACK: "滞后", NO_DATA: "无数据"}
STATUS_RANK = {ACHIEVED: 0, ON_TRACK: 0, NO_DATA: 0, AT_RISK: 1, OFF_TRACK: 2}  # how far it has slipped


@dataclass(frozen=True)
class Point:
    """One value of an indicator: for a year (its end), or live from the registry on a date."""

    year: int
    value: float
    source: str  # document / observation / registry
    label: str  # where it comes from, in Chinese
    on: dt.date | None = None  # the registry's date, for a live value

    @property
    def time(self) -> float:
        """Position on the time axis in years: a year's value stands at its end; a live value at its date."""
        if self.on is None:
            return float(self.year)
        start = dt.date(self.on.year, 1, 1)
        days = (dt.date(self.on.year + 1, 1, 1) - start).days
        return self.on.year - 1 + ((self.on - start).days + 1) / days


def park_ids(park: Park | None) -> list[int] | None:
    return park.with_descendants() if park is not None else None


def documented(indicator: Indicator) -> list[DocumentedFigure]:
    return list(indicator.figures.order_by("year", "kind", "document"))


def registry_values(
    indicator: Indicator, years: Iterable[int], today: dt.date, park: Park | None = None
) -> list[Point]:
    """A computed indicator on 31 December of each past year, and on `today` for the current year."""
    computed = COMPUTED[indicator.computed]
    dates = [dt.date(year, 12, 31) if year < today.year else today for year in years if year <= today.year]
    values = computed.values(dates, park_ids(park))
    return [
        Point(
            on.year,
            float(values[on]),
            "registry",
            f"{computed.source_name}实时计算"
            if on == today
            else f"{computed.source_name}（{on.isoformat()}）",
            on,
        )
        for on in dates
    ]


def series(
    indicator: Indicator, today: dt.date | None = None, park: Park | None = None, since: int | None = None
) -> list[Point]:
    """The indicator's values, one per year (see series_many)."""
    return series_many([indicator], today, {indicator.pk: since} if since is not None else None, park)[
        indicator.pk
    ]


@dataclass(frozen=True)
class Progress:
    target: Target
    latest: Point | None
    share: float | None  # 完成度: fraction of the planned change achieved
    achieved_rate: (
        float | None
    )  # growth per year achieved since the baseline (fraction; absolute per year when linear)
    needed_rate: float | None  # growth per year the remaining years need
    forecast: float | None  # the trend carried on to the target year
    compound: bool  # growth rates are compound (levels) or absolute per year (ratios, rates)
    status: str
    reason: str  # the status in words, with the numbers

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]


def progress(target: Target, today: dt.date | None = None, points: list[Point] | None = None) -> Progress:
    today = today or timezone.localdate()
    indicator = target.indicator
    if points is None:
        points = series(indicator, today, target.park, since=target.baseline_year)
    baseline, goal = float(target.baseline_value), float(target.value)
    later = [p for p in points if p.year > target.baseline_year and p.year <= target.year]
    if not later:
        later = [
            p for p in points if p.year > target.year
        ]  # only values after the target year: judge by those
    sign = -1.0 if indicator.direction == "decrease" else 1.0
    compound = indicator.unit != "%" and baseline > 0
    if not later:
        return Progress(
            target,
            None,
            None,
            None,
            None,
            None,
            compound,
            NO_DATA,
            f"{target.baseline_year} 年基期之后暂无数据",
        )
    latest = later[-1]
    value = latest.value
    change = goal - baseline
    share = (value - baseline) / change if change else None
    remaining = target.year - latest.time
    elapsed = latest.time - target.baseline_year
    compound = compound and value > 0
    if compound:
        achieved_rate = (value / baseline) ** (1 / elapsed) - 1 if elapsed > 0 else None
        needed_rate = (goal / value) ** (1 / remaining) - 1 if remaining > 0 else None
        forecast = value * (1 + achieved_rate) ** max(remaining, 0) if achieved_rate is not None else None
    else:
        achieved_rate = (value - baseline) / elapsed if elapsed > 0 else None
        needed_rate = (goal - value) / remaining if remaining > 0 else None
        forecast = value + achieved_rate * max(remaining, 0) if achieved_rate is not None else None
    if forecast is not None:
        forecast = round(forecast, 9)  # float noise must not move a forecast that meets the target exactly
    unit = indicator.unit
    if sign * (value - goal) >= 0:
        status, reason = (
            ACHIEVED,
            f"最新值 {_num(value)}{unit}（{latest.year}年）已达到目标 {_num(goal)}{unit}",
        )
    elif today > dt.date(target.year, 12, 31):
        status, reason = (
            OFF_TRACK,
            f"目标年 {target.year} 已过，最新值 {_num(value)}{unit} 未达目标 {_num(goal)}{unit}",
        )
    elif forecast is None:
        status, reason = NO_DATA, "基期与最新值同期，无法推算趋势"
    elif sign * (forecast - goal) >= 0:
        status, reason = (
            ON_TRACK,
            f"按现有趋势 {target.year} 年可达 {_num(forecast)}{unit}，不低于目标 {_num(goal)}{unit}",
        )
    elif change and (forecast - baseline) / change >= AT_RISK_SHARE:
        status, reason = (
            AT_RISK,
            (
                f"按现有趋势 {target.year} 年约 {_num(forecast)}{unit}，完成计划增量的 {(forecast - baseline) / change:.0%}"
                f"（不足 100%，但不低于 {AT_RISK_SHARE:.0%}）"
            ),
        )
    else:
        status, reason = (
            OFF_TRACK,
            f"按现有趋势 {target.year} 年约 {_num(forecast)}{unit}，不足计划增量的 {AT_RISK_SHARE:.0%}",
        )
    return Progress(target, latest, share, achieved_rate, needed_rate, forecast, compound, status, reason)


def _num(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def targets() -> QuerySet[Target]:
    """The targets the documents set (not the parts officers split them into), by year and indicator."""
    return (
        Target.objects.filter(parent__isnull=True)
        .select_related("indicator", "figure")
        .order_by("year", "indicator__order")
    )


# --- the monitoring pages (dashboard, indicator page, drill-down) ----------------------------------------------

RULE_LINES = (
    "完成度 =（最新值 − 基期值）÷（目标值 − 基期值）。",
    "已实现增长：从基期到最新值的年均增长。总量指标（个数、金额）按年均复合增长率计；"
    "比率指标（单位为 %）及数值 ≤ 0 时按每年增加的绝对量（直线）计。",
    "推算值：按已实现的增长延续到目标年；所需增长：剩余年份为达到目标每年须实现的增长。",
    f"已达成：最新值达到目标。正常：推算值达到目标。预警：推算值未达目标，但达到计划增量的 {AT_RISK_SHARE:.0%} 及以上。"
    f"滞后：推算值不足计划增量的 {AT_RISK_SHARE:.0%}，或目标年已过仍未达标。无数据：基期之后尚无数值。",
    "“越小越好”的指标方向相反。每个指标每年取一个值：业务录入优先，其次文件所载；企业库实时计算补足二者都没有的年份，当年取今日实时数。",
)
STATUS_CLASS = {ACHIEVED: "ok", ON_TRACK: "ok", AT_RISK: "warn", OFF_TRACK: "bad", NO_DATA: "none"}
CHARTS_SHOWN = (
    12  # trend charts on the dashboard: the indicators that slip most first, those without data last
)


def source_text(point: Point) -> str:
    """Where a value comes from, as the pages and the export show it."""
    if point.source == "registry":
        source_name = point.label.split("（")[0].removesuffix("实时计算")  # registry_values wrote it first
        return f"{source_name}实时计算（{point.on:%Y-%m-%d}）" if point.on else point.label
    if point.source == "observation":
        return "业务录入" if point.label == "业务录入" else f"业务录入：{point.label}"
    return point.label


def series_many(
    indicators: Iterable[Indicator],
    today: dt.date | None = None,
    since: dict[int, int] | None = None,
    park: Park | None = None,
) -> dict[int, list[Point]]:
    """The values of several indicators, one per year, by indicator id: two queries, and one for each computed
    indicator. For a year, an officer's observation wins over a document's figure (history, baseline or
    achievement; the documents give the whole district only); a computed indicator's registry count fills the
    years neither gives, from `since` (default: five years back), and is always today's value for this year.
    The documents' past figures are the official statistics: the registry, which may hold only recent
    certificates, never overrides them."""
    today = today or timezone.localdate()
    indicators = list(indicators)
    by_indicator: dict[int, dict[int, Point]] = {i.pk: {} for i in indicators}
    if park is None:
        figures = DocumentedFigure.objects.filter(
            indicator_id__in=by_indicator, value__isnull=False, period_start__isnull=True
        )
        for figure in figures.exclude(kind=FigureKind.TARGET).order_by(
            "indicator_id", "year", "kind", "document"
        ):
            by_indicator[figure.indicator_id][figure.year] = Point(
                figure.year,
                float(figure.value),
                "document",
                figure.get_document_display() + " " + figure.place,
            )
    observations = Observation.objects.filter(indicator_id__in=by_indicator, park=park, sub_period=0)
    for observation in observations.order_by("indicator_id", "year"):
        by_indicator[observation.indicator_id][observation.year] = Point(
            observation.year, float(observation.value), "observation", observation.source or "业务录入"
        )
    for indicator in indicators:
        if not indicator.computed:
            continue
        by_year = by_indicator[indicator.pk]
        first = since[indicator.pk] if since and indicator.pk in since else today.year - 5
        for point in registry_values(
            indicator, range(max(first, today.year - 10), today.year + 1), today, park
        ):
            if point.year not in by_year or point.on == today:
                by_year[point.year] = point
    return {pk: [by_year[year] for year in sorted(by_year)] for pk, by_year in by_indicator.items()}


def target_years() -> list[int]:
    return sorted(set(Target.objects.filter(parent__isnull=True).values_list("year", flat=True)))


@dataclass(frozen=True)
class Chart:
    """An indicator's trend with its targets, as the page's ECharts option needs it."""

    indicator: Indicator
    points: list[Point]
    targets: list[Progress]

    def data(self) -> dict:
        return {
            "code": self.indicator.code,
            "name": self.indicator.name,
            "unit": self.indicator.unit,
            "points": [
                [
                    round(p.time, 3),
                    p.value,
                    f"{p.year}年" if p.on is None else f"{p.on:%Y-%m-%d}",
                    source_text(p),
                ]
                for p in self.points
            ],
            "targets": [
                {
                    "label": f"{s.target.year}年目标"
                    + (
                        f"（{s.target.figure.get_document_display().split('《')[0]}）"
                        if s.target.figure_id and len(self.targets) > 1
                        else ""
                    ),
                    "year": s.target.year,
                    "value": float(s.target.value),
                    "baseline_year": s.target.baseline_year,
                    "baseline_value": float(s.target.baseline_value),
                    "forecast": s.forecast,
                    "latest_time": round(s.latest.time, 3) if s.latest else None,
                    "latest_value": s.latest.value if s.latest else None,
                }
                for s in self.targets
            ],
        }


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    rows: list[Progress]
    charts: list[Chart]
    charts_total: int  # indicators with a target shown (charts beyond CHARTS_SHOWN are on their own pages)

    @property
    def counts(self) -> list[tuple[str, str, int]]:
        found = [row.status for row in self.rows]
        return [
            (status, STATUS_TEXT[status], found.count(status))
            for status in (ACHIEVED, ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA)
        ]


def dashboard(*, year: int | None = None, document: str = "", today: dt.date | None = None) -> Dashboard:
    """The documents' targets (optionally of one target year and one document) with their progress, and the
    trend of each indicator they concern; a fixed number of queries whatever the registry's size."""
    today = today or timezone.localdate()
    found = targets()
    if year:
        found = found.filter(year=year)
    if document:
        found = found.filter(figure__document=document)
    shown = list(found)
    indicators = {t.indicator_id: t.indicator for t in shown}
    since: dict[int, int] = {}
    for target in shown:
        since[target.indicator_id] = min(
            since.get(target.indicator_id, target.baseline_year), target.baseline_year
        )
    points = series_many(indicators.values(), today, since)
    rows = [progress(target, today, points[target.indicator_id]) for target in shown]
    by_indicator: dict[int, list[Progress]] = {}
    for row in rows:
        by_indicator.setdefault(row.target.indicator_id, []).append(row)
    ranked = sorted(  # the worst status first; those with no value since their baseline last
        by_indicator,
        key=lambda pk: (
            -max(STATUS_RANK[r.status] for r in by_indicator[pk]),
            all(r.status == NO_DATA for r in by_indicator[pk]),
            indicators[pk].order,
            indicators[pk].code,
        ),
    )
    charts = [Chart(indicators[pk], points[pk], by_indicator[pk]) for pk in ranked[:CHARTS_SHOWN]]
    return Dashboard(today, rows, charts, len(ranked))


# The registry's numbers by park and by high-tech field.


@dataclass(frozen=True)
class ParkCount:
    park: Park | None  # None: enterprises with no park recorded
    depth: int
    own: int  # enterprises registered in this park itself
    total: int  # with its sub-parks: what the drill-down with ?park= lists


@dataclass(frozen=True)
class Breakdown:
    indicator: Indicator
    on: dt.date
    total: int
    by_park: list[ParkCount]
    by_field: list[tuple[str, str, int]]  # (field code, label, count); "" = no field recorded

    @property
    def definition(self) -> str:
        return COMPUTED[self.indicator.computed].definition


def _park_tree(parks: list[Park]) -> list[tuple[Park, int]]:
    children: dict[int | None, list[Park]] = {}
    for park in parks:
        children.setdefault(park.parent_id, []).append(park)
    ordered: list[tuple[Park, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for park in sorted(children.get(parent, []), key=lambda p: p.name):
            ordered.append((park, depth))
            walk(park.pk, depth + 1)

    walk(None, 0)
    return ordered


def breakdown(
    indicator: Indicator, on: dt.date | None = None, parks: list[Park] | None = None
) -> Breakdown | None:
    """A computed indicator on `on` by park (with sub-parks) and by high-tech field, in one query: the enterprises
    holding a qualification in force, grouped by (park, field). An enterprise is in exactly one group, so the
    groups add up to the whole number, which is what Computed.value and the drill-down count. None for a figure
    counted from other records (computed.YearTotal), which is not a count of enterprises."""
    if not COMPUTED[indicator.computed].by_registry:
        return None
    from django.db.models import Count

    from kechuang.enterprises.choices import HitechField

    on = on or timezone.localdate()
    from kechuang.enterprises.models import Enterprise

    held = COMPUTED[indicator.computed].qualifications().valid_on(on).values("enterprise_id")
    groups = cached(
        ("breakdown", indicator.computed, on),
        lambda: list(
            Enterprise.objects.filter(pk__in=held)
            .values_list("park_id", "hitech_field")
            .annotate(n=Count("pk"))
            .order_by()
        ),
    )
    own: dict[int | None, int] = {}
    fields: dict[str, int] = {}
    total = 0
    for park_id, field, n in groups:
        own[park_id] = own.get(park_id, 0) + n
        fields[field or ""] = fields.get(field or "", 0) + n
        total += n
    tree = _park_tree(parks if parks is not None else list(Park.objects.all()))
    parent_of = {park.pk: park.parent_id for park, _ in tree}
    inclusive = dict.fromkeys(parent_of, 0)
    for park_id, n in own.items():
        while park_id is not None and park_id in inclusive:
            inclusive[park_id] += n
            park_id = parent_of[park_id]
    by_park = [ParkCount(park, depth, own.get(park.pk, 0), inclusive[park.pk]) for park, depth in tree]
    if own.get(None):
        by_park.append(ParkCount(None, 0, own[None], own[None]))
    by_field = [(code, label, fields.get(code, 0)) for code, label in HitechField.choices]
    if fields.get(""):
        by_field.append(("", "未登记领域", fields[""]))
    return Breakdown(indicator, on, total, by_park, by_field)


def computed_indicators() -> list[Indicator]:
    """The indicators counted from the registry's enterprises (those with a breakdown by park and field)."""
    found = Indicator.objects.exclude(computed="").order_by("order", "code")
    return [i for i in found if getattr(COMPUTED.get(i.computed), "by_registry", False)]


def drilldown(
    indicator: Indicator, on: dt.date, park: Park | None = None, field: str | None = None
) -> QuerySet:
    """The enterprises behind a computed indicator's number on `on` (in a park with its sub-parks, in a
    high-tech field: "" for none recorded), as the dashboard counts them."""
    found = COMPUTED[indicator.computed].enterprises(on, park_ids(park))
    if field is not None:
        found = found.filter(hitech_field=field)
    return found.select_related("park").order_by("name", "pk")


# The 20 key enterprises of 附件4 (沪松府〔2025〕80号).


@dataclass(frozen=True)
class KeyRow:
    number: int
    name: str
    domain: str
    direction: str
    enterprise: object | None  # the registry's Enterprise of that name, if any
    qualifications: list[str]  # in force today
    year: int | None  # the year the figures are of (the latest up to last year)
    revenue: object | None  # 营业收入, yuan
    rd: object | None  # 研发费用（会计口径）, yuan

    @property
    def rd_ratio(self) -> float | None:
        return float(self.rd / self.revenue) if self.rd is not None and self.revenue else None


@dataclass(frozen=True)
class KeyGroup:
    rows: list[KeyRow]
    year: int  # last year: the totals are of it
    matched: int
    with_year: int  # enterprises with figures of `year`
    revenue: object  # sums over them
    rd: object  # over those with both figures
    rd_revenue: object
    qualification_counts: list[tuple[str, int]]

    @property
    def rd_ratio(self) -> float | None:
        return float(self.rd / self.rd_revenue) if self.rd_revenue else None


def key_enterprises(today: dt.date | None = None, user=None) -> KeyGroup:
    """附件4's enterprises matched to the registry by name: qualifications in force today, last year's 营业收入
    and 研发费用（会计口径）; three queries."""
    from decimal import Decimal

    from kechuang.enterprises.choices import QualificationKind
    from kechuang.enterprises.demo import KEY_ENTERPRISES
    from kechuang.enterprises.models import Enterprise, EnterpriseYear, Qualification

    today = today or timezone.localdate()
    last_year = today.year - 1
    found = Enterprise.objects.filter(name__in=[k.name for k in KEY_ENTERPRISES])
    if user is not None:
        found = found.visible_to(user)
    by_name = {e.name: e for e in found.order_by("pk")}
    ids = [e.pk for e in by_name.values()]
    held: dict[int, list[str]] = {}
    labels = dict(QualificationKind.choices)
    for enterprise_id, kind in (
        Qualification.objects.valid_on(today)
        .filter(enterprise_id__in=ids)
        .order_by("kind")
        .values_list("enterprise_id", "kind")
        .distinct()
    ):
        held.setdefault(enterprise_id, []).append(kind)
    years: dict[int, tuple] = {}
    for enterprise_id, year, revenue, rd in (
        EnterpriseYear.objects.filter(enterprise_id__in=ids, year__lte=last_year, sales_revenue__isnull=False)
        .order_by("enterprise_id", "year")
        .values_list("enterprise_id", "year", "sales_revenue", "rd_expense")
    ):
        years[enterprise_id] = (year, revenue, rd)  # the latest wins
    rows = []
    kinds_count: dict[str, int] = {}
    revenue_sum = rd_sum = rd_revenue = Decimal(0)
    with_year = 0
    for key in KEY_ENTERPRISES:
        enterprise = by_name.get(key.name)
        kinds = held.get(enterprise.pk, []) if enterprise else []
        for kind in kinds:
            kinds_count[kind] = kinds_count.get(kind, 0) + 1
        year, revenue, rd = years.get(enterprise.pk, (None, None, None)) if enterprise else (None, None, None)
        if year == last_year:
            with_year += 1
            revenue_sum += revenue
            if rd is not None:
                rd_sum += rd
                rd_revenue += revenue
        rows.append(
            KeyRow(
                key.number,
                key.name,
                key.domain,
                key.direction,
                enterprise,
                [labels[k] for k in kinds],
                year,
                revenue,
                rd,
            )
        )
    counts = [(label, kinds_count[kind]) for kind, label in QualificationKind.choices if kind in kinds_count]
    return KeyGroup(rows, last_year, len(by_name), with_year, revenue_sum, rd_sum, rd_revenue, counts)


# One indicator's page.


@dataclass(frozen=True)
class TargetProgress:
    progress: Progress
    parts: list[Progress]


def indicator_targets(indicator: Indicator, points: list[Point], today: dt.date) -> list[TargetProgress]:
    """The indicator's targets with their parts, each with its progress (a part of a park by that park's
    values; a part of a responsible unit or a period by the district's)."""
    every = list(
        Target.objects.filter(indicator=indicator)
        .select_related("figure", "park", "unit", "owner", "indicator")
        .order_by("year", "pk")
    )
    parts: dict[int, list[Target]] = {}
    for target in every:
        if target.parent_id:
            parts.setdefault(target.parent_id, []).append(target)
    result = []
    for target in every:
        if target.parent_id:
            continue
        result.append(
            TargetProgress(
                progress(target, today, points),
                [
                    progress(part, today, None if part.park_id else points)
                    for part in parts.get(target.pk, [])
                ],
            )
        )
    return result


@dataclass(frozen=True)
class ObservationHistory:
    observation: Observation
    changes: list  # historical records, newest first: who, when, why, the value then


def observations_with_history(indicator: Indicator) -> list[ObservationHistory]:
    """Every observation of the indicator (all periods and parks) with its change history; two queries."""
    observations = list(
        indicator.observations.select_related("park", "recorded_by", "indicator").order_by(
            "-year", "-sub_period", "park__name"
        )
    )
    changes: dict[int, list] = {}
    history = (
        Observation.history.filter(indicator_id=indicator.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )
    for record in history:
        changes.setdefault(record.id, []).append(record)
    return [ObservationHistory(o, changes.get(o.pk, [])) for o in observations]


def alerts_for(user, limit: int = 20) -> list:
    from kechuang.indicators.models import TargetAlert

    return list(
        TargetAlert.objects.filter(owner=user, read_at__isnull=True)
        .select_related("target__indicator", "target__park", "target__unit")
        .order_by("-created_at", "-pk")[:limit]
    )
