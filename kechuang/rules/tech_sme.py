"""科技型中小企业评价 (tech_sme): conditions T1–T5 of 国科发政〔2017〕115号 第六条, the 100-point score of
第七条 and the direct paths of 第八条, as Polars expressions over the situation frame.

Both R&D options of 第七条 2 are computed; the better one is used and reported. The qualification is met
when T1–T4 are met and either the score passes (≥60 with a non-zero 科技人员 score) or a direct path holds.
R&D here is the 加计扣除 basis (财税〔2015〕119号), never the HNTE basis.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl

from kechuang.rules import parameters
from kechuang.rules.common import (
    MET,
    UNKNOWN,
    Explanation,
    band,
    band_points,
    fen,
    ip_band,
    num,
    pct,
    points,
    ranges_pass,
    safe_ratio,
    status,
    wan,
    wan_up,
)

AREA = "tech_sme"
NAME = "科技型中小企业"
AREAS = {AREA: (NAME, "tsme")}
_CONDITION_KEYS = ("t1", "t2", "t3", "t4", "t5_or_direct")
CONDITIONS = {AREA: tuple(f"tsme_{c}" for c in _CONDITION_KEYS)}
DIRECT = ("hnte_valid", "national_award_top3", "provincial_rd_institution", "led_standard")


def _p(name: str, on: dt.date) -> parameters.ParameterValue:
    return parameters.at(f"{AREA}.{name}", on)


def _top(bands: list[dict[str, Any]]) -> int:
    return max(high for _, high in points(bands).values())


def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `tsme_*` result columns to a conformed situation frame (see inputs.conform), lazily."""
    staff_bands = _p("staff_ratio_bands", on).value
    rd1_bands = _p("rd_sales_bands", on).value
    rd2_bands = _p("rd_cost_bands", on).value
    ip_bands = _p("ip_bands", on).value
    pass_min = _p("score_pass_min", on).value

    staff_ratio = safe_ratio(pl.col("tech_staff_lag1"), pl.col("employees_lag1"))
    rd1 = safe_ratio(fen("rd_expense_deduction_lag1"), fen("sales_revenue_lag1"))
    rd2 = safe_ratio(fen("rd_expense_deduction_lag1"), fen("cost_expense_total_lag1"))
    size = (
        (pl.col("employees_lag1") <= _p("employees_max", on).value)
        & (fen("sales_revenue_lag1") <= _p("sales_max", on).value * 100)
        & (fen("total_assets_lag1") <= _p("assets_max", on).value * 100)
    )
    ratios = {"staff": (staff_ratio, staff_bands), "rd1": (rd1, rd1_bands), "rd2": (rd2, rd2_bands)}
    # Each ratio in a helper column first: a band reads its value once per band.
    lazy = (
        frame.lazy()
        .with_columns(
            tsme_t1=status(pl.col("resident_in_china")),
            tsme_t2=status(size),
            tsme_t3=status(pl.col("not_prohibited_industry")),
            tsme_t4=status(pl.col("tech_sme_clean_record")),
            **{f"_tsme_{key}_ratio": ratio for key, (ratio, _) in ratios.items()},
            _tsme_direct=pl.any_horizontal([pl.col(c) for c in DIRECT]),
        )
        .with_columns(
            **{
                name: expr
                for key, (_, bands) in ratios.items()
                for name, expr in (
                    (f"tsme_{key}_ratio", pl.col(f"_tsme_{key}_ratio")),
                    (f"tsme_{key}_band", band(pl.col(f"_tsme_{key}_ratio"), bands)),
                )
            },
            tsme_ip_band=ip_band(pl.col("ip_class_i_count"), pl.col("ip_class_ii_count"), ip_bands),
            tsme_direct=status(pl.col("_tsme_direct")),
        )
    )
    scored = {}
    for key, bands in (("staff", staff_bands), ("rd1", rd1_bands), ("rd2", rd2_bands), ("ip", ip_bands)):
        low, high = band_points(pl.col(f"tsme_{key}_band"), bands, (0, _top(bands)))
        scored |= {f"tsme_{key}_min": low, f"tsme_{key}_max": high}
    lazy = (
        lazy.with_columns(**scored)
        .with_columns(
            tsme_rd_min=pl.max_horizontal("tsme_rd1_min", "tsme_rd2_min"),
            tsme_rd_max=pl.max_horizontal("tsme_rd1_max", "tsme_rd2_max"),
            tsme_rd_option=(
                pl.when(pl.col("tsme_rd1_band").is_not_null() & pl.col("tsme_rd2_band").is_not_null())
                .then(pl.when(pl.col("tsme_rd2_min") > pl.col("tsme_rd1_min")).then(2).otherwise(1))
                .when(pl.col("tsme_rd1_band").is_not_null())
                .then(1)
                .when(pl.col("tsme_rd2_band").is_not_null())
                .then(2)
                .cast(pl.Int64)
            ),
        )
        .with_columns(
            tsme_score_min=pl.sum_horizontal("tsme_staff_min", "tsme_rd_min", "tsme_ip_min"),
            tsme_score_max=pl.sum_horizontal("tsme_staff_max", "tsme_rd_max", "tsme_ip_max"),
        )
        .with_columns(  # the score passes, with a 科技人员 score above 0 (a whole number of points)
            _tsme_t5=ranges_pass(
                [
                    (pl.col("tsme_score_min"), pl.col("tsme_score_max"), pass_min),
                    (pl.col("tsme_staff_min"), pl.col("tsme_staff_max"), 1),
                ]
            ),
        )
        .with_columns(
            tsme_t5=status(pl.col("_tsme_t5")),
            # met when either is, not met when both are not: Kleene `or` (null = unknown)
            tsme_t5_or_direct=status(pl.col("_tsme_t5") | pl.col("_tsme_direct")),
        )
    )
    return lazy


# --- explanations ----------------------------------------------------------------------------------------


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    result = [
        _flag(row, on, "t1"),
        _t2(row, on),
        _flag(row, on, "t3"),
        _flag(row, on, "t4"),
        _t5(row, on),
        _direct(row, on),
    ]
    result.extend(score_items(row, on))
    return {AREA: result}


_FLAGS = {
    "t1": ("resident_in_china", "在中国境内（不包括港、澳、台地区）注册的居民企业", "第六条(一)"),
    "t3": ("not_prohibited_industry", "产品和服务不属于国家规定的禁止、限制和淘汰类", "第六条(三)"),
    "t4": (
        "tech_sme_clean_record",
        "填报上一年及当年内未发生重大安全、重大质量事故和严重环境违法、科研严重失信行为，未列入经营异常名录和严重违法失信企业名单",
        "第六条(四)",
    ),
}


def _flag(row: dict[str, Any], on: dt.date, key: str) -> Explanation:
    column, label, article = _FLAGS[key]
    value = row[column]
    e = Explanation(
        f"tech_sme.{key.upper()}",
        label,
        row[f"tsme_{key}"],
        {True: "是", False: "否", None: "未核实"}[value],
        "符合",
        f"国科发政〔2017〕115号 {article}",
    )
    if value is None:
        e.gap = "需核实并登记"
    elif not value:
        e.gap = "不符合此项条件，不能评价入库"
    return e


def _t2(row: dict[str, Any], on: dt.date) -> Explanation:
    staff, sales, assets = _p("employees_max", on), _p("sales_max", on), _p("assets_max", on)
    period = _p("figures_period", on)
    e = Explanation(
        "tech_sme.T2",
        "企业规模",
        row["tsme_t2"],
        f"职工总数 {num(row['employees_lag1'], ' 人')}，年销售收入 {wan(row['sales_revenue_lag1'])}，资产总额 {wan(row['total_assets_lag1'])}",
        f"职工总数不超过 {staff.value} 人、年销售收入不超过 {wan(sales.value)}、资产总额不超过 {wan(assets.value)}",
        staff.source,
        unconfirmed=period.unconfirmed,
    )
    over = []
    if row["employees_lag1"] is not None and row["employees_lag1"] > staff.value:
        over.append(f"职工总数超出 {num(row['employees_lag1'] - staff.value)} 人")
    for column, p, label in (
        ("sales_revenue_lag1", sales, "年销售收入"),
        ("total_assets_lag1", assets, "资产总额"),
    ):
        if row[column] is not None and row[column] > p.value:
            over.append(f"{label}超出 {wan_up(row[column] - p.value)}")
    if over:
        e.gap = "超出中小企业规模：" + "，".join(over)
    elif e.status == UNKNOWN:
        e.gap = "职工总数、销售收入或资产总额未登记"
    e.notes.append(f"取数期间按{period.value}（{period.source}）")
    return e


def _t5(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("score_pass_min", on)
    low, high = row["tsme_score_min"], row["tsme_score_max"]
    score = f"{low} 分" if low == high else f"{low}–{high} 分"
    e = Explanation(
        "tech_sme.T5",
        "综合评价得分",
        row["tsme_t5"],
        f"得分 {score}（科技人员 {_pts(row, 'staff')}，研发投入 {_pts(row, 'rd')}，科技成果 {_pts(row, 'ip')}）",
        f"≥{p.value} 分，且科技人员指标得分不为 0",
        p.source,
    )
    if e.status != MET:
        gaps = []
        if row["tsme_staff_max"] == 0:
            gaps.append("科技人员指标得分为 0，不能入库")
        if high < p.value:
            gaps.append(f"即使按可能的最高分计仍差 {p.value - high} 分")
        elif low < p.value:
            gaps.append(
                f"还差至少 {p.value - low} 分（部分指标数据未登记）"
                if low != high
                else f"还差 {p.value - low} 分"
            )
        gaps.extend(_hints(row, on))
        e.gap = "；".join(gaps)
    if row["tsme_direct"] == MET:
        e.notes.append("已符合直接确认条件，不需评分")
    return e


def _direct(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("direct_paths", on)
    held = [p.value[c] for c in DIRECT if row[c]]
    unknown = [p.value[c] for c in DIRECT if row[c] is None]
    value = "；".join(held) if held else ("未登记：" + "；".join(unknown) if unknown else "无")
    e = Explanation(
        "tech_sme.direct",
        "直接确认（满足第六条(一)–(四)时）",
        row["tsme_direct"],
        value,
        "符合第八条任一情形",
        p.source,
    )
    return e


def _pts(row: dict[str, Any], key: str) -> str:
    low, high = row[f"tsme_{key}_min"], row[f"tsme_{key}_max"]
    return f"{low} 分" if low == high else f"{low}–{high} 分"


def _next_band(bands: list[dict[str, Any]], letter: str | None) -> dict[str, Any] | None:
    """The band just above `letter` (None when already at the top or unknown)."""
    letters = [b["band"] for b in bands]
    if letter is None or letter not in letters or letters.index(letter) == 0:
        return None
    return bands[letters.index(letter) - 1]


def _hints(row: dict[str, Any], on: dt.date) -> list[str]:
    """What would raise the score by one band, item by item, in the enterprise's own terms."""
    hints = []
    staff_bands = _p("staff_ratio_bands", on).value
    nxt = _next_band(staff_bands, row["tsme_staff_band"])
    employees, tech = row["employees_lag1"], row["tech_staff_lag1"]
    if nxt is not None and employees:
        need = max(0, math.ceil(round(employees * nxt["at_least"] - tech, 6)))
        hints.append(
            f"科技人员占比 {pct(row['tsme_staff_ratio'])}，达到 {pct(nxt['at_least'])} 可得 {nxt['points']} 分，"
            f"按现有职工 {num(employees)} 人计需增加科技人员约 {need} 人"
        )
    rd1_bands = _p("rd_sales_bands", on).value
    nxt = _next_band(rd1_bands, row["tsme_rd1_band"])
    if nxt is not None:
        more = nxt["at_least"] * row["sales_revenue_lag1"] - row["rd_expense_deduction_lag1"]
        hints.append(
            f"研发费用占销售收入 {pct(row['tsme_rd1_ratio'])}，达到 {pct(nxt['at_least'])} 可得 {nxt['points']} 分，"
            f"需增加研发费用约 {wan_up(more)}"
        )
    ip_bands = _p("ip_bands", on).value
    if row["tsme_ip_band"] not in (None, ip_bands[0]["band"]):
        hints.append(f"再取得 1 件有效Ⅰ类知识产权（如发明专利）科技成果指标可得 {ip_bands[0]['points']} 分")
    return hints


def score_items(row: dict[str, Any], on: dt.date) -> list[Explanation]:
    items = []
    for key, name, ratio_label in (
        ("staff", "staff_ratio_bands", "科技人员占职工总数"),
        ("rd1", "rd_sales_bands", "研发费用占销售收入"),
        ("rd2", "rd_cost_bands", "研发费用占成本费用支出总额"),
    ):
        p = _p(name, on)
        letter, ratio = row[f"tsme_{key}_band"], row[f"tsme_{key}_ratio"]
        value = (
            f"{ratio_label} {pct(ratio)}，{letter} 档，得分 {_pts(row, key)}"
            if letter
            else f"数据未登记，得分 {_pts(row, key)}"
        )
        item = Explanation(
            f"tech_sme.S.{key}", p.label, MET if letter else UNKNOWN, value, "", p.source, kind="score"
        )
        if key.startswith("rd"):
            used = row["tsme_rd_option"] == int(key[-1])
            item.notes.append("采用此项计分（两项取高）" if used else "未采用（两项取高）")
        items.append(item)
    p = _p("ip_bands", on)
    letter = row["tsme_ip_band"]
    label = {b["band"]: b["label"] for b in p.value}
    value = (
        f"{label[letter]}，得分 {_pts(row, 'ip')}"
        if letter
        else f"知识产权数量未登记，得分 {_pts(row, 'ip')}"
    )
    items.append(
        Explanation("tech_sme.S.ip", p.label, MET if letter else UNKNOWN, value, "", p.source, kind="score")
    )
    return items
