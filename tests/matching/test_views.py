"""The 双向发榜 pages through the HTTP client: the search page (highlighted terms, bad queries told in Chinese),
the lists (search, filters, sorting, paging, who sees what), a demand's page with its recommendations and
explanations, posting and moderating by form (errors next to the fields, HTML shown as text, phones masked),
starting and moving a docking, the board and the officers' pages, and who may open what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kechuang.matching import services
from kechuang.matching.models import Achievement, Demand, Docking
from tests.matching import fixtures as f

mf = f.mf
pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def market(mf):
    mf.demand = f.published_demand(mf)
    mf.achievement = f.published_achievement(mf)
    mf.unrelated = f.publish(mf, f.achievement(mf, **f.UNRELATED))
    mf.talent = f.published_talent(mf)
    return mf


# —— search ——————————————————————————————————————————————————————————————————————————————————————————————————


def test_search_finds_demands_and_achievements_with_the_terms_marked(client, market):
    page = text(login(client, market.bob).get(reverse("matching:search"), {"q": "伺服电机"}))
    assert f'data-kind="demand" data-pk="{market.demand.pk}"' in page
    assert f'data-kind="achievement" data-pk="{market.achievement.pk}"' in page
    assert f'data-pk="{market.unrelated.pk}"' not in page
    assert "<mark>" in page


@pytest.mark.parametrize("q", ["", "电", " ! "])
def test_an_empty_or_one_character_query_is_refused_in_chinese(client, market, q):
    response = login(client, market.alice).get(reverse("matching:search"), {"q": q})
    assert response.status_code == 200
    assert 'id="search-error"' in text(response)


def test_a_very_long_query_is_refused_not_a_crash(client, market):
    response = login(client, market.alice).get(reverse("matching:search"), {"q": "伺服" * 3000})
    assert response.status_code == 200 and 'id="search-error"' in text(response)


def test_search_shows_only_published_postings(client, market):
    draft = f.demand(market, title="伺服电机草稿需求")
    page = text(login(client, market.alice).get(reverse("matching:search"), {"q": "伺服电机"}))
    assert f'data-kind="demand" data-pk="{draft.pk}"' not in page


def test_html_in_a_posting_is_shown_as_text_in_search_and_pages(client, market):
    evil = f.published_demand(
        market, title="伺服电机<script>alert(1)</script>", description="<img src=x onerror=alert(1)>描述"
    )
    page = text(login(client, market.bob).get(reverse("matching:search"), {"q": "伺服电机"}))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    detail = text(client.get(reverse("matching:demand-detail", args=[evil.pk])))
    assert "<script>alert(1)</script>" not in detail and "<img src=x" not in detail
    assert "&lt;img src=x onerror=alert(1)&gt;描述" in detail


# —— lists ———————————————————————————————————————————————————————————————————————————————————————————————————


def test_an_enterprise_sees_its_own_drafts_and_all_published_postings(client, market):
    mine = f.demand(market, title="甲的草稿")
    theirs = services.demand_create(
        enterprise=market.ent_b, user=market.ben, **f.demand_values(title="乙的草稿")
    )
    page = text(login(client, market.alice).get(reverse("matching:demand-list")))
    assert "甲的草稿" in page and "乙的草稿" not in page and market.demand.title in page
    assert (
        login(client, market.alice).get(reverse("matching:demand-detail", args=[theirs.pk])).status_code
        == 404
    )
    assert (
        login(client, market.carol).get(reverse("matching:demand-detail", args=[theirs.pk])).status_code
        == 200
    )
    assert login(client, market.ben).get(reverse("matching:demand-detail", args=[mine.pk])).status_code == 404


def test_list_filters_sorting_and_paging(client, market):
    for n in range(25):
        f.published_achievement(
            market, title=f"伺服成果{n:02d}", trl=(n % 9) + 1, field="08" if n % 2 else "01"
        )
    c = login(client, market.carol)
    page = text(c.get(reverse("matching:achievement-list"), {"field": "01"}))
    assert "伺服成果00" in page and "伺服成果01" not in page
    page = text(c.get(reverse("matching:achievement-list"), {"trl": "9"}))
    assert "伺服成果08" in page and "伺服成果07" not in page
    page = text(c.get(reverse("matching:achievement-list"), {"q": "伺服成果1", "sort": "-title"}))
    assert page.index("伺服成果19") < page.index("伺服成果10")
    first = text(c.get(reverse("matching:achievement-list"), {"sort": "title"}))
    assert "第 1 / 2 页" in first
    second = text(c.get(reverse("matching:achievement-list"), {"sort": "title", "page": "2"}))
    assert "第 2 / 2 页" in second
    bad = c.get(reverse("matching:achievement-list"), {"field": "xx", "sort": "drop table", "trl": "99"})
    assert bad.status_code == 200


def test_demands_filter_by_park_including_sub_parks(client, market):
    services.demand_create(enterprise=market.ent_b, user=market.ben, **f.demand_values(title="乙园区需求"))
    c = login(client, market.carol)
    page = text(c.get(reverse("matching:demand-list"), {"park": market.zone.pk}))
    assert market.demand.title in page and "乙园区需求" in page
    page = text(c.get(reverse("matching:demand-list"), {"park": market.park_a.pk}))
    assert market.demand.title in page and "乙园区需求" not in page


# —— a demand's page ————————————————————————————————————————————————————————————————————————————————————————


def test_a_demand_s_page_lists_its_matches_with_explanations(client, market):
    page = text(login(client, market.alice).get(reverse("matching:demand-detail", args=[market.demand.pk])))
    assert 'id="match-rows"' in page
    assert f'data-kind="achievement" data-pk="{market.achievement.pk}"' in page
    assert f'data-kind="talent" data-pk="{market.talent.pk}"' in page
    assert f'data-pk="{market.unrelated.pk}"' not in page
    assert "同领域" in page and "发起对接" in page


def test_match_filters_narrow_the_recommendations(client, market):
    c = login(client, market.alice)
    page = text(c.get(reverse("matching:demand-detail", args=[market.demand.pk]), {"mk": "talent"}))
    assert f'data-kind="talent" data-pk="{market.talent.pk}"' in page
    assert f'data-kind="achievement" data-pk="{market.achievement.pk}"' not in page
    page = text(
        c.get(reverse("matching:demand-detail", args=[market.demand.pk]), {"mk": "achievement", "mtrl": "6"})
    )
    assert f'data-pk="{market.achievement.pk}"' not in page  # its TRL is 5


def test_phones_are_masked_for_those_who_are_not_a_side(client, market):
    url = reverse("matching:demand-detail", args=[market.demand.pk])
    assert "138****5678" in text(login(client, market.ben).get(url))
    assert "13812345678" in text(login(client, market.alice).get(url))
    assert "13812345678" in text(login(client, market.carol).get(url))
    assert "138****5678" in text(login(client, market.uma).get(url))
    services.docking_create(market.demand, user=market.alice, achievement=market.achievement)
    assert "13812345678" in text(login(client, market.uma).get(url))


# —— posting by form —————————————————————————————————————————————————————————————————————————————————————————


def test_posting_a_demand_by_form_and_submitting_it(client, market):
    c = login(client, market.alice)
    data = {**f.demand_values(title="新的技术需求"), "budget": "300000", "deadline": "", "then": "submit"}
    response = c.post(reverse("matching:demand-create"), data)
    created = Demand.objects.get(title="新的技术需求")
    assert response.status_code == 302 and response["Location"] == reverse(
        "matching:demand-detail", args=[created.pk]
    )
    assert created.state == "pending" and created.enterprise == market.ent_a


def test_form_errors_are_shown_next_to_the_fields_and_nothing_is_saved(client, market):
    c = login(client, market.alice)
    data = {
        **f.demand_values(title=market.demand.title),
        "field": "42",
        "budget": "abc",
        "deadline": "",
        "description": "x" * 5001,
    }
    page = text(c.post(reverse("matching:demand-create"), data))
    assert "上海甲科技有限公司已发布同名需求“伺服电机温升控制”" in page
    assert "技术领域“42”不存在" in page
    assert "预算“abc”不是数字（单位：元）" in page
    assert "需求描述最多 5,000 字，现为 5,001 字" in page
    assert Demand.objects.count() == 1


def test_posting_pages_refuse_the_wrong_role(client, market):
    assert login(client, market.uma).get(reverse("matching:demand-create")).status_code == 403
    assert login(client, market.alice).get(reverse("matching:achievement-create")).status_code == 403
    assert (
        login(client, market.leo).post(reverse("matching:talent-create"), f.talent_values()).status_code
        == 403
    )
    assert client.logout() is None
    assert client.get(reverse("matching:search")).status_code == 302


def test_an_officer_moderates_from_the_queue(client, market):
    pending = f.demand(market, title="待审核的需求")
    services.posting_take(pending, "submit", user=market.alice)
    c = login(client, market.carol)
    assert "待审核的需求" in text(c.get(reverse("matching:moderation")))
    response = c.post(
        reverse("matching:demand-step", args=[pending.pk, "return"]), {"reason": "", "next": "queue"}
    )
    assert response.status_code == 302
    assert Demand.objects.get(pk=pending.pk).state == "pending"
    c.post(reverse("matching:demand-step", args=[pending.pk, "publish"]), {"next": "queue"})
    assert Demand.objects.get(pk=pending.pk).state == "published"
    assert login(client, market.alice).get(reverse("matching:moderation")).status_code == 403


def test_editing_a_published_demand_warns_it_goes_back_to_moderation(client, market):
    c = login(client, market.alice)
    url = reverse("matching:demand-edit", args=[market.demand.pk])
    assert c.get(url).status_code == 200
    data = {**f.demand_values(title="伺服电机温升控制（二期）"), "budget": "800000", "deadline": ""}
    response = c.post(url, data, follow=True)
    assert "已发布的内容修改后须重新审核" in text(response)
    assert Demand.objects.get(pk=market.demand.pk).state == "pending"
    assert login(client, market.ben).get(url).status_code == 404


# —— dockings ————————————————————————————————————————————————————————————————————————————————————————————————


def test_starting_a_docking_from_a_recommendation_and_moving_it_to_signed(client, market):
    c = login(client, market.alice)
    response = c.post(
        reverse("matching:demand-dock", args=[market.demand.pk]),
        {"kind": "achievement", "pk": market.achievement.pk},
    )
    docking = Docking.objects.get()
    assert response["Location"] == reverse("matching:docking-detail", args=[docking.pk])
    today = timezone.localdate().isoformat()
    for name in ("contact", "negotiate"):
        c.post(
            reverse("matching:docking-step", args=[docking.pk, name]),
            {f"{name}-on": today, f"{name}-text": "进展"},
        )
    page = text(
        c.post(
            reverse("matching:docking-step", args=[docking.pk, "sign"]),
            {"sign-on": today, "sign-text": "签约"},
        )
    )
    assert "签约须填写合同金额（元）" in page
    c.post(
        reverse("matching:docking-step", args=[docking.pk, "sign"]),
        {"sign-on": today, "sign-text": "签订合同", "sign-amount": "600000"},
    )
    docking.refresh_from_db()
    assert docking.state == "signed" and str(docking.contract_amount) == "600000.00"
    page = text(c.get(reverse("matching:docking-detail", args=[docking.pk])))
    assert "60.00 万元" in page


def test_a_docking_is_hidden_from_outsiders_and_read_only_for_leaders(client, market):
    docking = services.docking_create(market.demand, user=market.alice, achievement=market.achievement)
    url = reverse("matching:docking-detail", args=[docking.pk])
    assert login(client, market.ben).get(url).status_code == 404
    assert login(client, market.vic).get(url).status_code == 404
    page = text(login(client, market.leo).get(url))
    assert "推进对接" not in page
    today = timezone.localdate().isoformat()
    response = client.post(
        reverse("matching:docking-step", args=[docking.pk, "contact"]),
        {"contact-on": today, "contact-text": "x"},
    )
    assert response.status_code == 403
    assert "推进对接" in text(login(client, market.uma).get(url))


def test_the_board_shows_each_state_and_a_state_s_list_pages(client, market):
    docking = services.docking_create(market.demand, user=market.alice, achievement=market.achievement)
    services.docking_create(market.demand, user=market.alice, talent=market.talent)
    services.docking_step(
        docking, "decline", user=market.alice, on=timezone.localdate(), text="不对口", reason="not_relevant"
    )
    c = login(client, market.alice)
    page = text(c.get(reverse("matching:docking-board")))
    assert 'data-state="recommended"' in page and 'data-state="declined"' in page and "技术不对口" in page
    listing = text(c.get(reverse("matching:docking-board"), {"state": "declined"}))
    assert 'id="docking-rows"' in listing and market.achievement.title in listing
    assert market.talent.title not in listing
    assert "对接" in text(login(client, market.ben).get(reverse("matching:docking-board")))
    assert market.achievement.title not in text(client.get(reverse("matching:docking-board")))


def test_officer_pages_unmatched_demands_and_decline_analysis(client, market):
    lonely = f.published_demand(
        market,
        title="量子点显示膜涂布均匀性",
        field="04",
        keywords="量子点、涂布",
        description="量子点膜涂布厚度均匀性不足导致色偏。",
    )
    docking = services.docking_create(market.demand, user=market.alice, achievement=market.achievement)
    services.docking_step(
        docking, "decline", user=market.alice, on=timezone.localdate(), text="太贵", reason="too_costly"
    )
    c = login(client, market.carol)
    page = text(c.get(reverse("matching:unmatched")))
    assert f'data-pk="{lonely.pk}"' in page
    page = text(c.get(reverse("matching:declines")))
    assert 'data-reason="too_costly"' in page and "成本或报价过高" in page and "共 1 项" in page
    page = text(c.get(reverse("matching:declines"), {"year": timezone.localdate().year - 1}))
    assert "共 0 项" in page
    assert login(client, market.alice).get(reverse("matching:unmatched")).status_code == 403
    assert login(client, market.alice).get(reverse("matching:declines")).status_code == 403
    assert login(client, market.leo).get(reverse("matching:declines")).status_code == 200


def test_the_list_page_query_count_does_not_grow_with_rows(client, market, django_assert_max_num_queries):
    for n in range(30):
        f.published_demand(market, title=f"需求{n}", deadline=timezone.localdate() + dt.timedelta(days=n))
    c = login(client, market.carol)
    c.get(reverse("matching:demand-list"))
    with django_assert_max_num_queries(12):
        c.get(reverse("matching:demand-list"), {"sort": "deadline"})


def test_the_import_page_and_template(client, market):
    c = login(client, market.uma)
    assert c.get(reverse("matching:achievement-import")).status_code == 200
    response = c.get(reverse("matching:achievement-import-template"))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert login(client, market.alice).get(reverse("matching:achievement-import")).status_code == 403
    assert Achievement.objects.count() == 2


def test_the_admin_lists_postings_and_dockings_read_only_and_keeps_affiliations(admin_client, market):
    services.docking_create(market.demand, user=market.alice, achievement=market.achievement)
    for name in ("demand", "achievement", "talentprofile", "docking", "indexchange", "affiliation"):
        assert admin_client.get(f"/admin/matching/{name}/").status_code == 200, name
    assert admin_client.get(f"/admin/matching/demand/{market.demand.pk}/change/").status_code == 200
    assert admin_client.get("/admin/matching/demand/add/").status_code == 403
    assert admin_client.get("/admin/matching/affiliation/add/").status_code == 200
