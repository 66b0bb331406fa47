"""The registry import, through the upload page: every bad input gets its exact message and leaves
the registry as it was; good files create and update, with history; large files go to the worker."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from kechuang.core.uscc import make_code
from kechuang.enterprises.importing import SPECS
from kechuang.enterprises.models import Enterprise, EnterpriseYear, ImportJob, IPAsset, Qualification

ENTERPRISE_HEADERS = [c.header for c in SPECS["enterprises"].columns]
YEAR_HEADERS = [c.header for c in SPECS["years"].columns]
IP_HEADERS = [c.header for c in SPECS["ip"].columns]
QUALIFICATION_HEADERS = [c.header for c in SPECS["qualifications"].columns]
SHEETS = {"enterprises": "企业", "years": "年度数据", "ip": "知识产权", "qualifications": "资质"}


def code(n: int) -> str:
    return make_code(f"91310117MA1J{n:05d}")


def xlsx(sheet: str, rows: list[list]) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def enterprise_row(n: int, **cells) -> list:
    """A full, valid row of the enterprise template; cells override by header."""
    values = {
        "统一社会信用代码": code(n),
        "企业名称": f"上海测试{n}有限公司",
        "简称": f"测试{n}",
        "成立日期": "2019-05-20",
        "所在园区": "临港松江科技园",
        "所属行业": "C 制造业",
        "高新技术领域": "新材料",
        "主营业务": "新材料研发",
        "注册地址": "上海市松江区测试路1号",
        "法定代表人": "张三",
        "联系电话": "13900001111",
        "状态": "存续",
        "已上市": "否",
    } | cells
    return [values[h] for h in ENTERPRISE_HEADERS]


def year_row(uscc: str, year: int, **cells) -> list:
    values = dict.fromkeys(YEAR_HEADERS, "") | {"统一社会信用代码": uscc, "年度": year} | cells
    return [values[h] for h in YEAR_HEADERS]


def ip_row(uscc: str, number: str, **cells) -> list:
    values = {
        "统一社会信用代码": uscc,
        "企业名称": "",
        "类型": "发明专利",
        "申请号/登记号": number,
        "名称": "一种测试方法",
        "申请日": "2020-01-10",
        "授权/登记日": "2022-03-01",
        "获得方式": "自主研发",
        "状态": "有效",
        "已用于高企认定的年度": "",
    } | cells
    return [values[h] for h in IP_HEADERS]


def qualification_row(uscc: str, **cells) -> list:
    values = {
        "统一社会信用代码": uscc,
        "企业名称": "",
        "资质类型": "高新技术企业",
        "级别": "国家级",
        "证书编号": "GR202331001234",
        "发证机关": "上海市科学技术委员会",
        "发证日期": "2023-11-15",
        "有效期至": "",
    } | cells
    return [values[h] for h in QUALIFICATION_HEADERS]


def registry_state() -> dict:
    """Everything an import may change, to compare before and after."""
    return {
        model.__name__: (list(model.objects.order_by("pk").values()), model.history.count())
        for model in (Enterprise, EnterpriseYear, IPAsset, Qualification)
    }


def upload(client, kind: str, content: bytes, name: str = "data.xlsx", valid_only: bool = False):
    data = {"kind": kind, "file": SimpleUploadedFile(name, content)}
    if valid_only:
        data["valid_only"] = "on"
    return client.post(reverse("enterprises:import"), data)


def import_file(
    client, kind: str, rows: list[list], name: str = "data.xlsx", valid_only: bool = False
) -> ImportJob:
    """Uploads rows (header first) as .xlsx or .csv and returns the job the upload redirected to."""
    content = csv_bytes(rows) if name.endswith(".csv") else xlsx(SHEETS[kind], rows)
    response = upload(client, kind, content, name, valid_only)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("enterprises:import-job", args=[job.pk])
    return job


def refused(client, kind: str, content: bytes, name: str = "data.xlsx") -> list[str]:
    """Uploads a file that cannot be imported at all; returns the messages shown on the form."""
    jobs = ImportJob.objects.count()
    response = upload(client, kind, content, name)
    assert response.status_code == 200
    assert ImportJob.objects.count() == jobs
    return response.context["form"].errors["file"]


@pytest.fixture
def officer(client, personas):
    client.force_login(personas.carol)
    return client


# Creating and updating.


def test_it_creates_new_enterprises_and_updates_existing_ones_by_code(officer, personas):
    job = import_file(
        officer,
        "enterprises",
        [
            ENTERPRISE_HEADERS,
            enterprise_row(3),
            enterprise_row(1, 企业名称="上海甲科技股份有限公司", 所在园区="G60脑智科创基地"),
        ],
        name="企业名单.xlsx",
    )

    assert (job.status, job.created_count, job.updated_count, job.error_rows) == ("done", 1, 1, 0)
    assert (job.total_rows, job.processed_rows) == (2, 2)
    assert job.message == "新增 1 条，更新 1 条，未变化 0 条。"
    new = Enterprise.objects.get(uscc=code(3))
    assert (new.name, new.short_name, new.registration_date, new.park, new.industry, new.hitech_field) == (
        "上海测试3有限公司",
        "测试3",
        date(2019, 5, 20),
        personas.park_a,
        "C",
        "04",
    )
    assert (new.main_business, new.address, new.legal_representative, new.contact_phone) == (
        "新材料研发",
        "上海市松江区测试路1号",
        "张三",
        "13900001111",
    )
    assert (new.status, new.is_listed, new.is_demo) == ("active", False, False)
    updated = Enterprise.objects.get(pk=personas.ent_a.pk)
    assert (updated.name, updated.park) == ("上海甲科技股份有限公司", personas.park_b)
    assert Enterprise.objects.count() == 3


def test_it_records_the_import_in_each_enterprises_history(officer, personas):
    import_file(
        officer,
        "enterprises",
        [ENTERPRISE_HEADERS, enterprise_row(3), enterprise_row(1, 企业名称="甲科技新名")],
        name="名单.xlsx",
    )

    created = Enterprise.objects.get(uscc=code(3)).history.get()
    assert (created.history_type, created.history_user, created.history_change_reason) == (
        "+",
        personas.carol,
        "批量导入：名单.xlsx",
    )
    assert created.instance.name == "上海测试3有限公司"
    latest = Enterprise.objects.get(pk=personas.ent_a.pk).history.latest()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == (
        "~",
        personas.carol,
        "批量导入：名单.xlsx",
    )
    assert latest.instance.name == "甲科技新名"
    assert latest.prev_record.name == "上海甲科技有限公司"
    assert personas.ent_b.history.count() == 1  # untouched: only its creation


def test_it_leaves_unchanged_rows_alone(officer, personas):
    rows = [ENTERPRISE_HEADERS, enterprise_row(3), enterprise_row(4)]
    import_file(officer, "enterprises", rows)
    before = registry_state()

    job = import_file(officer, "enterprises", rows)

    assert (job.status, job.created_count, job.updated_count) == ("done", 0, 0)
    assert job.message == "新增 0 条，更新 0 条，未变化 2 条。"
    assert registry_state() == before


def test_it_keeps_the_columns_a_file_does_not_have(officer, personas):
    job = import_file(
        officer, "enterprises", [["统一社会信用代码", "企业名称"], [personas.ent_a.uscc, "只改名称"]]
    )

    assert job.updated_count == 1
    ent = Enterprise.objects.get(pk=personas.ent_a.pk)
    assert (ent.name, ent.contact_phone, ent.park, ent.industry, ent.status) == (
        "只改名称",
        "13812345678",
        personas.park_a,
        "I",
        "active",
    )


def test_it_clears_a_field_whose_cell_is_blank_but_keeps_status_and_listing(officer, personas):
    Enterprise.objects.filter(pk=personas.ent_a.pk).update(status="moved_out", is_listed=True)

    import_file(
        officer,
        "enterprises",
        [ENTERPRISE_HEADERS, enterprise_row(1, 简称="", 所在园区="", 状态="", 已上市="")],
    )

    ent = Enterprise.objects.get(pk=personas.ent_a.pk)
    assert (ent.short_name, ent.park, ent.status, ent.is_listed) == ("", None, "moved_out", True)


@pytest.mark.parametrize(
    "typed,stored",
    [("C 制造业", "C"), ("C", "C"), ("制造业", "C"), ("c", "C"), ("I 信息传输、软件和信息技术服务业", "I")],
)
def test_it_accepts_a_choice_as_its_label_or_its_code(officer, typed, stored):
    import_file(officer, "enterprises", [ENTERPRISE_HEADERS, enterprise_row(3, 所属行业=typed)])

    assert Enterprise.objects.get(uscc=code(3)).industry == stored


def test_it_reads_a_gbk_csv_with_codes_for_choices(officer):
    rows = [
        ["统一社会信用代码", "企业名称", "高新技术领域", "所属行业", "状态", "已上市"],
        [code(3), "上海丙公司", "1", "Ｍ", "deregistered", "是"],
    ]
    content = "\n".join(",".join(r) for r in rows).encode("gb18030")

    response = upload(officer, "enterprises", content, "丙.csv")

    assert response.status_code == 302
    ent = Enterprise.objects.get(uscc=code(3))
    assert (ent.name, ent.hitech_field, ent.industry, ent.status, ent.is_listed) == (
        "上海丙公司",
        "01",
        "M",
        "deregistered",
        True,
    )


def test_it_matches_headers_typed_with_halfwidth_brackets_or_spaces(officer, personas):
    rows = [
        [" 统一社会信用代码", "年 度", "销售收入(万元)", "职工总数（人） "],
        [personas.ent_a.uscc, "2023", "88", "9"],
    ]

    job = import_file(officer, "years", rows, name="y.csv")

    assert (job.status, job.created_count, job.message) == ("done", 1, "新增 1 条，更新 0 条，未变化 0 条。")
    year = EnterpriseYear.objects.get(enterprise=personas.ent_a)
    assert (year.year, year.sales_revenue, year.employees) == (2023, Decimal("880000.00"), Decimal("9"))


def test_it_normalises_codes_typed_in_lowercase_or_fullwidth(officer, personas):
    typed = personas.ent_a.uscc.lower().replace("9", "９")

    job = import_file(officer, "enterprises", [["统一社会信用代码", "企业名称"], [typed, "甲"]])

    assert (job.created_count, job.updated_count) == (0, 1)
    assert Enterprise.objects.get(pk=personas.ent_a.pk).name == "甲"


def test_it_converts_money_from_wan_to_yuan_and_keeps_missing_figures_null(officer, personas):
    job = import_file(
        officer,
        "years",
        [
            YEAR_HEADERS,
            year_row(
                personas.ent_a.uscc,
                2023,
                **{"销售收入（万元）": "123.4567", "职工总数（人）": "12.5", "净利润（万元）": "-3"},
            ),
        ],
    )

    assert job.status == "done"
    year = EnterpriseYear.objects.get(enterprise=personas.ent_a, year=2023)
    assert (year.sales_revenue, year.employees, year.net_profit) == (
        Decimal("1234567.00"),
        Decimal("12.5"),
        Decimal("-30000.00"),
    )
    assert year.total_assets is None and year.tax_paid is None


def test_it_upserts_years_by_enterprise_and_year(officer, personas):
    EnterpriseYear.objects.create(
        enterprise=personas.ent_a, year=2022, employees=50, sales_revenue=Decimal("1000000")
    )
    rows = [
        ["统一社会信用代码", "年度", "销售收入（万元）"],
        [personas.ent_a.uscc, "2022", "150"],
        [personas.ent_a.uscc, "2023", "200"],
    ]

    job = import_file(officer, "years", rows, name="年报.csv")

    assert (job.created_count, job.updated_count) == (1, 1)
    y2022 = EnterpriseYear.objects.get(enterprise=personas.ent_a, year=2022)
    assert (y2022.sales_revenue, y2022.employees) == (Decimal("1500000.00"), Decimal("50"))  # employees kept
    assert EnterpriseYear.objects.get(enterprise=personas.ent_a, year=2023).sales_revenue == Decimal(
        "2000000.00"
    )
    record = y2022.history.latest()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "~",
        personas.carol,
        "批量导入：年报.csv",
    )


def test_it_upserts_ip_by_type_and_number(officer, personas):
    IPAsset.objects.create(
        enterprise=personas.ent_a, ip_type="invention", number="ZL202010000001.1", title="旧名称"
    )
    rows = [
        IP_HEADERS,
        ip_row(personas.ent_a.uscc, "ZL202010000001.1", 名称="新名称"),
        ip_row(personas.ent_a.uscc, "2021SR000001", 类型="软件著作权", 申请日="", 获得方式="", 状态=""),
    ]

    job = import_file(officer, "ip", rows)

    assert (job.status, job.created_count, job.updated_count) == ("done", 1, 1)
    assert IPAsset.objects.get(number="ZL202010000001.1").title == "新名称"
    software = IPAsset.objects.get(number="2021SR000001")
    assert (software.ip_type, software.enterprise, software.acquisition, software.status) == (
        "software",
        personas.ent_a,
        "own_rd",
        "valid",
    )


def test_it_upserts_qualifications_and_computes_a_default_expiry(officer, personas):
    rows = [
        QUALIFICATION_HEADERS,
        qualification_row(personas.ent_a.uscc),
        qualification_row(personas.ent_b.uscc, 资质类型="科技型中小企业", 级别="", 发证日期="2024-04-01"),
    ]

    job = import_file(officer, "qualifications", rows)

    assert (job.status, job.created_count) == ("done", 2)
    hnte = Qualification.objects.get(enterprise=personas.ent_a)
    assert (hnte.kind, hnte.level, hnte.issue_date, hnte.expiry_date) == (
        "hnte",
        "national",
        date(2023, 11, 15),
        date(2026, 11, 14),
    )
    assert (
        Qualification.objects.get(enterprise=personas.ent_b).expiry_date is None
    )  # no statutory validity: long-term

    job = import_file(
        officer,
        "qualifications",
        [QUALIFICATION_HEADERS, qualification_row(personas.ent_a.uscc, 证书编号="GR2023-NEW")],
    )
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Qualification.objects.get(enterprise=personas.ent_a).certificate_no == "GR2023-NEW"


# Bad cells and rows: the exact message, and nothing written.


def assert_rejected(job: ImportJob, errors: list[dict]) -> None:
    assert job.status == "rejected"
    assert (job.created_count, job.updated_count) == (0, 0)
    assert job.errors == errors
    assert job.error_rows == len({e["row"] for e in errors})
    assert job.message.startswith(f"有 {job.error_rows} 行出错，未导入任何数据")


THIS_YEAR = timezone.localdate().year
INDUSTRIES = (
    "A 农、林、牧、渔业；B 采矿业；C 制造业；D 电力、热力、燃气及水生产和供应业；E 建筑业；F 批发和零售业；"
    "G 交通运输、仓储和邮政业；H 住宿和餐饮业；I 信息传输、软件和信息技术服务业；J 金融业；K 房地产业；"
    "L 租赁和商务服务业；M 科学研究和技术服务业；N 水利、环境和公共设施管理业；O 居民服务、修理和其他服务业；"
    "P 教育；Q 卫生和社会工作；R 文化、体育和娱乐业；S 公共管理、社会保障和社会组织；T 国际组织"
)


@pytest.mark.parametrize(
    "header,value,message",
    [
        ("统一社会信用代码", "91310117MA1J000041", "统一社会信用代码校验位错误：第18位应为“R”，实际为“1”"),
        ("统一社会信用代码", "91310117MA1J0000", "统一社会信用代码应为18位，实际为16位"),
        ("统一社会信用代码", "", "必填，不能为空"),
        ("企业名称", "", "必填，不能为空"),
        ("企业名称", "名" * 201, "不能超过 200 个字符（现为 201 个）"),
        (
            "企业名称",
            '=HYPERLINK("http://x","点我")',
            "单元格含公式：只能导入数值或文字，请把公式转换为数值（复制后“选择性粘贴→数值”）再导入",
        ),
        ("成立日期", "2020-13-01", "应为有效日期，格式 YYYY-MM-DD，如 2024-06-30"),
        ("成立日期", "去年", "应为有效日期，格式 YYYY-MM-DD，如 2024-06-30"),
        ("成立日期", f"{THIS_YEAR + 1}-01-01", f"成立日期 {THIS_YEAR + 1}-01-01 晚于今天"),
        ("所在园区", "不存在的园区", "系统中没有这个园区：请填写园区全称，可选的园区见模板的“说明”工作表"),
        ("所属行业", "制造", "不是允许的值，应填以下之一：" + INDUSTRIES),
        ("状态", "存活", "不是允许的值，应填以下之一：存续；迁出；注销"),
        ("已上市", "可能", "应填“是”或“否”"),
        (
            "联系电话",
            "138****5678",
            "这是导出时打码的号码，不能导入：请填写完整号码，或删去“联系电话”列以保留原号码",
        ),
    ],
)
def test_it_reports_a_bad_enterprise_cell_and_imports_nothing(officer, personas, header, value, message):
    assert make_code("91310117MA1J00004")[-1] == "R"  # the code the first case gets wrong
    before = registry_state()

    job = import_file(
        officer,
        "enterprises",
        [ENTERPRISE_HEADERS, enterprise_row(3), enterprise_row(4, **{header: value})],
        name="bad.csv",
    )

    assert_rejected(job, [{"row": 3, "column": header, "value": value, "message": message}])
    assert registry_state() == before


@pytest.mark.parametrize(
    "header,value,message",
    [
        ("年度", "二〇二三", "应为四位数字的年份，如 2024"),
        ("年度", "1900", f"年度 1900 超出范围：应在 1949–{THIS_YEAR} 之间"),
        ("销售收入（万元）", "十万", "应为数字（单位：万元），不能含文字"),
        ("销售收入（万元）", "12万", "应为数字（单位：万元），不能含文字"),
        ("职工总数（人）", "很多", "应为数字（单位：人），不能含文字"),
        ("职工总数（人）", "-5", "职工总数不能为负数（填写值 -5人）"),
        ("纳税总额（万元）", "-1.5", "纳税总额不能为负数（填写值 -1.5万元）"),
        (
            "销售收入（万元）",
            "200000000",
            "销售收入 200000000万元 超过合理上限 1万亿元，请检查单位（应填万元）",
        ),
        (
            "销售收入（万元）",
            "1e20",
            "销售收入 100000000000000000000万元 超过合理上限 1万亿元，请检查单位（应填万元）",
        ),
        ("销售收入（万元）", "1e999999999", "应为数字（单位：万元），不能含文字"),
        ("销售收入（万元）", "NaN", "应为数字（单位：万元），不能含文字"),
        ("职工总数（人）", "600000", "职工总数 600000 人超过合理上限 500000 人"),
        ("科技人员数（人）", "20", "科技人员数（20）不能多于职工总数（10）"),
        ("主营业务收入（万元）", "150", "主营业务收入不能多于销售收入（销售收入=主营业务收入+其他业务收入）"),
        ("统一社会信用代码", code(9), "企业库中没有这个统一社会信用代码：请先导入该企业的基本信息"),
        (
            "估值（万元）",
            "=B2*2",
            "单元格含公式：只能导入数值或文字，请把公式转换为数值（复制后“选择性粘贴→数值”）再导入",
        ),
    ],
)
def test_it_reports_a_bad_year_cell_and_imports_nothing(officer, personas, header, value, message):
    good = {"职工总数（人）": "10", "销售收入（万元）": "100", "主营业务收入（万元）": "90"}
    before = registry_state()

    job = import_file(
        officer,
        "years",
        [
            YEAR_HEADERS,
            year_row(personas.ent_a.uscc, 2022, **good),
            year_row(personas.ent_a.uscc, 2023, **(good | {header: value})),
        ],
        name="bad.csv",
    )

    assert_rejected(job, [{"row": 3, "column": header, "value": value, "message": message}])
    assert registry_state() == before


def test_it_reports_every_error_of_every_row(officer, personas):
    rows = [
        ENTERPRISE_HEADERS,
        enterprise_row(3, 成立日期="2020/2/30", 已上市="Y"),
        enterprise_row(4),
        enterprise_row(5, 统一社会信用代码="12345", 企业名称="", 所在园区="火星园"),
    ]

    job = import_file(officer, "enterprises", rows)

    assert_rejected(
        job,
        [
            {
                "row": 2,
                "column": "成立日期",
                "value": "2020/2/30",
                "message": "应为有效日期，格式 YYYY-MM-DD，如 2024-06-30",
            },
            {
                "row": 4,
                "column": "统一社会信用代码",
                "value": "12345",
                "message": "统一社会信用代码应为18位，实际为5位",
            },
            {"row": 4, "column": "企业名称", "value": "", "message": "必填，不能为空"},
            {
                "row": 4,
                "column": "所在园区",
                "value": "火星园",
                "message": "系统中没有这个园区：请填写园区全称，可选的园区见模板的“说明”工作表",
            },
        ],
    )
    assert not Enterprise.objects.filter(uscc=code(4)).exists()


def test_it_reports_duplicate_codes_within_a_file(officer, personas):
    before = registry_state()

    job = import_file(
        officer,
        "enterprises",
        [ENTERPRISE_HEADERS, enterprise_row(3), enterprise_row(4), enterprise_row(3, 企业名称="另一个")],
    )

    message = "与第 {} 行重复：同一统一社会信用代码在一个文件中只能出现一次"
    assert_rejected(
        job,
        [
            {"row": 2, "column": "统一社会信用代码", "value": code(3), "message": message.format(4)},
            {"row": 4, "column": "统一社会信用代码", "value": code(3), "message": message.format(2)},
        ],
    )
    assert registry_state() == before


def test_it_reports_duplicate_years_ip_and_qualifications(officer, personas):
    uscc = personas.ent_a.uscc
    cases = [
        (
            "years",
            [YEAR_HEADERS, year_row(uscc, 2023), year_row(uscc, 2023)],
            "年度",
            "2023",
            "同一企业的同一年度",
        ),
        (
            "ip",
            [IP_HEADERS, ip_row(uscc, "ZL1"), ip_row(personas.ent_b.uscc, "ZL1")],
            "申请号/登记号",
            "ZL1",
            "同一类型的同一申请号/登记号",
        ),
        (
            "qualifications",
            [QUALIFICATION_HEADERS, qualification_row(uscc), qualification_row(uscc)],
            "发证日期",
            "2023-11-15",
            "同一企业同一资质类型同一发证日期",
        ),
    ]
    for kind, rows, column, value, what in cases:
        job = import_file(officer, kind, rows, name="dup.csv")
        assert_rejected(
            job,
            [
                {
                    "row": 2,
                    "column": column,
                    "value": value,
                    "message": f"与第 3 行重复：{what}在一个文件中只能出现一次",
                },
                {
                    "row": 3,
                    "column": column,
                    "value": value,
                    "message": f"与第 2 行重复：{what}在一个文件中只能出现一次",
                },
            ],
        )
    assert (EnterpriseYear.objects.count(), IPAsset.objects.count(), Qualification.objects.count()) == (
        0,
        0,
        0,
    )


def test_it_refuses_an_ip_number_already_owned_by_another_enterprise(officer, personas):
    IPAsset.objects.create(
        enterprise=personas.ent_b, ip_type="invention", number="ZL202010000001.1", title="乙的专利"
    )
    before = registry_state()

    job = import_file(officer, "ip", [IP_HEADERS, ip_row(personas.ent_a.uscc, "ZL202010000001.1")])

    assert_rejected(
        job,
        [
            {
                "row": 2,
                "column": "申请号/登记号",
                "value": "ZL202010000001.1",
                "message": f"该发明专利已登记在另一家企业名下（上海乙生物有限公司，{personas.ent_b.uscc}）：同一申请号/登记号只能属于一家企业",
            }
        ],
    )
    assert registry_state() == before


@pytest.mark.parametrize(
    "cells,column,model_field",
    [
        ({"申请日": "2022-05-01", "授权/登记日": "2022-03-01"}, "授权/登记日", "grant_date"),
        ({"授权/登记日": f"{THIS_YEAR + 1}-01-01"}, "授权/登记日", "grant_date"),
        ({"状态": "申请中"}, "状态", "status"),
    ],
)
def test_it_reports_ip_dates_as_the_model_does(officer, personas, cells, column, model_field):
    row = ip_row(personas.ent_a.uscc, "ZL9", **cells)
    job = import_file(officer, "ip", [IP_HEADERS, row])

    values = dict(zip(IP_HEADERS, row, strict=True))
    asset = IPAsset(
        enterprise=personas.ent_a,
        ip_type="invention",
        number="ZL9",
        title="t",
        application_date=date.fromisoformat(values["申请日"]),
        grant_date=date.fromisoformat(values["授权/登记日"]),
        status={"申请中": "pending", "有效": "valid"}[values["状态"]],
    )
    with pytest.raises(ValidationError) as raised:
        asset.clean()
    assert_rejected(
        job,
        [
            {
                "row": 2,
                "column": column,
                "value": values[column],
                "message": raised.value.message_dict[model_field][0],
            }
        ],
    )
    assert IPAsset.objects.count() == 0


def test_it_reports_qualification_dates_as_the_model_does(officer, personas):
    job = import_file(
        officer,
        "qualifications",
        [QUALIFICATION_HEADERS, qualification_row(personas.ent_a.uscc, 有效期至="2023-11-15")],
    )

    with pytest.raises(ValidationError) as raised:
        Qualification(kind="hnte", issue_date=date(2023, 11, 15), expiry_date=date(2023, 11, 15)).clean()
    message = raised.value.message_dict["expiry_date"][0]
    assert message == "有效期至 2023-11-15 必须晚于发证日期 2023-11-15"
    assert_rejected(job, [{"row": 2, "column": "有效期至", "value": "2023-11-15", "message": message}])
    assert Qualification.objects.count() == 0


def test_it_reports_codes_not_in_the_registry_for_ip_and_qualifications(officer, personas):
    message = "企业库中没有这个统一社会信用代码：请先导入该企业的基本信息"
    for kind, row in (("ip", ip_row(code(9), "ZL1")), ("qualifications", qualification_row(code(9)))):
        job = import_file(officer, kind, [[c.header for c in SPECS[kind].columns], row])
        assert_rejected(job, [{"row": 2, "column": "统一社会信用代码", "value": code(9), "message": message}])
    assert IPAsset.objects.count() == Qualification.objects.count() == 0


def test_it_refuses_a_real_formula_cell_in_an_xlsx(officer, personas):
    content = xlsx("企业", [ENTERPRISE_HEADERS, enterprise_row(3, 企业名称='=CONCATENATE("上海","丁")')])
    assert load_workbook(io.BytesIO(content))["企业"]["B2"].data_type == "f"

    response = upload(officer, "enterprises", content)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert [(e["row"], e["column"], e["message"]) for e in job.errors] == [
        (
            2,
            "企业名称",
            "单元格含公式：只能导入数值或文字，请把公式转换为数值（复制后“选择性粘贴→数值”）再导入",
        )
    ]
    assert not Enterprise.objects.filter(uscc=code(3)).exists()


def test_it_takes_off_the_exports_formula_escape(officer, personas):
    job = import_file(
        officer,
        "enterprises",
        [["统一社会信用代码", "企业名称", "联系电话"], [code(3), '\'=HYPERLINK("x")', "'+86 21 5555 0000"]],
        name="x.csv",
    )

    assert job.status == "done"
    ent = Enterprise.objects.get(uscc=code(3))
    assert (ent.name, ent.contact_phone) == ('=HYPERLINK("x")', "+86 21 5555 0000")


def test_it_ignores_unknown_columns_with_a_note(officer, personas):
    job = import_file(
        officer,
        "enterprises",
        [["统一社会信用代码", "备注", "企业名称", "负责人"], [code(3), "随便写", "上海戊公司", "李四"]],
    )

    assert job.status == "done"
    assert job.message == "新增 1 条，更新 0 条，未变化 0 条。 已忽略无法识别的列：备注、负责人。"
    assert Enterprise.objects.get(uscc=code(3)).name == "上海戊公司"


# Modes.


def test_it_imports_the_good_rows_and_reports_the_others_when_asked_to(officer, personas):
    rows = [
        ENTERPRISE_HEADERS,
        enterprise_row(3),
        enterprise_row(4, 所在园区="火星园"),
        enterprise_row(5),
        enterprise_row(1, 企业名称="甲改名"),
    ]

    job = import_file(officer, "enterprises", rows, valid_only=True)

    assert (job.status, job.mode, job.created_count, job.updated_count, job.error_rows) == (
        "done",
        "valid_only",
        2,
        1,
        1,
    )
    assert job.message == "新增 2 条，更新 1 条，未变化 0 条。 有 1 行出错，未导入这些行，见下表。"
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "所在园区")]
    assert set(Enterprise.objects.values_list("uscc", flat=True)) == {code(1), code(2), code(3), code(5)}
    assert Enterprise.objects.get(pk=personas.ent_a.pk).name == "甲改名"


def test_it_rejects_a_valid_only_file_without_a_good_row(officer, personas):
    job = import_file(
        officer, "enterprises", [ENTERPRISE_HEADERS, enterprise_row(3, 企业名称="")], valid_only=True
    )

    assert job.status == "rejected"
    assert Enterprise.objects.count() == 2


def test_it_writes_nothing_when_one_row_of_many_is_bad(officer, personas):
    rows = (
        [ENTERPRISE_HEADERS]
        + [enterprise_row(n) for n in range(3, 40)]
        + [enterprise_row(40, 成立日期="明天")]
    )
    before = registry_state()

    job = import_file(officer, "enterprises", rows)

    assert (job.status, job.error_rows, job.total_rows) == ("rejected", 1, 38)
    assert registry_state() == before


# The file as a whole: refused on the form, nothing stored.


def test_it_names_the_missing_required_columns(officer, personas):
    before = registry_state()

    assert refused(
        officer,
        "ip",
        xlsx(
            "知识产权",
            [["统一社会信用代码", "类型", "申请日"], [personas.ent_a.uscc, "发明专利", "2020-01-01"]],
        ),
    ) == ["缺少必填列：申请号/登记号、名称。请下载“知识产权”模板，按模板的表头填写。"]
    assert refused(officer, "enterprises", csv_bytes([["企业名称"], ["x"]]), "a.csv") == [
        "缺少必填列：统一社会信用代码。请下载“企业基本信息”模板，按模板的表头填写。"
    ]
    assert registry_state() == before


def test_it_refuses_a_header_given_twice(officer):
    assert refused(
        officer,
        "enterprises",
        csv_bytes([["统一社会信用代码", "企业名称", "企业名称"], [code(3), "a", "b"]]),
        "a.csv",
    ) == ["表头“企业名称”出现了多次（第 B、C 列），每列只能出现一次。"]


def test_it_refuses_the_wrong_sheet(officer, personas):
    content = xlsx("Sheet1", [ENTERPRISE_HEADERS, enterprise_row(3)])

    assert refused(officer, "enterprises", content) == [
        "找不到工作表“企业”：文件中的工作表为 Sheet1。请使用对应模板。"
    ]
    assert refused(officer, "years", xlsx("企业", [ENTERPRISE_HEADERS])) == [
        "找不到工作表“年度数据”：文件中的工作表为 企业。请使用对应模板。"
    ]


@pytest.mark.parametrize(
    "content,name,message",
    [
        (b"", "empty.xlsx", "文件为空，请上传按模板填写的 .xlsx 或 .csv 文件。"),
        (b"", "empty.csv", "文件为空，请上传按模板填写的 .xlsx 或 .csv 文件。"),
        (
            xlsx("企业", []),
            "blank.xlsx",
            "工作表“企业”是空的：请在第1行填写表头，从第2行起每行填写一条记录。",
        ),
        (b"\n\n", "blank.csv", "工作表“企业”是空的：请在第1行填写表头，从第2行起每行填写一条记录。"),
        (
            xlsx("企业", [ENTERPRISE_HEADERS]),
            "headers.xlsx",
            "文件中只有表头，没有数据行：请从第2行起每行填写一条记录。",
        ),
        (
            xlsx("企业", [ENTERPRISE_HEADERS, [], [""] * 3]),
            "headers.xlsx",
            "文件中只有表头，没有数据行：请从第2行起每行填写一条记录。",
        ),
        (
            csv_bytes([ENTERPRISE_HEADERS]),
            "headers.csv",
            "文件中只有表头，没有数据行：请从第2行起每行填写一条记录。",
        ),
        (
            b"PK\x03\x04 not really a zip",
            "fake.xlsx",
            "该文件不是有效的 .xlsx 电子表格（可能已损坏，或只是改了扩展名）。",
        ),
        (
            b"%PDF-1.4 hello",
            "report.xlsx",
            "该文件不是有效的 .xlsx 电子表格（可能已损坏，或只是改了扩展名）。",
        ),
        (b"\x00\x01binary", "data.csv", "该 .csv 文件含二进制内容，不是文本表格。"),
        (b"whatever", "data.xls", "不支持的文件类型“data.xls”：只接受 .xlsx 或 .csv 文件。"),
    ],
)
def test_it_refuses_files_that_are_not_a_filled_template(officer, personas, content, name, message):
    before = registry_state()

    assert refused(officer, "enterprises", content, name) == [message]
    assert registry_state() == before


def test_it_refuses_a_file_over_the_size_limit(officer, personas, settings):
    settings.IMPORT_MAX_BYTES = 2048
    content = csv_bytes([ENTERPRISE_HEADERS] + [enterprise_row(n) for n in range(3, 40)])
    assert len(content) > 2048

    assert refused(officer, "enterprises", content, "big.csv") == [
        f"文件大小为 {len(content) / 1024:.1f} KB，超过上限 2.0 KB：请拆分成几个文件分批导入。"
    ]
    assert Enterprise.objects.count() == 2


# Pages and permissions.


@pytest.mark.parametrize("persona", ["alice", "bob", "leo", "uma", "eve"])
def test_it_lets_only_officers_import(client, personas, persona):
    client.force_login(getattr(personas, persona))
    content = xlsx("企业", [ENTERPRISE_HEADERS, enterprise_row(3)])

    assert client.get(reverse("enterprises:import")).status_code == 403
    assert upload(client, "enterprises", content).status_code == 403
    assert client.get(reverse("enterprises:import-template", args=["enterprises"])).status_code == 403
    assert not Enterprise.objects.filter(uscc=code(3)).exists()
    assert ImportJob.objects.count() == 0


def test_it_sends_anonymous_users_to_log_in(client, personas):
    response = client.get(reverse("enterprises:import"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_offers_kinds_templates_and_the_valid_only_choice(officer):
    response = officer.get(reverse("enterprises:import"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="valid_only"' in page and "只导入正确的行" in page
    for kind in SHEETS:
        assert reverse("enterprises:import-template", args=[kind]) in page


def test_it_shows_why_a_file_was_refused_on_the_form(officer):
    response = upload(officer, "enterprises", b"", "empty.csv")

    assert response.status_code == 200
    assert (
        '<div class="form-errors" role="alert"><p>文件为空，请上传按模板填写的 .xlsx 或 .csv 文件。</p></div>'
        in response.content.decode()
    )


@pytest.mark.parametrize("kind", list(SHEETS))
def test_it_serves_each_template_with_its_sheet_headers_and_notes(officer, kind):
    response = officer.get(reverse("enterprises:import-template", args=[kind]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [SHEETS[kind], "说明"]
    assert [c.value for c in workbook[SHEETS[kind]][1]] == [c.header for c in SPECS[kind].columns]
    assert workbook[SHEETS[kind]].max_row == 1
    notes = {row[1]: row[3] for row in workbook["说明"].iter_rows(min_row=2, values_only=True)}
    assert set(notes) >= {c.header for c in SPECS[kind].columns}


def test_it_lists_allowed_values_units_and_parks_in_the_notes(officer):
    workbook = load_workbook(
        io.BytesIO(officer.get(reverse("enterprises:import-template", args=["enterprises"])).content)
    )
    notes = {row[1]: row[3] for row in workbook["说明"].iter_rows(min_row=2, values_only=True)}
    assert "可填：存续；迁出；注销" in notes["状态"]
    assert "临港松江科技园" in notes["所在园区"] and "G60脑智科创基地" in notes["所在园区"]
    assert notes["成立日期"].startswith("日期，YYYY-MM-DD")
    years = load_workbook(
        io.BytesIO(officer.get(reverse("enterprises:import-template", args=["years"])).content)
    )
    notes = {row[1]: row[3] for row in years["说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["销售收入（万元）"].startswith("单位：万元")
    assert notes["职工总数（人）"].startswith("单位：人")


def test_it_has_no_template_for_an_unknown_kind(officer):
    assert officer.get(reverse("enterprises:import-template", args=["salaries"])).status_code == 404


def test_it_shows_the_report_and_offers_it_as_xlsx(officer, personas):
    job = import_file(
        officer, "enterprises", [ENTERPRISE_HEADERS, enterprise_row(3, 所在园区="火星园", 已上市="也许")]
    )

    page = officer.get(reverse("enterprises:import-job", args=[job.pk])).content.decode()
    assert "有错误，未导入" in page
    assert '<th class="num">行</th><th>列</th><th>值</th><th>问题</th>' in page
    assert '<td class="num">2</td><td>所在园区</td><td>火星园</td>' in page
    assert f'href="{reverse("enterprises:import-job", args=[job.pk])}?format=xlsx"' in page
    assert 'hx-trigger="every 1s"' not in page

    report = officer.get(reverse("enterprises:import-job", args=[job.pk]), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(report.content))["错误报告"].iter_rows(values_only=True))
    assert rows == [
        ("行", "列", "值", "问题"),
        (2, "所在园区", "火星园", "系统中没有这个园区：请填写园区全称，可选的园区见模板的“说明”工作表"),
        (2, "已上市", "也许", "应填“是”或“否”"),
    ]


def test_it_escapes_formulas_in_the_report_download(officer, personas):
    job = import_file(
        officer, "enterprises", [ENTERPRISE_HEADERS, enterprise_row(3, 企业名称="=1+1")], name="f.csv"
    )

    report = officer.get(reverse("enterprises:import-job", args=[job.pk]), {"format": "xlsx"})
    cell = load_workbook(io.BytesIO(report.content))["错误报告"]["C2"]
    assert (cell.data_type, cell.value) == ("s", "'=1+1")


def test_it_shows_users_only_their_own_jobs_unless_officer(client, personas):
    theirs = ImportJob.objects.create(
        kind="enterprises", filename="a.xlsx", content=b"", created_by=personas.alice, status="done"
    )
    carols = ImportJob.objects.create(
        kind="enterprises", filename="c.xlsx", content=b"", created_by=personas.carol, status="done"
    )

    client.force_login(personas.alice)
    assert client.get(reverse("enterprises:import-job", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("enterprises:import-job", args=[carols.pk])).status_code == 404
    assert client.get(reverse("enterprises:partial-import-progress", args=[carols.pk])).status_code == 404
    client.force_login(personas.carol)
    assert client.get(reverse("enterprises:import-job", args=[theirs.pk])).status_code == 200


def test_it_polls_the_progress_until_the_job_is_finished(officer, personas):
    job = ImportJob.objects.create(
        kind="years",
        filename="y.xlsx",
        content=b"",
        created_by=personas.carol,
        status="running",
        total_rows=5000,
        processed_rows=2000,
    )
    url = reverse("enterprises:partial-import-progress", args=[job.pk])

    running = officer.get(url, headers={"HX-Request": "true"})
    body = running.content.decode()
    assert '<div class="progress"' in body and '<div style="width:40%"></div>' in body
    assert f'hx-get="{url}"' in body and 'hx-trigger="every 1s"' in body
    assert "已处理 2000 / 5000 行（40%）" in body
    assert "HX-Refresh" not in running

    ImportJob.objects.filter(pk=job.pk).update(status="done", processed_rows=5000)
    finished = officer.get(url, headers={"HX-Request": "true"})
    assert '<div style="width:100%"></div>' in finished.content.decode()
    assert "hx-trigger" not in finished.content.decode()
    assert finished["HX-Refresh"] == "true"  # the page reloads to show the report


def test_it_polls_on_the_job_page_while_the_job_runs(officer, personas):
    job = ImportJob.objects.create(
        kind="years",
        filename="y.xlsx",
        content=b"",
        created_by=personas.carol,
        status="queued",
        total_rows=9000,
    )

    page = officer.get(reverse("enterprises:import-job", args=[job.pk])).content.decode()

    assert f'hx-get="{reverse("enterprises:partial-import-progress", args=[job.pk])}"' in page
    assert 'hx-trigger="every 1s"' in page
    assert '<div style="width:0%"></div>' in page


# Large files: the background worker.


@pytest.mark.django_db(transaction=True)
def test_it_imports_a_large_file_in_the_worker(client, personas, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.IMPORT_BACKGROUND_ROWS = 3
    client.force_login(personas.carol)
    rows = [ENTERPRISE_HEADERS] + [enterprise_row(n) for n in range(3, 9)]

    job = import_file(client, "enterprises", rows, name="大文件.xlsx")

    assert (job.status, job.total_rows, job.processed_rows) == ("queued", 6, 0)
    assert Enterprise.objects.count() == 2
    progress = client.get(reverse("enterprises:partial-import-progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in progress and '<div style="width:0%"></div>' in progress

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows, job.created_count) == ("done", 6, 6, 6)
    assert job.finished_at is not None
    assert Enterprise.objects.count() == 8
    assert Enterprise.objects.get(uscc=code(8)).history.get().history_user == personas.carol
    progress = client.get(reverse("enterprises:partial-import-progress", args=[job.pk])).content.decode()
    assert '<div style="width:100%"></div>' in progress and "hx-trigger" not in progress


@pytest.mark.django_db(transaction=True)
def test_it_rejects_a_large_bad_file_in_the_worker(client, personas, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.IMPORT_BACKGROUND_ROWS = 3
    client.force_login(personas.carol)
    rows = [ENTERPRISE_HEADERS] + [enterprise_row(n) for n in range(3, 9)] + [enterprise_row(9, 状态="休眠")]

    job = import_file(client, "enterprises", rows)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    job.refresh_from_db()
    assert (job.status, job.error_rows, job.processed_rows, job.total_rows) == ("rejected", 1, 7, 7)
    assert Enterprise.objects.count() == 2


def test_it_imports_a_small_file_in_the_request(officer, personas, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.IMPORT_BACKGROUND_ROWS = 3

    job = import_file(
        officer, "enterprises", [ENTERPRISE_HEADERS, enterprise_row(3), enterprise_row(4), enterprise_row(5)]
    )

    assert (job.status, job.created_count) == ("done", 3)


# Progress, limits and failures inside the job.


def test_it_records_progress_every_few_thousand_rows(officer, personas, monkeypatch):
    from dataclasses import replace

    from kechuang.enterprises import importing

    seen = []
    spec = importing.SPECS["enterprises"]

    def spying_rules(row, today):
        seen.append(ImportJob.objects.latest("pk").processed_rows)
        return spec.rules(row, today)

    monkeypatch.setattr(importing, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(importing, "PROGRESS_SECONDS", 0)
    monkeypatch.setitem(importing.SPECS, "enterprises", replace(spec, rules=spying_rules))

    job = import_file(officer, "enterprises", [ENTERPRISE_HEADERS] + [enterprise_row(n) for n in range(3, 8)])

    assert seen == [0, 0, 2, 2, 4]
    assert (job.processed_rows, job.total_rows) == (5, 5)


def test_it_writes_progress_at_most_every_few_seconds(officer, personas, monkeypatch):
    from dataclasses import replace

    from kechuang.enterprises import importing

    seen = []
    spec = importing.SPECS["enterprises"]

    def spying_rules(row, today):
        seen.append(ImportJob.objects.latest("pk").processed_rows)
        return spec.rules(row, today)

    monkeypatch.setattr(importing, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(importing, "PROGRESS_SECONDS", 3600)
    monkeypatch.setitem(importing.SPECS, "enterprises", replace(spec, rules=spying_rules))

    import_file(officer, "enterprises", [ENTERPRISE_HEADERS] + [enterprise_row(n) for n in range(3, 8)])

    assert seen == [0, 0, 0, 0, 0]


def test_it_keeps_the_first_errors_when_there_are_too_many(officer, personas, monkeypatch):
    from kechuang.enterprises import importing

    monkeypatch.setattr(importing, "MAX_REPORTED_ERRORS", 2)

    job = import_file(
        officer,
        "enterprises",
        [ENTERPRISE_HEADERS] + [enterprise_row(n, 所在园区="火星园") for n in range(3, 6)],
    )

    assert [e["row"] for e in job.errors] == [2, 3]
    assert job.error_rows == 3
    assert (
        job.message
        == "有 3 行出错，未导入任何数据：请按下表修改后重新上传，或勾选“只导入正确的行”。 错误太多，下表只列出前 2 条。"
    )


def test_it_fails_the_job_and_writes_nothing_on_a_conflict_while_writing(officer, personas, monkeypatch):
    from kechuang.enterprises import importing

    real_write = importing._write

    def someone_was_faster(spec, plan, job):
        Enterprise.objects.create(uscc=code(4), name="抢先录入")  # after the check, before the write
        return real_write(spec, plan, job)

    monkeypatch.setattr(importing, "_write", someone_was_faster)
    before = registry_state()

    job = import_file(officer, "enterprises", [ENTERPRISE_HEADERS, enterprise_row(3), enterprise_row(4)])

    assert job.status == "failed"
    assert (
        job.message
        == "写入数据库时与已有数据冲突（可能有人同时修改了相同的记录），未导入任何数据，请重新上传。"
    )
    assert registry_state() == before


def test_it_fails_the_job_with_a_plain_message_on_an_unexpected_error(officer, personas, monkeypatch):
    from kechuang.enterprises import importing

    def broken(spec, plan, job):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_write", broken)

    job = import_file(officer, "enterprises", [ENTERPRISE_HEADERS, enterprise_row(3)])

    assert (job.status, job.message) == ("failed", "导入失败（系统内部错误），未导入任何数据，请联系管理员。")
    assert job.finished_at is not None
    assert not Enterprise.objects.filter(uscc=code(3)).exists()
