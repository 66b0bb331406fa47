"""situation_frame: the engine's input built from registry rows, in a fixed number of queries."""

from datetime import date

import pytest

from kechuang.enterprises.models import Enterprise, Qualification
from kechuang.tiering.situation import REGISTRY_COLUMNS, situation_frame, two_years_before
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
    year(ent, 2022, sales_revenue="20000000")  # y−4: the base year of a three-year growth rate
    year(ent, 2021, sales_revenue="777")  # y−5: not read
    row = one_row(ent)
    assert row["enterprise_id"] == str(ent.pk)
    assert row["registration_date"] == date(2019, 4, 2)
    assert (row["sales_revenue_lag1"], row["sales_revenue_lag2"], row["sales_revenue_lag3"]) == (
        80000000.5,
        60000000.0,
        40000000.0,
    )
    assert row["sales_revenue_lag4"] == 20000000.0
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


def test_the_growth_tier_figures_go_to_their_lags():
    ent = enterprise(1)
    year(
        ent,
        2025,
        sales_revenue="90000000",
        main_business_revenue="85000000",
        rd_expense="5000000",
        rd_expense_deduction="4800000",
        rd_expense_hnte="4000000",
        equity_financing="30000000",
        rd_staff="30",
        employees="100",
        net_profit="-2500000.5",
        valuation="800000000",
    )
    year(ent, 2024, main_business_revenue="70000000", rd_expense="4000000", equity_financing="0")
    year(ent, 2023, main_business_revenue="60000000", rd_expense="3000000")
    row = one_row(ent)
    assert (row["main_business_revenue_lag1"], row["main_business_revenue_lag2"]) == (85000000.0, 70000000.0)
    assert row["main_business_revenue_lag3"] == 60000000.0
    # Three R&D bases, kept apart: 会计口径 for 梯度培育, 加计扣除 for 科小, 高企口径 for HNTE.
    assert (row["rd_expense_lag1"], row["rd_expense_lag2"], row["rd_expense_lag3"]) == (5e6, 4e6, 3e6)
    assert row["rd_expense_deduction_lag1"] == 4.8e6 and row["rd_expense_hnte_lag1"] == 4e6
    assert (row["equity_financing_lag1"], row["equity_financing_lag2"], row["equity_financing_lag3"]) == (
        3e7,
        0.0,
        None,
    )
    assert row["rd_staff_lag1"] == 30.0
    assert row["net_profit_lag1"] == -2500000.5
    assert row["valuation_lag1"] == 8e8


def test_equity_financing_total_sums_every_recorded_year_before_the_assessment_year():
    ent = enterprise(1)
    year(ent, 2026, equity_financing="1000")  # the assessment year: not yet closed, not counted
    year(ent, 2025, equity_financing="20000000")
    year(ent, 2024, sales_revenue="1")  # no financing figure that year
    year(ent, 2019, equity_financing="5000000.25")  # long before the lags: still counted
    row = one_row(ent)
    assert row["equity_financing_total"] == 25000000.25
    assert row["has_private_equity"] is True
    assert one_row(ent, date(2025, 6, 30))["equity_financing_total"] == 5000000.25


def test_equity_financing_null_zero_and_positive_are_three_different_answers():
    never_asked, none_raised, raised, no_years = enterprise(1), enterprise(2), enterprise(3), enterprise(4)
    year(never_asked, 2025, sales_revenue="1")
    year(never_asked, 2024, sales_revenue="1")
    year(none_raised, 2025, equity_financing="0")
    year(none_raised, 2024, sales_revenue="1")
    year(raised, 2025, equity_financing="0")
    year(raised, 2022, equity_financing="0.01")
    for ent, total, private in (
        (never_asked, None, None),  # no year records the figure: unknown
        (none_raised, 0.0, False),  # recorded as 0: known to be none
        (raised, 0.01, True),
        (no_years, None, None),
    ):
        row = one_row(ent)
        assert (row["equity_financing_total"], row["has_private_equity"]) == (total, private), ent


def test_listing_and_shanghai_come_from_the_enterprise():
    listed = enterprise(1, is_listed=True)
    moved = enterprise(2, status="moved_out")
    closed = enterprise(3, status="deregistered")
    row = one_row(listed)
    assert (row["is_listed"], row["in_shanghai"]) == (True, True)  # the district's registry
    assert (one_row(moved)["is_listed"], one_row(moved)["in_shanghai"]) == (False, None)
    assert one_row(closed)["in_shanghai"] is False


def test_class_i_own_rd_counts_valid_class_i_items_acquired_by_own_rd():
    ent = enterprise(1)
    ip(ent, "I-1", "invention", acquisition="own_rd")
    ip(ent, "I-2", "ic_layout", acquisition="own_rd", grant_date=date(2020, 1, 1))
    ip(ent, "I-3", "invention", acquisition="transfer")
    ip(ent, "I-4", "invention", acquisition="own_rd", status="lapsed")
    ip(ent, "I-5", "invention", acquisition="own_rd", grant_date=date(2026, 7, 1))  # after ON
    ip(ent, "II-1", "utility_model", acquisition="own_rd")
    row = one_row(ent)
    assert row["ip_class_i_count"] == 3
    assert row["ip_class_i_own_rd_count"] == 2


def test_class_ii_for_the_tiers_is_software_and_patents_held_more_than_two_years():
    ent = enterprise(1)
    two_years = date(2024, 6, 30)  # ON − 2 years
    ip(ent, "UM-1", "utility_model", grant_date=two_years)  # exactly two years: not more than
    ip(ent, "UM-2", "utility_model", grant_date=date(2024, 6, 29))  # two years and a day: counted
    ip(ent, "D-1", "design", grant_date=date(2020, 1, 1))
    ip(ent, "D-2", "design", grant_date=date(2025, 1, 1))
    ip(ent, "UM-3", "utility_model")  # no grant date: its age is not known
    ip(ent, "UM-4", "utility_model", grant_date=date(2020, 1, 1), status="lapsed")
    ip(ent, "SW-1", "software", grant_date=date(2026, 6, 1))  # software counts however recent
    ip(ent, "SW-2", "software")
    ip(ent, "SW-3", "software", grant_date=date(2026, 7, 1))  # after ON: not in force yet
    ip(ent, "T-1", "trademark", grant_date=date(2010, 1, 1))
    ip(ent, "I-1", "invention", grant_date=date(2010, 1, 1))
    row = one_row(ent)
    assert row["ip_class_ii_count"] == 7
    assert row["ip_class_ii_mature_count"] == 4  # UM-2, D-1, SW-1, SW-2
    assert one_row(ent, date(2024, 7, 1))["ip_class_ii_mature_count"] == 2  # D-1, SW-2
    assert one_row(ent, date(2026, 7, 1))["ip_class_ii_mature_count"] == 6  # UM-1 now; SW-3 in force


def test_two_years_before_a_29_february_is_the_first_of_march():
    assert two_years_before(date(2026, 6, 30)) == date(2024, 6, 30)
    assert two_years_before(date(2028, 2, 29)) == date(2026, 3, 1)


def test_ip_the_registry_does_not_record_stays_null():
    ent = enterprise(1)
    ip(ent, "I-1", "invention", acquisition="own_rd")
    row = one_row(ent)
    assert row["ip_class_i_high_value_count"] is None
    assert row["ip_class_i_main_product_count"] is None


@pytest.mark.parametrize(
    "column,kind",
    [
        ("hnte_valid", "hnte"),
        ("tech_sme_valid", "tech_sme"),
        ("innovative_sme_valid", "innovative_sme"),
        ("srdi_valid", "specialised_sme"),
        ("little_giant_valid", "little_giant"),
    ],
)
def test_a_title_is_held_through_its_last_day(column, kind):
    ent = enterprise(1)
    Qualification.objects.create(
        enterprise=ent, kind=kind, issue_date=date(2024, 1, 10), expiry_date=date(2026, 6, 30)
    )
    assert one_row(ent)[column] is True  # expires on the assessment date: still held that day
    assert one_row(ent, date(2026, 7, 1))[column] is False  # expired the day before
    assert one_row(ent, date(2024, 1, 9))[column] is False  # not yet issued
    other = enterprise(2)
    Qualification.objects.create(
        enterprise=other, kind="sh_tech_giant", issue_date=date(2025, 1, 1)
    )  # another title
    assert one_row(other)[column] is False


def test_each_title_column_reads_its_own_kind():
    ent = enterprise(1)
    Qualification.objects.create(enterprise=ent, kind="innovative_sme", issue_date=date(2025, 3, 1))
    Qualification.objects.create(enterprise=ent, kind="little_giant", issue_date=date(2025, 7, 1))
    row = one_row(ent)
    assert (row["innovative_sme_valid"], row["little_giant_valid"]) == (True, True)
    assert (row["hnte_valid"], row["tech_sme_valid"], row["srdi_valid"]) == (False, False, False)


def institution(ent, level, issued=date(2022, 3, 1), expiry=None, kind="rd_institution"):
    return Qualification.objects.create(
        enterprise=ent, kind=kind, level=level, issue_date=issued, expiry_date=expiry
    )


@pytest.mark.parametrize(
    "levels,level,provincial",
    [
        (["national"], "national", True),
        (["municipal"], "provincial", True),  # 上海市级 = 省级
        (["district"], "below", False),
        (["district", "municipal"], "provincial", True),  # the best one
        (["municipal", "national", "district"], "national", True),
        ([""], None, None),  # held, level not recorded
        (["", "district"], None, None),
        (["", "municipal"], None, True),  # at least provincial; maybe national
        (["", "national"], "national", True),
    ],
)
def test_rd_institution_level_is_the_best_one_in_force(levels, level, provincial):
    ent = enterprise(1)
    for k, lvl in enumerate(levels):
        institution(ent, lvl, issued=date(2020, 1, 1 + k))
    row = one_row(ent)
    assert (row["rd_institution_level"], row["provincial_rd_institution"]) == (level, provincial)
    assert row["rd_institution_own_or_joint"] is True


def test_without_an_rd_institution_in_force_the_level_is_none():
    ent = enterprise(1)
    institution(ent, "national", issued=date(2018, 1, 1), expiry=date(2026, 6, 29))  # expired the day before
    institution(ent, "municipal", issued=date(2026, 7, 1))  # not yet
    institution(ent, "national", kind="academician_workstation")  # not a 研发机构 for these columns
    row = one_row(ent)
    assert (row["rd_institution_level"], row["provincial_rd_institution"]) == ("none", False)
    assert row["rd_institution_own_or_joint"] is None
    assert one_row(ent, date(2026, 6, 29))["rd_institution_level"] == "national"


def test_registry_columns_are_the_columns_it_fills():
    ent = enterprise(1, is_listed=True)
    for y in (2022, 2023, 2024, 2025):
        year(
            ent,
            y,
            **{name: "1" for name in ("sales_revenue", "main_business_revenue", "rd_expense", "net_assets")},
            **{name: "1" for name in ("rd_expense_hnte", "rd_expense_hnte_domestic", "equity_financing")},
            **{name: "1" for name in ("employees", "tech_staff", "rd_staff", "hitech_revenue")},
            **{name: "1" for name in ("total_income", "total_assets", "rd_expense_deduction")},
            **{name: "1" for name in ("cost_expense_total", "net_profit", "valuation")},
        )
    institution(ent, "municipal")
    row = one_row(ent)
    filled = {name for name, value in row.items() if value is not None}
    assert filled == REGISTRY_COLUMNS


def test_the_population_frame_holds_the_same_row_as_the_one_enterprise_frame_for_every_column():
    a, b, c = enterprise(1, is_listed=True), enterprise(2), enterprise(3, status="moved_out")
    year(a, 2022, sales_revenue="5")
    year(a, 2025, equity_financing="7", valuation="70", rd_expense="3")
    year(b, 2024, equity_financing="0")
    ip(a, "UM-1", "utility_model", grant_date=date(2020, 1, 1))
    ip(b, "I-1", "invention", acquisition="own_rd")
    institution(b, "district")
    institution(c, "national")
    Qualification.objects.create(enterprise=c, kind="little_giant", issue_date=date(2025, 7, 1))
    Qualification.objects.create(enterprise=a, kind="tech_sme", issue_date=date(2026, 4, 1))
    population = situation_frame(enterprises=Enterprise.objects.all(), on=ON)
    for index, ent in enumerate((a, b, c)):
        assert population.row(index, named=True) == one_row(ent)


QUERIES = 5  # enterprises, years, equity financing, IP counts, certificates


@pytest.mark.parametrize("count", [1, 20])
def test_the_number_of_queries_does_not_grow_with_the_number_of_enterprises(count, django_assert_num_queries):
    for n in range(count):
        ent = enterprise(n)
        for y in (2022, 2023, 2024, 2025):
            year(ent, y, sales_revenue="100", equity_financing="10")
        year(ent, 2018, equity_financing="5")
        ip(ent, f"I-{n}", "invention")
        ip(ent, f"UM-{n}", "utility_model", grant_date=date(2020, 1, 1))
        Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=date(2025, 1, 1))
        Qualification.objects.create(enterprise=ent, kind="specialised_sme", issue_date=date(2025, 1, 1))
        institution(ent, "municipal")
    with django_assert_num_queries(QUERIES):
        frame = situation_frame(enterprises=Enterprise.objects.all(), on=ON)
    assert frame.height == count
    assert frame["sales_revenue_lag4"].to_list() == [100.0] * count
    assert frame["equity_financing_total"].to_list() == [45.0] * count
    assert frame["ip_class_ii_mature_count"].to_list() == [1] * count
    assert frame["hnte_valid"].to_list() == frame["srdi_valid"].to_list() == [True] * count
    assert frame["rd_institution_level"].to_list() == ["provincial"] * count


def test_an_enterprise_of_the_registry_is_a_resident_enterprise_until_deregistered():
    ent = enterprise(1)
    assert one_row(ent)["resident_in_china"] is True
    ent.status = "moved_out"
    ent.save()
    assert one_row(ent)["resident_in_china"] is True
    ent.status = "deregistered"
    ent.save()
    assert one_row(ent)["resident_in_china"] is False
