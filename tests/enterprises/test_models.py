from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import (
    Enterprise,
    EnterpriseYear,
    IPAsset,
    Qualification,
    default_expiry,
    year_errors,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ent(db):
    return Enterprise.objects.create(uscc=make_code("91310117MA1J00009"), name="上海测试有限公司")


def test_a_code_with_a_wrong_check_character_fails_model_validation():
    e = Enterprise(uscc="912201011239989158", name="x")
    with pytest.raises(ValidationError) as error:
        e.full_clean()
    assert error.value.message_dict["uscc"] == ["统一社会信用代码校验位错误：第18位应为“9”，实际为“8”"]


def test_the_code_is_stored_normalised():
    e = Enterprise.objects.create(uscc=" 91000000000000000k ", name="x")
    assert Enterprise.objects.get(pk=e.pk).uscc == "91000000000000000K"


@pytest.mark.parametrize(
    "values,expected",
    [
        ({"employees": Decimal("10"), "rd_staff": Decimal("10")}, {}),
        ({"employees": Decimal("10"), "rd_staff": Decimal("10.1")}, {"rd_staff": "研发人员数（10.1）不能多于职工总数（10）"}),
        ({"rd_expense_hnte": Decimal("100"), "rd_expense_hnte_domestic": Decimal("100")}, {}),
        ({"net_assets": Decimal("-1")}, {}),
        ({"total_assets": Decimal("-0.01")}, {"total_assets": "资产总额不能为负数（填写值 -0.000001万元）"}),
        ({"sales_revenue": Decimal("1000000000000")}, {}),
        ({"sales_revenue": Decimal("1000000000000.01")}, {"sales_revenue": "销售收入 100000000.000001万元 超过合理上限 1万亿元，请检查单位（应填万元）"}),
        ({"employees": Decimal("500000")}, {}),
        ({"employees": Decimal("500001")}, {"employees": "职工总数 500001 人超过合理上限 500000 人"}),
        ({"sales_revenue": Decimal("5"), "main_business_revenue": Decimal("6")}, {"main_business_revenue": "主营业务收入不能多于销售收入（销售收入=主营业务收入+其他业务收入）"}),
        ({"employees": None, "rd_staff": Decimal("3")}, {}),  # unknown headcount: nothing to compare
    ],
)
def test_year_rules_at_their_boundaries(values, expected):
    assert year_errors(values, 2024) == expected


def test_the_year_must_not_be_in_the_future():
    this_year = timezone.localdate().year
    assert year_errors({}, this_year) == {}
    assert year_errors({}, this_year + 1) == {"year": f"年度 {this_year + 1} 超出范围：应在 1949–{this_year} 之间"}
    assert "year" in year_errors({}, 1948)


def test_the_database_refuses_what_the_model_refuses(ent):
    with pytest.raises(IntegrityError), transaction.atomic():
        EnterpriseYear.objects.create(enterprise=ent, year=2024, employees=Decimal(5), rd_staff=Decimal(6))
    with pytest.raises(IntegrityError), transaction.atomic():
        EnterpriseYear.objects.create(enterprise=ent, year=2024, sales_revenue=Decimal(-1))
    with pytest.raises(IntegrityError), transaction.atomic():
        EnterpriseYear.objects.create(enterprise=ent, year=2024, rd_expense_hnte=Decimal(1), rd_expense_hnte_domestic=Decimal(2))
    with pytest.raises(IntegrityError), transaction.atomic():
        Qualification.objects.create(enterprise=ent, kind="tech_sme", issue_date=date(2024, 1, 2), expiry_date=date(2024, 1, 1))
    EnterpriseYear.objects.create(enterprise=ent, year=2024, net_profit=Decimal(-1))  # signed figure: allowed


@pytest.mark.parametrize(
    "ip_type,ip_class",
    [("invention", "I"), ("ic_layout", "I"), ("new_drug", "I"), ("utility_model", "II"), ("design", "II"), ("software", "II"), ("trademark", None)],
)
def test_ip_class_follows_the_type(ip_type, ip_class):
    assert IPAsset(ip_type=ip_type).ip_class == ip_class


def test_only_class_ii_items_are_used_up_by_an_hnte_application():
    assert IPAsset(ip_type="software", hnte_used_year=2023).is_used_for_hnte is True
    assert IPAsset(ip_type="software").is_used_for_hnte is False
    assert IPAsset(ip_type="invention", hnte_used_year=2023).is_used_for_hnte is False


def test_ip_dates_must_be_in_order():
    with pytest.raises(ValidationError) as error:
        IPAsset(ip_type="invention", application_date=date(2024, 2, 1), grant_date=date(2024, 1, 1)).clean()
    assert error.value.message_dict["grant_date"] == ["授权/登记日 2024-01-01 早于申请日 2024-02-01"]


def test_hnte_validity_is_three_years_through_the_day_before_the_anniversary():
    assert default_expiry("hnte", date(2023, 12, 1)) == date(2026, 11, 30)
    assert default_expiry("hnte", date(2024, 2, 29)) == date(2027, 2, 28)
    assert default_expiry("hnte", date(2024, 1, 1)) == date(2026, 12, 31)


def test_valid_on_counts_the_issue_day_and_the_last_day(ent):
    q = Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2023, 12, 1))
    assert q.expiry_date == date(2026, 11, 30)
    valid = Qualification.objects.valid_on
    assert not valid(date(2023, 11, 30)).exists()
    assert valid(date(2023, 12, 1)).exists()
    assert valid(date(2026, 11, 30)).exists()
    assert not valid(date(2026, 12, 1)).exists()
    assert q.is_valid_on(date(2026, 11, 30)) and not q.is_valid_on(date(2026, 12, 1))


def test_a_qualification_without_statutory_validity_stays_open_ended(ent):
    q = Qualification.objects.create(enterprise=ent, kind="academician_workstation", issue_date=date(2020, 1, 1))
    assert q.expiry_date is None and q.days_to_expiry is None
    assert Qualification.objects.valid_on(date(2040, 1, 1)).filter(pk=q.pk).exists()


def test_days_to_expiry_counts_from_today(ent):
    today = timezone.localdate()
    q = Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=today - timedelta(days=10), expiry_date=today + timedelta(days=7))
    assert q.days_to_expiry == 7


def test_with_valid_qualification_selects_holders(ent):
    other = Enterprise.objects.create(uscc=make_code("91310117MA1J00010"), name="其他")
    Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2025, 1, 1))
    assert list(Enterprise.objects.with_valid_qualification("hnte", date(2025, 6, 1))) == [ent]
    assert other not in Enterprise.objects.with_valid_qualification("hnte", date(2025, 6, 1))


def test_model_validation_normalises_the_code_before_checking_it():
    e = Enterprise(uscc="９１０００００００００００００００ｋ", name="全角代码")
    e.full_clean()
    assert e.uscc == "91000000000000000K"
