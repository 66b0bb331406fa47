"""专精特新中小企业 (srdi), in two regimes chosen by the assessment date (parameter `srdi.regime`):

- 2022 (工信部企业〔2022〕63号 附件2, 2022-08-01 to 2026-03-31): four conditions — 细分市场 ≥2 years, R&D
  ≥100万元 and ≥3% of 营业收入, 营业收入 ≥1000万元 (or 近2年股权融资 ≥2000万元), and the 13-indicator score
  ≥60 (a [min, max] range) or one of the direct paths;
- 2026 (工信部企业〔2026〕2号 附件1, from 2026-04-01): six conditions — the 科技和创新型 title, 细分市场 ≥3 years,
  scale (营业收入 ≥1500万元 or 股权 ≥2000万元; 主营占比 ≥80%; 资产负债率 ≤80%), R&D ≥100万元 and ≥3% in each
  of the last two years, ≥1 Ⅰ类 main-product IP (or a waiver), 市场地位 (manual), and the platform's
  专精特新发展评价得分 ≥50 (ingested, never recomputed).

The condition columns are the same in both regimes so that the population can be compared across dates; a
condition the regime in force does not have is `met` (不适用) and is left out of the explanation. The 2022
score columns are null under the 2026 regime.
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
    STATUS,
    UNKNOWN,
    Explanation,
    at_least_yuan,
    fen,
    num,
    pct,
    ranges_pass,
    safe_ratio,
    status,
    wan,
    wan_up,
)
from kechuang.rules.innovative_sme import (
    amount_text,
    band_points,
    bottom_points,
    flag_text,
    ip_ladder,
    known_sum,
    maybe_class_i,
    missing_ratio_reason,
    pct_up,
    pp_up,
    pts,
    rd_institution,
    sum_at_least,
    top_points,
    years_text,
    yuan_fen,
)

AREA = "srdi"
NAME = "专精特新中小企业"
AREAS = {AREA: (NAME, "srdi")}
_SLOTS = ("title", "niche", "revenue", "main_share", "debt", "rd", "ip", "market", "score_or_direct", "dev")
CONDITIONS = {AREA: tuple(f"srdi_{slot}" for slot in _SLOTS)}
REGIME_SLOTS = {
    "2022": ("niche", "rd", "revenue", "score_or_direct"),
    "2026": ("title", "niche", "revenue", "main_share", "debt", "rd", "ip", "market", "dev"),
}
ITEMS_2022 = (
    "main",
    "growth",
    "niche",
    "field",
    "digital",
    "quality",
    "margin",
    "debt",
    "local",
    "ip",
    "rd",
    "staff",
    "inst",
)
# Columns only the 2022 regime computes: null under 2026, so that the output has one shape.
ONLY_2022 = {
    **{f"srdi_s_{key}_{end}": pl.Int64 for key in ITEMS_2022 for end in ("min", "max")},
    "srdi_score_min": pl.Int64,
    "srdi_score_max": pl.Int64,
    "srdi_score_pass": STATUS,
    "srdi_direct": STATUS,
}
RD_INSTITUTION_LEVELS = ("national", "provincial")


def _p(name: str, on: dt.date) -> parameters.ParameterValue:
    return parameters.at(f"{AREA}.{name}", on)


def regime(on: dt.date) -> str:
    return str(_p("regime", on).value)


# The ratios each regime uses (computed in whole fen); the other regime's are null, so the output has one shape.
_RATIOS = {
    "2022": (
        "srdi_main_ratio",
        "srdi_debt_ratio",
        "srdi_rd_ratio",
        "srdi_growth_avg",
        "srdi_net_margin",
        "srdi_rd_staff_ratio",
    ),
    "2026": ("srdi_main_ratio", "srdi_debt_ratio", "srdi_rd_ratio", "srdi_rd_ratio_lag2"),
}


def _ratios(version: str) -> dict[str, pl.Expr]:
    sales1, sales2 = fen("sales_revenue_lag1"), fen("sales_revenue_lag2")
    main1, main2, main3 = (fen(f"main_business_revenue_lag{k}") for k in (1, 2, 3))
    ratios = {
        "srdi_main_ratio": safe_ratio(main1, sales1),
        "srdi_debt_ratio": safe_ratio(
            fen("total_assets_lag1") - fen("net_assets_lag1"), fen("total_assets_lag1")
        ),
        "srdi_rd_ratio": safe_ratio(fen("rd_expense_lag1"), sales1),
        "srdi_rd_ratio_lag2": safe_ratio(fen("rd_expense_lag2"), sales2),
        "srdi_growth_avg": ((safe_ratio(main1 - main2, main2) + safe_ratio(main2 - main3, main3)) / 2).round(
            9
        ),
        "srdi_net_margin": safe_ratio(fen("net_profit_lag1"), sales1),
        "srdi_rd_staff_ratio": safe_ratio(pl.col("rd_staff_lag1"), pl.col("employees_lag1")),
    }
    return {
        name: expr if name in _RATIOS[version] else pl.lit(None, dtype=pl.Float64)
        for name, expr in ratios.items()
    }


def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `srdi_*` result columns to a conformed situation frame (see inputs.conform), lazily."""
    version = regime(on)
    # _score_2022 reads the helper of the IP item, so it is added in the first step
    helpers = {"_srdi_maybe_class_i": maybe_class_i()} if version == "2022" else {}
    lazy = frame.lazy().with_columns(srdi_regime=pl.lit(version), **_ratios(version), **helpers)
    conditions = _conditions_2022(on) if version == "2022" else _conditions_2026(on)
    not_applicable = {
        f"srdi_{slot}": pl.lit(MET, dtype=STATUS) for slot in _SLOTS if slot not in REGIME_SLOTS[version]
    }
    if version == "2022":
        lazy, only_2022 = _score_2022(lazy, on), {}
    else:
        only_2022 = {name: pl.lit(None, dtype=dtype) for name, dtype in ONLY_2022.items()}
    return lazy.with_columns(**only_2022, **conditions, **not_applicable)


def _conditions_2022(on: dt.date) -> dict[str, pl.Expr]:
    revenue = at_least_yuan("sales_revenue_lag1", _p("revenue_min", on).value) | sum_at_least(
        ["equity_financing_lag1", "equity_financing_lag2"], _p("equity_2y_min", on).value
    )
    rd = at_least_yuan("rd_expense_lag1", _p("rd_amount_min", on).value) & (
        pl.col("srdi_rd_ratio") >= _p("rd_ratio_min", on).value
    )
    return {
        "srdi_niche": status(pl.col("niche_market_years") >= _p("niche_years_min", on).value),
        "srdi_revenue": status(revenue),
        "srdi_rd": status(rd),
        "srdi_score_or_direct": status(pl.col("_srdi_passed") | pl.col("_srdi_direct")),
    }


def _score_2022(lazy: pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """The 13 indicators as [min, max] points, the total, its pass and the direct paths.

    An item's points are first put in a helper column (null = unknown), then filled to the range its bands
    allow: one band computation per item instead of two."""
    points: dict[str, pl.Expr] = {}  # key → points, null when unknown
    tops: dict[str, int] = {}
    bottoms: dict[str, int] = {}  # an unknown banded value still falls in one of the bands
    for key, column, name in (
        ("main", "srdi_main_ratio", "main_share_bands"),
        ("growth", "srdi_growth_avg", "growth_bands"),
        ("field", "srdi_product_field", "field_bands"),
        ("digital", "digital_level", "digital_bands"),
        ("margin", "srdi_net_margin", "margin_bands"),
        ("debt", "srdi_debt_ratio", "debt_bands"),
        ("staff", "srdi_rd_staff_ratio", "rd_staff_bands"),
        ("inst", "rd_institution_level", "institution_bands"),
    ):
        bands = _p(name, on).value
        points[key], tops[key] = band_points(pl.col(column), bands), top_points(bands)
        bottoms[key] = bottom_points(bands)
    niche = _p("niche_points", on).value
    points["niche"] = (
        (pl.col("niche_market_years") / niche["years_per_point"]).floor().clip(0, niche["max"]).cast(pl.Int64)
    )
    tops["niche"] = niche["max"]
    quality = _p("quality_points", on).value
    points["quality"] = (pl.col("quality_items").clip(lower_bound=0) * quality["per_item"]).clip(
        upper_bound=quality["max"]
    )
    tops["quality"] = quality["max"]
    local_max = _p("local_feature_max", on).value
    local = pl.col("local_feature_points")
    # a value outside [0, max] is ignored (the range stays open), not clipped
    points["local"] = pl.when((local >= 0) & (local <= local_max)).then(local)
    tops["local"] = local_max
    rd_bands = _p("rd_bands", on).value
    by_amount = band_points(
        fen("rd_expense_lag1"),
        [
            {"at_least": round(b["amount_at_least"] * 100), **b} if "amount_at_least" in b else b
            for b in rd_bands
        ],
    )
    by_ratio = band_points(
        pl.col("srdi_rd_ratio"),
        [{"at_least": b["ratio_at_least"], **b} if "ratio_at_least" in b else b for b in rd_bands],
    )
    ip_low, ip_high = ip_ladder(_p("ip_bands", on).value, pl.col("_srdi_maybe_class_i"))
    direct = pl.any_horizontal(
        pl.col("award_provincial_top3_3y"),
        pl.col("award_national_top5_3y"),
        sum_at_least(["rd_expense_lag1", "rd_expense_lag2"], 2 * _p("direct_rd_average_min", on).value),
        sum_at_least(["equity_financing_lag1", "equity_financing_lag2"], _p("direct_equity_min", on).value),
        pl.col("maker_china_top500_3y"),
    )
    amount, ratio = pl.col("_srdi_rd_amount"), pl.col("_srdi_rd_ratio")
    ranges = {
        **{f"srdi_s_{key}_min": pl.col(f"_srdi_p_{key}").fill_null(bottoms.get(key, 0)) for key in points},
        **{f"srdi_s_{key}_max": pl.col(f"_srdi_p_{key}").fill_null(tops[key]) for key in points},
        "srdi_s_rd_min": pl.max_horizontal(amount.fill_null(0), ratio.fill_null(0)),
        "srdi_s_rd_max": pl.when(amount.is_not_null() & ratio.is_not_null())
        .then(pl.max_horizontal(amount, ratio))
        .otherwise(top_points(rd_bands)),
    }
    total = {
        f"srdi_score_{end}": pl.sum_horizontal([f"srdi_s_{key}_{end}" for key in ITEMS_2022])
        for end in ("min", "max")
    }
    return (
        lazy.with_columns(
            **{f"_srdi_p_{key}": expr.cast(pl.Int64) for key, expr in points.items()},
            _srdi_rd_amount=by_amount,
            _srdi_rd_ratio=by_ratio,
            srdi_s_ip_min=ip_low,
            srdi_s_ip_max=ip_high,
            _srdi_direct=direct,
        )
        .with_columns(
            srdi_direct=status(pl.col("_srdi_direct")), **{k: v.cast(pl.Int64) for k, v in ranges.items()}
        )
        .with_columns(**total)
        .with_columns(
            _srdi_passed=ranges_pass(
                [(pl.col("srdi_score_min"), pl.col("srdi_score_max"), _p("score_pass_min", on).value)]
            )
        )
        .with_columns(srdi_score_pass=status(pl.col("_srdi_passed")))
    )


def _conditions_2026(on: dt.date) -> dict[str, pl.Expr]:
    revenue = at_least_yuan("sales_revenue_lag1", _p("revenue_min", on).value) | sum_at_least(
        ["equity_financing_lag1", "equity_financing_lag2"], _p("equity_2y_min", on).value
    )
    amount, ratio = _p("rd_amount_min", on).value, _p("rd_ratio_min", on).value
    rd = (
        at_least_yuan("rd_expense_lag1", amount)
        & at_least_yuan("rd_expense_lag2", amount)
        & (pl.col("srdi_rd_ratio") >= ratio)
        & (pl.col("srdi_rd_ratio_lag2") >= ratio)
    )
    need = _p("ip_min_count", on).value
    main_ip, class_i = pl.col("ip_class_i_main_product_count"), pl.col("ip_class_i_count")
    ip = (
        pl.when(main_ip >= need)
        .then(pl.lit(True))
        .when(main_ip.is_not_null() | (class_i < need).fill_null(False))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )
    waiver = pl.col("award_provincial_top3_3y") | rd_institution(RD_INSTITUTION_LEVELS)
    dev_min = _p("dev_score_min", on).value
    dev = (pl.col("srdi_dev_score") >= dev_min) | (
        pl.col("srdi_valid") & (pl.col("srdi_dev_score_prev") >= dev_min)
    )
    return {
        "srdi_title": status(pl.col("tech_sme_valid") | pl.col("innovative_sme_valid")),
        "srdi_niche": status(pl.col("niche_market_years") >= _p("niche_years_min", on).value),
        "srdi_revenue": status(revenue),
        "srdi_main_share": status(pl.col("srdi_main_ratio") >= _p("main_share_min", on).value),
        "srdi_debt": status(pl.col("srdi_debt_ratio") <= _p("debt_max", on).value),
        "srdi_rd": status(rd),
        "srdi_ip": status(ip | waiver),
        "srdi_market": status(pl.col("market_rank_front")),
        "srdi_dev": status(dev),
    }


# --- explanations ----------------------------------------------------------------------------------------


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    """The Chinese explanation of every condition of the regime in force (and, for 2022, the score items)."""
    if regime(on) == "2022":
        items = [
            _niche(row, on),
            _rd_2022(row, on),
            _revenue(row, on),
            _score(row, on),
            _direct(row, on),
            *score_items(row, on),
        ]
    else:
        items = [
            _title(row, on),
            _niche(row, on),
            _revenue(row, on),
            _main_share(row, on),
            _debt(row, on),
            _rd_2026(row, on),
            _ip(row, on),
            _market(row, on),
            _dev(row, on),
        ]
    regime_p = _p("regime", on)
    items[0].notes.append(f"适用{regime_p.value}年标准：{regime_p.source}")
    return {AREA: items}


def _condition(
    row: dict[str, Any], key: str, label: str, value: str, threshold: str, p: parameters.ParameterValue
) -> Explanation:
    return Explanation(
        f"{AREA}.{key}", label, row[f"srdi_{key}"], value, threshold, p.source, unconfirmed=p.unconfirmed
    )


def _niche(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("niche_years_min", on)
    years = row["niche_market_years"]
    e = _condition(
        row,
        "niche",
        "从事特定细分市场年限",
        "未登记" if years is None else f"截至上年末 {num(years)} 年",
        f"≥{p.value} 年",
        p,
    )
    if e.status == NOT_MET:
        e.gap = f"还需 {num(p.value - years)} 年"
    elif e.status == UNKNOWN:
        e.gap = "请登记从事特定细分市场的年限"
    return e


def _revenue(row: dict[str, Any], on: dt.date) -> Explanation:
    p, equity = _p("revenue_min", on), _p("equity_2y_min", on)
    sales = row["sales_revenue_lag1"]
    columns = ["equity_financing_lag1", "equity_financing_lag2"]
    total, _ = known_sum(row, columns)
    equity_text = amount_text(row, columns)
    e = _condition(
        row,
        "revenue",
        "营业收入（或股权融资）",
        f"上年营业收入 {wan(sales)}，近两年（{years_text(on, (1, 2))}）新增股权融资 {equity_text}",
        f"上年营业收入 ≥{wan(p.value)}；不足时近两年新增股权融资（合格机构投资者实缴额）≥{wan(equity.value)}",
        p,
    )
    e.source = f"{p.source}；{equity.source}"
    if e.status == NOT_MET:
        e.gap = f"营业收入还差 {wan_up(p.value - sales)}，或近两年新增股权融资再增加 {wan_up(equity.value - total)}"
    elif e.status == UNKNOWN:
        e.gap = "营业收入或近两年股权融资未登记"
    return e


def rd_gap(row: dict[str, Any], lag: int, amount: float, ratio: float) -> str | None:
    """How much more R&D year y−lag needs to reach both `amount` and `ratio` of that year's 营业收入: "" when
    it reaches both, None when R&D is not recorded. With 营业收入 unknown only the amount is checked."""
    rd, sales = row[f"rd_expense_lag{lag}"], row[f"sales_revenue_lag{lag}"]
    if rd is None:
        return None
    need = amount if sales is None or sales <= 0 else max(amount, ratio * yuan_fen(sales))
    if yuan_fen(rd) >= need - 1e-6:
        return ""
    text = wan_up(need - yuan_fen(rd))
    return text if sales is not None and sales > 0 else f"{text}（营业收入未登记，仅按金额计）"


def _rd_2022(row: dict[str, Any], on: dt.date) -> Explanation:
    amount, ratio = _p("rd_amount_min", on), _p("rd_ratio_min", on)
    rd = row["rd_expense_lag1"]
    e = _condition(
        row,
        "rd",
        "上年度研发费用",
        f"研发费用 {wan(rd)}，占营业收入 {wan(row['sales_revenue_lag1'])} 的 {pct(row['srdi_rd_ratio'])}",
        f"≥{wan(amount.value)}，且占营业收入 ≥{pct(ratio.value)}",
        amount,
    )
    if e.status == NOT_MET:
        e.gap = f"上年研发费用还需增加约 {rd_gap(row, 1, amount.value, ratio.value)}"
    elif e.status == UNKNOWN:
        e.gap = "研发费用或营业收入未登记（或营业收入为 0），无法计算"
    return e


def _rd_2026(row: dict[str, Any], on: dt.date) -> Explanation:
    amount, ratio = _p("rd_amount_min", on), _p("rd_ratio_min", on)
    parts = []
    for lag in (1, 2):
        key = "srdi_rd_ratio" if lag == 1 else "srdi_rd_ratio_lag2"
        parts.append(
            f"{on.year - lag} 年研发费用 {wan(row[f'rd_expense_lag{lag}'])}，占营业收入 {pct(row[key])}"
        )
    e = _condition(
        row,
        "rd",
        "近两年研发费用",
        "；".join(parts),
        f"近两年每年 ≥{wan(amount.value)}，且每年占营业收入 ≥{pct(ratio.value)}",
        amount,
    )
    if e.status != MET:
        gaps = []
        for lag in (1, 2):
            more, sales = rd_gap(row, lag, amount.value, ratio.value), row[f"sales_revenue_lag{lag}"]
            if more is None:
                gaps.append(f"{on.year - lag} 年研发费用未登记")
            elif more:
                gaps.append(f"{on.year - lag} 年研发费用还差约 {more}")
            elif sales is None or sales <= 0:
                gaps.append(f"{on.year - lag} 年营业收入未登记或为 0，研发费用占比无法计算")
        e.gap = "；".join(gaps)
    return e


def _score(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("score_pass_min", on)
    low, high = row["srdi_score_min"], row["srdi_score_max"]
    e = Explanation(
        f"{AREA}.score",
        "评价得分（或直接符合）",
        row["srdi_score_or_direct"],
        f"评价得分 {pts(low, high)}",
        f"≥{p.value} 分，或符合直接认定情形之一",
        p.source,
        unconfirmed=any(_p(name, on).unconfirmed for name in _ITEM_PARAMETER.values()),
    )
    if row["srdi_direct"] == MET:
        e.notes.append("已符合直接认定情形，不需评分")
    elif e.status != MET:
        if low == high and low < p.value:
            e.gap = f"还差 {p.value - low} 分"
        elif high < p.value:
            e.gap = f"即使按可能的最高分计仍差 {p.value - high} 分"
        elif low < p.value:
            e.gap = f"按已登记数据的最低分计还差 {p.value - low} 分（部分指标未登记或须地方评定）"
    if low != high:
        e.notes.append("得分为区间：未登记的指标（含由省级主管部门评定的特色化指标）按可能的最低至最高分计")
    return e


def _direct(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("direct_paths", on)
    award = row["award_provincial_top3_3y"] or row["award_national_top5_3y"]
    if not award and (row["award_provincial_top3_3y"] is None or row["award_national_top5_3y"] is None):
        award = None
    rd_total, rd_missing = known_sum(row, ["rd_expense_lag1", "rd_expense_lag2"])
    eq_total, eq_missing = known_sum(row, ["equity_financing_lag1", "equity_financing_lag2"])
    rd_min, eq_min = 2 * _p("direct_rd_average_min", on).value, _p("direct_equity_min", on).value
    states = {
        "award": award,
        "rd_average": True if rd_total >= rd_min else (None if rd_missing else False),
        "equity": True if eq_total >= eq_min else (None if eq_missing else False),
        "maker": row["maker_china_top500_3y"],
    }
    held = [p.value[k] for k, v in states.items() if v]
    unknown = [p.value[k] for k, v in states.items() if v is None]
    value = "；".join(held) if held else ("未登记：" + "；".join(unknown) if unknown else "无")
    e = Explanation(
        f"{AREA}.direct",
        "直接认定（第四项条件）",
        row["srdi_direct"],
        f"{value}（近两年研发费用合计 {amount_text(row, ['rd_expense_lag1', 'rd_expense_lag2'])}，"
        f"近两年新增股权融资 {amount_text(row, ['equity_financing_lag1', 'equity_financing_lag2'])}）",
        "符合任一情形",
        p.source,
    )
    if e.status == NOT_MET:
        e.gap = "以下情形均不具备：" + "；".join(p.value.values())
    elif e.status == UNKNOWN:
        e.gap = "需核实并登记：" + "；".join(unknown)
    return e


_ITEM_PARAMETER = {
    "main": "main_share_bands",
    "growth": "growth_bands",
    "niche": "niche_points",
    "field": "field_bands",
    "digital": "digital_bands",
    "quality": "quality_points",
    "margin": "margin_bands",
    "debt": "debt_bands",
    "local": "local_feature_max",
    "ip": "ip_bands",
    "rd": "rd_bands",
    "staff": "rd_staff_bands",
    "inst": "institution_bands",
}


def _item_value(row: dict[str, Any], on: dt.date, key: str) -> str:
    """The enterprise's own figure for one 2022 score item."""
    if key == "main":
        ratio = row["srdi_main_ratio"]
        return (
            f"主营业务收入占营业收入 {pct(ratio)}"
            if ratio is not None
            else missing_ratio_reason(
                row,
                {"main_business_revenue_lag1": "上年主营业务收入"},
                ("sales_revenue_lag1", "上年营业收入"),
            )
        )
    if key == "growth":
        ratio = row["srdi_growth_avg"]
        if ratio is None:
            return "近三年主营业务收入有年度未登记或为 0，无法计算"
        formula = _p("growth_average_formula", on)
        return f"近2年主营业务收入平均增长率 {pct(ratio)}（{formula.value}）"
    if key == "niche":
        years = row["niche_market_years"]
        return "细分市场年限未登记" if years is None else f"从事细分市场 {num(years)} 年"
    if key == "field":
        return {
            "key": "补短板、锻长板、填空白取得实际成效",
            "basic": "工业“六基”、中华老字号或龙头企业配套",
            "other": "其他",
        }.get(row["srdi_product_field"], "未登记")
    if key == "digital":
        level = row["digital_level"]
        return "数字化水平未评测" if level is None else f"数字化水平 {level} 级"
    if key == "quality":
        count = row["quality_items"]
        return "未登记" if count is None else f"满足 {count} 项"
    if key == "margin":
        ratio = row["srdi_net_margin"]
        return (
            f"净利润率 {pct(ratio)}（净利润 {wan(row['net_profit_lag1'])}）"
            if ratio is not None
            else missing_ratio_reason(
                row, {"net_profit_lag1": "上年净利润"}, ("sales_revenue_lag1", "上年营业收入")
            )
        )
    if key == "debt":
        ratio = row["srdi_debt_ratio"]
        return (
            f"资产负债率 {pct_up(ratio)}"
            if ratio is not None
            else missing_ratio_reason(
                row, {"net_assets_lag1": "上年末净资产"}, ("total_assets_lag1", "上年末资产总额")
            )
        )
    if key == "local":
        points = row["local_feature_points"]
        return "由省级主管部门评定，尚未评分" if points is None else f"地方评定 {points} 分"
    if key == "ip":
        return "，".join(
            f"{label} {'未登记' if row[c] is None else row[c]} 件"
            for c, label in (
                ("ip_class_i_high_value_count", "Ⅰ类高价值"),
                ("ip_class_i_own_rd_count", "自主研发Ⅰ类"),
                ("ip_class_i_count", "Ⅰ类"),
                ("ip_class_ii_mature_count", "Ⅱ类"),
            )
        )
    if key == "rd":
        return f"研发费用 {wan(row['rd_expense_lag1'])}，占营业收入 {pct(row['srdi_rd_ratio'])}"
    if key == "staff":
        ratio = row["srdi_rd_staff_ratio"]
        return (
            f"研发人员占比 {pct(ratio)}（{num(row['rd_staff_lag1'])} 人 / {num(row['employees_lag1'])} 人）"
            if ratio is not None
            else missing_ratio_reason(row, {"rd_staff_lag1": "研发人员数"}, ("employees_lag1", "职工总数"))
        )
    level = row["rd_institution_level"]
    return {
        "national": "国家级",
        "provincial": "省级",
        "city": "市级",
        "below": "市级以下",
        "none": "无",
    }.get(level, "研发机构级别未登记")


def score_items(row: dict[str, Any], on: dt.date) -> list[Explanation]:
    items = []
    for key in ITEMS_2022:
        p = _p(_ITEM_PARAMETER[key], on)
        low, high = row[f"srdi_s_{key}_min"], row[f"srdi_s_{key}_max"]
        # The band of a banded item, from its points (each band of an item has its own points).
        labels = {b["points"]: b["label"] for b in p.value} if isinstance(p.value, list) else {}
        shown = f"（{labels[low]}）" if low == high and low in labels else ""
        items.append(
            Explanation(
                f"{AREA}.S.{key}",
                p.label,
                MET if low == high else UNKNOWN,
                f"{_item_value(row, on, key)}{shown}，得分 {pts(low, high)}",
                "",
                p.source,
                kind="score",
                unconfirmed=p.unconfirmed
                or (key == "growth" and _p("growth_average_formula", on).unconfirmed),
            )
        )
    return items


def _title(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("title_required", on)
    tech, inno = row["tech_sme_valid"], row["innovative_sme_valid"]
    e = _condition(
        row,
        "title",
        "科技和创新型中小企业称号",
        f"科技型中小企业入库登记编号：{flag_text(tech, '有效', '无', '未登记')}；创新型中小企业称号：{flag_text(inno, '有效', '无', '未登记')}",
        p.value,
        p,
    )
    if e.status == NOT_MET:
        e.gap = "须先取得科技型中小企业入库登记编号或创新型中小企业称号"
    elif e.status == UNKNOWN:
        e.gap = "称号情况未登记"
    return e


def _main_share(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("main_share_min", on)
    ratio = row["srdi_main_ratio"]
    e = _condition(
        row,
        "main_share",
        "主营业务收入占营业收入比重",
        f"上年主营业务收入 {wan(row['main_business_revenue_lag1'])} 占营业收入 {wan(row['sales_revenue_lag1'])} 的 {pct(ratio)}",
        f"≥{pct(p.value)}",
        p,
    )
    if e.status == NOT_MET:
        other = yuan_fen(row["sales_revenue_lag1"]) - yuan_fen(row["main_business_revenue_lag1"])
        need = p.value / (1 - p.value) * other if p.value < 1 else math.inf
        e.gap = f"还差 {pp_up(p.value - ratio)}；在其他业务收入不变时，主营业务收入需达到约 {wan_up(need)}"
    elif e.status == UNKNOWN:
        e.gap = missing_ratio_reason(
            row, {"main_business_revenue_lag1": "上年主营业务收入"}, ("sales_revenue_lag1", "上年营业收入")
        )
    return e


def _debt(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("debt_max", on)
    ratio, assets = row["srdi_debt_ratio"], row["total_assets_lag1"]
    e = _condition(row, "debt", "上年末资产负债率", f"资产负债率 {pct_up(ratio)}", f"≤{pct(p.value)}", p)
    if e.status == NOT_MET:
        liabilities = yuan_fen(assets) - yuan_fen(row["net_assets_lag1"])
        e.gap = f"需降低 {pp_up(ratio - p.value)}；在资产总额不变时负债需减少约 {wan_up(liabilities - p.value * yuan_fen(assets))}"
    elif e.status == UNKNOWN:
        e.gap = missing_ratio_reason(
            row, {"net_assets_lag1": "上年末净资产"}, ("total_assets_lag1", "上年末资产总额")
        )
    return e


def _ip(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("ip_min_count", on)
    main_ip, class_i = row["ip_class_i_main_product_count"], row["ip_class_i_count"]
    waivers = []
    if row["award_provincial_top3_3y"]:
        waivers.append("近三年获省级以上科技奖励并排名前三")
    if row["provincial_rd_institution"] or row["rd_institution_level"] in RD_INSTITUTION_LEVELS:
        waivers.append("拥有省部级以上研发机构")
    value = (
        f"与主导产品相关的Ⅰ类知识产权 {'未登记' if main_ip is None else f'{main_ip} 件'}"
        f"（有效Ⅰ类共 {'未登记' if class_i is None else f'{class_i} 件'}）"
    )
    if waivers:
        value += "；" + "、".join(waivers) + "，免于此项"
    e = _condition(
        row,
        "ip",
        p.label,
        value,
        f"≥{p.value} 件（近三年获省级以上科技奖励并排名前三或拥有省部级以上研发机构的除外）",
        p,
    )
    if e.status == NOT_MET:
        have = main_ip if main_ip is not None else (class_i or 0)
        e.gap = f"还需 {p.value - have} 件与主导产品相关并实际应用的Ⅰ类知识产权（如发明专利）"
    elif e.status == UNKNOWN:
        e.gap = "与主导产品相关的Ⅰ类知识产权数须企业申报、人工核实"
    return e


def _market(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("market_rank_rule", on)
    e = _condition(
        row,
        "market",
        "主导产品细分市场地位",
        flag_text(
            row["market_rank_front"], "经审核排名较为靠前、具有一定知名度", "经审核不符合", "尚未人工审核"
        ),
        p.value,
        p,
    )
    if e.status == UNKNOWN:
        e.gap = "无量化标准，须人工审核后登记"
    elif e.status == NOT_MET:
        e.gap = "主导产品细分市场排名或知名度不足"
    return e


def _dev(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("dev_score_min", on)
    score, prev, renewal = row["srdi_dev_score"], row["srdi_dev_score_prev"], row["srdi_valid"]
    value = f"当年得分 {num(score) if score is not None else '未导入'}"
    if renewal is not False:
        value += f"，上年得分 {num(prev) if prev is not None else '未导入'}"
    e = _condition(
        row,
        "dev",
        "专精特新发展评价得分",
        value,
        f"当年 ≥{p.value} 分（复核时近两年任一年 ≥{p.value} 分）",
        p,
    )
    e.notes.append(
        {True: "已持有专精特新称号，按复核", False: "首次认定", None: "是否复核（持有称号）未登记"}[renewal]
    )
    e.notes.append("得分由优质中小企业梯度培育平台计算，本平台只导入，不复算")
    if e.status == NOT_MET:  # the current score is known and short (and so is last year's for a 复核)
        best = max(score, prev) if renewal and prev is not None else score
        e.gap = f"还差 {num(p.value - best)} 分"
    elif e.status == UNKNOWN:
        e.gap = "请从梯度培育平台导入发展评价得分" + (
            "，并登记是否持有专精特新称号" if renewal is None else ""
        )
    return e
