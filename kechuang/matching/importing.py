"""Achievements (科技成果) imported from .xlsx: the template, reading the upload, and the import itself.

All or nothing: every row is checked first (the same checks as the form: services.posting_errors, the
duplicate rule, the organisation) and any problem rejects the whole file with every problem listed by Excel
row number (the header is row 1) and column; otherwise every row is saved in one transaction.

A university user imports its own organisation's achievements (所属单位 blank or its own), which are submitted
for moderation (待审核); an officer names the organisation on each row, and what it imports is published at
once (the officer is the moderator), recorded as such in each achievement's history.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kechuang.core import excel
from kechuang.core.excel import ImportFileError, ImportRejected, RowError  # noqa: F401 (callers catch them from here)
from kechuang.matching import access, services
from kechuang.matching.models import Achievement, CooperationMode

SHEET = "科技成果"
COLUMNS = (
    "成果名称",
    "所属单位",
    "技术领域",
    "关键词",
    "成果简介",
    "技术成熟度（TRL）",
    "知识产权",
    "合作方式",
    "联系人",
    "联系电话",
)
FIELD_COLUMN = {
    "title": "成果名称",
    "organisation": "所属单位",
    "field": "技术领域",
    "keywords": "关键词",
    "abstract": "成果简介",
    "trl": "技术成熟度（TRL）",
    "ip": "知识产权",
    "cooperation_modes": "合作方式",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
}
MAX_ROWS = 2000
TEMPLATE_FILENAME = "科技成果导入模板.xlsx"


def template_xlsx() -> bytes:
    fields = [(code, label) for code, label in services.FIELD_LABELS.items()]
    modes = [(code, label) for code, label in CooperationMode.choices]
    notes = (
        f"第1行是表头，请勿修改；从第2行起每行一项成果：{'、'.join(COLUMNS)}。",
        "成果名称、技术领域、成果简介必须填写；同一单位不能有同名成果（忽略空格、标点和大小写）。",
        "所属单位：高校/院所用户留空即为本单位；科委业务人员导入时必须填写单位全称。",
        "技术领域：填代码（如 01）或名称（如 电子信息），见“技术领域”工作表。",
        "关键词：以、或逗号分隔，合计不超过 300 字。成果简介不超过 5,000 字。",
        "技术成熟度（TRL）：1–9 的整数，可留空（1 基本原理 … 4 实验室验证 … 7 实际环境样机 … 9 规模应用）。",
        "合作方式：填名称或代码，多个以、分隔，见“合作方式”工作表，可留空。",
        "联系电话：数字、空格、+、-、括号，如 021-67791234。",
        "任何一行有错误整个文件都不导入，并按行列出每一处错误。单元格不能含公式。",
        f"一次最多导入 {MAX_ROWS:,} 行。",
        "示例：一种高强度芳纶纤维的连续制备方法｜东华大学｜04｜芳纶、高强纤维、纺丝｜…｜6｜发明专利 ZL2021…｜技术转让、技术许可｜王老师｜021-67790000",
    )
    return excel.write_xlsx(
        [
            (SHEET, COLUMNS, []),
            ("技术领域", ("代码", "名称"), fields),
            ("合作方式", ("代码", "名称"), modes),
        ],
        notes=notes,
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


def _field_code(value: str) -> str:
    text = (value or "").strip()
    by_label = {label: code for code, label in services.FIELD_LABELS.items()}
    if text.isdigit() and len(text) == 1:
        text = "0" + text  # Excel turns 01 into 1
    return by_label.get(text, text)


def import_achievements(
    rows: list[tuple], *, user, source_name: str = "", today: dt.date | None = None
) -> list[Achievement]:
    """Rows after the header, in COLUMNS order. All or nothing: any error → ImportRejected with every row's
    problems; otherwise every achievement saved (and returned)."""
    officer = access.is_moderator(user, "achievement")
    mine = access.organisation_of(user)
    if not user.has_perm(access.perm("achievement", "add")):
        raise PermissionDenied("无权导入科技成果")
    if not officer and not mine:
        raise PermissionDenied("您的账号未关联高校或科研院所，请联系科委业务人员设置所属单位后再导入")
    today = today or timezone.localdate()
    errors: list[RowError] = []
    good: list[tuple[str, dict]] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(rows, start=2):
        row = dict(zip(COLUMNS, (*raw, *([""] * len(COLUMNS)))[: len(COLUMNS)], strict=True))
        if all(str(v or "").strip() == "" for v in row.values()):
            continue
        organisation = str(row["所属单位"] or "").strip()
        if officer:
            if not organisation:
                errors.append(
                    RowError(number, "所属单位", row["所属单位"], "所属单位必须填写（高校或科研院所的全称）")
                )
                continue
        elif organisation and organisation != mine:
            errors.append(
                RowError(number, "所属单位", organisation, f"您是{mine}的用户，只能导入本单位的成果")
            )
            continue
        else:
            organisation = mine
        limit = Achievement._meta.get_field("organisation").max_length
        if len(organisation) > limit:
            errors.append(
                RowError(
                    number, "所属单位", organisation, f"所属单位最多 {limit} 字，现为 {len(organisation)} 字"
                )
            )
            continue
        values = {
            "title": row["成果名称"],
            "field": _field_code(str(row["技术领域"] or "")),
            "keywords": row["关键词"],
            "abstract": row["成果简介"],
            "trl": row["技术成熟度（TRL）"],
            "ip": row["知识产权"],
            "cooperation_modes": row["合作方式"],
            "contact_name": row["联系人"],
            "contact_phone": row["联系电话"],
        }
        found, cleaned = services.posting_errors("achievement", values, today=today)
        for name, messages in found.items():
            for message in messages:
                errors.append(RowError(number, FIELD_COLUMN[name], row[FIELD_COLUMN[name]], message))
        if found:
            continue
        key = (organisation, services.fingerprint(cleaned["title"]))
        if key in seen:
            errors.append(
                RowError(
                    number, "成果名称", row["成果名称"], f"与第 {seen[key]} 行重复（同一单位、同名成果）"
                )
            )
            continue
        seen[key] = number
        probe = Achievement(organisation=organisation, title=cleaned["title"], fingerprint=key[1])
        existing = services.find_duplicate("achievement", probe)
        if existing is not None:
            errors.append(
                RowError(
                    number, "成果名称", row["成果名称"], services.duplicate_message("achievement", existing)
                )
            )
            continue
        good.append((organisation, cleaned))
    if errors:
        raise ImportRejected(errors)
    batch = f"{timezone.localtime():%Y%m%d%H%M%S}-{user.pk}"
    return services.achievements_import(good, user=user, batch=batch, source_name=source_name)
