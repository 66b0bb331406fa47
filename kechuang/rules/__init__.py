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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from kechuang.rules import hnte, inputs, parameters, tech_sme
from kechuang.rules.common import MET, NOT_MET, STATUS, UNKNOWN, Explanation

# Each module assesses one or more qualifications ("areas") and exposes:
#   AREAS: {area: (Chinese name, result column)}   e.g. {"hnte": ("高新技术企业", "hnte")}
#   CONDITIONS: {area: (condition status columns, ...)}  the columns `overall` combines for that area
#   add_results(lazy, on) -> LazyFrame   adds the `<result>*` columns
#   explain(row, on) -> {area: [Explanation, ...]}
# A score, where the area has one, is `<result>_score_min` / `<result>_score_max`.
MODULES = (tech_sme, hnte)

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
    """Evaluate every qualification for every row of a situation frame; returns inputs + result columns."""
    lazy = inputs.conform(frame).lazy()
    for module in MODULES:
        lazy = module.add_results(lazy, on)
    # How far each enterprise stands from each qualification: conditions not met, and still unknown.
    lazy = lazy.with_columns(
        **{
            f"{RESULT_COLUMN[area]}_unmet": pl.sum_horizontal(
                [(pl.col(c) == NOT_MET).cast(pl.Int8) for c in columns]
            )
            for area, columns in CONDITION_COLUMNS.items()
        },
        **{
            f"{RESULT_COLUMN[area]}_unknown": pl.sum_horizontal(
                [(pl.col(c) == UNKNOWN).cast(pl.Int8) for c in columns]
            )
            for area, columns in CONDITION_COLUMNS.items()
        },
    )
    return lazy.collect()


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


def explain(row: Mapping[str, Any], on: dt.date) -> Assessment:
    """The explanation of one evaluated row (a row of `evaluate`'s result, as a dict)."""
    row = dict(row)
    return Assessment(
        on=on,
        statuses={area: row[RESULT_COLUMN[area]] for area in QUALIFICATIONS},
        explanations={area: items for module in MODULES for area, items in module.explain(row, on).items()},
        row=row,
    )


def assess(situation: Mapping[str, Any], on: dt.date) -> Assessment:
    """Assess one enterprise given as a dict of situation columns: a one-row frame through `evaluate`."""
    result = evaluate(inputs.situation_frame([situation]), on)
    return explain(result.row(0, named=True), on)
