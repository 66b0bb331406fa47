"""The tokenizer (kechuang.search.tokenizer): technical terms kept whole with their sub-words, ASCII terms,
NFKC and case-folding, stop words and punctuation, long texts, and the checks on what a user types."""

import time

import pytest

from kechuang.search import tokenizer
from kechuang.search.index import Query, QueryError


@pytest.mark.parametrize(
    ("text", "whole", "parts"),
    [
        ("集成电路", "集成电路", ["集成", "电路"]),
        ("碳化硅功率器件", "碳化硅", ["功率器件", "功率", "器件"]),
        ("锂离子电池", "锂离子电池", ["锂离子", "电池"]),
        ("工业互联网平台", "工业互联网", ["互联网", "平台"]),
        ("脑机接口", "脑机接口", ["接口"]),
        ("低空经济", "低空经济", ["低空", "经济"]),
        ("卫星互联网终端", "卫星互联网", ["卫星", "终端"]),
        ("生物医药", "生物医药", []),
    ],
)
def test_technical_terms_stay_whole_and_bring_their_sub_words(text, whole, parts):
    terms = tokenizer.tokenize(text)
    assert whole in terms
    for part in parts:
        assert part in terms
    # the whole term comes before its sub-words
    assert all(terms.index(whole) < terms.index(p) for p in parts if p in terms and p != whole)


def test_a_demand_saying_power_device_meets_an_achievement_saying_silicon_carbide_power_device():
    assert set(tokenizer.tokenize("功率器件")) <= set(tokenizer.tokenize("碳化硅功率器件"))


def test_fragments_of_the_general_dictionary_are_not_sub_words():
    # 成电 (in 集成电路) and 化硅 (in 碳化硅) are in jieba's dictionary but are not words
    assert "成电" not in tokenizer.tokenize("集成电路")
    assert "化硅" not in tokenizer.tokenize("碳化硅")


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("5G通信模组", "5g"),
        ("面向AI的推理芯片", "ai"),
        ("IGBT模块驱动", "igbt"),
        ("PM2.5在线监测", "pm2.5"),
        ("5G-A基站", "5g-a"),
        ("C++代码审计", "c++"),
    ],
)
def test_ascii_terms_are_kept_whole(text, term):
    terms = tokenizer.tokenize(text)
    assert term in terms
    assert "pm2" not in terms and "." not in terms


def test_pure_numbers_are_dropped_but_terms_with_letters_stay():
    assert tokenizer.tokenize("2026年产值28.1亿元，300mm硅片") == [
        "年产值",
        "年产",
        "产值",
        "亿元",
        "300mm",
        "硅片",
    ]


def test_nfkc_and_case_folding_make_full_width_and_upper_case_the_same_term():
    assert tokenizer.tokenize("ＩＧＢＴ模块") == tokenizer.tokenize("igbt模块") == ["igbt", "模块"]
    assert tokenizer.tokenize("５Ｇ") == ["5g"]
    assert tokenizer.tokenize("ＰＭ２．５") == ["pm2.5"]


def test_stop_words_and_punctuation_are_dropped():
    assert tokenizer.tokenize("我公司需要寻求合作的技术方案。") == []
    assert tokenizer.tokenize("，。、；！？…—（）【】《》") == []
    terms = tokenizer.tokenize("我们希望寻找锂离子电池的热管理技术，并且开展合作！")
    assert "锂离子电池" in terms and "热管理" in terms
    for stop in ("我们", "希望", "寻找", "的", "技术", "并且", "开展", "合作", "，", "！"):
        assert stop not in terms


def test_every_stop_word_is_dropped_on_its_own():
    for word in tokenizer.stopwords():
        assert word not in tokenizer.tokenize(word), word


def test_the_dictionary_holds_several_hundred_terms_of_the_high_tech_fields():
    terms = tokenizer.dictionary_terms()
    assert len(terms) >= 400
    assert len(terms) == len(set(terms))
    # the eight first-level fields of 《国家重点支持的高新技术领域》 and terms of the source documents
    for term in (
        "电子信息",
        "生物与新医药",
        "航空航天",
        "新材料",
        "高技术服务",
        "新能源与节能",
        "资源与环境",
    ):
        assert term in terms
    for term in ("卫星互联网", "脑机接口", "低空经济", "天基计算", "后量子密码", "全钒液流电池", "光刻胶"):
        assert term in terms


def test_a_very_long_text_is_cut_at_max_chars_and_stays_fast():
    text = "碳化硅功率器件封装工艺。" * 200_000  # 2.4 million characters
    started = time.perf_counter()
    terms = tokenizer.tokenize(text)
    assert time.perf_counter() - started < 10
    assert 0 < len(terms) <= tokenizer.MAX_CHARS
    assert terms == tokenizer.tokenize(text[: tokenizer.MAX_CHARS])


def test_html_in_a_text_is_just_words():
    terms = tokenizer.tokenize("<script>alert('x')</script>锂电池")
    assert "锂电池" in terms
    assert all("<" not in t and ">" not in t for t in terms)


def test_empty_and_none_texts_have_no_terms():
    assert tokenizer.tokenize("") == []
    assert tokenizer.tokenize(None) == []
    assert tokenizer.document_tokens("", "", "") == {
        "title": [],
        "keywords": [],
        "text": [],
        "v": tokenizer.VERSION,
    }


def test_keywords_are_split_on_the_usual_separators():
    assert tokenizer.keyword_list("锂电池、热管理，储能;  BMS/液冷|锂电池") == [
        "锂电池",
        "热管理",
        "储能",
        "bms",
        "液冷",
    ]
    tokens = tokenizer.document_tokens("标题", "锂电池、热管理", "正文")
    assert tokens["keywords"] == ["锂电池", "电池", "热管理", "管理"]


# —— What a user types ———————————————————————————————————————————————————————————————————————————————————


@pytest.mark.parametrize("text", ["", "   ", None])
def test_an_empty_query_is_refused(text):
    with pytest.raises(QueryError) as excinfo:
        Query.from_text(text)
    assert str(excinfo.value) == "请输入检索词"


@pytest.mark.parametrize("text", ["芯", " 5 ", "A", "“芯”"])
def test_a_one_character_query_is_refused_with_the_chinese_message(text):
    with pytest.raises(QueryError) as excinfo:
        Query.from_text(text)
    assert str(excinfo.value).startswith("检索词过短：请至少输入两个字")


def test_two_characters_are_enough():
    assert Query.from_text("芯片").terms == {"芯片": 1.0}
    assert Query.from_text("AI").terms == {"ai": 1.0}
    assert Query.from_text("5G").terms == {"5g": 1.0}


def test_a_query_of_only_stop_words_or_only_punctuation_is_refused():
    with pytest.raises(QueryError) as excinfo:
        Query.from_text("我们的需求")
    assert str(excinfo.value) == "检索词“我们的需求”只含常用词或标点，请换用具体的技术词语"
    with pytest.raises(QueryError) as excinfo:
        Query.from_text("！！！？？")  # punctuation has no letters at all
    assert str(excinfo.value) == "检索词过短：请至少输入两个字（“！！！？？”只有 0 个字）"


def test_a_query_longer_than_the_limit_is_refused_and_the_limit_itself_is_accepted():
    limit = tokenizer.MAX_QUERY_CHARS
    assert Query.from_text("芯" * limit).terms
    with pytest.raises(QueryError) as excinfo:
        Query.from_text("芯" * (limit + 1))
    assert str(excinfo.value) == f"检索词过长：最多 {limit} 个字，当前 {limit + 1} 个字"
