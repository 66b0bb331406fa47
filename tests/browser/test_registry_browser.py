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
    assert page.inner_text("#result-count") == "共 1 家企业（已筛选）"
    assert "q=%E7%94%B2%E7%A7%91%E6%8A%80" in page.get_attribute("#export-link", "href")  # export what is shown
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


def test_officer_imports_a_file_with_one_bad_row_and_reads_the_report(page, live_server, personas, screenshot, tmp_path):
    from openpyxl import load_workbook

    from kechuang.core.uscc import make_code
    from kechuang.enterprises.models import Enterprise

    log_in(page, live_server, "carol", "pass-carol")
    page.click("nav summary:text-is('企业')")  # the top bar's menu (base.html) opens
    page.click("nav >> text=数据导入")
    page.wait_for_selector("text=下载模板")
    screenshot("04-import-page")

    # The officer downloads the real template, fills three rows in Excel (here: openpyxl), one of
    # them with a code whose check character is wrong.
    with page.expect_download() as download:
        page.click("text=企业基本信息模板（.xlsx）")
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    workbook = load_workbook(template)
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    good_1, good_2 = make_code("91310117MA1P00001"), make_code("91310117MA1P00002")
    bad = make_code("91310117MA1P00003")[:17] + ("0" if make_code("91310117MA1P00003")[17] != "0" else "1")
    for code, name in ((good_1, "上海丙导入测试有限公司"), (bad, "上海丁导入测试有限公司"), (good_2, "上海戊导入测试有限公司")):
        row = {"统一社会信用代码": code, "企业名称": name, "所在园区": "临港松江科技园"}
        sheet.append([row.get(h) for h in headers])
    upload = tmp_path / "企业名单.xlsx"
    workbook.save(upload)

    page.goto(live_server.url + "/enterprises/import/")
    page.set_input_files("input[type=file]", str(upload))
    page.click("text=上传并导入")
    page.wait_for_selector("table.report")
    report = page.inner_text("table.report")
    assert "3" in report and "统一社会信用代码" in report and bad in report
    assert "统一社会信用代码校验位错误" in report
    # All or nothing by default: the two good rows were not imported either.
    assert not Enterprise.objects.filter(name__endswith="导入测试有限公司").exists()
    screenshot("05-import-error-report")

    # The officer chooses to import only the valid rows.
    page.goto(live_server.url + "/enterprises/import/")
    page.set_input_files("input[type=file]", str(upload))
    page.check("input[name=valid_only]")
    page.click("text=上传并导入")
    page.wait_for_selector("table.report")
    assert sorted(Enterprise.objects.filter(name__endswith="导入测试有限公司").values_list("name", flat=True)) == [
        "上海丙导入测试有限公司",
        "上海戊导入测试有限公司",
    ]
    screenshot("06-import-valid-rows")
