"""高新技术企业认定 (HNTE): the eight conditions of 国科发火〔2016〕32号 第十一条 and the 100-point
innovation-capability score of 国科发火〔2016〕195号 三(七), as Polars expressions over the situation frame.

`add_results(frame, on)` adds the `hnte_*` result columns for every row at once (lazily); `explain(row, on)` turns one
result row into Chinese explanations and gaps. A one-enterprise assessment is the same `add_results` on a
one-row frame, so the population and the single enterprise can never disagree.

The score is a range: items the engine can compute (IP count, acquisition, transformation count, growth)
give their band's [min, max]; items experts judge (technical advancement, core support, R&D management)
give [0, max]. H7 is met when the minimum reaches the pass mark, not met when even the maximum misses it,
and otherwise unknown (需专家评审).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from kechuang.rules import parameters
from kechuang.rules.common import (
    MET,
    NOT_MET,
    UNKNOWN,
    Explanation,
    band,
    band_dtype,
    band_points,
    banded,
    date_text,
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

AREA = "hnte"
NAME = "高新技术企业"
AREAS = {AREA: (NAME, "hnte")}
_CONDITION_KEYS = ("h1", "h2", "h3", "h4", "h5", "h5b", "h6", "h7", "h8")
CONDITIONS = {AREA: tuple(f"hnte_{c}" for c in _CONDITION_KEYS)}


def _p(name: str, on: dt.date) -> parameters.ParameterValue:
    return parameters.at(f"{AREA}.{name}", on)


def _included_expr(on: dt.date, lag: int) -> pl.Expr:
    """Whether accounting year y−lag counts: the enterprise existed in it (unknown registration: assume so).
    “企业实际经营期不满三年的按实际经营时间计算” (国科发火〔2016〕195号 三(六)、三(七)4)."""
    reg = pl.col("registration_date")
    return reg.is_null() | (reg.dt.year() <= on.year - lag)


def _included(on: dt.date, lag: int) -> pl.Expr:
    """The helper column holding _included_expr (computed once, dropped at the end)."""
    return pl.col(f"_hnte_inc{lag}")


# Fen are turned back into yuan by multiplying by 0.01, never dividing by 100: Polars divides a column by a
# constant through its reciprocal on many rows but exactly on one, which would let the population and the
# one-enterprise results differ in the last bit.
def _sum_over_years(stem: str, on: dt.date) -> pl.Expr:
    """Σ fen of `stem` over the included years of y−1..y−3, in yuan; null if an included year is null, or if no
    year is included (y−1 is included whenever an earlier year is, so exactly when y−1 is not)."""
    total = pl.lit(0.0) + fen(f"{stem}_lag1")
    for lag in (2, 3):
        total = total + pl.when(_included(on, lag)).then(fen(f"{stem}_lag{lag}")).otherwise(0.0)
    return pl.when(_included(on, 1)).then(total * 0.01)


def _growth_values(stem: str, negative_as_zero: bool) -> dict[str, pl.Expr]:
    """The year-end values the growth rate of 净资产 or 销售收入 reads, in helper columns (each is read several
    times); year 1 = y−3, year 2 = y−2, year 3 = y−1."""
    raw = {k: pl.col(f"{stem}_lag{4 - k}") for k in (1, 2, 3)}
    return {
        f"_hnte_{stem}_x{k}": pl.when(v < 0).then(0.0).otherwise(v) if negative_as_zero else v
        for k, v in raw.items()
    }


def _growth(stem: str, on: dt.date, negative_as_zero: bool) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(growth rate, mode, negative_used) for 净资产 or 销售收入, from the helper columns of _growth_values."""
    raw = {k: pl.col(f"{stem}_lag{4 - k}") for k in (1, 2, 3)}
    x = {k: pl.col(f"_hnte_{stem}_x{k}") for k in (1, 2, 3)}
    has_year1 = _included(on, 3)
    has_year2 = _included(on, 2)
    missing = x[2].is_null() | x[3].is_null() | (has_year1 & x[1].is_null())
    mode = (
        pl.when(~has_year2)
        .then(pl.lit("too_short"))
        .when(missing)
        .then(pl.lit("missing"))
        .when(x[2] <= 0)
        .then(pl.lit("year2_zero"))
        .when(~has_year1)
        .then(pl.lit("two_years_short"))
        .when(x[1] <= 0)
        .then(pl.lit("year1_zero"))
        .otherwise(pl.lit("three_years"))
    )
    mode_col = pl.col(f"_hnte_{stem}_mode")
    rate = (
        pl.when(mode_col.is_in(["two_years_short", "year1_zero"]))
        .then(x[3] / x[2] - 1)
        .when(mode_col == "three_years")
        .then((x[2] / x[1] + x[3] / x[2]) / 2 - 1)
        .otherwise(None)
        .round(9)
    )
    if not negative_as_zero:
        return rate, mode, pl.lit(False)
    negative_used = pl.any_horizontal([(raw[k] < 0) & (_included(on, 4 - k)) for k in (1, 2, 3)])
    return rate, mode, negative_used.fill_null(False)


def _expert(key: str, column: str, top: int, none_possible: pl.Expr | None = None) -> dict[str, pl.Expr]:
    """An expert-judged item: the recorded points when within [0, top]; else the range [0, top] (or 0 when
    the enterprise has no IP to judge). A recorded value outside the range is ignored, not clipped."""
    recorded = pl.col(column)
    valid = recorded.is_between(0, top)  # null when not recorded: a when/then takes it as false
    low: Any = pl
    high: Any = pl
    if none_possible is not None:
        low, high = (pl.when(none_possible).then(0),) * 2
    low = low.when(valid).then(recorded).otherwise(0)
    high = high.when(valid).then(recorded).otherwise(top)
    return {f"hnte_s_{key}_min": low.cast(pl.Int64), f"hnte_s_{key}_max": high.cast(pl.Int64)}


# The plan runs in steps (each a with_columns reading the columns of the steps before it); a value read more
# than once is computed once, in a `_hnte_` helper column.
def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `hnte_*` result columns to a conformed situation frame (see inputs.conform), lazily."""
    negative_as_zero = bool(_p("growth_nonpositive_value_rule", on).value)
    reg = pl.col("registration_date")
    ci, cii = pl.col("ip_class_i_count"), pl.col("ip_class_ii_unused_count")
    count_bands = _p("ip_count_bands", on).value
    lazy = frame.lazy().with_columns(
        **{f"_hnte_inc{lag}": _included_expr(on, lag) for lag in (1, 2, 3)},
        **_growth_values("net_assets", negative_as_zero),
        **_growth_values("sales_revenue", negative_as_zero),
        _hnte_days=(pl.lit(on) - reg).dt.total_days(),
        _hnte_known_ip=ci.fill_null(0) + cii.fill_null(0),
        _hnte_staff_ratio=safe_ratio(pl.col("tech_staff_lag1"), pl.col("employees_lag1")),
        _hnte_income_ratio=safe_ratio(fen("hitech_revenue_lag1"), fen("total_income_lag1")),
        _hnte_ipcount_band=ip_band(ci, cii, count_bands),
    )
    years = pl.col("hnte_rd_years")
    growth = {
        short: _growth(stem, on, negative_as_zero)
        for short, stem in (("nag", "net_assets"), ("sag", "sales_revenue"))
    }
    count_band = pl.col("_hnte_ipcount_band")
    no_ip = pl.col("_hnte_no_ip")  # known to hold no countable IP

    # --- H1 registration, H2 IP, H3 field, H4 staff, H6 income ---------------------------------------
    min_days = _p("registration_min_days", on).value
    days, known_ip = pl.col("_hnte_days"), pl.col("_hnte_known_ip")
    ip_min = _p("ip_min_count", on).value
    staff_min = _p("tech_staff_ratio_min", on).value
    staff_ratio = pl.col("_hnte_staff_ratio")
    income_min = _p("hitech_income_ratio_min", on).value
    income_ratio = pl.col("_hnte_income_ratio")
    lazy = lazy.with_columns(
        hnte_h1_days=days,
        hnte_h1=status(pl.when(days >= 0).then(days >= min_days)),
        hnte_h2_ip=known_ip,
        hnte_h2=status(
            pl.when(known_ip >= ip_min)
            .then(True)
            .when(ci.is_null() | cii.is_null())
            .then(None)
            .otherwise(False)
        ),
        hnte_h3=status(pl.col("hitech_field_ok")),
        hnte_h4_ratio=staff_ratio,
        hnte_h4_staff_needed=(
            (pl.col("employees_lag1") * staff_min - pl.col("tech_staff_lag1"))
            .round(6)
            .ceil()
            .clip(lower_bound=0)
            .cast(pl.Int64)
        ),
        hnte_h4=status(staff_ratio >= staff_min),
        hnte_h6_ratio=income_ratio,
        hnte_h6_gap_yuan=(
            (fen("total_income_lag1") * income_min - fen("hitech_revenue_lag1")).round(6).ceil() * 0.01
        ).clip(lower_bound=0),
        hnte_h6=status(income_ratio >= income_min),
        hnte_h8=status(pl.col("no_major_incident")),
        hnte_rd_years=sum((_included(on, lag).cast(pl.Int64) for lag in (1, 2, 3)), pl.lit(0)),
        **{
            f"_hnte_{stem}_mode": growth[short][1]
            for short, stem in (("nag", "net_assets"), ("sag", "sales_revenue"))
        },
        _hnte_no_ip=(count_band == count_bands[-1]["band"]).fill_null(False),
    )

    # --- H5 R&D ratio with the band by latest sales, H5b domestic share --------------------------------
    bands = _p("rd_ratio_bands", on).value
    rate = banded(
        pl.col("sales_revenue_lag1"),
        [{"otherwise": True} if b["sales_up_to"] is None else {"at_most": b["sales_up_to"]} for b in bands],
        [b["rate"] for b in bands],
        pl.Float64,
    )
    rd_sum, sales_sum, dom_sum = (
        _sum_over_years(s, on) for s in ("rd_expense_hnte", "sales_revenue", "rd_expense_hnte_domestic")
    )
    dom_min = _p("domestic_rd_ratio_min", on).value
    lazy = (
        lazy.with_columns(
            hnte_rd_sum=rd_sum,
            hnte_sales_sum=sales_sum,
            hnte_dom_sum=dom_sum,
            hnte_h5_rate=rate,
        )
        .with_columns(
            hnte_h5_ratio=safe_ratio(pl.col("hnte_rd_sum"), pl.col("hnte_sales_sum")),
            hnte_h5b_ratio=safe_ratio(pl.col("hnte_dom_sum"), pl.col("hnte_rd_sum")),
        )
        .with_columns(
            hnte_h5=status(pl.col("hnte_h5_ratio") >= pl.col("hnte_h5_rate")),
            hnte_h5_gap_yuan=(
                (pl.col("hnte_sales_sum") * pl.col("hnte_h5_rate") - pl.col("hnte_rd_sum")) * 100
            )
            .round(6)
            .ceil()
            .clip(lower_bound=0)
            * 0.01,
            hnte_h5b=status(pl.col("hnte_h5b_ratio") >= dom_min),
            hnte_h5b_gap_yuan=((pl.col("hnte_rd_sum") * dom_min - pl.col("hnte_dom_sum")) * 100)
            .round(6)
            .ceil()
            .clip(lower_bound=0)
            * 0.01,
            hnte_s_ipcount_band=count_band,
        )
    )

    # --- score: 知识产权 (≤30) ----------------------------------------------------------------------
    count_min, count_max = band_points(
        count_band, count_bands, (0, max(p[1] for p in points(count_bands).values()))
    )
    acq = _p("ip_acquisition_points", on).value
    own = pl.col("ip_has_own_rd")
    acq_min = (
        pl.when(no_ip)
        .then(0)
        .when(count_band.is_null())
        .then(0)
        .when(own.is_null())
        .then(min(acq["own_rd"][0], acq["transfer_only"][0]))
        .when(own)
        .then(acq["own_rd"][0])
        .otherwise(acq["transfer_only"][0])
    )
    acq_max = (
        pl.when(no_ip)
        .then(0)
        .when(own.is_null() | count_band.is_null() | own)
        .then(acq["own_rd"][1])
        .otherwise(acq["transfer_only"][1])
    )
    adv_max, core_max = _p("ip_advancement_max", on).value, _p("ip_core_support_max", on).value
    bonus = _p("ip_standards_bonus", on).value
    std = pl.col("standards_participation")
    ip_cap = _p("ip_total_max", on).value
    conv_total = pl.lit(0.0) + pl.col("conversions_lag1").cast(pl.Float64)  # read where y−1 is included
    for lag in (2, 3):
        conv_total = conv_total + (
            pl.when(_included(on, lag)).then(pl.col(f"conversions_lag{lag}").cast(pl.Float64)).otherwise(0.0)
        )
    lazy = lazy.with_columns(
        hnte_s_ipcount_min=count_min,
        hnte_s_ipcount_max=count_max,
        hnte_s_acq_min=acq_min.fill_null(0),
        hnte_s_acq_max=acq_max.fill_null(acq["own_rd"][1]),
        **_expert("adv", "expert_ip_advancement", adv_max, no_ip),
        **_expert("core", "expert_ip_core_support", core_max, no_ip),
        hnte_s_std_min=pl.when(std.fill_null(False)).then(bonus[0]).otherwise(0),
        hnte_s_std_max=pl.when(std.is_null() | std).then(bonus[1]).otherwise(0),
    ).with_columns(
        hnte_s_ip_min=pl.min_horizontal(
            pl.sum_horizontal(
                "hnte_s_ipcount_min", "hnte_s_acq_min", "hnte_s_adv_min", "hnte_s_core_min", "hnte_s_std_min"
            ),
            pl.lit(ip_cap),
        ),
        hnte_s_ip_max=pl.min_horizontal(
            pl.sum_horizontal(
                "hnte_s_ipcount_max", "hnte_s_acq_max", "hnte_s_adv_max", "hnte_s_core_max", "hnte_s_std_max"
            ),
            pl.lit(ip_cap),
        ),
        hnte_s_conv_avg=pl.when(_included(on, 1)).then(conv_total / years).round(9),
    )

    # --- score: 科技成果转化能力 (≤30), 研发组织管理 (≤20), 成长性 (≤20) ---------------------------
    conv_bands = _p("conversion_bands", on).value
    conv_min, conv_max = band_points(
        pl.col("hnte_s_conv_band"), conv_bands, (0, points(conv_bands)[conv_bands[0]["band"]][1])
    )
    growth_bands = _p("growth_bands", on).value
    growth_top = points(growth_bands)[growth_bands[0]["band"]][1]
    growth_cols: dict[str, pl.Expr] = {}
    for short, stem in (("nag", "net_assets"), ("sag", "sales_revenue")):
        g_min, g_max = band_points(pl.col(f"hnte_s_{short}_band"), growth_bands, (0, growth_top))
        growth_cols |= {
            f"hnte_s_{short}_mode": pl.col(f"_hnte_{stem}_mode"),
            f"hnte_s_{short}_min": g_min,
            f"hnte_s_{short}_max": g_max,
        }
    lazy = (
        lazy.with_columns(
            hnte_s_conv_band=band(pl.col("hnte_s_conv_avg"), conv_bands),
            **{f"hnte_s_{short}": growth[short][0] for short in growth},
            **{f"hnte_s_{short}_negative": growth[short][2] for short in growth},
        )
        .with_columns(
            **{
                f"hnte_s_{short}_band": pl.when(pl.col(f"_hnte_{stem}_mode") == "year2_zero")
                .then(pl.lit(growth_bands[-1]["band"], dtype=band_dtype(growth_bands)))
                .otherwise(band(pl.col(f"hnte_s_{short}"), growth_bands))
                for short, stem in (("nag", "net_assets"), ("sag", "sales_revenue"))
            }
        )
        .with_columns(
            hnte_s_conv_min=conv_min,
            hnte_s_conv_max=conv_max,
            **_expert("mgmt", "expert_rd_management", _p("rd_management_max", on).value),
            **growth_cols,
        )
        .with_columns(
            hnte_score_min=pl.sum_horizontal(
                "hnte_s_ip_min", "hnte_s_conv_min", "hnte_s_mgmt_min", "hnte_s_nag_min", "hnte_s_sag_min"
            ),
            hnte_score_max=pl.sum_horizontal(
                "hnte_s_ip_max", "hnte_s_conv_max", "hnte_s_mgmt_max", "hnte_s_nag_max", "hnte_s_sag_max"
            ),
        )
    )
    pass_min = _p("score_pass_min", on).value
    return lazy.with_columns(
        hnte_h7=status(ranges_pass([(pl.col("hnte_score_min"), pl.col("hnte_score_max"), pass_min)]))
    )


# --- explanations ----------------------------------------------------------------------------------------


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    """The Chinese explanation of every HNTE condition and score item of one evaluated row."""
    result = [
        _h1(row, on),
        _h2(row, on),
        _h3(row, on),
        _h4(row, on),
        _h5(row, on),
        _h5b(row, on),
        _h6(row, on),
        _h7(row, on),
        _h8(row, on),
    ]
    result.extend(score_items(row, on))
    return {AREA: result}


def _h1(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("registration_min_days", on)
    reg, days = row["registration_date"], row["hnte_h1_days"]
    e = Explanation(
        "hnte.H1",
        "注册成立时间",
        row["hnte_h1"],
        "",
        f"截至评价日 {on.isoformat()} 成立满 {p.value} 日",
        p.source,
    )
    if reg is None:
        e.value, e.gap = "成立日期未登记", "请补充成立日期"
    elif days < 0:
        e.value, e.gap = f"成立日期 {date_text(reg)} 晚于评价日期", "成立日期有误，请核对"
    else:
        e.value = f"成立于 {date_text(reg)}，已成立 {days} 日"
        if e.status == NOT_MET:
            e.gap = f"还需 {p.value - days} 日，{date_text(reg + dt.timedelta(days=p.value))} 起满足"
    return e


def _h2(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("ip_min_count", on)
    ci, cii = row["ip_class_i_count"], row["ip_class_ii_unused_count"]
    e = Explanation("hnte.H2", "核心知识产权", row["hnte_h2"], "", f"至少 {p.value} 件有效知识产权", p.source)
    e.value = f"有效Ⅰ类 {_count(ci)} 件，尚未用于高企申报的有效Ⅱ类 {_count(cii)} 件"
    if e.status == NOT_MET:
        e.gap = f"需至少 {p.value} 件有效知识产权：Ⅰ类（如发明专利）或尚未用于高企申报的Ⅱ类（如实用新型、软件著作权），通过自主研发、受让、受赠或并购取得"
    elif e.status == UNKNOWN:
        e.gap = "知识产权数量未登记，请补充"
    e.notes.append("知识产权须对主要产品（服务）发挥核心支持作用，由专家判断")
    return e


def _h3(row: dict[str, Any], on: dt.date) -> Explanation:
    value = row["hitech_field_ok"]
    e = Explanation(
        "hnte.H3",
        "技术领域",
        row["hnte_h3"],
        {True: "属于", False: "不属于", None: "未判断"}[value],
        "核心技术属于《国家重点支持的高新技术领域》",
        "国科发火〔2016〕32号 第十一条(三) 及附件",
    )
    if value is None:
        e.gap = "需专家判断核心技术所属领域"
    elif not value:
        e.gap = "核心技术不在《国家重点支持的高新技术领域》内"
    return e


def _h4(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("tech_staff_ratio_min", on)
    ratio, employees, tech = row["hnte_h4_ratio"], row["employees_lag1"], row["tech_staff_lag1"]
    e = Explanation("hnte.H4", "科技人员占职工总数比例", row["hnte_h4"], "", f"≥{pct(p.value)}", p.source)
    if ratio is None:
        e.value = f"科技人员 {num(tech, ' 人')}，职工总数 {num(employees, ' 人')}"
        e.gap = "职工总数或科技人员数未登记（或职工总数为 0），无法计算"
    else:
        e.value = f"科技人员占比 {pct(ratio)}（科技人员 {num(tech)} 人 / 职工 {num(employees)} 人）"
        if e.status == NOT_MET:
            e.gap = f"按现有职工 {num(employees)} 人计还需增加科技人员约 {row['hnte_h4_staff_needed']} 人"
    return e


def _h5(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("rd_ratio_bands", on)
    ratio, rate, years = row["hnte_h5_ratio"], row["hnte_h5_rate"], row["hnte_rd_years"]
    sales1 = row["sales_revenue_lag1"]
    band_label = next(
        (
            b["label"]
            for b in p.value
            if b["sales_up_to"] is None or (sales1 is not None and sales1 <= b["sales_up_to"])
        ),
        "",
    )
    threshold = (
        f"≥{pct(rate)}（最近一年销售收入 {wan(sales1)}，适用 {pct(rate)} 档：{band_label}）"
        if rate is not None
        else "按最近一年销售收入分 5%/4%/3% 三档"
    )
    e = Explanation(
        "hnte.H5", f"近{_years(years)}研发费用占同期销售收入比例", row["hnte_h5"], "", threshold, p.source
    )
    if years == 0:
        e.value, e.gap = "评价年度前尚无完整会计年度", "成立当年无可用的会计年度数据"
    elif ratio is None:
        e.value = f"研发费用合计 {wan(row['hnte_rd_sum'])}，销售收入合计 {wan(row['hnte_sales_sum'])}"
        e.gap = "研发费用或销售收入有年度未登记（或销售收入为 0），无法计算"
    else:
        e.value = f"近{_years(years)}研发费用 {wan(row['hnte_rd_sum'])} 占销售收入 {wan(row['hnte_sales_sum'])} 的 {pct(ratio)}"
        if e.status == NOT_MET:
            e.gap = f"还需增加研发投入约 {wan_up(row['hnte_h5_gap_yuan'])}（{_years(years)}合计）"
    if years is not None and 0 < years < 3:
        e.notes.append(f"企业经营不满三年，按实际经营的 {years} 个会计年度计算")
    return e


def _h5b(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("domestic_rd_ratio_min", on)
    ratio = row["hnte_h5b_ratio"]
    e = Explanation(
        "hnte.H5b", "境内研发费用占全部研发费用比例", row["hnte_h5b"], "", f"≥{pct(p.value)}", p.source
    )
    if ratio is None:
        e.value = f"境内研发费用 {wan(row['hnte_dom_sum'])}，研发费用 {wan(row['hnte_rd_sum'])}"
        e.gap = "境内研发费用或研发费用有年度未登记（或研发费用为 0），无法计算"
    else:
        e.value = f"境内研发费用 {wan(row['hnte_dom_sum'])} 占 {pct(ratio)}"
        if e.status == NOT_MET:
            e.gap = f"在研发总额不变时，需将约 {wan_up(row['hnte_h5b_gap_yuan'])} 委托境外的研发改在境内进行"
    return e


def _h6(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("hitech_income_ratio_min", on)
    ratio = row["hnte_h6_ratio"]
    e = Explanation(
        "hnte.H6",
        "近一年高新技术产品（服务）收入占总收入比例",
        row["hnte_h6"],
        "",
        f"≥{pct(p.value)}",
        p.source,
    )
    if ratio is None:
        e.value = f"高新技术产品（服务）收入 {wan(row['hitech_revenue_lag1'])}，总收入 {wan(row['total_income_lag1'])}"
        e.gap = "高新技术产品（服务）收入或总收入未登记（或总收入为 0），无法计算"
    else:
        e.value = f"高新技术产品（服务）收入 {wan(row['hitech_revenue_lag1'])} 占总收入 {wan(row['total_income_lag1'])} 的 {pct(ratio)}"
        if e.status == NOT_MET:
            e.gap = f"在总收入不变时，高新技术产品（服务）收入还需增加约 {wan_up(row['hnte_h6_gap_yuan'])}"
    return e


def _h7(row: dict[str, Any], on: dt.date) -> Explanation:
    p = _p("score_pass_min", on)
    low, high = row["hnte_score_min"], row["hnte_score_max"]
    e = Explanation(
        "hnte.H7", "企业创新能力评价", row["hnte_h7"], f"得分 {low}–{high} 分", f"≥{p.value} 分", p.source
    )
    if e.status == NOT_MET:
        e.gap = f"即使专家评价项取满分仍差 {p.value - high} 分"
    elif e.status == UNKNOWN:
        e.gap = f"需专家评审：得分区间跨过 {p.value} 分，须在可计算的最低分 {low} 分之上由专家评价再得至少 {p.value - low} 分"
    if any(
        row[f"hnte_s_{g}_negative"] or row[f"hnte_s_{g}_mode"] == "two_years_short" for g in ("nag", "sag")
    ):
        e.unconfirmed = True  # the growth items use a rule marked 待核实
    return e


def _h8(row: dict[str, Any], on: dt.date) -> Explanation:
    value = row["no_major_incident"]
    e = Explanation(
        "hnte.H8",
        "申请认定前一年内无重大安全、重大质量事故或严重环境违法行为",
        row["hnte_h8"],
        {True: "无", False: "有", None: "未核实"}[value],
        "无此类记录",
        "国科发火〔2016〕32号 第十一条(八)",
    )
    if value is None:
        e.gap = "需核实信用及行政处罚记录"
    elif not value:
        e.gap = "申请认定前一年内有重大安全、重大质量事故或严重环境违法行为，不能申请"
    return e


def score_items(row: dict[str, Any], on: dt.date) -> list[Explanation]:
    """One explanation per score item: band and [min, max] points."""
    items = []
    count_bands = _p("ip_count_bands", on)
    label = {b["band"]: b["label"] for b in count_bands.value}
    band_letter = row["hnte_s_ipcount_band"]
    items.append(
        _score(
            "hnte.S.ip_count",
            "知识产权数量",
            row,
            "ipcount",
            count_bands.source,
            f"{band_letter} 档（{label[band_letter]}）" if band_letter else "知识产权数量未登记",
        )
    )
    own = row["ip_has_own_rd"]
    items.append(
        _score(
            "hnte.S.ip_acquisition",
            "知识产权获得方式",
            row,
            "acq",
            _p("ip_acquisition_points", on).source,
            {True: "有自主研发", False: "仅有受让、受赠和并购等", None: "获得方式未登记"}[own],
        )
    )
    items.append(
        _score(
            "hnte.S.ip_advancement",
            "技术的先进程度",
            row,
            "adv",
            _p("ip_advancement_max", on).source,
            _judged(row, "expert_ip_advancement"),
        )
    )
    items.append(
        _score(
            "hnte.S.ip_core_support",
            "核心支持作用",
            row,
            "core",
            _p("ip_core_support_max", on).source,
            _judged(row, "expert_ip_core_support"),
        )
    )
    std = row["standards_participation"]
    items.append(
        _score(
            "hnte.S.ip_standards",
            "参与编制标准（加分）",
            row,
            "std",
            _p("ip_standards_bonus", on).source,
            {True: "是", False: "否", None: "未登记"}[std],
        )
    )
    items.append(
        _score(
            "hnte.S.ip", "知识产权（小计，≤30分）", row, "ip", _p("ip_total_max", on).source, "以上五项合计"
        )
    )
    conv = _p("conversion_bands", on)
    avg = row["hnte_s_conv_avg"]
    conv_label = {b["band"]: b["label"] for b in conv.value}
    items.append(
        _score(
            "hnte.S.conversion",
            "科技成果转化能力",
            row,
            "conv",
            conv.source,
            f"近三年年均转化 {num(avg)} 项，{row['hnte_s_conv_band']} 档（{conv_label[row['hnte_s_conv_band']]}），档内分数由专家评定"
            if avg is not None
            else "科技成果转化数有年度未登记",
        )
    )
    items.append(
        _score(
            "hnte.S.rd_management",
            "研究开发组织管理水平",
            row,
            "mgmt",
            _p("rd_management_max", on).source,
            _judged(row, "expert_rd_management"),
        )
    )
    growth = _p("growth_bands", on)
    rule = _p("growth_nonpositive_value_rule", on)
    for short, name in (("nag", "净资产增长率"), ("sag", "销售收入增长率")):
        mode, rate, letter = row[f"hnte_s_{short}_mode"], row[f"hnte_s_{short}"], row[f"hnte_s_{short}_band"]
        value = {
            "too_short": "经营不足两个会计年度，无法计算",
            "missing": "有年度数据未登记，无法计算",
            "year2_zero": "第二年末为 0，按 0 分计算",
        }.get(mode, f"{pct(rate)}，{letter} 档")
        item = _score(f"hnte.S.{short}", name, row, short, growth.source, value)
        if mode == "year1_zero":
            item.notes.append("第一年末为 0，按后两年计算")
        if mode == "two_years_short":
            item.notes.append("经营不满三年，按后两年计算（计算方法待核实）")
            item.unconfirmed = True
        if row[f"hnte_s_{short}_negative"]:
            item.notes.append(f"有年末数为负，{rule.label}（{rule.source}）")
            item.unconfirmed = True
        items.append(item)
    return items


def _score(code: str, label: str, row: dict[str, Any], key: str, source: str, value: str) -> Explanation:
    low, high = row[f"hnte_s_{key}_min"], row[f"hnte_s_{key}_max"]
    points_text = f"{low} 分" if low == high else f"{low}–{high} 分"
    state = MET if low == high else UNKNOWN  # a fixed number of points, or a range still open
    return Explanation(code, label, state, f"{value}，得分 {points_text}", "", source, kind="score")


def _judged(row: dict[str, Any], column: str) -> str:
    if column != "expert_rd_management" and row["hnte_s_ipcount_band"] == "E":
        return "无可计的知识产权"
    return "专家评价（尚未评分，按区间计）" if row[column] is None else f"专家评分 {row[column]} 分"


def _count(value: int | None) -> str:
    return "未登记" if value is None else str(value)


def _years(years: int | None) -> str:
    return {3: "三年", 2: "两年", 1: "一年"}.get(years or 0, "三年")
