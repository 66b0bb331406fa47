"""The registry export page: a small list downloads at once; a large one becomes an export job
that the worker runs with the creator's scope as it is then, followed on a page with a progress
bar and downloaded when done. Only its creator and officers see a job."""

import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from kechuang.core.excel import XLSX_CONTENT_TYPE
from kechuang.enterprises import exporting
from kechuang.enterprises.models import Enterprise, EnterpriseYear, ExportJob, Membership

SHEETS = ("企业", "年度数据", "知识产权", "资质")


@pytest.fixture
def registry(personas, settings):
    """The persona enterprises with years (A: 2022 and 2023, B: 2023); jobs stay queued until
    the worker runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    EnterpriseYear.objects.create(enterprise=personas.ent_a, year=2022, employees=Decimal("10"))
    EnterpriseYear.objects.create(enterprise=personas.ent_a, year=2023, employees=Decimal("12"))
    EnterpriseYear.objects.create(enterprise=personas.ent_b, year=2023, employees=Decimal("30"))
    return personas


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def rows_of(content: bytes) -> dict[str, list[tuple]]:
    """(code, year or None) of each data row, by sheet."""
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == [*SHEETS, "说明"]
    found = {}
    for sheet in SHEETS:
        rows = list(workbook[sheet].iter_rows(min_row=2, values_only=True))
        found[sheet] = [(row[0], row[2]) if sheet == "年度数据" else (row[0],) for row in rows]
    return found


def export(client, **params):
    """What the 开始导出 button sends: a POST with the list's filters in the query string."""
    query = urlencode(params)
    return client.post(reverse("enterprises:export") + (f"?{query}" if query else ""))


def job_urls(job: ExportJob) -> list[str]:
    return [
        reverse("enterprises:export-job", args=[job.pk]),
        reverse("enterprises:partial-export-progress", args=[job.pk]),
        reverse("enterprises:export-download", args=[job.pk]),
    ]


# At once.


def test_it_downloads_a_small_export_at_once(client, registry):
    client.force_login(registry.carol)

    response = export(client, park=registry.park_a.pk)

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert rows_of(response.content) == {
        "企业": [(registry.ent_a.uscc,)],
        "年度数据": [(registry.ent_a.uscc, 2022), (registry.ent_a.uscc, 2023)],
        "知识产权": [],
        "资质": [],
    }
    assert not ExportJob.objects.exists()


def test_it_exports_up_to_the_limit_at_once_and_more_as_a_job(client, registry, settings):
    client.force_login(registry.carol)
    settings.EXPORT_SYNC_MAX_ENTERPRISES = 2

    assert export(client).status_code == 200  # 2 enterprises

    settings.EXPORT_SYNC_MAX_ENTERPRISES = 1
    response = export(client)

    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "enterprises:export-job", args=[job.pk]
    )
    assert (job.status, job.total_enterprises, job.created_by) == ("queued", 2, registry.carol)


# In the worker.


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_large_export_in_the_worker(client, registry, settings):
    settings.EXPORT_SYNC_MAX_ENTERPRISES = 0
    client.force_login(registry.carol)
    job_url = export(client, industry="C")["Location"]
    job = ExportJob.objects.get()
    assert job.filters["industry"] == "C"
    progress = client.get(reverse("enterprises:partial-export-progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in progress and '<div style="width:0%"></div>' in progress
    assert "export-download" not in progress
    progress_url = reverse("enterprises:partial-export-progress", args=[job.pk])
    assert "HX-Refresh" not in client.get(progress_url, headers={"HX-Request": "true"})

    run_worker()

    job.refresh_from_db()
    assert (job.status, job.total_enterprises, job.total_rows, job.processed_rows) == ("done", 1, 2, 2)
    assert job.finished_at is not None and job.file_size == len(job.content)
    page = client.get(job_url).content.decode()
    assert "所属行业：C 制造业" in page
    assert reverse("enterprises:export-download", args=[job.pk]) in page
    progress = client.get(reverse("enterprises:partial-export-progress", args=[job.pk])).content.decode()
    assert '<div style="width:100%"></div>' in progress and "hx-trigger" not in progress
    refreshed = client.get(progress_url, headers={"HX-Request": "true"})
    assert refreshed["HX-Refresh"] == "true"  # the page then shows when it finished
    response = client.get(reverse("enterprises:export-download", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    assert rows_of(response.content) == {
        "企业": [(registry.ent_b.uscc,)],
        "年度数据": [(registry.ent_b.uscc, 2023)],
        "知识产权": [],
        "资质": [],
    }


@pytest.mark.django_db(transaction=True)
def test_a_park_operators_job_holds_only_its_parks_enterprises(client, registry, settings):
    settings.EXPORT_SYNC_MAX_ENTERPRISES = 0
    client.force_login(registry.bob)
    export(client, park=registry.zone.pk)  # the zone holds both parks; bob may see park A only
    job = ExportJob.objects.get()

    run_worker()

    job.refresh_from_db()
    assert (job.status, job.total_enterprises) == ("done", 1)
    content = client.get(reverse("enterprises:export-download", args=[job.pk])).content
    assert rows_of(content)["企业"] == [(registry.ent_a.uscc,)]
    assert rows_of(content)["年度数据"] == [(registry.ent_a.uscc, 2022), (registry.ent_a.uscc, 2023)]
    assert load_workbook(io.BytesIO(content))["企业"]["K2"].value == "138****5678"


@pytest.mark.django_db(transaction=True)
def test_it_applies_the_creators_scope_when_the_job_runs(client, registry, settings):
    settings.EXPORT_SYNC_MAX_ENTERPRISES = 0
    client.force_login(registry.bob)
    export(client)
    Membership.objects.filter(user=registry.bob).update(park=registry.park_b)  # bob moves to park B

    run_worker()

    job = ExportJob.objects.get()
    content = client.get(reverse("enterprises:export-download", args=[job.pk])).content
    assert rows_of(content)["企业"] == [(registry.ent_b.uscc,)]


@pytest.mark.django_db(transaction=True)
def test_it_exports_nothing_when_the_creator_lost_the_permission(client, registry, settings):
    settings.EXPORT_SYNC_MAX_ENTERPRISES = 0
    client.force_login(registry.bob)
    export(client)
    registry.bob.groups.clear()

    run_worker()

    job = ExportJob.objects.get()
    assert (job.status, job.message, bytes(job.content)) == ("failed", exporting.EXPORT_NOT_ALLOWED, b"")


def test_it_reports_progress_every_few_thousand_rows(registry, monkeypatch):
    monkeypatch.setattr(exporting, "PROGRESS_EVERY", 2)
    reported = []

    exporting.enterprises_xlsx(Enterprise.objects.all(), user=registry.carol, progress=reported.append)

    assert reported == [2, 4]  # 2 enterprises and 3 years; 说明 is not counted
    assert exporting.export_row_count(Enterprise.objects.all()) == 5


@pytest.mark.parametrize(
    "processed,percent,compressing", [(0, 0, False), (1500, 37, False), (3999, 99, False), (4000, 99, True)]
)
def test_the_progress_partial_shows_the_percent(client, registry, processed, percent, compressing):
    """At most 99% while the job runs: after the last row, the file is still being compressed."""
    job = ExportJob.objects.create(
        created_by=registry.carol, status="running", total_rows=4000, processed_rows=processed
    )
    client.force_login(registry.carol)

    progress = client.get(reverse("enterprises:partial-export-progress", args=[job.pk])).content.decode()

    assert f"已写入 {processed} / 4000 行（{percent}%）" in progress
    assert f'<div style="width:{percent}%"></div>' in progress and 'hx-trigger="every 1s"' in progress
    assert ("正在生成文件" in progress) is compressing


def test_it_does_not_queue_the_same_export_twice(client, registry, settings):
    settings.EXPORT_SYNC_MAX_ENTERPRISES = 0
    client.force_login(registry.carol)

    first, second = export(client, industry="C"), export(client, industry="C")
    other = export(client, industry="I")

    assert first["Location"] == second["Location"] != other["Location"]
    assert ExportJob.objects.count() == 2


def test_a_job_cannot_be_downloaded_before_it_is_done(client, registry):
    job = ExportJob.objects.create(created_by=registry.carol)
    client.force_login(registry.carol)

    assert client.get(reverse("enterprises:export-download", args=[job.pk])).status_code == 404


# Who may see what.


@pytest.mark.parametrize("persona", ["bob", "leo"])
def test_another_user_gets_404_on_a_job(client, registry, persona):
    job = ExportJob.objects.create(created_by=registry.carol, status="done", content=b"xlsx", file_size=4)
    client.force_login(getattr(registry, persona))

    assert [client.get(url).status_code for url in job_urls(job)] == [404, 404, 404]


def test_the_creator_and_officers_see_a_job(client, registry):
    job = ExportJob.objects.create(created_by=registry.bob, status="done", content=b"xlsx", file_size=4)

    for persona in ("bob", "carol"):
        client.force_login(getattr(registry, persona))
        assert [client.get(url).status_code for url in job_urls(job)] == [200, 200, 200], persona
    assert client.get(job_urls(job)[2]).content == b"xlsx"


@pytest.mark.parametrize("persona", ["uma", "eve", "alice"])
def test_it_refuses_roles_without_export_permission(client, registry, persona):
    job = ExportJob.objects.create(created_by=getattr(registry, persona), status="done", content=b"xlsx")
    client.force_login(getattr(registry, persona))

    assert export(client).status_code == 403
    assert [client.get(url).status_code for url in job_urls(job)] == [403, 403, 403]
    assert ExportJob.objects.count() == 1


def test_it_sends_anonymous_users_to_log_in(client, registry):
    job = ExportJob.objects.create(created_by=registry.carol, status="done", content=b"xlsx")

    for url in [reverse("enterprises:export"), *job_urls(job)]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url


def test_a_large_export_asks_before_starting_a_job(client, registry, settings):
    settings.EXPORT_SYNC_MAX_ENTERPRISES = 1
    client.force_login(registry.carol)
    response = client.get(reverse("enterprises:export"), {"sort": "-name"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "开始导出" in body and 'method="post"' in body and "sort=-name" in body
    assert not ExportJob.objects.exists()
