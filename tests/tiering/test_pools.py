"""Cultivation pools (培育库): who sees which rows, ranking, filters, paging, HTMX refresh, export."""

import io
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from kechuang import rules
from kechuang.enterprises.models import Enterprise, EnterpriseYear, Qualification
from kechuang.tiering import exporting, selectors
from kechuang.tiering.models import Assessment
from kechuang.tiering.services import run_now
from tests.tiering.conftest import ON, enterprise, hnte_ready

pytestmark = pytest.mark.django_db


def url(key):
    return f"/tiering/pools/{key}/"


def rows(response):
    return [row.enterprise.name for row in response.context["page"].object_list]


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.content))


@pytest.fixture
def hnte_pool(personas):
    """Assessed on ON (2026-06-30), the persona enterprises left out. 1 and 5 meet every HNTE figure
    (unknown: 0 unmet, 3 unknown); 2 lacks 科技人员 (1 unmet); 3 has no data at all; 4 holds a valid
    高企 certificate; 5's certificate expired before the run."""
    p = personas
    p.e1 = hnte_ready(enterprise(1, park=p.park_a, hitech_field="01"))
    p.e2 = hnte_ready(enterprise(2, park=p.park_a))
    EnterpriseYear.objects.filter(enterprise=p.e2, year=2025).update(tech_staff=Decimal("10.5"))
    p.e3 = enterprise(3, park=p.park_b, industry="C")
    p.e4 = hnte_ready(enterprise(4, park=p.park_a))
    Qualification.objects.create(enterprise=p.e4, kind="hnte", issue_date=date(2025, 1, 1))
    p.e5 = hnte_ready(enterprise(5))
    Qualification.objects.create(enterprise=p.e5, kind="hnte", issue_date=date(2022, 1, 1))
    p.run = run_now(on=ON, enterprises=Enterprise.objects.exclude(pk__in=[p.ent_a.pk, p.ent_b.pk]))
    return p


# ---- 高企培育库 -----------------------------------------------------------------------------------------------


def test_the_hnte_pool_ranks_by_fewest_unmet_then_fewest_unknown_then_highest_score(client, hnte_pool):
    p = hnte_pool
    client.force_login(p.carol)
    response = client.get(url("hnte-cultivation"))
    assert response.status_code == 200 and response.context["run"] == p.run
    assert rows(response) == ["测试企业1", "测试企业5", "测试企业2", "测试企业3"]
    first, _, second, third = response.context["page"].object_list
    assert (first.status, first.unmet, first.unknown, first.score_min, first.score_max) == (
        "unknown",
        0,
        3,
        26,
        100,
    )
    assert (second.status, second.unmet) == ("not_met", 1)
    assert (third.status, third.unmet) == (
        "not_met",
        1,
    ) and third.unknown > second.unknown  # no data: unknown
    assert any("还需增加科技人员约 2 人" in gap for gap in second.gaps)
    page = response.content.decode()
    row = page[page.index(f'data-enterprise="{p.e2.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "还需增加科技人员约 2 人" in row and '<td class="num unmet">1</td>' in row and "26–100 分" in page
    # Fewer unknown conditions come first, then the higher score.
    Assessment.objects.filter(run=p.run, area="hnte", enterprise=p.e5).update(score_max=90)
    Assessment.objects.filter(run=p.run, area="hnte", enterprise=p.e1).update(score_max=80)
    assert rows(client.get(url("hnte-cultivation")))[:2] == ["测试企业5", "测试企业1"]
    Assessment.objects.filter(run=p.run, area="hnte", enterprise=p.e1).update(unknown=2)
    assert rows(client.get(url("hnte-cultivation")))[:2] == ["测试企业1", "测试企业5"]


def test_the_pool_searches_and_filters(client, hnte_pool):
    p = hnte_pool
    client.force_login(p.carol)
    pool = url("hnte-cultivation")
    assert rows(client.get(pool, {"q": "测试企业2"})) == ["测试企业2"]
    assert rows(client.get(pool, {"q": p.e3.uscc[-6:].lower()})) == ["测试企业3"]
    assert rows(client.get(pool, {"park": p.park_a.pk})) == ["测试企业1", "测试企业2"]
    assert rows(client.get(pool, {"park": p.zone.pk})) == ["测试企业1", "测试企业2", "测试企业3"]  # sub-parks
    assert rows(client.get(pool, {"industry": "C"})) == ["测试企业3"]
    assert rows(client.get(pool, {"hitech_field": "01"})) == ["测试企业1"]
    assert rows(client.get(pool, {"sort": "name"})) == ["测试企业1", "测试企业2", "测试企业3", "测试企业5"]
    assert rows(client.get(pool, {"sort": "-name"})) == ["测试企业5", "测试企业3", "测试企业2", "测试企业1"]
    assert rows(client.get(pool, {"sort": "drop table", "industry": "ZZ", "park": "x"}))[0] == "测试企业1"


def test_a_park_operator_sees_only_its_parks_enterprises(client, hnte_pool):
    client.force_login(hnte_pool.bob)
    response = client.get(url("hnte-cultivation"))
    assert rows(response) == ["测试企业1", "测试企业2"]
    assert "测试企业3" not in response.content.decode()
    assert rows(client.get(url("hnte-cultivation"), {"park": hnte_pool.park_b.pk})) == []


@pytest.mark.parametrize("key", list(selectors.POOLS))
@pytest.mark.parametrize("persona", ["alice", "uma", "eve"])
def test_enterprise_university_and_expert_users_are_refused(client, personas, key, persona):
    client.force_login(getattr(personas, persona))
    assert client.get(url(key)).status_code == 403
    assert client.get(url(key) + "export.xlsx").status_code == 403


@pytest.mark.parametrize("key", list(selectors.POOLS))
def test_an_anonymous_visitor_is_sent_to_log_in(client, personas, key):
    response = client.get(url(key))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_pool_is_not_found(client, personas):
    client.force_login(personas.carol)
    assert client.get(url("nonsense")).status_code == 404
    assert client.get(url("nonsense") + "export.xlsx").status_code == 404


def test_without_a_run_the_pool_says_so(client, personas):
    client.force_login(personas.carol)
    response = client.get(url("hnte-cultivation"))
    assert response.status_code == 200 and "尚无已完成的梯度评估" in response.content.decode()


def test_the_htmx_request_gets_only_the_table(client, hnte_pool):
    client.force_login(hnte_pool.carol)
    response = client.get(url("hnte-cultivation"), {"q": "测试企业2"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'id="pool-rows"' in body and "测试企业2" in body
    assert 'href="/tiering/pools/hnte-cultivation/export.xlsx?q=' in body


def test_the_pool_pages_50_at_a_time_and_replays_only_the_page(client, hnte_pool, monkeypatch):
    Enterprise.objects.bulk_create(
        Enterprise(uscc=enterprise_code(i), name=f"分页企业{i:03d}", park=hnte_pool.park_b) for i in range(60)
    )
    run = run_now(on=ON)
    replayed = []
    real = selectors.replay

    def counting(*, run, situations):
        replayed.append(len(situations))
        return real(run=run, situations=situations)

    monkeypatch.setattr(selectors, "replay", counting)
    client.force_login(hnte_pool.carol)
    first = client.get(url("hnte-cultivation"))
    assert first.context["run"] == run and first.context["page"].paginator.count == 66  # 64 + the personas
    assert len(first.context["page"].object_list) == 50 and max(replayed) == 50
    last = client.get(url("hnte-cultivation"), {"page": 2})
    assert len(last.context["page"].object_list) == 16 and all(
        row.gaps for row in last.context["page"].object_list
    )


def enterprise_code(i):
    from kechuang.core.uscc import make_code

    return make_code(f"91310117MA3P{i:05d}")


def test_the_pool_runs_the_same_number_of_queries_for_3_and_30_enterprises(client, personas):
    client.force_login(personas.carol)
    today = timezone.localdate()

    def count(n):
        for i in range(Enterprise.objects.count(), n):
            enterprise(200 + i, park=personas.park_a)
        for ent in Enterprise.objects.filter(qualifications__isnull=True):
            # Issued after the run's date (not held then), expiring within six months.
            Qualification.objects.create(
                enterprise=ent,
                kind="hnte",
                issue_date=today - timedelta(days=100),
                expiry_date=today + timedelta(days=30),
            )
        run_now(on=ON)
        Assessment.objects.filter(area="seed").update(status="met")
        counts = []
        for key in ("hnte-cultivation", "tech-sme-candidates", "seed", "expiring"):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url(key))
            assert response.status_code == 200
            if key != "tech-sme-candidates":
                assert len(response.context["page"].object_list) == n  # every enterprise is listed
            counts.append(len(captured))
        return counts

    few = count(3)
    assert count(30) == few
    assert max(few) <= 20


# ---- export -------------------------------------------------------------------------------------------------


def test_the_export_has_the_whole_filtered_pool_with_headers_and_gaps(client, hnte_pool, monkeypatch):
    monkeypatch.setattr(exporting, "REPLAY_CHUNK", 2)  # several chunks
    Enterprise.objects.filter(pk=hnte_pool.e3.pk).update(name='=HYPERLINK("http://x")')
    client.force_login(hnte_pool.carol)
    response = client.get(url("hnte-cultivation") + "export.xlsx")
    assert unquote(response["Content-Disposition"]).endswith("高企培育库-20260630.xlsx")
    book = workbook(response)
    assert book.sheetnames == ["高企培育库", "说明"]
    sheet = list(book["高企培育库"].values)
    assert sheet[0] == (
        "企业名称",
        "统一社会信用代码",
        "园区",
        "所属行业",
        "高新技术领域",
        "评价结果",
        "不满足条件数",
        "待定条件数",
        "评分下限",
        "评分上限",
        "差距",
    )
    assert [r[0] for r in sheet[1:]] == ["测试企业1", "测试企业5", "测试企业2", '\'=HYPERLINK("http://x")']
    e1, _, e2, e3 = sheet[1:]
    assert e1[1:3] == (hnte_pool.e1.uscc, "临港松江科技园") and e1[4] == "电子信息"
    assert e1[5:10] == ("待定", 0, 3, 26, 100)
    assert e2[5:7] == ("不满足", 1) and "还需增加科技人员约 2 人" in e2[10]
    assert e3[3] == "C 制造业" and e3[10]  # every row replayed, across chunks
    # The same gaps as the page (services.replay), row for row.
    page = client.get(url("hnte-cultivation")).context["page"].object_list
    assert [r[10] for r in sheet[1:]] == ["；".join(row.gaps) for row in page]
    notes = [r[0] for r in book["说明"].values]
    assert any("2026-06-30 评价" in n for n in notes) and any(
        "无（本人可查看的全部企业）" in n for n in notes
    )


def test_the_export_follows_the_filters_and_the_scope(client, hnte_pool):
    client.force_login(hnte_pool.carol)
    sheet = list(
        workbook(client.get(url("hnte-cultivation") + "export.xlsx", {"q": "测试企业2"})).active.values
    )
    assert [r[0] for r in sheet[1:]] == ["测试企业2"]
    client.force_login(hnte_pool.bob)
    sheet = list(workbook(client.get(url("hnte-cultivation") + "export.xlsx")).active.values)
    assert [r[0] for r in sheet[1:]] == ["测试企业1", "测试企业2"]


def test_the_export_needs_the_export_permission(client, hnte_pool):
    viewer = User.objects.create_user("viewer")
    viewer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_assessment", "view_enterprise", "view_all_enterprises"]
        )
    )
    client.force_login(viewer)
    response = client.get(url("hnte-cultivation"))
    assert response.status_code == 200 and 'id="export-link"' not in response.content.decode()
    assert client.get(url("hnte-cultivation") + "export.xlsx").status_code == 403


# ---- 科技型中小企业 candidates --------------------------------------------------------------------------------


def test_tech_sme_candidates_meet_first_then_unknown_without_unmet_and_not_registered(client, hnte_pool):
    p = hnte_pool
    run = p.run
    tech = Assessment.objects.filter(run=run, area="tech_sme")
    tech.update(status="not_met", unmet=1)
    tech.filter(enterprise__in=[p.e1, p.e5, p.e4]).update(status="met", unmet=0, unknown=0)
    tech.filter(enterprise=p.e2).update(status="unknown", unmet=0, unknown=1)
    tech.filter(enterprise=p.e3).update(
        status="unknown", unmet=1, unknown=1
    )  # not a candidate: one condition unmet
    Qualification.objects.create(enterprise=p.e4, kind="tech_sme", issue_date=date(2026, 3, 1))  # registered
    Qualification.objects.create(
        enterprise=p.e5, kind="tech_sme", issue_date=date(2024, 3, 1), expiry_date=date(2025, 12, 31)
    )
    client.force_login(p.leo)
    response = client.get(url("tech-sme-candidates"))
    assert rows(response) == ["测试企业1", "测试企业5", "测试企业2"]
    assert [row.tier for row in response.context["page"].object_list] == [1, 1, 2]
    assert rows(client.get(url("tech-sme-candidates"), {"sort": "-name"})) == [
        "测试企业5",
        "测试企业1",
        "测试企业2",
    ]
    sheet = list(workbook(client.get(url("tech-sme-candidates") + "export.xlsx")).active.values)
    assert sheet[0][5:7] == ("梯队", "评价结果")
    assert [(r[0], r[5], r[6]) for r in sheet[1:]] == [
        ("测试企业1", "第一梯队：满足", "满足"),
        ("测试企业5", "第一梯队：满足", "满足"),
        ("测试企业2", "第二梯队：无不满足条件，有待定条件", "待定"),
    ]


# ---- expiring certificates -------------------------------------------------------------------------------------


@pytest.fixture
def expiring(personas):
    p = personas
    today = timezone.localdate()
    long_ago = today - timedelta(days=1000)
    p.soon = Qualification.objects.create(
        enterprise=p.ent_a,
        kind="hnte",
        issue_date=long_ago,
        expiry_date=today + timedelta(days=30),
        certificate_no="GR1",
    )
    p.later = Qualification.objects.create(
        enterprise=p.ent_b, kind="hnte", issue_date=long_ago, expiry_date=today + timedelta(days=200)
    )
    gone = enterprise(7, park=p.park_a)
    Qualification.objects.create(
        enterprise=gone, kind="hnte", issue_date=long_ago, expiry_date=today - timedelta(days=1)
    )
    renewed = enterprise(8, park=p.park_a)
    Qualification.objects.create(
        enterprise=renewed, kind="hnte", issue_date=long_ago, expiry_date=today + timedelta(days=20)
    )
    Qualification.objects.create(enterprise=renewed, kind="hnte", issue_date=today - timedelta(days=10))
    p.tech = Qualification.objects.create(
        enterprise=enterprise(9), kind="tech_sme", issue_date=long_ago, expiry_date=today + timedelta(days=10)
    )
    p.run = run_now(on=today)
    Assessment.objects.filter(run=p.run, area="hnte").update(status="not_met")
    Assessment.objects.filter(run=p.run, area="hnte", enterprise=p.ent_a).update(status="met")
    return p


def certificates(response):
    return [row.pk for row in response.context["page"].object_list]


def test_expiring_certificates_within_the_months_asked_by_expiry_date(client, expiring):
    p = expiring
    client.force_login(p.carol)
    response = client.get(url("expiring"))
    assert response.context["filters"].months == 6 and certificates(response) == [p.soon.pk]
    soon = response.context["page"].object_list[0]
    assert (soon.days_to_expiry, soon.reapply) == (30, "met")
    page = response.content.decode()
    assert '<td class="num days-left">30</td>' in page and '<span class="tag ok">满足</span>' in page
    assert certificates(client.get(url("expiring"), {"months": 12})) == [p.soon.pk, p.later.pk]
    assert certificates(client.get(url("expiring"), {"months": 12, "sort": "-expiry"})) == [
        p.later.pk,
        p.soon.pk,
    ]
    assert client.get(url("expiring"), {"months": 12}).context["page"].object_list[1].reapply == "not_met"
    assert certificates(client.get(url("expiring"), {"kind": "tech_sme"})) == [p.tech.pk]
    assert certificates(client.get(url("expiring"), {"kind": "academician_workstation"})) == []


@pytest.mark.parametrize("months, used", [("0", 1), ("99", 36), ("abc", 6), ("12", 12)])
def test_the_months_are_kept_between_1_and_36(client, expiring, months, used):
    client.force_login(expiring.carol)
    assert client.get(url("expiring"), {"months": months}).context["filters"].months == used


def test_a_park_operator_sees_only_its_parks_expiring_certificates(client, expiring):
    client.force_login(expiring.bob)
    assert certificates(client.get(url("expiring"), {"months": 12})) == [expiring.soon.pk]


def test_the_expiring_export(client, expiring):
    client.force_login(expiring.carol)
    response = client.get(url("expiring") + "export.xlsx", {"months": 12})
    today = timezone.localdate()
    assert unquote(response["Content-Disposition"]).endswith(f"资质到期提醒-{today:%Y%m%d}.xlsx")
    sheet = list(workbook(response).active.values)
    assert sheet[0][5:] == (
        "资质类型",
        "证书编号",
        "发证日期",
        "有效期至",
        "剩余天数",
        "重新申请条件（评估批次）",
    )
    assert [(r[0], r[5], r[6], r[9], r[10]) for r in sheet[1:]] == [
        ("上海甲科技有限公司", "高新技术企业", "GR1", 30, "满足"),
        ("上海乙生物有限公司", "高新技术企业", None, 200, "不满足"),
    ]


# ---- 种子选手, 隐形冠军储备库 ----------------------------------------------------------------------------------


@pytest.mark.skipif("seed" not in rules.QUALIFICATIONS, reason="the seed rule is not registered")
def test_the_seed_pool_lists_the_enterprises_meeting_it_and_states_the_rule(client, hnte_pool):
    p = hnte_pool
    Assessment.objects.filter(run=p.run, area="seed").update(status="not_met")
    Assessment.objects.filter(run=p.run, area="seed", enterprise__in=[p.e2, p.e3]).update(status="met")
    client.force_login(p.carol)
    response = client.get(url("seed"))
    assert rows(response) == ["测试企业2", "测试企业3"]
    page = response.content.decode()
    assert 'id="pool-rule"' in page and 'data-code="seed.' in page
    assert {item.code.split(".")[0] for item in response.context["rule"]} == {"seed"}
    assert "<th>成立日期</th>" in page and "<th>评分</th>" not in page  # the seed rule has no score
    client.force_login(p.bob)
    assert rows(client.get(url("seed"))) == ["测试企业2"]
    sheet = list(workbook(client.get(url("seed") + "export.xlsx")).active.values)
    assert sheet[0] == (
        "企业名称",
        "统一社会信用代码",
        "园区",
        "所属行业",
        "高新技术领域",
        "成立日期",
        "评分下限",
        "评分上限",
    )
    assert [r[0] for r in sheet[1:]] == ["测试企业2"] and sheet[1][5].date() == date(2018, 3, 1)


def test_a_pool_whose_rule_is_not_configured_says_so(client, hnte_pool, monkeypatch):
    monkeypatch.delitem(rules.QUALIFICATIONS, "hidden_champion", raising=False)
    client.force_login(hnte_pool.carol)
    response = client.get(url("hidden-champion"))
    assert response.status_code == 200
    assert (
        "评价规则尚未配置" in response.content.decode() and 'id="pool-rows"' not in response.content.decode()
    )
    sheet = list(workbook(client.get(url("hidden-champion") + "export.xlsx")).active.values)
    assert len(sheet) == 1  # the headers only
