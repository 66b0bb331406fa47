"""A synthetic, deterministic population of situations for benchmarks and tests (no randomness: the same
`rows` always gives the same frame). Every kind of value occurs: most figures known, some missing, sizes
from micro to large, growth up and down, IP from none to many, titles held and not."""

from __future__ import annotations

import datetime as dt

import polars as pl

from kechuang.rules import inputs


def population(rows: int) -> pl.DataFrame:
    """A deterministic population with every kind of value: most figures known, some missing, sizes from
    micro to large, growth up and down, IP from none to many, held titles and manual inputs at random."""
    i = pl.int_range(0, rows, eager=True, dtype=pl.Int64)

    def h(salt: int) -> pl.Series:  # a cheap deterministic hash in [0, 1)
        return ((i * 2654435761 + salt * 40503) % 1_000_003).cast(pl.Float64) / 1_000_003

    sales = (h(1) ** 3 * 800_000_000 + 500_000).round(0)
    growth = 0.6 + h(2) * 0.9

    def money(series: pl.Series, missing: float, salt: int) -> pl.Series:
        return pl.select(pl.when(h(salt) < missing).then(None).otherwise(series)).to_series()

    employees = (h(3) * 600 + 5).round(0)
    columns = {
        "enterprise_id": i.cast(pl.String),
        "registration_date": pl.select(
            pl.lit(dt.date(2000, 1, 1)) + pl.duration(days=(h(4) * 9500).cast(pl.Int64))
        ).to_series(),
        "employees_lag1": employees,
        "tech_staff_lag1": (employees * h(5) * 0.4).round(0),
        "rd_staff_lag1": (employees * h(5) * 0.3).round(0),
        "total_assets_lag1": sales * (0.5 + h(6)),
        "cost_expense_total_lag1": sales * 0.8,
        "hitech_revenue_lag1": sales * h(7),
        "total_income_lag1": sales * 1.01,
        "net_profit_lag1": sales * (h(8) * 0.3 - 0.1),
        "valuation_lag1": money(sales * (h(9) * 80), 0.9, 10),
        "equity_financing_total": money(sales * h(11), 0.7, 12),
        "ip_class_i_count": (h(13) * 6).cast(pl.Int64),
        "ip_class_i_own_rd_count": (h(13) * 4).cast(pl.Int64),
        "ip_class_ii_count": (h(14) * 12).cast(pl.Int64),
        "ip_class_ii_unused_count": (h(14) * 8).cast(pl.Int64),
        "ip_class_ii_mature_count": (h(14) * 6).cast(pl.Int64),
        "ip_has_own_rd": h(15) < 0.7,
        "hnte_valid": h(16) < 0.3,
        "tech_sme_valid": h(17) < 0.4,
        "srdi_valid": h(18) < 0.1,
        "is_listed": h(19) < 0.02,
        "has_private_equity": h(20) < 0.2,
        "in_shanghai": pl.Series([True] * rows),
        "resident_in_china": pl.Series([True] * rows),
        "niche_market_years": (h(21) * 12).round(0),
        "market_share": money(h(22) * 0.3, 0.6, 23),
        "srdi_dev_score": money(h(24) * 100, 0.7, 25),
        "rd_institution_level": pl.select(
            pl.when(h(26) < 0.05)
            .then(pl.lit("national"))
            .when(h(26) < 0.2)
            .then(pl.lit("provincial"))
            .otherwise(pl.lit("none"))
        ).to_series(),
    }
    for lag in (1, 2, 3, 4):
        year_sales = sales / growth ** (lag - 1)
        columns[f"sales_revenue_lag{lag}"] = money(year_sales, 0.05 * lag, 30 + lag)
        if lag <= 3:
            columns[f"main_business_revenue_lag{lag}"] = year_sales * (0.5 + h(40) * 0.5)
            columns[f"rd_expense_hnte_lag{lag}"] = year_sales * h(41) * 0.1
            columns[f"rd_expense_hnte_domestic_lag{lag}"] = year_sales * h(41) * 0.08
            columns[f"rd_expense_lag{lag}"] = year_sales * h(41) * 0.1
            columns[f"rd_expense_deduction_lag{lag}"] = year_sales * h(41) * 0.09
            columns[f"net_assets_lag{lag}"] = year_sales * (h(42) - 0.1)
            columns[f"equity_financing_lag{lag}"] = money(year_sales * h(43), 0.8, 44 + lag)
    frame = pl.DataFrame({k: v for k, v in columns.items() if k in inputs.SCHEMA})
    return inputs.conform(frame)
