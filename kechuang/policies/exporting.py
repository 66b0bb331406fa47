"""Exports: the compendium (《科技创新政策汇编》) as .docx with a table of contents and as .xlsx, and a run's payment
list (兑付名单) as .xlsx. Spreadsheets go through kechuang.core.excel.write_xlsx, which writes any text starting
like a formula as text (formula-injection safe).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from kechuang.core.excel import write_xlsx
from kechuang.core.money import yuan_to_wan
from kechuang.policies import docx
from kechuang.policies import eligibility as elig
from kechuang.policies import formula as fm
from kechuang.policies.evaluate import BUDGET_RULES, ROUNDING_RULE
from kechuang.policies.models import Benefit, BenefitRun, PolicyDocument, PolicyItem
from kechuang.policies.periods import Period

COMPENDIUM_TITLE = "松江区科技创新政策汇编"


def describe_item(item: PolicyItem, on: dt.date | None = None) -> dict:
    """An item's definition in words: its conditions (label and requirement) and its formula with labels."""
    on = on or timezone.localdate()
    conditions = []
    try:
        compiled = elig.compile_conditions(elig.check(item.eligibility), on)
        conditions = [(c.label, c.requirement) for c in compiled]
    except elig.EligibilityError as error:
        conditions = [("资格条件有误", "；".join(error.problems))]
    try:
        parameters = fm.parameters_from(item.parameters)
        formula = fm.compile_formula(fm.parse(item.formula, parameters), on).labelled
        parameter_texts = [f"{p.label}：{p.text}" for p in parameters.values()]
    except fm.FormulaError as error:
        formula, parameter_texts = f"公式有误：{error}", []
    caps = []
    if item.cap_per_enterprise is not None:
        caps.append(f"单户上限 {format_yuan_wan(item.cap_per_enterprise)}")
    if item.budget is not None:
        caps.append(f"每期预算 {format_yuan_wan(item.budget)}（{BUDGET_RULES[item.budget_rule]}）")
    return {
        "conditions": conditions,
        "formula": formula,
        "parameters": parameter_texts,
        "caps": caps,
        "rounding": ROUNDING_RULE,
    }


def format_yuan_wan(value: Decimal | None) -> str:
    if value is None:
        return "—"
    wan = yuan_to_wan(value, 4).normalize()
    return f"{wan:f}万元"


def _documents(qs: QuerySet[PolicyDocument]) -> list[PolicyDocument]:
    published = (
        PolicyItem.objects.filter(state="published")
        .select_related("article")
        .order_by("effective_from", "pk")
    )
    return list(
        qs.prefetch_related("articles", Prefetch("items", queryset=published, to_attr="published_items"))
    )


def compendium_docx(qs: QuerySet[PolicyDocument], *, notes: list[str]) -> bytes:
    today = timezone.localdate()
    doc = docx.Document(COMPENDIUM_TITLE)
    doc.paragraph(COMPENDIUM_TITLE, style="Title")
    doc.paragraph(
        f"松江区科学技术委员会 编 · {today.year}年{today.month}月{today.day}日导出", style="Subtitle"
    )
    for line in notes:
        doc.paragraph(line, style="Meta", align="center")
    doc.page_break()
    doc.toc(levels=2)
    documents = _documents(qs)
    for document in documents:
        doc.page_break()
        doc.heading(f"{document.number} {document.title}".strip(), 1)
        for label, value in (
            ("发文机关", document.issuer),
            ("成文日期", document.issued_on.isoformat()),
            ("施行日期", document.effective_from.isoformat() if document.effective_from else "—"),
            ("有效期至", document.effective_to.isoformat() if document.effective_to else "长期"),
            ("效力状态", document.get_status_display()),
            ("来源", document.source or "—"),
        ):
            doc.paragraph(f"{label}：{value}", style="Meta")
        if document.summary:
            doc.paragraph(f"摘要：{document.summary}")
        if document.published_items:
            doc.heading("可兑现政策事项（免申即享）", 2)
            rows = []
            for item in document.published_items:
                described = describe_item(item, today)
                rows.append(
                    [
                        item.name,
                        item.get_kind_display(),
                        "；".join(f"{label}（{req}）" for label, req in described["conditions"]),
                        described["formula"]
                        + ("；" + "；".join(described["parameters"]) if described["parameters"] else "")
                        + ("；" + "；".join(described["caps"]) if described["caps"] else ""),
                    ]
                )
            doc.table(["事项", "类别", "资格条件", "金额"], rows, widths=[1900, 800, 3000, 2600])
        for article in document.articles.all():
            doc.heading(f"{article.number}{article.title}", 2)
            doc.paragraph(article.text)
        if not document.articles.all() and document.full_text:
            doc.paragraph(document.full_text)
    if not documents:
        doc.paragraph("没有符合条件的政策文件。")
    return doc.render()


def compendium_xlsx(qs: QuerySet[PolicyDocument], *, notes: list[str]) -> bytes:
    documents = _documents(qs)
    doc_rows = [
        [
            d.number,
            d.title,
            d.issuer,
            d.issued_on,
            d.effective_from,
            d.effective_to,
            d.get_status_display(),
            len(d.articles.all()),
            d.summary,
            d.source,
        ]
        for d in documents
    ]
    article_rows = [
        [d.number, d.title, a.number, a.title, a.text] for d in documents for a in d.articles.all()
    ]
    item_rows = []
    today = timezone.localdate()
    for d in documents:
        for item in d.published_items:
            described = describe_item(item, today)
            item_rows.append(
                [
                    d.number,
                    str(item.article or ""),
                    item.name,
                    item.get_kind_display(),
                    "；".join(f"{label}（{req}）" for label, req in described["conditions"]),
                    described["formula"],
                    "；".join(described["parameters"]),
                    item.cap_per_enterprise,
                    item.budget,
                    item.effective_from,
                    item.effective_to,
                ]
            )
    return write_xlsx(
        [
            (
                "政策文件",
                [
                    "文号",
                    "标题",
                    "发文机关",
                    "成文日期",
                    "施行日期",
                    "有效期至",
                    "效力状态",
                    "条款数",
                    "摘要",
                    "来源",
                ],
                doc_rows,
            ),
            ("政策条款", ["文号", "文件标题", "条款号", "条款标题", "条款内容"], article_rows),
            (
                "政策事项",
                [
                    "文号",
                    "依据条款",
                    "事项",
                    "类别",
                    "资格条件",
                    "金额公式",
                    "参数",
                    "单户上限（元）",
                    "每期预算（元）",
                    "施行日期",
                    "截止日期",
                ],
                item_rows,
            ),
        ],
        notes=[f"{COMPENDIUM_TITLE}（导出于 {timezone.localtime():%Y-%m-%d %H:%M}）", *notes],
    )


def compendium_filename(extension: str) -> str:
    return f"{COMPENDIUM_TITLE}-{timezone.localdate():%Y%m%d}.{extension}"


PAYMENT_HEADERS = [
    "序号",
    "企业名称",
    "统一社会信用代码",
    "所在园区",
    "兑现期间",
    "核定金额（元）",
    "核定金额（万元）",
    "状态",
    "企业确认时间",
    "拨付登记时间",
    "核定说明",
]


def payment_xlsx(run: BenefitRun, benefits: QuerySet[Benefit], *, user) -> bytes:
    rows = []
    total = Decimal(0)
    for number, b in enumerate(benefits, 1):
        total += b.amount or 0
        rows.append(
            [
                number,
                b.enterprise.name,
                b.enterprise.uscc,
                b.enterprise.park.name if b.enterprise.park_id else "",
                Period.parse(b.period).label,
                b.amount,
                yuan_to_wan(b.amount, 4),
                b.get_state_display(),
                timezone.localtime(b.accepted_at) if b.accepted_at else None,
                timezone.localtime(b.paid_at) if b.paid_at else None,
                (b.explanation or {}).get("summary", ""),
            ]
        )
    definition = run.definition
    notes = [
        f"兑付名单：{definition.get('name')}，{Period.parse(run.period).label}，批次 {run.pk}（{run.get_status_display()}）",
        f"依据：{definition.get('document', '')} {definition.get('article', '')}".strip(),
        f"共 {len(rows)} 户，合计 {total:,.2f} 元；含已确认待企业确认领受、企业已确认和已拨付的兑现。",
        f"金额规则：{ROUNDING_RULE}。",
        f"导出人：{user.get_full_name() or user.username}，导出时间 {timezone.localtime():%Y-%m-%d %H:%M}",
    ]
    return write_xlsx([("兑付名单", PAYMENT_HEADERS, rows)], notes=notes)


def payment_filename(run: BenefitRun) -> str:
    return f"兑付名单-{run.definition.get('name', run.item_id)}-{run.period}-批次{run.pk}.xlsx"
