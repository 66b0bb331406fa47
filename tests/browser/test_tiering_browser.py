"""梯度培育 in the browser, on the demo registry assessed today and a year before: the ladder with its chart and
the year's moves, the pools with gaps and export, one enterprise's assessment and its what-if, a run started
from the page with its progress, the parameters awaiting confirmation and the officer's what-if."""

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from kechuang.tiering.models import Assessment, AssessmentRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def assessed_demo(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    call_command("demo", enterprises=300, verbosity=0)
    call_command("demo_accounts", force=True, verbosity=0)
    call_command("assess", also_a_year_before=True, verbosity=0)
    return AssessmentRun.objects.filter(status="done").latest("assessed_on")


def log_in(page, live_server, username="officer", password="kechuang-demo"):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_the_ladder_shows_each_rung_the_chart_and_the_year_s_moves(page, live_server, assessed_demo, screenshot):
    log_in(page, live_server)
    page.goto(live_server.url + "/tiering/")
    page.wait_for_selector("#top-chart canvas")
    rungs = page.inner_text("#rung-counts")
    for name in ("科技型中小企业", "高新技术企业", "专精特新中小企业", "瞪羚企业", "独角兽企业"):
        assert name in rungs
    met_hnte_held = Assessment.objects.filter(run=assessed_demo, area="innovative_sme", status="met").count()
    assert met_hnte_held > 0 and f"{met_hnte_held}" in page.inner_text("#rung-counts tr:has-text('创新型中小企业')")
    assert "园区" in page.inner_text("#by-park") and "电子信息" in page.inner_text("#by-field")
    moves = page.inner_text("#moves")
    assert "上升" in moves and "下降" in moves  # compared with the run of a year before
    assert page.locator("#no-previous").count() == 0
    screenshot("10-tiering-ladder")


def test_the_hnte_pool_ranks_by_closeness_with_gaps_and_exports(page, live_server, assessed_demo, screenshot):
    log_in(page, live_server)
    page.goto(live_server.url + "/tiering/pools/hnte-cultivation/")
    page.wait_for_selector("#pool-rows tbody tr")
    first = page.inner_text("#pool-rows tbody tr:first-child")
    assert "：" in first  # a gap, in the enterprise's own terms, e.g. 科技人员占职工总数比例：…还需增加科技人员约 N 人
    count_text = page.inner_text("#result-count")
    screenshot("11-tiering-pool-hnte")

    with page.expect_download() as download_info:
        page.click("#export-link")
    content = download_info.value.path().read_bytes()
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert "企业名称" in header and any("差距" in (h or "") for h in header)
    rows = sheet.max_row - 1
    assert str(rows) in count_text.replace(",", "")

    page.goto(live_server.url + "/tiering/pools/expiring/?months=12")
    page.wait_for_selector("#pool-rows")
    assert "天" in page.inner_text("#pool-rows")
    screenshot("12-tiering-pool-expiring")


def test_an_enterprise_s_assessment_and_its_what_if(page, live_server, assessed_demo, screenshot):
    enterprise_id = (
        Assessment.objects.filter(run=assessed_demo, area="hnte", status="not_met")
        .order_by("unmet", "enterprise_id")
        .values_list("enterprise_id", flat=True)
        .first()
    )
    log_in(page, live_server)
    page.goto(live_server.url + f"/tiering/enterprises/{enterprise_id}/")
    page.wait_for_selector("#area-hnte")
    hnte = page.inner_text("#area-hnte")
    assert "国科发火〔2016〕32号" in hnte and "不满足" in hnte
    assert page.locator("#area-srdi").count() == 1 and page.locator("#area-gazelle").count() == 1
    screenshot("13-tiering-enterprise-assessment")

    page.click("text=假设分析")
    page.wait_for_selector("#id_tech_staff_lag1")
    employees = float(page.input_value("#id_employees_lag1") or 0)
    page.fill("#id_tech_staff_lag1", str(int(employees)))  # everyone a tech worker
    page.click("button:has-text('测算')")
    page.wait_for_selector("#what-if-summary")
    assert "科技人员" in page.inner_text("#what-if-summary")
    screenshot("14-tiering-enterprise-what-if")
    page.fill("#id_tech_staff_lag1", "-3")
    page.click("button:has-text('测算')")
    assert "不能为负数" in page.inner_text(".form-errors")


def test_an_officer_starts_a_run_and_watches_it_finish(page, live_server, assessed_demo, screenshot):
    log_in(page, live_server)
    page.goto(live_server.url + "/tiering/runs/")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#run-progress")
    assert "排队" in page.inner_text("#run-progress")
    screenshot("15-tiering-run-queued")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    page.wait_for_selector("#ladder-link", timeout=20000)
    assert "已评估 " in page.inner_text("main")
    screenshot("16-tiering-run-done")


def test_parameters_awaiting_confirmation_and_the_officer_s_what_if(page, live_server, assessed_demo, screenshot):
    log_in(page, live_server)
    page.goto(live_server.url + "/tiering/parameters/")
    listed = page.inner_text("main")
    assert "待核实" in listed and "上海市科技小巨人" in listed
    screenshot("17-tiering-parameters")

    page.goto(live_server.url + "/tiering/what-if/")
    met = Assessment.objects.filter(run=assessed_demo, area="sh_tech_giant_cultivation", status="met").count()
    assert met > 0
    page.select_option("#id_parameter", "sh_giant.cultivation_sales_min")
    page.fill("#id_value", "100000")  # 10亿元 instead of 2000万元: none of the demo's would remain
    page.click("button:has-text('测算')")
    page.wait_for_selector("#what-if-summary")
    cells = page.inner_text("#what-if-summary tr[data-area='sh_tech_giant_cultivation']").split("\t")
    before, after, gained, lost = int(cells[1]), int(cells[2]), cells[3], cells[4]
    assert before == met and after < met  # only the largest demo enterprises pass a 10亿元 bar
    assert gained == "0" and lost == f"−{met - after}"
    screenshot("18-tiering-what-if")
