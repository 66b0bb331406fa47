"""Excel in and out: reading .xlsx/.csv into rows of text, and writing .xlsx safely.

Cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) are written with a
leading apostrophe, so an export can never execute anything when opened (OWASP CSV injection).
"""

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read; the message is for the user, in Chinese."""


class ImportFileError(ValueError):
    """An import file cannot be read as its template; the message says why, in Chinese."""


@dataclass(frozen=True)
class RowError:
    """One refused cell of an import, where Excel shows it."""

    row: int  # as Excel numbers it (header = 1)
    column: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行“{self.column}”列（{self.value!r}）：{self.message}"


class ImportRejected(Exception):
    """An all-or-nothing import refused: every error, nothing written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("；".join(str(e) for e in errors[:5]))


def escape_formula(value):
    # Text already starting with apostrophes before a formula character gets one more, so that
    # unescape_formula gives back exactly what was written.
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unescape_formula(text: str) -> str:
    """Undo escape_formula, so an exported file imports back to the same data."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def looks_like_formula(text: str) -> bool:
    return text.startswith("=") and len(text) > 1


def write_xlsx(
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]],
    notes: Sequence[str] = (),
) -> bytes:
    """One workbook; each sheet is (title, headers, rows). Notes go to a last sheet 说明."""
    workbook = Workbook(write_only=True)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E79")
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title)
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(header) * 2 + 4))
        sheet.freeze_panes = "A2"
        from openpyxl.cell import WriteOnlyCell

        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=header)
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center")
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_cell_value(v) for v in row])
    if notes:
        sheet = workbook.create_sheet("说明")
        sheet.column_dimensions["A"].width = 100
        for line in notes:
            sheet.append([escape_formula(line)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def decimal_cell(value: Decimal) -> float | str:
    """A Decimal as a spreadsheet number, or as text where a float would lose digits."""
    return float(value) if value == value.to_integral_value() or abs(value) < 10**15 else str(value)


def _cell_value(value):
    if isinstance(value, Decimal):
        return decimal_cell(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date) or value is None or isinstance(value, (int, float)):
        return value
    return escape_formula(str(value))


def read_rows(content: bytes, filename: str, sheet_name: str) -> list[list[str]]:
    """All rows of the named sheet (or of a .csv) as lists of stripped text, header row first."""
    lower = filename.lower()
    if not content:
        raise SpreadsheetError("文件为空，请上传按模板填写的 .xlsx 或 .csv 文件。")
    if lower.endswith(".csv"):
        return _read_csv(content)
    if lower.endswith(".xlsx"):
        return _read_xlsx(content, sheet_name)
    raise SpreadsheetError(f"不支持的文件类型“{filename}”：只接受 .xlsx 或 .csv 文件。")


def _read_csv(content: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码的 CSV。")
    if "\x00" in text:
        raise SpreadsheetError("该 .csv 文件含二进制内容，不是文本表格。")
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]


def _open_sheet(content: bytes, sheet_name: str):
    from python_calamine import CalamineWorkbook

    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise SpreadsheetError("该文件不是有效的 .xlsx 电子表格（可能已损坏，或只是改了扩展名）。")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    except Exception as error:  # calamine raises its own error types for any corrupt workbook
        raise SpreadsheetError("该文件不是有效的 .xlsx 电子表格（可能已损坏，或只是改了扩展名）。") from error
    if sheet_name not in workbook.sheet_names:
        names = "、".join(workbook.sheet_names) or "（无）"
        raise SpreadsheetError(f"找不到工作表“{sheet_name}”：文件中的工作表为 {names}。请使用对应模板。")
    return workbook.get_sheet_by_name(sheet_name)


def _read_xlsx(content: bytes, sheet_name: str) -> list[list[str]]:
    rows = _open_sheet(content, sheet_name).to_python(skip_empty_area=False)
    # Row by row in place, so the cells are not held twice; the common cell types inline, as this
    # runs once per cell of files with millions of cells.
    for index, row in enumerate(rows):
        rows[index] = [
            cell.strip()
            if type(cell) is str
            else (repr(int(cell)) if cell.is_integer() else repr(cell))
            if type(cell) is float
            else _text(cell)
            for cell in row
        ]
    return rows


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, float):
        return repr(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()


def read_shape(content: bytes, filename: str, sheet_name: str) -> tuple[list[str], int]:
    """The header (the first non-blank row) and the number of non-blank rows after it, without
    turning every cell into text: enough to check a file's columns and size before importing it.
    Raises SpreadsheetError like read_rows."""
    if content and filename.lower().endswith(".xlsx"):
        rows = _open_sheet(content, sheet_name).to_python(skip_empty_area=False)
    else:
        rows = read_rows(content, filename, sheet_name)
    header: list[str] = []
    count = 0
    for row in rows:
        if _is_blank_cells(row):
            continue
        if header:
            count += 1
        else:
            header = [_text(cell) for cell in row]
    return header, count


def _is_blank_cells(row: Sequence) -> bool:
    """Whether a row of raw cells is empty: only None, "" or spaces (0 and False are values)."""
    for cell in row:
        if type(cell) is str:
            if cell and not cell.isspace():
                return False
        elif cell is not None:
            return False
    return True


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)([0-9]+)"[^>]*?(?<!/)>(.*?)</(?:\w+:)?c>', re.S)


def formula_cells(content: bytes, sheet_name: str) -> set[tuple[int, int]]:
    """The cells of an .xlsx sheet that hold a formula, as (row, column) positions counted from 0
    like the lists read_rows returns. A reader sees a formula's cached result, or nothing when the
    file was written by a program that did not compute it; either way the import refuses them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        path = _sheet_path(archive, sheet_name)
        if path is None:
            return set()
        if not _contains(archive, path, _FORMULA_TAG):
            return set()
        xml = archive.read(path)
    except (zipfile.BadZipFile, KeyError, OSError, zlib.error):
        return set()
    found = set()
    for match in _CELL.finditer(xml):
        if _FORMULA_TAG.search(match.group(3)):
            found.add((int(match.group(2)) - 1, _column_index(match.group(1).decode())))
    return found


def _contains(archive: zipfile.ZipFile, path: str, pattern: re.Pattern) -> bool:
    tail = b""
    with archive.open(path) as stream:
        while chunk := stream.read(1 << 20):
            if pattern.search(tail + chunk):
                return True
            tail = chunk[-32:]
    return False


def _sheet_path(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    from xml.etree import ElementTree

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = next(
        (
            sheet.get(rel_ns + "id")
            for sheet in workbook.iter(main + "sheet")
            if sheet.get("name") == sheet_name
        ),
        None,
    )
    if rel_id is None:
        return None
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return None


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1
