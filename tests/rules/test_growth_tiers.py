"""Growth tiers (瞪羚, 独角兽), 上海科技小巨人 and the district pools: what the YAML cases cannot express.

Explanation texts (value, threshold, source, gap, 待核实), the USD conversion, replacing the gazelle stand-in by a
dated definition, the founding-age rules against a plain-Python count, and the explanation mirroring the
Polars statuses on awkward data.
"""

import datetime as dt
import random
import shutil

import polars as pl
import pytest
import yaml

from kechuang import rules
from kechuang.rules import gazelle, inputs, parameters, pools, unicorn
from kechuang.rules.common import MET, NOT_MET, UNKNOWN
from kechuang.rules.parameters import ParameterError

ON = dt.date(2026, 6, 30)
GROWING = {  # 1000万 (2022) → 1728万 (2025): a CAGR of exactly 20%, 高企, founded 2012
    "registration_date": dt.date(2012, 3, 1),
    "hnte_valid": True,
    "sales_revenue_lag4": 10_000_000,
    "sales_revenue_lag3": 12_000_000,
    "sales_revenue_lag2": 15_000_000,
    "sales_revenue_lag1": 17_280_000,
}


@pytest.fixture
def shipped_copy(tmp_path):
    """A copy of the shipped parameter files, to edit and then run the engine on with `parameters.using`."""
    for file in parameters.DIRECTORY.glob("*.yaml"):
        shutil.copy(file, tmp_path / file.name)
    return tmp_path


def _edit(path, change):
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --- explanations ------------------------------------------------------------------------------------------


def test_a_cagr_just_short_states_achieved_needed_and_the_revenue_still_missing():
    assessment = rules.assess(dict(GROWING, sales_revenue_lag1=17_279_900), ON)
    path = assessment.explanation("gazelle.P1")
    assert path.status == NOT_MET
    assert "近三年复合增长率 19.99%（2022年 1,000万元 → 2025年 1,727.99万元）" in path.value
    assert "近三年营业收入复合增长率 ≥20%" in path.threshold
    assert path.gap == "按基期 1,000万元 计，2025年营业收入需达到 1,728万元，还差 0.01万元"
    assert path.source.startswith("广州市黄埔区、广州开发区瞪羚企业认定标准（2022）")
    assert "代用定义" in path.source and path.source.endswith("（待核实）")
    assert path.unconfirmed and "待核实" in path.text
    growth = assessment.explanation("gazelle.growth")
    assert growth.kind == "condition" and growth.status == NOT_MET
    assert growth.gap.startswith("路径1：按基期 1,000万元 计")
    assert any(g.startswith("成长性（满足任一路径）：路径1：") for g in assessment.gaps("gazelle"))
    # The path items are listed after the conditions and are not gaps of their own.
    kinds = [e.kind for e in assessment.explanations["gazelle"]]
    assert kinds == ["condition", "condition", "path", "path", "path"]


def test_founding_age_is_stated_with_how_it_is_counted():
    young = dict(GROWING, registration_date=dt.date(2019, 12, 31), sales_revenue_lag1=600_000_000)
    path = rules.assess(young, ON).explanation("gazelle.P2")
    assert "成立于 2019-12-31，距截止年（2025年）6 年" in path.value
    assert "成立不超过 5 年（2020 年及以后成立）" in path.threshold
    assert "成立已 6 年，超过 5 年" in path.gap
    assert any("截止年（评价年度的上一年）减成立年份" in n for n in path.notes)
    seed = rules.assess({"registration_date": dt.date(2021, 6, 29)}, ON).explanation("seed.age")
    assert seed.value == "成立于 2021-06-29，至评价日已成立 5 年又 1 日"
    assert seed.gap == "已于 2026-06-29 成立满 5 年，此项已不能满足"
    assert seed.unconfirmed


def test_the_unicorn_threshold_is_the_usd_parameter_at_the_rate_parameter():
    over = parameters.at("unicorn.valuation_over_usd", ON)
    rate = parameters.at("unicorn.cny_per_usd", ON)
    assert (over.value, over.unit, over.status) == (1_000_000_000, "美元", "confirmed")
    assert rate.unit == "元/美元" and rate.unconfirmed and "区科委" in rate.reference
    bar = over.value * rate.value  # yuan
    base = {
        "registration_date": dt.date(2018, 5, 1),
        "resident_in_china": True,
        "has_private_equity": True,
        "is_listed": False,
    }
    at_bar = rules.assess(dict(base, valuation_lag1=bar), ON)
    assert at_bar.row["uni_valuation"] == NOT_MET  # “超过”: strictly over
    assert rules.assess(dict(base, valuation_lag1=bar + 0.01), ON).row["uni_valuation"] == MET
    e = rules.assess(dict(base, valuation_lag1=8_000_000_000), ON).explanation("unicorn.valuation")
    assert e.value == "2025年估值 80亿元（约 11.26亿美元）"
    assert e.threshold == "估值超过 10亿美元（按 1 美元 = 7.1 元折合 71亿元）"
    assert e.unconfirmed and "待核实" in e.text  # the definition is confirmed, the rate is not
    assert rules.assess(dict(base, valuation_lag1=8_000_000_000), ON).row[
        "uni_valuation_usd"
    ] == pytest.approx(8_000_000_000 / rate.value)


def test_a_new_exchange_rate_moves_the_unicorn_threshold(shipped_copy):

    def new_rate(content):
        content["cny_per_usd"]["values"][0]["effective_to"] = dt.date(2026, 6, 30)
        content["cny_per_usd"]["values"].append(
            {
                "effective_from": dt.date(2026, 7, 1),
                "value": 7.5,
                "unit": "元/美元",
                "reference": "区科委确定的折算汇率（测试）",
                "status": "confirmed",
            }
        )

    _edit(shipped_copy / "unicorn.yaml", new_rate)
    base = {
        "registration_date": dt.date(2018, 5, 1),
        "resident_in_china": True,
        "has_private_equity": True,
        "is_listed": False,
        "valuation_lag1": 7_200_000_000,  # over 10亿美元 at 7.1, under it at 7.5
    }
    with parameters.using(parameters.load(shipped_copy)):
        assert rules.assess(base, dt.date(2026, 6, 30)).row["uni"] == MET
        later = rules.assess(base, dt.date(2026, 7, 1))
    assert later.row["uni"] == NOT_MET
    text = later.explanation("unicorn.valuation").text
    assert "按 1 美元 = 7.5 元折合 75亿元" in text and "估值还差 3亿元 以上" in text
    assert not later.explanation("unicorn.valuation").unconfirmed


def test_replacing_the_gazelle_stand_in_by_a_dated_definition_changes_the_result_from_that_date(shipped_copy):
    district = "松江区瞪羚企业认定办法（测试用，假设 2026-07-01 起施行）"

    def replace(content):
        for name, values in (
            ("requires_hnte", False),
            (
                "paths",
                [
                    {
                        "label": "近三年复合增长率15%以上",
                        "base_revenue_at_least": 5_000_000,
                        "cagr_at_least": 0.15,
                    }
                ],
            ),
        ):
            content[name]["values"][0]["effective_to"] = dt.date(2026, 6, 30)
            content[name]["values"].append(
                {
                    "effective_from": dt.date(2026, 7, 1),
                    "value": values,
                    "unit": content[name]["values"][0]["unit"],
                    "reference": district,
                    "status": "confirmed",
                }
            )

    _edit(shipped_copy / "gazelle.yaml", replace)
    # Not a 高企, 800万 → 1228.8万 over three years: CAGR 16% (1.16³ = 1.560896).
    enterprise = dict(GROWING, hnte_valid=False, sales_revenue_lag4=8_000_000, sales_revenue_lag1=12_487_168)
    with parameters.using(parameters.load(shipped_copy)):
        before = rules.assess(enterprise, dt.date(2026, 6, 30))
        after = rules.assess(enterprise, dt.date(2026, 7, 1))
    assert (
        before.row["gaz"] == NOT_MET and before.row["gaz_hnte"] == NOT_MET and before.row["gaz_p1"] == NOT_MET
    )
    assert after.row["gaz"] == MET and after.row["gaz_hnte"] == MET and after.row["gaz_p1"] == MET
    assert "gaz_p2" not in after.row  # the new definition has one path
    growth = after.explanation("gazelle.growth")
    assert growth.source == district and not growth.unconfirmed and "待核实" not in growth.text
    assert after.explanation("gazelle.hnte").value == "现行定义不要求"
    assert before.explanation("gazelle.growth").unconfirmed


def test_a_bad_criterion_in_a_definition_is_refused_with_its_place(shipped_copy):
    _edit(shipped_copy / "gazelle.yaml", lambda c: c["paths"]["values"][0]["value"][1].update(revenue_over=1))
    with (
        parameters.using(parameters.load(shipped_copy)),
        pytest.raises(ParameterError, match=r"参数 gazelle.paths 路径2：未知条件 revenue_over"),
    ):
        rules.assess({}, ON)
    _edit(shipped_copy / "gazelle.yaml", lambda c: c["paths"]["values"][0]["value"][1].pop("revenue_over"))
    _edit(
        shipped_copy / "gazelle.yaml", lambda c: c["founding_age_rule"]["values"][0].update(value="calendar")
    )
    with (
        parameters.using(parameters.load(shipped_copy)),
        pytest.raises(ParameterError, match="成立年限口径须为 cutoff_year 或 assessment_date"),
    ):
        rules.assess({}, ON)


# --- founding age: Polars against a plain count -----------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(gazelle.AGE_RULES))
def test_founded_within_matches_the_anniversary_or_year_count(rule):
    days = [
        dt.date(2016, 2, 28),
        dt.date(2016, 2, 29),
        dt.date(2016, 3, 1),
        dt.date(2019, 12, 31),
        dt.date(2020, 1, 1),
        dt.date(2021, 2, 28),
        dt.date(2021, 3, 1),
        dt.date(2021, 6, 29),
        dt.date(2021, 6, 30),
        dt.date(2021, 7, 1),
        dt.date(2023, 2, 28),
        dt.date(2024, 2, 29),
        dt.date(2025, 2, 28),
        dt.date(2026, 7, 1),
        dt.date(1900, 3, 1),
    ]
    dates = [dt.date(2026, 6, 30), dt.date(2028, 2, 29), dt.date(2025, 2, 28), dt.date(2025, 3, 1)]
    frame = pl.DataFrame({"registration_date": days})
    age_rule = parameters.ParameterValue(
        "test.age", "口径", rule, "口径", "测试", "confirmed", dt.date(2000, 1, 1), None
    )
    for on in dates:
        basis = gazelle.make_basis(on, "_t_", age_rule)
        ages = frame.select(gazelle.age_years(basis)).to_series().to_list()
        for day, age in zip(days, ages, strict=True):
            if day > on:
                assert age is None
            elif rule == "cutoff_year":
                assert age == on.year - 1 - day.year
            else:  # whole years: the last anniversary on or before the assessment date
                assert gazelle.add_years(day, age) <= on < gazelle.add_years(day, age + 1), (on, day, age)
        for years in (1, 5, 9, 10):
            got = frame.select(gazelle.founded_within(basis, years)).to_series().to_list()
            for day, value in zip(days, got, strict=True):
                if day > on:
                    expected = None
                elif rule == "cutoff_year":
                    expected = (on.year - 1) - day.year <= years
                else:
                    expected = on <= gazelle.add_years(day, years)
                assert value == expected, (rule, on, day, years)
                figures = gazelle.Figures({"registration_date": day}, basis)
                assert gazelle.part("founded_within_years", years, {}, figures).ok == expected


# --- awkward data: no crash, three values, explanations that agree with the statuses --------------------


def _awkward_rows(count: int) -> list[dict]:
    rng = random.Random(20260630)
    money = [None, 0, -5, 1, 4_999_999, 5_000_000, 10_000_000, 17_280_000, 500_000_000, 1_000_000_000.01]
    rows = []
    for index in range(count):
        row = {
            "enterprise_id": str(index),
            "registration_date": rng.choice(
                [
                    None,
                    dt.date(2010, 5, 1),
                    dt.date(2015, 1, 1),
                    dt.date(2020, 2, 29),
                    dt.date(2024, 8, 1),
                    dt.date(2027, 1, 1),
                ]
            ),
            "hnte_valid": rng.choice([None, True, False]),
            "equity_financing_total": rng.choice([None, 0, 50_000_000]),
            "valuation_lag1": rng.choice([None, 0, 710_000_000, 7_100_000_000, 9e9]),
            "resident_in_china": rng.choice([None, True]),
            "has_private_equity": rng.choice([None, True, False]),
            "is_listed": rng.choice([None, False, True]),
            "ip_class_i_count": rng.choice([None, 0, 1, 3]),
            "ip_class_ii_count": rng.choice([None, 0, 2]),
        }
        for k in (1, 2, 3, 4):
            row[f"sales_revenue_lag{k}"] = rng.choice(money)
        rows.append(row)
    return rows


def test_awkward_data_gives_three_values_and_path_explanations_that_agree_with_the_statuses():
    rows = _awkward_rows(400)
    result = rules.evaluate(inputs.situation_frame(rows), ON)
    for module in (gazelle, unicorn, pools):
        for area, columns in module.CONDITIONS.items():
            for column in (*columns, module.AREAS[area][1]):
                assert result[column].null_count() == 0, column
                assert set(result[column].cast(str).unique()) <= {MET, NOT_MET, UNKNOWN}, column
    for row in result.iter_rows(named=True):
        explanations = rules.explain(row, ON).explanations
        for area in ("gazelle", "potential_gazelle", "potential_unicorn", "seed"):
            for item in explanations[area]:
                assert item.text and item.status in (MET, NOT_MET, UNKNOWN)
                if item.kind != "path":
                    continue
                # The path's status comes from Polars; its gap from the Python mirror of each criterion.
                assert (item.gap == "") == (item.status == MET), (row, item.text)


def test_the_python_mirror_of_each_path_gives_the_polars_status():
    rows = _awkward_rows(300)
    result = rules.evaluate(inputs.situation_frame(rows), ON)
    checks = (
        ("gazelle", "gaz", gazelle._basis, "gazelle.paths"),
        ("gazelle", "pgaz", gazelle._basis, "gazelle.potential_paths"),
        ("unicorn", "puni", unicorn._basis, "unicorn.potential_paths"),
        ("pools", "seed", pools._basis, "pools.seed_growth_paths"),
    )
    for _, result_column, make, path in checks:
        definition = parameters.at(path, ON).value
        basis = make(ON)
        for row in result.iter_rows(named=True):
            figures = gazelle.Figures(row, basis)
            for index, spec in enumerate(definition, start=1):
                oks = [gazelle.part(k, v, spec, figures).ok for k, v in gazelle.criteria_of(spec)]
                expected = NOT_MET if False in oks else (MET if all(oks) else UNKNOWN)
                assert row[f"{result_column}_p{index}"] == expected, (path, index, row)


def test_an_empty_situation_is_unknown_everywhere_and_explained():
    assessment = rules.assess({}, ON)
    for area in (
        "gazelle",
        "potential_gazelle",
        "unicorn",
        "potential_unicorn",
        "sh_tech_giant",
        "sh_tech_giant_cultivation",
        "seed",
        "hidden_champion",
    ):
        assert assessment.statuses[area] == UNKNOWN, area
        assert assessment.gaps(area), area
        assert all(e.unconfirmed for e in assessment.explanations[area] if area not in ("unicorn",))
