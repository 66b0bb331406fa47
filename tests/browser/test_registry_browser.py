"""Log in, search, open an enterprise, import a file with one bad row and read the error report."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kechuang.enterprises.models import EnterpriseYear, IPAsset, Qualification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username, password):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_officer_logs_in_searches_and_opens_an_enterprise(page, live_server, personas, screenshot):
    for year, sales, rd, staff in ((2023, "52000000", "2600000", "120"), (2024, "61000000", "3300000", "135"), (2025, "70500000", "3900000", "150")):
        EnterpriseYear.objects.create(
            enterprise=personas.ent_a, year=year, sales_revenue=Decimal(sales), rd_expense_hnte=Decimal(rd), employees=Decimal(staff)
        )
    IPAsset.objects.create(enterprise=personas.ent_a, ip_type="invention", number="ZL202310000001.5", title="一种基站天线校准方法")
    today = timezone.localdate()
    Qualification.objects.create(enterprise=personas.ent_a, kind="hnte", issue_date=today - timedelta(days=1000), certificate_no="GR202331000001")

    log_in(page, live_server, "carol", "pass-carol")
    page.wait_for_selector("#enterprise-table")
    assert page.locator("#enterprise-table tbody tr").count() == 2
    screenshot("01-registry-list")

    page.fill("#q", "甲科技")
    page.click("form.filters button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#enterprise-table tbody tr').length === 1")
    assert "上海甲科技有限公司" in page.inner_text("#enterprise-table")
    assert "q=" in page.url  # the search is in the address, so it can be bookmarked
    screenshot("02-registry-search")

    page.click("text=上海甲科技有限公司")
    page.wait_for_selector("#trend-chart canvas")
    assert page.inner_text("h1").startswith("上海甲科技有限公司")
    years = page.inner_text("#years-table")
    assert "2025年" in years and "7,050.00" in years  # 70,500,000 yuan shown in 万元
    assert "Ⅰ类" in page.inner_text("#ip-table")
    assert re.search(r"\d+ 天后到期", page.inner_text("#qualification-table"))
    screenshot("03-enterprise-detail")


def test_a_failed_login_is_explained(page, live_server, personas, screenshot):
    log_in(page, live_server, "carol", "wrong-password")
    assert "用户名或密码错误" in page.inner_text(".form-errors")
    screenshot("00-login-error")
