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
from kechuang.indicators.computed import COMPUTED
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


def observed(indicator: Indicator, park: Park | None = None) -> QuerySet[Observation]:
    return indicator.observations.filter(park=park, sub_period=0).order_by("year")


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
            "企业库实时计算" if on == today else f"企业库（{on.isoformat()}）",
            on,
        )
        for on in dates
    ]


def series(
    indicator: Indicator, today: dt.date | None = None, park: Park | None = None, since: int | None = None
) -> list[Point]:
    """The indicator's values, one per year, newest source winning: the registry (computed indicators),
    else an officer's observation, else a document's figure (history, baseline or achievement)."""
    today = today or timezone.localdate()
    by_year: dict[int, Point] = {}
    if park is None:
        for figure in documented(indicator):
            if figure.kind != FigureKind.TARGET and figure.value is not None and figure.period_start is None:
                by_year[figure.year] = Point(
                    figure.year,
                    float(figure.value),
                    "document",
                    figure.get_document_display() + " " + figure.place,
                )
    for observation in observed(indicator, park):
        by_year[observation.year] = Point(
            observation.year, float(observation.value), "observation", observation.source or "业务录入"
        )
    if indicator.computed:
        first = since if since is not None else min([*by_year, today.year - 5])
        for point in registry_values(
            indicator, range(max(first, today.year - 10), today.year + 1), today, park
        ):
            by_year[point.year] = point
    return [by_year[year] for year in sorted(by_year)]


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
