"""瞪羚企业 (gazelle) and 潜力瞪羚企业 (potential_gazelle): growth tiers by a local definition, read from the
dated parameters of parameters/gazelle.yaml; and the growth criteria that unicorn.py and pools.py share.

Gazelle lists are local: every district sets its own definition, and no Songjiang (or Shanghai) one was found.
The shipped definition is the 广州市黄埔区、广州开发区 one of 2022 [S15], encoded as a stand-in with status
unconfirmed (every explanation says 待核实). The district's own definition replaces it by a YAML edit: give the
stand-in an `effective_to` and add the new dated value; no code change.

A definition is a list of alternative *paths* (满足任一); a path is a mapping of criteria that must all hold,
with a `label` and an optional `note` shown with it. The criteria (all amounts in yuan, rates as fractions):

    founded_within_years: N        founded no more than N years ago (counted by `founding_age_rule`)
    revenue_at_least: X            营业收入 of the cut-off year t ≥ X
    revenue_greater_than: X        营业收入 of year t > X (突破)
    revenue_below: X               营业收入 of year t < X
    base_revenue_at_least: X       营业收入 of the base year t−n ≥ X (n = cagr_years, default 3)
    cagr_at_least: g               (R_t / R_{t−n})^(1/n) − 1 ≥ g; cagr_years: n (1–3, default 3)
    yoy_at_least: g                R_t / R_{t−1} − 1 ≥ g
    positive_growth: true          R_t > R_{t−1} (截止年正增长)
    equity_financing_at_least: X   equity_financing_total ≥ X
    valuation_at_least_usd: X      valuation_lag1 ≥ X USD at the module's CNY-per-USD rate
    valuation_greater_than_usd: X  valuation_lag1 > X USD at that rate

Years. The assessment date's year is y; the cut-off year (截止年) t = y−1 reads `sales_revenue_lag1`, t−1 reads
`_lag2`, and the base year t−3 of the 3-year CAGR reads `_lag4`. Revenue is 营业收入 = `sales_revenue`. Rates are
rounded to RATIO_DECIMALS before comparison, so 1000万 → 1728万 over three years is exactly 20%.

Founding age (`founding_age_rule`, one per definition):
- `cutoff_year`: founded ≤ N years ⇔ registration year ≥ t − N. The gazelle and unicorn texts count this way:
  黄埔 “注册成立时间距截止年不超过5年”, 长城 “2016年榜单：2006年及以后成立”.
- `assessment_date`: founded ≤ N years ⇔ the assessment date is not after the N-th anniversary of the
  registration date (an anniversary of 29 February falls on 28 February).

Missing and odd data never crash and never silently fail:
- a null input gives unknown;
- a year before the founding has no revenue: a null figure for it counts as 0, and a growth rate whose base year
  precedes the founding is not met, with that reason (the enterprise has no such growth record);
- a base recorded as 0 in a year the enterprise existed gives no rate: unknown (需人工判断);
- a negative revenue is treated as not recorded (unknown, 请核对);
- a registration date after the assessment date makes the founding-age criteria unknown (请核对).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

import polars as pl

from kechuang.rules import parameters
from kechuang.rules.common import (
    MET,
    MET_LIT,
    NOT_MET,
    RATIO_DECIMALS,
    STATUS_TEXT,
    UNKNOWN,
    Explanation,
    fen,
    num,
    pct,
    status,
    wan,
    wan_up,
)
from kechuang.rules.parameters import ParameterError, ParameterValue

AREA, POTENTIAL = "gazelle", "potential_gazelle"
AREAS = {AREA: ("瞪羚企业", "gaz"), POTENTIAL: ("潜力瞪羚企业", "pgaz")}
CONDITIONS = {AREA: ("gaz_hnte", "gaz_growth"), POTENTIAL: ("pgaz_hnte", "pgaz_growth")}
# area → (result column, parameter: must hold a valid 高企 certificate, parameter: the growth paths)
_DEFINITIONS = {
    AREA: ("gaz", "requires_hnte", "paths"),
    POTENTIAL: ("pgaz", "potential_requires_hnte", "potential_paths"),
}


def _p(name: str, on: dt.date) -> ParameterValue:
    return parameters.at(f"{AREA}.{name}", on)


# === three-valued helpers ====================================================================================


def any_path(basis: Basis, result: str, paths: list[dict[str, Any]]) -> pl.Expr:
    """Met if any path is met, not met if every path is not met, else unknown: the Kleene `or` of the paths'
    tests (the boolean columns of growth_stages; null is unknown)."""
    return status(pl.any_horizontal(pl.col(_test(basis, result, i)) for i in range(1, len(paths) + 1)))


def met() -> pl.Expr:
    """A condition that always holds (a requirement the definition in force does not make)."""
    return MET_LIT


# === the shared growth criteria ==============================================================================

AGE_RULES = {
    "cutoff_year": "按年份计：截止年（评价年度的上一年）减成立年份",
    "assessment_date": "按日计：评价日不晚于成立满 N 周年之日",
}
REVENUE_CRITERIA = (
    "founded_within_years",
    "revenue_at_least",
    "revenue_greater_than",
    "revenue_below",
    "base_revenue_at_least",
    "cagr_at_least",
    "yoy_at_least",
    "positive_growth",
    "equity_financing_at_least",
)
VALUATION_CRITERIA = ("valuation_at_least_usd", "valuation_greater_than_usd")
_YEARS_CN = {1: "一", 2: "两", 3: "三"}


@dataclass(frozen=True)
class Basis:
    """What the growth criteria of one module read besides the row: the date, the founding-age rule, the rate."""

    on: dt.date
    prefix: str  # helper columns, e.g. "_gaz_": the module drops them
    age_rule: ParameterValue
    cny_per_usd: ParameterValue | None = None

    @property
    def t(self) -> int:
        """The cut-off year (截止年): the last complete accounting year, y−1."""
        return self.on.year - 1

    @property
    def rule(self) -> str:
        return str(self.age_rule.value)


def make_basis(
    on: dt.date, prefix: str, age_rule: ParameterValue, cny_per_usd: ParameterValue | None = None
) -> Basis:
    if age_rule.value not in AGE_RULES:
        raise ParameterError(
            f"参数 {age_rule.path}：成立年限口径须为 {' 或 '.join(AGE_RULES)}，而不是 {age_rule.value!r}"
        )
    if cny_per_usd is not None and (
        not isinstance(cny_per_usd.value, int | float)
        or isinstance(cny_per_usd.value, bool)
        or cny_per_usd.value <= 0
    ):
        raise ParameterError(f"参数 {cny_per_usd.path}：汇率须为正数，而不是 {cny_per_usd.value!r}")
    return Basis(on, prefix, age_rule, cny_per_usd)


def check_paths(p: ParameterValue, allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    """The paths of a definition, checked: a non-empty list of mappings with a label and known criteria."""
    if not isinstance(p.value, list) or not p.value:
        raise ParameterError(f"参数 {p.path}：须为非空的路径列表")
    for index, path in enumerate(p.value, start=1):
        where = f"参数 {p.path} 路径{index}"
        if not isinstance(path, dict) or not isinstance(path.get("label"), str):
            raise ParameterError(f"{where}：须为含 label 的映射")
        unknown = set(path) - {"label", "note", "cagr_years"} - set(allowed)
        if unknown:
            raise ParameterError(
                f"{where}：未知条件 {', '.join(sorted(unknown))}（可用：{', '.join(allowed)}）"
            )
        criteria = criteria_of(path)
        if not criteria:
            raise ParameterError(f"{where}：至少须有一项条件")
        for key, value in criteria:
            if key == "positive_growth":
                if not isinstance(value, bool):
                    raise ParameterError(f"{where}：positive_growth 须为 true 或 false")
            elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ParameterError(f"{where}：{key} 须为不小于 0 的数，而不是 {value!r}")
        if path.get("cagr_years", 3) not in (1, 2, 3):
            raise ParameterError(f"{where}：cagr_years 须为 1、2 或 3")
    return p.value


def criteria_of(path: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in path.items() if k not in ("label", "note", "cagr_years")]


def _years_n(path: dict[str, Any]) -> int:
    return int(path.get("cagr_years", 3))


def earliest_registration(basis: Basis, years: int) -> dt.date:
    """The earliest registration date still counted as founded within `years` years."""
    if basis.rule == "cutoff_year":
        return dt.date(basis.t - years, 1, 1)
    on = basis.on
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February: the anniversary of 1 March is the first one on or after it
        return dt.date(on.year - years, 3, 1)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return dt.date(day.year + years, 2, 28)


# --- Polars side ----------------------------------------------------------------------------------------


def helper_columns(basis: Basis) -> dict[str, pl.Expr]:
    """`<prefix>pre{k}`: year y−k precedes the founding; `<prefix>r{k}`: revenue of y−k in fen (0 before the
    founding when not recorded, null when negative), for k = 1..4."""
    reg = pl.col("registration_date")
    columns: dict[str, pl.Expr] = {}
    for k in (1, 2, 3, 4):
        # founded in a year after y−k, and not after the assessment date (date literals: no per-row calendar math)
        pre = reg.is_between(dt.date(basis.on.year - k + 1, 1, 1), basis.on)
        raw, yuan_fen = pl.col(f"sales_revenue_lag{k}"), fen(f"sales_revenue_lag{k}")
        columns[f"{basis.prefix}pre{k}"] = pre
        columns[f"{basis.prefix}r{k}"] = (
            pl.when(yuan_fen >= 0).then(yuan_fen).when(raw.is_null() & pre).then(0.0)
        )
    return columns


def _r(basis: Basis, k: int) -> pl.Expr:
    return pl.col(f"{basis.prefix}r{k}")


def cagr(basis: Basis, years: int = 3) -> pl.Expr:
    """(R_t / R_{t−n})^(1/n) − 1, rounded; null unless the base is positive and R_t known."""
    base = _r(basis, 1 + years)
    return pl.when(base > 0).then(((_r(basis, 1) / base).pow(1.0 / years) - 1).round(RATIO_DECIMALS))


def yoy(basis: Basis) -> pl.Expr:
    """R_t / R_{t−1} − 1, rounded; null unless R_{t−1} is positive and R_t known."""
    prev = _r(basis, 2)
    return pl.when(prev > 0).then((_r(basis, 1) / prev - 1).round(RATIO_DECIMALS))


def founded_within(basis: Basis, years: int) -> pl.Expr:
    reg = pl.col("registration_date")
    return pl.when(reg <= basis.on).then(reg >= earliest_registration(basis, years))


def age_years(basis: Basis) -> pl.Expr:
    """Years since founding as the rule counts them: t − registration year, or whole years to the assessment
    date (the number of anniversaries on or before it, found by binary search in the dates that reach their
    k-th anniversary by then: no per-row month and day, which cost several times more on a million rows)."""
    reg = pl.col("registration_date")
    if basis.rule == "cutoff_year":
        years = pl.lit(basis.t) - reg.dt.year()
    else:
        count = basis.on.year - 1
        latest = pl.Series([latest_registration(basis.on, k) for k in range(count, 0, -1)], dtype=pl.Date)
        years = pl.lit(count) - pl.lit(latest).search_sorted(reg, side="left").cast(pl.Int64)
    return pl.when(reg <= basis.on).then(years.cast(pl.Int64))


def latest_registration(on: dt.date, years: int) -> dt.date:
    """The latest registration date whose `years`-th anniversary (29 February → 28 February) is not after `on`."""
    if (on.month, on.day) == (2, 28):
        with contextlib.suppress(ValueError):
            return dt.date(on.year - years, 2, 29)
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # on is 29 February and the year is not a leap year
        return dt.date(on.year - years, 2, 28)


def usd_fen(basis: Basis, usd: float) -> int:
    """A USD amount as whole fen of yuan at the basis rate."""
    assert basis.cny_per_usd is not None, "a valuation criterion needs the CNY-per-USD rate"
    return round(usd * basis.cny_per_usd.value * 100)


def criterion(key: str, value: Any, path: dict[str, Any], basis: Basis) -> pl.Expr:
    """One criterion of a path as a nullable boolean expression (Kleene logic combines them)."""
    n = _years_n(path)
    pre = lambda k: pl.col(f"{basis.prefix}pre{k}")  # noqa: E731
    if key == "founded_within_years":
        return founded_within(basis, int(value))
    if key == "revenue_at_least":
        return _r(basis, 1) >= value * 100
    if key == "revenue_greater_than":
        return _r(basis, 1) > value * 100
    if key == "revenue_below":
        return _r(basis, 1) < value * 100
    if key == "base_revenue_at_least":
        return _r(basis, 1 + n) >= value * 100
    if key == "cagr_at_least":  # not met when the base year precedes the founding
        return ~pre(1 + n).fill_null(False) & (pl.col(f"{basis.prefix}cagr{n}") >= value)
    if key == "yoy_at_least":
        return ~pre(2).fill_null(False) & (pl.col(f"{basis.prefix}yoy") >= value)
    if key == "positive_growth":
        return _r(basis, 1) > _r(basis, 2) if value else pl.lit(True)
    if key == "equity_financing_at_least":
        return fen("equity_financing_total") >= value * 100
    if key == "valuation_at_least_usd":
        return fen("valuation_lag1") >= usd_fen(basis, value)
    if key == "valuation_greater_than_usd":
        return fen("valuation_lag1") > usd_fen(basis, value)
    raise ParameterError(f"未知条件 {key}")


_REVENUE_BASED = {
    "revenue_at_least",
    "revenue_greater_than",
    "revenue_below",
    "base_revenue_at_least",
    "cagr_at_least",
    "yoy_at_least",
    "positive_growth",
}


def _test(basis: Basis, result: str, index: int) -> str:
    """The helper column of a path's test: a nullable boolean."""
    return f"{basis.prefix}{result}_b{index}"


def growth_stages(
    basis: Basis,
    definitions: dict[str, list[dict[str, Any]]],
    cagr_years: tuple[int, ...] = (),
    with_yoy: bool = False,
) -> tuple[list[dict[str, pl.Expr]], dict[str, pl.Expr]]:
    """The columns of the paths of each definition ({result: paths}): the stages to add in order (revenue
    helpers, rates `<prefix>cagr{n}` and `<prefix>yoy`, each path's test as a boolean), and each path's
    status `<result>_p{i}`, which the module adds with its own next columns. Each stage reads only columns
    of the stages before it, so no expression is computed twice. The helper columns start with the basis
    prefix (the engine leaves them out of the result)."""
    prefix = basis.prefix
    paths = [path for items in definitions.values() for path in items]
    keys = {key for path in paths for key, _ in criteria_of(path)}
    windows = set(cagr_years) | {_years_n(path) for path in paths if "cagr_at_least" in path}
    stages: list[dict[str, pl.Expr]] = []
    if keys & _REVENUE_BASED or windows or with_yoy:
        stages.append(helper_columns(basis))
        rates = {f"{prefix}cagr{n}": cagr(basis, n) for n in sorted(windows)}
        if with_yoy or "yoy_at_least" in keys:
            rates[f"{prefix}yoy"] = yoy(basis)
        if rates:
            stages.append(rates)
    stages.append(
        {
            _test(basis, result, index): reduce(
                lambda a, b: a & b, [criterion(k, v, path, basis) for k, v in criteria_of(path)]
            )
            for result, items in definitions.items()
            for index, path in enumerate(items, start=1)
        }
    )
    statuses = {
        f"{result}_p{index}": status(pl.col(_test(basis, result, index)))
        for result, items in definitions.items()
        for index, _ in enumerate(items, start=1)
    }
    return stages, statuses


# --- Python side: the same criteria on one row, for the explanation ---------------------------------------


def _fen(yuan: float) -> float:
    return round(yuan * 100)


@dataclass
class Part:
    """One criterion on one row: whether it holds (None = unknown), in the enterprise's own terms."""

    ok: bool | None
    value: str
    threshold: str
    gap: str = ""
    note: str = ""
    unconfirmed: bool = False  # reads a parameter marked unconfirmed (founding-age rule, exchange rate)


class Figures:
    """The row's figures as the criteria read them (mirrors helper_columns)."""

    def __init__(self, row: dict[str, Any], basis: Basis):
        self.row, self.basis, self.t = row, basis, basis.t
        self.reg: dt.date | None = row["registration_date"]

    def year(self, k: int) -> int:
        return self.basis.on.year - k

    def pre(self, k: int) -> bool | None:
        if self.reg is None:
            return None
        return self.reg <= self.basis.on and self.reg.year > self.year(k)

    def revenue(self, k: int) -> float | None:
        raw = self.row[f"sales_revenue_lag{k}"]
        if raw is None:
            return 0.0 if self.pre(k) else None
        return None if _fen(raw) < 0 else raw

    def missing(self, k: int, threshold: str) -> Part:
        raw = self.row[f"sales_revenue_lag{k}"]
        if raw is not None and _fen(raw) < 0:
            return Part(
                None, f"{self.year(k)}年营业收入为负数（{wan(raw)}）", threshold, "营业收入不应为负数，请核对"
            )
        return Part(None, f"{self.year(k)}年营业收入未登记", threshold, f"请补充 {self.year(k)} 年营业收入")


def _founded(f: Figures, years: int) -> Part:
    basis, reg, on, t = f.basis, f.reg, f.basis.on, f.t
    note = f"成立年限{AGE_RULES[basis.rule].replace('N', str(years))}（{basis.age_rule.source}）"
    if basis.rule == "cutoff_year":
        threshold = f"成立不超过 {years} 年（{t - years} 年及以后成立）"
    else:
        threshold = f"成立不超过 {years} 年（评价日不晚于成立满 {years} 周年之日）"
    if reg is None:
        return Part(None, "成立日期未登记", threshold, "请补充成立日期", note)
    if reg > on:
        return Part(
            None,
            f"成立日期 {reg.isoformat()} 晚于评价日期 {on.isoformat()}",
            threshold,
            "成立日期有误，请核对",
            note,
        )
    if basis.rule == "cutoff_year":
        age = t - reg.year
        value = (
            f"成立于 {reg.isoformat()}，距截止年（{t}年）{age} 年"
            if age >= 0
            else f"成立于 {reg.isoformat()}（截止年 {t} 年之后）"
        )
        ok = reg.year >= t - years
        gap = "" if ok else f"成立已 {age} 年，超过 {years} 年，此项已不能满足"
        return Part(ok, value, threshold, gap, note)
    whole = on.year - reg.year
    while whole > 0 and add_years(reg, whole) > on:
        whole -= 1
    days = (on - add_years(reg, whole)).days
    value = f"成立于 {reg.isoformat()}，至评价日已成立 {whole} 年" + (f"又 {days} 日" if days else "")
    anniversary = add_years(reg, years)
    ok = on <= anniversary
    gap = "" if ok else f"已于 {anniversary.isoformat()} 成立满 {years} 年，此项已不能满足"
    return Part(ok, value, threshold, gap, note)


def _revenue(f: Figures, key: str, amount: float) -> Part:
    t = f.t
    threshold = {
        "revenue_at_least": f"{t}年营业收入 ≥{wan(amount)}",
        "revenue_greater_than": f"{t}年营业收入超过 {wan(amount)}",
        "revenue_below": f"{t}年营业收入低于 {wan(amount)}",
    }[key]
    r1 = f.revenue(1)
    if r1 is None:
        return f.missing(1, threshold)
    value = f"{t}年营业收入 {wan(r1)}"
    if key == "revenue_at_least":
        ok = _fen(r1) >= amount * 100
        return Part(ok, value, threshold, "" if ok else f"营业收入还差 {wan_up(amount - r1)}")
    if key == "revenue_greater_than":
        ok = _fen(r1) > amount * 100
        gap = (
            ""
            if ok
            else f"营业收入须超过 {wan(amount)}"
            + (
                f"，现恰为 {wan(amount)}"
                if _fen(r1) == amount * 100
                else f"，还差 {wan_up(amount - r1)} 以上"
            )
        )
        return Part(ok, value, threshold, gap)
    ok = _fen(r1) < amount * 100
    return Part(ok, value, threshold, "" if ok else f"营业收入已达到上限 {wan(amount)}（不含）")


def _base(f: Figures, amount: float, n: int) -> Part:
    year = f.year(1 + n)
    threshold = f"基期（{year}年）营业收入 ≥{wan(amount)}"
    base = f.revenue(1 + n)
    if base is None:
        return f.missing(1 + n, threshold)
    if f.pre(1 + n):
        return Part(
            False, f"基期（{year}年）企业尚未成立", threshold, f"企业 {year} 年尚未成立，没有基期营业收入"
        )
    ok = _fen(base) >= amount * 100
    value = f"基期（{year}年）营业收入 {wan(base)}"
    return Part(
        ok, value, threshold, "" if ok else f"基期营业收入比 {wan(amount)} 少 {wan_up(amount - base)}"
    )


def _cagr(f: Figures, rate: float, n: int) -> Part:
    t, year = f.t, f.year(1 + n)
    threshold = f"近{_YEARS_CN[n]}年营业收入复合增长率 ≥{pct(rate)}"
    if f.pre(1 + n):
        return Part(
            False,
            f"企业 {year} 年尚未成立",
            threshold,
            f"成立不满{_YEARS_CN[n]}个完整年度，尚无近{_YEARS_CN[n]}年复合增长率",
        )
    base, r1 = f.revenue(1 + n), f.revenue(1)
    if base is None:
        return f.missing(1 + n, threshold)
    if r1 is None:
        return f.missing(1, threshold)
    if _fen(base) <= 0:
        return Part(None, f"基期（{year}年）营业收入为 0，复合增长率无法计算", threshold, "需人工判断")
    achieved = round((_fen(r1) / _fen(base)) ** (1 / n) - 1, RATIO_DECIMALS)
    ok = achieved >= rate
    value = f"近{_YEARS_CN[n]}年复合增长率 {pct(achieved)}（{year}年 {wan(base)} → {t}年 {wan(r1)}）"
    if ok:
        return Part(ok, value, threshold)
    need = math.ceil(round(_fen(base) * (1 + rate) ** n, 4)) / 100
    gap = f"按基期 {wan(base)} 计，{t}年营业收入需达到 {wan_up(need)}，还差 {wan_up(need - r1)}"
    return Part(ok, value, threshold, gap)


def _yoy(f: Figures, rate: float) -> Part:
    t = f.t
    threshold = f"营业收入同比增长率 ≥{pct(rate)}"
    if f.pre(2):
        return Part(
            False, f"企业 {t - 1} 年尚未成立", threshold, f"尚无 {t - 1} 年营业收入，没有同比增长记录"
        )
    prev, r1 = f.revenue(2), f.revenue(1)
    if prev is None:
        return f.missing(2, threshold)
    if r1 is None:
        return f.missing(1, threshold)
    if _fen(prev) <= 0:
        return Part(None, f"{t - 1}年营业收入为 0，同比增长率无法计算", threshold, "需人工判断")
    achieved = round(_fen(r1) / _fen(prev) - 1, RATIO_DECIMALS)
    ok = achieved >= rate
    value = f"同比增长率 {pct(achieved)}（{t - 1}年 {wan(prev)} → {t}年 {wan(r1)}）"
    if ok:
        return Part(ok, value, threshold)
    need = math.ceil(round(_fen(prev) * (1 + rate), 4)) / 100
    gap = f"按 {t - 1} 年 {wan(prev)} 计，{t}年营业收入需达到 {wan_up(need)}，还差 {wan_up(need - r1)}"
    return Part(ok, value, threshold, gap)


def _positive(f: Figures) -> Part:
    t = f.t
    threshold = f"截止年（{t}年）营业收入高于上年"
    prev, r1 = f.revenue(2), f.revenue(1)
    if prev is None:
        return f.missing(2, threshold)
    if r1 is None:
        return f.missing(1, threshold)
    ok = _fen(r1) > _fen(prev)
    value = f"{t - 1}年 {wan(prev)} → {t}年 {wan(r1)}"
    if ok:
        return Part(ok, value, threshold)
    gap = (
        "截止年营业收入与上年持平" if _fen(r1) == _fen(prev) else f"截止年营业收入比上年下降 {wan(prev - r1)}"
    )
    return Part(ok, value, threshold, gap)


def _equity(f: Figures, amount: float) -> Part:
    threshold = f"累计股权融资 ≥{wan(amount)}"
    total = f.row["equity_financing_total"]
    if total is None:
        return Part(None, "累计股权融资未登记", threshold, "请补充股权融资记录")
    ok = _fen(total) >= amount * 100
    return Part(
        ok, f"累计股权融资 {wan(total)}", threshold, "" if ok else f"股权融资还差 {wan_up(amount - total)}"
    )


def usd_text(usd: float, cut: bool = False) -> str:
    """USD as 亿美元; `cut` truncates to two decimals so a value just below a threshold never shows as it."""
    hundred_millions = (
        math.floor(round(usd, 2) / 1e6) / 100 if cut else usd / 1e8
    )  # cents first: no float noise
    return f"{num(hundred_millions)}亿美元"


def _valuation(f: Figures, key: str, usd: float) -> Part:
    basis = f.basis
    rate = basis.cny_per_usd
    assert rate is not None
    greater = key == "valuation_greater_than_usd"
    bar = usd_fen(basis, usd) / 100
    threshold = f"估值{'超过' if greater else '不低于'} {usd_text(usd)}（按 1 美元 = {num(rate.value, ' 元')}折合 {wan(bar)}）"
    note = f"美元折算汇率 1 美元 = {num(rate.value, ' 元')}（{rate.source}）"
    value_yuan = f.row["valuation_lag1"]
    if value_yuan is None:
        return Part(None, f"{f.t}年估值未登记", threshold, "请补充最近一轮融资的投后估值", note)
    ok = _fen(value_yuan) > bar * 100 if greater else _fen(value_yuan) >= bar * 100
    value = f"{f.t}年估值 {wan(value_yuan)}（约 {usd_text(value_yuan / rate.value, cut=True)}）"
    if ok:
        return Part(ok, value, threshold, "", note)
    if greater and _fen(value_yuan) == bar * 100:
        gap = f"估值恰为 {usd_text(usd)}，须超过"
    else:
        gap = f"估值还差 {wan_up(bar - value_yuan)}" + (" 以上" if greater else "")
    return Part(ok, value, threshold, gap, note)


def _flagged(result: Part, p: ParameterValue | None) -> Part:
    result.unconfirmed = p is not None and p.unconfirmed
    return result


_PARTS: dict[str, Callable[[Figures, Any, dict[str, Any]], Part]] = {
    "founded_within_years": lambda f, v, path: _flagged(_founded(f, int(v)), f.basis.age_rule),
    "revenue_at_least": lambda f, v, path: _revenue(f, "revenue_at_least", v),
    "revenue_greater_than": lambda f, v, path: _revenue(f, "revenue_greater_than", v),
    "revenue_below": lambda f, v, path: _revenue(f, "revenue_below", v),
    "base_revenue_at_least": lambda f, v, path: _base(f, v, _years_n(path)),
    "cagr_at_least": lambda f, v, path: _cagr(f, v, _years_n(path)),
    "yoy_at_least": lambda f, v, path: _yoy(f, v),
    "positive_growth": lambda f, v, path: _positive(f) if v else Part(True, "", ""),
    "equity_financing_at_least": lambda f, v, path: _equity(f, v),
    "valuation_at_least_usd": lambda f, v, path: _flagged(
        _valuation(f, "valuation_at_least_usd", v), f.basis.cny_per_usd
    ),
    "valuation_greater_than_usd": lambda f, v, path: _flagged(
        _valuation(f, "valuation_greater_than_usd", v), f.basis.cny_per_usd
    ),
}


def part(key: str, value: Any, path: dict[str, Any], figures: Figures) -> Part:
    return _PARTS[key](figures, value, path)


def _unique(texts: list[str]) -> list[str]:
    return [t for i, t in enumerate(texts) if t and t not in texts[:i]]


def path_explanations(
    area: str,
    code: str,
    label: str,
    result: str,
    p: ParameterValue,
    row: dict[str, Any],
    figures: Figures,
) -> list[Explanation]:
    """The any-of condition `<area>.<code>` (kind condition) followed by one item per path (kind path)."""
    items = []
    for index, path in enumerate(p.value, start=1):
        parts = [part(k, v, path, figures) for k, v in criteria_of(path)]
        item = Explanation(
            f"{area}.P{index}",
            f"路径{index}：{path['label']}",
            row[f"{result}_p{index}"],
            "；".join(_unique([x.value for x in parts])),
            "，".join(_unique([x.threshold for x in parts])),
            p.source,
            unconfirmed=p.unconfirmed,
            kind="path",
        )
        if item.status != MET:
            item.gap = "；".join(_unique([x.gap for x in parts if x.ok is not True]))
        if path.get("note"):
            item.notes.append(str(path["note"]))
        item.notes.extend(_unique([x.note for x in parts]))
        item.unconfirmed = item.unconfirmed or any(x.unconfirmed for x in parts)
        items.append(item)
    summary = Explanation(
        f"{area}.{code}",
        label,
        row[f"{result}_{code}"],
        "；".join(f"路径{i} {STATUS_TEXT[e.status]}" for i, e in enumerate(items, start=1)),
        "满足以下任一路径：" + "；".join(f"（{i}）{e.threshold}" for i, e in enumerate(items, start=1)),
        p.source,
        unconfirmed=any(e.unconfirmed for e in items),
    )
    if summary.status != MET:
        summary.gap = "；".join(f"路径{i}：{e.gap}" for i, e in enumerate(items, start=1) if e.gap)
    summary.notes.extend(
        f"路径{i}（{e.label.split('：', 1)[1]}）：{e.value}" for i, e in enumerate(items, start=1)
    )
    return [summary, *items]


def flag_explanation(
    code: str,
    label: str,
    status_value: str,
    value: bool | None,
    texts: tuple[str, str, str],
    p: ParameterValue,
) -> Explanation:
    """A yes/no fact (e.g. 高企证书): texts = (what is needed, gap when false, gap when unknown)."""
    e = Explanation(
        code,
        label,
        status_value,
        {True: "是", False: "否", None: "未登记"}[value],
        texts[0],
        p.source,
        unconfirmed=p.unconfirmed,
    )
    if status_value == NOT_MET:
        e.gap = texts[1]
    elif status_value == UNKNOWN:
        e.gap = texts[2]
    return e


# === the gazelle module =========================================================================================


def _basis(on: dt.date) -> Basis:
    return make_basis(on, "_gaz_", _p("founding_age_rule", on))


def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `gaz_*` and `pgaz_*` result columns to a conformed situation frame, lazily."""
    basis = _basis(on)
    definitions = {
        result: check_paths(_p(paths_name, on), REVENUE_CRITERIA)
        for result, _, paths_name in _DEFINITIONS.values()
    }
    lazy = frame.lazy()
    stages, path_statuses = growth_stages(basis, definitions, cagr_years=(3,), with_yoy=True)
    for stage in stages:
        lazy = lazy.with_columns(**stage)
    columns = {
        f"{result}_hnte": status(pl.col("hnte_valid")) if _p(hnte_name, on).value else met()
        for result, hnte_name, _ in _DEFINITIONS.values()
    }
    return lazy.with_columns(
        **path_statuses,
        gaz_cagr=pl.col("_gaz_cagr3"),
        gaz_yoy=pl.col("_gaz_yoy"),
        gaz_age=age_years(basis),
        **columns,
        **{f"{result}_growth": any_path(basis, result, paths) for result, paths in definitions.items()},
    )


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    figures = Figures(row, _basis(on))
    result: dict[str, list[Explanation]] = {}
    for area, (res, hnte_name, paths_name) in _DEFINITIONS.items():
        hp, pp = _p(hnte_name, on), _p(paths_name, on)
        check_paths(pp, REVENUE_CRITERIA)
        if hp.value:
            hnte = flag_explanation(
                f"{area}.hnte",
                "有效期内的高新技术企业",
                row[f"{res}_hnte"],
                row["hnte_valid"],
                ("持有有效期内的高新技术企业证书", "需先取得高新技术企业认定", "高企证书状态未登记"),
                hp,
            )
        else:
            hnte = Explanation(
                f"{area}.hnte",
                "有效期内的高新技术企业",
                MET,
                "现行定义不要求",
                "—",
                hp.source,
                unconfirmed=hp.unconfirmed,
            )
        growth = path_explanations(area, "growth", "成长性（满足任一路径）", res, pp, row, figures)
        result[area] = [hnte, *growth]
    return result
