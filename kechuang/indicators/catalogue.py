"""The indicators, figures and plan tasks of the source documents, loaded from catalogue/*.yaml.

    indicators.yaml      the indicators: code, name, unit, direction, frequency, data source, scope,
                         computed (a key of computed.COMPUTED, or absent), range [min, max] of plausible values
    figures-NNN.yaml     the figures document NNN gives: indicator, kind, year, text (as written), value,
                         value_high (a range's upper end), comparator, place, quote (words of the document)
    tasks.yaml           the plan tasks: kind, number, title, category, content, units, period, deadline,
                         document, place

`catalogue_sync` makes the database hold exactly this (idempotent, run after every migrate). What officers
add — observations, target parts and owners, task status and notes — is never touched.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

HERE = Path(__file__).resolve().parent / "catalogue"
log = logging.getLogger(__name__)

INDICATOR_FIELDS = {
    "code",
    "name",
    "unit",
    "direction",
    "frequency",
    "data_source",
    "scope",
    "computed",
    "range",
    "description",
}
FIGURE_FIELDS = {
    "indicator",
    "kind",
    "year",
    "period_start",
    "text",
    "value",
    "value_high",
    "comparator",
    "place",
    "quote",
}
TASK_FIELDS = {
    "kind",
    "number",
    "title",
    "category",
    "content",
    "units",
    "period",
    "start",
    "deadline",
    "document",
    "place",
}


class CatalogueError(ValueError):
    """A catalogue file that does not hold what the loader expects: names the file, the entry and the field."""


def _read(name: str) -> Any:
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8")) or []


def _check(entry: dict, allowed: set[str], required: set[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise CatalogueError(f"{where}：未知字段 {sorted(unknown)}，可用字段为 {sorted(allowed)}")
    missing = required - set(entry)
    if missing:
        raise CatalogueError(f"{where}：缺少字段 {sorted(missing)}")


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CatalogueError(f"{where}：数值 {value!r} 不是数字")
    return Decimal(str(value))


@cache
def indicators() -> tuple[dict, ...]:
    from kechuang.indicators.models import Direction, Frequency

    entries = _read("indicators.yaml")
    seen = set()
    for number, entry in enumerate(entries, 1):
        where = f"indicators.yaml 第 {number} 项（{entry.get('code', '?')}）"
        _check(entry, INDICATOR_FIELDS, {"code", "name", "unit", "data_source"}, where)
        if entry["code"] in seen:
            raise CatalogueError(f"{where}：代码重复")
        seen.add(entry["code"])
        if entry.get("direction", Direction.INCREASE) not in Direction.values:
            raise CatalogueError(f"{where}：方向 {entry['direction']!r} 不在 {Direction.values} 中")
        if entry.get("frequency", Frequency.YEAR) not in Frequency.values:
            raise CatalogueError(f"{where}：频度 {entry['frequency']!r} 不在 {Frequency.values} 中")
        if entry.get("computed"):
            from kechuang.indicators.computed import COMPUTED

            if entry["computed"] not in COMPUTED:
                raise CatalogueError(
                    f"{where}：计算方法 {entry['computed']!r} 不存在，可用 {sorted(COMPUTED)}"
                )
    return tuple(entries)


@cache
def figures() -> tuple[dict, ...]:
    from kechuang.indicators.models import Document, FigureKind

    codes = {entry["code"] for entry in indicators()}
    result = []
    for document in Document.values:
        name = f"figures-{document}.yaml"
        if not (HERE / name).exists():
            continue
        for number, entry in enumerate(_read(name), 1):
            where = f"{name} 第 {number} 项（{entry.get('indicator', '?')} {entry.get('year', '?')}）"
            _check(entry, FIGURE_FIELDS, {"indicator", "kind", "year", "text", "place", "quote"}, where)
            if entry["indicator"] not in codes:
                raise CatalogueError(f"{where}：指标 {entry['indicator']!r} 不在 indicators.yaml 中")
            if entry["kind"] not in FigureKind.values:
                raise CatalogueError(f"{where}：类别 {entry['kind']!r} 不在 {FigureKind.values} 中")
            result.append({**entry, "document": document})
    return tuple(result)


@cache
def tasks() -> tuple[dict, ...]:
    from kechuang.indicators.models import Document, TaskKind

    entries = _read("tasks.yaml") if (HERE / "tasks.yaml").exists() else []
    for number, entry in enumerate(entries, 1):
        where = f"tasks.yaml 第 {number} 项（{entry.get('title', '?')}）"
        _check(
            entry,
            TASK_FIELDS,
            {"kind", "number", "title", "content", "units", "deadline", "document", "place"},
            where,
        )
        if entry["kind"] not in TaskKind.values:
            raise CatalogueError(f"{where}：类别 {entry['kind']!r} 不在 {TaskKind.values} 中")
        if str(entry["document"]) not in Document.values:
            raise CatalogueError(f"{where}：文件 {entry['document']!r} 不在 {Document.values} 中")
        if not isinstance(entry["units"], list) or not entry["units"]:
            raise CatalogueError(f"{where}：实施主体 units 须为非空列表")
        for key in ("deadline", "start"):
            if key in entry and not isinstance(entry[key], dt.date):
                raise CatalogueError(f"{where}：{key} {entry[key]!r} 须为日期（YYYY-MM-DD）")
    return tuple(entries)


@transaction.atomic
def catalogue_sync() -> None:
    """Make the database hold the catalogue: indicators, documented figures, document targets, tasks."""
    from kechuang.indicators.models import (
        DocumentedFigure,
        FigureKind,
        Indicator,
        PlanTask,
        ResponsibleUnit,
        Target,
    )

    by_code = {}
    for order, entry in enumerate(indicators()):
        low, high = entry.get("range") or (None, None)
        by_code[entry["code"]], _ = Indicator.objects.update_or_create(
            code=entry["code"],
            defaults={
                "name": entry["name"],
                "unit": entry["unit"],
                "direction": entry.get("direction", "increase"),
                "frequency": entry.get("frequency", "year"),
                "data_source": entry["data_source"],
                "scope": entry.get("scope", "松江区"),
                "computed": entry.get("computed") or "",
                "value_min": _decimal(low, entry["code"]),
                "value_max": _decimal(high, entry["code"]),
                "description": entry.get("description", ""),
                "order": order,
            },
        )

    kept = set()
    for entry in figures():
        where = f"figures-{entry['document']}.yaml {entry['indicator']} {entry['year']}"
        figure, _ = DocumentedFigure.objects.update_or_create(
            indicator=by_code[entry["indicator"]],
            kind=entry["kind"],
            year=entry["year"],
            document=entry["document"],
            text=str(entry["text"]),
            defaults={
                "period_start": entry.get("period_start"),
                "value": _decimal(entry.get("value"), where),
                "value_high": _decimal(entry.get("value_high"), where),
                "comparator": entry.get("comparator", "="),
                "place": entry["place"],
                "quote": entry["quote"],
            },
        )
        kept.add(figure.pk)
    stale = DocumentedFigure.objects.exclude(pk__in=kept)
    # A figure no longer in the catalogue goes, with the document target built on it (not its officer-made parts'
    # observations: those belong to the indicator).
    Target.objects.filter(figure__in=stale, parent__isnull=True).delete()
    stale.delete()

    for figure in DocumentedFigure.objects.filter(kind=FigureKind.TARGET, value__isnull=False).select_related(
        "indicator"
    ):
        baseline = _baseline(figure)
        if baseline is None:
            continue
        Target.objects.update_or_create(
            figure=figure,
            parent=None,
            defaults={
                "indicator": figure.indicator,
                "year": figure.year,
                "value": figure.value,
                "baseline_year": baseline.year,
                "baseline_value": baseline.value,
            },
        )

    for entry in tasks():
        task, created = PlanTask.objects.update_or_create(
            document=str(entry["document"]),
            kind=entry["kind"],
            number=entry["number"],
            defaults={
                "title": entry["title"],
                "category": entry.get("category", ""),
                "content": entry["content"],
                "units_text": "、".join(entry["units"]),
                "period_text": entry.get("period", ""),
                "start_date": entry.get("start"),
                "deadline": entry["deadline"],
                "place": entry["place"],
            },
        )
        task.units.set([ResponsibleUnit.objects.get_or_create(name=name)[0] for name in entry["units"]])


def _baseline(target):
    """The figure a document target is measured from: the latest earlier non-target figure of the same
    indicator, from the same document if it gives one, else from any document."""
    from kechuang.indicators.models import DocumentedFigure, FigureKind

    earlier = (
        DocumentedFigure.objects.filter(indicator=target.indicator, year__lt=target.year, value__isnull=False)
        .exclude(kind=FigureKind.TARGET)
        .order_by("-year")
    )
    return earlier.filter(document=target.document).first() or earlier.first()
