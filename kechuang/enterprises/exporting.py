"""企业库导出: workbooks in exactly the import templates' format, so an export can be corrected
and imported back; the empty templates; an import job's error report.

Values are written as people type them into the templates: choices as their Chinese labels, money
in 万元 (exactly: yuan / 10000), dates as dates. Text that a spreadsheet would run as a formula is
escaped as excel.escape_formula does; the import takes the escape off again.

The registry itself is written with XlsxWriter in constant-memory mode, one typed call per cell
(never its guessing write()): the whole registry at 100,000 enterprises takes about 60% of the time
openpyxl's write-only mode takes (benchmarks/RESULTS.md, 企业库导出). An export of more than settings.EXPORT_SYNC_MAX_ENTERPRISES
enterprises runs in the worker as an ExportJob (export_job_create, registry_export), with the
requesting user's scope applied again when it runs.
"""

import io
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone

from kechuang.core import excel
from kechuang.core.money import WAN
from kechuang.enterprises import selectors
from kechuang.enterprises.importing import SPECS, Column, Spec
from kechuang.enterprises.models import Enterprise, ExportJob, ImportJob, ImportKind, Park

logger = logging.getLogger(__name__)

NOTES_SHEET = "说明"
NOTES_HEADERS = ("工作表", "列名", "必填", "填写说明")
REPORT_SHEET = "错误报告"
REPORT_HEADERS = ("行", "列", "值", "问题")
GENERAL_NOTES = (
    "每个工作表的第1行是表头，请勿修改；从第2行起每行填写一条记录，空行会被跳过；模板以外的列导入时忽略。",
    "按统一社会信用代码匹配企业（年度数据再加年度；知识产权按类型和申请号/登记号；资质按资质类型和发证日期）：已有的记录更新，没有的新增；文件中没有的列保持原值。",
    "日期写成 YYYY-MM-DD（如 2024-06-30），也可用 Excel 的日期格式。",
    "金额单位为万元，可带小数（精确到元）；人数单位为人，可带一位小数；没有数据的留空，不要填0。",
    "单元格不能含公式。导出的文件中以 ' 开头的 =、+、-、@ 文字是为防止公式注入加的前缀，导入时自动去掉。",
    "默认任何一行有错误整个文件都不导入，并列出每一处错误；上传时可选择“只导入正确的行”。",
)
TEMPLATE_FILENAME = "{label}导入模板.xlsx"
EXPORT_FILENAME = "企业库.xlsx"
EXPORT_JOB_FILENAME = "企业库-{created:%Y%m%d-%H%M}.xlsx"

PROGRESS_EVERY = 5000  # rows written between two updates of an export job's progress
CHUNK_SIZE = 2000

# An export job's message.
EXPORT_NOT_ALLOWED = "导出人已无导出权限（或账号已停用），未导出任何数据。"
EXPORT_FAILED = "导出失败（系统内部错误），请重试或联系管理员。"
EXPORT_DONE = "共导出 {enterprises} 家企业、{rows} 行数据。"

Sheet = tuple[str, Sequence[str], Iterable[Sequence]]


def registry_sheets(queryset: QuerySet[Enterprise], *, user=None) -> list[Sheet]:
    """The enterprises of `queryset` with their yearly figures, IP and qualifications as the
    sheets (title, headers, rows) of the import templates, and 说明. The rows are read lazily,
    in chunks. The contact phone is masked unless `user` may import the registry, so an officer's
    export imports back unchanged."""
    mask_phone = user is None or not user.has_perm("enterprises.import_registry")
    parks = dict(Park.objects.values_list("pk", "name"))
    sheets: list[Sheet] = []
    for kind in ImportKind:
        spec = SPECS[kind]
        rows = _sheet_rows(spec, queryset)
        sheets.append(
            (spec.sheet, _headers(spec), _rows(spec, rows.iterator(chunk_size=CHUNK_SIZE), parks, mask_phone))
        )
    sheets.append((NOTES_SHEET, NOTES_HEADERS, _notes(list(SPECS.values()), parks)))
    return sheets


def enterprises_xlsx(
    queryset: QuerySet[Enterprise], *, user=None, progress: Callable[[int], None] | None = None
) -> bytes:
    """The registry_sheets of `queryset` as an .xlsx file. `progress`, if given, is called with
    the number of data rows written so far, every PROGRESS_EVERY rows."""
    return _write_registry(registry_sheets(queryset, user=user), progress)



def export_row_count(queryset: QuerySet[Enterprise]) -> int:
    """How many data rows enterprises_xlsx writes for `queryset`, over all four sheets."""
    return sum(_sheet_rows(SPECS[kind], queryset).count() for kind in ImportKind)


def _sheet_rows(spec: Spec, queryset: QuerySet[Enterprise]) -> QuerySet:
    if spec.kind == ImportKind.ENTERPRISES:
        ordered = queryset if queryset.ordered else queryset.order_by("name", "pk")  # the list's order
        return ordered.values(*_stored_fields(spec))
    order = {
        ImportKind.YEARS: ("year",),
        ImportKind.IP: ("ip_type", "number"),
        ImportKind.QUALIFICATIONS: ("kind", "issue_date"),
    }[spec.kind]
    return (
        spec.model._default_manager.filter(enterprise__in=queryset.values("pk"))
        .order_by("enterprise__name", "enterprise_id", *order)
        .values(*_stored_fields(spec), "enterprise__uscc", "enterprise__name")
    )


# The background export.


def export_job_create(*, user, filters: selectors.RegistryFilters, total_enterprises: int) -> ExportJob:
    """Queues the export of the registry list `filters` selects for `user`. A job of the same
    user and filters that is still queued or running is returned instead of a second one."""
    from kechuang.enterprises.tasks import registry_export_task

    wanted = asdict(filters)
    for job in ExportJob.objects.filter(
        created_by=user, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
    ).defer("content"):
        if job.filters == wanted:
            return job
    job = ExportJob.objects.create(created_by=user, filters=wanted, total_enterprises=total_enterprises)
    registry_export_task.enqueue(job.pk)
    return job


def registry_export(*, job: ExportJob) -> ExportJob:
    """Runs a queued export job. What is exported is decided now, not when the job was queued:
    the list its filters select among the enterprises its creator may see today."""
    if not ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING
    ):
        job.refresh_from_db()
        return job  # another worker has it, or it has run
    job.status = ExportJob.Status.RUNNING
    user = job.created_by
    if user is None or not user.is_active or not user.has_perm("enterprises.export_registry"):
        return _export_finish(job, ExportJob.Status.FAILED, EXPORT_NOT_ALLOWED)
    try:
        queryset = selectors.enterprise_list(
            user=user, filters=selectors.RegistryFilters.from_params(job.filters)
        )
        job.total_enterprises = queryset.count()
        job.total_rows = export_row_count(queryset)
        ExportJob.objects.filter(pk=job.pk).update(
            total_enterprises=job.total_enterprises, total_rows=job.total_rows
        )

        def progress(rows: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(processed_rows=rows)

        job.content = enterprises_xlsx(queryset, user=user, progress=progress)
    except Exception:
        logger.exception("export job %s failed", job.pk)
        return _export_finish(job, ExportJob.Status.FAILED, EXPORT_FAILED)
    job.file_size = len(job.content)
    job.processed_rows = job.total_rows
    message = EXPORT_DONE.format(enterprises=job.total_enterprises, rows=job.total_rows)
    return _export_finish(job, ExportJob.Status.DONE, message, with_content=True)


def _export_finish(job: ExportJob, status: str, message: str, *, with_content: bool = False) -> ExportJob:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    fields = ["status", "message", "finished_at", "total_enterprises", "total_rows", "processed_rows"]
    job.save(update_fields=fields + (["content", "file_size"] if with_content else []))
    return job


def export_job_filename(job: ExportJob) -> str:
    return EXPORT_JOB_FILENAME.format(created=timezone.localtime(job.created_at))


# Writing the registry with XlsxWriter.


def _write_registry(sheets: list[Sheet], progress: Callable[[int], None] | None) -> bytes:
    """Sheets (title, headers, rows) as an .xlsx: the header row styled and frozen, as
    excel.write_xlsx writes it. Cells are written by type, never with XlsxWriter's guessing
    write(), so no text becomes a formula, number or link; text is escaped like
    excel.escape_formula."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,  # rows go to a temporary file as they are written
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    header_format = workbook.add_format(
        {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79", "pattern": 1, "valign": "vcenter"}
    )
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    escape = excel.escape_formula
    written = 0
    for title, headers, rows in sheets:
        sheet = workbook.add_worksheet(title)
        write_string, write_number, write_datetime = (
            sheet.write_string,
            sheet.write_number,
            sheet.write_datetime,
        )
        for index, header in enumerate(headers):
            sheet.set_column(index, index, max(12, min(40, len(header) * 2 + 4)))
            write_string(0, index, header, header_format)
        sheet.freeze_panes(1, 0)
        counted = title != NOTES_SHEET
        for number, row in enumerate(rows, start=1):
            for index, value in enumerate(row):
                if value is None:
                    continue
                kind = type(value)
                if kind is str:
                    write_string(number, index, escape(value))
                elif kind is float or kind is int:
                    write_number(number, index, value)
                elif kind is Decimal:
                    number_or_text = excel.decimal_cell(value)
                    if type(number_or_text) is str:
                        write_string(number, index, number_or_text)
                    else:
                        write_number(number, index, number_or_text)
                elif kind is bool:
                    write_string(number, index, "是" if value else "否")
                elif kind is date:
                    write_datetime(number, index, value, day)
                elif kind is datetime:
                    write_datetime(number, index, value.replace(tzinfo=None), moment)
                else:
                    write_string(number, index, escape(str(value)))
            if counted:
                written += 1
                if progress is not None and written % PROGRESS_EVERY == 0:
                    progress(written)
    workbook.close()
    return buffer.getvalue()


def import_template_xlsx(*, kind: str) -> bytes:
    """An empty template: the sheet with its headers, and 说明 on every column."""
    spec = SPECS[kind]
    parks = dict(Park.objects.values_list("pk", "name"))
    return excel.write_xlsx(
        [(spec.sheet, _headers(spec), []), ("说明", NOTES_HEADERS, _notes([spec], parks))]
    )


def template_filename(kind: str) -> str:
    return TEMPLATE_FILENAME.format(label=ImportKind(kind).label)


def import_report_xlsx(*, job: ImportJob) -> bytes:
    rows = ((e["row"], e["column"], e["value"], e["message"]) for e in job.errors)
    return excel.write_xlsx([(REPORT_SHEET, REPORT_HEADERS, rows)])


def _headers(spec: Spec) -> list[str]:
    return [column.header for column in spec.columns]


def _stored_fields(spec: Spec) -> list[str]:
    return [column.field for column in spec.columns if column.field]


def _rows(spec: Spec, rows: Iterable[dict], parks: dict[int, str], mask_phone: bool) -> Iterator[list]:
    for row in rows:
        yield [_cell(column, row, parks, mask_phone) for column in spec.columns]


def _cell(column: Column, row: dict, parks: dict[int, str], mask_phone: bool):
    kind = column.kind
    if kind == "reference":
        return row["enterprise__name"]
    value = row[column.field]
    if value is None or value == "":
        return None
    if kind == "enterprise":
        return row["enterprise__uscc"]
    if kind == "choice":
        return column.label_of(value)
    if kind == "money":
        return value / WAN
    if kind == "people":
        return Decimal(value)
    if kind == "park":
        return parks[value]
    if kind == "phone" and mask_phone:
        return Enterprise(contact_phone=value).masked_phone
    return value


def _notes(specs: list[Spec], parks: dict[int, str]) -> Iterator[tuple[str, str, str, str]]:
    for spec in specs:
        for column in spec.columns:
            yield (
                spec.sheet,
                column.header,
                "是" if column.required else "",
                _column_note(spec, column, parks),
            )
    for note in GENERAL_NOTES:
        yield "（全部）", "", "", note


def _column_note(spec: Spec, column: Column, parks: dict[int, str]) -> str:
    kind = column.kind
    parts = []
    if kind in ("code", "enterprise"):
        pass
    elif kind == "date":
        parts.append("日期，YYYY-MM-DD")
    elif kind == "money":
        parts.append("单位：万元")
    elif kind == "people":
        parts.append("单位：人")
    elif kind == "year":
        parts.append("四位数字的年份")
    elif kind == "bool":
        parts.append("填“是”或“否”")
    elif kind == "choice":
        parts.append("可填：" + column.allowed() + "（也可填代码）")
    elif kind == "park":
        parts.append("园区全称，可填：" + ("；".join(sorted(parks.values())) or "（系统中尚无园区）"))
    elif kind in ("text", "phone") and column.max_length:
        parts.append(f"文字，最多 {column.max_length} 个字符")
    if column.note:
        parts.append(column.note)
    if column.keep_blank:
        default = spec.model._meta.get_field(column.field).get_default()
        default = column.label_of(default) if column.choices else ("是" if default else "否")
        parts.append(f"留空：新增时为“{default}”，更新时保持原值")
    elif not column.required and column.field:
        parts.append("可留空")
    return "；".join(parts)
