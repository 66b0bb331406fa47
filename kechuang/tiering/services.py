"""Assessing the registry: build the situation frame, call the engine once, store every result."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from kechuang import rules
from kechuang.enterprises.models import Enterprise
from kechuang.tiering.models import Assessment
from kechuang.tiering.situation import situation_frame

BATCH_SIZE = 1000


def assessments_run(*, on: date, enterprises: QuerySet | None = None) -> int:
    """Assess every enterprise (or those given) for every qualification on `on`, in one engine call, and
    store the results, replacing those of the same enterprises and date. Returns the number stored."""
    enterprises = Enterprise.objects.all() if enterprises is None else enterprises
    frame = situation_frame(enterprises=enterprises, on=on)
    result = rules.evaluate(frame, on)
    version = rules.parameters_version()
    input_columns = frame.columns

    assessments: list[Assessment] = []
    for row in result.iter_rows(named=True):
        report = rules.explain(row, on)
        snapshot = _snapshot(row, input_columns)
        enterprise_id = int(row["enterprise_id"])
        for area, column in rules.RESULT_COLUMN.items():
            assessments.append(
                Assessment(
                    enterprise_id=enterprise_id,
                    area=area,
                    assessed_on=on,
                    status=report.statuses[area],
                    score_min=row.get(f"{column}_score_min"),
                    score_max=row.get(f"{column}_score_max"),
                    explanation=[item.as_dict() for item in report.explanations[area]],
                    inputs=snapshot,
                    parameters_version=version,
                )
            )

    ids = [int(pk) for pk in frame["enterprise_id"].to_list()]
    with transaction.atomic():
        for start in range(0, len(ids), BATCH_SIZE):
            Assessment.objects.filter(
                assessed_on=on, enterprise_id__in=ids[start : start + BATCH_SIZE]
            ).delete()
        Assessment.objects.bulk_create(assessments, batch_size=BATCH_SIZE)
    return len(assessments)


def _snapshot(row: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    """The situation columns of an evaluated row, JSON-ready (dates as ISO strings; null stays null)."""
    return {
        name: (value.isoformat() if isinstance(value, date) else value)
        for name, value in ((c, row[c]) for c in columns)
    }
