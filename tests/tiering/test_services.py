"""Assessment runs and `kechuang assess`: one engine call, stored results, situations and parameters that
replay every result with its explanation, progress, failure without half a run, officers' revisions."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from kechuang import rules
from kechuang.enterprises.models import Enterprise, EnterpriseYear
from kechuang.rules import parameters
from kechuang.tiering import services
from kechuang.tiering.models import AssessedSituation, Assessment, AssessmentRun, ParameterRevision
from kechuang.tiering.services import replay, run_execute, run_now, run_request
from tests.tiering.conftest import ON, enterprise, hnte_ready, year

pytestmark = pytest.mark.django_db


def replayed(run, ent):
    return replay(run=run, situations=[AssessedSituation.objects.get(run=run, enterprise=ent)])[ent.pk]


def test_a_run_stores_one_result_per_enterprise_and_qualification_with_situation_and_parameters():
    a, b = hnte_ready(enterprise(1)), enterprise(2)
    run = run_now(on=ON)
    assert run.status == "done" and run.total == 2 and run.processed == 2 and run.percent == 100
    areas = list(rules.QUALIFICATIONS)
    stored = list(
        Assessment.objects.filter(run=run)
        .order_by("enterprise_id", "id")
        .values_list("enterprise_id", "area")
    )
    assert stored == [(a.pk, area) for area in areas] + [(b.pk, area) for area in areas]
    assert run.parameters.version == parameters.default().version and len(run.parameters.version) == 16
    assert set(run.parameters.texts) >= {"hnte.yaml", "tech_sme.yaml"}
    situation = AssessedSituation.objects.get(run=run, enterprise=a).inputs
    assert situation["registration_date"] == "2018-03-01"
    assert situation["sales_revenue_lag1"] == 80000000.0
    assert situation["ip_class_i_count"] == 1
    assert "conversions_lag1" not in situation  # only what is known is kept; absent means null
    assert "hnte_h1" not in situation  # the situation, not the results


def test_an_enterprise_meeting_the_hnte_figures_gets_the_expected_condition_statuses():
    ent = hnte_ready(enterprise(1))
    run = run_now(on=ON)
    hnte = Assessment.objects.get(run=run, enterprise=ent, area="hnte")
    # Field, incident record and expert scores are not in the registry: unknown, never not met.
    assert (hnte.status, hnte.unmet, hnte.unknown) == ("unknown", 0, 3)
    assert (hnte.score_min, hnte.score_max) == (26, 100)
    report = replayed(run, ent)
    assert {e.code: e.status for e in report.explanations["hnte"] if e.kind == "condition"} == {
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
    h5 = report.explanation("hnte.H5")
    assert h5.value.startswith("近三年研发费用 900万元") and h5.threshold.startswith("≥4%") and h5.gap == ""


def test_an_unmet_figure_is_stored_as_not_met_and_replays_with_its_gap():
    ent = hnte_ready(enterprise(1))
    EnterpriseYear.objects.filter(enterprise=ent, year=2025).update(tech_staff=Decimal("10.5"))
    run = run_now(on=ON)
    hnte = Assessment.objects.get(run=run, enterprise=ent, area="hnte")
    assert (hnte.status, hnte.unmet) == ("not_met", 1)
    h4 = replayed(run, ent).explanation("hnte.H4")
    assert h4.status == "not_met" and "还需增加科技人员约 2 人" in h4.gap


def test_a_replay_gives_the_past_result_after_the_registry_and_the_parameters_have_changed():
    ent = hnte_ready(enterprise(1))
    first = run_now(on=ON)
    before = replayed(first, ent)
    EnterpriseYear.objects.filter(enterprise=ent, year=2025).update(tech_staff=Decimal("10.5"))
    ParameterRevision.objects.create(
        path="hnte.tech_staff_ratio_min", effective_from=date(2016, 1, 1), value=0.05, note="测试修正"
    )
    second = run_now(on=ON)
    assert second.parameters_id != first.parameters_id
    after = replayed(first, ent)
    assert after.statuses == before.statuses
    assert [e.text for e in after.explanations["hnte"]] == [e.text for e in before.explanations["hnte"]]
    now = replayed(second, ent).explanation("hnte.H4")
    assert now.status == "met" and "≥5%" in now.threshold and "测试修正" in now.source  # 8.75% ≥ 5%


def test_the_stored_result_equals_the_one_enterprise_assessment_for_every_enterprise():
    a = hnte_ready(enterprise(1))
    b = enterprise(2)
    year(b, 2025, employees="50", tech_staff="3", sales_revenue="1000000")
    run = run_now(on=ON)
    for ent in (a, b):
        report = replayed(run, ent)
        for stored in Assessment.objects.filter(run=run, enterprise=ent):
            assert report.statuses[stored.area] == stored.status
            column = rules.RESULT_COLUMN[stored.area]
            assert report.row.get(f"{column}_score_min") == stored.score_min
            assert report.row[f"{column}_unmet"] == stored.unmet


def test_runs_of_the_same_date_are_kept_side_by_side():
    ent = hnte_ready(enterprise(1))
    first = run_now(on=ON)
    EnterpriseYear.objects.filter(enterprise=ent, year=2025).update(sales_revenue=Decimal("90000000"))
    second = run_now(on=ON)
    assert AssessedSituation.objects.get(run=first).inputs["sales_revenue_lag1"] == 80000000.0
    assert AssessedSituation.objects.get(run=second).inputs["sales_revenue_lag1"] == 90000000.0


def test_it_assesses_only_the_given_enterprises():
    a, b = enterprise(1), enterprise(2)
    run = run_now(on=ON, enterprises=Enterprise.objects.filter(pk=b.pk))
    assert set(Assessment.objects.filter(run=run).values_list("enterprise_id", flat=True)) == {b.pk}
    assert run.total == 1 and a.pk not in set(
        AssessedSituation.objects.values_list("enterprise_id", flat=True)
    )


def test_a_failing_run_leaves_no_result_and_says_so(monkeypatch):
    for n in range(1, 4):
        enterprise(n)
    monkeypatch.setattr(services, "WRITE_BATCH", 1)
    calls = []
    real = services.insert_rows

    def fail_on_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # two tables per batch: the third batch's first insert
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "insert_rows", fail_on_the_third_batch)
    run = run_now(on=ON)
    assert run.status == "failed" and "已写入的部分结果已撤回" in run.message
    assert not Assessment.objects.filter(run=run).exists()
    assert not AssessedSituation.objects.filter(run=run).exists()


def test_progress_is_written_batch_by_batch(monkeypatch):
    for n in range(1, 4):
        enterprise(n)
    monkeypatch.setattr(services, "WRITE_BATCH", 2)
    seen = []
    real = services._progress

    def record(run, *, stage, processed):
        real(run, stage=stage, processed=processed)
        seen.append((stage, AssessmentRun.objects.get(pk=run.pk).processed, run.total))

    monkeypatch.setattr(services, "_progress", record)
    run_now(on=ON)
    assert seen == [("读取企业数据", 0, 0), ("逐项评价", 0, 3), ("保存结果", 2, 3), ("保存结果", 3, 3)]


@pytest.mark.django_db(transaction=True)  # the worker commits and closes its connection, as in production
def test_a_requested_run_is_queued_and_the_worker_executes_it_once(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    hnte_ready(enterprise(1))
    run = run_request(on=ON)
    assert (run.status, run.total, run.percent) == ("queued", 1, 0)
    assert not Assessment.objects.exists()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    run.refresh_from_db()
    assert run.status == "done" and run.percent == 100
    assert Assessment.objects.filter(run=run).count() == len(rules.QUALIFICATIONS)
    assert run_execute(run=run).status == "done"  # a second execution does nothing
    assert Assessment.objects.filter(run=run).count() == len(rules.QUALIFICATIONS)


def test_the_command_prints_counts_per_qualification_and_status(capsys):
    hnte_ready(enterprise(1))
    enterprise(2)
    call_command("assess", on="2026-06-30")
    out = capsys.readouterr().out
    assert "评价日期 2026-06-30：已评估 2 家企业" in out and "秒" in out
    assert "高新技术企业：满足 0，不满足 1，待定 1" in out  # no IP in the registry: H2 not met
    assert "科技型中小企业：满足 0，不满足 0，待定 2" in out


def test_the_command_can_also_assess_the_same_day_a_year_before(capsys):
    enterprise(1)
    call_command("assess", on="2024-02-29", also_a_year_before=True)
    assert list(AssessmentRun.objects.order_by("pk").values_list("assessed_on", "status")) == [
        (date(2023, 2, 28), "done"),
        (date(2024, 2, 29), "done"),
    ]
    assert "评价日期 2023-02-28" in capsys.readouterr().out


def test_the_command_refuses_a_bad_date():
    with pytest.raises(CommandError, match="评价日期格式应为 YYYY-MM-DD"):
        call_command("assess", on="2026/06/30")


def test_a_revision_of_a_value_the_files_no_longer_hold_is_left_out_not_fatal(caplog):
    ParameterRevision.objects.create(path="hnte.gone", effective_from=date(2016, 1, 1), note="旧参数")
    ParameterRevision.objects.create(
        path="hnte.tech_staff_ratio_min", effective_from=date(2016, 1, 1), value=0.05, note="有效修正"
    )
    in_force = services.parameter_set()
    assert in_force.at("hnte.tech_staff_ratio_min", ON).value == 0.05
    assert [r.path for r in in_force.revisions] == ["hnte.tech_staff_ratio_min"]
    assert "hnte.gone" in caplog.text
    assert run_now(on=ON).status == "done"


def test_the_stored_situation_text_holds_exactly_the_known_columns():
    import json

    import polars as pl

    from kechuang.rules import inputs
    from kechuang.rules.synthetic import population

    frame = population(300)
    encoded = services.situation_json(frame)
    for row, (enterprise_id, text) in zip(frame.iter_rows(named=True), encoded.iter_rows(), strict=True):
        known = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if v is not None}
        assert enterprise_id == int(known.pop("enterprise_id"))
        assert json.loads(text) == known
    nothing_known = inputs.conform(pl.DataFrame({"enterprise_id": ["7"]}))
    assert services.situation_json(nothing_known).row(0) == (7, "{}")
