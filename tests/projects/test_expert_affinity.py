"""专家相关度 (kechuang.projects.expert_affinity): experts ranked for an application by BM25 over their keywords
and fields, with the platform's search engine."""

import pytest

from kechuang.projects.expert_affinity import FIELD_BOOST, Affinity, ExpertAffinity, rank_experts
from kechuang.projects.models import Expert

from . import review_fixtures as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    return f.make_call()


def ids(ranked):
    return [a.expert_id for a in ranked]


def test_related_keywords_count_even_when_no_keyword_is_identical(call):
    app = f.make_application(call, title="碳化硅功率模块封装", field="08", keywords="功率模块、银烧结")
    power = f.make_expert("功率器件专家", fields=["01"], keywords="碳化硅、功率器件")
    battery = f.make_expert("电池专家", fields=["06"], keywords="锂离子电池、热管理")
    ranked = rank_experts(app, [battery, power])
    assert ids(ranked) == [power.pk]  # the battery expert shares nothing: left out
    # 功率 is in the application's title and keywords, 碳化硅 only in its title
    assert ranked[0].terms == ("功率", "碳化硅")
    assert ranked[0].reason == "相关专长：功率、碳化硅"
    assert ranked[0].field_match is False


def test_a_rare_keyword_weighs_more_than_a_common_one(call):
    app = f.make_application(call, title="新型储能系统", field="06", keywords="全钒液流电池、储能")
    common = [f.make_expert(f"储能专家{i}", fields=["06"], keywords="储能") for i in range(4)]
    rare = f.make_expert("液流电池专家", fields=["06"], keywords="全钒液流电池")
    ranked = rank_experts(app, [*common, rare])
    assert ranked[0].expert_id == rare.pk
    assert set(ids(ranked)) == {rare.pk, *(e.pk for e in common)}
    # the common ones tie: by expert id
    assert ids(ranked)[1:] == sorted(e.pk for e in common)


def test_the_field_matches_and_boosts_the_score(call):
    app = f.make_application(call, title="卫星通信终端", field="01", keywords="相控阵天线")
    same = f.make_expert("同领域", fields=["01", "03"], keywords="相控阵天线")
    other = f.make_expert("异领域", fields=["03"], keywords="相控阵天线")
    affinity = ExpertAffinity([same, other])
    scores = affinity.scores(app)
    explained = affinity.explain(app, [same.pk, other.pk])
    assert explained[same.pk].field_match is True and explained[other.pk].field_match is False
    assert explained[same.pk].score == scores[same.pk]
    # the same keywords; the field name 电子信息 also matches the application's field text, then the boost
    assert scores[same.pk] > scores[other.pk] * (1 + FIELD_BOOST)
    assert "电子信息" in explained[same.pk].terms


def test_an_expert_of_the_field_with_no_shared_keyword_is_still_found(call):
    app = f.make_application(call, title="工业视觉检测", field="01", keywords="缺陷检测")
    fielded = f.make_expert("电子信息专家", fields=["01"], keywords="射频芯片")
    stranger = f.make_expert("生物专家", fields=["02"], keywords="抗体")
    affinity = ExpertAffinity([fielded, stranger])
    assert list(affinity.scores(app)) == [fielded.pk]
    assert affinity.explain(app, [fielded.pk])[fielded.pk].field_match


def test_rank_takes_k_and_leaves_out_the_excluded(call):
    app = f.make_application(call, title="芯片封装测试", field="01", keywords="芯片、封装、测试")
    experts = [
        f.make_expert(f"芯片专家{i}", fields=["01"], keywords="芯片 封装"[: 2 + 3 * (i % 2)])
        for i in range(5)
    ]
    affinity = ExpertAffinity(experts)
    everyone = affinity.rank(app)
    assert len(everyone) == 5
    assert affinity.rank(app, k=2) == everyone[:2]
    assert ids(affinity.rank(app, exclude=[everyone[0].expert_id])) == ids(everyone)[1:]


def test_keywords_are_compared_after_nfkc_and_case_folding(call):
    app = f.make_application(call, title="ＩＧＢＴ驱动", field="08", keywords="ＩＧＢＴ")
    expert = f.make_expert("功率电子", fields=["08"], keywords="igbt、驱动电路")
    ranked = rank_experts(app, [expert])
    assert ranked and "igbt" in ranked[0].terms


def test_no_experts_or_an_application_without_text_give_nothing(call):
    app = f.make_application(call, title="的", field="", keywords="")
    assert rank_experts(app, []) == []
    assert rank_experts(app, [f.make_expert(keywords="芯片")]) == []
    assert Affinity(1, 0.0, (), False).reason == "专长无相关词"


def test_a_pool_of_three_hundred_experts_ranks_an_application_quickly(call):
    import time

    words = ["芯片", "封装", "传感器", "抗体", "疫苗", "储能", "光伏", "机器人", "激光", "卫星"]
    experts = Expert.objects.bulk_create(
        Expert(
            name=f"专家{i}",
            organisation=f"某大学{i}",
            fields=[f"0{1 + i % 8}"],
            keywords="、".join(words[i % 10 : i % 10 + 3]),
        )
        for i in range(300)
    )
    affinity = ExpertAffinity(experts)
    app = f.make_application(call, title="传感器芯片封装", field="01", keywords="芯片、封装")
    started = time.perf_counter()
    for _ in range(20):
        scores = affinity.scores(app)
    assert (time.perf_counter() - started) / 20 < 0.05  # about 2 ms on a quiet machine
    assert len(scores) > 100
    ranked = affinity.rank(app, k=5)
    assert len(ranked) == 5 and all(a.terms for a in ranked)


def test_the_scores_read_from_the_term_index_are_the_ranker_s_search_scores_with_the_field_boost(call):
    """vector() reads the ranker's term index directly (review.propose needs every expert's score): the same
    numbers search() ranks by, times (1 + FIELD_BOOST) for an expert of the application's field."""
    words = ["碳化硅", "功率器件", "封装", "疫苗", "储能", "光伏", "机器人", "激光"]
    pool = [
        f.make_expert(fields=[f"0{1 + i % 3}"], keywords="、".join(words[i % 8 : i % 8 + 2]))
        for i in range(24)
    ]
    affinity = ExpertAffinity(pool)
    app = f.make_application(call, title="碳化硅功率模块封装", field="01", keywords="功率器件、储能")
    query = affinity.query(app)
    found = affinity.ranker.search(query, k=len(pool), with_terms=False).results
    expected = {
        r.pk: round(
            r.score * (1 + FIELD_BOOST) if "01" in (affinity.experts[r.pk].fields or []) else r.score, 6
        )
        for r in found
    }
    assert len(expected) > 10 and affinity.scores(app) == pytest.approx(expected, abs=1e-6)
    vector = affinity.vector(app, query)
    assert [affinity.row_of[pk] for pk in sorted(affinity.row_of)] == list(range(len(pool)))  # rows by id
    assert {int(affinity.row_pks[r]) for r in range(len(pool)) if vector[r] > 0} == set(expected)
