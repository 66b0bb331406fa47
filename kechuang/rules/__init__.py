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

QUALIFICATIONS = {hnte.AREA: hnte, tech_sme.AREA: tech_sme}
RESULT_COLUMN = {hnte.AREA: "hnte", tech_sme.AREA: "tsme"}

__all__ = [
    "MET",
    "NOT_MET",
    "QUALIFICATIONS",
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
    for module in QUALIFICATIONS.values():
        lazy = module.add_results(lazy, on)
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
        explanations={area: module.explain(row, on) for area, module in QUALIFICATIONS.items()},
        row=row,
    )


def assess(situation: Mapping[str, Any], on: dt.date) -> Assessment:
    """Assess one enterprise given as a dict of situation columns: a one-row frame through `evaluate`."""
    result = evaluate(inputs.situation_frame([situation]), on)
    return explain(result.row(0, named=True), on)
