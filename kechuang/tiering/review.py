"""参数核实: the dated parameter values as officers read them, and their decisions on them.

Every dated value of the parameter set in force (services.parameter_set(): the shipped files with the
officers' revisions) is listed with its value in the units people use (ratios as %, money in 万元, bands
as a table). An officer confirms a value as written or corrects it; the typed value is converted back
to the file's units (% → fraction, 万元 → 元), checked in the same shape as the written one, applied with
ParameterSet.revised (which checks it by unit) and tried on the engine before it is stored, so a
decision that would break an assessment is refused with a Chinese message and nothing is saved.

One ParameterRevision per dated value (path + effective_from): a later decision replaces the earlier
one. The live assessment reads the revisions on every request; a run stores the set it used
(ParameterSnapshot), so a finished run keeps replaying with the values it was computed with.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from kechuang import rules
from kechuang.rules import inputs, parameters
from kechuang.rules.common import wan
from kechuang.rules.parameters import ParameterError, ParameterValue, Revision, is_number
from kechuang.tiering import services
from kechuang.tiering.models import ParameterRevision

# --- messages (asserted exactly by the tests) ------------------------------------------------------------

NOTE_REQUIRED = "请填写核实依据（文件名称及条款，或核实的过程）"
NOT_A_NUMBER = "{name}：“{raw}”不是数字；请填写{allowed}"
RATIO_RANGE = "{name}：比例须为 0 到 100 之间的百分数（如 10 表示 10%），而不是 {raw}%"
NEGATIVE = "{name}：取值不能为负数，须为不小于 0 的数（单位 {unit}），而不是 {raw}"
NOT_INTEGER = "{name}：须为整数（单位 {unit}），而不是 {raw}"
NOT_FINITE = "{name}：须为有限的数，而不是 {raw}"
EMPTY_VALUE = "{name}：请填写修正后的取值"
BAD_BOOL = "{name}：请选择“是”或“否”"
TABLE_SYNTAX = "{name}：不是有效的 YAML 或 JSON（{error}）"
TABLE_SHAPE = "{name}：须为{shape}，与原取值的形式相同"
TABLE_ITEM = "{name}：第{index}项须为映射（如 {{band: A, at_least: 0.3, points: 20, label: …}}）"
TABLE_MISSING = "{name}：第{index}项缺少字段 {fields}"
TABLE_UNKNOWN = "{name}：第{index}项有未知字段 {fields}（可用字段：{allowed}）"
TABLE_TYPE = "{name}：第{index}项的 {field} 须为{kinds}，而不是 {raw}"
TABLE_RATIO = "{name}：第{index}项的 {field} 是比例，须为 0 到 1 之间的小数（如 0.05 表示 5%），而不是 {raw}"
TABLE_NEGATIVE = "{name}：第{index}项的 {field} 须为不小于 0 的数，而不是 {raw}"
TABLE_KEYS = "{name}：须有且只有这些键：{allowed}（现为 {given}）"
TABLE_LENGTH = "{name}：须为 {length} 个数的列表（如 {example}），而不是 {raw}"
ENGINE_REFUSED = "{name}：修正后的取值无法用于评估（{error}），未保存"
NO_SUCH_VALUE = "参数 {path} 没有自 {effective_from} 起生效的取值"

KIND_NAMES = {
    "number": "数",
    "text": "文字",
    "bool": "true 或 false",
    "list": "列表",
    "dict": "映射",
    "null": "空",
    "other": "其他",
}

# Band table columns as people read them.
KEY_LABELS = {
    "band": "档",
    "label": "说明",
    "points": "分值",
    "at_least": "不低于",
    "greater_than": "大于",
    "at_most": "不高于",
    "less_than": "低于",
    "otherwise": "其余情形",
    "class_i_at_least": "Ⅰ类不少于（件）",
    "class_ii_at_least": "Ⅱ类不少于（件）",
    "sales_up_to": "最近一年销售收入不超过",
    "rate": "比例",
    "is": "取值",
    "kind": "类别",
}


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 60.0 → "60", 0.0875 → "0.0875"."""
    text = f"{value.normalize():f}"
    return text


def percent_text(ratio: float) -> str:
    """0.1 → "10%", 0.0875 → "8.75%" (exact: the value as written, not cut for display)."""
    return f"{_plain(Decimal(str(ratio)) * 100)}%"


def wan_text(yuan: float) -> str:
    """Yuan typed in 万元, without separators: 50000000 → "5000"."""
    return _plain(Decimal(str(yuan)) / 10000)


def kind_of(value: ParameterValue) -> str:
    """How a value is shown and typed: ratio (%), money (万元), number, bool, text or table (YAML)."""
    raw = value.value
    if isinstance(raw, bool):
        return "bool"
    if is_number(raw):
        return {"比例": "ratio", "元": "money"}.get(value.unit, "number")
    if isinstance(raw, str):
        return "text"
    return "table"


def input_unit(value: ParameterValue) -> str:
    """The unit a person types the value in."""
    return {"ratio": "%", "money": "万元", "number": value.unit}.get(kind_of(value), "")


def value_text(value: ParameterValue, raw: Any = None) -> str:
    """A scalar value as people read it: 10%, 5,000万元, 365 日, 是; a table as one line."""
    raw = value.value if raw is None else raw
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if is_number(raw):
        if value.unit == "比例":
            return percent_text(raw)
        if value.unit == "元":
            return wan(raw)
        return f"{_plain(Decimal(str(raw)))} {value.unit}"
    if isinstance(raw, str):
        return raw
    return yaml.safe_dump(raw, allow_unicode=True, default_flow_style=True, sort_keys=False).strip()


def typed_text(value: ParameterValue) -> str:
    """The value as it is typed in the correction form (%, 万元, YAML for a table)."""
    raw = value.value
    kind = kind_of(value)
    if kind == "ratio":
        return _plain(Decimal(str(raw)) * 100)
    if kind == "money":
        return wan_text(raw)
    if kind == "number":
        return _plain(Decimal(str(raw)))
    if kind == "bool":
        return "true" if raw else "false"
    if kind == "text":
        return raw
    return table_yaml(raw)


def table_yaml(raw: Any) -> str:
    """A table as YAML, one band per line, as the parameter files write it."""
    if isinstance(raw, list):
        return "".join(
            "- " + yaml.safe_dump(item, allow_unicode=True, default_flow_style=True, sort_keys=False)
            for item in raw
        )
    return yaml.safe_dump(raw, allow_unicode=True, default_flow_style=None, sort_keys=False)


def _cell(key: str, raw: Any) -> str:
    if raw is None:
        return "不限" if key == "sales_up_to" else "—"
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, list):
        return "–".join(_cell(key, item) for item in raw)
    if key == "sales_up_to" and is_number(raw):
        return wan(raw)
    if key == "rate" and is_number(raw):
        return percent_text(raw)
    if isinstance(raw, float) and not raw.is_integer() and abs(raw) < 10:
        return percent_text(raw)  # a band boundary written as a fraction: 0.35 → 35%
    if is_number(raw):
        return _plain(Decimal(str(raw)))
    if isinstance(raw, dict):
        return "；".join(f"{k}：{_cell(k, v)}" for k, v in raw.items())
    return str(raw)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


def table(raw: Any) -> Table | None:
    """A band list (list of mappings) or a mapping as a readable table; None for other values."""
    if isinstance(raw, list) and raw and all(isinstance(item, dict) for item in raw):
        keys: list[str] = []
        for item in raw:
            keys += [k for k in item if k not in keys]
        return Table(
            headers=[KEY_LABELS.get(k, k) for k in keys],
            rows=[[_cell(k, item[k]) if k in item else "" for k in keys] for item in raw],
        )
    if isinstance(raw, dict):
        return Table(headers=["项", "取值"], rows=[[str(k), _cell(str(k), v)] for k, v in raw.items()])
    return None


# --- the list of dated values --------------------------------------------------------------------------------


def area_label(area: str) -> str:
    return rules.NAMES.get(area, area)


@dataclass
class ParameterRow:
    """One dated value: as in force (after any revision), as shipped, and the decision on it."""

    value: ParameterValue  # in force: the officer's decision applied
    shipped: ParameterValue  # as written in the file
    revision: ParameterRevision | None

    @property
    def path(self) -> str:
        return self.value.path

    @property
    def area(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def area_label(self) -> str:
        return area_label(self.area)

    @property
    def name(self) -> str:
        return self.path.split(".", 1)[1]

    @property
    def kind(self) -> str:
        return kind_of(self.value)

    @property
    def text(self) -> str:
        return value_text(self.value)

    @property
    def table(self) -> Table | None:
        return table(self.value.value)

    @property
    def shipped_text(self) -> str:
        return value_text(self.shipped)

    @property
    def corrected(self) -> bool:
        return self.revision is not None and self.revision.value is not None

    @property
    def awaiting(self) -> bool:
        """待核实: marked unconfirmed in the file and not yet decided."""
        return self.value.unconfirmed

    @property
    def status_label(self) -> str:
        if self.revision is not None:
            return "已核实修正" if self.corrected else "已核实确认"
        return "待核实" if self.awaiting else "已确认"

    @property
    def input_unit(self) -> str:
        return input_unit(self.value)


def parameter_rows(*, unconfirmed_only: bool = True, area: str | None = None) -> list[ParameterRow]:
    """Every dated value in force (or only those 待核实), optionally of one area (parameter file)."""
    in_force = services.parameter_set()
    shipped = parameters.default()
    revisions = {
        (r.path, r.effective_from): r for r in ParameterRevision.objects.select_related("decided_by")
    }
    rows = []
    for path in in_force.paths():
        if area and path.split(".", 1)[0] != area:
            continue
        for value, written in zip(in_force.history(path), shipped.history(path), strict=True):
            if unconfirmed_only and not value.unconfirmed:
                continue
            rows.append(ParameterRow(value, written, revisions.get((path, value.effective_from))))
    return rows


def areas() -> list[tuple[str, str]]:
    """(area, label) of every parameter file."""
    stems = sorted({path.split(".", 1)[0] for path in parameters.default().paths()})
    return [(stem, area_label(stem)) for stem in stems]


def parameter_row(path: str, effective_from: dt.date) -> ParameterRow | None:
    for row in parameter_rows(unconfirmed_only=False, area=path.split(".", 1)[0]):
        if row.path == path and row.value.effective_from == effective_from:
            return row
    return None


# --- typed value → file value ---------------------------------------------------------------------------------


class RevisionError(ValueError):
    """A decision that cannot be applied; the message is Chinese and names the parameter and value."""


def display_name(value: ParameterValue) -> str:
    return f"{value.label}（{value.path}，{value.effective_from.isoformat()} 起）"


def parse_value(value: ParameterValue, raw: str) -> Any:
    """The typed text as a value in the file's units and shape, or RevisionError.

    Ratios are typed as % (8 → 0.08), money in 万元 (5000 → 50000000 元), other numbers in their unit
    (whole numbers where the written value is whole), yes/no as true/false, and a table (bands, a
    mapping, a [min, max] pair) as YAML or JSON with the written value's fields."""
    name = display_name(value)
    kind = kind_of(value)
    raw = (raw or "").strip()
    if not raw:
        raise RevisionError(EMPTY_VALUE.format(name=name))
    if kind in ("ratio", "money", "number"):
        return _parse_number(value, raw, name, kind)
    if kind == "bool":
        if raw.lower() in ("true", "是", "1", "yes"):
            return True
        if raw.lower() in ("false", "否", "0", "no"):
            return False
        raise RevisionError(BAD_BOOL.format(name=name))
    if kind == "text":
        return raw
    try:
        parsed = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RevisionError(TABLE_SYNTAX.format(name=name, error=problem)) from None
    _check_shape(value.value, parsed, name)
    return parsed


def _parse_number(value: ParameterValue, raw: str, name: str, kind: str) -> int | float:
    allowed = {"ratio": "百分数（如 10 表示 10%）", "money": "以万元计的金额"}.get(
        kind, f"数（单位 {value.unit}）"
    )
    try:
        number = Decimal(raw.replace(",", "").replace("，", "").removesuffix("%"))
    except InvalidOperation:
        raise RevisionError(NOT_A_NUMBER.format(name=name, raw=raw, allowed=allowed)) from None
    if not number.is_finite():
        raise RevisionError(NOT_FINITE.format(name=name, raw=raw))
    if kind == "ratio":
        if not 0 <= number <= 100:
            raise RevisionError(RATIO_RANGE.format(name=name, raw=raw))
        return float(number / 100)
    unit = "万元" if kind == "money" else value.unit
    if number < 0:
        raise RevisionError(NEGATIVE.format(name=name, raw=raw, unit=unit))
    if kind == "money":
        yuan = (number * 10000).quantize(Decimal("0.01"))
        return int(yuan) if yuan == yuan.to_integral_value() else float(yuan)
    if isinstance(value.value, int):
        if number != number.to_integral_value():
            raise RevisionError(NOT_INTEGER.format(name=name, raw=raw, unit=unit))
        return int(number)
    return float(number)


def _family(raw: Any) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "bool"
    if is_number(raw):
        return "number"
    if isinstance(raw, str):
        return "text"
    if isinstance(raw, list):
        return "list"
    return "dict" if isinstance(raw, dict) else "other"


def _families(items: list[Any]) -> set[str]:
    return {_family(item) for item in items}


def _kinds_text(families: set[str]) -> str:
    return "或".join(KIND_NAMES[f] for f in sorted(families))


def _check_shape(written: Any, new: Any, name: str) -> None:
    """`new` has the shape of `written`: a list of bands with their fields, a mapping with the same
    keys, or a list of as many numbers."""
    if isinstance(written, list) and written and all(isinstance(item, dict) for item in written):
        if not isinstance(new, list) or not new:
            raise RevisionError(TABLE_SHAPE.format(name=name, shape="非空的列表（每档一项）"))
        allowed: dict[str, set[str]] = {}
        for item in written:
            for key, raw in item.items():
                allowed.setdefault(key, set()).add(_family(raw))
        required = [key for key in allowed if all(key in item for item in written)]
        numbers = {key: [item[key] for item in written if is_number(item.get(key))] for key in allowed}
        # A field written only as fractions (0.05, 0.35) is a ratio; one written only as numbers ≥ 0 stays so.
        ratios = {
            key
            for key, found in numbers.items()
            if found and all(0 <= x <= 1 for x in found) and any(isinstance(x, float) for x in found)
        }
        non_negative = {key for key, found in numbers.items() if found and all(x >= 0 for x in found)}
        for index, item in enumerate(new, start=1):
            if not isinstance(item, dict):
                raise RevisionError(TABLE_ITEM.format(name=name, index=index))
            missing = [key for key in required if key not in item]
            if missing:
                raise RevisionError(TABLE_MISSING.format(name=name, index=index, fields="、".join(missing)))
            unknown = [str(key) for key in item if key not in allowed]
            if unknown:
                raise RevisionError(
                    TABLE_UNKNOWN.format(
                        name=name, index=index, fields="、".join(unknown), allowed="、".join(allowed)
                    )
                )
            for key, raw in item.items():
                families = allowed[key]
                if _family(raw) not in families:
                    raise RevisionError(
                        TABLE_TYPE.format(
                            name=name, index=index, field=key, kinds=_kinds_text(families), raw=repr(raw)
                        )
                    )
                if isinstance(raw, list) and not all(is_number(x) and x >= 0 for x in raw):
                    raise RevisionError(
                        TABLE_TYPE.format(
                            name=name, index=index, field=key, kinds="不小于 0 的数的列表", raw=repr(raw)
                        )
                    )
                if is_number(raw) and key in ratios and not 0 <= raw <= 1:
                    raise RevisionError(TABLE_RATIO.format(name=name, index=index, field=key, raw=raw))
                if is_number(raw) and key in non_negative and raw < 0:
                    raise RevisionError(TABLE_NEGATIVE.format(name=name, index=index, field=key, raw=raw))
        return
    if isinstance(written, dict):
        if not isinstance(new, dict):
            raise RevisionError(TABLE_SHAPE.format(name=name, shape="映射（键: 值）"))
        if set(new) != set(written):
            raise RevisionError(
                TABLE_KEYS.format(
                    name=name, allowed="、".join(map(str, written)), given="、".join(map(str, new)) or "无"
                )
            )
        for key, raw in new.items():
            expected = _family(written[key])
            if _family(raw) != expected:
                raise RevisionError(
                    TABLE_TYPE.format(
                        name=name, index=1, field=key, kinds=KIND_NAMES[expected], raw=repr(raw)
                    ).replace("第1项的 ", "")
                )
            if isinstance(raw, list) and (
                len(raw) != len(written[key]) or not all(is_number(x) and x >= 0 for x in raw)
            ):
                raise RevisionError(
                    TABLE_LENGTH.format(
                        name=f"{name} {key}", length=len(written[key]), example=written[key], raw=repr(raw)
                    )
                )
        return
    if isinstance(written, list):
        if (
            not isinstance(new, list)
            or len(new) != len(written)
            or not all(is_number(x) and math.isfinite(x) and x >= 0 for x in new)
        ):
            raise RevisionError(
                TABLE_LENGTH.format(name=name, length=len(written), example=written, raw=repr(new))
            )


# --- deciding ----------------------------------------------------------------------------------------------


def _revisions(exclude: tuple[str, dt.date] | None = None) -> list[Revision]:
    """The stored decisions as engine revisions (with their who/when/what notes), but `exclude`."""
    return [
        Revision(r.path, r.effective_from, r.value, services._revision_note(r))
        for r in ParameterRevision.objects.select_related("decided_by").order_by("path", "effective_from")
        if exclude is None or (r.path, r.effective_from) != exclude
    ]


def _check_on_engine(before: parameters.ParameterSet, after: parameters.ParameterSet, value: ParameterValue):
    """Evaluate and explain one all-unknown enterprise with the revised set on a day the value is in force,
    so that a table the engine cannot read (a band without its boundary, a wrong key) is refused now
    rather than failing the next run. Skipped when even the set before the decision cannot be evaluated
    on that day (another area has no value in force then)."""
    today = timezone.localdate()
    on = max(value.effective_from, min(today, value.effective_to or today))
    frame = inputs.situation_frame([{"enterprise_id": "0"}])
    try:
        with parameters.using(before):
            rules.explain(rules.evaluate(frame, on).row(0, named=True), on)
    except Exception:
        return
    try:
        with parameters.using(after):
            rules.explain(rules.evaluate(frame, on).row(0, named=True), on)
    except Exception as error:  # any failure of the engine on the new value is the value's fault
        raise RevisionError(
            ENGINE_REFUSED.format(name=display_name(value), error=f"{type(error).__name__}: {error}")
        ) from None


def revision_check(*, path: str, effective_from: dt.date, value: Any) -> parameters.ParameterSet:
    """The set in force with this decision instead of any earlier one on the same dated value; raises
    RevisionError when the decision cannot be applied."""
    key = (path, effective_from)
    others = _revisions(exclude=key)
    try:
        before = parameters.default().revised(others)
        written = next((v for v in before.history(path) if v.effective_from == effective_from), None)
    except ParameterError as error:
        raise RevisionError(str(error)) from None
    if written is None:
        raise RevisionError(NO_SUCH_VALUE.format(path=path, effective_from=effective_from.isoformat()))
    try:
        after = before.revised([Revision(path, effective_from, value, "")])
    except ParameterError as error:
        raise RevisionError(f"{display_name(written)}：{error}") from None
    _check_on_engine(before, after, written)
    return after


def revision_decide(
    *, user, path: str, effective_from: dt.date, value: Any = None, note: str
) -> ParameterRevision:
    """Confirm (value None) or correct one dated value, replacing any earlier decision on it.

    Checked first (revision_check); nothing is saved when it fails. From the next request on, the live
    assessment and every new run use it."""
    note = (note or "").strip()
    if not note:
        raise RevisionError(NOTE_REQUIRED)
    revision_check(path=path, effective_from=effective_from, value=value)
    with transaction.atomic():
        revision, _ = ParameterRevision.objects.update_or_create(
            path=path,
            effective_from=effective_from,
            defaults={"value": value, "note": note[:300], "decided_by": user},
        )
    return revision
