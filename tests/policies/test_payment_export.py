"""The payment list (兑付名单): short lists download at once; long ones (more than exporting.PAYMENT_SYNC_MAX rows)
are written by the worker with progress and a download; the file opens with openpyxl with its header, one row per
benefit to pay and the total; a failure says so in Chinese and leaves no file."""

import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from kechuang.policies import exporting, services
from kechuang.policies.models import Benefit, PaymentExport
from tests.policies.conftest import ON, PERIOD, make_item

pytestmark = pytest.mark.django_db


def client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def confirmed(pf):
    """A confirmed run granting every enterprise in business (A, B, C) 1,234.5 → 1,235 元 each; A then accepts."""
    item = make_item(
        user=pf.carol,
        name="全部在营企业（测试）",
        kind="subsidy",
        eligibility=[],
        formula="award",
        parameters={"award": {"label": "补贴金额", "value": 1234.5, "unit": "元"}},
    )
    run = services.run_now(item=item, period_text=PERIOD, as_of=ON)
    services.run_transition(run=run, name="confirm", user=pf.carol)
    services.benefit_accept(benefit=Benefit.objects.get(run=run, enterprise=pf.ent_a), user=pf.alice)
    pf.run = run
    return pf


@pytest.fixture
def long_lists(monkeypatch):
    """Every list counts as long, so the fixture's run goes through the worker."""
    monkeypatch.setattr(exporting, "PAYMENT_SYNC_MAX", 0)


def sheet_rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content))["兑付名单"].iter_rows(values_only=True))


def test_a_list_at_the_limit_downloads_at_once(confirmed, monkeypatch):
    monkeypatch.setattr(exporting, "PAYMENT_SYNC_MAX", 3)
    response = client(confirmed.carol).get(f"/policies/runs/{confirmed.run.pk}/payments.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert len(sheet_rows(response.content)) == 1 + 3 + 1
    assert not PaymentExport.objects.exists()


def test_a_long_list_is_written_by_the_worker_with_progress_and_a_download(
    confirmed, monkeypatch, django_capture_on_commit_callbacks
):
    pf, url = confirmed, f"/policies/runs/{confirmed.run.pk}/payments.xlsx"
    monkeypatch.setattr(exporting, "PAYMENT_SYNC_MAX", 2)  # one row over the limit
    c = client(pf.carol)
    page = c.get(url).content.decode()
    assert '<strong id="payment-rows">3</strong> 户' in page and "后台生成兑付名单" in page
    assert not PaymentExport.objects.exists()  # a GET starts nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(url)
    job = PaymentExport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/policies/payment-exports/{job.pk}/"
    assert (job.status, job.total_rows, job.processed_rows) == ("done", 3, 3)
    assert job.message == "已生成兑付名单：3 户，合计 3,705.00 元。"
    page = c.get(response["Location"]).content.decode()
    assert "已写入 3 / 3 户（100%）" in page and 'id="payment-export-download"' in page
    download = c.get(f"/policies/payment-exports/{job.pk}/download/")
    assert "attachment" in download["Content-Disposition"]
    rows = sheet_rows(download.content)
    assert rows[0] == tuple(exporting.PAYMENT_HEADERS)
    body, total = rows[1:-1], rows[-1]
    benefits = Benefit.objects.filter(run=pf.run).select_related("enterprise").order_by("enterprise__name")
    assert [(r[0], r[1], r[2], r[4], r[5], r[7]) for r in body] == [
        (n, b.enterprise.name, b.enterprise.uscc, "2026年度", 1235, b.get_state_display())
        for n, b in enumerate(benefits, 1)
    ]
    assert {r[7] for r in body} == {"企业已确认", "已确认（待企业确认）"}
    assert all(r[10].startswith("符合全部") for r in body)
    assert (
        total[1] == "合计"
        and total[4] == "共 3 户"
        and total[5] == 3705
        and total[6] == pytest.approx(0.3705)
    )
    assert sum(r[5] for r in body) == total[5] == float(sum(b.amount for b in benefits))


def test_the_same_list_asked_twice_while_queued_is_one_job(confirmed, long_lists):
    c = client(confirmed.carol)
    url = f"/policies/runs/{confirmed.run.pk}/payments.xlsx"
    first, second = c.post(url), c.post(url)  # on_commit not run: the job stays queued
    assert first["Location"] == second["Location"]
    job = PaymentExport.objects.get()
    assert job.status == "queued"
    page = c.get(first["Location"]).content.decode()
    assert "已排队，等待后台处理" in page and 'hx-trigger="every 1s"' in page
    assert c.get(f"/policies/payment-exports/{job.pk}/download/").status_code == 404


def test_a_failure_says_so_in_chinese_and_leaves_no_file(
    confirmed, long_lists, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exporting, "payment_xlsx", broken)
    c = client(confirmed.carol)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(f"/policies/runs/{confirmed.run.pk}/payments.xlsx")
    job = PaymentExport.objects.get()
    assert (job.status, job.file_size, bytes(job.content)) == ("failed", 0, b"")
    page = c.get(response["Location"]).content.decode()
    assert "兑付名单生成失败，未生成文件。请稍后重新导出" in page and "payment-export-download" not in page
    assert c.get(f"/policies/payment-exports/{job.pk}/download/").status_code == 404


def test_only_its_creator_and_run_officers_see_a_job(
    confirmed, long_lists, django_capture_on_commit_callbacks
):
    pf = confirmed
    with django_capture_on_commit_callbacks(execute=True):
        location = client(pf.carol).post(f"/policies/runs/{pf.run.pk}/payments.xlsx")["Location"]
    assert client(pf.leo).get(location).status_code == 403  # may not export payment lists
    assert client(pf.alice).get(location).status_code == 403
    assert client(pf.carol).get(location).status_code == 200


def test_the_payment_rows_are_read_without_model_objects(confirmed):
    rows = exporting.payment_rows(confirmed.run)
    assert all(type(row) is tuple and len(row) == 9 for row in rows)
    assert [row[4] for row in rows] == [Decimal("1235.00")] * 3
    assert all(isinstance(row[8], str) and row[8].startswith("符合全部") for row in rows)
