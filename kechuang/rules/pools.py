"""Two cultivation pools the district runs, each by a stated rule: 种子选手 (seed) and 隐形冠军储备库
(hidden_champion), read from the dated parameters of parameters/pools.yaml.

There is no official text: the rules are the platform's defaults (status unconfirmed, reference 本平台默认遴选规则，
由区科委确认或调整), chosen so that each pool feeds the next rung of the ladder, and changed by a YAML edit.

种子选手 — young, fast-growing enterprises with IP that are not yet 高新技术企业, i.e. the HNTE pipeline:
- founded ≤ 5 years, counted to the assessment date (the N-th anniversary of registration is still “within”); five
  years is the young-enterprise horizon of the gazelle (≤5 years) and potential-unicorn tiers;
- fast growth, either 营业收入 YoY ≥ 30% (y−1 vs y−2) or a 3-year CAGR ≥ 20% (the gazelle rate), each on a
  营业收入 of at least 100万元 in y−1, because a growth rate on a smaller base says little;
- IP: ≥ 1 valid Class I item, or ≥ 2 valid Class II items (one utility model or software copyright is too easily
  had; two is the 科小 score's 12-point band);
- not (yet) holding a valid 高企 certificate: a certified HNTE has left the seed stage.

隐形冠军储备库 — niche specialists on the road to 专精特新 / “小巨人”:
- focus: 主营业务收入 / 营业收入 ≥ 70% (y−1);
- R&D: accounting R&D (`rd_expense_lag1`) ≥ 3% of 营业收入, the 小巨人 (2022) R&D-intensity floor;
- ≥ 2 valid Class I IP, the 小巨人 (2022) count;
- 营业收入 from 1000万元 (the 专精特新 2022 floor) up to, not including, 4亿元 (where an industrial enterprise stops
  being an SME, 工信部联企业〔2011〕300号), so the pool holds SMEs;
- a niche position: 细分市场占有率 ≥ 10% or ≥ 3 years in the niche (the 小巨人 2022 count); unknown when neither is
  recorded.
Growth figures follow gazelle.py (years, CAGR, zero and missing bases).
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
    fen,
    num,
    pct,
    safe_ratio,
    status,
    wan,
    wan_up,
)
from kechuang.rules.gazelle import (
    REVENUE_CRITERIA,
    Basis,
    Figures,
    age_years,
    any_path,
    check_paths,
    founded_within,
    growth_stages,
    make_basis,
    met,
    part,
    path_explanations,
)
from kechuang.rules.parameters import ParameterValue

FILE = "pools"
SEED, CHAMPION = "seed", "hidden_champion"
AREAS = {SEED: ("种子选手", "seed"), CHAMPION: ("隐形冠军储备库", "hchamp")}
CONDITIONS = {
    SEED: ("seed_age", "seed_growth", "seed_ip", "seed_not_hnte"),
    CHAMPION: ("hchamp_focus", "hchamp_rd", "hchamp_ip", "hchamp_scale", "hchamp_market"),
}


def _p(name: str, on: dt.date) -> ParameterValue:
    return parameters.at(f"{FILE}.{name}", on)


def _basis(on: dt.date) -> Basis:
    return make_basis(on, "_seed_", _p("founding_age_rule", on))


def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `seed_*` and `hchamp_*` result columns to a conformed situation frame, lazily."""
    basis = _basis(on)
    paths = check_paths(_p("seed_growth_paths", on), REVENUE_CRITERIA)
    lazy = frame.lazy()
    stages, path_statuses = growth_stages(basis, {"seed": paths}, cagr_years=(3,), with_yoy=True)
    for stage in stages:
        lazy = lazy.with_columns(**stage)
    ci, cii = pl.col("ip_class_i_count"), pl.col("ip_class_ii_count")
    excludes_hnte = bool(_p("seed_excludes_hnte", on).value)
    sales = pl.col("_seed_sales")
    return lazy.with_columns(
        **path_statuses,
        _seed_young=founded_within(basis, int(_p("seed_founded_max_years", on).value)),
        _seed_ip=(ci >= _p("seed_ip_class_i_min", on).value) | (cii >= _p("seed_ip_class_ii_min", on).value),
        _seed_sales=fen("sales_revenue_lag1"),
        _seed_market=(pl.col("market_share").round(RATIO_DECIMALS) >= _p("hchamp_market_share_min", on).value)
        | (pl.col("niche_market_years") >= _p("hchamp_niche_years_min", on).value),
        hchamp_focus_ratio=safe_ratio(fen("main_business_revenue_lag1"), fen("sales_revenue_lag1")),
        hchamp_rd_ratio=safe_ratio(fen("rd_expense_lag1"), fen("sales_revenue_lag1")),
    ).with_columns(
        seed_age_years=age_years(basis),
        seed_age=status(pl.col("_seed_young")),
        seed_yoy=pl.col("_seed_yoy"),
        seed_cagr=pl.col("_seed_cagr3"),
        seed_growth=any_path(basis, "seed", paths),
        seed_ip=status(pl.col("_seed_ip")),
        seed_not_hnte=status(~pl.col("hnte_valid")) if excludes_hnte else met(),
        hchamp_focus=status(pl.col("hchamp_focus_ratio") >= _p("hchamp_main_business_ratio_min", on).value),
        hchamp_rd=status(pl.col("hchamp_rd_ratio") >= _p("hchamp_rd_ratio_min", on).value),
        hchamp_ip=status(ci >= _p("hchamp_ip_class_i_min", on).value),
        hchamp_scale=status(
            (sales >= _p("hchamp_revenue_min", on).value * 100)
            & (sales < _p("hchamp_revenue_below", on).value * 100)
        ),
        hchamp_market=status(pl.col("_seed_market")),
    )


# --- explanations ----------------------------------------------------------------------------------------


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    return {SEED: _seed(row, on), CHAMPION: _champion(row, on)}


def _seed(row: dict[str, Any], on: dt.date) -> list[Explanation]:
    figures = Figures(row, _basis(on))
    years = _p("seed_founded_max_years", on)
    age = part("founded_within_years", years.value, {}, figures)
    age_item = Explanation(
        f"{SEED}.age",
        "成立年限",
        row["seed_age"],
        age.value,
        age.threshold,
        years.source,
        unconfirmed=years.unconfirmed or age.unconfirmed,
    )
    if age_item.status != MET:
        age_item.gap = age.gap
    age_item.notes.append(age.note)
    growth = path_explanations(
        SEED, "growth", "快速成长（满足任一路径）", "seed", _p("seed_growth_paths", on), row, figures
    )
    return [age_item, growth[0], _seed_ip(row, on), _seed_not_hnte(row, on), *growth[1:]]


def _seed_ip(row: dict[str, Any], on: dt.date) -> Explanation:
    p1, p2 = _p("seed_ip_class_i_min", on), _p("seed_ip_class_ii_min", on)
    ci, cii = row["ip_class_i_count"], row["ip_class_ii_count"]
    e = Explanation(
        f"{SEED}.ip",
        "有效知识产权",
        row["seed_ip"],
        f"有效Ⅰ类 {_count(ci)}，有效Ⅱ类 {_count(cii)}",
        f"有效Ⅰ类知识产权 ≥{p1.value} 件，或有效Ⅱ类知识产权 ≥{p2.value} 件",
        p1.source,
        unconfirmed=p1.unconfirmed or p2.unconfirmed,
    )
    if e.status == NOT_MET:
        e.gap = f"再取得 {p1.value - ci} 件Ⅰ类知识产权（如发明专利），或 {p2.value - cii} 件Ⅱ类知识产权（如实用新型、软件著作权）"
    elif e.status == UNKNOWN:
        e.gap = "知识产权数量未登记，请补充"
    return e


def _seed_not_hnte(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("seed_excludes_hnte", on)
    value = row["hnte_valid"]
    e = Explanation(
        f"{SEED}.not_hnte",
        "尚未认定为高新技术企业",
        row["seed_not_hnte"],
        {True: "已持有有效高企证书", False: "未持有有效高企证书", None: "高企证书状态未登记"}[value]
        if p.value
        else "现行规则不要求",
        "未持有有效期内的高新技术企业证书" if p.value else "—",
        p.source,
        unconfirmed=p.unconfirmed,
    )
    if e.status == NOT_MET:
        e.gap = "已是高新技术企业，不再列入种子选手（转入高企后续梯度培育）"
    elif e.status == UNKNOWN:
        e.gap = "高企证书状态未登记"
    return e


def _champion(row: dict[str, Any], on: dt.date) -> list[Explanation]:
    t = on.year - 1
    sales, main, rd = row["sales_revenue_lag1"], row["main_business_revenue_lag1"], row["rd_expense_lag1"]
    items = []

    p = _p("hchamp_main_business_ratio_min", on)
    ratio = row["hchamp_focus_ratio"]
    e = _item("focus", "主营业务收入占营业收入比例", row, p, f"≥{pct(p.value)}")
    if ratio is None:
        e.value = f"{t}年主营业务收入 {wan(main)}，营业收入 {wan(sales)}"
        e.gap = "主营业务收入或营业收入未登记（或营业收入为 0），无法计算"
    else:
        e.value = f"{t}年主营业务收入 {wan(main)} 占营业收入 {wan(sales)} 的 {pct(ratio)}"
        if e.status == NOT_MET:
            e.gap = f"在营业收入不变时，主营业务收入还需增加约 {wan_up(_short(p.value, sales, main))}"
    items.append(e)

    p = _p("hchamp_rd_ratio_min", on)
    ratio = row["hchamp_rd_ratio"]
    e = _item("rd", "研发费用占营业收入比例", row, p, f"≥{pct(p.value)}")
    if ratio is None:
        e.value = f"{t}年研发费用 {wan(rd)}，营业收入 {wan(sales)}"
        e.gap = "研发费用或营业收入未登记（或营业收入为 0），无法计算"
    else:
        e.value = f"{t}年研发费用 {wan(rd)} 占营业收入 {wan(sales)} 的 {pct(ratio)}"
        if e.status == NOT_MET:
            e.gap = f"按现有营业收入计，研发费用还需增加约 {wan_up(_short(p.value, sales, rd))}"
    e.notes.append("研发费用按会计报表口径（EnterpriseYear.rd_expense）")
    items.append(e)

    p = _p("hchamp_ip_class_i_min", on)
    count = row["ip_class_i_count"]
    e = _item("ip", "有效Ⅰ类知识产权（发明专利等）", row, p, f"≥{p.value} 件")
    e.value = _count(count)
    if count is None:
        e.gap = "Ⅰ类知识产权数量未登记，请补充"
    elif e.status == NOT_MET:
        e.gap = f"还需 {p.value - count} 件有效Ⅰ类知识产权（如发明专利）"
    items.append(e)

    low, high = _p("hchamp_revenue_min", on), _p("hchamp_revenue_below", on)
    e = _item("scale", f"{t}年营业收入", row, low, f"{wan(low.value)}（含）至 {wan(high.value)}（不含）")
    e.unconfirmed = low.unconfirmed or high.unconfirmed
    e.value = wan(sales) if sales is not None else "未登记"
    if sales is None:
        e.gap = f"请补充 {t} 年营业收入"
    elif e.status == NOT_MET:
        e.gap = (
            f"营业收入还差 {wan_up(low.value - sales)}"
            if sales < low.value
            else f"营业收入已达 {wan(high.value)}，超出中小企业规模，宜按专精特新、小巨人等梯度认定"
        )
    items.append(e)

    share_p, years_p = _p("hchamp_market_share_min", on), _p("hchamp_niche_years_min", on)
    share, years = row["market_share"], row["niche_market_years"]
    e = _item(
        "market",
        "细分市场地位",
        row,
        share_p,
        f"主导产品细分市场占有率 ≥{pct(share_p.value)}，或从事特定细分市场 ≥{num(years_p.value)} 年",
    )
    e.unconfirmed = share_p.unconfirmed or years_p.unconfirmed
    e.value = (
        f"细分市场占有率 {pct(share) if share is not None else '未登记'}，"
        f"从事细分市场 {num(years, ' 年') if years is not None else '未登记'}"
    )
    if e.status == NOT_MET:
        e.gap = (
            f"市场占有率还差 {_pp(share_p.value - share)} 个百分点，"
            f"或从事细分市场还需 {num(math.ceil(round(years_p.value - years, 6)))} 年"
        )
    elif e.status == UNKNOWN and share is None and years is None:
        e.gap = "细分市场占有率和从事细分市场年限均未登记，请至少补充一项"
    elif e.status == UNKNOWN:
        e.gap = (
            "细分市场占有率未达到，请补充从事细分市场年限"
            if years is None
            else "从事细分市场年限未达到，请补充细分市场占有率"
        )
    items.append(e)
    return items


def _item(key: str, label: str, row: dict[str, Any], p: ParameterValue, threshold: str) -> Explanation:
    return Explanation(
        f"{CHAMPION}.{key}", label, row[f"hchamp_{key}"], "", threshold, p.source, unconfirmed=p.unconfirmed
    )


def _short(ratio: float, total: float, part_now: float) -> float:
    """How much `part_now` must grow for part / total to reach `ratio`, total unchanged (yuan, up to the fen)."""
    return math.ceil(round(ratio * total * 100 - part_now * 100, 4)) / 100


def _pp(fraction: float) -> str:
    """A fraction as percentage points, rounded up to 0.01."""
    return num(math.ceil(round(fraction * 10000, 6)) / 100)


def _count(value: int | None) -> str:
    return "未登记" if value is None else f"{value} 件"
