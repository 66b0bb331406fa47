"""The monitoring pages through the HTTP client: the dashboard with its filters and export, an indicator's page
with its forms (observations, corrections, target parts) and the services' Chinese errors, the enterprises behind
a computed number, the observation import; who may see and do what.

Each test makes its own indicators, figures and targets and removes the catalogue's first, so that what the
catalogue holds (filled in while the pages are built) changes nothing here.
"""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, EnterpriseYear, Qualification
from kechuang.indicators import selectors, services
from kechuang.indicators.models import (
    DocumentedFigure,
    Indicator,
    Observation,
    ResponsibleUnit,
    Target,
    TargetAlert,
)
from tests.tiering.conftest import enterprise

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
Y = TODAY.year


def figure(ind, kind, year, value, document="004", place="附件1 关键指标"):
    return DocumentedFigure.objects.create(
        indicator=ind,
        kind=kind,
        year=year,
        text=str(value),
        value=Decimal(str(value)),
        document=document,
        place=place,
        quote=f"{ind.name} {value}",
    )


def document_target(ind, year, value, baseline_year, baseline_value, document="004"):
    figure(ind, "baseline", baseline_year, baseline_value, document)
    source = figure(ind, "target", year, value, document, place=f"附件1 {year}年目标")
    return Target.objects.create(
        indicator=ind,
        year=year,
        value=Decimal(str(value)),
        baseline_year=baseline_year,
        baseline_value=Decimal(str(baseline_value)),
        figure=source,
    )


class Monitoring:
    """Three indicators with document targets: patents (yearly, observed), a quarterly share, and the
    registry's 有效期内高新技术企业 (computed) over four enterprises."""


@pytest.fixture
def mon(personas):
    Observation.objects.all().delete()  # the catalogue's indicators, their figures and targets
    Target.objects.all().delete()
    DocumentedFigure.objects.all().delete()
    Indicator.objects.all().delete()
    m = Monitoring()
    m.p = personas
    m.patents = Indicator.objects.create(
        code="t_patents",
        name="发明专利授权量",
        unit="件",
        data_source="区知识产权局",
        value_min=0,
        value_max=100000,
        order=1,
    )
    m.patents_target = document_target(m.patents, Y + 1, 200, Y - 3, 100, document="004")
    m.observation = services.record_observation(
        m.patents, year=Y - 1, value="150", source="区知识产权局年报", user=personas.carol
    )
    m.share = Indicator.objects.create(
        code="t_share",
        name="规上工业产值占比",
        unit="%",
        frequency="quarter",
        data_source="区统计局",
        value_min=0,
        value_max=100,
        order=2,
    )
    m.share_target = document_target(m.share, Y + 2, 40, Y - 2, 30, document="000")
    m.hnte = Indicator.objects.create(
        code="t_hnte",
        name="有效期内高新技术企业",
        unit="家",
        data_source="区科委",
        computed="hnte_valid",
        order=3,
    )
    m.hnte_target = document_target(m.hnte, Y + 2, 5, Y - 1, 1, document="000")
    m.ent_a, m.ent_b = personas.ent_a, personas.ent_b  # park A (field 01), park B (field 02)
    m.ent_c = enterprise(3, hitech_field="01")  # no park
    m.ent_d = enterprise(4, park=personas.park_a, hitech_field="08")
    recent = TODAY - timedelta(days=30)
    for ent in (m.ent_a, m.ent_b, m.ent_c):
        Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=recent)
    Qualification.objects.create(
        enterprise=m.ent_a, kind="hnte", issue_date=recent - timedelta(days=400)
    )  # renewal
    Qualification.objects.create(  # expired: not counted
        enterprise=m.ent_d,
        kind="hnte",
        issue_date=TODAY - timedelta(days=2000),
        expiry_date=TODAY - timedelta(days=5),
    )
    return m


def page(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


# --- who may see and do what -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["carol", "leo"])
def test_every_page_renders_for_officers_and_leaders(client, mon, who):
    user = getattr(mon.p, who)
    urls = [
        reverse("indicators:dashboard"),
        reverse("indicators:dashboard") + f"?year={Y + 1}&document=004",
        reverse("indicators:export"),
        reverse("indicators:detail", args=["t_patents"]),
        reverse("indicators:detail", args=["t_share"]),
        reverse("indicators:detail", args=["t_hnte"]),
        reverse("indicators:drilldown", args=["t_hnte"]),
    ]
    for url in urls:
        page(client, user, url)
    dashboard = page(client, user, reverse("indicators:dashboard")).content.decode()
    assert 'href="/indicators/"' in dashboard and "统计监测" in dashboard  # the main nav's link


def test_the_forms_and_import_are_for_officers_only(client, mon):
    detail = page(client, mon.p.leo, reverse("indicators:detail", args=["t_patents"])).content.decode()
    assert 'id="record-form"' not in detail and "保存更正" not in detail and "添加分解目标" not in detail
    page(client, mon.p.leo, reverse("indicators:observation-import"), 403)
    page(client, mon.p.leo, reverse("indicators:observation-import-template"), 403)
    response = client.post(
        reverse("indicators:observation-record", args=["t_patents"]), {"year": Y - 2, "value": "1"}
    )
    assert response.status_code == 403
    assert not Observation.objects.filter(year=Y - 2).exists()
    detail = page(client, mon.p.carol, reverse("indicators:detail", args=["t_patents"])).content.decode()
    assert 'id="record-form"' in detail and "保存更正" in detail and "添加分解目标" in detail
    page(client, mon.p.carol, reverse("indicators:observation-import"))


@pytest.mark.parametrize("who", ["alice", "bob", "uma", "eve"])
def test_enterprise_park_university_and_expert_users_are_refused(client, mon, who):
    user = getattr(mon.p, who)
    for url in (
        reverse("indicators:dashboard"),
        reverse("indicators:export"),
        reverse("indicators:detail", args=["t_hnte"]),
        reverse("indicators:drilldown", args=["t_hnte"]),
        reverse("indicators:observation-import"),
    ):
        page(client, user, url, 403)
    dashboard_link = 'href="/indicators/"'
    home = client.get("/").content.decode()
    assert dashboard_link not in home


def test_an_anonymous_visitor_is_sent_to_log_in(client, mon):
    response = client.get(reverse("indicators:dashboard"))
    assert response.status_code == 302 and "next=" in response["Location"]


def test_an_unknown_indicator_is_404_and_a_drilldown_only_exists_for_a_computed_one(client, mon):
    page(client, mon.p.carol, reverse("indicators:detail", args=["nothing"]), 404)
    page(client, mon.p.carol, reverse("indicators:drilldown", args=["t_patents"]), 404)
    page(client, mon.p.carol, reverse("indicators:drilldown", args=["t_hnte"]) + "?park=99999", 404)


# --- the dashboard ---------------------------------------------------------------------------------------------


def test_the_dashboard_shows_each_target_with_its_progress_status_unit_and_source(client, mon):
    response = page(client, mon.p.leo, reverse("indicators:dashboard"))
    html = response.content.decode()
    rows = {state.target.pk: state for state in response.context["board"].rows}
    assert set(rows) == {mon.patents_target.pk, mon.share_target.pk, mon.hnte_target.pk}
    patents = rows[mon.patents_target.pk]
    assert patents.latest.value == 150 and patents.latest.source == "observation"
    assert patents.share == pytest.approx(0.5)
    row = html[html.index(f'data-target="{mon.patents_target.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "<strong>150</strong> 件" in row and "业务录入：区知识产权局年报" in row  # value, unit, source
    assert "附件1" in row and "张江高新区松江园" in row  # where the target comes from (document 004)
    assert "50%" in row and patents.status_text in row
    assert rows[mon.share_target.pk].status == selectors.NO_DATA and "无数据" in html
    hnte = rows[mon.hnte_target.pk]
    assert hnte.latest.value == 3 and hnte.latest.source == "registry"  # a, b, c: d's certificate has expired
    assert f"企业库实时计算（{TODAY:%Y-%m-%d}）" in html
    for line in selectors.RULE_LINES:  # the rule, as the selectors state it
        assert line in html
    charts = response.context["charts"]
    assert {c["code"] for c in charts} == {"t_patents", "t_share", "t_hnte"}
    patents_chart = next(c for c in charts if c["code"] == "t_patents")
    assert (
        patents_chart["targets"][0]["value"] == 200 and patents_chart["targets"][0]["baseline_value"] == 100
    )
    assert [p[1] for p in patents_chart["points"]] == [100, 150]  # the baseline figure, then the observation


def test_the_dashboard_filters_by_target_year_and_by_document(client, mon):
    url = reverse("indicators:dashboard")

    def shown(query):
        return {s.target.pk for s in page(client, mon.p.carol, url + query).context["board"].rows}

    assert shown(f"?year={Y + 1}") == {mon.patents_target.pk}
    assert shown(f"?year={Y + 2}") == {mon.share_target.pk, mon.hnte_target.pk}
    assert shown("?document=000") == {mon.share_target.pk, mon.hnte_target.pk}
    assert shown(f"?document=000&year={Y + 2}") == {mon.share_target.pk, mon.hnte_target.pk}
    assert shown(f"?document=004&year={Y + 2}") == set()
    assert shown("?year=abc&document=999") == {mon.patents_target.pk, mon.share_target.pk, mon.hnte_target.pk}
    assert page(client, mon.p.carol, url).context["years"] == [Y + 1, Y + 2]


def test_the_dashboard_breaks_a_computed_indicator_down_by_park_and_field(client, mon):
    response = page(client, mon.p.carol, reverse("indicators:dashboard") + "?by=t_hnte")
    b = response.context["breakdown"]
    assert b.indicator == mon.hnte and b.total == 3
    by_park = {(c.park.name if c.park else None): (c.own, c.total) for c in b.by_park}
    assert by_park["张江高新区松江园"] == (0, 2)  # its two sub-parks
    assert by_park["临港松江科技园"] == (1, 1) and by_park["G60脑智科创基地"] == (1, 1)
    assert by_park[None] == (1, 1)  # 未登记园区
    assert {code: n for code, _, n in b.by_field if n} == {"01": 2, "02": 1}
    data = response.context["breakdown_data"]
    assert ["未登记园区", 1] in data["parks"] and ["电子信息", 2] in data["fields"]


def test_the_key_enterprises_of_attachment_4_are_matched_by_name(client, mon):
    from kechuang.enterprises.demo import KEY_ENTERPRISES

    first = KEY_ENTERPRISES[0]
    key = Enterprise.objects.create(uscc=make_code("91310117MA2K00020"), name=first.name, park=mon.p.zone)
    Qualification.objects.create(enterprise=key, kind="hnte", issue_date=TODAY - timedelta(days=10))
    EnterpriseYear.objects.create(
        enterprise=key, year=Y - 1, sales_revenue=Decimal("200000000"), rd_expense=Decimal("10000000")
    )
    response = page(client, mon.p.leo, reverse("indicators:dashboard"))
    group = response.context["key"]
    assert len(group.rows) == 20 and group.matched == 1 and group.with_year == 1
    row = group.rows[0]
    assert (
        row.enterprise == key
        and row.qualifications == ["高新技术企业"]
        and row.rd_ratio == pytest.approx(0.05)
    )
    assert group.revenue == Decimal("200000000") and group.rd_ratio == pytest.approx(0.05)
    html = response.content.decode()
    assert reverse("enterprises:detail", args=[key.pk]) in html and "20,000" in html and "5.00%" in html
    assert "企业库中没有" in html  # the other 19


def test_the_user_s_target_alerts_show_and_can_be_marked_read(client, mon):
    alert = TargetAlert.objects.create(
        target=mon.patents_target, owner=mon.p.carol, status="off_track", message="测试预警：滞后"
    )
    TargetAlert.objects.create(
        target=mon.patents_target, owner=mon.p.leo, status="at_risk", message="领导的预警"
    )
    html = page(client, mon.p.carol, reverse("indicators:dashboard")).content.decode()
    assert "测试预警：滞后" in html and "领导的预警" not in html
    client.post(reverse("indicators:alert-read", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.read_at is not None
    assert "测试预警：滞后" not in page(client, mon.p.carol, reverse("indicators:dashboard")).content.decode()
    other = TargetAlert.objects.get(owner=mon.p.leo)
    assert client.post(reverse("indicators:alert-read", args=[other.pk])).status_code == 404  # not hers


def test_the_dashboard_export_opens_with_openpyxl_and_has_every_target_and_value(client, mon):
    Indicator.objects.filter(pk=mon.share.pk).update(name="=HYPERLINK(1)")
    response = page(client, mon.p.leo, reverse("indicators:export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["目标与进度", "数据序列", "说明"]
    targets = list(book["目标与进度"].iter_rows(values_only=True))
    header, rows = targets[0], targets[1:]
    assert header[:6] == ("指标代码", "指标", "单位", "统计范围", "目标年", "目标值")
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_code) == {"t_patents", "t_share", "t_hnte"}
    patents = by_code["t_patents"]
    assert patents["目标值"] == 200 and patents["最新值"] == 150 and patents["完成度（%）"] == 50
    assert patents["最新值来源"] == "业务录入：区知识产权局年报" and patents["状态"]
    assert by_code["t_share"]["指标"] == "'=HYPERLINK(1)"  # a formula is written as text
    series = list(book["数据序列"].iter_rows(values_only=True))
    assert (
        "t_patents",
        "发明专利授权量",
        "件",
        Y - 1,
        None,
        150,
        "业务录入",
        "业务录入：区知识产权局年报",
    ) in series
    registry = [row for row in series if row[0] == "t_hnte" and row[6] == "企业库实时计算"]
    assert registry[-1][5] == 3 and registry[-1][4].date() == TODAY
    notes = [row[0] for row in book["说明"].iter_rows(values_only=True)]
    assert any(line.startswith("规则：完成度") for line in notes if line)
    filtered = load_workbook(
        io.BytesIO(page(client, mon.p.leo, reverse("indicators:export") + "?document=004").content)
    )
    assert [row[0] for row in filtered["目标与进度"].iter_rows(min_row=2, values_only=True)] == ["t_patents"]


def test_the_dashboard_s_queries_do_not_grow_with_the_registry(client, mon):
    client.force_login(mon.p.carol)
    url = reverse("indicators:dashboard")
    client.get(url)  # sessions, permissions, content types cached as on any later request

    def count():
        cache.clear()  # the registry's counts computed afresh: that is what must not grow
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for n in range(100, 160):
        ent = enterprise(
            n, park=mon.p.park_a if n % 2 else mon.p.park_b, hitech_field="01" if n % 3 else "04"
        )
        Qualification.objects.create(enterprise=ent, kind="hnte", issue_date=TODAY - timedelta(days=n))
    services.record_observation(mon.patents, year=Y - 2, value="120", user=mon.p.carol)
    assert count() == before
    assert before <= 40
    with CaptureQueriesContext(connection) as queries:  # remembered: the counts are not run again
        client.get(url)
    assert len(queries) < before
    assert not any("COUNT(DISTINCT" in q["sql"] for q in queries.captured_queries)


def test_series_many_gives_what_series_gives(mon):
    services.record_observation(mon.share, year=Y - 1, sub_period=2, value="31", user=mon.p.carol)
    indicators = [mon.patents, mon.share, mon.hnte]
    together = selectors.series_many(indicators, TODAY)
    for ind in indicators:
        assert together[ind.pk] == selectors.series(ind, TODAY)
    since = selectors.series_many(indicators, TODAY, {mon.hnte.pk: Y - 3})
    assert since[mon.hnte.pk] == selectors.series(mon.hnte, TODAY, since=Y - 3)


# --- the enterprises behind a number ----------------------------------------------------------------------------


def test_the_drilldown_lists_exactly_the_enterprises_counted_on_the_dashboard(client, mon):
    board = page(client, mon.p.carol, reverse("indicators:dashboard") + "?by=t_hnte").context
    b = board["breakdown"]
    url = reverse("indicators:drilldown", args=["t_hnte"])
    whole = page(client, mon.p.carol, url + f"?on={TODAY:%Y-%m-%d}").context
    assert whole["total"] == b.total == 3
    assert {e.pk for e, _ in whole["rows"]} == {mon.ent_a.pk, mon.ent_b.pk, mon.ent_c.pk}
    for count in b.by_park:
        if count.park:
            shown = page(client, mon.p.carol, url + f"?park={count.park.pk}").context["total"]
            assert shown == count.total, count.park.name
    for code, label, n in b.by_field:
        assert page(client, mon.p.carol, url + f"?field={code}").context["total"] == n, label
    html = page(client, mon.p.carol, url).content.decode()
    assert reverse("enterprises:detail", args=[mon.ent_a.pk]) in html and 'id="drilldown-total">3<' in html
    # Searching narrows the list, not the number.
    searched = page(client, mon.p.carol, url + "?q=甲科技").context
    assert searched["total"] == 3 and searched["matched"] == 1
    # On an earlier date the certificates then in force count: a's first, and d's since expired.
    earlier = page(client, mon.p.carol, url + f"?on={TODAY - timedelta(days=100):%Y-%m-%d}").context
    assert {e.pk for e, _ in earlier["rows"]} == {mon.ent_a.pk, mon.ent_d.pk} and earlier["total"] == 2
    assert page(client, mon.p.carol, url + "?on=2026-13-40").context["on"] == TODAY


def test_the_drilldown_pages_through_many_enterprises(client, mon):
    for n in range(100, 160):
        Qualification.objects.create(
            enterprise=enterprise(n), kind="hnte", issue_date=TODAY - timedelta(days=3)
        )
    url = reverse("indicators:drilldown", args=["t_hnte"])
    first = page(client, mon.p.carol, url).context
    assert first["total"] == 63 and len(first["rows"]) == 50
    second = page(client, mon.p.carol, url + "?page=2").context
    assert len(second["rows"]) == 13
    assert not {e.pk for e, _ in first["rows"]} & {e.pk for e, _ in second["rows"]}


# --- recording and correcting observations ---------------------------------------------------------------------------


def record(client, mon, code, **data):
    client.force_login(mon.p.carol)
    return client.post(reverse("indicators:observation-record", args=[code]), data)


def test_an_officer_records_an_observation_through_the_form(client, mon):
    response = record(client, mon, "t_patents", year=Y - 2, value="1,230", source="区知识产权局", note="年报")
    assert response.status_code == 302
    saved = Observation.objects.get(indicator=mon.patents, year=Y - 2)
    assert saved.value == Decimal("1230") and saved.recorded_by == mon.p.carol and saved.park is None
    html = client.get(response["Location"]).content.decode()
    assert f"已录入 全区 {Y - 2}年 的“发明专利授权量”：1230件" in html
    assert f'id="observation-{saved.pk}"' in html
    quarter = record(client, mon, "t_share", year=Y - 1, sub_period="3", park=mon.p.park_a.pk, value="33.5")
    assert quarter.status_code == 302
    assert Observation.objects.filter(indicator=mon.share, sub_period=3, park=mon.p.park_a).exists()


@pytest.mark.parametrize(
    "code,data,field,message",
    [
        (
            "t_patents",
            {"year": Y - 2, "value": "1000000"},
            "value",
            "超出“发明专利授权量”（单位：件）的合理范围 0–100000",
        ),
        ("t_patents", {"year": Y - 2, "value": "abc"}, "value", "“abc”不是数字"),
        ("t_patents", {"year": Y + 1, "value": "10"}, "year", "不能录入将来的期间"),
        (
            "t_share",
            {"year": Y - 1, "sub_period": "5", "value": "30"},
            "sub_period",
            "期间 5 不符合该指标的统计频度（季度）：季度须为 1–4",
        ),
        (
            "t_patents",
            {"year": Y - 1, "value": "160"},
            "year",
            f"全区 {Y - 1}年 的“发明专利授权量”已录入（150件）",
        ),
    ],
)
def test_the_form_shows_the_service_s_chinese_error_next_to_the_field_and_saves_nothing(
    client, mon, code, data, field, message
):
    count = Observation.objects.count()
    response = record(client, mon, code, **data)
    assert response.status_code == 200
    assert Observation.objects.count() == count
    html = response.content.decode()
    errors = html[html.index(f'id="error-{field}"') :]
    assert message in errors[: errors.index("</ul>")]


def test_a_period_on_a_yearly_indicator_is_refused_above_the_form(client, mon):
    response = record(client, mon, "t_patents", year=Y - 2, sub_period="2", value="10")
    html = response.content.decode()
    errors = html[html.index('id="record-errors"') :]
    assert "年度指标的季度/月份须为 0（或留空）" in errors[: errors.index("</div>")]
    assert not Observation.objects.filter(year=Y - 2).exists()


def test_a_computed_indicator_takes_no_observation(client, mon):
    html = page(client, mon.p.carol, reverse("indicators:detail", args=["t_hnte"])).content.decode()
    assert 'id="record-form"' not in html and "不能手工录入" in html
    response = record(client, mon, "t_hnte", year=Y - 1, value="3")
    assert response.status_code == 200 and not Observation.objects.filter(indicator=mon.hnte).exists()
    html = response.content.decode()
    assert "由企业库自动计算（hnte_valid），不能手工录入" in html[html.index('id="record-errors"') :]


def test_a_correction_needs_a_reason_and_is_kept_in_the_history(client, mon):
    client.force_login(mon.p.carol)
    url = reverse("indicators:observation-correct", args=["t_patents", mon.observation.pk])
    response = client.post(url, {"value": "155", "note": ""})
    assert response.status_code == 200 and "更正须说明原因" in response.content.decode()
    mon.observation.refresh_from_db()
    assert mon.observation.value == Decimal("150")
    response = client.post(url, {"value": "-3", "note": "笔误"})
    assert "超出" in response.content.decode()
    response = client.post(url, {"value": "155", "note": "统计局修订"})
    assert response.status_code == 302
    mon.observation.refresh_from_db()
    assert mon.observation.value == Decimal("155")
    html = client.get(reverse("indicators:detail", args=["t_patents"])).content.decode()
    history = html[html.index(f'id="observation-{mon.observation.pk}"') :]
    history = history[: history.index("</tr>")]
    assert "改为 155：统计局修订" in history and "录入 150" in history and "示例" not in history
    assert "carol" in history  # who


def test_a_correction_is_for_officers_only(client, mon):
    client.force_login(mon.p.leo)
    url = reverse("indicators:observation-correct", args=["t_patents", mon.observation.pk])
    assert client.post(url, {"value": "1", "note": "x"}).status_code == 403


# --- target parts ---------------------------------------------------------------------------------------------------


def test_an_officer_splits_a_target_by_park_unit_and_period_with_an_owner(client, mon):
    client.force_login(mon.p.carol)
    url = reverse("indicators:target-part-add", args=["t_patents", mon.patents_target.pk])
    response = client.post(url, {"year": Y + 1, "value": "80"})  # neither park, unit nor an earlier year
    assert response.status_code == 200
    assert "分解目标须指定园区、责任单位，或早于总目标年的阶段年份" in response.content.decode()
    response = client.post(url, {"year": Y + 1, "value": "80", "park": mon.p.park_a.pk})
    html = response.content.decode()
    assert "按园区分解须填写该园区的基期值" in html[html.index('data-field="baseline_value"') :]
    response = client.post(
        url, {"year": Y + 9, "value": "80", "park": mon.p.park_a.pk, "baseline_value": "30"}
    )
    assert f"须在基期 {Y - 3} 之后、总目标年 {Y + 1} 及之前" in response.content.decode()
    assert not mon.patents_target.parts.exists()

    unit = ResponsibleUnit.objects.create(name="区知识产权局")
    ok = client.post(
        url,
        {
            "year": Y + 1,
            "value": "80",
            "park": mon.p.park_a.pk,
            "baseline_value": "30",
            "owner": mon.p.leo.pk,
        },
    )
    assert ok.status_code == 302
    assert (
        client.post(
            url, {"year": Y + 1, "value": "120", "unit": unit.pk, "owner": mon.p.carol.pk}
        ).status_code
        == 302
    )
    assert client.post(url, {"year": Y, "value": "160"}).status_code == 302  # a milestone
    parts = list(mon.patents_target.parts.order_by("pk"))
    assert [(p.park, p.unit, p.year, p.owner) for p in parts] == [
        (mon.p.park_a, None, Y + 1, mon.p.leo),
        (None, unit, Y + 1, mon.p.carol),
        (None, None, Y, None),
    ]
    html = client.get(reverse("indicators:detail", args=["t_patents"])).content.decode()
    block = html[html.index(f'id="target-{mon.patents_target.pk}"') :]
    assert "园区：临港松江科技园" in block and "责任单位：区知识产权局" in block and "阶段目标" in block
    assert "leo" in block and "carol" in block


def test_splitting_a_target_is_for_officers_only(client, mon):
    client.force_login(mon.p.leo)
    url = reverse("indicators:target-part-add", args=["t_patents", mon.patents_target.pk])
    assert client.post(url, {"year": Y, "value": "160"}).status_code == 403


# --- import ------------------------------------------------------------------------------------------------------------


def xlsx(rows, header=services.IMPORT_COLUMNS, sheet="观测值") -> io.BytesIO:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "观测值.xlsx"
    return buffer


def upload(client, mon, content):
    client.force_login(mon.p.carol)
    return client.post(reverse("indicators:observation-import"), {"file": content})


def test_the_import_template_has_the_columns_and_the_indicators_that_take_observations(client, mon):
    response = page(client, mon.p.carol, reverse("indicators:observation-import-template"))
    book = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in book["观测值"][1]] == list(services.IMPORT_COLUMNS)
    codes = [row[0] for row in book["指标目录"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["t_patents", "t_share"]  # not the computed one


def test_a_rejected_import_lists_every_row_s_problem_and_saves_nothing(client, mon):
    count = Observation.objects.count()
    response = upload(
        client,
        mon,
        xlsx(
            [
                ("t_patents", Y - 2, None, None, 120, "年报", None),  # fine
                ("t_nothing", Y - 2, None, None, 1, None, None),
                ("t_share", Y - 1, 7, "临港松江科技园", 30, None, None),
                ("t_patents", Y - 2, None, None, 130, None, None),  # same as row 2
                ("t_hnte", Y - 1, None, None, 3, None, None),
                ("t_patents", Y - 3, None, "月球园区", 3, None, None),
            ]
        ),
    )
    assert response.status_code == 200
    assert Observation.objects.count() == count
    errors = response.context["errors"]
    assert [(e.row, e.column) for e in errors] == [
        (3, "指标代码"),
        (4, "季度/月份"),
        (5, "年份"),
        (6, "指标代码"),
        (7, "园区"),
    ]
    html = response.content.decode()
    assert "文件有 5 行共 5 处错误，未导入任何数据" in html
    assert 'data-row="4"' in html and "季度须为 1–4" in html and "与第 2 行重复" in html


def test_an_import_without_errors_saves_every_row(client, mon):
    response = upload(
        client,
        mon,
        xlsx(
            [
                ("t_patents", Y - 2, None, None, 120, "年报", "第一批"),
                ("t_share", Y - 1, 2, "临港松江科技园", "31.5", None, None),
            ]
        ),
    )
    assert response.status_code == 302
    saved = Observation.objects.get(indicator=mon.share, year=Y - 1)
    assert saved.sub_period == 2 and saved.park == mon.p.park_a and saved.value == Decimal("31.5")
    assert Observation.objects.get(indicator=mon.patents, year=Y - 2).source == "年报"
    html = client.get(response["Location"]).content.decode()
    assert "已从“观测值.xlsx”导入 2 个观测值" in html


def test_an_import_of_the_wrong_file_says_why(client, mon):
    response = upload(client, mon, xlsx([("t_patents", Y - 2)], header=("代码", "年")))
    html = response.content.decode()
    assert "第 1 行须是表头" in html[html.index('id="file-errors"') :]
    response = upload(client, mon, xlsx([], sheet="Sheet1"))
    assert "找不到工作表“观测值”" in response.content.decode()
    formula = xlsx([("t_patents", Y - 2, None, None, "=1+1", None, None)])
    response = upload(client, mon, formula)
    assert "单元格不能含公式：第 2 行第 5 列" in response.content.decode()
    assert not Observation.objects.filter(year=Y - 2).exists()
