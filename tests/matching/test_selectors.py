"""Reads of 双向发榜 (access.py, selectors.py): who sees which postings and dockings, whose phone is shown, the
search and recommendations over published postings only — kept up to date when a posting is edited, withdrawn
or deleted — the open demands with no good match, the analysis of declines, and the board."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kechuang.matching import access, selectors, services
from kechuang.matching.models import Demand
from tests.matching import fixtures as f

mf = f.mf
pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def hits(query: str, **kwargs) -> set[tuple[str, int]]:
    result = selectors.search(query, **kwargs)
    assert not result.error, result.error
    return {(row.hit.kind, row.obj.pk) for row in result.rows}


# —— who sees what ———————————————————————————————————————————————————————————————————————————————————————————


def test_each_side_sees_its_own_postings_in_every_state_and_the_published_ones(mf):
    draft = f.achievement(mf, title="草稿成果")
    published = f.published_achievement(mf, title="已发布成果")
    theirs = services.achievement_create(user=mf.vic, **f.achievement_values(title="另一校草稿"))
    assert set(access.visible_postings("achievement", mf.uma)) == {draft, published}
    assert set(access.visible_postings("achievement", mf.vic)) == {published, theirs}
    assert set(access.visible_postings("achievement", mf.alice)) == {published}
    assert set(access.visible_postings("achievement", mf.carol)) == {draft, published, theirs}
    assert set(access.visible_postings("achievement", mf.leo)) == {draft, published, theirs}


def test_a_closed_posting_is_still_readable_but_not_searched(mf):
    a = f.published_achievement(mf)
    assert ("achievement", a.pk) in hits("伺服电机散热")
    services.posting_take(a, "close", user=mf.uma)
    assert a in access.visible_postings("achievement", mf.alice)
    assert ("achievement", a.pk) not in hits("伺服电机散热")


def test_dockings_are_seen_by_their_two_sides_and_officers(mf):
    d = services.docking_create(
        f.published_demand(mf), user=mf.alice, achievement=f.published_achievement(mf)
    )
    seen = {
        u.username
        for u in (mf.alice, mf.uma, mf.carol, mf.leo, mf.ben, mf.vic, mf.bob)
        if d in access.visible_dockings(u)
    }
    assert seen == {"alice", "uma", "carol", "leo"}
    assert access.sides_of(mf.alice, d) == {"demand"} and access.sides_of(mf.uma, d) == {"counterpart"}
    sides = access.side_users(d)
    assert [u.username for u in sides["demand"]] == ["alice"]
    assert [u.username for u in sides["counterpart"]] == ["uma"]


def test_phones_in_full_for_officers_owners_and_the_other_side_of_a_docking(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    assert access.may_see_phone(mf.carol, d) and access.may_see_phone(mf.alice, d)
    assert not access.may_see_phone(mf.uma, d) and not access.may_see_phone(mf.ben, a)
    services.docking_create(d, user=mf.alice, achievement=a)
    assert access.may_see_phone(mf.uma, d) and access.may_see_phone(mf.alice, a)
    assert not access.may_see_phone(mf.ben, d)
    assert access.masked("13812345678") == "138****5678" and access.masked("5700") == "****"


# —— search and recommendations stay up to date ————————————————————————————————————————————————————————————————


def test_search_is_over_published_demands_and_achievements_with_filters(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    f.achievement(mf, title="伺服电机草稿")
    assert hits("伺服电机") == {("demand", d.pk), ("achievement", a.pk)}
    assert hits("伺服电机", kinds=("achievement",)) == {("achievement", a.pk)}
    assert hits("伺服电机", field="01") == set()
    assert hits("伺服电机", trl_min=6, kinds=("achievement",)) == set()


@pytest.mark.parametrize("query", ["", "电", "！！", "伺" * 5000])
def test_bad_queries_come_back_as_a_chinese_error(mf, query):
    result = selectors.search(query)
    assert result.error and result.rows == [] and result.total == 0


def test_an_edit_shows_in_the_next_search_and_recommendation(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    assert ("achievement", a.pk) in hits("相变材料")
    services.posting_update(
        a,
        user=mf.carol,
        title="伺服电机液冷散热结构",
        keywords="伺服电机、液冷、温升",
        abstract="液冷套与导热胶结合的伺服电机散热结构，温升降低 12K。",
    )
    assert ("achievement", a.pk) not in hits("相变材料")
    assert ("achievement", a.pk) in hits("液冷")
    assert a.pk in [m.obj.pk for m in selectors.demand_matches(d)]


def test_an_owner_s_edit_takes_a_posting_out_until_it_is_published_again(mf):
    a = f.published_achievement(mf)
    services.posting_update(a, user=mf.uma, keywords="伺服电机、液冷")
    assert ("achievement", a.pk) not in hits("伺服电机")
    services.posting_take(a, "publish", user=mf.carol)
    assert ("achievement", a.pk) in hits("伺服电机")


def test_a_withdrawn_or_deleted_posting_leaves_search_and_recommendations(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    t = f.published_talent(mf)
    assert {m.obj.pk for m in selectors.demand_matches(d)} >= {a.pk, t.pk}
    services.posting_take(a, "withdraw", user=mf.uma)
    services.posting_delete(t, user=mf.carol)
    assert {(m.kind, m.obj.pk) for m in selectors.demand_matches(d)} & {
        ("achievement", a.pk),
        ("talent", t.pk),
    } == set()
    assert ("achievement", a.pk) not in hits("伺服电机")
    services.posting_delete(d, user=mf.carol)
    assert not Demand.objects.exists()
    assert ("demand", d.pk) not in hits("伺服电机")


def test_recommendations_explain_themselves(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    f.publish(mf, f.achievement(mf, **f.UNRELATED))
    [first, *_] = selectors.demand_matches(d)
    assert (first.kind, first.obj.pk) == ("achievement", a.pk)
    assert first.field_match and first.terms and first.explanation and first.good
    assert "伺服电机" in first.keyword_hits  # one of the demand's own keywords, in its text
    assert all(m.obj.field == "08" for m in selectors.demand_matches(d, field="08"))
    assert selectors.demand_matches(d, kinds=("talent",)) == []


# —— open demands with no good match ——————————————————————————————————————————————————————————————————————————


def test_unmatched_demands_are_open_ones_without_a_good_match_or_a_docking(mf):
    matched = f.published_demand(mf)
    f.published_achievement(mf)
    lonely = f.published_demand(
        mf,
        title="量子点显示膜涂布",
        field="04",
        keywords="量子点、涂布",
        description="量子点膜涂布厚度均匀性不足。",
    )
    expired = f.published_demand(
        mf, title="过期的量子点需求", field="04", keywords="量子点", description="量子点。", deadline=today()
    )
    Demand.objects.filter(pk=expired.pk).update(deadline=today() - dt.timedelta(days=1))
    rows = selectors.unmatched_demands()
    assert [r.demand.pk for r in rows] == [lonely.pk]
    assert rows[0].best is None and rows[0].why.startswith("没有可推荐的成果或专家团队")
    assert matched.pk not in [r.demand.pk for r in rows]
    assert selectors.unmatched_demands(field="08") == []


def test_a_demand_whose_good_matches_were_all_declined_is_unmatched_again(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    docking = services.docking_create(d, user=mf.alice, achievement=a)
    assert d.pk not in [r.demand.pk for r in selectors.unmatched_demands()]
    services.docking_step(docking, "decline", user=mf.alice, on=today(), text="不对口", reason="not_relevant")
    [row] = selectors.unmatched_demands()
    assert row.demand.pk == d.pk and row.declined == 1


# —— declines and the board ———————————————————————————————————————————————————————————————————————————————————


def test_decline_analysis_by_reason_field_and_stage(mf):
    d = f.published_demand(mf)
    first = services.docking_create(d, user=mf.alice, achievement=f.published_achievement(mf))
    services.docking_step(first, "decline", user=mf.alice, on=today(), text="不对口", reason="not_relevant")
    second = services.docking_create(d, user=mf.alice, talent=f.published_talent(mf))
    for name in ("contact", "negotiate"):
        services.docking_step(second, name, user=mf.alice, on=today(), text=name)
    services.docking_step(second, "decline", user=mf.alice, on=today(), text="太贵", reason="too_costly")
    analysis = selectors.decline_analysis()
    assert analysis.total == 2
    counts = {code: n for code, _, n, _ in analysis.reasons}
    assert counts["not_relevant"] == 1 and counts["too_costly"] == 1 and counts["ip_unclear"] == 0
    assert dict((code, n) for code, _, n in analysis.stages) == {
        "recommended": 1,
        "contacted": 0,
        "negotiating": 1,
        "signed": 0,
    }
    assert analysis.fields == [("08", "先进制造与自动化")] and analysis.field_totals == [2]
    assert analysis.years == [today().year]
    assert selectors.decline_analysis(year=today().year - 1).total == 0
    assert selectors.decline_analysis(field="02").total == 0


def test_the_board_counts_each_state_for_the_user(mf):
    d = f.published_demand(mf)
    services.docking_create(d, user=mf.alice, achievement=f.published_achievement(mf))
    moved = services.docking_create(d, user=mf.alice, talent=f.published_talent(mf))
    for name in ("contact", "negotiate"):
        services.docking_step(moved, name, user=mf.alice, on=today(), text=name)
    services.docking_note_add(moved, user=mf.alice, on=today(), text="寄送样品")
    board = selectors.docking_board(user=mf.alice)
    columns = {c.state: c.count for c in board}
    assert columns == {
        "recommended": 1,
        "contacted": 0,
        "negotiating": 1,
        "signed": 0,
        "landed": 0,
        "declined": 0,
    }
    [card] = next(c for c in board if c.state == "negotiating").dockings
    assert card.pk == moved.pk and card.last_on == today()
    assert selectors.dockings(selectors.DockingFilters(state="negotiating"), user=mf.alice).count() == 1
    assert sum(c.count for c in selectors.docking_board(user=mf.ben)) == 0


def test_a_same_field_match_without_the_demand_s_keywords_is_not_good(mf):
    f.published_achievement(mf)
    d = f.published_demand(
        mf,
        title="伺服驱动器电磁兼容整改",
        keywords="电磁兼容、EMC",
        description="伺服驱动器传导发射测试超标，需要电磁兼容整改方案。",
    )
    [best, *_] = selectors.demand_matches(d)
    assert best.field_match and best.keyword_hits == () and not best.good
    [row] = selectors.unmatched_demands()
    assert row.demand.pk == d.pk and row.best.obj.pk == best.obj.pk
    assert row.why == "未命中需求的关键词（电磁兼容、EMC）"
