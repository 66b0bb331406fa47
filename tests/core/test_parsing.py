"""The shared input parsing: each boundary, and each refusal naming the field and the value."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kechuang.core import parsing
from kechuang.vouchers import parsing as voucher_parsing


def refusal(check, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as refused:
        check(*args, **kwargs)
    return " ".join(refused.value.messages)


def test_money_reads_separators_and_keeps_cents():
    assert parsing.money("1,234,567.5", "金额") == Decimal("1234567.50")
    assert parsing.money(Decimal("0.01"), "金额") == Decimal("0.01")


def test_money_at_and_around_its_edges():
    assert parsing.money("0", "金额") == Decimal("0.00")
    assert refusal(parsing.money, "0", "金额", allow_zero=False) == "金额须大于 0 元"
    assert refusal(parsing.money, "-0.01", "金额") == "金额 -0.01 元为负数，金额不能为负"
    assert refusal(parsing.money, "1.005", "金额") == "金额 1.005 元超过两位小数（金额精确到分）"
    assert parsing.money("99999999999999.99", "金额") == Decimal("99999999999999.99")
    assert "超出可录入的范围" in refusal(parsing.money, "100000000000000", "金额")
    assert refusal(parsing.money, "十万", "成交额") == "成交额“十万”不是数字"
    assert refusal(parsing.money, "  ", "成交额") == "成交额必须填写"
    assert refusal(parsing.money, True, "成交额") == "成交额必须填写"
    assert refusal(parsing.money, "NaN", "成交额") == "成交额“NaN”不是有限的数字"


def test_vouchers_refuse_zero_unless_allowed():
    assert refusal(voucher_parsing.money, "0", "兑付金额") == "兑付金额须大于 0 元"
    assert voucher_parsing.money("0", "兑付金额", allow_zero=True) == Decimal("0.00")


def test_percent_is_above_zero_and_at_most_a_hundred():
    assert parsing.percent("5%", "比例") == Decimal("5.00")
    assert parsing.percent("100", "比例") == Decimal("100.00")
    assert parsing.percent("0.01", "比例") == Decimal("0.01")
    assert "须大于 0 且不超过 100" in refusal(parsing.percent, "0", "比例")
    assert "须大于 0 且不超过 100" in refusal(parsing.percent, "100.01", "比例")
    assert refusal(parsing.percent, "1.234", "比例") == "比例 1.234 超过两位小数"


def test_dates_texts_and_codes():
    assert parsing.date("2026-03-31", "签订日期") == dt.date(2026, 3, 31)
    assert parsing.date(dt.datetime(2026, 3, 31, 9, 0), "签订日期") == dt.date(2026, 3, 31)
    assert refusal(parsing.date, "2026-02-30", "签订日期") == "签订日期“2026-02-30”不是日期（格式：2026-03-31）"
    assert refusal(parsing.date, "", "签订日期") == "签订日期必须填写"
    assert parsing.text(None) == "" and parsing.text("  甲  ") == "甲" and parsing.text(12) == "12"
    assert parsing.code(" ｈｔ２０２６ ０１ ") == "HT202601"
    errors: dict = {}
    assert parsing.required_text(errors, "name", " ", "名称", 5) == ""
    parsing.required_text(errors, "title", "一二三四五六", "标题", 5)
    assert errors == {"name": ["名称必须填写"], "title": ["标题“一二三四五六…”超过 5 个字符"]}


def test_collect_files_a_refusal_under_its_field_and_returns_none():
    errors: dict = {}
    assert parsing.collect(errors, "amount", parsing.money, "x", "金额") is None
    assert parsing.collect(errors, "amount", parsing.money, "1", "金额") == Decimal("1.00")
    assert errors == {"amount": ["金额“x”不是数字"]}


def test_yuan_and_amount_text():
    assert parsing.yuan(Decimal("1234567.5")) == "1,234,567.50 元"
    assert parsing.yuan(None) == "—"
    assert parsing.amount_text(Decimal("1234567.5")).endswith("（1,234,567.50 元）")
