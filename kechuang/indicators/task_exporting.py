"""计划任务导出: the filtered task list as one .xlsx sheet, and a 说明 sheet (the overdue rule, the filters,
who exported it and when).

Written with XlsxWriter as the registry export is (enterprises/exporting.py): one typed call per cell,
never its guessing write(), so no text becomes a formula, number or link; text a spreadsheet would run as a
formula is escaped with excel.escape_formula.
"""

import datetime as dt
import io
from collections.abc import Iterable, Sequence

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone

from kechuang.core import excel
from kechuang.indicators.models import PlanTask
from kechuang.indicators.task_selectors import OVERDUE_RULE, TaskFilters

SHEET = "计划任务"
NOTES_SHEET = "说明"
FILENAME = "计划任务-{day:%Y%m%d}.xlsx"
HEADERS = (
    "文件",
    "位置",
    "类别",
    "序号",
    "分类",
    "名称",
    "主要内容",
    "实施主体/责任单位",
    "实施周期",
    "开始日期",
    "完成期限",
    "状态",
    "进度（%）",
    "是否逾期",
    "最近进展日期",
    "最近进展",
)
WIDTHS = {"名称": 28, "主要内容": 60, "实施主体/责任单位": 36, "位置": 24, "最近进展": 40, "文件": 30}


def task_rows(qs: QuerySet[PlanTask]) -> Iterable[Sequence]:
    """The rows of the sheet, in the queryset's order (task_selectors.tasks annotates `overdue` and the
    latest note)."""
    for task in qs:
        yield (
            task.get_document_display(),
            task.place,
            task.get_kind_display(),
            task.number,
            task.category,
            task.title,
            task.content,
            "、".join(unit.name for unit in task.units.all()),
            task.period_text,
            task.start_date,
            task.deadline,
            task.get_status_display(),
            task.progress,
            "逾期" if task.overdue else "",
            task.last_note_date,
            task.last_note_text or "",
        )


def task_notes(filters: TaskFilters, *, user, count: int) -> list[str]:
    shown = filters.described()
    who = user.get_full_name() or user.username
    return [
        f"计划任务 {count} 项（按页面上的筛选与排序）。",
        OVERDUE_RULE,
        "筛选条件：" + ("；".join(shown) if shown else "无（全部计划任务）"),
        "名称、主要内容、实施主体照录文件原文；实施主体以“等”结尾的，原文见主要内容末尾。",
        "以 ' 开头的 =、+、-、@ 文字是为防止公式注入加的前缀。",
        f"导出：{who}，{timezone.localtime():%Y-%m-%d %H:%M}。",
    ]


def tasks_xlsx(qs: QuerySet[PlanTask], *, notes: Sequence[str]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    header_format = workbook.add_format(
        {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79", "pattern": 1, "valign": "vcenter"}
    )
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    red = workbook.add_format({"font_color": "#B42318", "bold": True})
    sheet = workbook.add_worksheet(SHEET)
    for index, header in enumerate(HEADERS):
        sheet.set_column(index, index, WIDTHS.get(header, max(10, len(header) * 2 + 4)))
        sheet.write_string(0, index, header, header_format)
    sheet.freeze_panes(1, 0)
    overdue_column = HEADERS.index("是否逾期")
    wrapped = {HEADERS.index("主要内容"), HEADERS.index("最近进展")}
    for number, row in enumerate(task_rows(qs), start=1):
        for index, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(number, index, "是" if value else "否")
            elif isinstance(value, int):
                sheet.write_number(number, index, value)
            elif isinstance(value, dt.date):
                sheet.write_datetime(number, index, dt.datetime.combine(value, dt.time()), day)
            else:
                cell_format = red if index == overdue_column else wrap if index in wrapped else None
                sheet.write_string(number, index, excel.escape_formula(str(value)), cell_format)
    notes_sheet = workbook.add_worksheet(NOTES_SHEET)
    notes_sheet.set_column(0, 0, 100)
    for number, line in enumerate(notes):
        notes_sheet.write_string(number, 0, excel.escape_formula(line))
    workbook.close()
    return buffer.getvalue()


def filename() -> str:
    return FILENAME.format(day=timezone.localdate())
