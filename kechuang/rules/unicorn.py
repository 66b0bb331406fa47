"""独角兽企业 (unicorn) and 潜力独角兽企业 (potential_unicorn), read from the dated parameters of
parameters/unicorn.yaml.

Unicorn: the definition of 科技部火炬中心 and 长城企业战略研究所 [S14×3]; all four hold: registered in China
(`resident_in_china`); founded no more than 10 years ago; has received private-equity investment
(`has_private_equity`) and is not listed (`is_listed` false); valuation over 10亿美元 (`valuation_lag1`, the
post-money valuation of the latest round recorded for year y−1).

The registry holds yuan. The USD thresholds are parameters and so is the CNY-per-USD rate used to convert them
(`cny_per_usd`, dated, status unconfirmed: the rate to use, e.g. the PBOC central parity on the valuation date or at
the year end, is for the commission to set). A threshold is converted once, to whole fen: 10亿美元 × 7.1 = 71亿元.
"Over" is strict: a valuation exactly at the converted threshold is not over it.

Founding age is counted as the 长城 lists count it (`founding_age_rule: cutoff_year`: the 2016 list took
companies founded in 2006 or later, i.e. cut-off year t = y−1 minus the registration year ≤ 10); see gazelle.py.

Potential unicorn (潜在独角兽, 长城): UNCONFIRMED tiers from the rules reference's best knowledge — founded ≤ 5 years
with a valuation ≥ 1亿美元, or founded ≤ 9 years with ≥ 5亿美元 — as alternative paths in the YAML, on top of the
unicorn's own basic conditions (registered in China, PE-backed, not listed), all unconfirmed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from kechuang.rules import parameters
from kechuang.rules.common import MET, Explanation, fen, status
from kechuang.rules.gazelle import (
    REVENUE_CRITERIA,
    VALUATION_CRITERIA,
    Basis,
    Figures,
    age_years,
    any_path,
    check_paths,
    flag_explanation,
    founded_within,
    growth_stages,
    make_basis,
    part,
    path_explanations,
    usd_fen,
)
from kechuang.rules.parameters import ParameterValue

AREA, POTENTIAL = "unicorn", "potential_unicorn"
AREAS = {AREA: ("独角兽企业", "uni"), POTENTIAL: ("潜力独角兽企业", "puni")}
CONDITIONS = {
    AREA: ("uni_resident", "uni_age", "uni_pe", "uni_unlisted", "uni_valuation"),
    POTENTIAL: ("puni_resident", "puni_pe", "puni_unlisted", "puni_tier"),
}
_CRITERIA = (*REVENUE_CRITERIA, *VALUATION_CRITERIA)


def _p(name: str, on: dt.date) -> ParameterValue:
    return parameters.at(f"{AREA}.{name}", on)


def _basis(on: dt.date) -> Basis:
    return make_basis(on, "_uni_", _p("founding_age_rule", on), _p("cny_per_usd", on))


def add_results(frame: pl.DataFrame | pl.LazyFrame, on: dt.date) -> pl.LazyFrame:
    """Add the `uni_*` and `puni_*` result columns to a conformed situation frame, lazily."""
    basis = _basis(on)
    bar = usd_fen(basis, _p("valuation_over_usd", on).value)
    tiers = check_paths(_p("potential_paths", on), _CRITERIA)
    lazy = frame.lazy()
    stages, path_statuses = growth_stages(basis, {"puni": tiers})
    for stage in stages:
        lazy = lazy.with_columns(**stage)
    resident = status(pl.col("resident_in_china"))
    pe = status(pl.col("has_private_equity"))
    unlisted = status(~pl.col("is_listed"))
    return lazy.with_columns(
        **path_statuses,
        _uni_over=fen("valuation_lag1") > bar,
        _uni_young=founded_within(basis, int(_p("founded_max_years", on).value)),
    ).with_columns(
        uni_resident=resident,
        uni_age_years=age_years(basis),
        uni_age=status(pl.col("_uni_young")),
        uni_pe=pe,
        uni_unlisted=unlisted,
        uni_valuation_usd=pl.col("valuation_lag1") / _p("cny_per_usd", on).value,
        uni_valuation=status(pl.col("_uni_over")),
        puni_resident=resident,
        puni_pe=pe,
        puni_unlisted=unlisted,
        puni_tier=any_path(basis, "puni", tiers),
    )


# --- explanations ----------------------------------------------------------------------------------------

_BASICS = {
    "resident": (
        "resident_in_china",
        "在中国境内注册的企业法人",
        ("在中国境内注册", "非境内注册企业，不属独角兽企业统计范围", "是否境内注册未登记"),
    ),
    "pe": (
        "has_private_equity",
        "获得过私募股权投资",
        ("获得过私募股权投资", "尚未获得私募股权投资", "股权融资记录未登记"),
    ),
}


def explain(row: dict[str, Any], on: dt.date) -> dict[str, list[Explanation]]:
    basis = _basis(on)
    figures = Figures(row, basis)
    definition = _p("definition", on)
    tiers = _p("potential_paths", on)
    check_paths(tiers, _CRITERIA)
    result: dict[str, list[Explanation]] = {AREA: [], POTENTIAL: []}
    for area, res, source in ((AREA, "uni", definition), (POTENTIAL, "puni", tiers)):
        for key in ("resident", "pe"):
            column, label, texts = _BASICS[key]
            result[area].append(
                flag_explanation(f"{area}.{key}", label, row[f"{res}_{key}"], row[column], texts, source)
            )
        result[area].append(_unlisted(area, row[f"{res}_unlisted"], row["is_listed"], source))
    years = _p("founded_max_years", on)
    age = part("founded_within_years", years.value, {}, figures)
    result[AREA].insert(1, _from_part(f"{AREA}.age", "成立年限", row["uni_age"], age, years))
    over = _p("valuation_over_usd", on)
    valuation = part("valuation_greater_than_usd", over.value, {}, figures)
    result[AREA].append(_from_part(f"{AREA}.valuation", "企业估值", row["uni_valuation"], valuation, over))
    result[POTENTIAL].extend(
        path_explanations(POTENTIAL, "tier", "成立年限与估值（满足任一档）", "puni", tiers, row, figures)
    )
    return result


def _unlisted(area: str, status_value: str, listed: bool | None, p: ParameterValue) -> Explanation:
    e = Explanation(
        f"{area}.unlisted",
        "尚未上市",
        status_value,
        {True: "已上市", False: "未上市", None: "未登记"}[listed],
        "尚未上市",
        p.source,
        unconfirmed=p.unconfirmed,
    )
    if listed:
        e.gap = "已上市企业不属独角兽企业统计范围"
    elif listed is None:
        e.gap = "是否上市未登记"
    return e


def _from_part(code: str, label: str, status_value: str, x: Any, p: ParameterValue) -> Explanation:
    e = Explanation(
        code, label, status_value, x.value, x.threshold, p.source, unconfirmed=p.unconfirmed or x.unconfirmed
    )
    if status_value != MET:
        e.gap = x.gap
    if x.note:
        e.notes.append(x.note)
    return e
