"""Pieces every rule uses: three-valued status, bands as Polars expressions, whole-fen money, Chinese text."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
STATUS = pl.Enum([MET, NOT_MET, UNKNOWN])
# Status literals typed as the enum: a string literal cast afterwards costs three to four times as much
# on a million rows (benchmarks/bench_tiering.py).
MET_LIT, NOT_MET_LIT, UNKNOWN_LIT = (pl.lit(v, dtype=STATUS) for v in (MET, NOT_MET, UNKNOWN))
STATUS_TEXT = {MET: "满足", NOT_MET: "不满足", UNKNOWN: "无法判断"}
# Ratios are compared after rounding to this many decimals, so that float noise (0.1 × 3 = 0.30000000000000004)
# never moves a value across a band boundary; 1e-9 is far below any real difference of whole fen.
RATIO_DECIMALS = 9


_STATUSES = pl.Series("status", [MET, NOT_MET, UNKNOWN], dtype=STATUS)


def status(condition: pl.Expr) -> pl.Expr:
    """True → met, False → not_met, null → unknown.

    By position in the three statuses rather than a when/then on the condition, which Polars would
    compute twice (once for is_null, once for the value)."""
    return pl.lit(_STATUSES).gather((~condition).cast(pl.UInt32).fill_null(2))


def overall(columns: list[str]) -> pl.Expr:
    """A qualification from its condition statuses: not_met if any is not met, met if all are, else unknown."""
    return (
        pl.when(pl.any_horizontal([pl.col(c) == NOT_MET for c in columns]))
        .then(NOT_MET_LIT)
        .when(pl.all_horizontal([pl.col(c) == MET for c in columns]))
        .then(MET_LIT)
        .otherwise(UNKNOWN_LIT)
    )


def fen(column: str) -> pl.Expr:
    """A yuan column as whole fen (Float64 holding an integer), so that sums are exact."""
    return (pl.col(column).cast(pl.Float64) * 100).round(0)


def at_least_yuan(column: str, yuan: float) -> pl.Expr:
    """A yuan column at or above an amount, compared in whole fen (null stays null)."""
    return fen(column) >= round(yuan * 100)


def safe_ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator, null when either is null or the denominator is not positive."""
    return (
        pl.when(denominator.is_null() | numerator.is_null() | (denominator <= 0))
        .then(None)
        .otherwise(numerator / denominator)
        .round(RATIO_DECIMALS)
    )


def band_dtype(bands: list[dict[str, Any]]) -> pl.Enum:
    """The band letters of a table as an enum: on a million rows, enum literals cost a fraction of strings."""
    return pl.Enum([item["band"] for item in bands])


def band(value: pl.Expr, bands: list[dict[str, Any]]) -> pl.Expr:
    """The band letter of `value` over bands tried top-down (`at_least`, `greater_than`, `otherwise`); null stays null."""
    dtype = band_dtype(bands)
    expr: Any = pl.when(value.is_null()).then(pl.lit(None, dtype=dtype))
    for item in bands:
        letter = pl.lit(item["band"], dtype=dtype)
        if "at_least" in item:
            expr = expr.when(value >= item["at_least"]).then(letter)
        elif "greater_than" in item:
            expr = expr.when(value > item["greater_than"]).then(letter)
        elif item.get("otherwise"):
            return expr.otherwise(letter)
    return expr.otherwise(None)


def ip_band(class_i: pl.Expr, class_ii: pl.Expr, bands: list[dict[str, Any]]) -> pl.Expr:
    """The band letter from counts of Class I and Class II IP; null when a needed count is unknown."""
    dtype = band_dtype(bands)
    first = bands[0]  # the Class I band comes first: one Class I item outranks any number of Class II
    expr: Any = pl.when(class_i >= first["class_i_at_least"]).then(pl.lit(first["band"], dtype=dtype))
    expr = expr.when(class_i.is_null() | class_ii.is_null()).then(pl.lit(None, dtype=dtype))
    for item in bands[1:]:
        letter = pl.lit(item["band"], dtype=dtype)
        if "class_ii_at_least" in item:
            expr = expr.when(class_ii >= item["class_ii_at_least"]).then(letter)
        elif item.get("otherwise"):
            return expr.otherwise(letter)
    return expr.otherwise(None)


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
