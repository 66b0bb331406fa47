"""统计监测 in the browser, on the demo registry with the catalogue (loaded by migrate) and its demo observations:
an officer records an observation through an indicator's form (and is told what is wrong first), the dashboard
draws its trend charts with the target line and its bar charts by park and field, prints on A4, and a computed
indicator's page leads to the enterprises behind its number, as many as the dashboard shows.

The indicators the assertions are about are made here (codes bt_*), so that they hold whatever the catalogue
holds; the catalogue's own rows are on the page too, as an officer would see them."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from kechuang.indicators.computed import COMPUTED
from kechuang.indicators.models import (
    DocumentedFigure,
    Indicator,
    Observation,
    PlanTask,
    ResponsibleUnit,
    Target,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate()
Y = TODAY.year


def figure(ind, kind, year, value, document, place):
    return DocumentedFigure.objects.create(
        indicator=ind,
        kind=kind,
        year=year,
        text=str(value),
        value=Decimal(str(value)),
        document=document,
        place=place,
        quote=f"{ind.name}{value}",
    )


def document_target(ind, year, value, baseline_year, baseline_value, document):
    figure(ind, "baseline", baseline_year, baseline_value, document, f"附件1 {baseline_year}年")
    source = figure(ind, "target", year, value, document, f"附件1 {year}年目标")
    return Target.objects.create(
        indicator=ind,
        year=year,
        value=Decimal(str(value)),
        baseline_year=baseline_year,
        baseline_value=Decimal(str(baseline_value)),
        figure=source,
    )


@pytest.fixture
def monitoring_demo():
    call_command("demo", enterprises=300, verbosity=0)
    call_command("demo_accounts", force=True, verbosity=0)
    call_command("demo_indicators", verbosity=0)  # the catalogue's hand-recorded indicators, before ours
    patents = Indicator.objects.create(
        code="bt_patents",
        name="企业发明专利授权量（测试指标）",
        unit="件",
        data_source="区知识产权局",
        scope="张江高新区松江园",
        value_min=0,
        value_max=100000,
    )
    figure(patents, "history", Y - 4, 90, "004", f"附件1 {Y - 4}年")
    document_target(patents, Y + 1, 200, Y - 3, 100, "004")
    hnte = Indicator.objects.create(
        code="bt_hnte",
        name="有效期内高新技术企业（测试指标）",
        unit="家",
        data_source="区科委",
        computed="hnte_valid",
    )
    document_target(hnte, Y + 2, 400, Y - 2, 20, "000")
    return patents, hnte


def log_in(page, live_server, username="officer", password="kechuang-demo"):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


CHART_OPTION = """el => {
  const option = echarts.getInstanceByDom(el).getOption();
  return {
    series: option.series.map(s => ({name: s.name, type: s.type, points: s.data.length,
                                     markPoints: (s.markPoint && s.markPoint.data || []).length})),
    drawn: el.querySelectorAll("svg path").length,
  };
}"""


def test_an_officer_records_an_observation_and_the_dashboard_charts_it_against_the_target(
    page, live_server, monitoring_demo, screenshot
):
    patents, _ = monitoring_demo
    log_in(page, live_server)
    page.goto(live_server.url + "/indicators/bt_patents/")
    page.wait_for_selector("#series-chart svg")
    # A value outside the indicator's range: the service's words next to the field, nothing saved.
    page.fill("#id_year", str(Y - 1))
    page.fill("#id_value", "1000000")
    page.fill("#id_source", "区知识产权局年报")
    with page.expect_navigation():
        page.click("#record-form button[type=submit]")
    assert "超出“企业发明专利授权量（测试指标）”（单位：件）的合理范围" in page.inner_text("#error-value")
    assert not Observation.objects.filter(indicator=patents).exists()
    page.fill("#id_value", "150")
    with page.expect_navigation():
        page.click("#record-form button[type=submit]")
    page.wait_for_selector("#observation-table")
    assert f"已录入 全区 {Y - 1}年" in page.inner_text(".messages")
    row = page.inner_text("#observation-table tbody tr:first-child")
    assert "150" in row and "区知识产权局年报" in row and "录入 150" in row
    assert Observation.objects.get(indicator=patents).value == 150

    page.goto(live_server.url + "/indicators/?by=bt_hnte")
    page.wait_for_selector("#trend-bt_patents svg")
    page.wait_for_selector("#park-chart svg")
    chart = page.eval_on_selector("#trend-bt_patents", CHART_OPTION)
    actual, *targets = chart["series"]
    assert actual["name"] == "实际值" and actual["points"] == 3  # history, baseline, the observation
    target = next(s for s in targets if s["name"].endswith("年目标"))
    assert target["name"] == f"{Y + 1}年目标" and target["points"] == 2 and target["markPoints"] == 1
    assert chart["drawn"] > 10  # axes, lines and symbols as SVG paths
    bars = page.eval_on_selector("#park-chart", CHART_OPTION)
    assert bars["series"][0]["type"] == "bar" and bars["series"][0]["points"] >= 7 and bars["drawn"] > 7
    row = page.inner_text("#target-table tr[data-indicator='bt_patents']")
    assert "150 件" in row and "业务录入：区知识产权局年报" in row and "50%" in row
    assert "企业库实时计算" in page.inner_text("#breakdown-facts")
    assert page.locator("#key-enterprises tbody tr").count() == 21  # 20 and the group's totals
    assert "完成度 =" in page.inner_text("#rule")
    screenshot("20-indicators-dashboard")

    # On paper: A4, no navigation, the charts drawn.
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    assert not page.locator(".topbar").is_visible() and not page.locator("form.filters").is_visible()
    box = page.locator("#trend-bt_patents svg").bounding_box()
    assert box["width"] > 200 and box["height"] > 100  # scaled to the page, not collapsed
    screenshot("22-indicator-print")


def test_a_computed_indicator_s_page_leads_to_the_enterprises_behind_its_number(
    page, live_server, monitoring_demo, screenshot
):
    log_in(page, live_server)
    page.goto(live_server.url + "/indicators/?by=bt_hnte")
    page.wait_for_selector("#breakdown-total")
    shown = int(page.inner_text("#breakdown-total").replace(",", ""))
    assert shown > 0

    page.goto(live_server.url + "/indicators/bt_hnte/")
    page.wait_for_selector("#series-chart svg")
    chart = page.eval_on_selector("#series-chart", CHART_OPTION)
    assert chart["series"][0]["points"] >= 3 and any(s["name"] == f"{Y + 2}年目标" for s in chart["series"])
    assert int(page.inner_text("#registry-total").replace(",", "")) == shown
    assert "不能手工录入" in page.inner_text("#computed-note")
    screenshot("21-indicator-detail")

    page.click("#drilldown-link")
    page.wait_for_selector("#drilldown-rows")
    assert int(page.inner_text("#drilldown-total")) == shown
    listed = page.locator("#drilldown-rows tbody tr").count()
    assert listed == min(shown, 50)
    first = page.inner_text("#drilldown-rows tbody tr:first-child td:first-child").split()[0]
    page.fill("#q", first)
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("#matched")
    assert int(page.inner_text("#drilldown-total")) == shown and int(page.inner_text("#matched")) >= 1
    page.click("#drilldown-rows tbody tr:first-child a")
    page.wait_for_load_state()
    assert "/enterprises/" in page.url and first in page.inner_text("h1")
    # On another date, the enterprises holding a certificate in force that day.
    a_year_ago = TODAY - timedelta(days=365)
    page.goto(live_server.url + f"/indicators/bt_hnte/enterprises/?on={a_year_ago:%Y-%m-%d}")
    assert int(page.inner_text("#drilldown-total")) == COMPUTED["hnte_valid"].value(a_year_ago)


def test_plan_tasks_by_unit_with_a_progress_note(page, live_server, monitoring_demo, screenshot):
    log_in(page, live_server)
    page.goto(live_server.url + "/indicators/tasks/")
    page.wait_for_selector("#task-table-rows")
    assert int(page.inner_text("#result-count strong")) == 36  # 5 + 6 + 10 + 15, as the documents list them
    unit = ResponsibleUnit.objects.get(name="区经委")
    page.select_option("#unit", str(unit.pk))
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    shown = int(page.inner_text("#result-count strong"))
    assert shown == PlanTask.objects.filter(units=unit).count() >= 2
    screenshot("23-plan-tasks")

    task = PlanTask.objects.get(kind="key_project", number=2)  # 卫星互联网产业高地建设
    page.goto(live_server.url + f"/indicators/tasks/{task.pk}/")
    page.fill("#note-form textarea", "试验卫星完成发射，组网测试推进中")
    page.fill("#note-form input[name=progress]", "35")
    with page.expect_navigation():
        page.click("#note-form button[type=submit]")
    assert page.inner_text("#task-progress") == "35%" and page.inner_text("#task-status") == "推进中"
    assert "试验卫星完成发射" in page.inner_text("#note-table tbody tr:first-child")
    screenshot("24-plan-task-detail")
