"""假设分析 (what-if): what would change if a threshold, or an enterprise's own figures, were different.

Nothing here writes to the database.

- For officers, over a finished run: one parameter of the run's own set is given another value on the
  run's date; the run's stored situations (those in the user's scope) are read into one frame and
  evaluated twice, with the run's parameters and with the changed set. Per qualification: who would
  gain it and who would lose it.
- For one enterprise, live: its latest-year figures and IP counts are changed and the enterprise is
  evaluated twice (one two-row frame, one engine call) with the parameters in force; per qualification
  and per condition: was → would be, and the gaps.
"""

from __future__ import annotations

import io
import itertools
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from kechuang import rules
from kechuang.enterprises.figures import FIGURES_BY_NAME
from kechuang.enterprises.models import Enterprise, year_errors
from kechuang.rules import inputs, parameters
from kechuang.rules.common import MET, STATUS_TEXT, Explanation
from kechuang.rules.parameters import ParameterError, ParameterValue, Revision
from kechuang.tiering import review, services
from kechuang.tiering.models import AssessedSituation, AssessmentRun, AssessmentStatus
from kechuang.tiering.selectors import AreaResult, area_results
from kechuang.tiering.situation import YEAR_COLUMNS, situation_frame

SCALAR_UNITS = ("比例", "元", "人", "日", "件", "分")
WHAT_IF_NOTE = "假设分析"

# --- officers: one parameter over a finished run ------------------------------------------------------------


def scalar_parameters(parameter_set: parameters.ParameterSet, on: date) -> list[ParameterValue]:
    """The single-number parameters in force on `on` (ratios, amounts, counts, days, scores)."""
    result = []
    for path in parameter_set.paths():
        try:
            value = parameter_set.at(path, on)
        except ParameterError:
            continue
        if parameters.is_number(value.value) and value.unit in SCALAR_UNITS:
            result.append(value)
    return result


# The stored situation JSON holds dates as ISO text; they are read as text and parsed afterwards.
_DATE_COLUMNS = [name for name, dtype in inputs.SCHEMA.items() if dtype == pl.Date]
_JSON_SCHEMA = {
    name: (pl.String if dtype == pl.Date else dtype)
    for name, dtype in inputs.SCHEMA.items()
    if name != "enterprise_id"
}


READ_CHUNK = 10_000  # stored situations decoded at a time: bounds the memory the JSON text takes


def run_frame(*, run: AssessmentRun, enterprises: QuerySet | None = None) -> pl.DataFrame:
    """The situations a run stored (of `enterprises` only, when given) as one situation frame, ordered
    by enterprise. The same frame as services.situation_from_snapshot → inputs.situation_frame, built
    without a Python loop per row or column: the JSON texts are read as they are stored (cast to text,
    so the database driver does not decode them) and parsed by Polars, chunk by chunk."""
    situations = AssessedSituation.objects.filter(run=run)
    if enterprises is not None:
        situations = situations.filter(enterprise__in=enterprises.values("pk"))
    rows = (
        situations.order_by("enterprise_id")
        .annotate(text=Cast("inputs", output_field=TextField()))
        .values_list("enterprise_id", "text")
        .iterator(chunk_size=READ_CHUNK)
    )
    chunks: list[pl.DataFrame] = []
    while chunk := list(itertools.islice(rows, READ_CHUNK)):
        frame = pl.read_ndjson(
            io.BytesIO("\n".join(text for _, text in chunk).encode("utf-8")), schema=_JSON_SCHEMA
        )
        chunks.append(frame.with_columns(pl.Series("enterprise_id", [pk for pk, _ in chunk], dtype=pl.Int64)))
    if not chunks:
        return inputs.situation_frame([])
    frame = pl.concat(chunks, rechunk=True).with_columns(
        pl.col("enterprise_id").cast(pl.String),
        *(pl.col(name).str.to_date("%Y-%m-%d") for name in _DATE_COLUMNS),
    )
    return inputs.conform(frame)


@dataclass
class AreaChange:
    """One qualification: how many meet it now and would, and who would gain or lose it."""

    area: str
    label: str
    met_before: int
    met_after: int
    gained: list[int]  # enterprise ids, ascending
    lost: list[int]
    other: int  # not met ↔ unknown: changed, but neither gains nor loses the qualification

    @property
    def changed(self) -> bool:
        return bool(self.gained or self.lost or self.other)


@dataclass
class PopulationWhatIf:
    run: AssessmentRun
    parameter: ParameterValue  # the value the run used
    new_value: Any
    enterprises: int
    areas: list[AreaChange]
    seconds: float

    @property
    def affected(self) -> list[AreaChange]:
        return [area for area in self.areas if area.changed]

    @property
    def old_text(self) -> str:
        return review.value_text(self.parameter)

    @property
    def new_text(self) -> str:
        return review.value_text(self.parameter, self.new_value)


def population_what_if(
    *, run: AssessmentRun, path: str, value: Any, enterprises: QuerySet | None = None
) -> PopulationWhatIf:
    """Evaluate the run's stored situations with the run's parameters and with `path` set to `value`
    (in the file's units) on the run's date. Raises ParameterError when the value cannot be applied."""
    started = time.perf_counter()
    baseline = services.snapshot_parameters(run.parameters)
    current = baseline.at(path, run.assessed_on)
    changed = baseline.revised([Revision(path, current.effective_from, value, WHAT_IF_NOTE)])
    frame = run_frame(run=run, enterprises=enterprises)
    with parameters.using(baseline):
        before = rules.evaluate(frame, run.assessed_on)
    with parameters.using(changed):
        after = rules.evaluate(frame, run.assessed_on)
    ids = frame["enterprise_id"].cast(pl.Int64)
    areas = []
    for area, column in rules.RESULT_COLUMN.items():
        was = before[column].cast(pl.String)
        now = after[column].cast(pl.String)
        areas.append(
            AreaChange(
                area=area,
                label=rules.NAMES[area],
                met_before=int((was == MET).sum()),
                met_after=int((now == MET).sum()),
                gained=ids.filter((was != MET) & (now == MET)).to_list(),
                lost=ids.filter((was == MET) & (now != MET)).to_list(),
                other=int(((was != now) & (was != MET) & (now != MET)).sum()),
            )
        )
    return PopulationWhatIf(
        run=run,
        parameter=current,
        new_value=value,
        enterprises=frame.height,
        areas=areas,
        seconds=time.perf_counter() - started,
    )


# --- one enterprise: its own figures ------------------------------------------------------------------------

IP_FIELDS = (
    "ip_class_i_count",
    "ip_class_ii_count",
    "ip_class_ii_unused_count",
    "ip_class_i_own_rd_count",
    "ip_class_ii_mature_count",
)
# A count that is part of another: (part, whole).
IP_PARTS = (
    ("ip_class_ii_unused_count", "ip_class_ii_count"),
    ("ip_class_ii_mature_count", "ip_class_ii_count"),
    ("ip_class_i_own_rd_count", "ip_class_i_count"),
)

NOT_A_NUMBER = "“{raw}”不是数字"
NOT_A_COUNT = "须为不小于 0 的整数件数，而不是“{raw}”"
PART_EXCEEDS = "{part}（{value}）不能多于{whole}（{total}）"


@dataclass(frozen=True)
class InputField:
    """A situation column the enterprise what-if lets people change."""

    column: str
    label: str
    unit: str  # 万元, 人 or 件
    figure: str | None  # the EnterpriseYear figure of a yearly column

    @property
    def factor(self) -> int:
        return 10000 if self.unit == "万元" else 1

    def typed(self, value: float | int | None) -> str:
        """A situation value as typed (yuan → 万元), empty for unknown."""
        if value is None:
            return ""
        return review._plain(Decimal(str(value)) / self.factor)

    def shown(self, value: float | int | None) -> str:
        return "未登记" if value is None else f"{self.typed(value)}{self.unit}"


def input_fields(on: date) -> list[InputField]:
    """The latest year's (y−1) figures of the situation, in the order of the yearly figures, then the
    IP counts."""
    year = on.year - 1
    fields = [
        InputField(
            column,
            f"{FIGURES_BY_NAME[stem].label}（{year}年）",
            FIGURES_BY_NAME[stem].display_unit,
            stem,
        )
        for column, (stem, lag) in YEAR_COLUMNS.items()
        if lag == 1 and stem in FIGURES_BY_NAME
    ]
    order = list(FIGURES_BY_NAME)
    fields.sort(key=lambda f: order.index(f.figure))
    fields += [InputField(c, inputs.COLUMNS_BY_NAME[c].label, "件", None) for c in IP_FIELDS]
    return fields


def parse_inputs(fields: list[InputField], data: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed texts (万元, 人, 件; empty = unknown) as situation values (元, 人, 件), and the errors
    {column: Chinese message} by the registry's own rules (negative, 科技人员多于职工, …)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        raw = (data.get(f.column) or "").strip().replace(",", "").replace("，", "")
        if not raw:
            values[f.column] = None
            continue
        try:
            number = Decimal(raw)
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            errors[f.column] = (
                NOT_A_COUNT.format(raw=raw) if f.figure is None else NOT_A_NUMBER.format(raw=raw)
            )
            continue
        if f.figure is None:
            if number < 0 or number != number.to_integral_value():
                errors[f.column] = NOT_A_COUNT.format(raw=raw)
                continue
            values[f.column] = int(number)
        else:
            values[f.column] = (number * f.factor).quantize(
                Decimal("0.01") if f.unit == "万元" else Decimal("0.1")
            )
    figures = {f.figure: values[f.column] for f in fields if f.figure and f.column in values}
    by_figure = {f.figure: f.column for f in fields if f.figure}
    for name, message in year_errors(figures, None).items():
        if name in by_figure:
            errors.setdefault(by_figure[name], message)
    labels = {f.column: f.label for f in fields}
    for part, whole in IP_PARTS:
        if part in values and whole in values and None not in (values[part], values[whole]):
            if values[part] > values[whole]:
                errors.setdefault(
                    part,
                    PART_EXCEEDS.format(
                        part=labels[part], value=values[part], whole=labels[whole], total=values[whole]
                    ),
                )
    situation = {c: (float(v) if isinstance(v, Decimal) else v) for c, v in values.items()}
    return situation, errors


@dataclass
class ItemDiff:
    code: str
    label: str
    kind: str
    was: Explanation
    now: Explanation

    @property
    def status_changed(self) -> bool:
        return self.was.status != self.now.status

    @property
    def was_status(self) -> str:
        return STATUS_TEXT[self.was.status] if self.kind == "condition" else ""

    @property
    def now_status(self) -> str:
        return STATUS_TEXT[self.now.status] if self.kind == "condition" else ""


@dataclass
class AreaDiff:
    was: AreaResult
    now: AreaResult
    items: list[ItemDiff] = field(default_factory=list)

    @property
    def area(self) -> str:
        return self.now.area

    @property
    def label(self) -> str:
        return self.now.label

    @property
    def status_changed(self) -> bool:
        return self.was.status != self.now.status

    @property
    def score_changed(self) -> bool:
        return (self.was.score_min, self.was.score_max) != (self.now.score_min, self.now.score_max)

    @property
    def changed(self) -> bool:
        return self.status_changed or self.score_changed or bool(self.items)

    @property
    def gaps_closed(self) -> list[str]:
        return [gap for gap in self.was.gaps if gap not in self.now.gaps]


@dataclass
class InputChange:
    label: str
    was: str
    now: str


@dataclass
class EnterpriseWhatIf:
    on: date
    changed_inputs: list[InputChange]
    areas: list[AreaDiff]
    results: list[AreaResult]  # what the enterprise would be: every qualification in full

    @property
    def changed_codes(self) -> list[str]:
        return [item.code for area in self.areas for item in area.items]


def current_situation(*, enterprise: Enterprise, on: date) -> dict[str, Any]:
    """The enterprise's situation row from the registry, as the batch builds it."""
    return situation_frame(enterprises=Enterprise.objects.filter(pk=enterprise.pk), on=on).row(0, named=True)


def enterprise_what_if(
    *, situation: dict[str, Any], on: date, values: dict[str, Any], fields: list[InputField]
) -> EnterpriseWhatIf:
    """The enterprise of `situation` (current_situation) evaluated as it is and with `values` (situation
    columns, file units) instead, in one engine call with the parameters in force."""
    row = situation
    changed = dict(row)
    changed.update(values)
    if "ip_class_i_own_rd_count" in values and (values["ip_class_i_own_rd_count"] or 0) > 0:
        changed["ip_has_own_rd"] = True  # an own-R&D Class I item is an own-R&D item
    if all(changed.get(c) == 0 for c in ("ip_class_i_count", "ip_class_ii_count")):
        changed["ip_has_own_rd"] = False  # no IP at all: none of it is own R&D
    frame = inputs.situation_frame([row, changed])
    with parameters.using(services.parameter_set()):
        result = rules.evaluate(frame, on)
        before = area_results(rules.explain(result.row(0, named=True), on))
        after = area_results(rules.explain(result.row(1, named=True), on))
    areas = []
    for was, now in zip(before, after, strict=True):
        diff = AreaDiff(was, now)
        old = {item.code: item for item in (*was.conditions, *was.score_items)}
        for item in (*now.conditions, *now.score_items):
            earlier = old.get(item.code)
            if earlier is not None and (earlier.status, earlier.value) != (item.status, item.value):
                diff.items.append(ItemDiff(item.code, item.label, item.kind, earlier, item))
        areas.append(diff)
    changes = [
        InputChange(f.label, f.shown(row.get(f.column)), f.shown(changed.get(f.column)))
        for f in fields
        if f.column in values and not _same(row.get(f.column), changed.get(f.column))
    ]
    return EnterpriseWhatIf(on=on, changed_inputs=changes, areas=areas, results=after)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) < 0.005


def status_label(status: str) -> str:
    return AssessmentStatus(status).label
