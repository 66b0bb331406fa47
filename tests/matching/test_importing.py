"""Achievements imported from .xlsx (importing.py): the template reads back as an empty import, a good file
saves every row (a university's submitted for moderation, an officer's published), and a file with any problem
saves nothing and lists every problem by Excel row and column: bad values, a row repeated in the file, a title
already posted, another organisation's row, formulas, the wrong header, too many rows."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook, load_workbook

from kechuang.core.excel import write_xlsx
from kechuang.matching import importing
from kechuang.matching.models import Achievement, IndexChange
from tests.matching import fixtures as f

mf = f.mf
pytestmark = pytest.mark.django_db


def row(**overrides) -> list:
    values = {
        "成果名称": "一种高强度芳纶纤维的连续制备方法",
        "所属单位": "",
        "技术领域": "04",
        "关键词": "芳纶、高强纤维、纺丝",
        "成果简介": "两步法湿纺连续制备芳纶纤维，强度 3.5GPa。",
        "技术成熟度（TRL）": "6",
        "知识产权": "发明专利 ZL2021XXXXXXXX.X",
        "合作方式": "技术转让、技术许可",
        "联系人": "王老师",
        "联系电话": "021-67790000",
    }
    values.update(overrides)
    return [values[c] for c in importing.COLUMNS]


def xlsx(rows: list[list], header=importing.COLUMNS) -> bytes:
    return write_xlsx([(importing.SHEET, header, rows)])


def run(user, rows):
    return importing.import_achievements(
        importing.read_upload(xlsx(rows), "成果.xlsx"), user=user, source_name="成果.xlsx"
    )


def test_the_template_has_the_columns_and_imports_nothing(mf):
    content = importing.template_xlsx()
    book = load_workbook(io.BytesIO(content))
    assert [c.value for c in book[importing.SHEET][1]] == list(importing.COLUMNS)
    assert {"技术领域", "合作方式", "说明"} <= set(book.sheetnames)
    assert (
        importing.import_achievements(importing.read_upload(content, "模板.xlsx"), user=f.fresh(mf.uma)) == []
    )


def test_a_university_s_rows_are_saved_and_submitted_for_moderation(mf):
    saved = run(
        mf.uma,
        [row(), row(**{"成果名称": "芳纶纳米纤维隔膜", "技术领域": "新材料", "技术成熟度（TRL）": ""})],
    )
    assert [a.state for a in saved] == ["pending", "pending"]
    first, second = Achievement.objects.order_by("pk")
    assert first.organisation == f.UNIVERSITY and first.cooperation_modes == ["transfer", "licence"]
    assert first.trl == 6 and second.trl is None and second.field == "04"
    assert first.import_batch and first.import_batch == second.import_batch
    assert first.history.get().history_change_reason == "批量导入（成果.xlsx）并提交审核"
    assert IndexChange.objects.filter(kind="achievement").count() == 2


def test_an_officer_s_rows_name_their_organisation_and_are_published(mf):
    saved = run(mf.carol, [row(**{"所属单位": "东华大学"})])
    assert saved[0].state == "published" and saved[0].organisation == "东华大学"
    assert saved[0].moderated_by == mf.carol and saved[0].published_at is not None


def test_any_problem_rejects_the_whole_file_with_every_problem_by_row_and_column(mf):
    rows = [
        row(),
        row(**{"成果名称": "", "技术领域": "99"}),
        row(**{"成果名称": "第三项", "技术成熟度（TRL）": "12", "合作方式": "买断"}),
        row(**{"成果名称": "一种高强度芳纶纤维的连续制备方法！"}),
        row(**{"成果名称": "第五项", "所属单位": f.OTHER_UNIVERSITY}),
        row(**{"成果名称": "第六项", "成果简介": "字" * 5001}),
    ]
    with pytest.raises(importing.ImportRejected) as excinfo:
        run(mf.uma, rows)
    found = [(e.row, e.column, e.message) for e in excinfo.value.errors]
    assert (3, "成果名称", "成果名称必须填写") in found
    assert any(r == 3 and c == "技术领域" and m.startswith("技术领域“99”不存在，可选：") for r, c, m in found)
    assert (4, "技术成熟度（TRL）", "技术成熟度 12 不在 1–9 之间（1 基本原理 … 9 规模应用）") in found
    assert any(r == 4 and c == "合作方式" and m.startswith("合作方式“买断”不存在") for r, c, m in found)
    assert (5, "成果名称", "与第 2 行重复（同一单位、同名成果）") in found
    assert (6, "所属单位", "您是上海示例大学的用户，只能导入本单位的成果") in found
    assert (7, "成果简介", "成果简介最多 5,000 字，现为 5,001 字") in found
    assert not any(r == 2 for r, _, _ in found)
    assert not Achievement.objects.exists() and not IndexChange.objects.exists()
    assert str(excinfo.value.errors[0]).startswith("第 3 行“成果名称”列")


def test_a_title_already_posted_is_refused_naming_it(mf):
    existing = f.achievement(mf, title="一种高强度芳纶纤维的连续制备方法")
    with pytest.raises(importing.ImportRejected) as excinfo:
        run(mf.uma, [row()])
    [error] = excinfo.value.errors
    assert error.row == 2 and f"编号 {existing.pk}" in error.message and "不能重复发布" in error.message
    assert Achievement.objects.count() == 1


def test_an_officer_s_row_without_an_organisation_is_refused(mf):
    with pytest.raises(importing.ImportRejected) as excinfo:
        run(mf.carol, [row()])
    assert [(e.row, e.column, e.message) for e in excinfo.value.errors] == [
        (2, "所属单位", "所属单位必须填写（高校或科研院所的全称）")
    ]


def test_blank_rows_are_skipped(mf):
    assert len(run(mf.uma, [row(), [""] * len(importing.COLUMNS), row(**{"成果名称": "第二项"})])) == 2


def test_who_may_import(mf):
    with pytest.raises(PermissionDenied, match="无权导入科技成果"):
        run(mf.alice, [row()])
    mf.vic.affiliation.delete()
    with pytest.raises(PermissionDenied, match="您的账号未关联高校或科研院所"):
        run(f.fresh(mf.vic), [row()])
    assert not Achievement.objects.exists()


def test_a_file_with_the_wrong_header_formulas_or_too_many_rows_is_refused(mf):
    with pytest.raises(importing.ImportFileError, match="第 1 行须是表头：成果名称、所属单位"):
        importing.read_upload(xlsx([row()], header=("名称", "单位")), "a.xlsx")
    book = Workbook()
    sheet = book.active
    sheet.title = importing.SHEET
    sheet.append(list(importing.COLUMNS))
    sheet.append(["=1+1", *row()[1:]])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(importing.ImportFileError, match="单元格不能含公式：第 2 行第 1 列"):
        importing.read_upload(buffer.getvalue(), "a.xlsx")
    with pytest.raises(importing.ImportFileError, match="不是有效的 .xlsx"):
        importing.read_upload(b"not a zip", "a.xlsx")
    many = [row(**{"成果名称": f"成果{n}"}) for n in range(importing.MAX_ROWS + 1)]
    with pytest.raises(importing.ImportFileError, match="一次最多导入 2,000 行"):
        importing.read_upload(xlsx(many), "a.xlsx")


def test_the_import_page_shows_the_errors_by_row(client, mf):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(mf.uma)
    upload = SimpleUploadedFile("成果.xlsx", xlsx([row(**{"技术领域": "99"})]))
    page = client.post(reverse("matching:achievement-import"), {"file": upload}).content.decode()
    assert 'id="import-errors"' in page and 'data-row="2"' in page and "技术领域“99”不存在" in page
    upload = SimpleUploadedFile("成果.xlsx", xlsx([row()]))
    response = client.post(reverse("matching:achievement-import"), {"file": upload}, follow=True)
    assert "已从“成果.xlsx”导入 1 项成果，已提交审核" in response.content.decode()
