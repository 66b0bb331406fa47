"""The rules engine: which qualifications an enterprise meets, its scores, and what it still lacks.

Pure Python + Polars; imports no Django (an import-linter contract keeps it so). Django builds the
situation frame (inputs.py), calls `evaluate`, and stores the result and its explanation.

    frame = inputs.situation_frame(rows)              # or any Polars frame with the documented columns
    result = evaluate(frame, on=date(2026, 6, 30))    # every enterprise, every rule, at once
    report = assess(row_dict, on=date(2026, 6, 30))   # one enterprise: the same evaluate on a one-row frame

Thresholds are dated parameters (parameters/*.yaml); results are three-valued (met / not_met / unknown).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from kechuang.rules import (
    gazelle,
    hnte,
    innovative_sme,
    inputs,
    little_giant,
    parameters,
    pools,
    sh_giant,
    srdi,
    tech_sme,
    unicorn,
)
from kechuang.rules.common import (
    MET,
    NOT_MET,
    STATUS,
    UNKNOWN,
    UNKNOWN_LIT,
    Explanation,
    overall,
    weight_sum,
)

# Each module assesses one or more qualifications ("areas") and exposes:
#   AREAS: {area: (Chinese name, result column)}   e.g. {"hnte": ("高新技术企业", "hnte")}
#   CONDITIONS: {area: (condition status columns, ...)}  the columns `overall` combines for that area
#   add_results(lazy, on) -> LazyFrame   adds the `<result>*` columns
#   explain(row, on) -> {area: [Explanation, ...]}
# A score, where the area has one, is `<result>_score_min` / `<result>_score_max`.
MODULES = (tech_sme, innovative_sme, hnte, srdi, little_giant, sh_giant, gazelle, unicorn, pools)

# Polars 2 collects with its streaming engine by default; on the engine's wide, many-stage plan the
# in-memory engine is about three times faster for one enterprise and no slower for a million
# (benchmarks/bench_tiering.py).
ENGINE = "in-memory"
OPTIMISE_MIN_ROWS = 1_000

QUALIFICATIONS = {area: module for module in MODULES for area in module.AREAS}
RESULT_COLUMN = {area: module.AREAS[area][1] for area, module in QUALIFICATIONS.items()}
NAMES = {area: module.AREAS[area][0] for area, module in QUALIFICATIONS.items()}
CONDITION_COLUMNS = {area: tuple(module.CONDITIONS[area]) for area, module in QUALIFICATIONS.items()}

__all__ = [
    "CONDITION_COLUMNS",
    "MET",
    "MODULES",
    "NAMES",
    "NOT_MET",
    "QUALIFICATIONS",
    "RESULT_COLUMN",
    "STATUS",
    "UNKNOWN",
    "Assessment",
    "Explanation",
    "assess",
    "evaluate",
    "explain",
    "parameters_version",
]


def parameters_version() -> str:
    """The fingerprint of the shipped parameter files (see parameters.version)."""
    return parameters.version()


def evaluate(frame: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """Evaluate every qualification for every row of a situation frame; returns inputs + result columns.

    Modules read only the situation's columns, never each other's results, so each module's plan runs on
    its own (in parallel, `collect_all`) and the results are joined side by side; one long chained plan
    costs several times more to build and optimise, which is most of the time for a single enterprise."""
    base = inputs.conform(frame)
    plans = [_plan_or_unknown(module, on) for module in MODULES]
    # On a few rows, optimising the plans costs more than running them.
    flags = pl.QueryOptFlags() if base.height >= OPTIMISE_MIN_ROWS else pl.QueryOptFlags.none()
    # Each plan collected in the background: planning (most of the time for one enterprise) then runs on
    # every core too, not only the execution as with collect_all (a fifth faster on two cores).
    situations = base.lazy()
    queries = [
        plan.apply(situations).collect(engine=ENGINE, optimizations=flags, background=True) for plan in plans
    ]
    results = [query.fetch_blocking() for query in queries]
    # Each result holds the inputs, the module's helper columns and its outputs: pick the outputs eagerly
    # (a lazy select or drop costs about as much as planning the whole module again on one row).
    return pl.concat(
        [base, *(result[plan.outputs] for plan, result in zip(plans, results, strict=True))], how="horizontal"
    )


class _Recorder:
    """Stands in for the LazyFrame a module's `add_results` receives and records what it does to it, so
    that the expressions are built once per module, date and parameter set and then applied to any frame."""

    def __init__(self):
        self.steps: list[tuple[tuple, dict]] = []

    def lazy(self) -> _Recorder:
        return self

    def with_columns(self, *args, **kwargs) -> _Recorder:
        self.steps.append((args, kwargs))
        return self


@dataclass(frozen=True)
class _Plan:
    steps: tuple[tuple[pl.Expr, ...], ...]  # the expressions of each with_columns, named
    outputs: list[str]  # the result columns the module adds, in order (not its `_` helper columns)

    def apply(self, lazy: pl.LazyFrame) -> pl.LazyFrame:
        for expressions in self.steps:
            lazy = lazy.with_columns(expressions)
        return lazy


_PLANS: dict[tuple[str, dt.date, str], _Plan] = {}


def _plan_or_unknown(module, on: dt.date) -> _Plan:
    """The module's plan; on a date before its standard took effect, every result unknown (the
    explanation says why) rather than failing the whole assessment."""
    try:
        return _plan(module, on)
    except parameters.NotInForce:
        columns = {}
        for area, (_, result) in module.AREAS.items():
            conditions = module.CONDITIONS[area]
            columns |= {c: UNKNOWN_LIT for c in (result, *conditions)}
            columns |= {
                f"{result}_unmet": pl.lit(0, dtype=pl.Int8),
                f"{result}_unknown": pl.lit(len(conditions), dtype=pl.Int8),
            }
        return _Plan(_named([((), columns)]), list(columns))


def _plan(module, on: dt.date) -> _Plan:
    key = (module.__name__, on, parameters.current().version)
    plan = _PLANS.get(key)
    if plan is None:
        recorder = _Recorder()
        module.add_results(recorder, on)
        # Each qualification from its conditions, and how far each enterprise stands from it.
        results = {result: f"_{result}_weights" for _, result in module.AREAS.values()}
        recorder.with_columns(
            **{
                results[result]: weight_sum(module.CONDITIONS[area])
                for area, (_, result) in module.AREAS.items()
            }
        )
        statuses, counts = {}, {}
        for area, (_, result) in module.AREAS.items():
            status, unmet, unknown = overall(pl.col(results[result]), len(module.CONDITIONS[area]))
            statuses[result] = status
            counts |= {f"{result}_unmet": unmet, f"{result}_unknown": unknown}
        recorder.with_columns(**statuses, **counts)
        steps = _named(recorder.steps)
        names = _Plan(steps, []).apply(pl.LazyFrame(schema=inputs.SCHEMA)).collect_schema().names()
        outputs = [name for name in names if name not in inputs.SCHEMA and not name.startswith("_")]
        plan = _PLANS[key] = _Plan(steps, outputs)
        if len(_PLANS) > 256:  # dates and parameter sets seen by a long-running process
            _PLANS.pop(next(iter(_PLANS)))
    return plan


def _named(steps: list[tuple[tuple, dict]]) -> tuple[tuple[pl.Expr, ...], ...]:
    """The with_columns calls as named expressions, made once: an unfinished when/then (no `otherwise`)
    would otherwise be completed again, and every keyword aliased again, each time the plan is applied."""
    return tuple((*args, *(expr.alias(name) for name, expr in kwargs.items())) for args, kwargs in steps)


@dataclass
class Assessment:
    """One enterprise: each qualification's status with its explanations, in Chinese."""

    on: dt.date
    statuses: dict[str, str]  # area → met / not_met / unknown
    explanations: dict[str, list[Explanation]]  # area → explanations of its conditions and score items
    row: dict[str, Any]  # the evaluated row (inputs and every computed value)

    def explanation(self, code: str) -> Explanation:
        for items in self.explanations.values():
            for item in items:
                if item.code == code:
                    return item
        raise KeyError(code)

    def gaps(self, area: str) -> list[str]:
        """The unmet or unknown conditions of one qualification, each with its gap."""
        return [
            f"{e.label}：{e.gap}"
            for e in self.explanations[area]
            if e.kind == "condition" and e.status != MET and e.gap
        ]


def explain(row: Mapping[str, Any], on: dt.date, areas: Iterable[str] | None = None) -> Assessment:
    """The explanation of one evaluated row (a row of `evaluate`'s result, as a dict); of every
    qualification, or only of `areas` (a pool's list explains one)."""
    row = dict(row)
    wanted = set(QUALIFICATIONS if areas is None else areas)
    explanations: dict[str, list[Explanation]] = {}
    for module in MODULES:
        if wanted.isdisjoint(module.AREAS):
            continue
        missing = _missing_standard(module, on)
        items = _no_standard(module, on, missing) if missing else module.explain(row, on)
        explanations |= {area: found for area, found in items.items() if area in wanted}
    return Assessment(
        on=on,
        statuses={area: row[RESULT_COLUMN[area]] for area in QUALIFICATIONS if area in wanted},
        explanations=explanations,
        row=row,
    )


def _missing_standard(module, on: dt.date) -> str:
    """Why the module cannot assess on `on` (no parameter in force then), or "" when it can."""
    try:
        _plan(module, on)
    except parameters.NotInForce as error:
        return str(error)
    return ""


def _no_standard(module, on: dt.date, reason: str) -> dict[str, list[Explanation]]:
    return {
        area: [
            Explanation(
                f"{area}.standard",
                "适用标准",
                UNKNOWN,
                f"评价日期 {on.isoformat()}",
                "评价日期在该资质标准的施行期间内",
                reason,
                gap="该日期无适用的认定标准，无法评价",
            )
        ]
        for area in module.AREAS
    }


def assess(situation: Mapping[str, Any], on: dt.date) -> Assessment:
    """Assess one enterprise given as a dict of situation columns: a one-row frame through `evaluate`."""
    result = evaluate(inputs.situation_frame([situation]), on)
    return explain(result.row(0, named=True), on)
