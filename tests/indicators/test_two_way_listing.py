"""校企双向发榜成功对接项目 (two_way_listing_projects) is computed from the dockings of 双向发榜: on a date, the
dockings signed (签约日期) in that date's year up to it that are 签约 or 落地 now. A docking signed on 1 January
counts for its year and not the year before; one declined does not count (nor one signed and then declined);
moving to 落地 does not count it twice; the remembered value follows every step; the indicator's drill-down is
the docking list of exactly those dockings; an officer's observation and a document's yearly figure still win
over the computed value for a past year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from kechuang.indicators import selectors as indicator_selectors
from kechuang.indicators.computed import COMPUTED, SuccessfulDockings, docking_state
from kechuang.indicators.models import DocumentedFigure, FigureKind, Indicator, Observation
from kechuang.matching import selectors, services
from kechuang.matching.models import Docking
from tests.matching import fixtures as f

mf = f.mf
pytestmark = pytest.mark.django_db

SIGNED = COMPUTED["two_way_listing_projects"]
Y = 2025
LAST_DAY_BEFORE = dt.date(Y - 1, 12, 31)
NEW_YEAR = dt.date(Y, 1, 1)
YEAR_END = dt.date(Y, 12, 31)


@pytest.fixture
def dm(mf):
    mf.demand = f.published_demand(mf)
    mf.titles = iter(f"伺服电机散热方案{n}" for n in range(1, 100))
    return mf


def negotiating(p, started: dt.date) -> Docking:
    """A docking started and moved to 洽谈 on `started`."""
    achievement = f.published_achievement(p, title=next(p.titles))
    docking = services.docking_create(p.demand, user=p.alice, achievement=achievement, today=started)
    for name in ("contact", "negotiate"):
        services.docking_step(docking, name, user=p.alice, on=started, text=f"{name} 记录", today=started)
    return docking


def step(p, docking: Docking, name: str, on: dt.date, **extra) -> Docking:
    if name == "sign":
        extra.setdefault("amount", "500000")
    if name == "decline":
        extra.setdefault("reason", "too_costly")
    services.docking_step(docking, name, user=p.alice, on=on, text=f"{name} 记录", today=on, **extra)
    return Docking.objects.get(pk=docking.pk)


def signed(p, on: dt.date, started: dt.date | None = None) -> Docking:
    return step(p, negotiating(p, started or on), "sign", on)


def test_the_catalogue_marks_the_indicator_computed_from_the_dockings():
    """catalogue_sync (run after migrate) reads indicators.yaml."""
    indicator = Indicator.objects.get(code="two_way_listing_projects")
    assert indicator.computed == "two_way_listing_projects"
    assert isinstance(COMPUTED[indicator.computed], SuccessfulDockings)
    assert not SIGNED.by_registry  # no breakdown by enterprise: its drill-down is the docking list


def test_a_docking_signed_on_new_year_s_day_counts_for_that_year_not_the_one_before(dm):
    docking = signed(dm, NEW_YEAR, started=dt.date(Y - 1, 12, 30))  # started and negotiated last year

    assert docking.state == "signed" and docking.signed_on == NEW_YEAR
    assert SIGNED.values([LAST_DAY_BEFORE, NEW_YEAR, YEAR_END]) == {
        LAST_DAY_BEFORE: 0,
        NEW_YEAR: 1,
        YEAR_END: 1,
    }
    assert SIGNED.value(dt.date(Y + 1, 12, 31)) == 0  # the next year starts from nothing
    assert selectors.successful_dockings(Y) == 1 and selectors.successful_dockings(Y - 1) == 0


def test_a_docking_signed_on_new_year_s_eve_counts_for_its_year_only(dm):
    signed(dm, LAST_DAY_BEFORE, started=dt.date(Y - 1, 12, 1))

    assert SIGNED.value(LAST_DAY_BEFORE) == 1
    assert SIGNED.value(NEW_YEAR) == 0 and SIGNED.value(YEAR_END) == 0


def test_the_value_on_a_date_counts_the_year_up_to_that_date(dm):
    signed(dm, dt.date(Y, 6, 15), started=dt.date(Y, 6, 1))
    signed(dm, dt.date(Y, 6, 16), started=dt.date(Y, 6, 1))

    assert SIGNED.values([dt.date(Y, 6, 14), dt.date(Y, 6, 15), dt.date(Y, 6, 16)]) == {
        dt.date(Y, 6, 14): 0,
        dt.date(Y, 6, 15): 1,
        dt.date(Y, 6, 16): 2,
    }


def test_a_declined_docking_does_not_count_not_even_after_signing(dm):
    never = negotiating(dm, dt.date(Y, 3, 1))
    step(dm, never, "decline", dt.date(Y, 3, 2))
    assert SIGNED.value(YEAR_END) == 0

    later_failed = signed(dm, dt.date(Y, 4, 1))
    assert SIGNED.value(YEAR_END) == 1
    later_failed = step(dm, later_failed, "decline", dt.date(Y, 5, 1))

    assert later_failed.state == "declined" and later_failed.signed_on == dt.date(Y, 4, 1)  # the date stays
    assert SIGNED.value(YEAR_END) == 0 and selectors.successful_dockings(Y) == 0


def test_moving_to_landed_does_not_count_a_docking_twice(dm):
    docking = signed(dm, dt.date(Y, 4, 1))
    assert SIGNED.value(YEAR_END) == 1

    landed = step(dm, docking, "land", dt.date(Y + 1, 2, 1))  # 落地 the next year

    assert landed.state == "landed" and landed.signed_on == dt.date(Y, 4, 1)
    assert SIGNED.value(YEAR_END) == 1  # still one, in the year of its signing
    assert SIGNED.value(dt.date(Y + 1, 12, 31)) == 0  # 落地 is not a new 签约
    assert list(SIGNED.records(YEAR_END)) == [landed]


def test_dockings_not_yet_signed_do_not_count(dm):
    negotiating(dm, dt.date(Y, 3, 1))
    assert SIGNED.value(YEAR_END) == 0


def test_the_value_within_a_park_counts_its_enterprises_demands(dm):
    signed(dm, dt.date(Y, 4, 1))  # the demand is enterprise A's, in park A

    assert SIGNED.value(YEAR_END, dm.park_a.with_descendants()) == 1
    assert SIGNED.value(YEAR_END, dm.park_b.with_descendants()) == 0
    assert SIGNED.value(YEAR_END, []) == 0


def test_the_remembered_value_changes_with_every_step(dm):
    docking = negotiating(dm, dt.date(Y, 3, 1))
    before = docking_state()
    assert SIGNED.value(YEAR_END) == 0  # remembered now

    docking = step(dm, docking, "sign", dt.date(Y, 3, 2))
    assert docking_state() != before  # the step wrote a history row: a new key
    assert SIGNED.value(YEAR_END) == 1

    docking = step(dm, docking, "decline", dt.date(Y, 3, 3))
    assert SIGNED.value(YEAR_END) == 0


def test_the_value_is_remembered_until_a_docking_changes(dm, django_assert_num_queries):
    """A write outside the services (no history row) is not seen until the cache is emptied: the key is the
    dockings' history, which every step writes."""
    docking = signed(dm, dt.date(Y, 4, 1))
    assert SIGNED.value(YEAR_END) == 1
    with django_assert_num_queries(6):  # the six ids of the key, no count
        assert SIGNED.value(YEAR_END) == 1

    Docking.objects.filter(pk=docking.pk).update(signed_on=dt.date(Y - 1, 4, 1))
    assert SIGNED.value(YEAR_END) == 1  # remembered: nothing told the cache

    cache.clear()
    assert SIGNED.value(YEAR_END) == 0


def test_the_drilldown_lists_exactly_the_dockings_counted(client, dm):
    counted = [signed(dm, dt.date(Y, 2, 1)), step(dm, signed(dm, dt.date(Y, 3, 1)), "land", dt.date(Y, 5, 1))]
    step(dm, signed(dm, dt.date(Y, 4, 1)), "decline", dt.date(Y, 4, 2))  # signed, then failed
    signed(dm, dt.date(Y - 1, 12, 31), started=dt.date(Y - 1, 12, 1))  # last year's
    negotiating(dm, dt.date(Y, 6, 1))  # not signed
    assert SIGNED.value(YEAR_END) == 2
    client.force_login(dm.carol)

    behind = client.get(
        reverse("indicators:drilldown", args=["two_way_listing_projects"]) + f"?on={YEAR_END}"
    )

    assert behind.status_code == 302
    assert behind["Location"] == (
        reverse("matching:docking-board") + f"?state=successful&signed_year={Y}&sort=-signed"
    )
    listed = client.get(behind["Location"])
    assert listed.status_code == 200
    rows = list(listed.context["page"].object_list)
    assert [d.pk for d in rows] == [counted[1].pk, counted[0].pk]  # latest 签约 first
    assert listed.context["page"].paginator.count == SIGNED.value(YEAR_END)
    page = listed.content.decode()
    assert "共 <strong>2</strong> 项" in page
    # The form shows and keeps the drill-down's filter, so submitting it again does not drop it.
    assert '<option value="successful" selected>成功对接（签约或落地）</option>' in page
    assert f'name="signed_year" min="1900" max="9999" value="{Y}"' in page


def test_the_docking_filters_read_the_successful_state_and_the_signing_year():
    chosen = selectors.DockingFilters.from_params({"state": "successful", "signed_year": "2025"})
    assert chosen.state == "successful" and chosen.signed_year == 2025 and chosen.active
    ignored = selectors.DockingFilters.from_params({"state": "won", "signed_year": "二〇二五"})
    assert ignored.state == "" and ignored.signed_year is None and not ignored.active
    assert selectors.DockingFilters.from_params({"signed_year": "10000"}).signed_year is None


def test_the_indicator_page_shows_the_computed_value_and_its_definition(client, dm):
    signed(dm, dt.date(Y, 4, 1))
    client.force_login(dm.carol)

    page = client.get(reverse("indicators:detail", args=["two_way_listing_projects"]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "当年校企双向发榜成功对接的项目数" in html and 'id="registry"' not in html
    assert 'id="computed-note"' in html  # no hand-typed observation for a computed indicator


def test_an_observation_and_a_document_s_yearly_figure_win_over_the_computed_value(dm):
    """The series rule (indicators.selectors.series_many): officer observation > document figure > registry. The
    documents' 37 is a figure of a period (2021–2025), not of one year: it is not a yearly point."""
    indicator = Indicator.objects.get(code="two_way_listing_projects")
    assert indicator.figures.filter(value=37, period_start=2021).exists()
    signed(dm, dt.date(Y, 4, 1))
    signed(dm, dt.date(Y - 1, 4, 1))
    signed(dm, dt.date(Y - 2, 4, 1))
    today = dt.date(Y + 1, 3, 1)
    figure = indicator.figures.first()
    DocumentedFigure.objects.create(
        indicator=indicator,
        kind=FigureKind.HISTORY,
        year=Y - 1,
        text="9",
        value=Decimal(9),
        document=figure.document,
        place="测试",
        quote="测试",
    )
    Observation.objects.create(indicator=indicator, year=Y - 2, value=Decimal(7), source="年报")

    points = {p.year: p for p in indicator_selectors.series(indicator, today, since=Y - 2)}

    assert (points[Y - 2].value, points[Y - 2].source) == (7.0, "observation")
    assert (points[Y - 1].value, points[Y - 1].source) == (9.0, "document")
    assert (points[Y].value, points[Y].source, points[Y].on) == (1.0, "registry", dt.date(Y, 12, 31))
    assert (points[Y + 1].value, points[Y + 1].on) == (0.0, today)  # this year so far
    assert 37.0 not in [p.value for p in points.values()]


def test_the_indicator_page_names_dockings_as_the_source_and_the_drilldown(client, dm):
    signed(dm, dt.date(Y, 2, 1))
    client.force_login(dm.carol)
    page = client.get(reverse("indicators:detail", args=["two_way_listing_projects"])).content.decode()
    assert ">对接明细</a>" in page and ">企业明细</a>" not in page
    assert "对接记录实时计算" in page or "对接记录（" in page
