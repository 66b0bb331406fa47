"""Writes are checked by the model's full_clean(); errors come back as 422
{"detail": [{"field", "message", "code"}]} with the model's Chinese messages, in the same format as
ninja's own request errors. A refused write changes nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset, Park, Qualification


def url(p, path=""):
    return f"/api/enterprises/{p.ent_a.pk}{path}"


@pytest.fixture
def as_carol(registry, api_client):
    return api_client.as_(registry.carol)


def new_enterprise(**fields):
    return {"uscc": make_code("91310117MA1J00009"), "name": "上海丙信息有限公司", **fields}


# --- 统一社会信用代码 ------------------------------------------------------------------------


def test_it_rejects_a_wrong_check_character_with_the_uscc_message(registry, as_carol):
    assert make_code("91310117MA1J00001").endswith("G")

    response = as_carol.post("/api/enterprises", new_enterprise(uscc="91310117MA1J00001H"))

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "field": "uscc",
                "message": "统一社会信用代码校验位错误：第18位应为“G”，实际为“H”",
                "code": "invalid_uscc",
            }
        ]
    }
    assert Enterprise.objects.count() == 2


def test_it_rejects_a_wrong_length(registry, as_carol):
    response = as_carol.post("/api/enterprises", new_enterprise(uscc="9131011"))

    assert response.status_code == 422
    assert {
        "field": "uscc",
        "message": "统一社会信用代码应为18位，实际为7位",
        "code": "invalid_uscc",
    } in response.json()["detail"]


def test_it_normalises_the_code_before_checking_it(registry, as_carol):
    code = make_code("91310117MA1J00009")
    spaced = " " + code[:6].lower() + "　" + code[6:].lower()  # a full-width space inside

    response = as_carol.post("/api/enterprises", new_enterprise(uscc=spaced))

    assert response.status_code == 201, response.content
    assert response.json()["uscc"] == code
    assert Enterprise.objects.get(pk=response.json()["id"]).uscc == code


@pytest.mark.parametrize("variant", [str.upper, str.lower])
def test_a_duplicate_code_is_422(registry, as_carol, variant):
    response = as_carol.post("/api/enterprises", new_enterprise(uscc=variant(registry.ent_a.uscc)))

    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"field": "uscc", "message": "统一社会信用代码已存在", "code": "unique"}]
    }
    assert Enterprise.objects.count() == 2


def test_changing_a_code_to_an_existing_one_is_422(registry, as_carol):
    response = as_carol.patch(f"/api/enterprises/{registry.ent_b.pk}", {"uscc": registry.ent_a.uscc})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "uscc", "message": "统一社会信用代码已存在", "code": "unique"}
    ]
    registry.ent_b.refresh_from_db()
    assert registry.ent_b.uscc != registry.ent_a.uscc


# --- other enterprise rules --------------------------------------------------------------------


def test_a_future_registration_date_is_422(registry, as_carol):
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = as_carol.patch(url(registry), {"registration_date": tomorrow.isoformat()})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "registration_date", "message": f"成立日期 {tomorrow} 晚于今天", "code": "invalid"}
    ]


def test_an_unknown_park_is_422_naming_the_field(registry, as_carol):
    response = as_carol.patch(url(registry), {"park_id": 987654})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "park_id"
    assert "987654" in error["message"]


def test_null_clears_a_text_field_and_leaves_the_others(registry, as_carol):
    response = as_carol.patch(url(registry), {"short_name": None})

    assert response.status_code == 200
    registry.ent_a.refresh_from_db()
    assert registry.ent_a.short_name == ""
    assert registry.ent_a.name == "上海甲科技有限公司"


def test_a_required_field_cannot_be_cleared(registry, as_carol):
    response = as_carol.patch(url(registry), {"name": None})

    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": "name", "message": "此字段不能为空。", "code": "blank"}]


# --- who may change which enterprise fields ----------------------------------------------------


def test_an_enterprise_user_may_not_change_its_code(registry, api_client):
    response = api_client.as_(registry.alice).patch(url(registry), {"uscc": make_code("91310117MA1J00009")})

    assert response.status_code == 403
    assert response.json() == {"detail": "无权修改：统一社会信用代码"}


def test_an_enterprise_user_may_resend_its_own_code_and_park(registry, api_client):
    body = {"uscc": registry.ent_a.uscc.lower(), "park_id": registry.park_a.pk, "address": "松江区文诚路"}

    response = api_client.as_(registry.alice).patch(url(registry), body)

    assert response.status_code == 200, response.content
    assert response.json()["address"] == "松江区文诚路"


def test_an_enterprise_user_may_not_move_its_enterprise(registry, api_client):
    response = api_client.as_(registry.alice).patch(url(registry), {"park_id": registry.park_b.pk})

    assert response.status_code == 403
    assert response.json() == {"detail": "无权修改：所在园区"}


@pytest.mark.parametrize("park", ["park_b", "zone"])
def test_a_park_operator_may_not_move_an_enterprise_out_of_its_parks(registry, api_client, park):
    response = api_client.as_(registry.bob).patch(url(registry), {"park_id": getattr(registry, park).pk})

    assert response.status_code == 403
    registry.ent_a.refresh_from_db()
    assert registry.ent_a.park == registry.park_a


def test_a_park_operator_may_move_an_enterprise_into_its_sub_park(registry, api_client):
    carrier = Park.objects.create(name="临港松江科技园孵化器", kind="carrier", parent=registry.park_a)

    response = api_client.as_(registry.bob).patch(url(registry), {"park_id": carrier.pk})

    assert response.status_code == 200
    assert response.json()["park_name"] == "临港松江科技园孵化器"


def test_an_officer_may_move_and_recode(registry, as_carol):
    code = make_code("91310117MA1J00009")

    response = as_carol.patch(url(registry), {"park_id": registry.park_b.pk, "uscc": code, "is_demo": True})

    assert response.status_code == 200
    registry.ent_a.refresh_from_db()
    assert (registry.ent_a.park, registry.ent_a.uscc, registry.ent_a.is_demo) == (registry.park_b, code, True)


# --- years ---------------------------------------------------------------------------------------


def test_negative_money_is_422_in_wan_yuan(registry, as_carol):
    response = as_carol.post(url(registry, "/years"), {"year": 2022, "sales_revenue": "-10000"})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "sales_revenue", "message": "销售收入不能为负数（填写值 -1万元）", "code": "invalid"}
    ]
    assert not EnterpriseYear.objects.filter(year=2022).exists()


def test_profit_may_be_negative(registry, as_carol):
    response = as_carol.post(url(registry, "/years"), {"year": 2022, "net_profit": "-10000"})

    assert response.status_code == 201
    assert response.json()["net_profit"] == "-10000.00"


def test_rd_staff_above_employees_is_one_clear_error(registry, as_carol):
    """The model's message only: the check constraint's generic text is not added."""
    response = as_carol.post(url(registry, "/years"), {"year": 2022, "employees": "10", "rd_staff": "12"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"field": "rd_staff", "message": "研发人员数（12）不能多于职工总数（10）", "code": "invalid"}
        ]
    }


def test_a_patch_is_checked_against_the_stored_figures(registry, as_carol):
    response = as_carol.patch(url(registry, f"/years/{registry.year_a.pk}"), {"employees": "1"})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "rd_staff", "message": "研发人员数（2.0）不能多于职工总数（1）", "code": "invalid"}
    ]
    registry.year_a.refresh_from_db()
    assert registry.year_a.employees == Decimal("10")


def test_a_duplicate_year_is_422(registry, as_carol):
    response = as_carol.post(url(registry, "/years"), {"year": 2023})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "year", "message": "该企业该年度的数据已存在，请编辑原有记录", "code": "unique"}
    ]


def test_a_year_out_of_range_is_422(registry, as_carol):
    this_year = timezone.localdate().year

    response = as_carol.post(url(registry, "/years"), {"year": this_year + 1})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "year",
            "message": f"年度 {this_year + 1} 超出范围：应在 1949–{this_year} 之间",
            "code": "invalid",
        }
    ]


def test_money_is_a_decimal_string_in_yuan_and_staff_a_decimal(registry, as_carol):
    response = as_carol.post(
        url(registry, "/years"),
        {"year": 2022, "sales_revenue": "1234.5", "total_assets": 2000, "employees": "12.5"},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["sales_revenue"], body["total_assets"], body["employees"], body["tax_paid"]) == (
        "1234.50",
        "2000.00",
        "12.5",
        None,
    )
    assert EnterpriseYear.objects.get(pk=body["id"]).sales_revenue == Decimal("1234.50")


def test_too_many_decimal_places_is_422(registry, as_carol):
    response = as_carol.post(url(registry, "/years"), {"year": 2022, "sales_revenue": "1.234"})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "sales_revenue"
    assert "2" in error["message"]


# --- request (schema) errors, in the same format --------------------------------------------------


def test_schema_errors_use_the_same_format_in_chinese(registry, as_carol):
    response = as_carol.post(
        "/api/enterprises", {"uscc": make_code("91310117MA1J00009"), "industry": "Z", "bogus": 1}
    )

    assert response.status_code == 422
    detail = {error["field"]: error for error in response.json()["detail"]}
    assert detail["name"] == {"field": "name", "message": "此项为必填项", "code": "missing"}
    assert detail["bogus"] == {
        "field": "bogus",
        "message": "不允许的字段（未知字段或只读字段）",
        "code": "extra_forbidden",
    }
    assert detail["industry"]["code"] == "enum"
    assert detail["industry"]["message"].startswith("不是有效的选项，可选值：'A', 'B'")
    assert " or " not in detail["industry"]["message"]


def test_text_where_a_number_belongs_is_422(registry, as_carol):
    response = as_carol.patch(url(registry, f"/years/{registry.year_a.pk}"), {"employees": "十"})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "employees",
            "message": '应为数字（建议以字符串传递，如 "1234.50"）',
            "code": "decimal_parsing",
        }
    ]


@pytest.mark.parametrize("field", ["ip_class", "is_used_for_hnte", "enterprise_id"])
def test_read_only_ip_fields_cannot_be_written(registry, as_carol, field):
    response = as_carol.patch(url(registry, f"/ip-assets/{registry.ip_a.pk}"), {field: None})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


def test_bad_query_parameters_are_422(registry, as_carol):
    response = as_carol.get("/api/enterprises", limit="0", ordering="phone")

    assert response.status_code == 422
    fields = {error["field"]: error["message"] for error in response.json()["detail"]}
    assert fields["limit"] == "不能小于 1"
    assert fields["ordering"].startswith("不是有效的选项")


# --- IP assets and qualifications ----------------------------------------------------------------


def test_a_duplicate_ip_number_is_422(registry, as_carol):
    body = {"ip_type": "invention", "number": registry.ip_a.number, "title": "重复"}

    response = as_carol.post(url(registry, "/ip-assets"), body)

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "number",
            "message": "该类型、该编号的知识产权已登记（同一知识产权只能由一家企业使用）",
            "code": "unique",
        }
    ]
    assert IPAsset.objects.count() == 2


def test_grant_before_application_is_422(registry, as_carol):
    body = {
        "ip_type": "software",
        "number": "2024SR1",
        "title": "软件",
        "application_date": "2024-03-01",
        "grant_date": "2024-01-01",
    }

    response = as_carol.post(url(registry, "/ip-assets"), body)

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "grant_date", "message": "授权/登记日 2024-01-01 早于申请日 2024-03-01", "code": "invalid"}
    ]


@pytest.mark.parametrize(
    "ip_type,used_year,ip_class,used",
    [
        ("invention", 2024, "I", False),
        ("utility_model", 2024, "II", True),
        ("software", None, "II", False),
        ("trademark", None, None, False),
    ],
)
def test_ip_class_and_hnte_use_are_derived(registry, as_carol, ip_type, used_year, ip_class, used):
    body = {"ip_type": ip_type, "number": "X-1", "title": "某项", "hnte_used_year": used_year}

    response = as_carol.post(url(registry, "/ip-assets"), body)

    assert response.status_code == 201
    assert (response.json()["ip_class"], response.json()["is_used_for_hnte"]) == (ip_class, used)


def test_expiry_before_issue_is_422(registry, as_carol):
    body = {"kind": "tech_sme", "issue_date": "2024-05-01", "expiry_date": "2024-01-01"}

    response = as_carol.post(url(registry, "/qualifications"), body)

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "expiry_date",
            "message": "有效期至 2024-01-01 必须晚于发证日期 2024-05-01",
            "code": "invalid",
        }
    ]


def test_a_duplicate_qualification_is_422(registry, as_carol):
    response = as_carol.post(url(registry, "/qualifications"), {"kind": "hnte", "issue_date": "2023-12-01"})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "issue_date", "message": "该企业同一日期发证的同类资质已登记", "code": "unique"}
    ]


def test_qualification_validity_is_derived(registry, as_carol):
    today = timezone.localdate()
    issued = today - timedelta(days=400)
    expired = Qualification.objects.create(
        enterprise=registry.ent_a, kind="tech_sme", issue_date=issued, expiry_date=today - timedelta(days=5)
    )

    current = as_carol.post(
        url(registry, "/qualifications"), {"kind": "hnte", "issue_date": today.isoformat()}
    ).json()
    old = as_carol.get(url(registry, f"/qualifications/{expired.pk}")).json()

    three_years = (
        date(today.year + 3, today.month, today.day)
        if (today.month, today.day) != (2, 29)
        else date(today.year + 3, 3, 1)
    )
    assert current["expiry_date"] == (three_years - timedelta(days=1)).isoformat()
    assert (current["is_valid_today"], current["days_to_expiry"]) == (
        True,
        (three_years - timedelta(days=1) - today).days,
    )
    assert (old["is_valid_today"], old["days_to_expiry"]) == (False, -5)


# --- the contact phone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona,phone",
    [("alice", "13812345678"), ("carol", "13812345678"), ("bob", "138****5678"), ("leo", "138****5678")],
)
def test_the_phone_is_masked_unless_officer_or_own_enterprise(registry, api_client, persona, phone):
    api_client.as_(getattr(registry, persona))

    detail = api_client.get(url(registry)).json()
    listed = {item["id"]: item for item in api_client.get("/api/enterprises").json()["items"]}

    assert detail["contact_phone"] == phone
    assert listed[registry.ent_a.pk]["contact_phone"] == phone
