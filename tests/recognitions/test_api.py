"""/api/recognitions: contracts and 高转 projects — list, detail, create, register, payment milestones — with the
project's error format (401 / 403 / 404 / 422 with field, message, code) and nothing changed on a refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kechuang.recognitions.models import PaymentMilestone, TechContract, TransformationProject
from tests.recognitions.conftest import (
    TODAY,
    ip,
    make_contract,
    make_project,
    recommended,
    registered,
    reviewed,
)

pytestmark = pytest.mark.django_db

BASE = "/api/recognitions"


def body(seller, **overrides) -> dict:
    data = {
        "contract_no": "HT-API-1",
        "name": "检测算法技术开发",
        "contract_type": "development",
        "sub_type": "cooperative",
        "seller_name": seller.name,
        "seller_uscc": seller.uscc,
        "buyer_name": "上海买方有限公司",
        "signed_on": str(TODAY - dt.timedelta(days=30)),
        "valid_from": str(TODAY - dt.timedelta(days=30)),
        "valid_to": str(TODAY + dt.timedelta(days=300)),
        "total_amount": "800000.00",
        "tech_amount": "800000.00",
        "payment_mode": "lump_sum",
    }
    data.update(overrides)
    return data


@pytest.fixture
def api(client):
    class Api:
        def as_(self, user):
            client.logout()
            if user is not None:
                client.force_login(user)
            return self

        def get(self, url, **params):
            return client.get(BASE + url, params)

        def post(self, url, data=None):
            return client.post(BASE + url, data or {}, content_type="application/json")

        def put(self, url, data):
            return client.put(BASE + url, data, content_type="application/json")

    return Api()


def test_anonymous_is_401_and_a_role_without_the_permission_403(api, p):
    assert api.as_(None).get("/contracts").status_code == 401
    response = api.as_(p.bob).get("/contracts")
    assert response.status_code == 403 and response.json() == {"detail": "无权查看技术合同"}


def test_an_officer_applies_and_registers(api, p):
    created = api.as_(p.carol).post("/contracts", body(p.ent_a))

    assert created.status_code == 201, created.content
    contract = created.json()
    assert (contract["state"], contract["state_label"], contract["enterprise_id"]) == (
        "submitted",
        "待登记",
        p.ent_a.pk,
    )
    done = api.post(f"/contracts/{contract['id']}/register", {"registered_on": str(TODAY)})
    assert done.status_code == 200
    assert done.json()["registration_no"] == f"{TODAY.year}310117000001"
    assert done.json()["state"] == "registered"


def test_a_duplicate_is_422_naming_the_existing_registration_and_nothing_changes(api, p):
    first = registered(p, contract_no="HT-API-1")

    response = api.as_(p.carol).post("/contracts", body(p.ent_a))

    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["field"] == "contract_no"
    assert f"合同登记编号 {first.registration_no}" in item["message"] and "不能重复登记" in item["message"]
    assert TechContract.objects.count() == 1


def test_a_technology_amount_above_the_total_is_422(api, p):
    response = api.as_(p.carol).post("/contracts", body(p.ent_a, tech_amount="800000.01"))

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "tech_amount"
    assert not TechContract.objects.exists()


def test_a_bad_uscc_and_a_missing_field_are_422_in_one_format(api, p):
    bad = api.as_(p.carol).post("/contracts", body(p.ent_a, seller_uscc="91310117MA1J000010"))
    assert bad.status_code == 422
    assert (
        bad.json()["detail"][0]["field"] == "seller_uscc"
        and "校验位错误" in bad.json()["detail"][0]["message"]
    )

    missing = api.post("/contracts", {k: v for k, v in body(p.ent_a).items() if k != "buyer_name"})
    assert missing.status_code == 422
    assert missing.json()["detail"] == [{"field": "buyer_name", "message": "此项为必填项", "code": "missing"}]


def test_an_enterprise_applies_as_seller_and_sees_only_its_own(api, p):
    theirs = make_contract(p, p.ent_b)

    created = api.as_(p.alice).post("/contracts", body(p.ent_b, contract_no="MINE-1"))

    assert created.status_code == 201 and created.json()["seller_uscc"] == p.ent_a.uscc
    listed = api.get("/contracts").json()
    assert [c["id"] for c in listed["items"]] == [created.json()["id"]] and listed["count"] == 1
    assert api.get(f"/contracts/{theirs.pk}").status_code == 404
    refused = api.post(f"/contracts/{created.json()['id']}/register", {})
    assert refused.status_code == 403
    assert TechContract.objects.get(pk=created.json()["id"]).state == "submitted"


def test_payment_milestones_plan_and_payment(api, p):
    contract = registered(p)  # 成交额 1,000,000
    api.as_(p.carol)

    refused = api.put(
        f"/contracts/{contract.pk}/milestones",
        {"milestones": [{"due_date": str(TODAY - dt.timedelta(days=1)), "amount": "400000"}]},
    )
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "note"
    assert not PaymentMilestone.objects.exists()

    planned = api.put(
        f"/contracts/{contract.pk}/milestones",
        {
            "milestones": [
                {"due_date": str(TODAY - dt.timedelta(days=1)), "amount": "400000"},
                {"due_date": str(TODAY + dt.timedelta(days=90)), "amount": "600000"},
            ]
        },
    )
    assert planned.status_code == 200
    first, second = planned.json()
    assert (first["overdue"], second["overdue"]) == (True, False)

    over = api.post(
        f"/contracts/{contract.pk}/milestones/{first['id']}/payments",
        {"amount": "400000.01", "paid_on": str(TODAY)},
    )
    assert over.status_code == 422 and over.json()["detail"][0]["field"] == "amount"
    paid = api.post(
        f"/contracts/{contract.pk}/milestones/{first['id']}/payments",
        {"amount": "400000", "paid_on": str(TODAY)},
    )
    assert paid.status_code == 200
    assert (Decimal(paid.json()["paid_amount"]), paid.json()["overdue"]) == (Decimal("400000"), False)
    assert api.get(f"/contracts/{contract.pk}/milestones").json()[0]["paid_on"] == str(TODAY)
    assert api.as_(p.leo).put(f"/contracts/{contract.pk}/milestones", {"milestones": []}).status_code == 403


def test_projects_list_detail_create_submit_and_recognise(api, p):
    asset = ip(p.ent_a)
    api.as_(p.alice)

    created = api.post(
        "/projects",
        {
            "enterprise_id": p.ent_a.pk,
            "name": "晶圆检测系统",
            "product": "检测仪",
            "field": "01",
            "first_transformed_on": str(TODAY - dt.timedelta(days=30)),
            "test_report_no": "JC-1",
            "core_ip": [asset.pk],
            "no_infringement": True,
            "no_accident": True,
            "not_dishonest": True,
        },
    )
    assert created.status_code == 201, created.content
    project = created.json()
    assert project["state"] == "draft" and project["core_ip"] == [asset.pk]
    conditions = {c["code"]: c for c in project["conditions"]}
    assert conditions["core_ip"]["status"] == "met"
    assert conditions["core_ip"]["source"] == "沪科规〔2020〕8号 第六条第（二）项"
    submitted = api.post(f"/projects/{project['id']}/submit")
    assert submitted.status_code == 200 and submitted.json()["applied_on"] == str(TODAY)
    assert api.get("/projects").json()["count"] == 1
    assert api.as_(p.carol).get(f"/projects/{project['id']}").status_code == 200

    ready = reviewed(p, recommended(p, name="另一个项目"))
    recognised = api.post(
        f"/projects/{ready.pk}/recognise", {"certificate_no": "GZ-9", "recognised_on": str(TODAY)}
    )
    assert recognised.status_code == 200 and recognised.json()["state"] == "recognised"
    assert recognised.json()["valid_until"] is not None


def test_a_project_for_another_enterprise_or_with_its_ip_is_refused(api, p):
    api.as_(p.alice)

    other = api.post("/projects", {"enterprise_id": p.ent_b.pk, "name": "x", "product": "y"})
    assert other.status_code == 404

    foreign = ip(p.ent_b)
    response = api.post(
        "/projects", {"enterprise_id": p.ent_a.pk, "name": "x", "product": "y", "core_ip": [foreign.pk]}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "core_ip"
    assert not TransformationProject.objects.exists()


def test_submitting_a_project_not_meeting_a_condition_is_422(api, p):
    project = make_project(p, no_infringement=False)

    response = api.as_(p.alice).post(f"/projects/{project.pk}/submit")

    assert response.status_code == 422
    assert "未作出该项声明" in response.json()["detail"][0]["message"]
    assert TransformationProject.objects.get(pk=project.pk).state == "draft"


def test_the_openapi_document_lists_the_operations(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]

    assert {
        f"{BASE}/contracts",
        f"{BASE}/contracts/{{contract_id}}",
        f"{BASE}/contracts/{{contract_id}}/register",
        f"{BASE}/contracts/{{contract_id}}/milestones",
        f"{BASE}/contracts/{{contract_id}}/milestones/{{milestone_id}}/payments",
        f"{BASE}/projects",
        f"{BASE}/projects/{{project_id}}",
        f"{BASE}/projects/{{project_id}}/recognise",
    } <= set(paths)
    assert "422" in paths[f"{BASE}/contracts"]["post"]["responses"]
