"""Demo observations: so that a fresh `make run` shows trends and statuses, every indicator officers record
by hand gets a synthetic value for each year from its last documented value up to last year, on a path
towards its nearest target with a fixed-seed pace per indicator (some ahead, some behind).

They are marked by their source, DEMO_SOURCE, shown with every number; loading again replaces them and
never touches an officer's observation.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kechuang.indicators.models import FigureKind, Indicator, Observation

DEMO_SOURCE = "演示数据（非真实统计）"
PACES = (0.7, 0.85, 0.95, 1.05, 1.2)  # share of the straight path to the target each indicator keeps
COUNTED = {"家", "件", "个", "项", "名", "场", "人", "所"}  # units of whole things: no 0.78 家


@transaction.atomic
def load_demo_observations(today: dt.date | None = None, seed: int = 20260101) -> int:
    today = today or timezone.localdate()
    rng = random.Random(seed)
    Observation.objects.filter(source=DEMO_SOURCE).delete()
    taken = set(Observation.objects.values_list("indicator_id", "year", "sub_period", "park_id"))
    made = []
    for indicator in (
        Indicator.objects.filter(computed="").prefetch_related("figures").order_by("order", "code")
    ):
        pace = rng.choice(PACES)
        figures = [f for f in indicator.figures.all() if f.value is not None and f.period_start is None]
        known = sorted((f.year, f.value) for f in figures if f.kind != FigureKind.TARGET)
        goals = sorted((f.year, f.value) for f in figures if f.kind == FigureKind.TARGET)
        if not known or not goals:
            continue
        last_year, last_value = known[-1]
        ahead = [(year, value) for year, value in goals if year > last_year]
        if not ahead:
            continue
        goal_year, goal_value = ahead[0]
        for year in range(last_year + 1, min(goal_year, today.year - 1) + 1):
            if (indicator.pk, year, 0, None) in taken:
                continue
            share = Decimal(str(pace)) * (year - last_year) / (goal_year - last_year)
            value = last_value + (goal_value - last_value) * share
            value = _within(indicator, value * Decimal(str(rng.uniform(0.98, 1.02))))
            made.append(
                Observation(
                    indicator=indicator,
                    year=year,
                    value=value.quantize(Decimal("1") if indicator.unit in COUNTED else Decimal("0.01")),
                    source=DEMO_SOURCE,
                )
            )
    Observation.objects.bulk_create(made)
    return len(made)


def _within(indicator: Indicator, value: Decimal) -> Decimal:
    if indicator.value_min is not None:
        value = max(value, indicator.value_min)
    if indicator.value_max is not None:
        value = min(value, indicator.value_max)
    return value
