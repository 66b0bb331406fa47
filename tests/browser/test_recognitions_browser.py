"""认定登记 in the browser, on the demo registry with the recognitions demo: an officer enters a technology contract
(told first, in Chinese, that the 技术交易额 exceeds the 成交额), registers it, finds it in the list, sets its
payment plan and records a payment, and sees the 技术合同成交额 indicator count it; a recognised 高转 project's page
explains its conditions and certificate.

Screenshots go to docs/screenshots/40-tech-contracts.png, 41-tech-contract-detail.png and
42-transformation-project.png."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from kechuang.indicators.computed import COMPUTED
from kechuang.indicators.selectors import _num
from kechuang.recognitions.models import PaymentMilestone, TechContract, TransformationProject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


@pytest.fixture
def recognitions_demo():
    call_command("demo", enterprises=300, verbosity=0)
    call_command("demo_accounts", force=True, verbosity=0)
    call_command("demo_projects", verbosity=0)
    call_command("demo_recognitions", verbosity=0)


def log_in(page, live_server, username="officer", password="kechuang-demo"):
    # The live server's first request loads every app's URLs and templates (the search index among them): slow
    # on a busy machine.
    page.goto(live_server.url + "/accounts/login/", timeout=120_000)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_an_officer_registers_a_contract_tracks_a_payment_and_sees_the_indicator(
    page, live_server, recognitions_demo
):
    seller = TechContract.objects.filter(enterprise__isnull=False).first().enterprise
    before = COMPUTED["tech_contract_turnover"].value(TODAY)
    log_in(page, live_server)

    page.goto(live_server.url + "/recognitions/contracts/new/")
    signed = (TODAY - timedelta(days=20)).isoformat()
    page.fill("#id_contract_no", "SJ-BT-0001")
    page.fill("#id_name", "晶圆缺陷检测算法技术开发（浏览器测试）")
    page.select_option("#id_contract_type", "development")
    page.select_option("#id_sub_type", "entrusted")
    page.fill("#id_seller_name", seller.name)
    page.fill("#id_seller_uscc", seller.uscc)
    page.fill("#id_buyer_name", "上海测试买方科技有限公司")
    page.fill("#id_buyer_region", "310115")
    page.fill("#id_signed_on", signed)
    page.fill("#id_valid_from", signed)
    page.fill("#id_valid_to", (TODAY + timedelta(days=365)).isoformat())
    page.fill("#id_total_amount", "300")
    page.fill("#id_tech_amount", "320")
    page.select_option("#id_payment_mode", "instalments")
    with page.expect_navigation():
        page.click("#contract-form button[type=submit]")
    assert (
        "技术交易额 320.00 万元（3,200,000.00 元）超过成交额 300.00 万元（3,000,000.00 元）"
        in page.inner_text(".form-errors")
    )
    assert not TechContract.objects.filter(contract_no="SJ-BT-0001").exists()
    page.fill("#id_tech_amount", "280")
    with page.expect_navigation():
        page.click("#contract-form button[type=submit]")
    assert "已提交" in page.inner_text(".messages")
    assert page.inner_text("#contract-state") == "待登记"

    # Registration: the number is issued as 年份 + 310117 + 当年序号.
    with page.expect_navigation():
        page.click("#register-form button[type=submit]")
    contract = TechContract.objects.get(contract_no="SJ-BT-0001")
    assert contract.state == "registered" and len(contract.registration_no) == 16
    assert contract.registration_no.startswith(f"{TODAY.year}310117")
    assert contract.registration_no in page.inner_text("#registration-no")

    # The list finds it.
    page.goto(live_server.url + "/recognitions/contracts/")
    page.fill("#q", "浏览器测试")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    rows = page.locator("#contract-rows tbody tr")
    assert rows.count() == 1
    assert contract.registration_no in rows.first.inner_text() and "300.00" in rows.first.inner_text()
    page.goto(live_server.url + "/recognitions/contracts/?sort=-registered")
    assert page.locator("#contract-rows tbody tr").count() >= 20
    shot(page, "40-tech-contracts")

    # The payment plan (two instalments adding up to the 成交额) and a payment against the first.
    page.goto(live_server.url + f"/recognitions/contracts/{contract.pk}/")
    page.click("#plan summary")
    page.fill("#id_plan-0-due_date", (TODAY - timedelta(days=5)).isoformat())
    page.fill("#id_plan-0-amount", "120")
    page.click("#add-plan-row")
    page.fill("#id_plan-1-due_date", (TODAY + timedelta(days=90)).isoformat())
    page.fill("#id_plan-1-amount", "180")
    with page.expect_navigation():
        page.click("#plan-form button[type=submit]")
    assert "付款计划已保存，共 2 期" in page.inner_text(".messages")
    assert "逾期 5 天" in page.inner_text("#milestone-rows")
    first = PaymentMilestone.objects.get(contract=contract, number=1)
    page.click(f"#milestone-{first.pk} summary")
    page.fill(f"#pay-amount-{first.pk}", "120")
    with page.expect_navigation():
        page.click("#pay-1 button[type=submit]")
    assert "已记录第 1 期付款" in page.inner_text(".messages")
    assert "已付清" in page.inner_text(f"#milestone-{first.pk}")
    assert PaymentMilestone.objects.get(pk=first.pk).paid_amount == Decimal("1200000.00")
    assert "120.00 万元" in page.inner_text("#paid")
    shot(page, "41-tech-contract-detail")

    # The indicator counts it: 3,000,000 元 = 0.03 亿元 more this year.
    after = COMPUTED["tech_contract_turnover"].value(TODAY)
    assert after - before == Decimal("0.0300")
    page.goto(live_server.url + "/indicators/tech_contract_turnover/")
    page.wait_for_selector("#series-chart svg")
    assert _num(float(after)) in page.inner_text("body")
    assert "当年认定登记的技术合同成交额" in page.inner_text("body")


def test_a_recognised_project_explains_its_conditions_and_certificate(page, live_server, recognitions_demo):
    project = TransformationProject.objects.filter(state="recognised").order_by("-recognised_on").first()
    log_in(page, live_server)

    page.goto(live_server.url + f"/recognitions/projects/{project.pk}/")

    assert page.inner_text("#project-state") == "已认定"
    assert project.certificate_no in page.inner_text("#certificate-no")
    assert "待核实" in page.inner_text("#validity-note")
    conditions = page.locator("#conditions tbody tr")
    assert conditions.count() == 10
    assert "第六条第（二）项" in page.inner_text("#conditions tr[data-code='core_ip']")
    assert page.locator("#core-ip tbody tr").count() >= 1
    assert page.locator("#reviews tbody tr").count() >= 3
    shot(page, "42-transformation-project")
