"""Exports: the compendium (《科技创新政策汇编》) as .docx with a table of contents and as .xlsx, and a run's payment
list (兑付名单) as .xlsx. Spreadsheets go through kechuang.core.excel.write_xlsx, which writes any text starting
like a formula as text (formula-injection safe).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from decimal import Decimal

import xlsxwriter
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from kechuang.core import excel
from kechuang.core.excel import write_xlsx
from kechuang.core.money import yuan_to_wan
from kechuang.policies import docx, selectors
from kechuang.policies import eligibility as elig
from kechuang.policies import formula as fm
from kechuang.policies.evaluate import BUDGET_RULES, ROUNDING_RULE
from kechuang.policies.models import BenefitRun, BenefitState, PaymentExport, PolicyDocument, PolicyItem
from kechuang.policies.periods import Period

logger = logging.getLogger(__name__)

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
# Up to this many rows a payment list is written in the request (about a second); longer ones by the worker.
PAYMENT_SYNC_MAX = 2_000
PROGRESS_EVERY = 5_000
PAYMENT_FAILED = "兑付名单生成失败，未生成文件。请稍后重新导出；如仍失败，请联系管理员查看服务器日志。"
PAYMENT_NOT_ALLOWED = "导出人已无导出兑付名单的权限，未生成文件。"
PAYMENT_DONE = "已生成兑付名单：{rows} 户，合计 {total} 元。"
TOTAL_LABEL = "合计"


def payment_rows(run: BenefitRun) -> list[tuple]:
    """The payment list's rows as plain tuples (no model objects): enterprise name, code, park, state, amount,
    accepted and paid times and the explanation's summary, read by one query in the list's order."""
    return list(
        selectors.payment_list(run)
        .select_related(None)
        .values_list(
            "enterprise__name",
            "enterprise__uscc",
            "enterprise__park__name",
            "period",
            "amount",
            "state",
            "accepted_at",
            "paid_at",
            "explanation__summary",
        )
    )


def payment_xlsx(
    run: BenefitRun, *, user, rows: list[tuple] | None = None, progress: Callable[[int], None] | None = None
) -> bytes:
    """The payment list as .xlsx: one row per benefit to pay, then the total; notes on a second sheet. Written
    with XlsxWriter (rows streamed to a temporary file), each cell by its type, text escaped like
    excel.escape_formula, so no name becomes a formula."""
    rows = payment_rows(run) if rows is None else rows
    states = dict(BenefitState.choices)
    labels = {}
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
            "remove_timezone": True,
        },
    )
    header = workbook.add_format(
        {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79", "pattern": 1, "valign": "vcenter"}
    )
    yuan = workbook.add_format({"num_format": "#,##0.00"})
    wan = workbook.add_format({"num_format": "#,##0.0000"})
    bold = workbook.add_format({"bold": True})
    bold_yuan = workbook.add_format({"bold": True, "num_format": "#,##0.00"})
    bold_wan = workbook.add_format({"bold": True, "num_format": "#,##0.0000"})
    sheet = workbook.add_worksheet("兑付名单")
    for index, title in enumerate(PAYMENT_HEADERS):
        sheet.set_column(index, index, max(12, min(40, len(title) * 2 + 4)))
        sheet.write_string(0, index, title, header)
    sheet.set_column(1, 1, 36)
    sheet.set_column(10, 10, 80)
    sheet.freeze_panes(1, 0)
    escape = excel.escape_formula
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    total = Decimal(0)
    for number, (name, uscc, park, period, amount, state, accepted, paid, summary) in enumerate(rows, 1):
        write_number(number, 0, number)
        write_string(number, 1, escape(name))
        write_string(number, 2, uscc)
        if park:
            write_string(number, 3, escape(park))
        if period not in labels:
            labels[period] = Period.parse(period).label
        write_string(number, 4, labels[period])
        if amount is not None:
            total += amount
            write_number(number, 5, float(amount), yuan)
            write_number(number, 6, float(yuan_to_wan(amount, 4)), wan)
        write_string(number, 7, states.get(state, state))
        if accepted is not None:
            write_datetime(number, 8, timezone.localtime(accepted))
        if paid is not None:
            write_datetime(number, 9, timezone.localtime(paid))
        if summary:
            write_string(number, 10, escape(str(summary)))
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number)
    last = len(rows) + 1
    sheet.write_string(last, 1, TOTAL_LABEL, bold)
    sheet.write_string(last, 4, f"共 {len(rows)} 户", bold)
    sheet.write_number(last, 5, float(total), bold_yuan)
    sheet.write_number(last, 6, float(yuan_to_wan(total, 4)), bold_wan)
    definition = run.definition
    notes = workbook.add_worksheet("说明")
    notes.set_column(0, 0, 100)
    for index, line in enumerate(
        [
            f"兑付名单：{definition.get('name')}，{Period.parse(run.period).label}，批次 {run.pk}（{run.get_status_display()}）",
            f"依据：{definition.get('document', '')} {definition.get('article', '')}".strip(),
            f"共 {len(rows)} 户，合计 {total:,.2f} 元；含已确认待企业确认领受、企业已确认和已拨付的兑现。",
            f"金额规则：{ROUNDING_RULE}。",
            f"导出人：{user.get_full_name() or user.username}，导出时间 {timezone.localtime():%Y-%m-%d %H:%M}",
        ]
    ):
        notes.write_string(index, 0, escape(line))
    workbook.close()
    return buffer.getvalue()


def payment_filename(run: BenefitRun) -> str:
    return f"兑付名单-{run.definition.get('name', run.item_id)}-{run.period}-批次{run.pk}.xlsx"


# --- the background export of a long payment list ------------------------------------------------------------


def payment_export_request(*, run: BenefitRun, user) -> PaymentExport:
    """Queue the payment list of `run` for `user`; a job of the same run and user still queued or running is
    returned instead of a second one. The worker writes it (tasks.payment_export_task)."""
    from kechuang.policies.tasks import payment_export_task

    open_job = (
        PaymentExport.objects.defer("content")
        .filter(
            run=run, created_by=user, status__in=[PaymentExport.Status.QUEUED, PaymentExport.Status.RUNNING]
        )
        .first()
    )
    if open_job is not None:
        return open_job
    job = PaymentExport.objects.create(run=run, created_by=user)
    transaction.on_commit(lambda: payment_export_task.enqueue(job.pk))
    return job


def payment_export_execute(*, job: PaymentExport) -> PaymentExport:
    """Write a queued payment list: the list as it is now (benefits accepted or paid since the job was queued are
    in it), with progress; a failure leaves no file and a message saying so."""
    if not PaymentExport.objects.filter(pk=job.pk, status=PaymentExport.Status.QUEUED).update(
        status=PaymentExport.Status.RUNNING
    ):
        job.refresh_from_db(fields=["status", "message", "finished_at"])
        return job
    job.status = PaymentExport.Status.RUNNING
    user = job.created_by
    if user is None or not user.is_active or not user.has_perm("policies.export_benefit"):
        return _export_finish(job, PaymentExport.Status.FAILED, PAYMENT_NOT_ALLOWED)
    try:
        rows = payment_rows(job.run)
        job.total_rows = len(rows)
        PaymentExport.objects.filter(pk=job.pk).update(total_rows=job.total_rows)

        def progress(written: int) -> None:
            PaymentExport.objects.filter(pk=job.pk).update(processed_rows=written)

        job.content = payment_xlsx(job.run, user=user, rows=rows, progress=progress)
    except Exception:
        logger.exception("payment export %s failed", job.pk)
        return _export_finish(job, PaymentExport.Status.FAILED, PAYMENT_FAILED)
    job.file_size = len(job.content)
    job.processed_rows = job.total_rows
    total = sum((row[4] or Decimal(0) for row in rows), Decimal(0))
    message = PAYMENT_DONE.format(rows=f"{job.total_rows:,}", total=f"{total:,.2f}")
    return _export_finish(job, PaymentExport.Status.DONE, message, with_content=True)


def _export_finish(
    job: PaymentExport, status: str, message: str, *, with_content: bool = False
) -> PaymentExport:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    fields = ["status", "message", "finished_at", "total_rows", "processed_rows"]
    job.save(update_fields=fields + (["content", "file_size"] if with_content else []))
    return job
