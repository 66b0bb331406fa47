"""上海市科技小巨人企业 (sh_tech_giant) and 上海市科技小巨人培育企业 (sh_tech_giant_cultivation), read from the
dated parameters of parameters/sh_giant.yaml.

No criteria text of the 上海市科技小巨人工程 was found (rules reference §4, "What I could not confirm" 7): every value
is the reference's best knowledge, encoded with status unconfirmed so that every explanation says 待核实, and must
be checked against the current 上海市科委《科技创新行动计划》科技小巨人工程 申报指南. Both tiers ask for:
- a valid 高新技术企业 certificate (`hnte_valid`);
- registration and tax in Shanghai (`in_shanghai`);
- 营业收入 of the last year t = y−1 (`sales_revenue_lag1`) at least a threshold: 1亿元 for 小巨人 (reported), a lower
  one for 培育 (not reported; 2000万元 chosen, see the YAML);
- an R&D intensity: accounting R&D (`rd_expense_lag1`) / `sales_revenue_lag1` of year t at least a minimum;
- valid Class I IP (`ip_class_i_count`) at least a count.
Where the reference gives no number the platform chose permissive values (a screening list should not hide a
candidate; officers check each against the year's guide).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl

from kechuang.rules import parameters
from kechuang.rules.common import (
    NOT_MET,
    Explanation,
    fen,
    num,
    pct,
    safe_ratio,
    status,
    wan,
    wan_up,
)
from kechuang.rules.gazelle import flag_explanation
from kechuang.rules.parameters import ParameterValue

FILE = "sh_giant"
GIANT, CULTIVATION = "sh_tech_giant", "sh_tech_giant_cultivation"
AREAS = {GIANT: ("上海市科技小巨人企业", "shg"), CULTIVATION: ("上海市科技小巨人培育企业", "shgc")}
_KEYS = ("hnte", "shanghai", "revenue", "rd", "ip")
CONDITIONS = {GIANT: tuple(f"shg_{k}" for k in _KEYS), CULTIVATION: tuple(f"shgc_{k}" for k in _KEYS)}
_PREFIX = {GIANT: ("shg", "giant"), CULTIVATION: ("shgc", "cultivation")}


def _p(name: str, on: dt.date) -> ParameterValue:
    return parameters.at(f"{FILE}.{name}", on)


def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `shg_*` and `shgc_*` result columns to a conformed situation frame, lazily."""
    hnte, shanghai = status(pl.col("hnte_valid")), status(pl.col("in_shanghai"))
    ratio, sales = pl.col("shg_rd_ratio"), pl.col("_shg_sales")
    columns: dict[str, pl.Expr] = {}
    for res, stem in _PREFIX.values():
        columns |= {
            f"{res}_hnte": hnte,
            f"{res}_shanghai": shanghai,
            f"{res}_revenue": status(sales >= _p(f"{stem}_sales_min", on).value * 100),
            f"{res}_rd": status(ratio >= _p(f"{stem}_rd_ratio_min", on).value),
            f"{res}_ip": status(pl.col("ip_class_i_count") >= _p(f"{stem}_ip_class_i_min", on).value),
        }
    return (
        frame.lazy()
        .with_columns(
            shg_rd_ratio=safe_ratio(fen("rd_expense_lag1"), fen("sales_revenue_lag1")),
            _shg_sales=fen("sales_revenue_lag1"),
        )
        .with_columns(**columns)
    )


# --- explanations ----------------------------------------------------------------------------------------


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    basics = _p("basic_conditions", on)
    t = on.year - 1
    result = {}
    for area, (res, stem) in _PREFIX.items():
        result[area] = [
            flag_explanation(
                f"{area}.hnte",
                basics.value["hnte_valid"],
                row[f"{res}_hnte"],
                row["hnte_valid"],
                ("持有有效期内的高新技术企业证书", "需先取得高新技术企业认定", "高企证书状态未登记"),
                basics,
            ),
            flag_explanation(
                f"{area}.shanghai",
                basics.value["in_shanghai"],
                row[f"{res}_shanghai"],
                row["in_shanghai"],
                ("在上海市注册并纳税", "非上海市注册纳税企业，不能申报", "注册及纳税地未登记"),
                basics,
            ),
            _revenue(area, row[f"{res}_revenue"], row, _p(f"{stem}_sales_min", on), t),
            _rd(area, row[f"{res}_rd"], row, _p(f"{stem}_rd_ratio_min", on), t),
            _ip(area, row[f"{res}_ip"], row, _p(f"{stem}_ip_class_i_min", on)),
        ]
    return result


def _revenue(area: str, state: str, row: dict[str, Any], p: ParameterValue, t: int) -> Explanation:
    sales = row["sales_revenue_lag1"]
    e = Explanation(
        f"{area}.revenue",
        f"上年度（{t}年）营业收入",
        state,
        f"{t}年营业收入 {wan(sales)}" if sales is not None else f"{t}年营业收入未登记",
        f"≥{wan(p.value)}",
        p.source,
        unconfirmed=p.unconfirmed,
    )
    if sales is None:
        e.gap = f"请补充 {t} 年营业收入"
    elif state == NOT_MET:
        e.gap = f"营业收入还差 {wan_up(p.value - sales)}"
    return e


def _rd(area: str, state: str, row: dict[str, Any], p: ParameterValue, t: int) -> Explanation:
    rd, sales, ratio = row["rd_expense_lag1"], row["sales_revenue_lag1"], row["shg_rd_ratio"]
    e = Explanation(
        f"{area}.rd",
        f"上年度（{t}年）研发费用占营业收入比例",
        state,
        "",
        f"≥{pct(p.value)}",
        p.source,
        unconfirmed=p.unconfirmed,
    )
    if ratio is None:
        e.value = f"研发费用 {wan(rd)}，营业收入 {wan(sales)}"
        e.gap = "研发费用或营业收入未登记（或营业收入为 0），无法计算"
    else:
        e.value = f"研发费用 {wan(rd)} 占营业收入 {wan(sales)} 的 {pct(ratio)}"
        if state == NOT_MET:
            need = math.ceil(round(p.value * sales * 100 - rd * 100, 4)) / 100
            e.gap = f"按现有营业收入计，研发费用还需增加约 {wan_up(need)}"
    e.notes.append("研发费用按会计报表口径（EnterpriseYear.rd_expense）")
    return e


def _ip(area: str, state: str, row: dict[str, Any], p: ParameterValue) -> Explanation:
    count = row["ip_class_i_count"]
    e = Explanation(
        f"{area}.ip",
        "有效Ⅰ类知识产权（发明专利等）",
        state,
        f"{count} 件" if count is not None else "未登记",
        f"≥{num(p.value, ' 件')}",
        p.source,
        unconfirmed=p.unconfirmed,
    )
    if count is None:
        e.gap = "Ⅰ类知识产权数量未登记，请补充"
    elif state == NOT_MET:
        e.gap = f"还需 {p.value - count} 件有效Ⅰ类知识产权（如发明专利）"
    return e
