"""Excel in and out: cells read as text, formulas found and escaped, a file's shape without reading it all."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from kechuang.core import excel


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_it_reads_every_cell_as_the_text_a_person_typed():
    content = workbook_bytes(
        {
            "数据": [
                ["整数", "小数", "日期", "时刻", "布尔", "文字", "空"],
                [2023, 12.5, date(2024, 6, 30), datetime(2024, 6, 30, 8, 30), True, "  甲  ", None],
            ]
        }
    )

    rows = excel.read_rows(content, "a.xlsx", "数据")

    assert rows[1] == ["2023", "12.5", "2024-06-30", "2024-06-30T08:30:00", "是", "甲", ""]


def test_it_keeps_the_row_positions_of_the_sheet():
    content = workbook_bytes({"数据": [["表头"], [], ["第3行"]]})

    assert excel.read_rows(content, "a.xlsx", "数据") == [["表头"], [""], ["第3行"]]


def test_it_gives_the_header_and_counts_the_non_blank_rows():
    content = workbook_bytes(
        {"数据": [[None], ["代码", "名称"], ["1", "甲"], [None, "  "], [0, None], ["3", "丙"]]}
    )

    assert excel.read_shape(content, "a.xlsx", "数据") == (["代码", "名称"], 3)
    csv_content = "代码,名称\n1,甲\n,\n3,丙\n".encode()
    assert excel.read_shape(csv_content, "a.csv", "数据") == (["代码", "名称"], 2)


def test_it_refuses_in_read_shape_what_read_rows_refuses():
    with pytest.raises(excel.SpreadsheetError, match="找不到工作表“数据”"):
        excel.read_shape(workbook_bytes({"Sheet1": [["a"]]}), "a.xlsx", "数据")
    with pytest.raises(excel.SpreadsheetError, match="不是有效的 .xlsx"):
        excel.read_shape(b"not a zip", "a.xlsx", "数据")
    with pytest.raises(excel.SpreadsheetError, match="文件为空"):
        excel.read_shape(b"", "a.xlsx", "数据")


def test_it_finds_the_formula_cells_of_a_sheet():
    content = workbook_bytes(
        {"其他": [["=1+1"]], "数据": [["代码", "金额"], ["a", "=B3*2"], ["b", 5], ["=A2", "=SUM(B2:B3)"]]}
    )

    assert excel.formula_cells(content, "数据") == {(1, 1), (3, 0), (3, 1)}
    assert excel.formula_cells(workbook_bytes({"数据": [["=文字而已"]]}), "其他") == set()


def test_it_finds_no_formulas_in_a_sheet_without_any():
    assert excel.formula_cells(workbook_bytes({"数据": [["代码"], ["a"], [1.5]]}), "数据") == set()


def test_it_escapes_formula_like_text_and_reads_it_back_unescaped():
    texts = ["=1+1", "+86 21", "-负数开头", "@SUM(A1)", "普通文字", "'引号开头", "'=已有引号", "''-两个引号"]
    content = excel.write_xlsx([("数据", ["文字"], [[t] for t in texts])])

    sheet = load_workbook(io.BytesIO(content))["数据"]
    assert [c.data_type for (c,) in sheet.iter_rows(min_row=2)] == ["s"] * len(texts)
    read = [row[0] for row in excel.read_rows(content, "a.xlsx", "数据")[1:]]
    assert read == [
        "'=1+1",
        "'+86 21",
        "'-负数开头",
        "'@SUM(A1)",
        "普通文字",
        "'引号开头",
        "''=已有引号",
        "'''-两个引号",
    ]
    assert [excel.unescape_formula(t) for t in read] == texts


def test_it_keeps_decimal_and_negative_numbers_as_numbers():
    content = excel.write_xlsx([("数据", ["数"], [[Decimal("-25.000055")], [Decimal("1234.567891")], [-3]])])

    assert [row[0] for row in excel.read_rows(content, "a.xlsx", "数据")[1:]] == [
        "-25.000055",
        "1234.567891",
        "-3",
    ]
