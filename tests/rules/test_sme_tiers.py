"""The SME tiers (创新型中小企业, 专精特新中小企业, 专精特新“小巨人”): what the YAML cases cannot say — the regime
switch between 2026-03-31 and 2026-04-01, the shape of the results across regimes, the explanations (value,
threshold, source, gap) and the 待核实 flag of values the rules reference does not confirm."""

import datetime as dt

import polars as pl
import pytest

from kechuang import rules
from kechuang.rules import innovative_sme, inputs, little_giant, parameters, srdi

LAST_2022 = dt.date(2026, 3, 31)
FIRST_2026 = dt.date(2026, 4, 1)
ON = dt.date(2026, 6, 30)

# Meets every 2026 专精特新 condition and scores 70 under 2022 (see cases/srdi.yaml).
SRDI = {
    "tech_sme_valid": True,
    "niche_market_years": 5,
    "sales_revenue_lag1": 30_000_000,
    "sales_revenue_lag2": 25_000_000,
    "main_business_revenue_lag1": 27_000_000,
    "main_business_revenue_lag2": 22_500_000,
    "main_business_revenue_lag3": 20_000_000,
    "total_assets_lag1": 40_000_000,
    "net_assets_lag1": 20_000_000,
    "net_profit_lag1": 3_000_000,
    "rd_expense_lag1": 1_500_000,
    "rd_expense_lag2": 1_250_000,
    "equity_financing_lag1": 0,
    "equity_financing_lag2": 0,
    "employees_lag1": 100,
    "rd_staff_lag1": 20,
    "ip_class_i_main_product_count": 2,
    "ip_class_i_count": 3,
    "ip_class_i_own_rd_count": 1,
    "ip_class_i_high_value_count": 0,
    "ip_class_ii_mature_count": 2,
    "award_provincial_top3_3y": False,
    "award_national_top5_3y": False,
    "maker_china_top500_3y": False,
    "provincial_rd_institution": False,
    "rd_institution_level": "city",
    "market_rank_front": True,
    "srdi_dev_score": 70,
    "srdi_valid": False,
    "srdi_product_field": "basic",
    "digital_level": 2,
    "quality_items": 1,
    "local_feature_points": 10,
}


def _codes(assessment: rules.Assessment, area: str) -> list[str]:
    return [e.code for e in assessment.explanations[area] if e.kind == "condition"]


# --- the regime switch ---------------------------------------------------------------------------------------


def test_the_regime_parameters_switch_between_march_31_and_april_1_2026():
    for area in ("srdi", "little_giant"):
        assert parameters.at(f"{area}.regime", LAST_2022).value == "2022"
        assert parameters.at(f"{area}.regime", FIRST_2026).value == "2026"
        assert parameters.at(f"{area}.regime", dt.date(2022, 8, 1)).value == "2022"
        with pytest.raises(parameters.ParameterError, match="没有生效的取值"):
            parameters.at(f"{area}.regime", dt.date(2022, 7, 31))


def test_a_2025_assessment_and_march_31_2026_use_the_2022_rules_april_1_uses_2026():
    for on, regime in (
        (dt.date(2025, 6, 30), "2022"),
        (LAST_2022, "2022"),
        (FIRST_2026, "2026"),
        (ON, "2026"),
    ):
        assessment = rules.assess(SRDI, on)
        assert assessment.row["srdi_regime"] == regime
        assert assessment.row["lgiant_regime"] == regime


def test_each_regime_explains_only_its_own_conditions():
    old, new = rules.assess(SRDI, LAST_2022), rules.assess(SRDI, FIRST_2026)
    assert _codes(old, "srdi") == ["srdi.niche", "srdi.rd", "srdi.revenue", "srdi.score", "srdi.direct"]
    assert _codes(new, "srdi") == [
        "srdi.title",
        "srdi.niche",
        "srdi.revenue",
        "srdi.main_share",
        "srdi.debt",
        "srdi.rd",
        "srdi.ip",
        "srdi.market",
        "srdi.dev",
    ]
    assert [e.code for e in old.explanations["srdi"] if e.kind == "score"] == [
        f"srdi.S.{key}" for key in srdi.ITEMS_2022
    ]
    assert not [e for e in new.explanations["srdi"] if e.kind == "score"]
    assert _codes(old, "little_giant")[-1] == "little_giant.direct"
    assert "little_giant.dev" in _codes(new, "little_giant")
    assert "little_giant.info_system" not in _codes(new, "little_giant")


def test_a_condition_the_regime_does_not_have_is_met_and_never_counted_as_a_gap():
    old, new = rules.assess(SRDI, LAST_2022), rules.assess(SRDI, FIRST_2026)
    for slot in ("title", "main_share", "debt", "ip", "market", "dev"):
        assert old.row[f"srdi_{slot}"] == "met"
    assert new.row["srdi_score_or_direct"] == "met"
    assert new.row["srdi_score_min"] is None and new.row["srdi_direct"] is None
    assert old.row["srdi_unmet"] == 0 and new.row["srdi_unmet"] == 0


def test_the_result_columns_are_the_same_under_both_regimes():
    frame = inputs.situation_frame([SRDI, {}])
    old, new = rules.evaluate(frame, LAST_2022), rules.evaluate(frame, FIRST_2026)
    assert set(old.columns) == set(new.columns)
    for column in (
        "srdi_score_min",
        "srdi_score_max",
        "srdi_s_rd_min",
        "lgiant_direct",
        "lgiant_growth_rate",
    ):
        assert column in new.columns and column in old.columns
    assert old.schema["srdi_score_min"] == new.schema["srdi_score_min"] == pl.Int64
    assert old.schema["srdi_direct"] == new.schema["srdi_direct"] == rules.STATUS


def test_the_niche_threshold_moves_from_two_to_three_years_on_april_1_2026():
    situation = dict(SRDI, niche_market_years=2)
    assert rules.assess(situation, LAST_2022).row["srdi_niche"] == "met"
    after = rules.assess(situation, FIRST_2026)
    assert after.row["srdi_niche"] == "not_met"
    assert "还需 1 年" in after.explanation("srdi.niche").text


# --- explanations: value, threshold, source, gap -----------------------------------------------------------


def test_a_2026_rd_shortfall_names_each_year_its_amount_the_threshold_and_the_source():
    assessment = rules.assess(dict(SRDI, rd_expense_lag2=900_000), ON)
    e = assessment.explanation("srdi.rd")
    assert e.status == "not_met"
    assert "2024 年研发费用 90万元" in e.value and "占营业收入 3.6%" in e.value
    assert e.threshold == "近两年每年 ≥100万元，且每年占营业收入 ≥3%"
    assert e.source.startswith("工信部企业〔2026〕2号 附件1")
    assert e.gap == "2024 年研发费用还差约 10万元"
    assert any(g.startswith("近两年研发费用：2024 年研发费用还差约 10万元") for g in assessment.gaps("srdi"))


def test_a_little_giant_explains_its_shortfalls_in_its_own_terms():
    situation = {
        "srdi_valid": True,
        "niche_market_years": 4,
        "sales_revenue_lag1": 45_000_000,
        "sales_revenue_lag2": 42_000_000,
        "sales_revenue_lag3": 40_000_000,
        "main_business_revenue_lag1": 40_000_000,
        "total_assets_lag1": 100_000_000,
        "net_assets_lag1": 20_000_000,
        "rd_expense_lag1": 5_000_000,
        "rd_expense_lag2": 4_000_000,
        "ip_class_i_main_product_count": 2,
        "award_national_top3_3y": False,  # left unknown, the waiver could still apply: the IP condition is unknown
        "market_share": 0.08,
        "market_rank_domestic": 6,
        "srdi_dev_score": 58,
        "little_giant_valid": False,
    }
    assessment = rules.assess(situation, ON)
    gaps = dict(g.split("：", 1) for g in assessment.gaps("little_giant"))
    assert gaps["上年度营业收入"] == "营业收入还差 500万元"
    assert gaps["主营业务收入占营业收入比重"].startswith("还差 1.12 个百分点")  # 40/45 = 88.88…%
    assert gaps["上年末资产负债率"] == "需降低 5 个百分点；在资产总额不变时负债需减少约 500万元"
    assert gaps["近两年研发费用"] == "两年合计还差 300万元"
    assert gaps["与主导产品相关并实际应用、已产生经济效益的Ⅰ类知识产权"].startswith("还需 2 件")
    assert gaps["主导产品细分市场地位"] == "占有率还差 2 个百分点"
    assert gaps["专精特新发展评价得分"] == "还差 2 分"
    assert assessment.statuses["little_giant"] == "not_met"


def test_an_innovative_sme_score_explanation_names_groups_thresholds_and_the_next_band():
    situation = {
        "sales_revenue_lag1": 40_000_000,
        "rd_expense_lag1": 800_000,
        "main_business_revenue_lag1": 22_000_000,
        "main_business_revenue_lag2": 22_000_000,
        "total_assets_lag1": 50_000_000,
        "net_assets_lag1": 25_000_000,
        "strategic_emerging_industry": True,
        "ip_class_i_high_value_count": 0,
        "ip_class_i_own_rd_count": 0,
        "ip_class_i_count": 1,
        "ip_class_ii_mature_count": 0,
    }
    e = rules.assess(situation, ON).explanation("innovative_sme.score")
    assert e.value == "得分 55 分（创新能力 20 分，成长性 15 分，专业化 20 分）"
    assert e.threshold == "≥60 分，且创新能力 ≥20 分、成长性 ≥15 分、专业化 ≥15 分"
    assert e.gap.startswith(
        "总分还差 5 分；研发费用占营业收入 2%，达到 3% 可得 15 分，按上年营业收入计需增加研发费用约 40万元"
    )


def test_explanations_of_every_regime_are_complete_for_an_enterprise_with_nothing_recorded():
    for on in (dt.date(2025, 6, 30), LAST_2022, FIRST_2026, ON):
        assessment = rules.assess({}, on)
        for area in ("innovative_sme", "srdi", "little_giant"):
            assert assessment.statuses[area] == "unknown"
            for e in assessment.explanations[area]:
                assert e.text and e.source
                if e.kind == "condition":
                    assert e.status in ("met", "unknown"), (on, e.code)  # nothing recorded is never not_met


@pytest.mark.parametrize(
    "odd",
    [
        {"sales_revenue_lag1": -1_000_000, "sales_revenue_lag3": -5},
        {"sales_revenue_lag1": 0, "sales_revenue_lag2": 0, "sales_revenue_lag3": 0, "total_assets_lag1": 0},
        {"main_business_revenue_lag2": 0, "main_business_revenue_lag3": 0, "net_assets_lag1": -10_000_000},
        {"niche_market_years": -1, "digital_level": 0, "quality_items": -2, "local_feature_points": 99},
        {"rd_institution_level": "somewhere", "srdi_product_field": "unheard-of", "market_rank_domestic": 0},
        {
            "employees_lag1": 0,
            "rd_staff_lag1": 5,
            "ip_class_i_main_product_count": 0,
            "ip_class_i_count": None,
        },
    ],
)
def test_odd_figures_give_a_status_and_a_text_never_a_crash(odd):
    for on in (dt.date(2025, 6, 30), ON):
        assessment = rules.assess(dict(SRDI, **odd), on)
        for area in ("innovative_sme", "srdi", "little_giant"):
            assert assessment.statuses[area] in ("met", "not_met", "unknown")
            assert all(e.text for e in assessment.explanations[area])


# --- 待核实: values the reference marks unconfirmed or single-source --------------------------------------


def test_the_unconfirmed_values_of_the_three_tiers_are_exactly_those_the_reference_does_not_confirm():
    unconfirmed = {
        v.path
        for v in parameters.default().unconfirmed()
        if v.path.split(".")[0] in ("innovative_sme", "srdi", "little_giant")
    }
    assert unconfirmed == {
        # 2026 transition article (single source) and the reading of the standard
        "innovative_sme.standard",
        "innovative_sme.ip_definitions",
        "innovative_sme.band_boundary_rule",
        "innovative_sme.equity_period",
        # 2022 专精特新 score: rows from the single code source S7, and the growth formula
        "srdi.quality_points",
        "srdi.margin_bands",
        "srdi.debt_bands",
        "srdi.local_feature_max",
        "srdi.ip_bands",
        "srdi.rd_bands",
        "srdi.rd_staff_bands",
        "srdi.institution_bands",
        "srdi.growth_average_formula",
        "srdi.title_required",
        "little_giant.growth_average_formula",
        "little_giant.rd_small_reading",
    }
    # the innovative standard is confirmed up to 2026-03-31 and only its 2026 continuation is not
    assert not parameters.at("innovative_sme.standard", LAST_2022).unconfirmed
    assert parameters.at("innovative_sme.standard", FIRST_2026).unconfirmed


def test_every_value_of_the_three_tiers_names_its_document_and_source():
    shipped = parameters.default()
    for path in shipped.paths():
        if path.split(".")[0] not in ("innovative_sme", "srdi", "little_giant"):
            continue
        for value in shipped.history(path):
            assert "工信部企业〔20" in value.reference, path
            if value.status == "confirmed":
                assert "[S" in value.reference, path  # the source tags of the rules reference


def test_an_innovative_sme_assessed_after_april_1_2026_says_its_standard_is_unconfirmed():
    situation = {"hnte_valid": True}
    before = rules.assess(situation, LAST_2022).explanation("innovative_sme.score")
    after = rules.assess(situation, FIRST_2026).explanation("innovative_sme.score")
    assert not before.unconfirmed and "待核实" not in before.text
    assert after.unconfirmed and "待核实" in after.text


def test_a_2022_score_item_from_the_single_code_source_is_flagged_and_one_from_three_reprints_is_not():
    assessment = rules.assess(SRDI, dt.date(2025, 6, 30))
    margin, main = assessment.explanation("srdi.S.margin"), assessment.explanation("srdi.S.main")
    assert margin.unconfirmed and "[S7]（待核实）" in margin.text
    assert not main.unconfirmed and "待核实" not in main.text
    assert assessment.explanation("srdi.score").unconfirmed  # the total uses S7 items


def test_the_2026_title_condition_is_flagged_as_it_rests_on_one_source():
    e = rules.assess(SRDI, ON).explanation("srdi.title")
    assert e.unconfirmed and "待核实" in e.text


def test_a_value_exactly_on_an_innovative_band_edge_notes_the_unconfirmed_boundary_rule():
    on_edge = rules.assess({"sales_revenue_lag1": 40_000_000, "rd_expense_lag1": 2_000_000}, LAST_2022)
    off_edge = rules.assess({"sales_revenue_lag1": 40_000_000, "rd_expense_lag1": 2_100_000}, LAST_2022)
    assert on_edge.explanation("innovative_sme.S.rd").unconfirmed
    assert "恰在档位边界" in on_edge.explanation("innovative_sme.S.rd").text
    assert not off_edge.explanation("innovative_sme.S.rd").unconfirmed


# --- parameters are read when the engine runs ------------------------------------------------------------


def test_a_revised_threshold_is_used_without_code_changes():
    situation = dict(SRDI, srdi_dev_score=48)
    assert rules.assess(situation, ON).row["srdi_dev"] == "not_met"
    revised = parameters.default().revised(
        [parameters.Revision("srdi.dev_score_min", FIRST_2026, value=45, note="测试")]
    )
    with parameters.using(revised):
        assessment = rules.assess(situation, ON)
    assert assessment.row["srdi_dev"] == "met"


def test_the_modules_follow_the_protocol():
    for module, area, column in (
        (innovative_sme, "innovative_sme", "inno"),
        (srdi, "srdi", "srdi"),
        (little_giant, "little_giant", "lgiant"),
    ):
        assert module.AREAS[area][1] == column
        assert rules.RESULT_COLUMN[area] == column
        assert all(c.startswith(f"{column}_") for c in module.CONDITIONS[area])
    order = list(rules.QUALIFICATIONS)
    assert order.index("tech_sme") < order.index("innovative_sme") < order.index("hnte")
    assert order.index("hnte") < order.index("srdi") < order.index("little_giant")
