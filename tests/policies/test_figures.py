"""兑现期间数据 (the figures formulas read: 贷款利息支出, 科技保险保费支出 …): the officers' page, one figure by the form,
many from .xlsx all or nothing with every problem by Excel row number, and the refusals of bad input."""

import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook, load_workbook

from kechuang.policies import figures, services
from kechuang.policies.models import PolicyFigure
from kechuang.policies.periods import Period

pytestmark = pytest.mark.django_db
URL = "/policies/figures/"


def client(user):
    c = Client()
    c.force_login(user)
    return c


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def workbook(*rows, header=figures.COLUMNS) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    sheet.title = figures.SHEET
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("期间数据.xlsx", buffer.getvalue())


def upload(user_or_client, file, period="2026"):
    c = user_or_client if isinstance(user_or_client, Client) else client(user_or_client)
    return c.post(URL, {"action": "import", "period": period, "file": file})


def errors_of(response) -> list[tuple[str, str, str]]:
    """(row, column, problem) of the error table."""
    found = re.findall(
        r'<tr data-row="(\d+)"><td class="num">\d+</td><td>(.*?)</td><td>.*?</td><td class="err">(.*?)</td>',
        response.content.decode(),
    )
    return [(row, column, problem) for row, column, problem in found]


# --- the page and the form -----------------------------------------------------------------------------------------


def test_officers_record_a_figure_by_the_form_and_see_it_listed_with_its_total(pf):
    c = client(pf.carol)
    response = c.post(
        URL,
        {
            "uscc": pf.ent_b.uscc.lower(),
            "period": "2026",
            "name": "insurance_premium",
            "value": "12,345.60",
            "source": "太保",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{URL}?period=2026"
    figure = PolicyFigure.objects.get(enterprise=pf.ent_b, period="2026", name="insurance_premium")
    assert (figure.value, figure.source) == (Decimal("12345.60"), "太保")
    assert figure.history.first().history_user == pf.carol
    page = text(c.get(f"{URL}?period=2026"))
    assert "兑现期间数据 · 2026年度" in page and pf.ent_b.name in page and "1.2346万元" in page
    assert "科技保险保费支出</span><strong>1 户</strong>" in page
    # The same enterprise, period and item again replaces the value.
    c.post(URL, {"uscc": pf.ent_b.uscc, "period": "2026", "name": "insurance_premium", "value": "1"})
    assert PolicyFigure.objects.get(pk=figure.pk).value == Decimal("1.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("uscc", "91310117MA1J0000XX", "统一社会信用代码“91310117MA1J0000XX”不在企业库中"),
        ("value", "-0.01", "金额（元） -0.01 元为负数，金额不能为负"),
        ("value", "1.005", "金额（元） 1.005 元超过两位小数（金额精确到分）"),
        ("period", "2026Q5", "兑现期间“2026Q5”无效：须为年度（如 2026）或季度（如 2026Q2）"),
    ],
)
def test_the_form_refuses_bad_input_with_a_chinese_message_and_saves_nothing(pf, field, value, message):
    data = {"uscc": pf.ent_b.uscc, "period": "2026", "name": "loan_interest", "value": "100", field: value}
    response = client(pf.carol).post(URL, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert f'id="{field}-errors"' in response.content.decode()
    assert not PolicyFigure.objects.filter(enterprise=pf.ent_b).exists()


def test_zero_is_a_figure(pf):
    figure, created = services.figure_save(
        uscc=pf.ent_c.uscc, period_text="2026Q2", name="贷款利息支出", value="0", user=pf.carol
    )
    assert created and (figure.period, figure.name, figure.value) == (
        "2026Q2",
        "loan_interest",
        Decimal("0.00"),
    )


def test_the_service_names_each_bad_field(pf):
    with pytest.raises(ValidationError) as refused:
        services.figure_save(uscc="", period_text="2026", name="利润", value="abc")
    assert refused.value.message_dict == {
        "uscc": ["统一社会信用代码必须填写"],
        "name": [f"数据项“利润”无效：可填 {figures.allowed_figures()}"],
        "value": ["金额（元）“abc”不是数字"],
    }


def test_only_officers_see_and_record_figures(pf):
    for user in (pf.alice, pf.bob, pf.leo):
        assert client(user).get(URL).status_code == 403
        assert client(user).post(URL, {"uscc": pf.ent_a.uscc}).status_code == 403
    assert client(pf.carol).get(f"{URL}template.xlsx").status_code == 200


# --- the import ----------------------------------------------------------------------------------------------------


def test_an_import_saves_every_row_replacing_what_was_recorded(pf):
    before = PolicyFigure.objects.get(enterprise=pf.ent_a, name="loan_interest")  # 325,000 from the fixture
    file = workbook(
        (pf.ent_a.uscc, pf.ent_a.name, "2026", "贷款利息支出", "400,000", "农商行"),
        (pf.ent_b.uscc, "", 2026, "insurance_premium", 88000.5, ""),
        ("", "", "", "", "", ""),  # blank rows are skipped
        (pf.ent_c.uscc.lower(), "", "2026年", "科技保险保费支出", "0", "企业报送"),
    )
    c = client(pf.carol)
    response = upload(c, file)
    assert response.status_code == 302 and response["Location"] == f"{URL}?period=2026"
    page = text(c.get(response["Location"]))
    assert "已从“期间数据.xlsx”导入 2026年度的数据 3 行：新登记 2 项，替换 1 项，与已登记相同 0 项。" in page
    saved = {
        (f.enterprise_id, f.name): (f.value, f.source) for f in PolicyFigure.objects.filter(period="2026")
    }
    assert saved == {
        (pf.ent_a.pk, "loan_interest"): (Decimal("400000.00"), "农商行"),
        (pf.ent_b.pk, "insurance_premium"): (Decimal("88000.50"), ""),
        (pf.ent_c.pk, "insurance_premium"): (Decimal("0.00"), "企业报送"),
    }
    assert PolicyFigure.objects.get(pk=before.pk).history.count() == 2
    assert PolicyFigure.objects.get(pk=before.pk).history.first().history_user == pf.carol


def test_a_file_with_bad_rows_imports_nothing_and_lists_each_problem_by_excel_row(pf):
    file = workbook(
        (pf.ent_b.uscc, "", "2026", "贷款利息支出", "1000", ""),  # row 2: good
        ("91310117MA1J0000XX", "", "2026", "贷款利息支出", "1000", ""),  # row 3: unknown code
        (pf.ent_c.uscc, "", "2026", "贷款利息支出", "-5", ""),  # row 4: negative
        (pf.ent_c.uscc, "", "2025", "科技保险保费支出", "5", ""),  # row 5: another period
        (pf.ent_b.uscc, "", "2026", "loan_interest", "2000", ""),  # row 6: same as row 2
        (pf.ent_a.uscc, "", "2026Q1", "利润", "1.234", ""),  # row 7: three problems
    )
    response = upload(pf.carol, file)
    assert response.status_code == 200
    page = text(response)
    assert "文件有 5 行共 7 处错误，未导入任何数据" in page
    assert errors_of(response) == [
        (
            "3",
            "统一社会信用代码",
            "统一社会信用代码“91310117MA1J0000XX”不在企业库中，请先在企业库登记该企业或核对代码",
        ),
        ("4", "金额（元）", "金额（元） -5 元为负数，金额不能为负"),
        ("5", "期间", "期间“2025”与本次导入选择的期间 2026（2026年度）不一致；一个文件只导入一个期间的数据"),
        ("6", "统一社会信用代码", "与第 2 行重复（同一企业、同一期间、同一数据项）"),
        (
            "7",
            "期间",
            "期间“2026Q1”与本次导入选择的期间 2026（2026年度）不一致；一个文件只导入一个期间的数据",
        ),
        ("7", "数据项", f"数据项“利润”无效：可填 {figures.allowed_figures()}"),
        ("7", "金额（元）", "金额（元） 1.234 元超过两位小数（金额精确到分）"),
    ]
    assert not PolicyFigure.objects.filter(enterprise=pf.ent_b).exists()
    assert PolicyFigure.objects.count() == 1  # only the fixture's


@pytest.mark.parametrize(
    ("file", "period", "message"),
    [
        (
            lambda: workbook(header=("代码", "期间")),
            "2026",
            "第 1 行须是表头：统一社会信用代码、企业名称、期间、数据项、金额（元）、来源",
        ),
        (lambda: SimpleUploadedFile("a.docx", b"x"), "2026", "不支持的文件类型“a.docx”"),
        (lambda: workbook(), "26", "兑现期间“26”无效"),
    ],
)
def test_a_file_that_is_not_the_template_or_a_bad_period_is_refused_at_the_form(pf, file, period, message):
    response = upload(pf.carol, file(), period=period)
    assert response.status_code == 200 and message in response.content.decode()
    assert PolicyFigure.objects.count() == 1


def test_the_template_has_the_columns_and_the_figures(pf):
    response = client(pf.carol).get(f"{URL}template.xlsx?period=2026Q2")
    book = load_workbook(io.BytesIO(response.content))
    assert next(book[figures.SHEET].iter_rows(values_only=True)) == figures.COLUMNS
    assert list(book["数据项"].iter_rows(min_row=2, values_only=True))[0] == ("loan_interest", "贷款利息支出")
    notes = " ".join(r[0] for r in book["说明"].iter_rows(values_only=True))
    assert "2026Q2" in notes and "任何一行有错误整个文件都不导入" in notes


def test_the_check_takes_the_period_of_the_form_not_of_the_rows(pf):
    rows = [(pf.ent_b.uscc, "", "2026Q2", "贷款利息支出", "10", "")]
    assert figures.check_rows(rows, period=Period.parse("2026Q2"))[0].period == "2026Q2"
    with pytest.raises(figures.ImportRejected) as rejected:
        figures.check_rows(rows, period=Period.parse("2026Q3"))
    assert [e.column for e in rejected.value.errors] == ["期间"]
