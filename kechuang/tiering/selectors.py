"""Reads of tiering: one enterprise's live assessment, through the same situation frame as the batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kechuang import rules
from kechuang.enterprises.models import Enterprise
from kechuang.rules import parameters
from kechuang.rules.common import Explanation
from kechuang.tiering.models import AssessmentStatus
from kechuang.tiering.services import parameter_set
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
