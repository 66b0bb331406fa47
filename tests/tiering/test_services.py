"""assessments_run and `kechuang assess`: one engine call, one stored row per enterprise and area."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from kechuang import rules
from kechuang.enterprises.models import Enterprise, EnterpriseYear
from kechuang.tiering.models import Assessment
from kechuang.tiering.services import assessments_run
from tests.tiering.conftest import ON, enterprise, hnte_ready, year

pytestmark = pytest.mark.django_db


def statuses(assessment):
    return {item["code"]: item["status"] for item in assessment.explanation if item["kind"] == "condition"}


def test_it_stores_one_assessment_per_enterprise_and_area_with_inputs_and_parameters_version():
    a, b = hnte_ready(enterprise(1)), enterprise(2)
    assert assessments_run(on=ON) == 4
    stored = Assessment.objects.order_by("enterprise_id", "area")
    assert [(s.enterprise_id, s.area) for s in stored] == [
        (a.pk, "hnte"),
        (a.pk, "tech_sme"),
        (b.pk, "hnte"),
        (b.pk, "tech_sme"),
    ]
    first = stored[0]
    assert first.assessed_on == ON
    assert first.parameters_version == rules.parameters_version() and len(first.parameters_version) == 16
    assert first.inputs["enterprise_id"] == str(a.pk)
    assert first.inputs["registration_date"] == "2018-03-01"
    assert first.inputs["sales_revenue_lag1"] == 80000000.0
    assert first.inputs["conversions_lag1"] is None
    assert first.inputs["ip_class_i_count"] == 1
    assert "hnte_h1" not in first.inputs  # the snapshot is the situation row, not the results
    assert first.explanation[0]["code"] == "hnte.H1" and "text" in first.explanation[0]


def test_an_enterprise_meeting_the_hnte_figures_gets_the_expected_condition_statuses():
    ent = hnte_ready(enterprise(1))
    assessments_run(on=ON)
    hnte = Assessment.objects.get(enterprise=ent, area="hnte")
    assert statuses(hnte) == {
        "hnte.H1": "met",
        "hnte.H2": "met",
        "hnte.H3": "unknown",
        "hnte.H4": "met",
        "hnte.H5": "met",
        "hnte.H5b": "met",
        "hnte.H6": "met",
        "hnte.H7": "unknown",
        "hnte.H8": "unknown",
    }
    # Field, incident record and expert scores are not in the registry: unknown, never not met.
    assert hnte.status == "unknown"
    assert (hnte.score_min, hnte.score_max) == (26, 100)
    h5 = next(item for item in hnte.explanation if item["code"] == "hnte.H5")
    assert h5["value"].startswith("近三年研发费用 900万元") and h5["threshold"].startswith("≥4%")
    assert h5["source"] and h5["gap"] == ""


def test_an_unmet_figure_is_stored_as_not_met_with_its_gap():
    ent = hnte_ready(enterprise(1))
    EnterpriseYear.objects.filter(enterprise=ent, year=2025).update(tech_staff=Decimal("10.5"))
    assessments_run(on=ON)
    hnte = Assessment.objects.get(enterprise=ent, area="hnte")
    assert hnte.status == "not_met"
    h4 = next(item for item in hnte.explanation if item["code"] == "hnte.H4")
    assert h4["status"] == "not_met" and "还需增加科技人员约 2 人" in h4["gap"]


def test_a_rerun_replaces_the_assessments_of_that_date_only():
    ent = hnte_ready(enterprise(1))
    assessments_run(on=date(2025, 6, 30))
    assessments_run(on=ON)
    old_ids = set(Assessment.objects.filter(assessed_on=ON).values_list("pk", flat=True))
    EnterpriseYear.objects.filter(enterprise=ent, year=2025).update(sales_revenue=Decimal("90000000"))
    assert assessments_run(on=ON) == 2
    assert Assessment.objects.count() == 4  # two dates × two areas
    assert not old_ids & set(Assessment.objects.filter(assessed_on=ON).values_list("pk", flat=True))
    assert Assessment.objects.get(assessed_on=ON, area="hnte").inputs["sales_revenue_lag1"] == 90000000.0
    assert (
        Assessment.objects.get(assessed_on=date(2025, 6, 30), area="hnte").inputs["sales_revenue_lag1"]
        == 60000000.0
    )


def test_it_assesses_only_the_given_enterprises():
    a, b = enterprise(1), enterprise(2)
    assessments_run(on=ON, enterprises=Enterprise.objects.filter(pk=b.pk))
    assert set(Assessment.objects.values_list("enterprise_id", flat=True)) == {b.pk}
    assessments_run(on=ON)
    assessments_run(on=ON, enterprises=Enterprise.objects.filter(pk=a.pk))
    assert Assessment.objects.filter(enterprise=b).count() == 2  # b's results of that date are kept


def test_the_stored_result_equals_the_one_enterprise_assessment():
    a = hnte_ready(enterprise(1))
    b = enterprise(2)
    year(b, 2025, employees="50", tech_staff="3", sales_revenue="1000000")
    assessments_run(on=ON)
    for ent in (a, b):
        for stored in Assessment.objects.filter(enterprise=ent):
            report = rules.assess(
                {k: v for k, v in stored.inputs.items() if k != "registration_date"}
                | {"registration_date": ent.registration_date},
                ON,
            )
            assert report.statuses[stored.area] == stored.status
            assert [e.as_dict() for e in report.explanations[stored.area]] == stored.explanation


def test_the_command_prints_counts_per_area_and_status(capsys):
    hnte_ready(enterprise(1))
    enterprise(2)
    call_command("assess", on="2026-06-30")
    out = capsys.readouterr().out
    assert "评价日期 2026-06-30：保存评估结果 4 条" in out and "秒" in out
    assert "高新技术企业：满足 0，不满足 1，待定 1" in out  # no IP in the registry: H2 not met
    assert "科技型中小企业：满足 0，不满足 0，待定 2" in out
    assert Assessment.objects.filter(assessed_on=ON).count() == 4


def test_the_command_refuses_a_bad_date():
    with pytest.raises(CommandError, match="评价日期格式应为 YYYY-MM-DD"):
        call_command("assess", on="2026/06/30")
