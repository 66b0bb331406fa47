"""创新型中小企业评价 (innovative_sme): 工信部企业〔2022〕63号 附件1《创新型中小企业评价标准》, as Polars
expressions over the situation frame. From 2026-04-01 the same standard is applied until MIIT issues the merged
科技和创新型中小企业 standard (transition article of 工信部企业〔2026〕2号, single source: every explanation of
a later assessment says 待核实).

The enterprise qualifies by the score path (total ≥60 with 创新能力 ≥20, 成长性 ≥15 and 专业化 ≥15) or by a direct
path. The six score items are bands of the previous year's figures; an unknown input gives the item the range of
the points its bands allow ([0, max]; [5, 10] for 领域, whose lowest band is “other”; for the IP item the bands
the unknown counts still allow), so the score is a [min, max] range.

The helpers below (bands with lower or upper bounds, the IP ladder, three-valued sums and the texts) are shared
with the 专精特新 and 小巨人 modules (srdi.py, little_giant.py).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl

from kechuang.rules import parameters
from kechuang.rules.common import (
    MET,
    NOT_MET,
    RATIO_DECIMALS,
    UNKNOWN,
    Explanation,
    banded,
    fen,
    pct,
    ranges_pass,
    safe_ratio,
    status,
    wan,
    wan_up,
)

AREA = "innovative_sme"
NAME = "创新型中小企业"
AREAS = {AREA: (NAME, "inno")}
CONDITIONS = {AREA: ("inno_pass",)}
ITEMS = ("ip", "rd", "growth", "debt", "field", "main")  # the six score items, in the standard's order
GROUPS = {"cap": ("ip", "rd"), "grow": ("growth", "debt"), "spec": ("field", "main")}
RD_INSTITUTION_LEVELS = ("national", "provincial")  # 省部级以上


def _p(name: str, on: dt.date) -> parameters.ParameterValue:
    return parameters.at(f"{AREA}.{name}", on)


# --- shared expression helpers -------------------------------------------------------------------------------


def top_points(bands: list[dict[str, Any]]) -> int:
    return max(int(item["points"]) for item in bands)


def bottom_points(bands: list[dict[str, Any]]) -> int:
    """The fewest points an item can give: an unknown value still falls in one of its bands."""
    return min(int(item["points"]) for item in bands)


def band_points(value: pl.Expr, bands: list[dict[str, Any]]) -> pl.Expr:
    """The points of `value`'s band (Int64); null when the value is null (or falls in no band)."""
    return banded(value, bands, [int(item["points"]) for item in bands], pl.Int64)


def maybe_class_i() -> pl.Expr:
    """Whether the enterprise may hold a Class I item: ip_ladder reads it three times, so a module adds it as a
    helper column in a step before and passes that column."""
    hv, own, ci = (pl.col(f"ip_class_i{kind}_count") for kind in ("_high_value", "_own_rd", ""))
    return ci.is_null() | (ci >= 1) | (own >= 1) | (hv >= 1)


def ip_ladder(bands: list[dict[str, Any]], maybe_i: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(min, max) points of the 梯度培育 IP item: Ⅰ类高价值 > 自主研发Ⅰ类 > Ⅰ类 > Ⅱ类 > none; `maybe_i` is the
    column of maybe_class_i.

    The minimum is the best band the recorded counts prove, the maximum the best band the unknown counts still
    allow (a high-value or own-R&D item is a Class I item, so a known zero Class I rules both out). A null test
    is not passed (when/then takes it as false)."""
    hv, own = pl.col("ip_class_i_high_value_count"), pl.col("ip_class_i_own_rd_count")
    ci, cii = pl.col("ip_class_i_count"), pl.col("ip_class_ii_mature_count")
    any_i = (ci >= 1) | (own >= 1) | (hv >= 1)
    certain = {"high_value": hv >= 1, "own_rd": own >= 1, "class_i": any_i, "class_ii": cii >= 1}
    possible = {
        "high_value": (hv >= 1) | (hv.is_null() & maybe_i),
        "own_rd": (own >= 1) | (own.is_null() & maybe_i),
        "class_i": maybe_i,
        "class_ii": cii.is_null() | (cii >= 1),
    }
    low: Any = pl
    high: Any = pl
    for item in bands:
        pts = pl.lit(int(item["points"]), dtype=pl.Int64)
        if item.get("otherwise"):
            return low.otherwise(pts), high.otherwise(pts)
        kind = item["kind"]
        low = low.when(certain[kind]).then(pts)
        high = high.when(possible[kind]).then(pts)
    return low.otherwise(None), high.otherwise(None)


def band_of(bands: list[dict[str, Any]], low: int | None, high: int | None) -> dict[str, Any] | None:
    """The band an item's points stand for (each band of an item has its own points); None for a range."""
    if low is None or low != high:
        return None
    return next((item for item in bands if int(item["points"]) == low), None)


def sum_at_least(columns: list[str], minimum_yuan: float) -> pl.Expr:
    """Three-valued `Σ columns ≥ minimum` for amounts that are never negative: true as soon as the recorded years
    reach it, false when every year is recorded and they do not, else null. Summed in whole fen."""
    known = pl.sum_horizontal([fen(c).fill_null(0.0) for c in columns])
    missing = pl.any_horizontal([pl.col(c).is_null() for c in columns])
    return (
        pl.when(known >= round(minimum_yuan * 100))
        .then(pl.lit(True))
        .when(missing)
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(pl.lit(False))
    )


def rd_institution(levels: tuple[str, ...]) -> pl.Expr:
    """Three-valued: a 省部级以上研发机构 (provincial_rd_institution, or rd_institution_level in `levels`).
    Either record saying no (a known lower level, or provincial_rd_institution false) is enough to say no."""
    flag, level = pl.col("provincial_rd_institution"), pl.col("rd_institution_level")
    held = (flag.fill_null(False)) | level.is_in(list(levels)).fill_null(False)
    return (
        pl.when(held)
        .then(pl.lit(True))
        .when(level.is_not_null() | (~flag).fill_null(False))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )


# --- shared text helpers ---------------------------------------------------------------------------------


def pct_up(ratio: float | None) -> str:
    """A fraction as a percentage rounded up to two decimals, for a value above a ceiling (80.004% → 80.01%), so
    that a value just above a maximum never shows as the maximum."""
    if ratio is None:
        return "—"
    value = math.ceil(round(ratio * 10000, 6)) / 100
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def pp_up(difference: float) -> str:
    """A difference of two fractions in percentage points, rounded up to 0.01 pp: 0.015 → 1.5 个百分点."""
    value = math.ceil(round(difference * 10000, 6)) / 100
    return f"{value:.2f}".rstrip("0").rstrip(".") + " 个百分点"


def pts(low: int | None, high: int | None) -> str:
    if low is None or high is None:
        return "—"
    return f"{low} 分" if low == high else f"{low}–{high} 分"


def yuan_fen(value: float | None) -> float | None:
    """A yuan amount as the engine sums it: rounded to whole fen."""
    return None if value is None else round(value * 100) / 100


def known_sum(row: dict[str, Any], columns: list[str]) -> tuple[float, list[str]]:
    """(Σ recorded amounts in yuan, the columns not recorded), for texts."""
    total = sum(round(row[c] * 100) for c in columns if row[c] is not None) / 100
    return total, [c for c in columns if row[c] is None]


def amount_text(row: dict[str, Any], columns: list[str]) -> str:
    """Σ of yearly amounts for texts: 未登记 when no year is recorded, a note when some are missing."""
    total, missing = known_sum(row, columns)
    if len(missing) == len(columns):
        return "未登记"
    return wan(total) + ("（部分年度未登记）" if missing else "")


def years_text(on: dt.date, lags: tuple[int, ...]) -> str:
    years = sorted(on.year - lag for lag in lags)
    return f"{years[0]}–{years[-1]} 年" if len(years) > 1 else f"{years[0]} 年"


def missing_ratio_reason(row: dict[str, Any], numerator: dict[str, str], denominator: tuple[str, str]) -> str:
    """Why a ratio could not be computed: which inputs are not recorded, or the denominator is not positive."""
    absent = [label for column, label in (*numerator.items(), denominator) if row.get(column) is None]
    if absent:
        return f"{'、'.join(absent)}未登记，无法计算"
    column, label = denominator
    return f"{label}为 {wan(row[column])}，无法计算"


def flag_text(value: bool | None, yes: str = "是", no: str = "否", unknown: str = "未核实") -> str:
    return {True: yes, False: no, None: unknown}[value]


def on_boundary(value: float | None, bands: list[dict[str, Any]]) -> bool:
    """Whether a ratio falls exactly on a band boundary (the case the boundary rule decides)."""
    if value is None:
        return False
    bounds = [item[k] for item in bands for k in ("at_least", "at_most") if k in item]
    return any(round(value - bound, RATIO_DECIMALS) == 0 for bound in bounds)


# --- the expressions ---------------------------------------------------------------------------------------


def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `inno_*` result columns to a conformed situation frame (see inputs.conform), lazily."""
    bands = {
        "rd": _p("rd_ratio_bands", on).value,
        "growth": _p("growth_bands", on).value,
        "debt": _p("debt_bands", on).value,
        "field": _p("field_bands", on).value,
        "main": _p("main_share_bands", on).value,
    }
    need = _p("score_pass", on).value
    sales = fen("sales_revenue_lag1")
    main1, main2 = fen("main_business_revenue_lag1"), fen("main_business_revenue_lag2")
    ratios = {
        "rd": safe_ratio(fen("rd_expense_lag1"), sales),
        "growth": safe_ratio(main1 - main2, main2),
        "debt": safe_ratio(fen("total_assets_lag1") - fen("net_assets_lag1"), fen("total_assets_lag1")),
        "main": safe_ratio(main1, sales),
    }
    values = {
        **{k: pl.col(f"inno_{k}_ratio") for k in ratios},
        "field": pl.col("strategic_emerging_industry"),
    }
    ip_low, ip_high = ip_ladder(_p("ip_bands", on).value, pl.col("_inno_maybe_class_i"))
    # each item's points in a helper column (null = unknown), then filled to [lowest, highest]: one band
    # computation per item instead of two
    points = {f"_inno_{key}": band_points(values[key], item_bands) for key, item_bands in bands.items()}
    scored: dict[str, pl.Expr] = {"inno_ip_min": ip_low, "inno_ip_max": ip_high}
    for key, item_bands in bands.items():
        column = pl.col(f"_inno_{key}")
        scored |= {
            f"inno_{key}_min": column.fill_null(bottom_points(item_bands)),
            f"inno_{key}_max": column.fill_null(top_points(item_bands)),
        }
    equity = sum_at_least([f"equity_financing_lag{k}" for k in (1, 2, 3)], _p("equity_min", on).value)
    direct = pl.any_horizontal(
        pl.col("award_any_3y"),
        pl.col("hnte_valid"),
        pl.col("innovation_titles"),
        rd_institution(RD_INSTITUTION_LEVELS),
        equity,
    )
    sums = {
        f"inno_{group}_{end}": pl.sum_horizontal([f"inno_{item}_{end}" for item in items])
        for group, items in (*GROUPS.items(), ("score", ITEMS))
        for end in ("min", "max")
    }
    columns = {"total": "score", "capability": "cap", "growth": "grow", "specialisation": "spec"}
    passed = ranges_pass(
        [(pl.col(f"inno_{c}_min"), pl.col(f"inno_{c}_max"), need[key]) for key, c in columns.items()]
    )
    # A three-valued test used twice goes in a helper column first, so that it is computed once.
    return (
        frame.lazy()
        .with_columns(
            **{f"inno_{k}_ratio": v for k, v in ratios.items()},
            _inno_direct=direct,
            _inno_maybe_class_i=maybe_class_i(),
        )
        .with_columns(inno_direct=status(pl.col("_inno_direct")), **points)
        .with_columns(**scored)
        .with_columns(**sums)
        .with_columns(_inno_passed=passed)
        .with_columns(
            inno_score_pass=status(pl.col("_inno_passed")),
            inno_pass=status(pl.col("_inno_passed") | pl.col("_inno_direct")),
        )
    )


# --- explanations ----------------------------------------------------------------------------------------


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    """The Chinese explanation of the score path, the direct path and the six score items of one evaluated row."""
    return {AREA: [_score_path(row, on), _direct(row, on), *score_items(row, on)]}


_GROUP_NAMES = {"cap": "创新能力", "grow": "成长性", "spec": "专业化"}
_NEED_KEYS = {"cap": "capability", "grow": "growth", "spec": "specialisation"}


def _score_path(row: dict[str, Any], on: dt.date) -> Explanation:
    p, standard = _p("score_pass", on), _p("standard", on)
    need = p.value
    groups = "，".join(f"{_GROUP_NAMES[g]} {pts(row[f'inno_{g}_min'], row[f'inno_{g}_max'])}" for g in GROUPS)
    e = Explanation(
        f"{AREA}.score",
        "评价得分",
        row["inno_score_pass"],
        f"得分 {pts(row['inno_score_min'], row['inno_score_max'])}（{groups}）",
        f"≥{need['total']} 分，且创新能力 ≥{need['capability']} 分、成长性 ≥{need['growth']} 分、"
        f"专业化 ≥{need['specialisation']} 分",
        p.source,
        unconfirmed=standard.unconfirmed,
    )
    if e.status != MET:
        gaps = []
        for key, label, column in (
            ("total", "总分", "score"),
            *((_NEED_KEYS[g], _GROUP_NAMES[g], g) for g in GROUPS),
        ):
            low, high, minimum = row[f"inno_{column}_min"], row[f"inno_{column}_max"], need[key]
            if low == high and low < minimum:
                gaps.append(f"{label}还差 {minimum - low} 分")
            elif high < minimum:
                gaps.append(f"{label}即使按可能的最高分计仍差 {minimum - high} 分")
            elif low < minimum:
                gaps.append(f"{label}按已登记数据的最低分计还差 {minimum - low} 分（部分指标数据未登记）")
        gaps.extend(_hints(row, on))
        e.gap = "；".join(gaps)
    if row["inno_direct"] == MET:
        e.notes.append("已符合直接认定条件，不需评分")
    e.notes.append(f"适用标准：{standard.value}（{standard.source}）")
    return e


def _hints(row: dict[str, Any], on: dt.date) -> list[str]:
    """What would raise the score by one band, in the enterprise's own terms."""
    hints = []
    rd_bands = _p("rd_ratio_bands", on).value
    band = band_of(rd_bands, row["inno_rd_min"], row["inno_rd_max"])
    sales, rd = row["sales_revenue_lag1"], row["rd_expense_lag1"]
    if band is not None and rd_bands.index(band) > 0 and sales and rd is not None:
        better = rd_bands[rd_bands.index(band) - 1]
        more = better["at_least"] * yuan_fen(sales) - yuan_fen(rd)
        hints.append(
            f"研发费用占营业收入 {pct(row['inno_rd_ratio'])}，达到 {pct(better['at_least'])} 可得 {better['points']} 分，"
            f"按上年营业收入计需增加研发费用约 {wan_up(more)}"
        )
    if row["inno_ip_max"] is not None and row["inno_ip_max"] < 15:
        hints.append("取得自主研发的Ⅰ类知识产权（如发明专利）或Ⅰ类高价值知识产权，知识产权指标可得 15–20 分")
    return hints


def _direct(row: dict[str, Any], on: dt.date) -> Explanation:
    p, minimum, period = _p("direct_paths", on), _p("equity_min", on), _p("equity_period", on)
    columns = [f"equity_financing_lag{k}" for k in (1, 2, 3)]
    total, missing = known_sum(row, columns)
    years = years_text(on, (1, 2, 3))
    equity_held = total >= minimum.value
    institution = (
        True
        if row["provincial_rd_institution"] or row["rd_institution_level"] in RD_INSTITUTION_LEVELS
        else (
            False
            if row["rd_institution_level"] is not None or row["provincial_rd_institution"] is False
            else None
        )
    )
    states = {
        "award_any_3y": row["award_any_3y"],
        "hnte_valid": row["hnte_valid"],
        "innovation_titles": row["innovation_titles"],
        "rd_institution": institution,
        "equity": True if equity_held else (None if missing else False),
    }
    held = [p.value[k] for k, v in states.items() if v]
    unknown = [p.value[k] for k, v in states.items() if v is None]
    equity_text = f"近三年（{years}）新增股权融资 {amount_text(row, columns)}"
    if held:
        value = "；".join(held)
    elif unknown:
        value = "未登记：" + "；".join(unknown)
    else:
        value = "无"
    e = Explanation(
        f"{AREA}.direct",
        "直接认定",
        row["inno_direct"],
        f"{value}（{equity_text}）",
        "符合任一直接认定情形",
        p.source,
        unconfirmed=_p("standard", on).unconfirmed or (equity_held and period.unconfirmed),
    )
    if e.status == NOT_MET:
        e.gap = (
            "以下情形均不具备：" + "；".join(p.value.values()) + f"。其中近三年新增股权融资再增加 "
            f"{wan_up(minimum.value - total)} 即可达到 {wan(minimum.value)}"
        )
    elif e.status == UNKNOWN:
        e.gap = "需核实并登记：" + "；".join(unknown)
    e.notes.append(f"“近三年”按{period.value}计，即 {years}（{period.source}）")
    return e


_ITEM_TEXT = {
    "rd": ("研发费用占营业收入", {"rd_expense_lag1": "上年研发费用"}, ("sales_revenue_lag1", "上年营业收入")),
    "growth": (
        "主营业务收入增长率",
        {"main_business_revenue_lag1": "上年主营业务收入"},
        ("main_business_revenue_lag2", "上上年主营业务收入"),
    ),
    "debt": ("资产负债率", {"net_assets_lag1": "上年末净资产"}, ("total_assets_lag1", "上年末资产总额")),
    "main": (
        "主营业务收入占营业收入",
        {"main_business_revenue_lag1": "上年主营业务收入"},
        ("sales_revenue_lag1", "上年营业收入"),
    ),
}
_ITEM_PARAMETER = {
    "rd": "rd_ratio_bands",
    "growth": "growth_bands",
    "debt": "debt_bands",
    "field": "field_bands",
    "main": "main_share_bands",
}


def score_items(row: dict[str, Any], on: dt.date) -> list[Explanation]:
    boundary_rule = _p("band_boundary_rule", on)
    unconfirmed_standard = _p("standard", on).unconfirmed
    items = [_ip_item(row, on)]
    for key in ITEMS[1:]:
        p = _p(_ITEM_PARAMETER[key], on)
        low, high = row[f"inno_{key}_min"], row[f"inno_{key}_max"]
        band = band_of(p.value, low, high)
        if key == "field":
            shown = flag_text(
                row["strategic_emerging_industry"], "属于《战略性新兴产业分类》", "不属于", "未核实"
            )
            value = f"主导产品{shown}" + (f"，{band['band']} 档（{band['label']}）" if band else "")
        else:
            label, numerator, denominator = _ITEM_TEXT[key]
            ratio = row[f"inno_{key}_ratio"]
            shown = pct_up(ratio) if key == "debt" else pct(ratio)
            value = (
                f"{label} {shown}，{band['band']} 档（{band['label']}）"
                if band
                else f"{label}：{missing_ratio_reason(row, numerator, denominator)}"
            )
        item = Explanation(
            f"{AREA}.S.{key}",
            p.label,
            MET if low == high else UNKNOWN,
            f"{value}，得分 {pts(low, high)}",
            "",
            p.source,
            kind="score",
            unconfirmed=unconfirmed_standard,
        )
        if key != "field" and on_boundary(row[f"inno_{key}_ratio"], p.value):
            item.notes.append(f"恰在档位边界，{boundary_rule.value}（{boundary_rule.source}）")
            item.unconfirmed = True
        items.append(item)
    return items


def _ip_item(row: dict[str, Any], on: dt.date) -> Explanation:
    p, definitions = _p("ip_bands", on), _p("ip_definitions", on)
    low, high = row["inno_ip_min"], row["inno_ip_max"]
    band = band_of(p.value, low, high)
    counts = "，".join(
        f"{label} {'未登记' if row[c] is None else row[c]} 件"
        for c, label in (
            ("ip_class_i_high_value_count", "Ⅰ类高价值"),
            ("ip_class_i_own_rd_count", "自主研发Ⅰ类"),
            ("ip_class_i_count", "Ⅰ类"),
            ("ip_class_ii_mature_count", "Ⅱ类（梯度培育口径）"),
        )
    )
    shown = f"{band['band']} 档（{band['label']}）" if band else "部分数量未登记，按可能的档位计"
    item = Explanation(
        f"{AREA}.S.ip",
        p.label,
        MET if low == high else UNKNOWN,
        f"{counts}；{shown}，得分 {pts(low, high)}",
        "",
        p.source,
        kind="score",
        unconfirmed=definitions.unconfirmed or _p("standard", on).unconfirmed,
    )
    item.notes.append(f"知识产权类别按{definitions.label}：{definitions.value}（{definitions.source}）")
    item.notes.append("按企业库登记的有效知识产权计，与主导产品的相关性须企业申报时说明")
    return item
