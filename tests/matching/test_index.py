"""The search index of 双向发榜 (kechuang.matching.index): documents from the database, the index following
IndexChange on edit and delete (and the registry), park and TRL filters, explanations naming the shared terms
and the field, HTML escaped, refusals with their Chinese messages, and `kechuang matching_reindex`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kechuang.enterprises.models import Enterprise, Park
from kechuang.matching import index, services
from kechuang.matching.models import Achievement, Demand, IndexChange, TalentProfile
from kechuang.search import tokenizer
from tests.matching import fixtures as f

mf = f.mf
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index():
    index.forget()
    yield
    index.forget()


def _tokens(title, keywords, text):
    return index.tokens_for(title, keywords, text)


def make_demand(p, title, keywords, description, *, field="08", state="published", enterprise=None, **extra):
    enterprise = enterprise or p.ent_a
    d = Demand.objects.create(
        enterprise=enterprise,
        title=title,
        keywords=keywords,
        description=description,
        field=field,
        state=state,
        fingerprint=title,
        tokens=_tokens(title, keywords, description),
        **extra,
    )
    index.record_change("demand", d.pk)
    return d


def make_achievement(
    title, keywords, abstract, *, field="08", trl=5, state="published", organisation="某大学"
):
    a = Achievement.objects.create(
        organisation=organisation,
        title=title,
        keywords=keywords,
        abstract=abstract,
        field=field,
        trl=trl,
        state=state,
        fingerprint=title,
        tokens=_tokens(title, keywords, abstract),
    )
    index.record_change("achievement", a.pk)
    return a


def make_talent(title, keywords, bio, *, field="08", state="published"):
    t = TalentProfile.objects.create(
        organisation="某大学",
        title=title,
        keywords=keywords,
        bio=bio,
        field=field,
        state=state,
        fingerprint=title,
        tokens=_tokens(title, keywords, bio),
    )
    index.record_change("talent", t.pk)
    return t


def keys(matches):
    return [(m.kind, m.pk) for m in matches]


@pytest.fixture
def world(mf):
    """A demand of enterprise A (park A) on servo motors, matching achievements and a team, unrelated ones."""
    p = mf
    p.servo = make_demand(
        p,
        "伺服电机温升控制",
        "伺服电机、温升、散热",
        "高精度伺服电机连续运行 8 小时温升超过 45K，需在不增加体积的前提下降低温升。",
    )
    p.cooling = make_achievement(
        "伺服电机高效散热结构",
        "伺服电机、散热、相变材料",
        "定子灌封导热胶与相变材料散热结构，温升降低 12K。",
        trl=5,
    )
    p.early = make_achievement(
        "电机散热新方法", "散热、电机", "实验室阶段的电机散热原理验证。", trl=3, organisation="另一所大学"
    )
    p.unknown_trl = make_achievement("伺服电机温升监测", "伺服电机、温升", "温升在线监测。", trl=None)
    p.suture = make_achievement(
        "可降解医用缝合线", "聚乳酸、缝合线", "聚乳酸熔融纺丝制备可吸收缝合线。", field="02", trl=6
    )
    p.draft = make_achievement("伺服电机散热草稿", "伺服电机、散热", "尚未发布。", state="draft")
    p.team = make_talent("电机驱动与控制团队", "伺服电机、电机控制、散热", "研究伺服电机设计与温升抑制。")
    return p


# —— Documents from the database ————————————————————————————————————————————————————————————————————————


def test_only_published_postings_are_indexed_and_rebuild_reports_the_counts(world):
    counts = index.rebuild()
    assert {k: counts[k] for k in index.KINDS} == {
        "demand": 1,
        "achievement": 4,
        "talent": 1,
        "enterprise": 0,
    }
    assert counts["seconds"] >= 0
    found = keys(index.recommend_for_demand(world.servo))
    assert ("achievement", world.draft.pk) not in found
    assert {("achievement", world.cooling.pk), ("talent", world.team.pk)} <= set(found[:3])
    assert ("achievement", world.suture.pk) not in found  # shares nothing


def test_a_demand_finds_achievements_and_talent_an_achievement_finds_demands(world):
    for_demand = index.recommend_for_demand(world.servo, kinds=("achievement",))
    assert {m.kind for m in for_demand} == {"achievement"}
    assert index.recommend_for_demand(world.servo, kinds=("talent",))[0].pk == world.team.pk
    for_achievement = index.recommend_for_achievement(world.cooling)
    assert keys(for_achievement) == [("demand", world.servo.pk)]
    # the posting itself is never recommended to itself
    assert ("achievement", world.cooling.pk) not in keys(
        index.recommend_for_achievement(world.cooling, kinds=("achievement",))
    )


def test_postings_with_stale_tokens_are_tokenized_afresh(world):
    Achievement.objects.filter(pk=world.cooling.pk).update(tokens={})  # as if written by an older tokenizer
    Achievement.objects.filter(pk=world.early.pk).update(tokens={"title": ["旧"], "v": tokenizer.VERSION - 1})
    found = keys(index.recommend_for_demand(world.servo, kinds=("achievement",)))
    assert ("achievement", world.cooling.pk) in found[:2]
    assert ("achievement", world.early.pk) in found


def test_enterprises_of_the_registry_with_a_main_business_are_indexed(world):
    world.ent_b.main_business = "伺服电机散热器与导热材料的研发和生产"
    world.ent_b.hitech_field = "08"
    world.ent_b.save()
    Enterprise.objects.filter(pk=world.ent_a.pk).update(main_business="")  # nothing to match on: not indexed
    found = index.recommend_for_achievement(world.cooling)
    assert ("enterprise", world.ent_b.pk) in keys(found)
    assert ("enterprise", world.ent_a.pk) not in keys(found)
    match = next(m for m in found if m.kind == "enterprise")
    assert "散热" in match.terms and match.field_match
    world.ent_b.status = "deregistered"
    world.ent_b.save()
    index.record_change("enterprise", world.ent_b.pk)
    assert ("enterprise", world.ent_b.pk) not in keys(index.recommend_for_achievement(world.cooling))


# —— Following IndexChange ——————————————————————————————————————————————————————————————————————————————


def test_an_edit_shows_in_the_next_query(world):
    assert keys(index.recommend_for_achievement(world.suture)) == []
    world.servo.title = "可吸收缝合线的纺丝工艺"
    world.servo.keywords = "缝合线、聚乳酸"
    world.servo.tokens = _tokens(world.servo.title, world.servo.keywords, world.servo.description)
    world.servo.save()
    assert keys(index.recommend_for_achievement(world.suture)) == []  # not recorded yet: not seen
    index.record_change("demand", world.servo.pk)
    assert keys(index.recommend_for_achievement(world.suture)) == [("demand", world.servo.pk)]


def test_a_delete_and_an_unpublished_posting_leave_the_index(world):
    assert ("talent", world.team.pk) in keys(index.recommend_for_demand(world.servo))
    pk = world.team.pk
    world.team.delete()
    index.record_change("talent", pk, deleted=True)
    assert ("talent", pk) not in keys(index.recommend_for_demand(world.servo))
    Achievement.objects.filter(pk=world.cooling.pk).update(state="closed")
    index.record_change("achievement", world.cooling.pk)
    assert ("achievement", world.cooling.pk) not in keys(index.recommend_for_demand(world.servo))
    Achievement.objects.filter(pk=world.cooling.pk).update(state="published")
    index.record_change("achievement", world.cooling.pk)
    assert ("achievement", world.cooling.pk) in keys(index.recommend_for_demand(world.servo))


def test_through_the_services_edit_and_delete_are_followed(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    assert keys(index.recommend_for_demand(d, kinds=("achievement",))) == [("achievement", a.pk)]
    services.posting_update(
        a, user=mf.uma, title="可降解医用缝合线", keywords="缝合线", abstract="聚乳酸纺丝。"
    )
    assert Achievement.objects.get(pk=a.pk).state == "pending"  # an edit goes back to moderation
    assert keys(index.recommend_for_demand(d, kinds=("achievement",))) == []
    a.refresh_from_db()
    services.posting_take(a, "publish", user=mf.carol)
    assert keys(index.recommend_for_achievement(a, kinds=("demand",))) == []  # new text: nothing in common
    services.posting_take(a, "withdraw", user=mf.uma)
    services.posting_delete(Achievement.objects.get(pk=a.pk), user=mf.uma)
    assert not Achievement.objects.filter(pk=a.pk).exists()
    assert ("achievement", a.pk) not in keys(index.recommend_for_demand(d, kinds=("achievement",)))


def test_a_query_when_nothing_changed_costs_one_query_on_the_change_log(world):
    index.recommend_for_demand(world.servo)  # builds
    with CaptureQueriesContext(connection) as queries:
        matches = index.recommend_for_demand(world.servo, kinds=("achievement",))
    change_log = [q for q in queries.captured_queries if "matching_indexchange" in q["sql"]]
    assert len(change_log) == 1
    # and one query for the fields of the matches (to say "领域不同"); nothing else
    assert len(queries.captured_queries) == 2 and matches


def test_a_compacted_or_rolled_back_change_log_makes_the_index_build_again(world):
    index.recommend_for_demand(world.servo)
    first = index._current
    IndexChange.objects.all().delete()  # what a rolled-back test or a compaction leaves
    Achievement.objects.filter(pk=world.cooling.pk).update(state="closed")  # changed without a record
    found = keys(index.recommend_for_demand(world.servo))
    assert index._current is not first
    assert ("achievement", world.cooling.pk) not in found


def test_too_many_changes_at_once_build_again(world, monkeypatch):
    index.recommend_for_demand(world.servo)
    first = index._current
    monkeypatch.setattr(index, "MAX_CHANGES", 2)
    for pk in (world.cooling.pk, world.early.pk, world.suture.pk):
        index.record_change("achievement", pk)
    index.recommend_for_demand(world.servo)
    assert index._current is not first


def test_the_registry_is_compared_every_minute_and_a_recorded_change_shows_at_once(world):
    index.recommend_for_achievement(world.cooling)
    Enterprise.objects.filter(pk=world.ent_b.pk).update(
        main_business="伺服电机散热器", hitech_field="08", updated_at=timezone.now()
    )
    # a bulk write (an import): not recorded, seen at the next comparison
    assert ("enterprise", world.ent_b.pk) not in keys(index.recommend_for_achievement(world.cooling))
    index.check_registry_now()
    assert ("enterprise", world.ent_b.pk) in keys(index.recommend_for_achievement(world.cooling))
    # a recorded change: at once
    Enterprise.objects.filter(pk=world.ent_b.pk).update(main_business="生物医药外包服务")
    index.record_change("enterprise", world.ent_b.pk)
    assert ("enterprise", world.ent_b.pk) not in keys(index.recommend_for_achievement(world.cooling))


# —— Filters ——————————————————————————————————————————————————————————————————————————————————————————————


def test_the_park_filter_takes_the_park_and_its_sub_parks(world):
    other = make_demand(
        world, "伺服电机散热改进", "伺服电机、散热", "电机温升偏高。", enterprise=world.ent_b
    )  # park B
    both = {("demand", world.servo.pk), ("demand", other.pk)}
    assert set(keys(index.recommend_for_achievement(world.cooling, kinds=("demand",)))) == both
    in_a = index.recommend_for_achievement(world.cooling, kinds=("demand",), park=world.park_a.pk)
    assert keys(in_a) == [("demand", world.servo.pk)]
    in_b = index.recommend_for_achievement(world.cooling, kinds=("demand",), park=world.park_b)
    assert keys(in_b) == [("demand", other.pk)]
    # the zone holds both sub-parks
    in_zone = index.recommend_for_achievement(world.cooling, kinds=("demand",), park=world.zone.pk)
    assert set(keys(in_zone)) == both
    # an empty park: nothing
    empty = Park.objects.create(name="空园区", kind="sub_park", parent=world.zone)
    assert index.recommend_for_achievement(world.cooling, kinds=("demand",), park=empty.pk) == []


def test_a_demand_follows_its_enterprise_to_another_park(world):
    assert index.recommend_for_achievement(world.cooling, kinds=("demand",), park=world.park_b.pk) == []
    world.ent_a.park = world.park_b
    world.ent_a.save()
    index.record_change("enterprise", world.ent_a.pk)
    found = index.recommend_for_achievement(world.cooling, kinds=("demand",), park=world.park_b.pk)
    assert keys(found) == [("demand", world.servo.pk)]


def test_the_trl_filter_keeps_achievements_at_least_that_mature(world):
    every = set(keys(index.recommend_for_demand(world.servo, kinds=("achievement",))))
    assert {("achievement", world.cooling.pk), ("achievement", world.early.pk)} <= every
    assert ("achievement", world.unknown_trl.pk) in every
    mature = keys(index.recommend_for_demand(world.servo, kinds=("achievement", "talent"), trl_min=5))
    assert ("achievement", world.cooling.pk) in mature  # TRL 5: the boundary is kept
    assert ("achievement", world.early.pk) not in mature  # TRL 3
    assert ("achievement", world.unknown_trl.pk) not in mature  # no TRL stated
    assert ("talent", world.team.pk) in mature  # a team has no maturity: not filtered
    assert ("achievement", world.cooling.pk) not in keys(index.recommend_for_demand(world.servo, trl_min=6))


def test_the_field_filter(world):
    assert index.recommend_for_demand(world.servo, field="02") == []
    found = index.recommend_for_demand(world.servo, field="08")
    assert found and all(m.field_match for m in found)


# —— Explanations and HTML ————————————————————————————————————————————————————————————————————————————————


def test_an_explanation_names_the_shared_terms_and_the_field(world):
    best = next(m for m in index.recommend_for_demand(world.servo) if (m.kind, m.pk) == ("achievement", world.cooling.pk))
    assert best.kind == "achievement" and best.field_match is True
    assert best.terms[:2] == ("伺服电机", "散热")
    assert "电机" not in best.terms  # inside 伺服电机: not named twice
    assert best.explanation == f"共同关键词：{'、'.join(best.terms)}；同属领域：先进制造与自动化"
    assert best.score > 0


def test_an_explanation_says_when_the_fields_differ(world):
    other = make_achievement("伺服电机温升的生物启发散热", "伺服电机、温升", "仿生散热结构。", field="04")
    match = next(m for m in index.recommend_for_demand(world.servo) if (m.kind, m.pk) == ("achievement", other.pk))
    assert match.field_match is False
    assert match.explanation.endswith("；领域不同：先进制造与自动化／新材料")


def test_ascii_terms_are_shown_as_written(world):
    d = make_demand(world, "IGBT模块替代", "IGBT、碳化硅", "用碳化硅替代IGBT模块。")
    a = make_achievement("碳化硅MOSFET驱动", "igbt、碳化硅", "兼容IGBT驱动。")
    match = next(m for m in index.recommend_for_demand(d) if (m.kind, m.pk) == ("achievement", a.pk))
    assert "IGBT" in match.terms and "IGBT" in match.explanation


def test_search_escapes_html_and_marks_the_terms(world):
    evil = make_achievement(
        "<script>alert('x')</script>伺服电机驱动器",
        "伺服电机",
        '<img src=x onerror="alert(1)">伺服电机驱动器的散热设计 & 热仿真。',
    )
    page = index.search("伺服电机", kinds=("achievement",))
    hit = next(h for h in page.hits if h.pk == evil.pk)
    assert "<script>" not in hit.title_html and "<img" not in hit.snippet_html
    assert hit.title_html == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<mark>伺服电机</mark>驱动器"
    assert hit.snippet_html.startswith("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;<mark>伺服电机</mark>")
    assert "&amp; 热仿真" in hit.snippet_html
    assert page.terms == ("伺服电机", "伺服", "电机")


def test_highlighting_matches_full_width_and_upper_case_text():
    assert index.highlight("ＩＧＢＴ模块", ["igbt"]) == "<mark>ＩＧＢＴ</mark>模块"
    assert index.highlight("a<b>碳化硅</b>", ["碳化硅", "碳化"]) == "a&lt;b&gt;<mark>碳化硅</mark>&lt;/b&gt;"
    assert index.highlight("", ["x"]) == ""


def test_a_snippet_is_a_passage_around_the_first_match():
    text = "甲" * 300 + "碳化硅功率模块" + "乙" * 300
    snippet = index.highlight(text, ["碳化硅"], snippet=60)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>碳化硅</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 62
    assert index.highlight("短文本碳化硅", ["碳化硅"], snippet=60) == "短文本<mark>碳化硅</mark>"


# —— The search box ——————————————————————————————————————————————————————————————————————————————————————


def test_search_pages_and_total(world):
    for i in range(5):
        make_achievement(f"伺服电机散热方案{i}", "伺服电机", "散热。")
    first = index.search("伺服电机散热", kinds=("achievement",), limit=3)
    second = index.search("伺服电机散热", kinds=("achievement",), limit=3, offset=3)
    assert first.total == second.total == 8  # 3 of the world (not the draft, not the suture) + 5
    assert len(first.hits) == 3 and len(second.hits) == 3
    assert not {h.pk for h in first.hits} & {h.pk for h in second.hits}
    assert index.search("伺服电机散热", kinds=("achievement",), offset=8).hits == []
    assert index.search("伺服电机", kinds=("demand",)).hits[0].pk == world.servo.pk
    filtered = index.search("伺服电机", kinds=("achievement",), trl_min=5)
    assert world.early.pk not in {h.pk for h in filtered.hits}
    in_park = index.search("伺服电机", kinds=("demand", "achievement"), park=world.park_a.pk)
    assert [(h.kind, h.pk) for h in in_park.hits] == [("demand", world.servo.pk)]


def test_duplicate_postings_are_both_found(world):
    twin = make_achievement(
        world.cooling.title, world.cooling.keywords, world.cooling.abstract, organisation="第三所大学"
    )
    found = index.recommend_for_demand(world.servo, kinds=("achievement",))
    scores = {m.pk: m.score for m in found}
    assert scores[twin.pk] == scores[world.cooling.pk]
    # equal scores: by pk
    assert keys(found).index(("achievement", world.cooling.pk)) + 1 == keys(found).index(
        ("achievement", twin.pk)
    )


def test_a_very_long_posting_is_indexed(world):
    text = "本需求涉及伺服电机的散热。" * 3_000
    d = make_demand(world, "超长描述的需求", "伺服电机", text)
    assert len(d.tokens["text"]) <= tokenizer.MAX_CHARS
    assert ("demand", d.pk) in keys(index.recommend_for_achievement(world.cooling, kinds=("demand",)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: index.search(""), "请输入检索词"),
        (lambda: index.search("   "), "请输入检索词"),
        (lambda: index.search("芯"), "检索词过短：请至少输入两个字（“芯”只有 1 个字）"),
        (lambda: index.search("的了"), "检索词“的了”只含常用词或标点，请换用具体的技术词语"),
        (lambda: index.search("芯" * 501), "检索词过长：最多 500 个字，当前 501 个字"),
        (
            lambda: index.search("芯片", field="99"),
            "未知的技术领域：99；可选 01–08（电子信息、生物与新医药、航空航天、新材料、高技术服务、新能源与节能、资源与环境、先进制造与自动化）",
        ),
        (
            lambda: index.search("芯片", kinds=("patent",)),
            "未知的类别：patent；可选：demand（技术需求）、achievement（科技成果）、talent（专家团队）、enterprise（企业）",
        ),
        (
            lambda: index.search("芯片", kinds=()),
            "未知的类别：（空）；可选：demand（技术需求）、achievement（科技成果）、talent（专家团队）、enterprise（企业）",
        ),
        (lambda: index.search("芯片", trl_min=0), "技术成熟度（TRL）下限“0”无效：应为 1–9 的整数"),
        (lambda: index.search("芯片", trl_min=10), "技术成熟度（TRL）下限“10”无效：应为 1–9 的整数"),
        (lambda: index.search("芯片", trl_min="高"), "技术成熟度（TRL）下限“高”无效：应为 1–9 的整数"),
        (lambda: index.search("芯片", park=999_999), "未知的园区：999999"),
        (lambda: index.search("芯片", limit=0), "每页条数 limit=0 无效：应为 1–100 的整数"),
        (lambda: index.search("芯片", limit=101), "每页条数 limit=101 无效：应为 1–100 的整数"),
        (lambda: index.search("芯片", offset=-1), "起始位置 offset=-1 无效：应为不小于 0 的整数"),
    ],
)
def test_bad_queries_and_filters_are_refused_with_a_chinese_message(world, call, message):
    before = IndexChange.objects.count()
    with pytest.raises(index.QueryError) as excinfo:
        call()
    assert str(excinfo.value) == message
    assert isinstance(excinfo.value, ValueError)
    assert IndexChange.objects.count() == before


def test_bad_recommendation_arguments_are_refused(world):
    with pytest.raises(index.QueryError, match="推荐条数 k=0 无效"):
        index.recommend_for_demand(world.servo, k=0)
    with pytest.raises(index.QueryError, match="推荐条数 k=101 无效"):
        index.recommend_for_achievement(world.cooling, k=101)
    with pytest.raises(index.QueryError, match="未知的技术领域：1"):
        index.recommend_for_demand(world.servo, field="1")
    assert len(index.recommend_for_demand(world.servo, k=100)) == 4  # the boundary is allowed: all that match
    assert len(index.recommend_for_demand(world.servo, k=1)) == 1


def test_the_boundaries_of_the_filters_are_accepted(world):
    everything = index.search("伺服电机", kinds=("achievement",)).total
    assert (
        index.search("伺服电机", kinds=("achievement",), trl_min=1).total == everything - 1
    )  # not the one without
    assert index.search("伺服电机", kinds=("achievement",), trl_min="1").total == everything - 1
    assert index.search("伺服电机", kinds=("achievement",), trl_min=9).total == 0
    assert index.search("伺服电机", limit=100).total == index.search("伺服电机", limit=1).total
    assert index.search("伺服电机", field="").total == index.search("伺服电机", field=None).total > 0


def test_a_posting_without_text_has_no_recommendation(world):
    empty = Demand(enterprise=world.ent_a, title="的", keywords="", description="", field="08")
    assert index.recommend_for_demand(empty) == []


def test_record_change_refuses_an_unknown_kind(world):
    before = IndexChange.objects.count()
    with pytest.raises(ValueError, match="unknown kind 'patent'"):
        index.record_change("patent", 1)
    assert IndexChange.objects.count() == before


# —— kechuang matching_reindex ——————————————————————————————————————————————————————————————————————————


def test_the_command_retokenizes_stale_postings_compacts_the_log_and_builds(world):
    Achievement.objects.filter(pk=world.cooling.pk).update(tokens={})
    index.recommend_for_demand(world.servo)
    before = index._current
    changes = IndexChange.objects.count()
    out = StringIO()
    call_command("matching_reindex", stdout=out)
    text = out.getvalue()
    assert "科技成果：重新分词 1 条" in text and "技术需求：重新分词 0 条" in text
    assert f"已清理检索变更记录 {changes} 条" in text
    assert "已读取科技成果 4 条" in text
    assert "完成：索引 6 条（需求 1，成果 4，专家团队 1，企业 0）" in text
    assert Achievement.objects.get(pk=world.cooling.pk).tokens["v"] == tokenizer.VERSION
    assert list(IndexChange.objects.values_list("kind", flat=True)) == ["rebuild"]
    assert index._current is not before
    # another process, whose index saw an old change, builds again at its next query
    index._current = before
    assert ("achievement", world.cooling.pk) in keys(index.recommend_for_demand(world.servo))
    assert index._current is not before


def test_the_command_retokenizes_everything_when_asked(world):
    out = StringIO()
    call_command("matching_reindex", "--retokenize", stdout=out)
    assert "科技成果：重新分词 5 条" in out.getvalue()  # the draft too
    assert "专家团队：重新分词 1 条" in out.getvalue()
