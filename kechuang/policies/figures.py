"""兑现期间数据 (PolicyFigure: 贷款利息支出, 科技保险保费支出 …) entered by officers, one at a time or from .xlsx.

The import is all or nothing, as the achievements import (matching/importing.py): every row is checked first —
the enterprise by its code (统一社会信用代码) in the registry, the period equal to the one chosen for the file, the
figure one of columns.FIGURES (by name or code), the amount in yuan ≥ 0 to the 分, no row twice — and any problem
rejects the whole file with every problem listed by Excel row number (the header is row 1) and column; otherwise
every row is saved in one transaction (services.figures_save), a figure already recorded for the enterprise,
period and item being replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from kechuang.core import excel, parsing
from kechuang.core.excel import ImportFileError, ImportRejected, RowError  # noqa: F401 (callers catch them from here)
from kechuang.core.uscc import normalise
from kechuang.enterprises.models import Enterprise
from kechuang.policies.columns import FIGURES
from kechuang.policies.periods import Period, PeriodError

SHEET = "兑现期间数据"
COLUMNS = ("统一社会信用代码", "企业名称", "期间", "数据项", "金额（元）", "来源")
MAX_ROWS = 20_000
TEMPLATE_FILENAME = "兑现期间数据导入模板.xlsx"

UNKNOWN_USCC = "统一社会信用代码“{code}”不在企业库中，请先在企业库登记该企业或核对代码"
PERIOD_MISMATCH = "期间“{value}”与本次导入选择的期间 {period}（{label}）不一致；一个文件只导入一个期间的数据"
UNKNOWN_FIGURE = "数据项“{value}”无效：可填 {allowed}"
DUPLICATE_ROW = "与第 {row} 行重复（同一企业、同一期间、同一数据项）"
REQUIRED = "{column}必须填写"


@dataclass(frozen=True)
class FigureRow:
    """One checked figure, ready to save."""

    enterprise_id: int
    period: str
    name: str
    value: Decimal
    source: str


def figure_code(text: str) -> str | None:
    """A figure's code from its code or its label (贷款利息支出 → loan_interest); None when neither."""
    text = (text or "").strip()
    if text in FIGURES:
        return text
    by_label = {label: code for code, label in FIGURES.items()}
    return by_label.get(text)


def allowed_figures() -> str:
    return "、".join(f"{label}（{code}）" for code, label in FIGURES.items())


def template_xlsx(period: Period | None = None) -> bytes:
    example = period.code if period else "2026"
    notes = (
        f"第1行是表头，请勿修改；从第2行起每行一项数据：{'、'.join(COLUMNS)}。",
        "统一社会信用代码：18 位，须是企业库中已登记的企业。企业名称仅供核对，不导入。",
        f"期间：年度（如 {example[:4]}）或季度（如 {example[:4]}Q2），须与导入页面所选期间一致；一个文件只导入一个期间。",
        f"数据项：{allowed_figures()}。",
        "金额（元）：以元为单位，不能为负，最多两位小数；可含千分位逗号。",
        "同一企业、同一期间、同一数据项在文件中只能出现一次；企业库中已登记的同一数据将被本次导入的金额替换。",
        "任何一行有错误整个文件都不导入，并按行列出每一处错误。单元格不能含公式。",
        f"一次最多导入 {MAX_ROWS:,} 行。",
    )
    return excel.write_xlsx(
        [(SHEET, COLUMNS, []), ("数据项", ("代码", "名称"), list(FIGURES.items()))], notes=notes
    )


def read_upload(content: bytes, filename: str) -> list[tuple]:
    """The rows after the header of the import sheet. The header is row 1, as Excel counts."""
    try:
        rows = excel.read_rows(content, filename, SHEET)
    except excel.SpreadsheetError as error:
        raise ImportFileError(str(error)) from None
    if not rows or tuple(rows[0][: len(COLUMNS)]) != COLUMNS:
        got = "、".join(c for c in (rows[0] if rows else []) if c) or "（空）"
        raise ImportFileError(f"第 1 行须是表头：{'、'.join(COLUMNS)}；文件中是：{got}。请使用下载的模板。")
    if filename.lower().endswith(".xlsx"):
        formulas = sorted(excel.formula_cells(content, SHEET))
        if formulas:
            where = "、".join(f"第 {row + 1} 行第 {column + 1} 列" for row, column in formulas[:5])
            raise ImportFileError(
                f"单元格不能含公式：{where}{'等' if len(formulas) > 5 else ''}。请改为文字后再上传。"
            )
    body = [tuple(row[: len(COLUMNS)]) for row in rows[1:]]
    filled = sum(1 for row in body if any(str(c or "").strip() for c in row))
    if filled > MAX_ROWS:
        raise ImportFileError(f"文件有 {filled:,} 行数据，一次最多导入 {MAX_ROWS:,} 行，请分批导入。")
    return body


def check_rows(rows: list[tuple], *, period: Period) -> list[FigureRow]:
    """Rows after the header, in COLUMNS order, for `period`. Every row's problems, or the checked figures."""
    errors: list[RowError] = []
    good: list[FigureRow] = []
    seen: dict[tuple[str, str], int] = {}
    parsed = []
    for number, raw in enumerate(rows, start=2):
        row = dict(zip(COLUMNS, (*raw, *([""] * len(COLUMNS)))[: len(COLUMNS)], strict=True))
        if all(str(v or "").strip() == "" for v in row.values()):
            continue
        parsed.append((number, row))
    codes = {normalise(str(row["统一社会信用代码"] or "")) for _, row in parsed}
    known = dict(Enterprise.objects.filter(uscc__in=codes).values_list("uscc", "pk")) if codes else {}
    for number, row in parsed:
        problems = len(errors)
        code = normalise(str(row["统一社会信用代码"] or ""))
        if not code:
            errors.append(
                RowError(number, "统一社会信用代码", "", REQUIRED.format(column="统一社会信用代码"))
            )
        elif code not in known:
            errors.append(
                RowError(number, "统一社会信用代码", row["统一社会信用代码"], UNKNOWN_USCC.format(code=code))
            )
        period_text = str(row["期间"] or "").strip()
        if not period_text:
            errors.append(RowError(number, "期间", "", REQUIRED.format(column="期间")))
        else:
            try:
                row_period = Period.parse(period_text)
            except PeriodError as error:
                errors.append(RowError(number, "期间", period_text, str(error)))
            else:
                if row_period != period:
                    errors.append(
                        RowError(
                            number,
                            "期间",
                            period_text,
                            PERIOD_MISMATCH.format(value=period_text, period=period.code, label=period.label),
                        )
                    )
        name = figure_code(str(row["数据项"] or ""))
        if name is None:
            errors.append(
                RowError(
                    number,
                    "数据项",
                    row["数据项"],
                    UNKNOWN_FIGURE.format(value=row["数据项"], allowed=allowed_figures()),
                )
            )
        try:
            value = parsing.money(row["金额（元）"], "金额（元）")
        except ValidationError as error:
            errors.append(RowError(number, "金额（元）", row["金额（元）"], error.messages[0]))
        source = str(row["来源"] or "").strip()
        if len(source) > 200:
            errors.append(
                RowError(number, "来源", source[:20] + "…", f"来源最多 200 字，现为 {len(source)} 字")
            )
        if len(errors) > problems:
            continue
        key = (code, name)
        if key in seen:
            errors.append(
                RowError(
                    number, "统一社会信用代码", row["统一社会信用代码"], DUPLICATE_ROW.format(row=seen[key])
                )
            )
            continue
        seen[key] = number
        good.append(FigureRow(known[code], period.code, name, value, source))
    if errors:
        raise ImportRejected(errors)
    return good
