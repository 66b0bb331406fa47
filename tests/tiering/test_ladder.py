"""The 梯度 page: counts per rung (满足, 待定, 持有, 满足但未持有), the highest rungs, the tables by park and by
高新技术领域, and the moves since last year, on a small registry assessed twice a year apart."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kechuang import rules
from kechuang.enterprises.models import Enterprise, Qualification
from kechuang.tiering import selectors
from kechuang.tiering.models import Assessment
from kechuang.tiering.services import run_now
from tests.tiering.conftest import enterprise

pytestmark = pytest.mark.django_db

URL = "/tiering/"
LAST_YEAR, THIS_YEAR = date(2025, 6, 30), date(2026, 6, 30)


def results(run, ent, **statuses):
    """Set the stored results of `ent` in `run`: every rung not named is not met."""
    Assessment.objects.filter(run=run, enterprise=ent).update(status="not_met")
    for area, status in statuses.items():
        Assessment.objects.filter(run=run, enterprise=ent, area=area).update(status=status)


@pytest.fixture
def registry(personas):
    """A (park A) moves up from 科技型中小企业 to 高企 and holds a 高企 certificate; B (park B) moves down from
    高企 to 科技型中小企业; D (no park) meets nothing either year; C (park A) is new this year and holds a
    科技型中小企业 registration."""
    p = personas
    p.ent_d = enterprise(4)
    before = run_now(on=LAST_YEAR)
    p.ent_c = enterprise(3, park=p.park_a, hitech_field="01")
    now = run_now(on=THIS_YEAR)
    results(before, p.ent_a, tech_sme="met", hnte="unknown")
    results(before, p.ent_b, tech_sme="met", hnte="met")
    results(before, p.ent_d)
    results(now, p.ent_a, tech_sme="met", hnte="met")
    results(now, p.ent_b, tech_sme="met", hnte="unknown")
    results(now, p.ent_c, tech_sme="met")
    results(now, p.ent_d, tech_sme="unknown")
    Qualification.objects.create(
        enterprise=p.ent_a, kind="hnte", issue_date=date(2024, 1, 1)
    )  # to 2026-12-31
    Qualification.objects.create(enterprise=p.ent_c, kind="tech_sme", issue_date=date(2026, 3, 1))
    # Expired before the run's date, or issued after it: not held.
    Qualification.objects.create(
        enterprise=p.ent_b, kind="hnte", issue_date=date(2022, 1, 1)
    )  # to 2024-12-31
    Qualification.objects.create(enterprise=p.ent_b, kind="tech_sme", issue_date=date(2026, 7, 1))
    p.before, p.now = before, now
    return p


def counts(response):
    return {r.area: (r.met, r.unknown, r.held, r.met_not_held) for r in response.context["ladder"].rungs}


def distribution(response):
    return {bar.area: bar.count for bar in response.context["ladder"].distribution}


def zeros(**given):
    """Expected counts: every rung present, zero unless given."""
    return {area: given.get(area, (0, 0, 0, 0)) for area in selectors.rungs()}


def test_the_rungs_are_the_assessed_areas_in_ladder_order():
    assert selectors.rungs() == [area for area in selectors.LADDER if area in rules.QUALIFICATIONS]
    assert selectors.rungs()[:1] == ["tech_sme"] and "hnte" in selectors.rungs()
    assert not set(selectors.POOL_AREAS) & set(selectors.rungs())


def test_the_url_and_the_nav_link(client, registry):
    assert reverse("tiering:ladder") == URL
    client.force_login(registry.carol)
    page = client.get(reverse("enterprises:list")).content.decode()
    assert '<a href="/tiering/" >梯度培育</a>' in page
    assert '<a href="/tiering/" class="active">梯度培育</a>' in client.get(URL).content.decode()
    client.force_login(registry.alice)
    assert "梯度培育" not in client.get(reverse("enterprises:list")).content.decode()


# ---- counts -----------------------------------------------------------------------------------------------


def test_an_officer_sees_the_exact_counts_of_the_latest_run(client, registry):
    client.force_login(registry.carol)
    response = client.get(URL)
    assert response.status_code == 200 and response.context["run"] == registry.now
    assert response.context["ladder"].assessed == 4
    # met, unknown, held on the run's date, met but not held
    assert counts(response) == zeros(tech_sme=(3, 1, 1, 2), hnte=(1, 1, 1, 0))
    assert distribution(response) == {None: 1, "tech_sme": 2, "hnte": 1} | {
        area: 0 for area in selectors.rungs() if area not in ("tech_sme", "hnte")
    }
    page = response.content.decode()
    assert 'id="top-chart"' in page and "/static/vendor/echarts-5.6.0/echarts.min.js" in page
    assert "cdn" not in page.lower()
    row = page[page.index('<tr data-area="tech_sme">') :]
    row = row[: row.index("</tr>")]
    assert (
        f'<a href="/tiering/pools/tech-sme-candidates/?run={registry.now.pk}" title="科技型中小企业入库候选">2</a>'
        in row
    )
    assert (
        '<a href="/enterprises/?qualification=tech_sme&validity=valid" title="在企业库中查看（按今天的有效期）">1</a>'
        in row
    )


def test_the_tables_by_park_and_by_field(client, registry):
    client.force_login(registry.carol)
    ladder = client.get(URL).context["ladder"]
    hnte = selectors.rungs().index("hnte")

    def table(rows):
        return {row.label: (row.assessed, row.met[0], row.met[hnte], sum(row.met)) for row in rows}

    assert table(ladder.by_park) == {
        "临港松江科技园": (2, 2, 1, 3),
        "G60脑智科创基地": (1, 1, 0, 1),
        "未填园区": (1, 0, 0, 0),
    }
    assert [row.indent for row in ladder.by_park] == [True, True, False]
    assert table(ladder.by_field) == {
        "电子信息": (2, 2, 1, 3),
        "生物与新医药": (1, 1, 0, 1),
        "未填领域": (1, 0, 0, 0),
    }


def test_a_park_operator_sees_only_its_parks_counts(client, registry):
    client.force_login(registry.bob)
    response = client.get(URL)
    assert response.context["ladder"].assessed == 2
    assert counts(response) == zeros(tech_sme=(2, 0, 1, 1), hnte=(1, 0, 1, 0))
    assert distribution(response)[None] == 0 and distribution(response)["tech_sme"] == 1
    assert [row.label for row in response.context["ladder"].by_park] == ["临港松江科技园"]
    moves = response.context["ladder"].moves
    assert (moves.up, moves.down, moves.same, moves.new) == (1, 0, 0, 1)
    page = response.content.decode()
    assert registry.ent_b.name not in page
    # Asking for another park shows nothing of it.
    response = client.get(URL, {"park": registry.park_b.pk})
    assert response.context["ladder"].assessed == 0 and counts(response) == zeros()


def test_an_officer_filters_by_park_including_sub_parks(client, registry):
    client.force_login(registry.carol)
    response = client.get(URL, {"park": registry.park_b.pk})
    assert response.context["ladder"].assessed == 1
    assert counts(response) == zeros(tech_sme=(1, 0, 0, 1), hnte=(0, 1, 0, 0))
    assert client.get(URL, {"park": registry.zone.pk}).context["ladder"].assessed == 3


def test_another_done_run_can_be_picked(client, registry):
    client.force_login(registry.carol)
    response = client.get(URL, {"run": registry.before.pk})
    assert response.context["run"] == registry.before
    # A's certificate (2024-01-01 to 2026-12-31) was already held on 2025-06-30; B's had expired.
    assert counts(response) == zeros(tech_sme=(2, 0, 0, 2), hnte=(1, 1, 1, 1))
    assert response.context["ladder"].moves is None
    page = response.content.decode()
    assert "没有 2024 年" in page and '在<a href="/tiering/runs/">评估批次</a>中以 2024 年的日期' in page
    # An unknown or unfinished run falls back to the latest done one.
    assert client.get(URL, {"run": "999999"}).context["run"] == registry.now
    assert client.get(URL, {"run": "x"}).context["run"] == registry.now


@pytest.mark.parametrize("persona", ["alice", "uma", "eve"])
def test_enterprise_university_and_expert_users_are_refused(client, registry, persona):
    client.force_login(getattr(registry, persona))
    assert client.get(URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, registry):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_without_a_done_run_it_says_so_and_offers_officers_to_start_one(client, personas):
    client.force_login(personas.carol)
    page = client.get(URL).content.decode()
    assert "尚无已完成的梯度评估" in page and 'action="/tiering/runs/"' in page
    client.force_login(personas.leo)
    page = client.get(URL).content.decode()
    assert "尚无已完成的梯度评估" in page and 'action="/tiering/runs/"' not in page


# ---- moves since last year ------------------------------------------------------------------------------


def test_the_moves_since_last_year(client, registry):
    client.force_login(registry.carol)
    response = client.get(URL)
    moves = response.context["ladder"].moves
    assert moves.previous == registry.before
    assert (moves.up, moves.down, moves.same, moves.new, moves.left) == (1, 1, 1, 1, 0)
    movers = [
        (m.enterprise.name, m.direction, m.before_label, m.after_label) for m in response.context["movers"]
    ]
    assert movers == [
        ("上海甲科技有限公司", "up", "科技型中小企业", "高新技术企业"),
        ("上海乙生物有限公司", "down", "高新技术企业", "科技型中小企业"),
        ("测试企业3", "new", "未参评", "科技型中小企业"),
    ]
    page = response.content.decode()
    assert f'href="/tiering/runs/{registry.before.pk}/" id="previous-run">2025-06-30 评价' in page
    assert f'href="/enterprises/{registry.ent_a.pk}/">上海甲科技有限公司</a>' in page


def test_the_movers_are_filtered_by_direction_and_paged(client, registry):
    client.force_login(registry.carol)
    down = client.get(URL, {"move": "down"}).context["movers"]
    assert [m.enterprise for m in down] == [registry.ent_b]
    assert [m.enterprise for m in client.get(URL, {"move": "new"}).context["movers"]] == [registry.ent_c]
    assert len(client.get(URL, {"move": "bogus"}).context["movers"].object_list) == 3


def test_the_latest_run_of_the_previous_calendar_year_is_compared(client, registry):
    older = run_now(on=date(2025, 1, 15))
    later_in_2025 = run_now(on=date(2025, 12, 31))
    run_now(on=date(2024, 12, 31))
    assert selectors.previous_year_run(registry.now) == later_in_2025 != older
    client.force_login(registry.carol)
    assert client.get(URL).context["ladder"].moves.previous == later_in_2025


# ---- bounded work -------------------------------------------------------------------------------------------


def _queries(client, user):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, {"move": "up"}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["carol", "bob"])
def test_the_page_runs_the_same_number_of_queries_for_3_and_30_enterprises(
    client, personas, persona, django_assert_max_num_queries
):
    def assess(n):
        for i in range(Enterprise.objects.count(), n):
            enterprise(100 + i, park=personas.park_a)
        before, now = run_now(on=LAST_YEAR), run_now(on=THIS_YEAR)
        Assessment.objects.filter(run=before, area="tech_sme").update(status="met")
        Assessment.objects.filter(run=now, area="hnte").update(status="met")
        for ent in Enterprise.objects.all():
            Qualification.objects.get_or_create(enterprise=ent, kind="hnte", issue_date=date(2025, 1, 1))

    user = getattr(personas, persona)
    client.force_login(user)
    assess(3)
    few = _queries(client, user)
    assess(30)
    many = _queries(client, user)
    assert few == many
    with django_assert_max_num_queries(25):
        client.get(URL, {"move": "up"})
