"""企业库导出: workbooks in exactly the import templates' format, so an export can be corrected
and imported back; the empty templates; an import job's error report.

Values are written as people type them into the templates: choices as their Chinese labels, money
in 万元 (exactly: yuan / 10000), dates as dates. excel.write_xlsx escapes text that a spreadsheet
would run as a formula; the import takes the escape off again.
"""

from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import QuerySet

from kechuang.core import excel
from kechuang.core.money import WAN
from kechuang.enterprises.importing import SPECS, Column, Spec
from kechuang.enterprises.models import Enterprise, ImportJob, ImportKind, Park

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


def enterprises_xlsx(queryset: QuerySet[Enterprise], *, user=None) -> bytes:
    """The enterprises of `queryset` with their yearly figures, IP and qualifications: one sheet
    each in the import templates' format, and 说明. The contact phone is masked unless `user`
    may import the registry, so an officer's export imports back unchanged."""
    mask_phone = user is None or not user.has_perm("enterprises.import_registry")
    enterprise_ids = queryset.values("pk")
    parks = dict(Park.objects.values_list("pk", "name"))
    sheets = []
    for kind in ImportKind:
        spec = SPECS[kind]
        if kind == ImportKind.ENTERPRISES:
            ordered = queryset if queryset.ordered else queryset.order_by("name", "pk")  # the list's order
            rows = ordered.values(*_stored_fields(spec))
        else:
            order = {
                ImportKind.YEARS: ("year",),
                ImportKind.IP: ("ip_type", "number"),
                ImportKind.QUALIFICATIONS: ("kind", "issue_date"),
            }[kind]
            rows = (
                spec.model._default_manager.filter(enterprise__in=enterprise_ids)
                .order_by("enterprise__name", "enterprise_id", *order)
                .values(*_stored_fields(spec), "enterprise__uscc", "enterprise__name")
            )
        sheets.append(
            (spec.sheet, _headers(spec), _rows(spec, rows.iterator(chunk_size=2000), parks, mask_phone))
        )
    sheets.append(("说明", NOTES_HEADERS, _notes(list(SPECS.values()), parks)))
    return excel.write_xlsx(sheets)


registry_xlsx = enterprises_xlsx  # the name the registry's export view uses


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
