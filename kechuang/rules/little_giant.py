"""专精特新“小巨人”企业 (little_giant), in two regimes chosen by the assessment date (`little_giant.regime`):

- 2022 (工信部企业〔2022〕63号 附件3, 2022-08-01 to 2026-03-31): 专业化 (细分市场 ≥3 years, 主营占比 ≥70%,
  近2年主营业务收入平均增长率 ≥5%), 精细化 (信息系统, 管理体系认证, 资产负债率 ≤70%), 特色化 (市场占有率 ≥10%,
  自主品牌), 创新能力 (R&D by revenue band, a research institution, ≥2 Ⅰ类 main-product IP — or a direct path),
  产业链配套 and 主导产品领域;
- 2026 (工信部企业〔2026〕2号 附件2, from 2026-04-01): seven conditions — the 专精特新 title and 细分市场 ≥3
  years; 营业收入 ≥5000万元, 主营占比 ≥90%, 两年复合增长率 ≥5% (not for 复核), 资产负债率 ≤75%; R&D ≥1200万元
  over two years and ≥3% each year; ≥4 Ⅰ类 main-product IP (waived for a national award ranked top 3);
  market share ≥10% or domestic top 3; 领域 and 产业链关键环节 (manual); 发展评价得分 ≥60 (ingested).

As in srdi.py the condition columns are the same in both regimes; a condition the regime in force does not have
is `met` (不适用) and is left out of the explanation.
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
    safe_ratio,
    status,
    wan,
    wan_up,
)
from kechuang.rules.innovative_sme import (
    amount_text,
    flag_text,
    known_sum,
    missing_ratio_reason,
    pct_up,
    pp_up,
    sum_at_least,
    yuan_fen,
)

AREA = "little_giant"
NAME = "专精特新“小巨人”企业"
AREAS = {AREA: (NAME, "lgiant")}
_SLOTS = (
    "title",
    "niche",
    "revenue",
    "main_share",
    "growth",
    "debt",
    "info_system",
    "certification",
    "market",
    "brand",
    "rd",
    "institution",
    "ip",
    "field",
    "chain",
    "dev",
)
CONDITIONS = {AREA: tuple(f"lgiant_{slot}" for slot in _SLOTS)}
REGIME_SLOTS = {
    "2022": (
        "niche",
        "main_share",
        "growth",
        "debt",
        "info_system",
        "certification",
        "market",
        "brand",
        "rd",
        "institution",
        "ip",
        "chain",
        "field",
    ),
    "2026": (
        "title",
        "niche",
        "revenue",
        "main_share",
        "growth",
        "debt",
        "rd",
        "ip",
        "market",
        "field",
        "chain",
        "dev",
    ),
}
_FLAGS = {  # condition → (input column, parameter)
    "info_system": ("info_system", "info_system"),
    "certification": ("mgmt_certification", "certification"),
    "brand": ("own_brand", "brand"),
    "field": ("little_giant_product_field", "field"),
    "chain": ("key_chain_link", "chain"),
    "title": ("srdi_valid", "title_required"),
}


def _p(name: str, on: dt.date) -> parameters.ParameterValue:
    return parameters.at(f"{AREA}.{name}", on)


def regime(on: dt.date) -> str:
    return str(_p("regime", on).value)


def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `lgiant_*` result columns to a conformed situation frame (see inputs.conform), lazily."""
    version = regime(on)
    sales1, sales2, sales3 = (fen(f"sales_revenue_lag{k}") for k in (1, 2, 3))
    main1, main2, main3 = (fen(f"main_business_revenue_lag{k}") for k in (1, 2, 3))
    if version == "2022":
        growth = ((safe_ratio(main1 - main2, main2) + safe_ratio(main2 - main3, main3)) / 2).round(9)
    else:  # two-year compound growth of 营业收入, y−3 → y−1
        growth = pl.when((sales3 > 0) & (sales1 >= 0)).then((sales1 / sales3).sqrt() - 1).round(9)
    lazy = frame.lazy().with_columns(
        lgiant_regime=pl.lit(version),
        lgiant_main_ratio=safe_ratio(main1, sales1),
        lgiant_debt_ratio=safe_ratio(
            fen("total_assets_lag1") - fen("net_assets_lag1"), fen("total_assets_lag1")
        ),
        lgiant_growth_rate=growth,
        lgiant_rd_ratio=safe_ratio(fen("rd_expense_lag1"), sales1),
        lgiant_rd_ratio_lag2=safe_ratio(fen("rd_expense_lag2"), sales2),
        lgiant_rd_staff_ratio=safe_ratio(pl.col("rd_staff_lag1"), pl.col("employees_lag1"))
        if version == "2022"
        else pl.lit(None, dtype=pl.Float64),  # only the 2022 R&D test reads it
    )
    common = {
        "lgiant_niche": status(pl.col("niche_market_years") >= _p("niche_years_min", on).value),
        "lgiant_main_share": status(pl.col("lgiant_main_ratio") >= _p("main_share_min", on).value),
        "lgiant_debt": status(pl.col("lgiant_debt_ratio") <= _p("debt_max", on).value),
        **{f"lgiant_{key}": status(pl.col(_FLAGS[key][0])) for key in ("field", "chain")},
    }
    if version == "2022":
        # in a helper column: the three 创新能力 conditions read it too
        lazy = lazy.with_columns(_lgiant_direct=pl.any_horizontal(list(_p("direct_paths", on).value)))
        direct, conditions = status(pl.col("_lgiant_direct")), _conditions_2022(on)
    else:
        direct, conditions = pl.lit(None, dtype=STATUS), _conditions_2026(on)
    not_applicable = {
        f"lgiant_{slot}": pl.lit(MET, dtype=STATUS) for slot in _SLOTS if slot not in REGIME_SLOTS[version]
    }
    return lazy.with_columns(lgiant_direct=direct, **common, **conditions, **not_applicable)


def _or_direct(condition: pl.Expr) -> pl.Expr:
    """A 2022 创新能力 condition, met also through a direct path (创新直通条件): the two three-valued, or-ed."""
    return status(condition | pl.col("_lgiant_direct"))


def _rd_intensity_2022(on: dt.date) -> pl.Expr:
    """Three-valued R&D test of 一般性条件(1), by the band of 上年度营业收入."""
    sales = fen("sales_revenue_lag1")
    ratios = (pl.col("lgiant_rd_ratio"), pl.col("lgiant_rd_ratio_lag2"))
    expr: Any = pl.when(sales.is_null()).then(pl.lit(None, dtype=pl.Boolean))
    for item in _p("rd_intensity", on).value:
        if item.get("otherwise"):
            small = (
                sum_at_least(["equity_financing_lag1", "equity_financing_lag2"], item["equity_min"])
                & sum_at_least(["rd_expense_lag1", "rd_expense_lag2"], item["rd_total_min"])
                & (pl.col("lgiant_rd_staff_ratio") >= item["rd_staff_ratio_min"])
            )
            return expr.otherwise(small)
        both = (ratios[0] >= item["ratio_min"]) & (ratios[1] >= item["ratio_min"])
        expr = expr.when(sales >= round(item["sales_at_least"] * 100)).then(both)
    return expr.otherwise(None)


def _ip_count(need: int) -> pl.Expr:
    """≥ need main-product Class I items: unknown unless recorded, not met when even all Class I fall short."""
    main_ip, class_i = pl.col("ip_class_i_main_product_count"), pl.col("ip_class_i_count")
    return (
        pl.when(main_ip >= need)
        .then(pl.lit(True))
        .when(main_ip.is_not_null() | (class_i < need).fill_null(False))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )


def _conditions_2022(on: dt.date) -> dict[str, pl.Expr]:
    institution = pl.col("rd_institution_own_or_joint")
    level = pl.col("rd_institution_level")
    has_institution = (
        pl.when(
            institution.fill_null(False)
            | level.is_in(["national", "provincial", "city", "below"]).fill_null(False)
        )
        .then(pl.lit(True))
        .when(institution.is_not_null())
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )
    return {
        "lgiant_growth": status(pl.col("lgiant_growth_rate") >= _p("growth_min", on).value),
        "lgiant_market": status(pl.col("market_share") >= _p("market_share_min", on).value),
        **{
            f"lgiant_{key}": status(pl.col(_FLAGS[key][0]))
            for key in ("info_system", "certification", "brand")
        },
        "lgiant_rd": _or_direct(_rd_intensity_2022(on)),
        "lgiant_institution": _or_direct(has_institution),
        "lgiant_ip": _or_direct(_ip_count(_p("ip_min_count", on).value)),
    }


def _conditions_2026(on: dt.date) -> dict[str, pl.Expr]:
    ratio = _p("rd_ratio_min", on).value
    rd = (
        sum_at_least(["rd_expense_lag1", "rd_expense_lag2"], _p("rd_total_min", on).value)
        & (pl.col("lgiant_rd_ratio") >= ratio)
        & (pl.col("lgiant_rd_ratio_lag2") >= ratio)
    )
    rank = pl.col("market_rank_domestic")
    market = (pl.col("market_share") >= _p("market_share_min", on).value) | (
        (rank >= 1) & (rank <= _p("market_rank_max", on).value)
    )
    dev_min = _p("dev_score_min", on).value
    dev = (pl.col("srdi_dev_score") >= dev_min) | (
        pl.col("little_giant_valid") & (pl.col("srdi_dev_score_prev") >= dev_min)
    )
    return {
        "lgiant_title": status(pl.col("srdi_valid")),
        "lgiant_revenue": status(at_least_yuan("sales_revenue_lag1", _p("revenue_min", on).value)),
        "lgiant_growth": status(
            (pl.col("lgiant_growth_rate") >= _p("growth_min", on).value) | pl.col("little_giant_valid")
        ),
        "lgiant_rd": status(rd),
        "lgiant_ip": status(_ip_count(_p("ip_min_count", on).value) | pl.col("award_national_top3_3y")),
        "lgiant_market": status(market),
        "lgiant_dev": status(dev),
    }


# --- explanations ----------------------------------------------------------------------------------------


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    """The Chinese explanation of every condition of the regime in force."""
    version = regime(on)
    builders = {
        "title": _flag,
        "niche": _niche,
        "revenue": _revenue,
        "main_share": _main_share,
        "growth": _growth,
        "debt": _debt,
        "info_system": _flag,
        "certification": _flag,
        "market": _market,
        "brand": _flag,
        "rd": _rd_2022 if version == "2022" else _rd_2026,
        "institution": _institution,
        "ip": _ip,
        "field": _flag,
        "chain": _flag,
        "dev": _dev,
    }
    items = [builders[slot](row, on, slot) for slot in REGIME_SLOTS[version]]
    if version == "2022":
        items.append(_direct(row, on))
    regime_p = _p("regime", on)
    items[0].notes.append(f"适用{regime_p.value}年标准：{regime_p.source}")
    return {AREA: items}


def _condition(
    row: dict[str, Any], slot: str, label: str, value: str, threshold: str, p: parameters.ParameterValue
) -> Explanation:
    return Explanation(
        f"{AREA}.{slot}", label, row[f"lgiant_{slot}"], value, threshold, p.source, unconfirmed=p.unconfirmed
    )


def _direct_note(row: dict[str, Any], e: Explanation) -> None:
    if row["lgiant_direct"] == MET:
        e.notes.append("已符合创新直通条件，创新能力指标视为满足")
    elif e.status != MET:
        e.notes.append("也可由创新直通条件满足（见“创新直通条件”）")


def _flag(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    column, name = _FLAGS[slot]
    p = _p(name, on)
    value = row[column]
    manual = slot in ("field", "chain")
    shown = {True: "是", False: "否", None: "尚未人工审核" if manual else "未登记"}[value]
    e = _condition(row, slot, p.label, shown, p.value, p)
    if value is None:
        e.gap = "须人工审核后登记" if manual else "请核实并登记"
    elif not value:
        e.gap = f"不符合：{p.value}"
    return e


def _niche(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("niche_years_min", on)
    years = row["niche_market_years"]
    e = _condition(
        row,
        slot,
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


def _revenue(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("revenue_min", on)
    sales = row["sales_revenue_lag1"]
    e = _condition(row, slot, "上年度营业收入", f"上年营业收入 {wan(sales)}", f"≥{wan(p.value)}", p)
    if e.status == NOT_MET:
        e.gap = f"营业收入还差 {wan_up(p.value - sales)}"
    elif e.status == UNKNOWN:
        e.gap = "上年营业收入未登记"
    return e


def _main_share(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("main_share_min", on)
    ratio = row["lgiant_main_ratio"]
    e = _condition(
        row,
        slot,
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


def _growth(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("growth_min", on)
    rate = row["lgiant_growth_rate"]
    if regime(on) == "2022":
        formula = _p("growth_average_formula", on)
        e = _condition(
            row,
            slot,
            "近2年主营业务收入平均增长率",
            "近三年主营业务收入有年度未登记或为 0，无法计算"
            if rate is None
            else f"{pct(rate)}（{formula.value}）",
            f"≥{pct(p.value)}",
            p,
        )
        e.unconfirmed = e.unconfirmed or formula.unconfirmed
        if e.status == NOT_MET:
            e.gap = f"平均增长率还差 {pp_up(p.value - rate)}"
        elif e.status == UNKNOWN:
            e.gap = "请登记近三年主营业务收入"
        return e
    first, last = row["sales_revenue_lag3"], row["sales_revenue_lag1"]
    value = (
        f"{on.year - 3} 年营业收入 {wan(first)} → {on.year - 1} 年 {wan(last)}，两年复合增长率 {pct(rate)}"
        if rate is not None
        else f"{on.year - 3} 年或 {on.year - 1} 年营业收入未登记（或为 0），无法计算"
    )
    e = _condition(row, slot, "近两年营业收入复合增长率", value, f"≥{pct(p.value)}（复核企业不作要求）", p)
    renewal = row["little_giant_valid"]
    if renewal:
        e.notes.append("已持有“小巨人”称号，按复核不检查此项")
    if e.status == NOT_MET:
        need = yuan_fen(first) * (1 + p.value) ** 2
        e.gap = f"按 {on.year - 3} 年营业收入计，{on.year - 1} 年营业收入需达到约 {wan_up(need)}（还差 {wan_up(need - yuan_fen(last))}）"
    elif e.status == UNKNOWN:
        e.gap = "营业收入未登记，无法计算" if rate is None else "是否复核（持有“小巨人”称号）未登记"
    return e


def _debt(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("debt_max", on)
    ratio, assets = row["lgiant_debt_ratio"], row["total_assets_lag1"]
    e = _condition(row, slot, "上年末资产负债率", f"资产负债率 {pct_up(ratio)}", f"≤{pct(p.value)}", p)
    if e.status == NOT_MET:
        liabilities = yuan_fen(assets) - yuan_fen(row["net_assets_lag1"])
        e.gap = f"需降低 {pp_up(ratio - p.value)}；在资产总额不变时负债需减少约 {wan_up(liabilities - p.value * yuan_fen(assets))}"
    elif e.status == UNKNOWN:
        e.gap = missing_ratio_reason(
            row, {"net_assets_lag1": "上年末净资产"}, ("total_assets_lag1", "上年末资产总额")
        )
    return e


def _market(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("market_share_min", on)
    share = row["market_share"]
    value = f"细分市场占有率 {'未登记' if share is None else pct(share)}"
    if regime(on) == "2022":
        threshold = f"主导产品全国细分市场占有率 ≥{pct(p.value)}"
    else:
        rank, rank_max = row["market_rank_domestic"], _p("market_rank_max", on).value
        value += f"，国内排名 {'未登记' if rank is None else f'第 {rank} 名'}"
        threshold = f"国内或国际细分市场占有率 ≥{pct(p.value)}，或国内排名前 {rank_max}"
    e = _condition(row, slot, "主导产品细分市场地位", value, threshold, p)
    e.notes.append("“享有较高知名度”无量化标准，须人工审核")
    if e.status == NOT_MET:
        e.gap = f"占有率还差 {pp_up(p.value - share)}" if share is not None else "占有率未达到"
    elif e.status == UNKNOWN:
        e.gap = "请登记主导产品细分市场占有率" + ("或国内排名" if regime(on) == "2026" else "")
    return e


def _rd_2022(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("rd_intensity", on)
    sales = row["sales_revenue_lag1"]
    bands = p.value
    band = None
    if sales is not None:
        band = next(
            (
                b
                for b in bands
                if b.get("otherwise") or round(sales * 100) >= round(b["sales_at_least"] * 100)
            ),
            None,
        )
    years = f"{on.year - 2}、{on.year - 1} 年"
    if band is None:
        value, threshold = "上年营业收入未登记，无法确定适用档次", "按上年营业收入分档"
    elif band.get("otherwise"):
        value = (
            f"上年营业收入 {wan(sales)}；近2年（{years}）新增股权融资 "
            f"{amount_text(row, ['equity_financing_lag1', 'equity_financing_lag2'])}，研发费用合计 "
            f"{amount_text(row, ['rd_expense_lag1', 'rd_expense_lag2'])}，研发人员占比 {pct(row['lgiant_rd_staff_ratio'])}"
        )
        threshold = band["label"]
    else:
        value = (
            f"上年营业收入 {wan(sales)}；研发费用占营业收入 {on.year - 2} 年 {pct(row['lgiant_rd_ratio_lag2'])}、"
            f"{on.year - 1} 年 {pct(row['lgiant_rd_ratio'])}"
        )
        threshold = band["label"]
    e = _condition(row, slot, "研发投入", value, threshold, p)
    if band is not None and band.get("otherwise"):
        reading = _p("rd_small_reading", on)
        e.notes.append(f"{reading.value}（{reading.source}）")
        e.unconfirmed = e.unconfirmed or reading.unconfirmed
    if e.status != MET and band is not None:
        gaps = []
        if band.get("otherwise"):
            equity, _ = known_sum(row, ["equity_financing_lag1", "equity_financing_lag2"])
            rd_total, _ = known_sum(row, ["rd_expense_lag1", "rd_expense_lag2"])
            if equity < band["equity_min"]:
                gaps.append(f"近2年新增股权融资还差 {wan_up(band['equity_min'] - equity)}")
            if rd_total < band["rd_total_min"]:
                gaps.append(f"近2年研发费用还差 {wan_up(band['rd_total_min'] - rd_total)}")
            staff, employees = row["rd_staff_lag1"], row["employees_lag1"]
            if staff is not None and employees:
                more = math.ceil(round(employees * band["rd_staff_ratio_min"] - staff, 6))
                if more > 0:
                    gaps.append(f"按现有职工 {num(employees)} 人计还需增加研发人员约 {more} 人")
        else:
            for lag in (2, 1):
                rd, year_sales = row[f"rd_expense_lag{lag}"], row[f"sales_revenue_lag{lag}"]
                if rd is None or year_sales is None or year_sales <= 0:
                    gaps.append(f"{on.year - lag} 年研发费用或营业收入未登记")
                    continue
                short = band["ratio_min"] * yuan_fen(year_sales) - yuan_fen(rd)
                if short > 1e-6:
                    gaps.append(f"{on.year - lag} 年研发费用还差约 {wan_up(short)}")
        e.gap = "；".join(gaps)
    _direct_note(row, e)
    return e


def _rd_2026(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    total_p, ratio_p = _p("rd_total_min", on), _p("rd_ratio_min", on)
    columns = ["rd_expense_lag1", "rd_expense_lag2"]
    value = (
        f"近两年（{on.year - 2}、{on.year - 1} 年）研发费用合计 {amount_text(row, columns)}；"
        f"占营业收入 {on.year - 2} 年 {pct(row['lgiant_rd_ratio_lag2'])}、{on.year - 1} 年 {pct(row['lgiant_rd_ratio'])}"
    )
    e = _condition(
        row,
        slot,
        "近两年研发费用",
        value,
        f"合计 ≥{wan(total_p.value)}，且每年占营业收入 ≥{pct(ratio_p.value)}",
        total_p,
    )
    if e.status != MET:
        gaps = []
        total, missing = known_sum(row, columns)
        if total < total_p.value and len(missing) < len(columns):
            gaps.append(
                f"两年合计还差 {wan_up(total_p.value - total)}" + ("（有年度未登记）" if missing else "")
            )
        for lag in (2, 1):
            rd, sales = row[f"rd_expense_lag{lag}"], row[f"sales_revenue_lag{lag}"]
            if rd is None:
                gaps.append(f"{on.year - lag} 年研发费用未登记")
                continue
            if sales is None or sales <= 0:
                gaps.append(f"{on.year - lag} 年营业收入未登记或为 0，研发费用占比无法计算")
                continue
            short = ratio_p.value * yuan_fen(sales) - yuan_fen(rd)
            if short > 1e-6:
                gaps.append(
                    f"{on.year - lag} 年研发费用占比不足 {pct(ratio_p.value)}，还差约 {wan_up(short)}"
                )
        e.gap = "；".join(gaps)
    return e


def _institution(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("rd_institution", on)
    own, level = row["rd_institution_own_or_joint"], row["rd_institution_level"]
    levels = {"national": "国家级", "provincial": "省级", "city": "市级", "below": "市级以下", "none": "无"}
    value = f"自建或联合建立研发机构：{flag_text(own, '有', '无', '未登记')}；研发机构级别：{levels.get(level, '未登记')}"
    e = _condition(row, slot, p.label, value, p.value, p)
    if e.status == NOT_MET:
        e.gap = "需自建或与高等院校、科研机构联合建立研发机构"
    elif e.status == UNKNOWN:
        e.gap = "请登记研发机构情况"
    _direct_note(row, e)
    return e


def _ip(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("ip_min_count", on)
    main_ip, class_i = row["ip_class_i_main_product_count"], row["ip_class_i_count"]
    value = (
        f"与主导产品相关的Ⅰ类知识产权 {'未登记' if main_ip is None else f'{main_ip} 件'}"
        f"（有效Ⅰ类共 {'未登记' if class_i is None else f'{class_i} 件'}）"
    )
    if regime(on) == "2026":
        threshold = f"≥{p.value} 件（近三年获国家级科技奖励并排名前三的除外）"
        if row["award_national_top3_3y"]:
            value += "；近三年获国家级科技奖励并排名前三，免于此项"
    else:
        threshold = f"≥{p.value} 件"
    e = _condition(row, slot, p.label, value, threshold, p)
    if e.status == NOT_MET:
        have = main_ip if main_ip is not None else (class_i or 0)
        e.gap = f"还需 {p.value - have} 件与主导产品相关并实际应用的Ⅰ类知识产权（如发明专利）"
    elif e.status == UNKNOWN:
        e.gap = "与主导产品相关的Ⅰ类知识产权数须企业申报、人工核实"
    if regime(on) == "2022":
        _direct_note(row, e)
    return e


def _dev(row: dict[str, Any], on: dt.date, slot: str) -> Explanation:
    p = _p("dev_score_min", on)
    score, prev, renewal = row["srdi_dev_score"], row["srdi_dev_score_prev"], row["little_giant_valid"]
    value = f"当年得分 {num(score) if score is not None else '未导入'}"
    if renewal is not False:
        value += f"，上年得分 {num(prev) if prev is not None else '未导入'}"
    e = _condition(
        row, slot, "专精特新发展评价得分", value, f"当年 ≥{p.value} 分（复核时近两年任一年 ≥{p.value} 分）", p
    )
    e.notes.append(
        {True: "已持有“小巨人”称号，按复核", False: "首次认定", None: "是否复核（持有称号）未登记"}[renewal]
    )
    e.notes.append("得分由优质中小企业梯度培育平台计算，本平台只导入，不复算")
    if e.status == NOT_MET:  # the current score is known and short (and so is last year's for a 复核)
        best = max(score, prev) if renewal and prev is not None else score
        e.gap = f"还差 {num(p.value - best)} 分"
    elif e.status == UNKNOWN:
        e.gap = "请从梯度培育平台导入发展评价得分" + (
            "，并登记是否持有“小巨人”称号" if renewal is None else ""
        )
    return e


def _direct(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("direct_paths", on)
    held = [label for column, label in p.value.items() if row[column]]
    unknown = [label for column, label in p.value.items() if row[column] is None]
    value = "；".join(held) if held else ("未登记：" + "；".join(unknown) if unknown else "无")
    e = Explanation(f"{AREA}.direct", "创新直通条件", row["lgiant_direct"], value, "符合任一情形", p.source)
    e.notes.append("符合时研发投入、研发机构、知识产权三项视为满足")
    if e.status == NOT_MET:
        e.gap = "以下情形均不具备：" + "；".join(p.value.values())
    elif e.status == UNKNOWN:
        e.gap = "需核实并登记：" + "；".join(unknown)
    return e
