"""评估批次 pages: the list, starting a run (officers only, with the date checked), the run's page and
its progress partial (HTML polled by HTMX, or JSON) as the run goes from queued to done."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kechuang import rules
from kechuang.tiering import services
from kechuang.tiering.forms import a_year_after
from kechuang.tiering.models import Assessment, AssessmentRun
from kechuang.tiering.services import RUN_FAILED, run_execute, run_now

pytestmark = pytest.mark.django_db

RUNS = "/tiering/runs/"


def progress(run):
    return reverse("tiering:partial-run-progress", args=[run.pk])


def test_the_urls():
    assert reverse("tiering:runs") == RUNS
    assert reverse("tiering:run", args=[7]) == "/tiering/runs/7/"
    assert reverse("tiering:partial-run-progress", args=[7]) == "/tiering/runs/7/progress/"


# ---- who may see and start runs ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["carol", "leo", "bob"])
def test_officers_leaders_and_park_operators_see_the_runs(client, personas, persona):
    run_now(on=date(2026, 6, 30))
    client.force_login(getattr(personas, persona))
    response = client.get(RUNS)
    assert response.status_code == 200
    assert [r.assessed_on for r in response.context["page"].object_list] == [date(2026, 6, 30)]
    page = response.content.decode()
    assert ('id="run-form"' in page) == (persona == "carol")


@pytest.mark.parametrize("persona", ["alice", "uma", "eve"])
def test_enterprise_university_and_expert_users_are_refused(client, personas, persona):
    run = run_now(on=date(2026, 6, 30))
    client.force_login(getattr(personas, persona))
    for url in (RUNS, reverse("tiering:run", args=[run.pk]), progress(run)):
        assert client.get(url).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, personas):
    run = run_now(on=date(2026, 6, 30))
    for url in (RUNS, reverse("tiering:run", args=[run.pk]), progress(run)):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["leo", "bob"])
def test_only_officers_may_start_a_run(client, personas, persona):
    client.force_login(getattr(personas, persona))
    assert client.post(RUNS, {"assessed_on": "2026-06-30"}).status_code == 403
    assert not AssessmentRun.objects.exists()


def test_an_unknown_run_is_not_found(client, personas):
    client.force_login(personas.carol)
    assert client.get("/tiering/runs/999999/").status_code == 404


# ---- starting a run ---------------------------------------------------------------------------------------


def test_the_form_proposes_today(client, personas):
    client.force_login(personas.carol)
    page = client.get(RUNS).content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in page


def test_an_officer_starts_a_run_and_is_sent_to_its_page(client, personas):
    client.force_login(personas.carol)
    response = client.post(RUNS, {"assessed_on": "2026-06-30"})
    run = AssessmentRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tiering/runs/{run.pk}/"
    assert (run.assessed_on, run.status, run.created_by, run.total) == (
        date(2026, 6, 30),
        "queued",
        personas.carol,
        2,
    )
    page = client.get(response["Location"]).content.decode()
    assert "已发起 2026-06-30 的梯度评估" in page
    assert f'hx-get="{progress(run)}" hx-trigger="every 1s"' in page
    assert "排队中" in page and "已完成 0 / 2 家企业（0%）" in page


def test_the_run_is_handed_to_the_worker_when_the_request_commits(
    client, personas, django_capture_on_commit_callbacks
):
    # The test settings' worker is the immediate backend: the task runs as soon as it is enqueued.
    client.force_login(personas.carol)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(RUNS, {"assessed_on": "2026-06-30"})
    run = AssessmentRun.objects.get()
    assert (run.status, run.processed, run.total) == ("done", 2, 2)
    assert Assessment.objects.filter(run=run).count() == 2 * len(rules.QUALIFICATIONS)


@pytest.mark.parametrize(
    "value, message",
    [
        ("1999-12-31", "评价日期 1999-12-31 早于 2000-01-01：请填写 2000 年以后的日期。"),
        ("2026-13-01", "评价日期“2026-13-01”不是有效的日期，请按 YYYY-MM-DD 填写（如 2026-06-30）。"),
        ("明天", "评价日期“明天”不是有效的日期，请按 YYYY-MM-DD 填写（如 2026-06-30）。"),
        ("", "请填写评价日期。"),
    ],
)
def test_a_bad_date_is_refused_with_a_message_naming_the_field_and_value(client, personas, value, message):
    client.force_login(personas.carol)
    response = client.post(RUNS, {"assessed_on": value})
    assert response.status_code == 200
    assert response.context["form"].errors["assessed_on"] == [message]
    assert message in response.content.decode()
    assert not AssessmentRun.objects.exists()


def test_a_date_more_than_a_year_ahead_is_refused(client, personas):
    today = timezone.localdate()
    limit = a_year_after(today)
    client.force_login(personas.carol)
    too_late = limit + timedelta(days=1)
    response = client.post(RUNS, {"assessed_on": too_late.isoformat()})
    assert response.context["form"].errors["assessed_on"] == [
        f"评价日期 {too_late.isoformat()} 晚于一年以后（{limit.isoformat()}）：最多只能评价到一年以后的日期。"
    ]
    assert client.post(RUNS, {"assessed_on": limit.isoformat()}).status_code == 302
    assert client.post(RUNS, {"assessed_on": "2000-01-01"}).status_code == 302


# ---- the run's page and its progress -------------------------------------------------------------------------


def test_the_progress_follows_the_run_from_queued_to_done(client, personas):
    client.force_login(personas.carol)
    client.post(RUNS, {"assessed_on": "2026-06-30"})
    run = AssessmentRun.objects.get()

    queued = client.get(progress(run), {"format": "json"}).json()
    assert queued == {
        "id": run.pk,
        "status": "queued",
        "status_label": "排队中",
        "stage": "排队等待后台处理",
        "processed": 0,
        "total": 2,
        "percent": 0,
        "finished": False,
        "message": "",
    }
    html = client.get(progress(run), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in html
    assert (
        'hx-trigger="every 1s"' in html.content.decode() and 'data-status="queued"' in html.content.decode()
    )

    AssessmentRun.objects.filter(pk=run.pk).update(status="running", stage="保存结果", processed=1)
    running = client.get(progress(run), HTTP_ACCEPT="application/json").json()
    assert (running["status"], running["stage"], running["processed"], running["percent"]) == (
        "running",
        "保存结果",
        1,
        50,
    )
    assert "保存结果：已完成 1 / 2 家企业（50%）" in client.get(progress(run)).content.decode()

    AssessmentRun.objects.filter(pk=run.pk).update(status="queued", processed=0)
    run_execute(run=run)
    done = client.get(progress(run), {"format": "json"}).json()
    assert (done["status"], done["processed"], done["total"], done["percent"], done["finished"]) == (
        "done",
        2,
        2,
        100,
        True,
    )
    assert done["message"].startswith("已评估 2 家企业")
    finished = client.get(progress(run), HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"  # the page reloads to show the results
    assert (
        "hx-get" not in finished.content.decode()
        and "已完成 2 / 2 家企业（100%）" in finished.content.decode()
    )


def test_a_done_run_shows_the_counts_in_the_users_scope_and_links_to_the_ladder(client, personas):
    run = run_now(on=date(2026, 6, 30))
    Assessment.objects.filter(run=run).update(status="not_met")
    Assessment.objects.filter(run=run, area="tech_sme").update(status="met")
    client.force_login(personas.carol)
    response = client.get(reverse("tiering:run", args=[run.pk]))
    tech_sme = next(r for r in response.context["rungs"] if r.area == "tech_sme")
    assert (response.context["assessed"], tech_sme.met) == (2, 2)
    page = response.content.decode()
    assert f'href="/tiering/?run={run.pk}"' in page and 'id="rung-counts"' in page
    client.force_login(personas.bob)  # park A's operator: enterprise A only
    response = client.get(reverse("tiering:run", args=[run.pk]))
    tech_sme = next(r for r in response.context["rungs"] if r.area == "tech_sme")
    assert (response.context["assessed"], tech_sme.met) == (1, 1)


def test_a_failed_run_shows_its_message(client, personas):
    run = AssessmentRun.objects.create(
        assessed_on=date(2026, 6, 30), status="failed", message=RUN_FAILED, stage="逐项评价"
    )
    client.force_login(personas.carol)
    response = client.get(reverse("tiering:run", args=[run.pk]))
    page = response.content.decode()
    assert RUN_FAILED in page and "失败" in page and "hx-get" not in page
    assert "rungs" not in response.context and 'id="ladder-link"' not in page


def test_the_list_shows_date_status_size_time_parameters_and_who(client, personas):
    run = run_now(on=date(2026, 6, 30), user=personas.carol)
    queued = services.run_request(on=date(2025, 6, 30), user=personas.carol)
    client.force_login(personas.leo)
    page = client.get(RUNS).content.decode()
    row = page[page.index(f'data-run="{run.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "2026-06-30" in row and "已完成" in row and ">2<" in row
    assert f"{run.seconds:.1f}" in row and run.parameters_id in row and "carol" in row
    queued_row = page[page.index(f'data-run="{queued.pk}"') :]
    assert "排队中" in queued_row[: queued_row.index("</tr>")]
    # The newest first.
    assert page.index(f'data-run="{queued.pk}"') < page.index(f'data-run="{run.pk}"')


def test_the_runs_list_runs_a_fixed_number_of_queries(client, personas, django_assert_max_num_queries):
    for day in range(1, 26):
        AssessmentRun.objects.create(assessed_on=date(2026, 1, day), created_by=personas.carol, status="done")
    client.force_login(personas.carol)
    with django_assert_max_num_queries(10):
        assert client.get(RUNS).status_code == 200
