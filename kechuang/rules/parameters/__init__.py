"""Dated parameters: every threshold of every rule, with its legal source, read from the YAML files here.

A file `<area>.yaml` holds named parameters; each has a `label` and a list of dated `values`:

    tech_staff_ratio_min:
      label: 科技人员占职工总数比例
      values:
        - effective_from: 2016-01-01      # first day in force (inclusive)
          effective_to: 2026-03-31        # optional: last day in force (inclusive)
          value: 0.10
          unit: 比例
          reference: 国科发火〔2016〕32号 第十一条(四)
          status: confirmed               # or unconfirmed: encoded, but every explanation says 待核实

`at("hnte.tech_staff_ratio_min", on_date)` returns the value in force on that day. A file with a missing
field, a bad status, an inverted or overlapping date range is refused at load with a message naming the
file, the parameter and the value.

The engine reads the set in force in the current context: the shipped files, unless a caller runs it
`with using(other_set):` — an officer's confirmed or corrected values (`ParameterSet.revised`), a what-if
change, or the set an old assessment was computed with (`from_texts`), so that it can be replayed.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DIRECTORY = Path(__file__).parent
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ten times faster
STATUSES = ("confirmed", "unconfirmed")
REQUIRED = ("effective_from", "value", "unit", "reference", "status")


class ParameterError(ValueError):
    """A parameter file is malformed, or no value is in force on the requested date."""


class NotInForce(ParameterError):
    """No value of the parameter is in force on the requested date (before its standard took effect)."""


@dataclass(frozen=True)
class ParameterValue:
    path: str  # "<area>.<name>", e.g. "hnte.tech_staff_ratio_min"
    label: str
    value: Any
    unit: str
    reference: str
    status: str
    effective_from: dt.date
    effective_to: dt.date | None

    @property
    def unconfirmed(self) -> bool:
        return self.status == "unconfirmed"

    @property
    def source(self) -> str:
        """The reference as shown to people: 待核实 is appended to an unconfirmed value's source."""
        return f"{self.reference}（待核实）" if self.unconfirmed else self.reference

    def covers(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class Revision:
    """An officer's decision on one dated value: confirm it as written, or correct its value (then confirmed)."""

    path: str
    effective_from: dt.date
    value: Any = None  # the corrected value; None confirms the written one
    note: str = ""  # who decided and on what basis, appended to the reference

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "effective_from": self.effective_from.isoformat(),
            "value": self.value,
            "note": self.note,
        }


class ParameterSet:
    """All parameters of a directory, by path, each a list of dated values sorted by effective_from.

    `texts` are the YAML files it was read from and `revisions` the decisions applied on top; together
    they are what `version` fingerprints and what an assessment stores to be replayed.
    """

    def __init__(
        self,
        values: dict[str, list[ParameterValue]],
        texts: Mapping[str, str] | None = None,
        revisions: tuple[Revision, ...] = (),
    ):
        self._values = values
        self.texts = dict(texts or {})
        self.revisions = tuple(revisions)

    @functools.cached_property
    def version(self) -> str:
        """A short fingerprint of the files' contents and the revisions applied."""
        digest = hashlib.sha256()
        for name in sorted(self.texts):
            digest.update(name.encode("utf-8") + b"\0" + self.texts[name].encode("utf-8") + b"\0")
        if self.revisions:
            payload = [r.as_dict() for r in self.revisions]
            digest.update(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        return digest.hexdigest()[:16]

    def revised(self, revisions: list[Revision] | tuple[Revision, ...]) -> ParameterSet:
        """A new set with each revision applied: the value confirmed (or replaced and confirmed), its
        reference noting the decision. A revision naming no existing dated value is refused."""
        values = {path: list(items) for path, items in self._values.items()}
        for revision in revisions:
            items = values.get(revision.path)
            if items is None:
                raise ParameterError(f"未知参数 {revision.path}")
            index = next(
                (i for i, v in enumerate(items) if v.effective_from == revision.effective_from), None
            )
            if index is None:
                raise ParameterError(
                    f"参数 {revision.path} 没有自 {revision.effective_from.isoformat()} 起生效的取值"
                )
            item = items[index]
            where = f"参数 {revision.path}（{revision.effective_from.isoformat()} 起）"
            if revision.value is not None:
                _check_value(revision.value, item.unit, where)
                if isinstance(item.value, list | dict) != isinstance(revision.value, list | dict):
                    raise ParameterError(f"{where}：修正值的形式须与原值相同（{item.value!r}）")
            note = f"；{revision.note}" if revision.note else ""
            items[index] = replace(
                item,
                value=item.value if revision.value is None else revision.value,
                status="confirmed",
                reference=f"{item.reference}{note}",
            )
        return ParameterSet(values, self.texts, self.revisions + tuple(revisions))

    def paths(self) -> list[str]:
        return sorted(self._values)

    def history(self, path: str) -> list[ParameterValue]:
        if path not in self._values:
            raise ParameterError(f"未知参数 {path}")
        return list(self._values[path])

    def at(self, path: str, on: dt.date) -> ParameterValue:
        if not isinstance(on, dt.date):
            raise ParameterError(f"参数 {path}：评价日期须为日期，而不是 {on!r}")
        for value in self.history(path):
            if value.covers(on):
                return value
        ranges = "；".join(_range_text(v) for v in self._values[path])
        raise NotInForce(f"参数 {path} 在 {on.isoformat()} 没有生效的取值（已有取值：{ranges}）")

    def unconfirmed(self) -> list[ParameterValue]:
        return [v for values in self._values.values() for v in values if v.unconfirmed]


def _range_text(value: ParameterValue) -> str:
    if value.effective_to is None:
        return f"{value.effective_from.isoformat()} 起"
    return f"{value.effective_from.isoformat()} 至 {value.effective_to.isoformat()}"


def _date(raw: Any, where: str, field: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    raise ParameterError(f"{where}：{field} 不是日期（YYYY-MM-DD）：{raw!r}")


def is_number(raw: Any) -> bool:
    """A plain number (int or float, not bool)."""
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _check_value(raw: Any, unit: str, where: str) -> None:
    """Scalars are checked by unit: a 比例 is a fraction in [0, 1]; 元, 人, 日, 分 and 件 are numbers ≥ 0."""
    if unit == "比例" and not isinstance(raw, list):
        if not is_number(raw) or not 0 <= raw <= 1:
            raise ParameterError(f"{where}：比例须为 0 到 1 之间的数（如 0.10 表示 10%），而不是 {raw!r}")
    elif unit in ("元", "人", "日", "件") or (unit == "分" and not isinstance(raw, list | dict)):
        if not is_number(raw) or raw < 0:
            raise ParameterError(f"{where}：取值须为不小于 0 的数（单位 {unit}），而不是 {raw!r}")


def _parse_parameter(area: str, name: str, raw: Any, filename: str) -> list[ParameterValue]:
    where = f"{filename} 参数 {name}"
    if not isinstance(raw, dict) or not isinstance(raw.get("values"), list) or not raw["values"]:
        raise ParameterError(f"{where}：须有 label 和非空的 values 列表")
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise ParameterError(f"{where}：缺少 label")
    parsed: list[ParameterValue] = []
    for index, item in enumerate(raw["values"], start=1):
        item_where = f"{where} 第{index}个取值"
        if not isinstance(item, dict):
            raise ParameterError(f"{item_where}：须为映射")
        missing = [field for field in REQUIRED if field not in item or item[field] is None]
        if missing:
            raise ParameterError(f"{item_where}：缺少 {', '.join(missing)}")
        unknown = set(item) - set(REQUIRED) - {"effective_to"}
        if unknown:
            raise ParameterError(f"{item_where}：未知字段 {', '.join(sorted(unknown))}")
        reference = item["reference"]
        if not isinstance(reference, str) or not reference.strip():
            raise ParameterError(f"{item_where}：reference（文件及条款）不能为空")
        if item["status"] not in STATUSES:
            raise ParameterError(
                f"{item_where}：status 须为 confirmed 或 unconfirmed，而不是 {item['status']!r}"
            )
        _check_value(item["value"], str(item["unit"]), item_where)
        start = _date(item["effective_from"], item_where, "effective_from")
        end = _date(item["effective_to"], item_where, "effective_to") if item.get("effective_to") else None
        if end is not None and end < start:
            raise ParameterError(f"{item_where}：effective_to {end} 早于 effective_from {start}")
        parsed.append(
            ParameterValue(
                path=f"{area}.{name}",
                label=label,
                value=item["value"],
                unit=str(item["unit"]),
                reference=reference.strip(),
                status=item["status"],
                effective_from=start,
                effective_to=end,
            )
        )
    parsed.sort(key=lambda v: v.effective_from)
    for before, after in zip(parsed, parsed[1:], strict=False):
        if before.effective_to is None or before.effective_to >= after.effective_from:
            raise ParameterError(
                f"{where}：取值的生效期间重叠（{_range_text(before)} 与 {_range_text(after)}）；"
                "前一取值须有 effective_to 且早于后一取值的 effective_from"
            )
    return parsed


def load(directory: Path | str = DIRECTORY) -> ParameterSet:
    """Read and check every `*.yaml` of `directory`; raise ParameterError on the first bad entry."""
    return from_texts(
        {file.name: file.read_text(encoding="utf-8") for file in sorted(Path(directory).glob("*.yaml"))}
    )


def from_texts(
    texts: Mapping[str, str], revisions: list[Revision] | tuple[Revision, ...] = ()
) -> ParameterSet:
    """A set from file contents ({"hnte.yaml": "..."}), e.g. those stored with a past assessment."""
    values: dict[str, list[ParameterValue]] = {}
    for filename in sorted(texts):
        stem = filename.removesuffix(".yaml")
        try:
            content = yaml.load(texts[filename], Loader=_LOADER)
        except yaml.YAMLError as error:
            raise ParameterError(f"{filename}：YAML 格式错误：{error}") from error
        if not isinstance(content, dict):
            raise ParameterError(f"{filename}：须为“参数名: 定义”的映射")
        for name, raw in content.items():
            values[f"{stem}.{name}"] = _parse_parameter(stem, str(name), raw, filename)
    result = ParameterSet(values, texts)
    return result.revised(revisions) if revisions else result


@lru_cache(maxsize=1)
def default() -> ParameterSet:
    """The parameters shipped with the package, loaded once."""
    return load(DIRECTORY)


_active: contextvars.ContextVar[ParameterSet | None] = contextvars.ContextVar("parameters", default=None)


def current() -> ParameterSet:
    """The set the engine reads now: the one given to `using`, else the shipped files."""
    return _active.get() or default()


@contextlib.contextmanager
def using(parameter_set: ParameterSet) -> Iterator[ParameterSet]:
    """Run the engine with another parameter set (revised, what-if, or a past one being replayed)."""
    token = _active.set(parameter_set)
    try:
        yield parameter_set
    finally:
        _active.reset(token)


def at(path: str, on: dt.date) -> ParameterValue:
    """The value of parameter `path` ("<area>.<name>") in force on `on`, with its unit, reference and status."""
    return current().at(path, on)


def version(directory: Path | str | None = None) -> str:
    """The fingerprint of the set in force (or of the files of `directory`): stored with every assessment
    so that a past result can be replayed against the parameters it was computed with."""
    return (load(directory) if directory is not None else current()).version
