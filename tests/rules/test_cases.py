"""Every worked case of kechuang/rules/cases/*.yaml, and the batch evaluation against the one-enterprise one."""

import math

import pytest

from kechuang import rules
from kechuang.rules import inputs

from .cases import load_cases

CASES = load_cases()


def _same(actual, expected) -> bool:
    if isinstance(expected, float) or (isinstance(expected, int) and isinstance(actual, float)):
        return actual is not None and math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-6)
    return actual == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case):
    assessment = rules.assess(case.situation, case.on)
    wrong = {
        column: (assessment.row[column], expected)
        for column, expected in case.expect.items()
        if not _same(assessment.row[column], expected)
    }
    assert not wrong, f"{case.name}: (actual, expected) {wrong}"
    for code, fragments in case.explain.items():
        text = assessment.explanation(code).text
        missing = [f for f in fragments if f not in text]
        assert not missing, f"{case.name}: {code} lacks {missing} in: {text}"


def test_cases_names_are_unique_sentences():
    names = [c.id for c in CASES]
    assert len(names) == len(set(names))
    assert all(len(c.name) >= 8 for c in CASES)


def test_the_population_in_one_frame_gives_each_enterprise_its_own_assessment():
    """One code path: evaluating all cases of a date in one frame equals assessing each alone."""
    by_date = {}
    for index, case in enumerate(CASES):
        by_date.setdefault(case.on, []).append((index, case))
    for on, group in by_date.items():
        rows = [dict(case.situation, enterprise_id=str(index)) for index, case in group]
        batch = rules.evaluate(inputs.situation_frame(rows), on)
        assert batch.height == len(group)
        for row, (index, case) in zip(batch.iter_rows(named=True), group, strict=True):
            single = rules.assess(dict(case.situation, enterprise_id=str(index)), on)
            assert row == single.row, case.name
            batch_texts = [e.text for items in rules.explain(row, on).explanations.values() for e in items]
            single_texts = [e.text for items in single.explanations.values() for e in items]
            assert batch_texts == single_texts, case.name


def test_every_result_column_is_three_valued():
    rows = [
        dict(case.situation, enterprise_id=str(i)) for i, case in enumerate(CASES) if case.on == CASES[0].on
    ]
    result = rules.evaluate(inputs.situation_frame(rows), CASES[0].on)
    columns = [*rules.RESULT_COLUMN.values(), *(c for cs in rules.CONDITION_COLUMNS.values() for c in cs)]
    assert len(columns) > len(rules.RESULT_COLUMN)
    for column in columns:
        assert set(result[column].cast(str).unique()) <= {"met", "not_met", "unknown"}, column
        assert result[column].null_count() == 0, column
