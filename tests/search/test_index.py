"""The BM25 ranker (kechuang.search.index): scores as bm25s computes them, filters, paging, updates through the
delta (visible in the next search), folding (the same ranking as a fresh build), duplicates, bad input."""

import bm25s
import numpy as np
import pytest

from kechuang.search.baseline import CharTfidfRanker
from kechuang.search.index import BM25Ranker, Document, Filters, Query, QueryError, Ranker, Result
from kechuang.search.tokenizer import document_tokens


def doc(kind, pk, title, keywords="", text="", **meta) -> Document:
    return Document.from_tokens(
        kind, pk, document_tokens(title, keywords, text), raw=f"{title}\n{keywords}\n{text}", **meta
    )


CORPUS = [
    doc(
        "achievement",
        1,
        "碳化硅功率模块银烧结封装",
        "碳化硅、功率模块、封装",
        "纳米银烧结连接芯片与基板，模块结温可达200℃。",
        field="08",
        trl=5,
    ),
    doc(
        "achievement",
        2,
        "储能电站电池簇液冷热管理系统",
        "液冷、热管理、储能",
        "冷板式液冷使电池簇温差小于3℃。",
        field="06",
        trl=6,
    ),
    doc(
        "achievement",
        3,
        "锂离子电池热失控早期预警",
        "热失控、预警、锂离子电池",
        "融合电压、温度和气体信号预警热失控。",
        field="06",
        trl=None,
    ),
    doc(
        "achievement",
        4,
        "钠离子电池层状氧化物正极",
        "钠离子电池、正极材料",
        "不含镍钴的低成本正极材料。",
        field="06",
        trl=3,
    ),
    doc("talent", 5, "电池热管理团队", "热管理、储能电池", "研究储能电池热管理与安全。", field="06"),
    doc(
        "demand",
        6,
        "储能集装箱电芯温差大",
        "储能、温差、热管理",
        "风冷储能集装箱电芯温差超过10℃。",
        field="06",
        park=1,
    ),
    doc(
        "demand",
        7,
        "电驱系统效率提升",
        "碳化硅、电机控制器",
        "用碳化硅功率模块替代硅基IGBT。",
        field="08",
        park=2,
    ),
    doc("enterprise", 8, "上海某储能科技有限公司", "", "储能系统集成、电池热管理", field="06", park=1),
]


def ranker(docs=CORPUS, **params) -> BM25Ranker:
    r = BM25Ranker(**params)
    r.build(docs)
    return r


def keys(page):
    return [(r.kind, r.pk) for r in page.results]


def test_both_rankers_follow_the_protocol():
    assert isinstance(BM25Ranker(), Ranker)
    assert isinstance(CharTfidfRanker(), Ranker)


def test_a_query_finds_the_documents_that_share_its_terms_best_first():
    page = ranker().search(Query.from_text("电池热管理"))
    assert page.total == 6  # every document with 电池 or 热管理 (or 管理)
    assert keys(page)[0] == ("talent", 5)  # title, keywords and text all say it
    assert ("achievement", 1) not in keys(page) and ("demand", 7) not in keys(page)
    assert page.results == sorted(page.results, key=lambda r: -r.score)


def test_each_result_names_the_shared_terms_largest_contribution_first():
    result = (
        ranker().search(Query.from_text("储能电池液冷"), Filters(kinds=frozenset({"achievement"}))).results[0]
    )
    assert (result.kind, result.pk) == ("achievement", 2)
    assert set(result.terms) == {"储能", "液冷", "电池"}
    assert result.terms[0] == "液冷"  # in title, keywords and text, and the rarest


def test_scores_are_bm25_as_bm25s_computes_it_field_by_field():
    for field, weights in [
        ("title", {"title": 1.0, "keywords": 0.0, "text": 0.0}),
        ("keywords", {"title": 0.0, "keywords": 1.0, "text": 0.0}),
        ("text", {"title": 0.0, "keywords": 0.0, "text": 1.0}),
    ]:
        r = ranker(weights=weights, field_boost=0.0)
        reference = bm25s.BM25(k1=r.k1, b=r.b, method="lucene")
        reference.index(
            [list(getattr(d, field)) for d in sorted(CORPUS, key=lambda d: d.key)], show_progress=False
        )
        for text in ("电池热管理", "碳化硅功率模块", "储能", "正极材料"):
            query = Query.from_text(text)
            expected = reference.get_scores([t for t in query.terms if t in reference.vocab_dict])
            got = np.zeros(len(CORPUS))
            for res in r.search(query, k=len(CORPUS)).results:
                got[r.rows[res.key]] = res.score
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_field_weights_multiply_each_fields_score():
    query = Query.from_text("热管理")
    title_only = ranker(weights={"title": 1.0, "keywords": 0.0, "text": 0.0}, field_boost=0.0)
    text_only = ranker(weights={"title": 0.0, "keywords": 0.0, "text": 1.0}, field_boost=0.0)
    both = ranker(weights={"title": 3.0, "keywords": 0.0, "text": 2.0}, field_boost=0.0)
    score = {r.key: r.score for r in both.search(query, k=20).results}
    for key in score:
        t = {r.key: r.score for r in title_only.search(query, k=20).results}.get(key, 0.0)
        x = {r.key: r.score for r in text_only.search(query, k=20).results}.get(key, 0.0)
        assert score[key] == pytest.approx(3 * t + 2 * x, rel=1e-6)


def test_the_field_boost_raises_documents_of_the_querys_field():
    plain = ranker(field_boost=0.0).search(Query({"碳化硅": 1.0, "储能": 1.0}, field="08"), k=20).results
    boosted = ranker(field_boost=0.5).search(Query({"碳化硅": 1.0, "储能": 1.0}, field="08"), k=20).results
    before = {r.key: r.score for r in plain}
    for r in boosted:
        assert r.field_match == (r.key in {("achievement", 1), ("demand", 7)})
        assert r.score == pytest.approx(before[r.key] * (1.5 if r.field_match else 1.0))


# —— Filters and paging ——————————————————————————————————————————————————————————————————————————————————


def test_filters_by_kind_field_and_park():
    r = ranker()
    query = Query.from_text("储能电池")
    assert {k for k, _ in keys(r.search(query, Filters(kinds=frozenset({"demand"})), k=20))} == {"demand"}
    assert keys(r.search(query, Filters(kinds=frozenset({"talent", "enterprise"})), k=20)) == [
        ("talent", 5),
        ("enterprise", 8),
    ]
    in_06 = keys(r.search(query, Filters(fields=frozenset({"06"})), k=20))
    assert in_06 and all(
        key
        in {
            ("achievement", 2),
            ("achievement", 3),
            ("achievement", 4),
            ("talent", 5),
            ("demand", 6),
            ("enterprise", 8),
        }
        for key in in_06
    )
    assert keys(r.search(query, Filters(fields=frozenset({"03"})), k=20)) == []
    # a park keeps only what is in it: achievements and talent have no park
    assert sorted(keys(r.search(query, Filters(parks=frozenset({1})), k=20))) == [
        ("demand", 6),
        ("enterprise", 8),
    ]
    assert keys(r.search(Query.from_text("碳化硅"), Filters(parks=frozenset({2})), k=20)) == [("demand", 7)]


def test_the_trl_filter_applies_to_achievements_and_leaves_out_those_without_one():
    r = ranker()
    query = Query.from_text("电池")
    everything = set(keys(r.search(query, k=20)))
    assert {("achievement", 2), ("achievement", 3), ("achievement", 4)} <= everything
    at_least_5 = set(keys(r.search(query, Filters(trl_min=5), k=20)))
    assert ("achievement", 2) in at_least_5  # TRL 6
    assert ("achievement", 4) not in at_least_5  # TRL 3
    assert ("achievement", 3) not in at_least_5  # no TRL
    assert ("talent", 5) in at_least_5 and ("enterprise", 8) in at_least_5  # no maturity: not filtered
    # boundaries: ≥ 6 keeps TRL 6, ≥ 7 does not
    assert ("achievement", 2) in set(keys(r.search(query, Filters(trl_min=6), k=20)))
    assert ("achievement", 2) not in set(keys(r.search(query, Filters(trl_min=7), k=20)))


def test_exclude_leaves_out_the_posting_itself():
    r = ranker()
    query = Query.from_text("储能集装箱电芯温差")
    assert keys(r.search(query, k=1)) == [("demand", 6)]
    assert ("demand", 6) not in keys(r.search(query, Filters(exclude=frozenset({("demand", 6)})), k=20))


def test_paging_with_k_and_offset_and_the_total():
    r = ranker()
    query = Query.from_text("电池热管理储能")
    everything = r.search(query, k=100)
    assert everything.total == len(everything.results)
    first, second = r.search(query, k=2), r.search(query, k=2, offset=2)
    assert keys(first) + keys(second) == keys(everything)[:4]
    assert first.total == second.total == everything.total
    assert r.search(query, k=5, offset=everything.total).results == []
    assert r.search(query, k=5, offset=everything.total).total == everything.total


@pytest.mark.parametrize(
    ("k", "offset", "message"),
    [
        (0, 0, "返回条数 k=0 无效：应为 1–1000 的整数"),
        (1001, 0, "返回条数 k=1001 无效：应为 1–1000 的整数"),
        (True, 0, "返回条数 k=True 无效：应为 1–1000 的整数"),
        (10, -1, "起始位置 offset=-1 无效：应为不小于 0 的整数"),
    ],
)
def test_bad_paging_is_refused(k, offset, message):
    with pytest.raises(QueryError) as excinfo:
        ranker().search(Query.from_text("电池"), k=k, offset=offset)
    assert str(excinfo.value) == message


def test_ties_are_broken_by_kind_then_pk_whatever_the_order_of_the_documents():
    twins = [doc("achievement", pk, "氢燃料电池膜电极", "膜电极", "低铂膜电极。") for pk in (30, 10, 20)]
    r = ranker([*twins, doc("achievement", 40, "其他", "", "无关内容")])
    page = r.search(Query.from_text("膜电极"), k=2)
    assert keys(page) == [("achievement", 10), ("achievement", 20)]
    assert page.results[0].score == page.results[1].score
    assert page.total == 3


# —— Updates ——————————————————————————————————————————————————————————————————————————————————————————————


def test_an_upsert_is_found_by_the_next_search():
    r = ranker()
    query = Query.from_text("全钒液流电池")
    assert ("achievement", 9) not in keys(r.search(query, k=20))
    r.upsert(
        [doc("achievement", 9, "全钒液流电池电堆", "全钒液流电池", "高功率密度电堆。", field="06", trl=5)]
    )
    assert r.stats()["delta_rows"] == 1
    assert keys(r.search(query))[0] == ("achievement", 9)
    assert ("achievement", 9) in r and len(r) == len(CORPUS) + 1


def test_an_edit_replaces_the_old_text_and_a_delete_removes_it():
    r = ranker()
    r.upsert(
        [doc("achievement", 4, "钠离子电池硬碳负极", "硬碳、负极材料", "生物质硬碳负极。", field="06", trl=4)]
    )
    assert keys(r.search(Query.from_text("硬碳负极"))) == [("achievement", 4)]
    assert ("achievement", 4) not in keys(r.search(Query.from_text("层状氧化物正极"), k=20))
    assert len(r) == len(CORPUS)
    r.delete([("achievement", 4), ("demand", 7)])
    assert ("achievement", 4) not in keys(r.search(Query.from_text("硬碳负极"), k=20))
    assert r.search(Query.from_text("电机控制器")).results == []
    assert len(r) == len(CORPUS) - 2
    r.delete([("achievement", 4), ("demand", 999)])  # already gone, never there: nothing happens
    assert len(r) == len(CORPUS) - 2


def test_editing_a_delta_row_again_and_deleting_it():
    r = ranker()
    for text in ("第一版：储能变流器", "第二版：构网型储能变流器"):
        r.upsert([doc("achievement", 9, "储能变流器", "储能变流器", text, field="06")])
    assert r.stats()["delta_rows"] == 2 and len(r) == len(CORPUS) + 1
    assert keys(r.search(Query.from_text("构网型"))) == [("achievement", 9)]
    assert r.search(Query.from_text("第一版")).results == []
    r.delete([("achievement", 9)])
    assert r.search(Query.from_text("构网型")).results == []


def test_a_delta_document_scores_with_the_main_statistics_as_its_twin_in_the_main_index():
    r = ranker()
    twin = next(d for d in CORPUS if d.key == ("achievement", 2))
    r.upsert(
        [Document("achievement", 99, twin.title, twin.keywords, twin.text, twin.field, twin.park, twin.trl)]
    )
    scores = {res.key: res for res in r.search(Query.from_text("储能电池液冷热管理"), k=20).results}
    assert scores[("achievement", 99)].score == pytest.approx(scores[("achievement", 2)].score, rel=1e-6)
    assert scores[("achievement", 99)].terms == scores[("achievement", 2)].terms


def test_the_same_key_twice_in_one_build_or_upsert_keeps_the_last():
    r = ranker([doc("achievement", 1, "旧标题甲烷"), doc("achievement", 1, "新标题氢能")])
    assert len(r) == 1 and keys(r.search(Query.from_text("氢能"))) == [("achievement", 1)]
    assert r.search(Query.from_text("甲烷")).results == []
    r.upsert([doc("achievement", 2, "储氢瓶"), doc("achievement", 2, "加氢站")])
    assert len(r) == 2 and r.search(Query.from_text("储氢瓶")).results == []


def test_duplicate_postings_under_two_keys_are_both_found_with_the_same_score():
    text = ("工业余热回收高温热泵", "高温热泵、余热回收", "以废热水为热源产出蒸汽。")
    r = ranker([*CORPUS, doc("achievement", 50, *text), doc("achievement", 51, *text)])
    page = r.search(Query.from_text("高温热泵"))
    assert keys(page) == [("achievement", 50), ("achievement", 51)]
    assert page.results[0].score == page.results[1].score


def final_documents(docs, upserts, deletes):
    current = {d.key: d for d in docs}
    for d in upserts:
        current[d.key] = d
    for key in deletes:
        current.pop(key, None)
    return list(current.values())


UPSERTS = [
    doc(
        "achievement",
        9,
        "全钒液流电池电堆",
        "全钒液流电池、电堆",
        "长时储能电堆，能量效率80%。",
        field="06",
        trl=5,
    ),
    doc(
        "achievement",
        2,
        "储能电站浸没式液冷",
        "液冷、储能",
        "电池浸没于冷却液，温差小于2℃。",
        field="06",
        trl=7,
    ),
    doc("demand", 10, "碳化硅模块国产替代", "碳化硅、功率模块", "寻求碳化硅功率模块。", field="08", park=2),
    doc("talent", 11, "氢能团队", "电解水制氢", "质子交换膜电解槽。", field="06"),
]
DELETES = [("achievement", 4), ("demand", 6)]
QUERIES = ["电池热管理", "碳化硅功率模块", "储能液冷", "全钒液流电池", "制氢", "正极材料"]


def test_the_delta_folded_in_gives_the_same_ranking_and_scores_as_a_rebuild():
    r = ranker(stale_ratio=1.0)
    r.upsert(UPSERTS[:2])
    r.delete(DELETES[:1])
    r.upsert(UPSERTS[2:])
    r.delete(DELETES[1:])
    assert r.stats()["delta_rows"] == 4 and r.stats()["folds"] == 0
    r.fold()
    assert r.stats() == {
        **r.stats(),
        "delta_rows": 0,
        "masked_rows": 0,
        "main_rows": len(CORPUS) + 1,
        "folds": 1,
    }
    fresh = ranker(final_documents(CORPUS, UPSERTS, DELETES))
    for text in QUERIES:
        for filters in (
            Filters(),
            Filters(kinds=frozenset({"achievement"}), trl_min=5),
            Filters(parks=frozenset({2})),
        ):
            assert r.search(Query.from_text(text), filters, k=20) == fresh.search(
                Query.from_text(text), filters, k=20
            )


def test_the_delta_is_folded_in_by_itself_when_it_grows_past_the_threshold():
    r = ranker(fold_min_rows=3, fold_ratio=0.0)
    for d in UPSERTS[:3]:
        r.upsert([d])
    assert r.stats()["folds"] == 0 and r.stats()["delta_rows"] == 3
    r.upsert(UPSERTS[3:])  # a fourth row: past the threshold
    assert r.stats()["folds"] == 1 and r.stats()["delta_rows"] == 0
    fresh = ranker(final_documents(CORPUS, UPSERTS, []))
    for text in QUERIES:
        assert r.search(Query.from_text(text), k=20) == fresh.search(Query.from_text(text), k=20)


def test_deleting_a_third_of_the_main_index_folds_it():
    r = ranker()
    r.delete([d.key for d in CORPUS[:2]])
    assert r.stats()["folds"] == 0
    r.delete([CORPUS[2].key])  # 3 of 8 masked: more than a third
    assert r.stats() == {**r.stats(), "folds": 1, "main_rows": len(CORPUS) - 3, "masked_rows": 0}


def test_an_empty_index_and_an_upsert_into_it():
    r = BM25Ranker()
    assert r.search(Query.from_text("电池")) == type(r.search(Query.from_text("电池")))([], 0)
    r.build([])
    assert len(r) == 0 and r.search(Query.from_text("电池")).total == 0
    r.upsert([CORPUS[1]])  # into an empty main index: built at once
    assert r.stats()["main_rows"] == 1 and keys(r.search(Query.from_text("液冷"))) == [("achievement", 2)]


def test_a_query_with_no_known_term_finds_nothing():
    assert ranker().search(Query.from_text("量子计算")).results == []
    assert ranker().search(Query({}, field="06")).total == 0


def test_a_long_query_keeps_its_heaviest_terms():
    r = ranker(max_query_terms=3)
    query = Query({"电池": 1.0, "储能": 1.0, "热管理": 1.0, "液冷": 5.0, "钠离子电池": 5.0, "碳化硅": 5.0})
    ids, _ = r._query_ids(query)
    assert sorted(r.terms[i] for i in ids) == ["液冷", "碳化硅", "钠离子电池"]


def test_a_very_long_document_is_indexed_and_found():
    long_text = "本成果涉及复合材料构件。" * 5_000 + "关键是超声相控阵检测。"
    r = ranker([*CORPUS, doc("achievement", 60, "检测方法", "", long_text)])
    assert keys(r.search(Query.from_text("复合材料构件")))[0] == ("achievement", 60)


def test_weights_must_name_the_three_fields():
    with pytest.raises(ValueError):
        BM25Ranker(weights={"title": 1.0})
    with pytest.raises(ValueError):
        BM25Ranker(weights={"title": 1.0, "keywords": -1.0, "text": 1.0})


def test_results_compare_by_value():
    assert Result("achievement", 1, 1.0, ("a",), True).key == ("achievement", 1)


def test_many_random_edits_then_a_fold_match_a_fresh_build():
    import random

    rng = random.Random(6)
    words = ["碳化硅", "储能", "液冷", "热管理", "电池", "芯片", "卫星", "光伏", "氢能", "膜电极", "传感器", "机器人"]

    def random_doc(pk):
        kind = rng.choice(["achievement", "demand", "talent"])
        return doc(
            kind,
            pk,
            "".join(rng.sample(words, 2)),
            "、".join(rng.sample(words, 3)),
            "，".join(rng.choices(words, k=rng.randint(0, 12))),
            field=f"0{rng.randint(1, 8)}",
            park=rng.choice([None, 1, 2]),
            trl=rng.choice([None, 3, 6, 9]),
        )

    docs = {}
    for pk in range(40):
        d = random_doc(pk)
        docs[d.key] = d
    r = ranker(list(docs.values()), fold_min_rows=7, fold_ratio=0.0)
    for step in range(120):
        if rng.random() < 0.7:
            d = random_doc(rng.randint(0, 60))
            docs[d.key] = d
            r.upsert([d])
        elif docs:
            key = rng.choice(sorted(docs))
            del docs[key]
            r.delete([key])
        if step % 30 == 0:
            query = Query.from_text(rng.choice(words))
            assert {x.key for x in r.search(query, k=100).results} == {
                x.key for x in ranker(list(docs.values())).search(query, k=100).results
            }
    assert r.stats()["folds"] > 0
    r.fold()
    fresh = ranker(list(docs.values()))
    assert len(r) == len(fresh) == len(docs)
    for word in words:
        for filters in (Filters(), Filters(trl_min=6), Filters(kinds=frozenset({"demand"}), parks=frozenset({1}))):
            assert r.search(Query.from_text(word), filters, k=50) == fresh.search(Query.from_text(word), filters, k=50)


def test_main_scores_are_the_sums_search_ranks_by_for_every_row():
    index = ranker(field_boost=0.0)
    query = Query.from_text("电池热管理")
    vector = index.main_scores(query)
    page = index.search(query, k=len(CORPUS))
    assert len(vector) == len(CORPUS)
    by_key = {r.key if hasattr(r, "key") else (r.kind, r.pk): r.score for r in page.results}
    rows = sorted((d.kind, d.pk) for d in CORPUS)  # main rows are in key order
    assert {k: round(float(v), 6) for k, v in zip(rows, vector, strict=True) if v > 0} == {
        k: round(s, 6) for k, s in by_key.items()
    }
    assert (vector == 0).sum() == len(CORPUS) - page.total
    assert not index.main_scores(Query.from_text("量子密钥")).any()
