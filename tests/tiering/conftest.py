"""Registry rows for the tiering tests: an enterprise whose figures meet the HNTE thresholds."""

from datetime import date
from decimal import Decimal

import pytest

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset

ON = date(2026, 6, 30)  # y−1 = 2025, y−2 = 2024, y−3 = 2023

# The base enterprise of kechuang/rules/cases/hnte_conditions.yaml, as registry rows (yuan).
HNTE_YEARS = {
    2025: dict(
        sales_revenue="80000000",
        rd_expense_hnte="4000000",
        rd_expense_hnte_domestic="3200000",
        net_assets="30000000",
        employees="120",
        tech_staff="24",
        hitech_revenue="60000000",
        total_income="80000000",
    ),
    2024: dict(
        sales_revenue="60000000",
        rd_expense_hnte="3000000",
        rd_expense_hnte_domestic="2400000",
        net_assets="20000000",
    ),
    2023: dict(
        sales_revenue="40000000",
        rd_expense_hnte="2000000",
        rd_expense_hnte_domestic="1600000",
        net_assets="15000000",
    ),
}


def enterprise(n: int, **fields) -> Enterprise:
    fields.setdefault("registration_date", date(2018, 3, 1))
    return Enterprise.objects.create(uscc=make_code(f"91310117MA2K{n:05d}"), name=f"测试企业{n}", **fields)


def year(ent: Enterprise, y: int, **figures) -> EnterpriseYear:
    return EnterpriseYear.objects.create(
        enterprise=ent, year=y, **{k: Decimal(v) for k, v in figures.items()}
    )


def ip(ent: Enterprise, number: str, ip_type: str, **fields) -> IPAsset:
    return IPAsset.objects.create(
        enterprise=ent, ip_type=ip_type, number=number, title=f"成果{number}", **fields
    )


def hnte_ready(ent: Enterprise) -> Enterprise:
    """Give `ent` the registry figures and IP of the HNTE base case (assessed on ON)."""
    for y, figures in HNTE_YEARS.items():
        year(ent, y, **figures)
    ip(ent, f"ZL{ent.pk}-1", "invention", grant_date=date(2022, 5, 1))
    for k in range(3):
        ip(ent, f"UM{ent.pk}-{k}", "utility_model", grant_date=date(2023, 5, 1))
    return ent


@pytest.fixture
def make_enterprise(db):
    return enterprise
