"""统计监测 in Excel: the dashboard as a workbook (targets with progress, every value with its source, the
rule), the observation import template, and reading an uploaded import file into rows for
services.import_observations.

Written with XlsxWriter, one typed call per cell (never its guessing write()), text escaped like
core.excel.escape_formula, as enterprises/exporting.py does.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import xlsxwriter
from django.utils import timezone

from kechuang.core import excel
from kechuang.core.excel import ImportFileError  # noqa: F401 (callers catch them from here)
from kechuang.enterprises.models import Park
from kechuang.indicators import selectors
from kechuang.indicators.models import Document, Indicator
from kechuang.indicators.services import IMPORT_COLUMNS

TARGET_SHEET = "目标与进度"
SERIES_SHEET = "数据序列"
NOTES_SHEET = "说明"
IMPORT_SHEET = "观测值"
CATALOGUE_SHEET = "指标目录"
EXPORT_FILENAME = "统计监测-{day:%Y%m%d}.xlsx"
TEMPLATE_FILENAME = "观测值导入模板.xlsx"

TARGET_HEADERS = (
    "指标代码",
    "指标",
    "单位",
    "统计范围",
    "目标年",
    "目标值",
    "基期年",
    "基期值",
    "目标出处",
    "出处位置",
    "原文",
    "最新值",
    "最新值年份",
    "最新值来源",
    "完成度（%）",
    "已实现年均增长",
    "所需年均增长",
    "增长口径",
    "目标年推算值",
    "状态",
    "状态说明",
)
SERIES_HEADERS = ("指标代码", "指标", "单位", "年份", "日期", "数值", "来源类别", "来源")
SOURCE_KIND = {"document": "文件", "observation": "业务录入", "registry": "企业库实时计算"}
CATALOGUE_HEADERS = (
    "指标代码",
    "指标",
    "单位",
    "统计频度",
    "季度/月份填法",
    "合理范围",
    "统计范围",
    "数据来源",
)
SUB_PERIOD_HINT = {"year": "留空或 0", "quarter": "1–4", "month": "1–12"}


def _write(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    header_format = workbook.add_format(
        {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79", "pattern": 1, "valign": "vcenter"}
    )
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for title, headers, rows in sheets:
        sheet = workbook.add_worksheet(title)
        for index, header in enumerate(headers):
            sheet.set_column(index, index, max(12, min(40, len(header) * 2 + 4)))
            sheet.write_string(0, index, header, header_format)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(rows, start=1):
            for index, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_string(number, index, "是" if value else "否")
                elif isinstance(value, int | float):
                    sheet.write_number(number, index, value)
                elif hasattr(value, "isoformat") and not isinstance(value, str):
                    sheet.write_datetime(number, index, value, day)
                else:
                    sheet.write_string(number, index, excel.escape_formula(str(value)))
    workbook.close()
    return buffer.getvalue()


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def target_rows(board: selectors.Dashboard) -> Iterable[list]:
    for state in board.rows:
        target, indicator, latest = state.target, state.target.indicator, state.latest
        figure = target.figure
        yield [
            indicator.code,
            indicator.name,
            indicator.unit,
            indicator.scope,
            target.year,
            float(target.value),
            target.baseline_year,
            float(target.baseline_value),
            figure.get_document_display() if figure else "科委设定",
            figure.place if figure else None,
            figure.quote if figure else None,
            latest.value if latest else None,
            latest.year if latest else None,
            selectors.source_text(latest) if latest else None,
            _round(state.share * 100, 1) if state.share is not None else None,
            _round(state.achieved_rate * 100 if state.compound else state.achieved_rate, 2)
            if state.achieved_rate is not None
            else None,
            _round(state.needed_rate * 100 if state.compound else state.needed_rate, 2)
            if state.needed_rate is not None
            else None,
            "年均复合增长率（%）" if state.compound else f"每年增加（{indicator.unit}）",
            _round(state.forecast, 2),
            state.status_text,
            state.reason,
        ]


def series_rows(points: dict[int, list[selectors.Point]], indicators: Iterable[Indicator]) -> Iterable[list]:
    for indicator in indicators:
        for point in points.get(indicator.pk, []):
            yield [
                indicator.code,
                indicator.name,
                indicator.unit,
                point.year,
                point.on,
                point.value,
                SOURCE_KIND[point.source],
                selectors.source_text(point),
            ]


def dashboard_xlsx(board: selectors.Dashboard, *, year: int | None, document: str, user) -> bytes:
    """The dashboard's targets with their progress, every value of their indicators with its source, and 说明."""
    indicators = list({state.target.indicator_id: state.target.indicator for state in board.rows}.values())
    points = selectors.series_many(indicators, board.today)
    shown = []
    if year:
        shown.append(f"目标年 {year}")
    if document:
        shown.append(f"文件 {Document(document).label}")
    who = user.get_full_name() or user.username
    notes = [
        "统计监测：各文件目标的最新值、完成度、推算值与状态。",
        f"计算日期：{board.today:%Y-%m-%d}（企业库实时计算的数值以此日计）。",
        "筛选条件：" + ("；".join(shown) if shown else "无（全部目标）"),
        *(f"规则：{line}" for line in selectors.RULE_LINES),
        f"导出：{who}，{timezone.localtime():%Y-%m-%d %H:%M}。",
    ]
    return _write(
        [
            (TARGET_SHEET, TARGET_HEADERS, target_rows(board)),
            (SERIES_SHEET, SERIES_HEADERS, series_rows(points, indicators)),
            (NOTES_SHEET, ("说明",), ([line] for line in notes)),
        ]
    )


def export_filename(board: selectors.Dashboard) -> str:
    return EXPORT_FILENAME.format(day=board.today)


def import_template_xlsx() -> bytes:
    """The import sheet's headers, the indicators that take observations, the parks, and how to fill it in."""
    indicators = Indicator.objects.filter(computed="").order_by("order", "code")
    catalogue = (
        [
            i.code,
            i.name,
            i.unit,
            i.get_frequency_display(),
            SUB_PERIOD_HINT[i.frequency],
            f"{'不限' if i.value_min is None else format(i.value_min.normalize(), 'f')}–"
            f"{'不限' if i.value_max is None else format(i.value_max.normalize(), 'f')}",
            i.scope,
            i.data_source,
        ]
        for i in indicators
    )
    parks = (
        "；".join(Park.objects.order_by("parent_id", "name").values_list("name", flat=True))
        or "（系统中尚无园区）"
    )
    notes = (
        f"第1行是表头，请勿修改；从第2行起每行一个观测值：{'、'.join(IMPORT_COLUMNS)}。",
        "指标代码见“指标目录”工作表；由企业库实时计算的指标不在其中，不能导入。",
        "年份为四位数字，不能是将来的年份；季度/月份：年度指标留空或填 0，季度指标填 1–4，月度指标填 1–12。",
        f"园区：全区数据留空；分园区数据填园区全称或简称：{parks}。",
        "数值按“指标目录”所列单位填写（如 % 填 3.5 而不是 0.035），须在合理范围之内。",
        "任何一行有错误整个文件都不导入，并按行列出每一处错误；已录入的期间不能重复导入，如需更正请在指标页修改。",
        "单元格不能含公式。",
    )
    return _write(
        [
            (IMPORT_SHEET, IMPORT_COLUMNS, []),
            (CATALOGUE_SHEET, CATALOGUE_HEADERS, catalogue),
            (NOTES_SHEET, ("填写说明",), ([line] for line in notes)),
        ]
    )


def import_rows(content: bytes, filename: str) -> list[tuple]:
    """The rows after the header of the import sheet, as services.import_observations takes them. Numbering:
    the header is row 1, as Excel counts, so the file has to start with it."""
    try:
        rows = excel.read_rows(content, filename, IMPORT_SHEET)
    except excel.SpreadsheetError as error:
        raise ImportFileError(str(error)) from None
    if not rows or tuple(rows[0][: len(IMPORT_COLUMNS)]) != IMPORT_COLUMNS:
        got = "、".join(c for c in (rows[0] if rows else []) if c) or "（空）"
        raise ImportFileError(
            f"第 1 行须是表头：{'、'.join(IMPORT_COLUMNS)}；文件中是：{got}。请使用下载的模板。"
        )
    if filename.lower().endswith(".xlsx"):
        formulas = sorted(excel.formula_cells(content, IMPORT_SHEET))
        if formulas:
            where = "、".join(f"第 {row + 1} 行第 {column + 1} 列" for row, column in formulas[:5])
            raise ImportFileError(
                f"单元格不能含公式：{where}{'等' if len(formulas) > 5 else ''}。请改为数值后再上传。"
            )
    return [tuple(row[: len(IMPORT_COLUMNS)]) for row in rows[1:]]
