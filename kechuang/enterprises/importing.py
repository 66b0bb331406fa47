"""企业库导入: the four templates' columns, reading a file, checking every cell and row, the upsert.

A file is read whole; every cell and row is checked in plain Python, with the registry's own rules
(models.year_errors, uscc.uscc_error, the models' date rules, the database's unique keys) and
against the database prefetched into dicts, so a file of 300,000 rows costs a few dozen queries.
All the problems are collected into a row-by-row report: row as Excel numbers it (header = 1),
column, value, and what is allowed. Then, unless there is an error and the job is all-or-nothing,
the good rows are written in one transaction: new rows inserted, changed rows updated, unchanged
rows left alone, and one django-simple-history record per written row (history_type "+" or "~",
the importing user, reason "批量导入：<file>"), so each enterprise's change history shows the import.

The rows and their history records are written with executemany, not with simple_history's
bulk_create_with_history: that goes through Django's insert compiler, about 4 µs per field and
row here, and writing 100,000 enterprises and 300,000 yearly rows with their history that way took
64 s by itself, more than the whole import may (benchmarks/bench_import.py --compare-orm). The records are the ones bulk_create_with_history
would write; their columns come from the history models, so they follow any change to the models.
"""

from __future__ import annotations

import gc
import logging
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from kechuang.core import excel, uscc
from kechuang.core.db import analyze
from kechuang.core.excel import ImportFileError  # noqa: F401 (callers catch them from here)
from kechuang.enterprises import choices
from kechuang.enterprises.figures import FIGURES
from kechuang.enterprises.models import (
    VALIDITY_YEARS,
    Enterprise,
    EnterpriseYear,
    ImportJob,
    ImportKind,
    IPAsset,
    Park,
    Qualification,
    default_expiry,
    year_errors,
)

logger = logging.getLogger(__name__)

# A write this large changes the table's statistics enough to re-plan the list pages.
ANALYZE_AFTER_ROWS = 10000
BATCH_SIZE = 2000
# The job's progress is written every PROGRESS_EVERY rows, but not more often than every
# PROGRESS_SECONDS: on SQLite each update rewrites the whole job row, the uploaded file included.
PROGRESS_EVERY = 2000
PROGRESS_SECONDS = 2.0
QUERY_CHUNK = 900  # values per IN (...) when prefetching: under SQLite's oldest limit of 999 parameters
MAX_REPORTED_ERRORS = 10000  # errors kept in the report; error_rows still counts every row

# The file as a whole (raised by import_job_create, shown on the upload form; nothing is stored).
FILE_TOO_LARGE = "文件大小为 {size}，超过上限 {limit}：请拆分成几个文件分批导入。"
EMPTY_SHEET = "工作表“{sheet}”是空的：请在第1行填写表头，从第2行起每行填写一条记录。"
NO_DATA_ROWS = "文件中只有表头，没有数据行：请从第2行起每行填写一条记录。"
MISSING_COLUMNS = "缺少必填列：{columns}。请下载“{kind}”模板，按模板的表头填写。"
DUPLICATE_HEADER = "表头“{header}”出现了多次（第 {columns} 列），每列只能出现一次。"
UNKNOWN_KIND = "不支持的数据类型“{kind}”。"

# One cell.
REQUIRED = "必填，不能为空"
FORMULA = "单元格含公式：只能导入数值或文字，请把公式转换为数值（复制后“选择性粘贴→数值”）再导入"
NOT_A_NUMBER = "应为数字（单位：{unit}），不能含文字"
NOT_A_YEAR = "应为四位数字的年份，如 2024"
NOT_A_DATE = "应为有效日期，格式 YYYY-MM-DD，如 2024-06-30"
NOT_A_CHOICE = "不是允许的值，应填以下之一：{allowed}"
NOT_A_BOOL = "应填“是”或“否”"
TOO_LONG = "不能超过 {limit} 个字符（现为 {length} 个）"
UNKNOWN_PARK = "系统中没有这个园区：请填写园区全称，可选的园区见模板的“说明”工作表"
MASKED_PHONE = "这是导出时打码的号码，不能导入：请填写完整号码，或删去“联系电话”列以保留原号码"
UNKNOWN_ENTERPRISE = "企业库中没有这个统一社会信用代码：请先导入该企业的基本信息"

# One row, or rows together. The date rules say what the models' clean() say.
DUPLICATE_KEY = "与第 {rows} 行重复：{what}在一个文件中只能出现一次"
IP_OWNED_ELSEWHERE = "该{ip_type}已登记在另一家企业名下（{name}，{code}）：同一申请号/登记号只能属于一家企业"
REGISTRATION_IN_FUTURE = "成立日期 {date} 晚于今天"
GRANT_BEFORE_APPLICATION = "授权/登记日 {grant} 早于申请日 {application}"
GRANT_IN_FUTURE = "授权/登记日 {grant} 晚于今天"
PENDING_WITH_GRANT = "已填写授权日的知识产权状态不能是“申请中”"
EXPIRY_NOT_AFTER_ISSUE = "有效期至 {expiry} 必须晚于发证日期 {issue}"
ISSUE_IN_FUTURE = "发证日期 {issue} 晚于今天"

# The job's summary.
SUMMARY = "新增 {created} 条，更新 {updated} 条，未变化 {unchanged} 条。"
SUMMARY_REJECTED = "有 {rows} 行出错，未导入任何数据：请按下表修改后重新上传，或勾选“只导入正确的行”。"
SUMMARY_SKIPPED = "有 {rows} 行出错，未导入这些行，见下表。"
IGNORED_COLUMNS = "已忽略无法识别的列：{columns}。"
ERRORS_TRUNCATED = "错误太多，下表只列出前 {limit} 条。"
WRITING = "校验完成，正在写入数据库……"
WRITE_CONFLICT = "写入数据库时与已有数据冲突（可能有人同时修改了相同的记录），未导入任何数据，请重新上传。"
FAILED = "导入失败（系统内部错误），未导入任何数据，请联系管理员。"
CHANGE_REASON = "批量导入：{filename}"


class _CellError(ValueError):
    pass


_KEEP = object()  # a blank cell that keeps the stored value (the field's default in a new row)


@dataclass(frozen=True)
class Column:
    """One column of a template: its header, the model field it fills, how a cell is read."""

    header: str
    field: str | None  # the model attname; None: only for people to read (企业名称 on the other sheets)
    kind: str  # code, enterprise, text, phone, date, choice, bool, money, people, year, park, reference
    required: bool = False  # the column must be in the file and every cell filled
    max_length: int = 0
    choices: type[models.TextChoices] | None = None
    keep_blank: bool = False  # a blank cell keeps the stored value; a new row gets the default
    note: str = ""

    def label_of(self, code: str) -> str:
        return _labels(self.choices).get(code, code) if self.choices and code else code

    def allowed(self) -> str:
        return "；".join(label for _, label in self.choices.choices) if self.choices else ""


@cache
def _labels(choice_class: type[models.TextChoices]) -> dict[str, str]:
    return dict(choice_class.choices)


@dataclass(frozen=True)
class Spec:
    kind: str
    sheet: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    key_fields: tuple[str, ...]
    lookup_field: str  # stored rows are fetched by this field, then matched by the whole key
    duplicate_column: str  # the header a duplicate key is reported under
    duplicate_what: str
    rules: Callable[[dict, date], dict[str, str]]
    extra_values: tuple[str, ...] = ()  # fetched with a stored row, for messages

    @property
    def label(self) -> str:
        return ImportKind(self.kind).label

    def fetch(self, lookups: Iterable, names: Iterable[str] = ()) -> dict[tuple, dict]:
        """The stored rows whose lookup field is one of `lookups`, by key: all their fields, or `names`."""
        names = list(names) or [*_field_names(self.model), *self.extra_values]
        found = {}
        for chunk in _chunks(lookups):
            for row in self.model._default_manager.filter(**{f"{self.lookup_field}__in": chunk}).values(
                *names
            ):
                found[tuple(row[name] for name in self.key_fields)] = row
        return found


# Rules of one row (the merged row: stored values overlaid with the file's), as {field: message}.


def _enterprise_rules(row: dict, today: date) -> dict[str, str]:
    registered = row.get("registration_date")
    if registered and registered > today:
        return {"registration_date": REGISTRATION_IN_FUTURE.format(date=registered)}
    return {}


def _year_rules(row: dict, today: date) -> dict[str, str]:
    return year_errors({name: row[name] for name in _FIGURE_NAMES}, row["year"], this_year=today.year)


def _ip_rules(row: dict, today: date) -> dict[str, str]:
    errors = {}
    grant, application = row["grant_date"], row["application_date"]
    if grant and application and grant < application:
        errors["grant_date"] = GRANT_BEFORE_APPLICATION.format(grant=grant, application=application)
    if grant and grant > today:
        errors["grant_date"] = GRANT_IN_FUTURE.format(grant=grant)
    if row["status"] == choices.IPStatus.PENDING and grant:
        errors["status"] = PENDING_WITH_GRANT
    if row["hnte_used_year"] is not None:
        message = year_errors({}, row["hnte_used_year"], this_year=today.year).get("year")
        if message:
            errors["hnte_used_year"] = message
    return errors


def _qualification_rules(row: dict, today: date) -> dict[str, str]:
    issue, expiry = row["issue_date"], row["expiry_date"]
    if expiry is None and issue and row["kind"] in VALIDITY_YEARS:
        row["expiry_date"] = expiry = default_expiry(row["kind"], issue)  # as Qualification.save() does
    errors = {}
    if issue and expiry and expiry <= issue:
        errors["expiry_date"] = EXPIRY_NOT_AFTER_ISSUE.format(expiry=expiry, issue=issue)
    if issue and issue > today:
        errors["issue_date"] = ISSUE_IN_FUTURE.format(issue=issue)
    return errors


def _chunks(values: Iterable, size: int = QUERY_CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _field_names(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


_FIGURE_NAMES = tuple(f.name for f in FIGURES)

CODE_NOTE = "18位统一社会信用代码（GB 32100-2015，含校验位）"
ENTERPRISE_CODE = Column(
    "统一社会信用代码",
    "enterprise_id",
    "enterprise",
    required=True,
    note=CODE_NOTE + "；须是企业库中已有的企业",
)
ENTERPRISE_NAME = Column("企业名称", None, "reference", note="仅供核对，导入时不读取")

SPECS: dict[str, Spec] = {
    ImportKind.ENTERPRISES: Spec(
        kind=ImportKind.ENTERPRISES,
        sheet="企业",
        model=Enterprise,
        columns=(
            Column(
                "统一社会信用代码",
                "uscc",
                "code",
                required=True,
                note=CODE_NOTE + "；已有的企业按此更新，没有的新增",
            ),
            Column("企业名称", "name", "text", required=True, max_length=200),
            Column("简称", "short_name", "text", max_length=60),
            Column("成立日期", "registration_date", "date", note="不能晚于今天"),
            Column("所在园区", "park_id", "park"),
            Column("所属行业", "industry", "choice", choices=choices.Industry, note="GB/T 4754-2017 门类"),
            Column(
                "高新技术领域",
                "hitech_field",
                "choice",
                choices=choices.HitechField,
                note="《国家重点支持的高新技术领域》一级领域",
            ),
            Column("主营业务", "main_business", "text", max_length=200),
            Column("注册地址", "address", "text", max_length=200),
            Column("法定代表人", "legal_representative", "text", max_length=50),
            Column("联系电话", "contact_phone", "phone", max_length=30),
            Column("状态", "status", "choice", choices=choices.EnterpriseStatus, keep_blank=True),
            Column("已上市", "is_listed", "bool", keep_blank=True),
        ),
        key_fields=("uscc",),
        lookup_field="uscc",
        duplicate_column="统一社会信用代码",
        duplicate_what="同一统一社会信用代码",
        rules=_enterprise_rules,
    ),
    ImportKind.YEARS: Spec(
        kind=ImportKind.YEARS,
        sheet="年度数据",
        model=EnterpriseYear,
        columns=(
            ENTERPRISE_CODE,
            ENTERPRISE_NAME,
            Column("年度", "year", "year", required=True, note="会计年度"),
            *(
                Column(f.header, f.name, "money" if f.is_money else "people", note=f.definition)
                for f in FIGURES
            ),
        ),
        key_fields=("enterprise_id", "year"),
        lookup_field="enterprise_id",
        duplicate_column="年度",
        duplicate_what="同一企业的同一年度",
        rules=_year_rules,
    ),
    ImportKind.IP: Spec(
        kind=ImportKind.IP,
        sheet="知识产权",
        model=IPAsset,
        columns=(
            ENTERPRISE_CODE,
            ENTERPRISE_NAME,
            Column("类型", "ip_type", "choice", required=True, choices=choices.IPType),
            Column(
                "申请号/登记号",
                "number",
                "text",
                required=True,
                max_length=50,
                note="与类型一起确定一项知识产权：已有的按此更新",
            ),
            Column("名称", "title", "text", required=True, max_length=200),
            Column("申请日", "application_date", "date"),
            Column("授权/登记日", "grant_date", "date", note="不能早于申请日，不能晚于今天"),
            Column("获得方式", "acquisition", "choice", choices=choices.IPAcquisition, keep_blank=True),
            Column("状态", "status", "choice", choices=choices.IPStatus, keep_blank=True),
            Column(
                "已用于高企认定的年度", "hnte_used_year", "year", note="Ⅱ类知识产权在高企认定中只能使用一次"
            ),
        ),
        key_fields=("ip_type", "number"),
        lookup_field="number",
        extra_values=("enterprise__name", "enterprise__uscc"),
        duplicate_column="申请号/登记号",
        duplicate_what="同一类型的同一申请号/登记号",
        rules=_ip_rules,
    ),
    ImportKind.QUALIFICATIONS: Spec(
        kind=ImportKind.QUALIFICATIONS,
        sheet="资质",
        model=Qualification,
        columns=(
            ENTERPRISE_CODE,
            ENTERPRISE_NAME,
            Column("资质类型", "kind", "choice", required=True, choices=choices.QualificationKind),
            Column("级别", "level", "choice", choices=choices.QualificationLevel),
            Column("证书编号", "certificate_no", "text", max_length=60),
            Column("发证机关", "issuer", "text", max_length=100),
            Column(
                "发证日期",
                "issue_date",
                "date",
                required=True,
                note="与企业、资质类型一起确定一条资质：已有的按此更新",
            ),
            Column(
                "有效期至",
                "expiry_date",
                "date",
                note="有效期的最后一天；留空时，有法定有效期的资质（高企、专精特新等三年）按发证日期自动计算，其余表示长期有效",
            ),
        ),
        key_fields=("enterprise_id", "kind", "issue_date"),
        lookup_field="enterprise_id",
        duplicate_column="发证日期",
        duplicate_what="同一企业同一资质类型同一发证日期",
        rules=_qualification_rules,
    ),
}


def spec_for(kind: str) -> Spec:
    try:
        return SPECS[kind]
    except KeyError:
        raise ImportFileError(UNKNOWN_KIND.format(kind=kind)) from None


# Reading one cell: each parser takes the non-blank text of a cell and returns the field's value.

_WAN = Decimal(10000)
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_YEAR = re.compile(r"^\d{4}$")
_BOOLEANS = {
    "是": True,
    "否": False,
    "TRUE": True,
    "FALSE": False,
    "Y": True,
    "N": False,
    "1": True,
    "0": False,
}


def _normal(text: str) -> str:
    """For matching names and headers: half-width, no spaces or quotation marks, upper case."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\"'“”‘’「」]", "", text).upper()


def _choice_lookup(choice_class: type[models.TextChoices]) -> dict[str, str]:
    lookup = {}
    for code, label in choice_class.choices:
        lookup[_normal(code)] = code
        if code.isdigit():
            lookup[code.lstrip("0")] = code  # 01 typed into Excel becomes the number 1
        lookup[_normal(label)] = code
        if label.startswith(code + " "):
            lookup[_normal(label[len(code) + 1 :])] = code  # "C 制造业" may be typed "制造业"
    return lookup


def _number(text: str, unit: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        try:
            number = Decimal(text.replace(",", "").replace("，", "").replace(" ", ""))  # 1,234.5
        except InvalidOperation:
            raise _CellError(NOT_A_NUMBER.format(unit=unit)) from None
    if not number.is_finite():
        raise _CellError(NOT_A_NUMBER.format(unit=unit))
    return number


class _Parsers:
    """The parser of each column, with what they look up: parks by name, enterprises by code."""

    def __init__(self, *, parks: dict[str, int], enterprises: dict[str, int]):
        self.parks = parks
        self.enterprises = enterprises

    def of(self, column: Column) -> Callable[[str], Any]:
        return getattr(self, "_" + column.kind)(column)

    def _code(self, column: Column):
        def parse(text: str) -> str:
            code = uscc.normalise(text)
            error = uscc.uscc_error(code)
            if error:
                raise _CellError(error)
            return code

        return parse

    def _enterprise(self, column: Column):
        code_of = self._code(column)
        enterprises = self.enterprises
        seen: dict[str, int | str] = {}  # a code recurs on every row of its enterprise: pk, or the error

        def parse(text: str) -> int:
            found = seen.get(text)
            if found is None:
                try:
                    found = enterprises.get(code_of(text)) or UNKNOWN_ENTERPRISE
                except _CellError as error:
                    found = str(error)
                seen[text] = found
            if isinstance(found, str):
                raise _CellError(found)
            return found

        return parse

    def _text(self, column: Column):
        limit = column.max_length

        def parse(text: str) -> str:
            if limit and len(text) > limit:
                raise _CellError(TOO_LONG.format(limit=limit, length=len(text)))
            return text

        return parse

    def _phone(self, column: Column):
        text_of = self._text(column)

        def parse(text: str) -> str:
            if "*" in text:
                raise _CellError(MASKED_PHONE)
            return text_of(text)

        return parse

    def _date(self, column: Column):
        def parse(text: str) -> date:
            match = _DATE.match(text)
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))  # type: ignore[index]
            except (TypeError, ValueError):
                raise _CellError(NOT_A_DATE) from None

        return parse

    def _choice(self, column: Column):
        lookup = _choice_lookup(column.choices)  # type: ignore[arg-type]
        message = NOT_A_CHOICE.format(allowed=column.allowed())

        def parse(text: str) -> str:
            code = lookup.get(_normal(text))
            if code is None:
                raise _CellError(message)
            return code

        return parse

    def _bool(self, column: Column):
        def parse(text: str) -> bool:
            value = _BOOLEANS.get(text.upper())
            if value is None:
                raise _CellError(NOT_A_BOOL)
            return value

        return parse

    def _money(self, column: Column):
        def parse(text: str) -> Decimal:
            try:
                yuan = Decimal(text) * _WAN  # the common case inline: this runs for millions of cells
            except ArithmeticError:  # not a number, "1,234.5", or an exponent beyond any context
                try:
                    yuan = _number(text, "万元") * _WAN
                except ArithmeticError:
                    raise _CellError(NOT_A_NUMBER.format(unit="万元")) from None
            if not yuan.is_finite():
                raise _CellError(NOT_A_NUMBER.format(unit="万元"))
            # Beyond 10^15 yuan year_errors reports the value as absurd; quantize would overflow.
            return yuan.quantize(_CENT, ROUND_HALF_UP) if yuan.adjusted() < 15 else yuan

        return parse

    def _people(self, column: Column):
        def parse(text: str) -> Decimal:
            people = _number(text, "人")
            if people.adjusted() >= 8:
                return people  # absurd: year_errors says so; quantize would overflow
            rounded = people.quantize(_TENTH, ROUND_HALF_UP)
            return people if rounded == people else rounded  # "12" stays 12 in messages, not 12.0

        return parse

    def _year(self, column: Column):
        def parse(text: str) -> int:
            if not _YEAR.match(text):
                raise _CellError(NOT_A_YEAR)
            return int(text)

        return parse

    def _park(self, column: Column):
        parks = self.parks

        def parse(text: str) -> int:
            pk = parks.get(_normal(text))
            if pk is None:
                raise _CellError(UNKNOWN_PARK)
            return pk

        return parse


# Reading the file.


@dataclass
class _Table:
    positions: dict[str, int]  # template header → index in a row
    ignored: list[str]  # headers not in the template
    rows: list[tuple[int, list[str]]]  # (row number as Excel shows it, cells), blank rows left out
    formulas: set[tuple[int, int]] = field(default_factory=set)  # (row number, index) of formula cells


def _positions(spec: Spec, header: list[str]) -> tuple[dict[str, int], list[str]]:
    if not any(header):
        raise ImportFileError(EMPTY_SHEET.format(sheet=spec.sheet))
    by_normal = {_normal(c.header): c.header for c in spec.columns}
    found: dict[str, list[int]] = defaultdict(list)
    ignored = []
    for index, text in enumerate(header):
        template_header = by_normal.get(_normal(text)) if text else None
        if template_header:
            found[template_header].append(index)
        elif text:
            ignored.append(text)
    for template_header, indexes in found.items():
        if len(indexes) > 1:
            letters = "、".join(_letter(i) for i in indexes)
            raise ImportFileError(DUPLICATE_HEADER.format(header=template_header, columns=letters))
    missing = [c.header for c in spec.columns if c.required and c.header not in found]
    if missing:
        raise ImportFileError(MISSING_COLUMNS.format(columns="、".join(missing), kind=spec.label))
    return {h: indexes[0] for h, indexes in found.items()}, ignored


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _read_table(spec: Spec, content: bytes, filename: str) -> _Table:
    try:
        rows = excel.read_rows(content, filename, spec.sheet)
    except excel.SpreadsheetError as error:
        raise ImportFileError(str(error)) from None
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if any(row)]
    if not numbered:
        raise ImportFileError(EMPTY_SHEET.format(sheet=spec.sheet))
    positions, ignored = _positions(spec, numbered[0][1])
    data = numbered[1:]
    if not data:
        raise ImportFileError(NO_DATA_ROWS)
    formulas = set()
    if filename.lower().endswith(".xlsx"):
        formulas = {(row + 1, index) for row, index in excel.formula_cells(content, spec.sheet)}
    return _Table(positions=positions, ignored=ignored, rows=data, formulas=formulas)


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count >= 1024 * 1024 else f"{count / 1024:.1f} KB"


# The service.


def import_job_create(*, user, kind: str, upload, mode: str = ImportJob.Mode.ALL_OR_NOTHING) -> ImportJob:
    """Checks the file as a whole and records the job; a file of more than
    settings.IMPORT_BACKGROUND_ROWS data rows goes to the background worker, a smaller one is
    imported now. Raises ImportFileError, storing nothing, when the file cannot be imported at all."""
    spec = spec_for(kind)
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            FILE_TOO_LARGE.format(size=_size(upload.size), limit=_size(settings.IMPORT_MAX_BYTES))
        )
    content = upload.read()
    filename = upload.name.rsplit("/", 1)[-1][:255]
    try:
        with _no_gc():
            header, count = excel.read_shape(content, filename, spec.sheet)
    except excel.SpreadsheetError as error:
        raise ImportFileError(str(error)) from None
    _positions(spec, header)
    if not count:
        raise ImportFileError(NO_DATA_ROWS)
    job = ImportJob.objects.create(
        kind=spec.kind,
        mode=ImportJob.Mode(mode),
        filename=filename,
        content=content,
        total_rows=count,
        created_by=user,
    )
    if count > settings.IMPORT_BACKGROUND_ROWS:
        from kechuang.enterprises.tasks import registry_import_task

        registry_import_task.enqueue(job.pk)
        return job
    return registry_import(job=job)


def registry_import(*, job: ImportJob) -> ImportJob:
    """Runs a queued job: read, check every row, write the good rows (or none) and the report."""
    if not ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    ):
        job.refresh_from_db()
        return job  # another worker has it, or it has run
    job.status = ImportJob.Status.RUNNING
    try:
        with _no_gc():
            _run(job)
    except IntegrityError:
        logger.exception("import job %s: conflict while writing", job.pk)
        _finish(job, ImportJob.Status.FAILED, WRITE_CONFLICT)
    except Exception:
        logger.exception("import job %s failed", job.pk)
        _finish(job, ImportJob.Status.FAILED, FAILED)
    return job


@contextmanager
def _no_gc():
    """Millions of new cells, dicts and Decimals, none in a reference cycle: without this the
    cyclic garbage collector runs over all of them again and again (a third of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _finish(job: ImportJob, status: str, message: str) -> None:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save(
        update_fields=[f.name for f in ImportJob._meta.concrete_fields if f.name not in ("id", "content")]
    )


def _run(job: ImportJob) -> None:
    spec = spec_for(job.kind)
    started = time.perf_counter()
    try:
        table = _read_table(spec, bytes(job.content), job.filename)
    except ImportFileError as error:
        _finish(job, ImportJob.Status.REJECTED, str(error))
        return
    if job.total_rows != len(table.rows):  # counted on upload; written again only if it differs
        job.total_rows = len(table.rows)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
    read = time.perf_counter()
    checked = _check(spec, table, job)
    logger.info(
        "import job %s: read %.1f s, checked %.1f s", job.pk, read - started, time.perf_counter() - read
    )
    notes = [IGNORED_COLUMNS.format(columns="、".join(table.ignored))] if table.ignored else []
    del table  # the rows to write are in the plan now
    job.errors = checked.report[:MAX_REPORTED_ERRORS]
    job.error_rows = len(checked.error_rows)
    if len(checked.report) > MAX_REPORTED_ERRORS:
        notes.append(ERRORS_TRUNCATED.format(limit=MAX_REPORTED_ERRORS))
    job.processed_rows = job.total_rows
    if job.error_rows and (job.mode == ImportJob.Mode.ALL_OR_NOTHING or not checked.plan):
        _finish(
            job, ImportJob.Status.REJECTED, " ".join([SUMMARY_REJECTED.format(rows=job.error_rows), *notes])
        )
        return
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=job.total_rows, message=WRITING)
    writing = time.perf_counter()
    with transaction.atomic():
        created, updated, unchanged = _write(spec, checked.plan, job)
        logger.info("import job %s: wrote %.1f s", job.pk, time.perf_counter() - writing)
        job.created_count, job.updated_count = created, updated
        summary = SUMMARY.format(created=created, updated=updated, unchanged=unchanged)
        if job.error_rows:
            notes.insert(0, SUMMARY_SKIPPED.format(rows=job.error_rows))
        _finish(job, ImportJob.Status.DONE, " ".join([summary, *notes]))
    if created + updated >= ANALYZE_AFTER_ROWS:
        analyze((spec.model._meta.db_table,))


# Checking every row.


@dataclass
class _Checked:
    plan: list[tuple[dict, dict | None]] = field(default_factory=list)  # (row to write, stored row or None)
    report: list[dict] = field(default_factory=list)
    error_rows: set[int] = field(default_factory=set)


def _prefetch(spec: Spec, table: _Table) -> tuple[_Parsers, dict[tuple, dict]]:
    """What the rows will be checked against, in a few queries: parks, the enterprises the file
    names (for the other sheets), and the stored rows its keys may match."""
    parks = {_normal(name): pk for name, pk in Park.objects.values_list("name", "pk")}

    def texts(column: Column) -> set[str]:
        index = table.positions[column.header]
        return {excel.unescape_formula(cells[index]) for _, cells in table.rows if index < len(cells)}

    code_column = spec.columns[0]  # every template starts with 统一社会信用代码
    codes = {uscc.normalise(text) for text in texts(code_column)} - {""}
    enterprises: dict[str, int] = {}
    if code_column.kind == "enterprise":
        for chunk in _chunks(codes):
            enterprises.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    lookup_column = next(c for c in spec.columns if c.field == spec.lookup_field)
    if lookup_column.kind == "enterprise":
        lookups: set = set(enterprises.values())
    elif lookup_column.kind == "code":
        lookups = codes
    else:
        lookups = texts(lookup_column)
    return _Parsers(parks=parks, enterprises=enterprises), spec.fetch(lookups)


def _check(spec: Spec, table: _Table, job: ImportJob) -> _Checked:
    parsers, existing = _prefetch(spec, table)
    model_fields = {f.attname: f for f in spec.model._meta.concrete_fields}
    present = []
    for column in spec.columns:
        if column.field and column.header in table.positions:
            blank = _KEEP if column.keep_blank else (None if model_fields[column.field].null else "")
            present.append((table.positions[column.header], column, parsers.of(column), blank))
    header_of = {c.field: c.header for c in spec.columns if c.field}
    defaults = _defaults(spec.model)
    today = timezone.localdate()
    checked = _Checked()
    problems: dict[int, list[tuple[str, str, str]]] = defaultdict(list)  # row → [(header, value, message)]
    rows_of_key: dict[tuple, list[tuple[int, str]]] = defaultdict(list)  # key → [(row, its text)]
    key_index = table.positions[spec.duplicate_column]
    candidates: dict[int, tuple[dict, dict | None]] = {}
    formulas = table.formulas
    reported = time.monotonic()

    for done, (number, cells) in enumerate(table.rows, start=1):
        table.rows[done - 1] = (number, [])  # the cells are not needed after this row: free them as we go
        values: dict[str, Any] = {}
        failed: dict[str, tuple[str, str]] = {}  # field → (value, message)
        width = len(cells)
        for index, column, parse, blank in present:
            text = cells[index] if index < width else ""
            if formulas and (number, index) in formulas:
                failed[column.field] = (text, FORMULA)
                continue
            if not text:
                if column.required:
                    failed[column.field] = (text, REQUIRED)
                elif blank is not _KEEP:
                    values[column.field] = blank
                continue
            if text[0] in "='":
                if excel.looks_like_formula(text):
                    failed[column.field] = (text, FORMULA)
                    continue
                text = excel.unescape_formula(text)
            try:
                values[column.field] = parse(text)
            except _CellError as error:
                failed[column.field] = (text, str(error))

        key = tuple(values.get(name) for name in spec.key_fields)
        stored = None
        if None not in key:
            rows_of_key[key].append((number, cells[key_index] if key_index < width else ""))
            stored = existing.get(key)
            owner = values.get("enterprise_id")
            if (
                stored is not None
                and spec.kind == ImportKind.IP
                and owner is not None
                and stored["enterprise_id"] != owner
            ):
                message = IP_OWNED_ELSEWHERE.format(
                    ip_type=choices.IPType(key[0]).label,
                    name=stored["enterprise__name"],
                    code=stored["enterprise__uscc"],
                )
                failed["number"] = (values["number"], message)
                stored = None
        row = dict(stored if stored is not None else defaults)
        row.update(values)
        for name in failed:
            row[name] = None  # unknown: the rules skip what they cannot judge
        for name, message in spec.rules(row, today).items():
            if name not in failed:
                index = table.positions.get(header_of[name], -1)
                failed[name] = (cells[index] if 0 <= index < len(cells) else _text(row.get(name)), message)

        if failed:
            for name, (text, message) in failed.items():
                problems[number].append((header_of[name], text, message))
        else:
            candidates[number] = (row, stored)
        if done % PROGRESS_EVERY == 0 and time.monotonic() - reported >= PROGRESS_SECONDS:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=done)
            reported = time.monotonic()

    for rows in rows_of_key.values():
        if len(rows) > 1:
            for number, text in rows:
                others = "、".join(str(other) for other, _ in rows if other != number)
                message = DUPLICATE_KEY.format(rows=others, what=spec.duplicate_what)
                problems[number].append((spec.duplicate_column, text, message))
                candidates.pop(number, None)

    order = {c.header: i for i, c in enumerate(spec.columns)}
    for number in sorted(problems):
        for header, text, message in sorted(problems[number], key=lambda p: order[p[0]]):
            checked.report.append({"row": number, "column": header, "value": text, "message": message})
    checked.error_rows = set(problems)
    checked.plan = [candidates[number] for number in sorted(candidates)]
    return checked


def _text(value) -> str:
    return "" if value is None else str(value)


def _defaults(model: type[models.Model]) -> dict[str, Any]:
    return {f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key}


# Writing: executemany in batches, inside the caller's transaction.


def _write(spec: Spec, plan: list[tuple[dict, dict | None]], job: ImportJob) -> tuple[int, int, int]:
    model = spec.model
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    writable = [f.attname for f in fields if not _is_timestamp(f)]
    now = timezone.now()
    created: list[dict] = []
    updated: list[dict] = []
    changed_fields: set[str] = set()
    unchanged = 0
    for row, stored in plan:
        if stored is None:
            created.append(row)
            continue
        changed = [name for name in writable if row[name] != stored[name]]
        if changed:
            changed_fields.update(changed)
            updated.append(row)
        else:
            unchanged += 1
    for f in fields:
        if _is_timestamp(f):
            for row in created if not f.auto_now else created + updated:
                row[f.attname] = now
    _datetimes_to_db(fields, created + updated)

    pk = model._meta.pk.attname
    if created:
        names = [f.attname for f in fields]
        _insert(model._meta.db_table, [f.column for f in fields], _tuples(names, created))
        ids = spec.fetch({row[spec.lookup_field] for row in created}, names=(pk, *spec.key_fields))
        for row in created:
            row[pk] = ids[tuple(row[name] for name in spec.key_fields)][pk]
    if updated:
        names = sorted(changed_fields) + [f.attname for f in fields if _is_timestamp(f) and f.auto_now]
        _update(model, names, updated)
    reason = CHANGE_REASON.format(filename=job.filename)[:100]
    _insert_history(model, created, "+", job.created_by_id, now, reason)
    _insert_history(model, updated, "~", job.created_by_id, now, reason)
    return len(created), len(updated), unchanged


def _is_timestamp(f: models.Field) -> bool:
    return isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add)


def _datetimes_to_db(fields: list[models.Field], rows: list[dict]) -> None:
    """Datetimes as the driver takes them (naive UTC text on SQLite); other values go as they are."""
    adapt = connection.ops.adapt_datetimefield_value
    for name in [f.attname for f in fields if isinstance(f, models.DateTimeField)]:
        adapted: dict = {}
        for row in rows:
            value = row[name]
            if value not in adapted:
                adapted[value] = adapt(value)
            row[name] = adapted[value]


def _tuples(names: list[str], rows: list[dict]) -> list[tuple]:
    if len(names) == 1:
        return [(row[names[0]],) for row in rows]
    return list(map(itemgetter(*names), rows))


def _executemany(sql: str, params: list[tuple]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(params), BATCH_SIZE):
            cursor.executemany(sql, params[start : start + BATCH_SIZE])


def _insert(table: str, columns: list[str], params: list[tuple]) -> None:
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(columns))
    _executemany(f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES ({marks})", params)


def _update(model: type[models.Model], names: list[str], rows: list[dict]) -> None:
    quote = connection.ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    _executemany(sql, _tuples([*names, meta.pk.attname], rows))


def _insert_history(
    model: type[models.Model], rows: list[dict], history_type: str, user_id, now, reason: str
) -> None:
    """The records simple_history's bulk_history_create writes: every tracked field, and when, why,
    what kind of change and by whom."""
    if not rows or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = model.history.model  # type: ignore[attr-defined]
    extra = {
        "history_date": connection.ops.adapt_datetimefield_value(now),
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": user_id,
    }
    tracked = [
        f for f in history._meta.concrete_fields if f.attname in {t.attname for t in history.tracked_fields}
    ]
    rest = [f for f in history._meta.concrete_fields if not f.primary_key and f not in tracked]
    unknown = {f.attname for f in rest} - set(extra)
    if unknown:
        raise RuntimeError(f"history fields the import does not fill: {sorted(unknown)}")
    constant = tuple(extra[f.attname] for f in rest)
    params = [values + constant for values in _tuples([f.attname for f in tracked], rows)]
    _insert(history._meta.db_table, [f.column for f in tracked + rest], params)
