"""situation_frame: the engine's input built from registry rows, in a fixed number of queries."""

from datetime import date

import pytest

from kechuang.enterprises.models import Enterprise, Qualification
from kechuang.tiering.situation import situation_frame
from tests.tiering.conftest import ON, enterprise, ip, year

pytestmark = pytest.mark.django_db


def one_row(ent, on=ON):
    frame = situation_frame(enterprises=Enterprise.objects.filter(pk=ent.pk), on=on)
    assert frame.height == 1
    return frame.row(0, named=True)


def test_yearly_figures_go_to_the_lag_of_their_year_as_float_yuan():
    ent = enterprise(1, registration_date=date(2019, 4, 2))
    year(ent, 2026, sales_revenue="999")  # the assessment year itself is not a lag
    year(ent, 2025, sales_revenue="80000000.50", employees="120", tech_staff="24.5", net_assets="-1000")
    year(ent, 2024, sales_revenue="60000000")
    year(ent, 2023, sales_revenue="40000000")
    year(ent, 2022, sales_revenue="777")  # y−4: not read
    row = one_row(ent)
    assert row["enterprise_id"] == str(ent.pk)
    assert row["registration_date"] == date(2019, 4, 2)
    assert (row["sales_revenue_lag1"], row["sales_revenue_lag2"], row["sales_revenue_lag3"]) == (
        80000000.5,
        60000000.0,
        40000000.0,
    )
    assert isinstance(row["sales_revenue_lag1"], float)
    assert row["employees_lag1"] == 120.0 and row["tech_staff_lag1"] == 24.5
    assert row["net_assets_lag1"] == -1000.0


def test_the_lags_follow_the_assessment_date():
    ent = enterprise(1)
    year(ent, 2025, sales_revenue="25")
    year(ent, 2024, sales_revenue="24")
    assert one_row(ent, date(2025, 1, 1))["sales_revenue_lag1"] == 24.0
    assert one_row(ent, date(2026, 12, 31))["sales_revenue_lag1"] == 25.0


def test_a_missing_year_and_a_missing_figure_stay_null_not_zero():
    ent = enterprise(1, registration_date=None)
    year(ent, 2025, sales_revenue="80000000")  # employees not reported
    year(ent, 2023, sales_revenue="40000000")  # 2024 missing altogether
    row = one_row(ent)
    assert row["registration_date"] is None
    assert row["sales_revenue_lag1"] == 80000000.0
    assert row["sales_revenue_lag2"] is None
    assert row["sales_revenue_lag3"] == 40000000.0
    assert row["employees_lag1"] is None
    assert row["rd_expense_hnte_lag2"] is None


def test_ip_counts_respect_status_class_hnte_use_and_grant_date():
    ent = enterprise(1)
    ip(ent, "I-1", "invention", status="valid", acquisition="transfer")
    ip(ent, "I-2", "invention", status="lapsed")
    ip(ent, "I-3", "invention", status="pending")
    ip(
        ent, "I-4", "ic_layout", status="valid", acquisition="transfer", grant_date=date(2026, 7, 1)
    )  # after ON
    ip(ent, "II-1", "utility_model", status="valid", acquisition="transfer", hnte_used_year=2023)
    ip(ent, "II-2", "software", status="valid", acquisition="transfer")
    ip(ent, "II-3", "design", status="valid", acquisition="transfer", grant_date=date(2026, 6, 30))  # on ON
    ip(ent, "II-4", "software", status="lapsed", acquisition="own_rd")
    ip(ent, "T-1", "trademark", status="valid", acquisition="own_rd")  # neither class
    row = one_row(ent)
    assert row["ip_class_i_count"] == 1
    assert row["ip_class_ii_count"] == 3
    assert row["ip_class_ii_unused_count"] == 2
    assert row["ip_has_own_rd"] is False  # the only own-R&D items are lapsed or not Class I/II

    ip(ent, "II-5", "utility_model", status="valid", acquisition="own_rd")
    row = one_row(ent)
    assert (row["ip_class_ii_count"], row["ip_class_ii_unused_count"], row["ip_has_own_rd"]) == (4, 3, True)


def test_an_enterprise_without_ip_has_zero_counts():
    row = one_row(enterprise(1))
    assert (row["ip_class_i_count"], row["ip_class_ii_count"], row["ip_class_ii_unused_count"]) == (0, 0, 0)
    assert row["ip_has_own_rd"] is False


def test_hnte_valid_is_a_certificate_in_force_on_the_date():
    ent = enterprise(1)
    other = enterprise(2)
    Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2024, 1, 10))  # to 2027-01-09
    Qualification.objects.create(enterprise=other, kind="tech_sme", issue_date=date(2026, 1, 10))
    Qualification.objects.create(enterprise=other, kind="hnte", issue_date=date(2020, 1, 10))  # expired
    assert one_row(ent)["hnte_valid"] is True
    assert one_row(ent, date(2027, 1, 9))["hnte_valid"] is True
    assert one_row(ent, date(2027, 1, 10))["hnte_valid"] is False
    assert one_row(ent, date(2024, 1, 9))["hnte_valid"] is False
    assert one_row(other)["hnte_valid"] is False


def test_columns_the_registry_cannot_fill_stay_null():
    ent = enterprise(1)
    year(ent, 2025, sales_revenue="1")
    row = one_row(ent)
    for column in (
        "expert_ip_advancement",
        "expert_rd_management",
        "conversions_lag1",
        "hitech_field_ok",
        "no_major_incident",
        "resident_in_china",
        "standards_participation",
    ):
        assert row[column] is None, column


def test_the_population_frame_holds_the_same_row_as_the_one_enterprise_frame():
    a, b, c = enterprise(1), enterprise(2), enterprise(3)
    year(a, 2025, sales_revenue="10", employees="5")
    year(b, 2024, sales_revenue="20")
    ip(b, "I-1", "invention")
    Qualification.objects.create(enterprise=c, kind="hnte", issue_date=date(2025, 1, 1))
    population = situation_frame(enterprises=Enterprise.objects.all(), on=ON)
    assert population["enterprise_id"].to_list() == [str(a.pk), str(b.pk), str(c.pk)]
    for index, ent in enumerate((a, b, c)):
        assert population.row(index, named=True) == one_row(ent)


def test_an_empty_queryset_gives_an_empty_frame():
    frame = situation_frame(enterprises=Enterprise.objects.none(), on=ON)
    assert frame.height == 0 and "sales_revenue_lag1" in frame.columns


@pytest.mark.parametrize("count", [1, 25])
def test_the_number_of_queries_does_not_grow_with_the_number_of_enterprises(
    count, django_assert_max_num_queries
):
    for n in range(count):
        ent = enterprise(n)
        for y in (2023, 2024, 2025):
            year(ent, y, sales_revenue="100")
        ip(ent, f"I-{n}", "invention")
        Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2025, 1, 1))
    with django_assert_max_num_queries(4):
        frame = situation_frame(enterprises=Enterprise.objects.all(), on=ON)
    assert frame.height == count
    assert frame["sales_revenue_lag3"].to_list() == [100.0] * count
    assert frame["hnte_valid"].to_list() == [True] * count
