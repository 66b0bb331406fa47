"""The engine's interface: the situation frame, Decimal money, explanations in Chinese, bad input."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from kechuang import rules
from kechuang.rules import inputs
from kechuang.rules.common import pct, wan, wan_up

ON = dt.date(2026, 6, 30)


def test_an_unknown_input_column_is_refused_with_its_name():
    with pytest.raises(ValueError, match="未知的输入列 employes_lag1"):
        inputs.situation_frame([{"employes_lag1": 10}])
    with pytest.raises(ValueError, match="未知的输入列 nonsense"):
        rules.evaluate(pl.DataFrame({"nonsense": [1]}), ON)


def test_missing_columns_are_added_as_unknown():
    result = rules.evaluate(pl.DataFrame({"enterprise_id": ["x"]}), ON)
    assert result["hnte"].to_list() == ["unknown"]
    assert result["tsme"].to_list() == ["unknown"]


def test_decimal_yuan_from_the_database_is_accepted():
    assessment = rules.assess(
        {
            "employees_lag1": Decimal("120"),
            "tech_staff_lag1": Decimal("12"),
            "sales_revenue_lag1": Decimal("200000000.00"),
        },
        ON,
    )
    assert assessment.row["hnte_h4"] == "met"
    assert assessment.row["hnte_h5_rate"] == 0.04


def test_the_brief_examples_read_as_the_officers_expect():
    assessment = rules.assess({"employees_lag1": 120, "tech_staff_lag1": 10.44}, ON)
    text = assessment.explanation("hnte.H4").text
    assert "科技人员占比 8.7%" in text and "需 ≥10%，按现有职工 120 人计还需增加科技人员约 2 人" in text
    assert "国科发火〔2016〕32号 第十一条(四)" in text
    gaps = assessment.gaps("hnte")
    assert any(g.startswith("科技人员占职工总数比例：按现有职工 120 人计") for g in gaps)


def test_an_assessment_lists_every_condition_of_both_qualifications():
    assessment = rules.assess({}, ON)
    codes = [e.code for e in assessment.explanations["hnte"] if e.kind == "condition"]
    assert codes == [
        "hnte.H1",
        "hnte.H2",
        "hnte.H3",
        "hnte.H4",
        "hnte.H5",
        "hnte.H5b",
        "hnte.H6",
        "hnte.H7",
        "hnte.H8",
    ]
    codes = [e.code for e in assessment.explanations["tech_sme"] if e.kind == "condition"]
    assert codes == [
        "tech_sme.T1",
        "tech_sme.T2",
        "tech_sme.T3",
        "tech_sme.T4",
        "tech_sme.T5",
        "tech_sme.direct",
    ]
    assert all(e.as_dict()["text"] for items in assessment.explanations.values() for e in items)


def test_an_assessment_date_before_every_standard_is_unknown_everywhere_with_the_reason():
    report = rules.assess({}, dt.date(2010, 1, 1))
    assert set(report.statuses.values()) == {"unknown"}
    for area in rules.QUALIFICATIONS:
        (only,) = report.explanations[area]
        assert only.code == f"{area}.standard" and "没有生效的取值" in only.source


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(0.087, "8.7%"), (0.1, "10%"), (0.0499999, "4.99%"), (0.29, "29%"), (1.0, "100%"), (None, "—")],
)
def test_percentages_are_cut_not_rounded_up_across_a_threshold(ratio, text):
    assert pct(ratio) == text


@pytest.mark.parametrize(
    ("yuan", "text"),
    [
        (80_000_000, "8,000万元"),
        (200_000_000, "2亿元"),
        (150_000_000, "1.5亿元"),
        (12_345, "1.23万元"),
        (None, "—"),
    ],
)
def test_money_is_shown_in_wan_or_yi(yuan, text):
    assert wan(yuan) == text


def test_a_shortfall_is_rounded_up_so_that_adding_it_is_enough():
    assert wan_up(1) == "0.01万元"
    assert wan_up(1_440_000) == "144万元"
    assert wan_up(1_440_001) == "144.01万元"


def test_a_date_before_a_standard_took_effect_gives_unknown_with_the_reason_not_a_crash():
    on = dt.date(2021, 6, 30)  # before 工信部企业〔2022〕63号 (in force 2022-08-01)
    report = rules.assess({"employees_lag1": 100, "tech_staff_lag1": 20}, on)
    assert report.statuses["srdi"] == "unknown" and report.statuses["innovative_sme"] == "unknown"
    standard = report.explanation("srdi.standard")
    assert "该日期无适用的认定标准" in standard.gap and "2022-08-01" in standard.source
    assert report.row["srdi_unknown"] == len(rules.CONDITION_COLUMNS["srdi"])
    assert report.explanation("hnte.H4").status == "met"  # 高企 (2016) still assesses that date


def test_explain_can_be_limited_to_some_qualifications():
    report = rules.assess({"employees_lag1": 100, "tech_staff_lag1": 20}, ON)
    only = rules.explain(report.row, ON, areas=["hnte"])
    assert set(only.explanations) == {"hnte"} and set(only.statuses) == {"hnte"}
    assert [e.text for e in only.explanations["hnte"]] == [e.text for e in report.explanations["hnte"]]


def test_the_population_result_equals_the_one_enterprise_assessment_for_a_sample():
    """One code path: 400 synthetic enterprises evaluated together; every 13th assessed alone gives the same
    row (every input, result, score and gap column) and the same explanations, word for word."""
    from kechuang.rules.synthetic import population

    frame = population(400)
    batch = rules.evaluate(frame, ON)
    for index in range(0, 400, 13):
        situation = frame.row(index, named=True)
        single = rules.assess(situation, ON)
        row = batch.row(index, named=True)
        assert row == single.row, situation["enterprise_id"]
        batch_texts = {a: [e.text for e in items] for a, items in rules.explain(row, ON).explanations.items()}
        assert batch_texts == {a: [e.text for e in items] for a, items in single.explanations.items()}
