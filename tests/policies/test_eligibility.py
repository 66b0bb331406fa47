"""Eligibility conditions (kechuang/policies/eligibility.py), without a database: checked at save with Chinese
messages naming the unknown column, operator or value; evaluated three-valued (met, not met, unknown — never
"not met" for missing data); the implicit in-business condition; parks with their sub-parks; "any"."""

import datetime as dt
import json

import polars as pl
import pytest

from kechuang.policies import columns as cols
from kechuang.policies import eligibility as elig
from kechuang.policies.evaluate import Definition, evaluate, full_explanation, static_explanation
from kechuang.policies.periods import Period

ON = dt.date(2026, 12, 31)
PARKS = {
    "张江高新区松江园": ["张江高新区松江园", "临港松江科技园"],
    "临港松江科技园": ["临港松江科技园"],
    "G60脑智": ["G60脑智"],
}
LISTS = {"park": {name: name for name in PARKS}, "industry": {"C": "C 制造业", "I": "I 信息传输"}}


def refused(conditions):
    with pytest.raises(elig.EligibilityError) as caught:
        elig.check(conditions, code_lists=LISTS)
    return caught.value.problems


def statuses(conditions, rows):
    definition = Definition.from_dict({"eligibility": conditions, "formula": "100"}, code_lists=LISTS)
    data = [{"enterprise_id": i + 1, **row} for i, row in enumerate(rows)]
    frame = cols.conform(pl.DataFrame(data, infer_schema_length=None))
    result = evaluate(
        frame,
        definition,
        on=ON,
        period=Period.parse("2026"),
        parks=PARKS,
        code_lists=LISTS,
        keep_not_eligible=True,
    )
    static = static_explanation(definition, on=ON, period=Period.parse("2026"), parks=PARKS, code_lists=LISTS)
    return [
        (r["eligibility"], full_explanation(static, json.loads(r["explanation"])))
        for r in result.iter_rows(named=True)
    ]


# --- checked at save --------------------------------------------------------------------------------------------


def test_an_unknown_column_is_named():
    assert refused([{"kind": "compare", "column": "rd_expense_lag9", "op": ">=", "value": 1}]) == [
        "第 1 项条件：未知的数据列 'rd_expense_lag9'（可用的数据列见编辑页的“可用数据列”）"
    ]


def test_an_operator_the_column_does_not_take_is_named_with_the_allowed_ones():
    assert refused([{"kind": "compare", "column": "park", "op": ">=", "value": "x"}]) == [
        "第 1 项条件：数据列“所在园区”不能用运算符 '>='，可用 ==、!=、in、not_in"
    ]
    assert refused([{"kind": "compare", "column": "rd_expense_hnte_lag1", "op": "in", "value": [1]}]) == [
        "第 1 项条件：数据列“研发费用（高企口径）（y−1年）”不能用运算符 'in'，可用 >=、>、<=、<、==、!="
    ]


def test_values_of_the_wrong_type_or_unknown_codes_are_named():
    problems = refused(
        [
            {"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": "200万"},
            {"kind": "compare", "column": "park", "op": "in", "value": ["不存在的园区"]},
            {"kind": "compare", "column": "industry", "op": "==", "value": "Z"},
            {"kind": "compare", "column": "held_hnte", "op": "is", "value": "yes"},
            {"kind": "compare", "column": "registration_date", "op": "<", "value": "2020-13-01"},
        ]
    )
    assert problems[0] == "第 1 项条件：“研发费用（高企口径）（y−1年）”须与数字比较，收到 '200万'"
    assert problems[1].startswith("第 2 项条件：“所在园区”没有取值 不存在的园区，可用 张江高新区松江园")
    assert problems[2].startswith("第 3 项条件：“所属行业（GB/T 4754门类）”没有取值 Z，可用 C（C 制造业）")
    assert problems[3] == "第 4 项条件：“持有有效的高新技术企业证书”的取值须为 true 或 false，收到 'yes'"
    assert problems[4] == "第 5 项条件：“成立日期”须与日期比较（YYYY-MM-DD），收到 '2020-13-01'"


def test_unknown_kinds_qualifications_areas_and_fields_are_named():
    problems = refused(
        [
            {"kind": "magic"},
            {"kind": "qualification", "qualification": "nobel", "test": "held"},
            {"kind": "qualification", "qualification": "hnte", "test": "soon"},
            {"kind": "assessed", "area": "hnte2"},
            {"kind": "compare", "column": "park", "op": "==", "value": "G60脑智", "extra": 1},
        ]
    )
    assert problems[0].startswith("第 1 项条件：未知的条件类型 'magic'，可用 qualification（资质）")
    assert problems[1].startswith("第 2 项条件：未知的资质 'nobel'，可用 hnte（高新技术企业）")
    assert problems[2].startswith("第 3 项条件：未知的资质条件 'soon'，可用 held（持有有效证书）")
    assert problems[3].startswith("第 4 项条件：未知的评价项 'hnte2'，可用 tech_sme（科技型中小企业）")
    assert problems[4].startswith("第 5 项条件：未知字段 ['extra']")


def test_any_needs_two_conditions_and_does_not_nest():
    problems = refused(
        [
            {"kind": "any", "conditions": [{"kind": "assessed", "area": "hnte"}]},
            {
                "kind": "any",
                "conditions": [{"kind": "any", "conditions": []}, {"kind": "assessed", "area": "x"}],
            },
        ]
    )
    assert problems[0] == "第 1 项条件：“任一满足”须列出至少两项条件 conditions"
    assert "第 2 项条件之第 1 项：“任一满足”不能再嵌套“任一满足”" in problems
    assert any(p.startswith("第 2 项条件之第 2 项：未知的评价项 'x'") for p in problems)


def test_not_a_list_is_refused():
    assert refused({"kind": "assessed"}) == ['资格条件须为列表：[{"kind": …}, …]']


# --- three-valued ----------------------------------------------------------------------------------------------

RD = [{"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": 2_000_000}]


def test_a_comparison_is_met_not_met_or_unknown_never_not_met_for_missing_data():
    rows = statuses(
        RD,
        [
            {"status": "active", "rd_expense_hnte_lag1": 2_000_000.0},  # exactly the threshold
            {"status": "active", "rd_expense_hnte_lag1": 1_999_999.99},  # one fen under
            {"status": "active", "rd_expense_hnte_lag1": None},
        ],
    )
    assert [s for s, _ in rows] == ["met", "not_met", "unknown"]
    condition = rows[2][1]["conditions"][1]
    assert condition == {
        "label": "研发费用（高企口径）（2025年）",
        "requirement": "≥ 200万元",
        "status": "unknown",
        "value": "未登记",
    }
    assert (
        rows[2][1]["summary"]
        == "资格待定：以下条件缺少数据，无法判断——研发费用（高企口径）（2025年）。补齐数据后重新核定。"
    )
    assert rows[1][1]["conditions"][1]["value"] == "199.999999万元"


def test_not_met_wins_over_unknown():
    conditions = RD + [{"kind": "qualification", "qualification": "hnte", "test": "held"}]
    [(status, explanation)] = statuses(conditions, [{"status": "active", "held_hnte": False}])
    assert status == "not_met"
    assert explanation["summary"] == "不符合条件：持有有效期内的高新技术企业证书。"


def test_a_moved_out_or_deregistered_enterprise_is_never_eligible():
    rows = statuses(
        [], [{"status": "moved_out"}, {"status": "deregistered"}, {"status": "active"}, {"status": None}]
    )
    assert [s for s, _ in rows] == ["not_met", "not_met", "met", "unknown"]
    assert rows[0][1]["conditions"][0]["label"] == "企业状态为存续（在营）"
    assert rows[0][1]["conditions"][0]["value"] == "迁出"


def test_assessed_conditions_read_the_rules_engine_three_valued():
    rows = statuses(
        [{"kind": "assessed", "area": "tech_sme"}],
        [{"status": "active", "assessed_tech_sme": s} for s in ("met", "not_met", "unknown")],
    )
    assert [s for s, _ in rows] == ["met", "not_met", "unknown"]
    assert rows[2][1]["conditions"][1]["value"] == "待定（数据缺失或需专家评审）"


def test_a_park_includes_its_sub_parks_and_an_unrecorded_park_is_unknown():
    rows = statuses(
        [{"kind": "compare", "column": "park", "op": "in", "value": ["张江高新区松江园"]}],
        [{"status": "active", "park": p} for p in ("临港松江科技园", "张江高新区松江园", "G60脑智", None)],
    )
    assert [s for s, _ in rows] == ["met", "met", "not_met", "unknown"]
    assert rows[0][1]["conditions"][1]["requirement"] == "属于 张江高新区松江园（含下级园区）"


def test_codes_are_shown_with_their_labels():
    [(status, explanation)] = statuses(
        [{"kind": "compare", "column": "industry", "op": "==", "value": "C"}],
        [{"status": "active", "industry": "I"}],
    )
    assert status == "not_met"
    assert (
        explanation["conditions"][1]["value"] == "I 信息传输"
        and explanation["conditions"][1]["requirement"] == "为 C 制造业"
    )


def test_any_is_kleene_or():
    any_ = [
        {
            "kind": "any",
            "conditions": [
                {"kind": "qualification", "qualification": "hnte", "test": "held"},
                {"kind": "assessed", "area": "tech_sme"},
            ],
        }
    ]
    rows = statuses(
        any_,
        [
            {"status": "active", "held_hnte": False, "assessed_tech_sme": "met"},
            {"status": "active", "held_hnte": False, "assessed_tech_sme": "unknown"},
            {"status": "active", "held_hnte": True, "assessed_tech_sme": "unknown"},
            {"status": "active", "held_hnte": False, "assessed_tech_sme": "not_met"},
        ],
    )
    assert [s for s, _ in rows] == ["met", "unknown", "met", "not_met"]


def test_newly_recognised_and_held_are_separate_columns():
    rows = statuses(
        [{"kind": "qualification", "qualification": "hnte", "test": "new"}],
        [{"status": "active", "held_hnte": True, "new_hnte": False}, {"status": "active", "new_hnte": True}],
    )
    assert [s for s, _ in rows] == ["not_met", "met"]
    assert rows[1][1]["conditions"][1]["label"] == "于兑现期间内新认定为高新技术企业"


def test_the_columns_an_item_reads_are_listed_for_its_inputs_snapshot():
    conditions = RD + [
        {
            "kind": "any",
            "conditions": [
                {"kind": "assessed", "area": "hnte"},
                {"kind": "qualification", "qualification": "tech_sme"},
            ],
        }
    ]
    assert elig.columns_read(conditions) == [
        "status",
        "rd_expense_hnte_lag1",
        "assessed_hnte",
        "held_tech_sme",
    ]
    assert elig.uses_assessment(conditions) and not elig.uses_assessment(RD)
