"""Excel in and out: reading .xlsx/.csv into rows of text, and writing .xlsx safely.

Cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) are written with a
leading apostrophe, so an export can never execute anything when opened (OWASP CSV injection).
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read; the message is for the user, in Chinese."""


def escape_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unescape_formula(text: str) -> str:
    """Undo escape_formula, so an exported file imports back to the same data."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
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


def _cell_value(value):
    if isinstance(value, Decimal):
        return float(value) if value == value.to_integral_value() or abs(value) < 10**15 else str(value)
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


def _read_xlsx(content: bytes, sheet_name: str) -> list[list[str]]:
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
    rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    return [[_text(cell) for cell in row] for row in rows]


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
