"""The policies API (/api/policies): every operation answers by scope then permission (404 outside the scope, 403
without the permission, 401 anonymous), the error format for bad definitions and bad periods, and exact results."""

import json
from decimal import Decimal

import pytest

from kechuang.policies import services
from kechuang.policies.models import Benefit, BenefitRun, PolicyDocument, PolicyItem
from tests.policies.conftest import ON

pytestmark = pytest.mark.django_db

BASE = "/api/policies"


def call(client, user, method, url, body=None):
    client.logout()
    if user is not None:
        client.force_login(user)
    if method == "GET":
        return client.get(url)
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def confirmed(pf):
    pf.run = services.run_now(item=pf.item, period_text="2026", as_of=ON)
    services.run_transition(run=pf.run, name="confirm", user=pf.carol)
    pf.benefit = Benefit.objects.get(run=pf.run)
    return pf


# (method, path template) → {persona: expected status}; personas: anon, alice (enterprise A), bob (park A),
# carol (officer), leo (leader), uma (university).
MATRIX = {
    ("GET", "/documents"): dict(anon=401, alice=200, bob=200, carol=200, leo=200, uma=200),
    ("GET", "/documents/{document}"): dict(anon=401, alice=200, bob=200, carol=200, leo=200, uma=200),
    ("GET", "/items"): dict(anon=401, alice=200, bob=200, carol=200, leo=200, uma=200),
    ("GET", "/items/{item}"): dict(anon=401, alice=200, bob=200, carol=200, leo=200, uma=200),
    ("POST", "/items"): dict(anon=401, alice=403, bob=403, carol=201, leo=403, uma=403),
    ("POST", "/items/{item}/test"): dict(anon=401, alice=200, bob=200, carol=200, leo=200, uma=404),
    ("GET", "/enterprises/{enterprise}/eligibility"): dict(
        anon=401, alice=200, bob=200, carol=200, leo=200, uma=404
    ),
    ("GET", "/runs"): dict(anon=401, alice=403, bob=200, carol=200, leo=200, uma=403),
    ("GET", "/runs/{run}"): dict(anon=401, alice=403, bob=200, carol=200, leo=200, uma=403),
    ("POST", "/items/{item}/runs"): dict(anon=401, alice=403, bob=403, carol=422, leo=403, uma=403),
    ("GET", "/runs/{run}/benefits"): dict(anon=401, alice=403, bob=200, carol=200, leo=200, uma=403),
    ("POST", "/runs/{run}/{transition}"): dict(anon=401, alice=403, bob=403, carol=422, leo=403, uma=403),
    ("POST", "/benefits/{benefit}/exclude"): dict(anon=401, alice=403, bob=403, carol=422, leo=403, uma=404),
    ("POST", "/benefits/{benefit}/accept"): dict(anon=401, alice=200, bob=403, carol=403, leo=403, uma=404),
}


def _url(pf, path):
    document = PolicyDocument.objects.get(number="沪松府〔2025〕150号")
    return BASE + path.format(
        document=document.pk,
        item=pf.item.pk,
        enterprise=pf.ent_a.pk,
        run=pf.run.pk,
        transition="close",
        benefit=pf.benefit.pk,
    )


BODIES = {
    ("POST", "/items"): lambda pf: {
        "document_id": pf.item.document_id,
        "name": "API 事项",
        "kind": "award",
        "formula": "100",
        "effective_from": "2026-01-01",
    },
    ("POST", "/items/{item}/test"): lambda pf: {"enterprise_id": pf.ent_a.pk, "period": "2026"},
    ("POST", "/items/{item}/runs"): lambda pf: {
        "period": "2024"
    },  # before the item took effect: 422 for carol
    ("POST", "/benefits/{benefit}/exclude"): lambda pf: {"reason": "x"},  # the run is confirmed: 422
}


def test_every_operation_is_in_the_matrix(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    operations = {
        (
            method.upper(),
            path.removeprefix(BASE)
            .replace("{item_id}", "{item}")
            .replace("{run_id}", "{run}")
            .replace("{document_id}", "{document}")
            .replace("{enterprise_id}", "{enterprise}")
            .replace("{benefit_id}", "{benefit}"),
        )
        for path, ops in paths.items()
        if path.startswith(BASE)
        for method in ops
    }
    assert operations == set(MATRIX)


@pytest.mark.parametrize("operation", list(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_matrix(confirmed, client, operation):
    """Each persona in turn; those whose request succeeds go last, so the refusals see the same state."""
    pf = confirmed
    method, path = operation
    expected = MATRIX[operation]
    body = BODIES.get(operation, lambda pf: {})(pf)
    for persona in sorted(expected, key=lambda name: expected[name] < 300):
        user = None if persona == "anon" else getattr(pf, persona, None) or getattr(pf.personas, persona)
        before = (
            PolicyItem.objects.count(),
            BenefitRun.objects.count(),
            sorted(Benefit.objects.values_list("state", flat=True)),
        )
        response = call(client, user, method, _url(pf, path), body)
        assert response.status_code == expected[persona], (persona, response.content.decode())
        after = (
            PolicyItem.objects.count(),
            BenefitRun.objects.count(),
            sorted(Benefit.objects.values_list("state", flat=True)),
        )
        if response.status_code >= 400:
            assert after == before, persona  # a refusal changed nothing
        if response.status_code in (401, 403, 404):
            assert isinstance(response.json()["detail"], str) and response.json()["detail"]


def test_a_definition_with_a_missing_field_is_422_naming_the_field(pf, client):
    client.force_login(pf.carol)
    response = client.post(
        f"{BASE}/items",
        {
            "document_id": pf.item.document_id,
            "name": "API 事项",
            "kind": "interest",
            "formula": "loan_interest * nope",
            "eligibility": [{"kind": "compare", "column": "rd", "op": ">=", "value": 1}],
            "cap_per_enterprise": "100.5",
            "effective_from": "2026-01-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "eligibility",
            "message": "第 1 项条件：未知的数据列 'rd'（可用的数据列见编辑页的“可用数据列”）",
            "code": "invalid",
        },
        {
            "field": "formula",
            "message": "第 17 个字符处：未知的名称“nope”：既不是数据列，也不是本政策事项的参数",
            "code": "invalid",
        },
        {"field": "cap_per_enterprise", "message": "单户上限 100.5 元须为整数元", "code": "invalid"},
    ]
    assert not PolicyItem.objects.filter(name="API 事项").exists()


def test_a_run_for_a_period_before_the_item_took_effect_is_422(pf, client):
    client.force_login(pf.carol)
    response = client.post(
        f"{BASE}/items/{pf.item.pk}/runs", {"period": "2024"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "period"
    assert (
        "早于政策事项“新认定高新技术企业奖励（测试）”的施行日期 2025-11-11"
        in response.json()["detail"][0]["message"]
    )
    assert not BenefitRun.objects.exists()


def test_a_run_is_created_and_its_benefits_listed_with_explanations(
    pf, client, django_capture_on_commit_callbacks
):
    client.force_login(pf.carol)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{BASE}/items/{pf.item.pk}/runs",
            {"period": "2026", "as_of": "2026-06-30"},
            content_type="application/json",
        )
    assert response.status_code == 201
    run_id = response.json()["id"]
    run = client.get(f"{BASE}/runs/{run_id}").json()
    assert (run["status"], run["state"], run["counts"], run["total_amount"]) == (
        "done",
        "reviewing",
        {"computed": 1, "not_eligible": 3},
        "200000.00",
    )
    benefits = client.get(f"{BASE}/runs/{run_id}/benefits").json()
    assert benefits["count"] == 1
    [b] = benefits["items"]
    assert (b["enterprise_id"], b["state"], b["amount"]) == (pf.ent_a.pk, "computed", "200000.00")
    assert b["explanation"]["conditions"][1]["label"] == "于兑现期间内新认定为高新技术企业"
    assert b["inputs"] == {"status": "active", "new_hnte": True}
    response = client.post(f"{BASE}/runs/{run_id}/cancel", {"reason": ""}, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"] == [
        {"field": "reason", "message": "请填写作废的原因", "code": "invalid"}
    ]
    response = client.post(f"{BASE}/runs/{run_id}/confirm", {}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "confirmed"


def test_one_enterprise_tested_and_its_eligibility(confirmed, client):
    pf = confirmed
    client.force_login(pf.carol)
    result = client.post(
        f"{BASE}/items/{pf.item.pk}/test",
        {"enterprise_id": pf.ent_b.pk, "period": "2026"},
        content_type="application/json",
    ).json()
    assert (result["eligibility"], result["outcome"], result["amount"]) == ("not_met", "not_eligible", None)
    assert result["reason"] == "不符合：于兑现期间内新认定为高新技术企业"
    response = client.post(
        f"{BASE}/items/{pf.item.pk}/test",
        {"enterprise_id": pf.ent_b.pk, "period": "2026年13季"},
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "period"
    client.force_login(pf.alice)
    data = client.get(f"{BASE}/enterprises/{pf.ent_a.pk}/eligibility").json()
    assert [(b["item_id"], b["state"], b["amount"]) for b in data["benefits"]] == [
        (pf.item.pk, "confirmed", "200000.00")
    ]
    assert [(q["item_id"], q["held_state"]) for q in data["qualifies"]] == [(pf.item.pk, "confirmed")]
    response = client.post(f"{BASE}/benefits/{pf.benefit.pk}/accept", content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    assert Benefit.objects.get(pk=pf.benefit.pk).accepted_by == pf.alice


def test_the_library_is_searchable(pf, client):
    client.force_login(pf.alice)
    data = client.get(f"{BASE}/documents", {"q": "贴息"}).json()
    assert [d["number"] for d in data["items"]] == ["松科委〔2026〕13号"]
    document = client.get(
        f"{BASE}/documents/{PolicyDocument.objects.get(number='松科委〔2026〕13号').pk}"
    ).json()
    assert len(document["articles"]) == 15 and document["articles"][7]["title"] == "完善科技金融服务体系"
    assert client.get(f"{BASE}/documents/999999").status_code == 404


def test_a_draft_item_is_not_found_for_readers(pf, client):
    draft = PolicyItem.objects.create(
        document=pf.item.document,
        name="草稿",
        kind="award",
        formula="1",
        effective_from="2026-01-01",
        workflow=pf.item.workflow,
        state="draft",
    )
    client.force_login(pf.alice)
    assert client.get(f"{BASE}/items/{draft.pk}").status_code == 404
    client.force_login(pf.carol)
    assert client.get(f"{BASE}/items/{draft.pk}").json()["state"] == "draft"
    assert Decimal(client.get(f"{BASE}/items/{pf.item.pk}").json()["parameters"]["award"]["value"]) == 200000
