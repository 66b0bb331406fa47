"""The benefit formula (kechuang/policies/formula.py) and the amount rules of evaluate.py, without a database:
what is refused at save, and each edge of the amount — the cap exactly reached, one yuan over, zero, negative,
division by zero, missing data, rounding."""

import datetime as dt
import json

import polars as pl
import pytest

from kechuang.policies import columns as cols
from kechuang.policies import formula as fm
from kechuang.policies.evaluate import (
    Definition,
    DefinitionError,
    evaluate,
    full_explanation,
    static_explanation,
)
from kechuang.policies.periods import Period

ON = dt.date(2026, 12, 31)
PERIOD = Period.parse("2026")
RATE = {"rate": {"label": "贴息比例", "value": 0.5, "unit": "比例"}}


def problems(source, parameters=None):
    with pytest.raises(fm.FormulaError) as caught:
        fm.parse(source, fm.parameters_from(parameters or {}))
    return caught.value.problems


def run(formula, rows, *, parameters=None, cap=None, budget=None, rule="pro_rata", eligibility=None):
    """evaluate() on rows of a frame (every enterprise in business unless it says otherwise)."""
    definition = Definition.from_dict(
        {
            "name": "测试事项",
            "eligibility": eligibility or [],
            "formula": formula,
            "parameters": parameters or {},
            "cap_per_enterprise": cap,
            "budget_rule": rule,
        }
    )
    data = [{"enterprise_id": i + 1, "status": "active", **row} for i, row in enumerate(rows)]
    frame = cols.conform(pl.DataFrame(data, infer_schema_length=None))
    result = evaluate(
        frame, definition, on=ON, period=PERIOD, budget_available=budget, keep_not_eligible=True
    )
    static = static_explanation(definition, on=ON, period=PERIOD)
    return [
        dict(row, explanation=full_explanation(static, json.loads(row["explanation"])))
        for row in result.iter_rows(named=True)
    ]


# --- refused at save ----------------------------------------------------------------------------------------


def test_an_unknown_name_is_refused_naming_it_and_where():
    assert problems("loan_interst * rate", RATE) == [
        "第 1 个字符处：未知的名称“loan_interst”：既不是数据列，也不是本政策事项的参数"
    ]


def test_a_parameter_that_is_not_defined_is_an_unknown_name():
    assert "未知的名称“rate”" in problems("loan_interest * rate")[0]


def test_a_text_column_cannot_be_computed_with():
    assert problems("park * 2") == ["第 1 个字符处：数据列“park”（所在园区）不是数值，不能参与计算"]


@pytest.mark.parametrize(
    "source, words",
    [
        ("__import__('os').system('rm -rf /')", "不支持函数"),
        ("loan_interest.real", "不支持“loan_interest.real”"),
        ("loan_interest ** 2", "不支持的运算“loan_interest ** 2”"),
        ("loan_interest if loan_interest else 0", "不支持“loan_interest if loan_interest else 0”"),
        ("loan_interest > 0", "不支持“loan_interest > 0”"),
        ("'100'", "不是数字"),
        ("lambda: 1", "不支持"),
        ("[loan_interest][0]", "不支持"),
        ("abs(loan_interest)", "不支持函数“abs”，只能用 min、max、round"),
        ("min(loan_interest)", "min 至少需要两个参数"),
        ("round(loan_interest, 7)", "round 的小数位数须为 0 至 4 的整数"),
        ("min", "min 是函数，须写成 min(…)"),
    ],
)
def test_anything_but_arithmetic_is_refused_and_nothing_is_evaluated(source, words):
    assert any(words in p for p in problems(source)), problems(source)


def test_a_syntax_error_says_so_in_chinese():
    assert problems("min(loan_interest * 0.5, ") == [
        "公式“min(loan_interest * 0.5,”不是有效的算式（第 4 个字符处）：请检查括号、运算符和逗号"
    ]


def test_an_empty_formula_is_refused():
    assert problems("  ") == ["公式不能为空"]


def test_full_width_operators_are_read_as_ascii():
    formula = fm.parse("min（loan_interest × rate，500000）÷ 1", fm.parameters_from(RATE))
    assert formula.columns == ["loan_interest"] and set(formula.parameters) == {"rate"}


@pytest.mark.parametrize(
    "parameters, words",
    [
        ({"rate": {"label": "贴息比例", "value": "abc", "unit": "比例"}}, "取值 'abc' 不是有限的数字"),
        ({"rate": {"label": "贴息比例", "value": float("inf"), "unit": "比例"}}, "不是有限的数字"),
        ({"rate": {"label": "贴息比例", "value": 0.5, "unit": "%"}}, "单位 '%' 不是 元、比例 或 数"),
        ({"loan_interest": {"label": "x", "value": 1}}, "与数据列或函数同名"),
        ({"1rate": {"label": "x", "value": 1}}, "参数名须由字母"),
        ({"rate": {"value": 1}}, "须有名称 label"),
        ({"rate": {"label": "x", "value": 1, "max": 2}}, "未知字段 ['max']"),
    ],
)
def test_bad_parameters_are_refused(parameters, words):
    with pytest.raises(fm.FormulaError) as caught:
        fm.parameters_from(parameters)
    assert any(words in p for p in caught.value.problems), caught.value.problems


def test_a_definition_names_each_field_that_is_wrong():
    with pytest.raises(DefinitionError) as caught:
        Definition.from_dict(
            {
                "eligibility": [{"kind": "compare", "column": "no_such_column", "op": ">=", "value": 1}],
                "formula": "loan_interest * nope",
                "parameters": {},
                "cap_per_enterprise": "1.5",
                "budget": "-1",
            }
        )
    assert set(caught.value.problems) == {"eligibility", "formula", "cap_per_enterprise", "budget"}
    assert caught.value.problems["cap_per_enterprise"] == ["单户上限 1.5 元须为整数元"]
    assert caught.value.problems["budget"] == ["期间预算 -1 须大于 0 元"]


# --- the amount ---------------------------------------------------------------------------------------------------


def test_the_cap_exactly_reached_is_granted_in_full_and_said_so():
    [row] = run("loan_interest * rate", [{"loan_interest": 1_000_000.0}], parameters=RATE, cap="500000")
    assert row["amount"] == 500_000 and row["outcome"] == "granted"
    assert row["explanation"]["cap_text"] == "恰好达到单户上限 50万元"
    assert "100万元 × 50% = 500,000 元" in row["summary"]


def test_one_yuan_over_the_cap_is_capped():
    [row] = run("loan_interest * rate", [{"loan_interest": 1_000_002.0}], parameters=RATE, cap="500000")
    assert row["explanation"]["rounded"] == 500_001
    assert row["amount"] == 500_000
    assert "超过单户上限 50万元，按上限核定" in row["summary"]
    assert row["summary"].endswith("核定金额 50万元（500,000 元）。")


def test_one_yuan_under_the_cap_is_not_capped():
    [row] = run("loan_interest * rate", [{"loan_interest": 999_998.0}], parameters=RATE, cap="500000")
    assert row["amount"] == 499_999 and row["explanation"]["cap_text"] == "未超过单户上限 50万元"


def test_zero_is_not_paid():
    [row] = run("loan_interest * rate", [{"loan_interest": 0.0}], parameters=RATE)
    assert row["outcome"] == "zero" and row["amount"] is None
    assert row["reason"] == "计算金额为 0 元"
    assert "计算金额为 0 元，不予发放" in row["summary"]


def test_less_than_half_a_yuan_rounds_to_zero_and_is_not_paid():
    [row] = run("loan_interest * rate", [{"loan_interest": 0.8}], parameters=RATE)
    assert row["outcome"] == "zero" and row["amount"] is None


def test_a_negative_result_counts_as_zero():
    [row] = run(
        "sales_revenue_lag1 - sales_revenue_lag2", [{"sales_revenue_lag1": 10.0, "sales_revenue_lag2": 30.0}]
    )
    assert row["outcome"] == "zero" and row["amount"] is None
    assert "结果为负，按 0 元计，不予发放" in row["summary"]
    assert "= −20 元" in row["summary"]


def test_division_by_zero_is_uncomputable_with_the_reason_never_inf():
    [row] = run(
        "rd_expense_hnte_lag1 / employees_lag1 * 100", [{"rd_expense_hnte_lag1": 5e6, "employees_lag1": 0.0}]
    )
    assert row["outcome"] == "undetermined" and row["amount"] is None and row["raw"] is None
    assert row["reason"] == "无法计算：除数“employees_lag1”为 0"
    assert row["explanation"]["problem"] == "除数“employees_lag1”为 0"
    assert "Infinity" not in json.dumps(row["explanation"]) and "NaN" not in json.dumps(row["explanation"])


def test_dividing_by_a_constant_zero_is_uncomputable_too():
    [row] = run("loan_interest / 0", [{"loan_interest": 5.0}])
    assert row["reason"] == "无法计算：除数“0”为 0"


def test_missing_data_is_uncomputable_naming_the_data_with_its_year():
    [row] = run(
        "min(rd_expense_hnte_lag1 * rate, loan_interest)", [{"loan_interest": 100.0}], parameters=RATE
    )
    assert row["outcome"] == "undetermined" and row["amount"] is None
    assert row["reason"] == "无法计算：缺少数据：研发费用（高企口径）（2025年）"
    assert "金额无法计算：缺少数据：研发费用（高企口径）（2025年）" in row["summary"]


def test_min_and_max_do_not_skip_a_missing_input():
    [row] = run("max(loan_interest, insurance_premium)", [{"loan_interest": 100.0}])
    assert row["amount"] is None and "科技保险保费支出（本期）" in row["reason"]


def test_amounts_are_rounded_half_up_to_the_yuan():
    rows = run("loan_interest", [{"loan_interest": v} for v in (0.5, 1.5, 2.5, 162_500.49, 162_500.5)])
    assert [r["amount"] for r in rows] == [1, 2, 3, 162_500, 162_501]


def test_float_noise_does_not_move_a_rounding():
    # 0.1 × 3 × 5 is 1.5000000000000002 in floating point; 1.4999999999999998 must not round down either.
    [row] = run("loan_interest * 3 * 5", [{"loan_interest": 0.1}])
    assert row["amount"] == 2
    [row] = run("loan_interest - 0.0000000000000002", [{"loan_interest": 1.5}])
    assert row["amount"] == 2


def test_round_in_the_formula_keeps_the_stated_decimals():
    [row] = run("round(loan_interest * rate, 2)", [{"loan_interest": 0.125}], parameters=RATE)
    assert row["raw"] == 0.06  # 0.0625 → 0.06 (two decimals, half up), then 0 yuan
    assert row["outcome"] == "zero"


def test_the_explanation_substitutes_the_enterprises_values_in_chinese():
    [row] = run("min(loan_interest * rate, 600000) / 2", [{"loan_interest": 325_000.0}], parameters=RATE)
    explanation = row["explanation"]
    assert explanation["formula_labelled"] == "取小值(贷款利息支出（本期） × 贴息比例，600000) ÷ 2"
    assert explanation["substituted"] == "取小值(32.5万元 × 50%，600000) ÷ 2"
    assert explanation["raw"] == 81_250 and row["amount"] == 81_250
    assert explanation["rounding"] == "先按元四舍五入，再与单户上限比较"
    assert row["summary"] == (
        "符合全部 1 项条件。按“取小值(贷款利息支出（本期） × 贴息比例，600000) ÷ 2”计算：取小值(32.5万元 × 50%，600000) ÷ 2"
        " = 81,250 元；四舍五入到元为 81,250 元；本事项未设单户上限。核定金额 8.125万元（81,250 元）。"
    )


def test_brackets_are_kept_where_they_change_the_meaning():
    formula = fm.parse("(loan_interest - insurance_premium) * 2 - (loan_amount - 1)")
    compiled = fm.compile_formula(formula, ON)
    assert (
        compiled.labelled == "(贷款利息支出（本期） − 科技保险保费支出（本期）) × 2 − (贷款金额（本期） − 1)"
    )


def test_a_huge_result_is_refused_rather_than_stored():
    [row] = run("loan_interest * 1e10", [{"loan_interest": 1e10}])
    assert row["outcome"] == "undetermined" and row["reason"] == "无法计算：结果超出可发放的范围"


# --- the budget of a run ------------------------------------------------------------------------------------------


def test_pro_rata_cuts_every_amount_in_the_same_proportion_and_never_exceeds_the_budget():
    rows = run(
        "loan_interest", [{"loan_interest": v} for v in (300_000.0, 100_000.0, 100_001.0)], budget=250_000
    )
    amounts = [r["amount"] for r in rows]
    assert amounts == [149_999, 49_999, 50_000]
    assert sum(amounts) <= 250_000
    assert "按比例 49.9999% 核减（向下取整到元）" in rows[0]["summary"]


def test_within_the_budget_nothing_is_cut():
    rows = run("loan_interest", [{"loan_interest": 100.0}, {"loan_interest": 200.0}], budget=300)
    assert [r["amount"] for r in rows] == [100, 200]
    assert "未超出预算" in rows[0]["summary"]


def test_first_come_grants_in_registry_order_until_the_budget_runs_out():
    rows = run(
        "loan_interest",
        [{"loan_interest": v} for v in (100.0, 150.0, 80.0)],
        budget=200,
        rule="first_come",
    )
    assert [(r["enterprise_id"], r["outcome"], r["amount"]) for r in rows] == [
        (1, "granted", 100),
        (2, "granted", 100),
        (3, "budget", None),
    ]
    assert "按剩余额度核定" in rows[1]["summary"] and rows[2]["reason"] == "本期预算已用尽"
