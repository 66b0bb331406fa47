"""Pieces every rule uses: three-valued status, bands as Polars expressions, whole-fen money, Chinese text."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from kechuang.rules import inputs
from kechuang.rules.parameters import ParameterError

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
STATUS = pl.Enum([MET, NOT_MET, UNKNOWN])
# Status literals typed as the enum: a string literal cast afterwards costs three to four times as much
# on a million rows (benchmarks/bench_tiering.py).
MET_LIT, NOT_MET_LIT, UNKNOWN_LIT = (pl.lit(v, dtype=STATUS) for v in (MET, NOT_MET, UNKNOWN))
STATUS_TEXT = {MET: "满足", NOT_MET: "不满足", UNKNOWN: "无法判断"}
# Ratios are compared after rounding to this many decimals, so that float noise (0.1 × 3 = 0.30000000000000004)
# never moves a value across a band boundary; 1e-9 is far below any real difference of whole fen.
RATIO_DECIMALS = 9


_BY_CONDITION = pl.Series("status", [NOT_MET, MET, UNKNOWN], dtype=STATUS)  # by False, True, null


def status(condition: pl.Expr) -> pl.Expr:
    """True → met, False → not_met, null → unknown.

    By position in a table of statuses rather than a when/then on the condition, which Polars would
    compute twice (once for is_null, once for the value)."""
    return pl.lit(_BY_CONDITION).gather(condition.cast(pl.UInt32).fill_null(2))


# A qualification from its condition statuses. Each status weighs 0 (met), 1 (not met) or 32 (unknown), so one
# sum holds both counts (for fewer than 32 conditions) and the counts and the qualification are looked up by
# it: five expression nodes per condition instead of fourteen comparisons, and on one enterprise the time is
# Polars' fixed cost per node.
_UNKNOWN_WEIGHT = 32
_WEIGHTS = pl.Series([0, 1, _UNKNOWN_WEIGHT], dtype=pl.Int16)  # by position in STATUS


def weight_sum(columns: Sequence[str]) -> pl.Expr:
    """Σ of the weights of condition status columns: not-met count + 32 × unknown count."""
    assert len(columns) < _UNKNOWN_WEIGHT, "too many conditions for the weight sum"
    return pl.sum_horizontal(pl.lit(_WEIGHTS).gather(pl.col(c).to_physical()) for c in columns)


@functools.cache
def _by_weight_sum(count: int) -> tuple[pl.Series, pl.Series, pl.Series]:
    sums = range(_UNKNOWN_WEIGHT * count + 1)
    unmet = [total % _UNKNOWN_WEIGHT for total in sums]
    unknown = [total // _UNKNOWN_WEIGHT for total in sums]
    overall = [NOT_MET if u else UNKNOWN if k else MET for u, k in zip(unmet, unknown, strict=True)]
    return (
        pl.Series(overall, dtype=STATUS),
        pl.Series(unmet, dtype=pl.Int8),
        pl.Series(unknown, dtype=pl.Int8),
    )


def overall(weights: pl.Expr, count: int) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(status, not-met count, unknown count) of a qualification from the weight sum of its `count` conditions:
    not_met if any is not met, met if all are, else unknown."""
    return tuple(pl.lit(table).gather(weights) for table in _by_weight_sum(count))


def ranges_pass(ranges: list[tuple[pl.Expr, pl.Expr, int]]) -> pl.Expr:
    """Boolean (three-valued) `score ≥ minimum` for every (low, high, minimum) of score ranges whose ends are
    known: true when every low end reaches its minimum, false when a high end misses its minimum, else null
    (Kleene logic: true `and` null is null, false `or` null is null)."""
    lows = pl.all_horizontal([low >= minimum for low, _, minimum in ranges])
    highs = pl.all_horizontal([high >= minimum for _, high, minimum in ranges])
    return lows | (highs & pl.lit(None, dtype=pl.Boolean))


def fen(column: str) -> pl.Expr:
    """A yuan column as whole fen (Float64 holding an integer), so that sums are exact."""
    assert inputs.SCHEMA[column] == inputs.MONEY, f"{column} is not a money column"
    return (pl.col(column) * 100).round(0)


def at_least_yuan(column: str, yuan: float) -> pl.Expr:
    """A yuan column at or above an amount, compared in whole fen (null stays null)."""
    return fen(column) >= round(yuan * 100)


def safe_ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator, null when either is null or the denominator is not positive (a null
    numerator gives a null quotient, a null comparison falls through to null)."""
    return pl.when(denominator > 0).then(numerator / denominator).round(RATIO_DECIMALS)


def band_dtype(bands: list[dict[str, Any]]) -> pl.Enum:
    """The band letters of a table as an enum: on a million rows, enum literals cost a fraction of strings."""
    return pl.Enum([item["band"] for item in bands])


# A band table is tried top-down: each band has a bound (`at_least` / `greater_than`, or `at_most` / `less_than`)
# or a value (`is`), and an `otherwise` band takes the rest. A value's band is found by one binary search in the
# bounds (one lookup for `is`) and read from a table, not by a when/then per band: a fifth of the cost on one
# enterprise, where the time is Polars' fixed cost per expression node.
# Every bound is turned into "the least value at or above it": a lower bound is the least value in its band,
# an upper bound is followed by the least value above its band (floats: the next one up).
_LOWER = {"at_least": lambda bound: bound, "greater_than": lambda bound: math.nextafter(bound, math.inf)}
_UPPER = {"at_most": lambda bound: math.nextafter(bound, math.inf), "less_than": lambda bound: bound}


def banded(value: pl.Expr, bands: list[dict[str, Any]], outputs: list[Any], dtype: Any) -> pl.Expr:
    """outputs[i] for the first of `bands` (tried top-down) that `value` falls in, or for the `otherwise` band
    when it falls in none (null without one); a null value gives null."""
    tested = list(itertools.takewhile(lambda item: not item.get("otherwise"), bands))
    fallback = outputs[len(tested)] if len(tested) < len(bands) else None
    found = outputs[: len(tested)]
    kinds = [next((kind for kind in (*_LOWER, *_UPPER, "is") if kind in item), None) for item in tested]
    if set(kinds) <= {"is"}:
        keys = [item["is"] for item in tested]
        matched = value.replace_strict(keys, found, default=fallback, return_dtype=dtype)
        return matched if fallback is None else pl.when(value.is_not_null()).then(matched).otherwise(None)
    if set(kinds) <= set(_LOWER):  # the more bounds the value reaches, the higher its band
        bounds = [_LOWER[kind](item[kind]) for kind, item in zip(kinds, tested, strict=True)][::-1]
        table = [fallback, *found[::-1]]
    elif set(kinds) <= set(_UPPER):  # the more bands the value is above, the lower its band
        bounds = [_UPPER[kind](item[kind]) for kind, item in zip(kinds, tested, strict=True)]
        table = [*found, fallback]
    else:
        raise ParameterError(f"档位表须全为下限、全为上限或全为取值：{bands}")
    if bounds != sorted(bounds):
        raise ParameterError(f"档位表须自上而下按界限依次排列：{bands}")
    # A null value sorts before every bound, any other value at or after −∞: position 0 is for null.
    position = pl.lit(pl.Series([-math.inf, *bounds], dtype=pl.Float64)).search_sorted(value, side="right")
    return pl.lit(pl.Series([None, *table], dtype=dtype)).gather(position)


def band(value: pl.Expr, bands: list[dict[str, Any]]) -> pl.Expr:
    """The band letter of `value` over bands tried top-down (`at_least`, `greater_than`, `otherwise`); null stays null."""
    return banded(value, bands, [item["band"] for item in bands], band_dtype(bands))


def ip_band(class_i: pl.Expr, class_ii: pl.Expr, bands: list[dict[str, Any]]) -> pl.Expr:
    """The band letter from counts of Class I and Class II IP; null when a needed count is unknown."""
    dtype = band_dtype(bands)
    # The Class I band comes first: one Class I item outranks any number of Class II.
    first, rest = bands[0], bands[1:]
    by_class_ii = banded(
        class_ii,
        [{"at_least": item["class_ii_at_least"]} if "class_ii_at_least" in item else item for item in rest],
        [item["band"] for item in rest],
        dtype,
    )
    return (
        pl.when(class_i >= first["class_i_at_least"])
        .then(pl.lit(first["band"], dtype=dtype))
        .when(class_i.is_not_null())
        .then(by_class_ii)
        .otherwise(None)
    )


def points(bands: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Band letter → (min, max) points; a single number means min = max."""
    result = {}
    for item in bands:
        raw = item["points"]
        result[item["band"]] = (raw[0], raw[1]) if isinstance(raw, list) else (raw, raw)
    return result


def band_points(
    band_expr: pl.Expr, bands: list[dict[str, Any]], unknown: tuple[int, int]
) -> tuple[pl.Expr, pl.Expr]:
    """(min, max) point expressions for a band letter; an unknown band gives the `unknown` range."""
    table = points(bands)
    position = band_expr.to_physical()  # the band's index in its table (band_dtype keeps the table's order)

    def lookup(side: int, missing: int) -> pl.Expr:
        # Picking by position: faster than a when/then per band on one row and on a million alike.
        values = pl.Series([table[item["band"]][side] for item in bands], dtype=pl.Int64)
        return pl.lit(values).gather(position).fill_null(missing)

    return lookup(0, unknown[0]), lookup(1, unknown[1])


# --- Chinese text -------------------------------------------------------------------------------------


def pct(ratio: float | None) -> str:
    """A fraction as a percentage, cut (not rounded) to two decimals so a value just below a threshold never
    shows as the threshold: 0.0499999 → 4.99%, 0.05 → 5%, 0.087 → 8.7%."""
    if ratio is None:
        return "—"
    value = math.floor(round(ratio * 10000, 6)) / 100
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def wan(yuan: float | None) -> str:
    """Yuan as 万元 with thousands separators and at most two decimals (80000000 → 8,000万元); whole
    tenths of 亿 from 1亿 up as 亿元 (200000000 → 2亿元), as the documents write them."""
    if yuan is None:
        return "—"
    if abs(yuan) >= 100_000_000 and yuan % 10_000_000 == 0:
        return f"{yuan / 100_000_000:g}亿元"
    value = round(yuan / 10000, 2)
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}万元"


def wan_up(yuan: float) -> str:
    """A shortfall in 万元, rounded up to the next 0.01万元 (100 yuan) so that adding it is enough."""
    return wan(math.ceil(round(yuan / 100, 6)) * 100)


def num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def date_text(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


@dataclass
class Explanation:
    """One condition or score item of one enterprise, in Chinese."""

    code: str  # e.g. "hnte.H4"
    label: str
    status: str  # met / not_met / unknown (for score items: the item's own state)
    value: str  # the enterprise's value
    threshold: str
    source: str
    gap: str = ""  # what is missing, in the enterprise's own terms; empty when met
    notes: list[str] = field(default_factory=list)
    unconfirmed: bool = False  # uses a parameter marked unconfirmed: the text says 待核实
    kind: str = "condition"  # or "score": a score item, whose value states its band and points

    @property
    def text(self) -> str:
        if self.kind == "score":
            parts = [f"【评分】{self.label}：{self.value}"]
            if self.gap:
                parts.append(self.gap)
        else:
            head = f"【{STATUS_TEXT[self.status]}】{self.label}：{self.value}，需 {self.threshold}"
            parts = [f"{head}，{self.gap}" if self.gap else head]
        parts.extend(self.notes)
        parts.append(f"依据：{self.source}")
        text = "。".join(parts) + "。"
        if self.unconfirmed and "待核实" not in text:
            text += "（所用参数待核实）"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "status": self.status,
            "value": self.value,
            "threshold": self.threshold,
            "source": self.source,
            "gap": self.gap,
            "notes": list(self.notes),
            "unconfirmed": self.unconfirmed,
            "kind": self.kind,
            "text": self.text,
        }
