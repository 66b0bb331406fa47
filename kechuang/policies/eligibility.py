"""Eligibility of a policy item: a list of conditions stored as data (JSON), checked at save with Chinese messages
naming the unknown column, operator or value, and compiled to three-valued Polars expressions over the policy
frame (columns.py): True met, False not met, null unknown (data missing) — never silently "not met".

    [{"kind": "qualification", "qualification": "hnte", "test": "new"}]        新认定高企 (certificate issued in the period)
    [{"kind": "qualification", "qualification": "hnte", "test": "held"}]       holds a valid 高企 certificate
    [{"kind": "assessed", "area": "tech_sme"}]                                  assessed as met by the rules engine
    [{"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": 2000000}]
    [{"kind": "compare", "column": "park", "op": "in", "value": ["张江高新区松江园"]}]
    [{"kind": "any", "conditions": [...]}]                                      at least one of (Kleene or)

Every item is also held to one implicit first condition: the enterprise is in business (企业状态为存续): a moved-out
or deregistered enterprise never receives a benefit. A condition may carry its own "label".

Operators: numeric and date columns >= > <= < == !=; text columns == != in not_in; yes/no columns "is" with
true or false. Money is yuan. A park named in `in` / `not_in` counts with its sub-parks (the caller passes the
park tree).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from kechuang import rules
from kechuang.policies import columns as cols
from kechuang.rules.common import MET, NOT_MET, UNKNOWN

KINDS = {"qualification": "资质", "assessed": "评价结果", "compare": "数据比较", "any": "任一满足"}
TESTS = {"held": "持有有效证书", "new": "期间内新认定"}
NUMBER_OPS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
TEXT_OPS = {"==": "为", "!=": "不为", "in": "属于", "not_in": "不属于"}
FLAG_OPS = {"is": "为"}
MAX_CONDITIONS = 20
CODE_LISTS: dict[str, dict[str, str]] = {"status": cols.ENTERPRISE_STATUS}  # more given by the caller

IN_BUSINESS = {
    "kind": "compare",
    "column": "status",
    "op": "==",
    "value": "active",
    "label": "企业状态为存续（在营）",
}


class EligibilityError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("；".join(problems))


# --- checking ---------------------------------------------------------------------------------------------


def check(conditions: Any, *, code_lists: Mapping[str, Mapping[str, str]] | None = None) -> list[dict]:
    """The conditions as stored (a list of dicts), checked; EligibilityError names every problem.
    `code_lists`: {column: {code: label}} for text columns whose values are codes (industry, hitech_field) or
    names (park)."""
    lists = {**CODE_LISTS, **(code_lists or {})}
    if conditions in (None, ""):
        conditions = []
    if not isinstance(conditions, list):
        raise EligibilityError(['资格条件须为列表：[{"kind": …}, …]'])
    if len(conditions) > MAX_CONDITIONS:
        raise EligibilityError([f"资格条件至多 {MAX_CONDITIONS} 项"])
    problems: list[str] = []
    for number, condition in enumerate(conditions, 1):
        _check_one(condition, f"第 {number} 项条件", lists, problems, depth=0)
    if problems:
        raise EligibilityError(problems)
    return conditions


def _check_one(condition: Any, where: str, lists, problems: list[str], *, depth: int) -> None:
    if not isinstance(condition, dict):
        problems.append(f'{where}：须为对象，如 {{"kind": "compare", "column": …, "op": …, "value": …}}')
        return
    kind = condition.get("kind")
    allowed = {
        "qualification": {"kind", "qualification", "test", "label"},
        "assessed": {"kind", "area", "label"},
        "compare": {"kind", "column", "op", "value", "label"},
        "any": {"kind", "conditions", "label"},
    }
    if kind not in allowed:
        problems.append(
            f"{where}：未知的条件类型 {kind!r}，可用 " + "、".join(f"{k}（{v}）" for k, v in KINDS.items())
        )
        return
    unknown = set(condition) - allowed[kind]
    if unknown:
        problems.append(f"{where}：未知字段 {sorted(unknown)}，{kind} 条件可用 {sorted(allowed[kind])}")
    label = condition.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > 100):
        problems.append(f"{where}：label 须为不超过 100 字的文字")
    if kind == "qualification":
        if condition.get("qualification") not in cols.QUALIFICATION_KINDS:
            problems.append(
                f"{where}：未知的资质 {condition.get('qualification')!r}，可用 "
                + "、".join(f"{k}（{v}）" for k, v in cols.QUALIFICATION_KINDS.items())
            )
        if condition.get("test", "held") not in TESTS:
            problems.append(
                f"{where}：未知的资质条件 {condition.get('test')!r}，可用 "
                + "、".join(f"{k}（{v}）" for k, v in TESTS.items())
            )
    elif kind == "assessed":
        if condition.get("area") not in rules.QUALIFICATIONS:
            problems.append(
                f"{where}：未知的评价项 {condition.get('area')!r}，可用 "
                + "、".join(f"{k}（{v}）" for k, v in rules.NAMES.items())
            )
    elif kind == "compare":
        _check_compare(condition, where, lists, problems)
    else:
        inner = condition.get("conditions")
        if depth >= 1:
            problems.append(f"{where}：“任一满足”不能再嵌套“任一满足”")
        elif not isinstance(inner, list) or len(inner) < 2:
            problems.append(f"{where}：“任一满足”须列出至少两项条件 conditions")
        else:
            for number, item in enumerate(inner, 1):
                _check_one(item, f"{where}之第 {number} 项", lists, problems, depth=depth + 1)


def _check_compare(condition: dict, where: str, lists, problems: list[str]) -> None:
    name, op, value = condition.get("column"), condition.get("op"), condition.get("value")
    column = cols.COLUMNS.get(name) if isinstance(name, str) else None
    if column is None:
        problems.append(f"{where}：未知的数据列 {name!r}（可用的数据列见编辑页的“可用数据列”）")
        return
    ops = _ops_for(column)
    if op not in ops:
        problems.append(
            f"{where}：数据列“{column.label}”不能用运算符 {op!r}，可用 " + "、".join(f"{k}" for k in ops)
        )
        return
    if column.numeric:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}：“{column.label}”须与数字比较，收到 {value!r}")
    elif column.unit == cols.DATE:
        if not isinstance(value, str) or _date(value) is None:
            problems.append(f"{where}：“{column.label}”须与日期比较（YYYY-MM-DD），收到 {value!r}")
    elif column.unit == cols.FLAG:
        if not isinstance(value, bool):
            problems.append(f"{where}：“{column.label}”的取值须为 true 或 false，收到 {value!r}")
    else:
        values = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            problems.append(f"{where}：运算符 {op} 须与非空列表比较，收到 {value!r}")
            return
        if not all(isinstance(v, str) for v in values):
            problems.append(f"{where}：“{column.label}”须与文字比较，收到 {value!r}")
            return
        allowed = lists.get(name)
        if allowed is not None:
            bad = [v for v in values if v not in allowed]
            if bad:
                shown = "、".join(f"{k}（{v}）" if k != v else k for k, v in list(allowed.items())[:30])
                problems.append(f"{where}：“{column.label}”没有取值 {'、'.join(bad)}，可用 {shown}")


def _ops_for(column: cols.PolicyColumn) -> dict[str, str]:
    if column.numeric or column.unit == cols.DATE:
        return NUMBER_OPS
    if column.unit == cols.FLAG:
        return FLAG_OPS
    return TEXT_OPS


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def columns_read(conditions: list[dict]) -> list[str]:
    """The policy frame's columns the conditions read (with the implicit one), in order."""
    found: list[str] = []
    for condition in [IN_BUSINESS, *conditions]:
        for name in _columns_of(condition):
            if name not in found:
                found.append(name)
    return found


def _columns_of(condition: dict) -> list[str]:
    kind = condition["kind"]
    if kind == "qualification":
        return [f"{condition.get('test', 'held')}_{condition['qualification']}"]
    if kind == "assessed":
        return [cols.ASSESSED[condition["area"]]]
    if kind == "compare":
        return [condition["column"]]
    return [name for inner in condition["conditions"] for name in _columns_of(inner)]


def uses_assessment(conditions: list[dict]) -> bool:
    """Whether any condition reads a result of the rules engine (then the run evaluates every qualification)."""
    return any(name.startswith("assessed_") for name in columns_read(conditions))


# --- compiling --------------------------------------------------------------------------------------------


@dataclass
class Condition:
    """One compiled condition: a three-valued Boolean, the enterprise's value as text, and static words."""

    label: str
    requirement: str
    holds: pl.Expr  # Boolean: True met, False not met, null unknown
    value: pl.Expr  # String
    raw: dict  # the condition as stored (with the implicit one)
    columns: list[str]


def compile_conditions(
    conditions: list[dict],
    on: dt.date,
    *,
    parks: Mapping[str, list[str]] | None = None,
    code_lists: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Condition]:
    """The implicit in-business condition, then each stored one, compiled for a run dated `on`.
    `parks`: park name → its name and every sub-park's, so that `in` a park includes its sub-parks."""
    return [
        _compile(c, on, parks or {}, {**CODE_LISTS, **(code_lists or {})}) for c in [IN_BUSINESS, *conditions]
    ]


def _compile(condition: dict, on: dt.date, parks, lists) -> Condition:
    kind = condition["kind"]
    if kind == "qualification":
        test, qualification = condition.get("test", "held"), condition["qualification"]
        column = f"{test}_{qualification}"
        name = cols.QUALIFICATION_KINDS[qualification]
        label = condition.get("label") or (
            f"持有有效期内的{name}证书" if test == "held" else f"于兑现期间内新认定为{name}"
        )
        requirement = (
            f"于 {on.isoformat()} 持有有效的{name}证书" if test == "held" else f"期间内取得{name}证书"
        )
        holds = pl.col(column)
        value = pl.when(holds).then(pl.lit("是")).when(~holds).then(pl.lit("否")).otherwise(pl.lit("未登记"))
        return Condition(label, requirement, holds, value, condition, [column])
    if kind == "assessed":
        area = condition["area"]
        column = cols.ASSESSED[area]
        label = condition.get("label") or f"经评价满足{rules.NAMES[area]}条件"
        status = pl.col(column).cast(pl.String)
        holds = pl.when(status == MET).then(True).when(status == NOT_MET).then(False).otherwise(None)
        value = status.replace_strict(
            {MET: "满足", NOT_MET: "不满足", UNKNOWN: "待定（数据缺失或需专家评审）"}, default="未评价"
        )
        return Condition(
            label, f"梯度评价结果为“满足”（{rules.NAMES[area]}）", holds, value, condition, [column]
        )
    if kind == "compare":
        return _compile_compare(condition, on, parks, lists)
    parts = [_compile(inner, on, parks, lists) for inner in condition["conditions"]]
    holds = pl.any_horizontal([p.holds for p in parts])
    value = pl.concat_str([pl.lit(f"{p.label}：") + p.value for p in parts], separator="；")
    label = condition.get("label") or "以下任一满足：" + "；".join(p.label for p in parts)
    requirement = "任一满足：" + "；".join(p.requirement for p in parts)
    return Condition(label, requirement, holds, value, condition, [c for p in parts for c in p.columns])


def _compile_compare(condition: dict, on: dt.date, parks, lists) -> Condition:
    name, op, target = condition["column"], condition["op"], condition["value"]
    column = cols.COLUMNS[name]
    label = condition.get("label") or column.label_on(on)
    col = pl.col(name)
    if column.numeric or column.unit == cols.DATE:
        literal = pl.lit(_date(target)) if column.unit == cols.DATE else pl.lit(float(target))
        value_expr = col.cast(pl.Float64) if column.numeric else col
        if column.unit == cols.MONEY:  # compared in whole fen, as the rules engine does
            value_expr, literal = (value_expr * 100).round(0), pl.lit(round(float(target) * 100))
        holds = {
            ">=": value_expr >= literal,
            ">": value_expr > literal,
            "<=": value_expr <= literal,
            "<": value_expr < literal,
            "==": value_expr == literal,
            "!=": value_expr != literal,
        }[op]
        requirement = f"{NUMBER_OPS[op]} {cols.python_value_text(target, column.unit)}"
        return Condition(label, requirement, holds, cols.value_text(col, column.unit), condition, [name])
    if column.unit == cols.FLAG:
        holds = col == pl.lit(bool(target))
        requirement = "是" if target else "否"
        return Condition(label, requirement, holds, cols.value_text(col, column.unit), condition, [name])
    codes = lists.get(name, {})
    targets = target if op in ("in", "not_in") else [target]
    expanded = sorted({member for t in targets for member in (parks.get(t, [t]) if name == "park" else [t])})
    shown = "、".join(codes.get(t, t) if name != "park" else t for t in targets)
    if name == "park" and any(len(parks.get(t, [t])) > 1 for t in targets):
        shown += "（含下级园区）"
    inside = col.is_in(pl.lit(pl.Series(expanded, dtype=pl.String)).implode())
    # is_in of a null is null: an enterprise whose park (industry …) is not recorded is unknown, not "not in".
    inside = pl.when(col.is_null()).then(None).otherwise(inside)
    holds = inside if op in ("in", "==") else ~inside
    requirement = f"{TEXT_OPS[op]} {shown}"
    value = col.replace_strict(codes, default=col) if codes and name != "park" else col
    return Condition(label, requirement, holds, value.fill_null(pl.lit("未登记")), condition, [name])


def status_of(holds: pl.Expr) -> pl.Expr:
    """met / not_met / unknown of a three-valued condition (as text)."""
    return pl.when(holds).then(pl.lit(MET)).when(~holds).then(pl.lit(NOT_MET)).otherwise(pl.lit(UNKNOWN))
