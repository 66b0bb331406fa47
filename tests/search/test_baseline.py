"""The character-TF-IDF baseline (kechuang.search.baseline): unigrams and bigrams, cosine, the same protocol,
filters and updates."""

import math

import pytest

from kechuang.search.baseline import CharTfidfRanker, char_ngrams
from kechuang.search.index import Document, Filters, Query, QueryError


def doc(kind, pk, text, **meta):
    return Document(kind, pk, raw=text, **meta)


DOCS = [
    doc("achievement", 1, "碳化硅功率模块银烧结封装", field="08", trl=5),
    doc("achievement", 2, "储能电站液冷热管理", field="06", trl=6),
    doc("achievement", 3, "锂电池热失控预警", field="06"),
    doc("demand", 4, "储能集装箱热管理", field="06", park=1),
]


def ranker(docs=DOCS):
    r = CharTfidfRanker()
    r.build(docs)
    return r


def test_character_unigrams_and_bigrams_of_letters_digits_and_ideographs():
    assert char_ngrams("5G 芯片！") == ["5", "g", "芯", "片", "5g", "g芯", "芯片"]
    assert char_ngrams("ＡＩ") == ["a", "i", "ai"]
    assert char_ngrams("") == []


def test_the_score_is_the_cosine_of_tfidf_vectors():
    r = ranker()
    page = r.search(Query({}, raw="热管理"), k=10)
    assert [x.pk for x in page.results][:2] in ([4, 2], [2, 4])
    # one document, query equal to it: cosine 1
    single = ranker([doc("achievement", 9, "热管理")])
    assert single.search(Query({}, raw="热管理")).results[0].score == pytest.approx(1.0)
    # two documents, by hand: idf = ln((1 + N) / (1 + df)) + 1
    two = ranker([doc("achievement", 1, "甲乙"), doc("achievement", 2, "甲丙")])
    idf = {"甲": math.log(3 / 3) + 1, "乙": math.log(3 / 2) + 1, "甲乙": math.log(3 / 2) + 1}
    d1 = [idf["甲"], idf["乙"], idf["甲乙"]]
    expected = idf["乙"] ** 2 / (math.sqrt(sum(x * x for x in d1)) * idf["乙"])
    assert two.search(Query({}, raw="乙")).results[0].score == pytest.approx(expected)


def test_it_finds_partial_matches_without_segmentation_and_names_the_shared_bigrams():
    r = ranker()
    result = r.search(Query({}, raw="碳化硅器件")).results[0]
    assert result.pk == 1
    assert result.terms == ("化硅", "碳化")


def test_filters_paging_and_updates():
    r = ranker()
    query = Query({}, raw="储能热管理", field="06")
    assert [x.pk for x in r.search(query, Filters(kinds=frozenset({"demand"}))).results] == [4]
    assert [x.pk for x in r.search(query, Filters(parks=frozenset({1}))).results] == [4]
    assert 3 not in [x.pk for x in r.search(query, Filters(trl_min=5)).results]
    assert all(x.field_match for x in r.search(query).results if x.pk in (2, 3, 4))
    total = r.search(query).total
    assert [x.pk for x in r.search(query, k=1, offset=1).results] == [r.search(query).results[1].pk]
    r.upsert([doc("talent", 5, "储能热管理团队", field="06")])
    assert r.search(query).total == total + 1 and ("talent", 5) in r
    r.delete([("talent", 5), ("demand", 4)])
    assert r.search(query).total == total - 1 and len(r) == 3
    with pytest.raises(QueryError):
        r.search(query, k=0)
