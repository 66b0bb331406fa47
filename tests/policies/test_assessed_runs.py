"""An item whose eligibility reads the rules engine's result ("assessed" conditions): a run reads a finished tiering
run's stored results when one covers its date and parameters, and records it; otherwise the engine evaluates the
registry during the run. Both paths give the same benefits on the fixture registry."""

import datetime as dt
from decimal import Decimal

import pytest

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, EnterpriseYear, Qualification
from kechuang.policies import services
from kechuang.policies.frame import policy_frame
from kechuang.policies.models import Benefit
from kechuang.policies.periods import Period
from kechuang.tiering import services as tiering_services
from kechuang.tiering.models import Assessment, AssessmentRun, ParameterSnapshot
from tests.policies.conftest import ON, PERIOD, make_item

pytestmark = pytest.mark.django_db

AREAS = ("tech_sme", "hnte", "innovative_sme")
ASSESSED = [
    {
        "kind": "any",
        "conditions": [
            {"kind": "qualification", "qualification": "tech_sme", "test": "held"},
            *({"kind": "assessed", "area": area} for area in AREAS),
        ],
    }
]


def assessed_item(pf, name):
    return make_item(
        user=pf.carol,
        name=name,
        kind="subsidy",
        eligibility=ASSESSED,
        formula="award",
        parameters={"award": {"label": "补贴金额", "value": 50000, "unit": "元"}},
    )


def outcome(run):
    """Per enterprise: what a run stored for it (state, amount, reason, explanation, inputs)."""
    return {
        b.enterprise_id: (b.state, b.amount, b.reason, b.explanation, b.inputs)
        for b in Benefit.objects.filter(run=run)
    }


@pytest.fixture
def varied(pf):
    """Enough figures that the engine's results differ between enterprises (met, not met, unknown)."""
    for enterprise, revenue, staff in ((pf.ent_a, "30000000", 80), (pf.ent_c, "1000000", 5)):
        EnterpriseYear.objects.update_or_create(
            enterprise=enterprise,
            year=2025,
            defaults={
                "sales_revenue": Decimal(revenue),
                "employees": staff,
                "tech_staff": staff // 2,
                "rd_expense": Decimal(revenue) / 10,
            },
        )
    return pf


def test_a_run_reads_a_finished_tiering_run_of_its_date_and_gives_the_same_benefits_as_evaluating(varied):
    pf = varied
    tiering = tiering_services.run_now(on=ON)
    assert tiering.status == "done"
    live = services.run_now(
        item=assessed_item(pf, "评价（当场）"), period_text=PERIOD, as_of=ON, use_assessment_run=False
    )
    stored = services.run_now(item=assessed_item(pf, "评价（已存）"), period_text=PERIOD, as_of=ON)
    assert live.assessment_run is None and "当场评价" in live.message
    assert stored.assessment_run == tiering
    assert f"取自梯度评估批次 {tiering.pk}（评价日期 2026-06-30）" in stored.message
    assert stored.parameters_id == live.parameters_id == tiering.parameters_id
    assert outcome(stored) == outcome(live)
    assert live.counts == stored.counts and live.total_amount == stored.total_amount
    # Not trivial: granted on the engine's "met", undetermined on its "unknown".
    assert {state for state, *_ in outcome(live).values()} == {"computed", "undetermined"}


def test_the_frames_of_both_paths_are_identical_for_every_area(varied):
    tiering = tiering_services.run_now(on=ON)
    everything = Enterprise.objects.all()
    period = Period.parse(PERIOD)
    evaluated = policy_frame(enterprises=everything, on=ON, period=period, assessed=True, columns=None)
    read = policy_frame(
        enterprises=everything, on=ON, period=period, assessed=True, columns=None, assessment_run=tiering
    )
    assessed = [c for c in evaluated.columns if c.startswith("assessed_")]
    assert len(assessed) == 13
    assert (
        read.select("enterprise_id", *assessed).to_dicts()
        == evaluated.select("enterprise_id", *assessed).to_dicts()
    )
    statuses = {s for c in assessed for s in evaluated[c].to_list()}
    assert statuses == {"met", "not_met", "unknown"}


def test_the_stored_results_are_what_the_run_reads(pf):
    """Proof the stored path is taken: a result changed in the tiering run is what the policy run grants on, and
    the benefit's inputs keep it (so the run replays exactly)."""
    tiering = tiering_services.run_now(on=ON)
    Assessment.objects.filter(run=tiering, enterprise=pf.ent_c).update(status="not_met")
    Assessment.objects.filter(run=tiering, enterprise=pf.ent_c, area="tech_sme").update(status="met")
    run = services.run_now(item=assessed_item(pf, "评价（已存）"), period_text=PERIOD, as_of=ON)
    c = Benefit.objects.get(run=run, enterprise=pf.ent_c)
    assert (c.state, c.amount) == ("computed", Decimal("50000.00"))
    assert c.inputs["assessed_tech_sme"] == "met"
    replayed = services.replay(run=run).filter(enterprise_id=pf.ent_c.pk).row(0, named=True)
    assert (replayed["outcome"], replayed["amount"]) == ("granted", 50000)


@pytest.mark.parametrize("mismatch", ["date", "parameters", "failed"])
def test_a_tiering_run_of_another_date_other_parameters_or_not_finished_is_not_used(pf, mismatch):
    tiering = tiering_services.run_now(on=ON if mismatch != "date" else ON - dt.timedelta(days=1))
    if mismatch == "parameters":
        other = ParameterSnapshot.objects.create(version="0" * 16, texts={})
        AssessmentRun.objects.filter(pk=tiering.pk).update(parameters=other)
    if mismatch == "failed":
        AssessmentRun.objects.filter(pk=tiering.pk).update(status=AssessmentRun.Status.FAILED)
    run = services.run_now(item=assessed_item(pf, "评价"), period_text=PERIOD, as_of=ON)
    assert run.status == "done" and run.assessment_run is None
    assert "当场评价" in run.message


def test_the_latest_covering_tiering_run_is_used(pf):
    tiering_services.run_now(on=ON)
    latest = tiering_services.run_now(on=ON)
    run = services.run_now(item=assessed_item(pf, "评价"), period_text=PERIOD, as_of=ON)
    assert run.assessment_run == latest


def test_an_item_without_assessed_conditions_uses_no_tiering_run(pf):
    tiering_services.run_now(on=ON)
    run = services.run_now(item=pf.item, period_text=PERIOD, as_of=ON)
    assert run.assessment_run is None and run.parameters_id is None
    assert "评价结果" not in run.message


def test_an_enterprise_registered_after_the_tiering_run_is_evaluated_during_the_run(varied):
    pf = varied
    tiering = tiering_services.run_now(on=ON)
    newcomer = Enterprise.objects.create(
        uscc=make_code("91310117MA1J00009"),
        name="上海新设科技有限公司",
        registration_date=dt.date(2025, 1, 1),
    )
    Qualification.objects.create(enterprise=newcomer, kind="hnte", issue_date=dt.date(2025, 12, 1))
    assert not Assessment.objects.filter(run=tiering, enterprise=newcomer).exists()
    live = services.run_now(
        item=assessed_item(pf, "评价（当场）"), period_text=PERIOD, as_of=ON, use_assessment_run=False
    )
    stored = services.run_now(item=assessed_item(pf, "评价（已存）"), period_text=PERIOD, as_of=ON)
    assert stored.assessment_run == tiering
    assert outcome(stored) == outcome(live)
    assert stored.total == live.total == 5
    frame = policy_frame(
        enterprises=Enterprise.objects.filter(pk=newcomer.pk),
        on=ON,
        period=Period.parse(PERIOD),
        assessed=True,
        columns=["assessed_tech_sme"],
        assessment_run=tiering,
    )
    assert frame["assessed_tech_sme"].null_count() == 0


def test_the_api_names_the_tiering_run_a_run_read(pf):
    from django.test import Client

    tiering = tiering_services.run_now(on=ON)
    stored = services.run_now(item=assessed_item(pf, "评价（已存）"), period_text=PERIOD, as_of=ON)
    plain = services.run_now(item=pf.item, period_text=PERIOD, as_of=ON)
    client = Client()
    client.force_login(pf.carol)
    assert client.get(f"/api/policies/runs/{stored.pk}").json()["assessment_run_id"] == tiering.pk
    assert client.get(f"/api/policies/runs/{plain.pk}").json()["assessment_run_id"] is None
    page = client.get(f"/policies/runs/{stored.pk}/").content.decode()
    assert f'<span id="run-assessment">评价结果取自梯度评估批次 {tiering.pk}</span>' in page
