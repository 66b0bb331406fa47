"""The .xlsx export of registered technology contracts. Text cells go through kechuang.core.excel.write_xlsx,
which writes a cell a spreadsheet would run as a formula (= + - @, tab, CR) with a leading apostrophe: a
contract named "=HYPERLINK(…)" exports as text, never as a formula."""

from __future__ import annotations

from django.utils import timezone

from kechuang.core.excel import write_xlsx
from kechuang.core.money import yuan_to_wan
from kechuang.recognitions import config
from kechuang.recognitions.choices import ContractType, PaymentMode, SubType

HEADERS = [
    "合同登记编号",
    "登记日期",
    "合同编号",
    "项目名称",
    "合同类型",
    "合同子类",
    "卖方名称",
    "卖方统一社会信用代码",
    "买方名称",
    "买方统一社会信用代码",
    "买方国别",
    "买方行政区划代码",
    "签订日期",
    "合同有效期自",
    "合同有效期至",
    "成交额（万元）",
    "技术交易额（万元）",
    "支付方式",
    "计划付款（万元）",
    "已付款（万元）",
    "履约状态",
]


def contracts_xlsx(qs, *, filters=None, user=None) -> bytes:
    """One row per contract of `qs` (annotated by selectors.with_payments), amounts in 万元."""
    types, sub_types, modes = dict(ContractType.choices), dict(SubType.choices), dict(PaymentMode.choices)
    rows = []
    for c in qs:
        rows.append(
            [
                c.registration_no,
                c.registered_on,
                c.contract_no,
                c.name,
                types.get(c.contract_type, c.contract_type),
                sub_types.get(c.sub_type, c.sub_type),
                c.seller_name,
                c.seller_uscc,
                c.buyer_name,
                c.buyer_uscc,
                c.buyer_country,
                c.buyer_region,
                c.signed_on,
                c.valid_from,
                c.valid_to,
                yuan_to_wan(c.total_amount, 6),
                yuan_to_wan(c.tech_amount, 6),
                modes.get(c.payment_mode, c.payment_mode),
                yuan_to_wan(c.planned, 6),
                yuan_to_wan(c.paid, 6),
                "有逾期未付" if c.behind else "正常",
            ]
        )
    notes = [
        f"技术合同认定登记：已登记的合同，导出于 {timezone.localtime():%Y-%m-%d %H:%M}"
        + (f"，导出人 {user.get_username()}" if user is not None else ""),
        "合同类型：民法典第八百四十三条（技术开发、转让、许可、咨询、服务）；支付方式：民法典第八百四十六条。",
        "成交额为合同总金额，技术交易额为其中技术部分的金额（不超过成交额）；金额单位：万元（库内以元存储）。",
        "履约状态：有计划付款日期已过（当天不算）而未付清的，为“有逾期未付”。",
        config.notes()["registration_no"],
    ]
    if filters is not None and filters.active:
        shown = []
        if filters.q:
            shown.append(f"搜索“{filters.q}”")
        if filters.contract_type:
            shown.append(f"合同类型：{types[filters.contract_type]}")
        if filters.year:
            shown.append(f"登记年度：{filters.year}")
        if filters.behind:
            shown.append("仅履约逾期")
        if shown:
            notes.append("筛选条件：" + "；".join(shown))
    return write_xlsx([("已登记技术合同", HEADERS, rows)], notes)
