"""The policy frame's columns: what a policy item's eligibility conditions and benefit formula may name.

Pure Python + Polars (no Django), so the language (eligibility.py, formula.py) is checked and compiled without a
database. One row per enterprise, built by frame.py from the registry:

- every column of the rules engine's situation frame (kechuang.rules.inputs: yearly figures y−1…, IP counts,
  certificates held, facts), labelled with the real years of the run's date (y−1 → 2025年);
- `status`, `park`, `industry`, `hitech_field`: the enterprise's own fields (codes as stored);
- `held_<kind>`: holds a certificate of that kind (enterprises.Qualification) valid on the run's date; `new_<kind>`:
  holds one issued within the period (newly recognised, 新认定); both False when the registry records none
  (the registry is the register of certificates);
- the period figures (PolicyFigure: 贷款利息支出, 保费支出 …) of the run's period; null when not recorded;
- the rules engine's result of each qualification it assesses (`assessed_<area>`: met / not_met / unknown), read
  only by "assessed" conditions.

Money is yuan (shown in 万元), ratios are fractions (0.05 = 5%).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

from kechuang import rules
from kechuang.rules import inputs

MONEY, PEOPLE, COUNT, RATIO, SCORE, YEARS, TEXT, FLAG, DATE = (
    "元",
    "人",
    "件",
    "比例",
    "分",
    "年",
    "文本",
    "是否",
    "日期",
)


@dataclass(frozen=True)
class PolicyColumn:
    name: str
    dtype: pl.DataType
    label: str  # with y−k for yearly figures: see `label_on`
    unit: str  # one of the constants above: how a value is shown
    group: str  # for the editor's reference table

    @property
    def numeric(self) -> bool:
        return self.unit in (MONEY, PEOPLE, COUNT, RATIO, SCORE, YEARS)

    def label_on(self, on: dt.date) -> str:
        """The label with the accounting years of a run dated `on` (y−1 → the year before `on`'s)."""
        return _LAG.sub(lambda m: f"{on.year - int(m[1])}年", self.label)


_LAG = re.compile(r"y−(\d)年")

# Units of the situation columns that are not money (money: a Float64 described in 元).
_SITUATION_UNITS = {
    "employees_lag1": PEOPLE,
    "tech_staff_lag1": PEOPLE,
    "rd_staff_lag1": PEOPLE,
    "niche_market_years": YEARS,
    "market_share": RATIO,
    "srdi_dev_score": SCORE,
    "srdi_dev_score_prev": SCORE,
    "expert_ip_advancement": SCORE,
    "expert_ip_core_support": SCORE,
    "expert_rd_management": SCORE,
    "local_feature_points": SCORE,
    "digital_level": SCORE,
}


def _situation_unit(column: inputs.Column) -> str:
    if column.name in _SITUATION_UNITS:
        return _SITUATION_UNITS[column.name]
    if column.dtype == pl.Float64:
        return MONEY
    if column.dtype == pl.Int64:
        return COUNT
    if column.dtype == pl.Boolean:
        return FLAG
    if column.dtype == pl.Date:
        return DATE
    return TEXT


# The certificates of enterprises.Qualification (QualificationKind values and labels, repeated here so that
# this module needs no Django; tests/policies check they agree).
QUALIFICATION_KINDS: dict[str, str] = {
    "hnte": "高新技术企业",
    "tech_sme": "科技型中小企业",
    "innovative_sme": "创新型中小企业",
    "specialised_sme": "专精特新中小企业",
    "little_giant": "专精特新“小巨人”企业",
    "sh_tech_giant": "上海市科技小巨人企业",
    "sh_tech_giant_cultivation": "上海市科技小巨人培育企业",
    "potential_gazelle": "潜力瞪羚企业",
    "gazelle": "瞪羚企业",
    "potential_unicorn": "潜力独角兽企业",
    "unicorn": "独角兽企业",
    "academician_workstation": "院士（专家）工作站",
    "rd_institution": "研发机构（企业技术中心等）",
}
# The rules engine's area whose gaps tell what obtaining a certificate of this kind needs.
AREA_OF_KIND: dict[str, str] = {
    kind: kind for kind in QUALIFICATION_KINDS if kind in rules.QUALIFICATIONS and kind != "specialised_sme"
} | {"specialised_sme": "srdi"}

# Figures an enterprise has for a period that the registry's yearly figures do not hold (PolicyFigure.name).
FIGURES: dict[str, str] = {
    "loan_interest": "贷款利息支出",
    "loan_amount": "贷款金额",
    "insurance_premium": "科技保险保费支出",
    "tech_contract_turnover": "技术合同成交额",
}

ENTERPRISE_STATUS = {"active": "存续", "moved_out": "迁出", "deregistered": "注销"}


def _build() -> dict[str, PolicyColumn]:
    columns: dict[str, PolicyColumn] = {}
    for column in inputs.COLUMNS:
        if column.name == "enterprise_id":
            continue
        group = "年度数据" if "_lag" in column.name else "企业情况"
        columns[column.name] = PolicyColumn(
            column.name, column.dtype, column.label, _situation_unit(column), group
        )
    for name, label, unit in (
        ("status", "企业状态", TEXT),
        ("park", "所在园区", TEXT),
        ("industry", "所属行业（GB/T 4754门类）", TEXT),
        ("hitech_field", "高新技术领域", TEXT),
    ):
        columns[name] = PolicyColumn(name, pl.String, label, unit, "企业基本信息")
    for kind, label in QUALIFICATION_KINDS.items():
        columns[f"held_{kind}"] = PolicyColumn(
            f"held_{kind}", pl.Boolean, f"持有有效的{label}证书", FLAG, "资质"
        )
        columns[f"new_{kind}"] = PolicyColumn(f"new_{kind}", pl.Boolean, f"期间内新认定{label}", FLAG, "资质")
    for name, label in FIGURES.items():
        columns[name] = PolicyColumn(name, pl.Float64, f"{label}（本期）", MONEY, "兑现期间数据")
    return columns


COLUMNS: dict[str, PolicyColumn] = _build()
SCHEMA: dict[str, pl.DataType] = {"enterprise_id": pl.Int64} | {c.name: c.dtype for c in COLUMNS.values()}
ASSESSED = {area: f"assessed_{area}" for area in rules.QUALIFICATIONS}  # area → status column (rules.STATUS)
FRAME_SCHEMA: dict[str, pl.DataType] = SCHEMA | {column: rules.STATUS for column in ASSESSED.values()}
NUMERIC = frozenset(name for name, column in COLUMNS.items() if column.numeric)


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=FRAME_SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """The policy frame with every column, in order and typed; missing ones null."""
    return frame.select(
        (pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype)).alias(name)
        for name, dtype in FRAME_SCHEMA.items()
    )


# --- values as text (Polars expressions, for the explanations) ----------------------------------------------


def number_text(value: pl.Expr, decimals: int = 2) -> pl.Expr:
    """A number as text without trailing zeros: 16.25, 3, 0.5 (null stays null). A Float64 cast to text always has
    a decimal point ("100.0"), so stripping zeros then the point is safe, and far cheaper than a regex."""
    text = (
        value.cast(pl.Float64)
        .round(decimals)
        .cast(pl.String)
        .str.strip_chars_end("0")
        .str.strip_chars_end(".")
    )
    return pl.when(text == "-0").then(pl.lit("0")).otherwise(text)


def value_text(value: pl.Expr, unit: str) -> pl.Expr:
    """A column's value as the explanations show it: money in 万元, ratios in %, flags 是/否; 未登记 when null."""
    if unit == MONEY:
        text = number_text(value / 10000, 6) + pl.lit("万元")
    elif unit == RATIO:
        text = number_text(value * 100, 4) + pl.lit("%")
    elif unit == FLAG:
        text = pl.when(value).then(pl.lit("是")).otherwise(pl.lit("否"))
    elif unit in (TEXT, DATE):
        text = value.cast(pl.String)
    else:
        text = number_text(value) + pl.lit(unit if unit != SCORE else " 分")
    return text.fill_null(pl.lit("未登记"))


def python_value_text(value, unit: str) -> str:
    """The same text for a Python value (thresholds and parameters, shown next to the enterprise's values)."""
    if value is None:
        return "未登记"
    if isinstance(value, bool):
        return "是" if value else "否"
    if unit == MONEY:
        return _plain(float(value) / 10000, 6) + "万元"
    if unit == RATIO:
        return _plain(float(value) * 100, 4) + "%"
    if unit in (TEXT, DATE, FLAG):
        return str(value)
    return _plain(float(value), 2) + (unit if unit != SCORE else " 分")


def _plain(number: float, decimals: int) -> str:
    text = f"{round(number, decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
