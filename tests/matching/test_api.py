"""The 双向发榜 API (/api/matching): postings, moderation, matches, search, dockings, the analyses; errors in the
project's format (401/403/404 {"detail"}, 422 [{"field", "message", "code"}]) with nothing changed; unknown
fields and unknown codes refused naming what is allowed; phones masked as on the pages."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kechuang.matching.models import Demand, Docking
from tests.matching import fixtures as f

mf = f.mf
pytestmark = pytest.mark.django_db
BASE = "/api/matching"


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

        def post(self, url, body=None):
            return client.post(BASE + url, body or {}, content_type="application/json")

        def patch(self, url, body):
            return client.patch(BASE + url, body, content_type="application/json")

        def delete(self, url):
            return client.delete(BASE + url)

    return Api()


def body(**overrides) -> dict:
    values = f.demand_values(**overrides)
    values["budget"] = str(values["budget"]) if values["budget"] is not None else None
    return values


def test_anonymous_is_401(api, mf):
    assert api.as_(None).get("/demands").json() == {"detail": "未登录或登录已过期，请先登录"}


def test_posting_and_reading_a_demand(api, mf):
    response = api.as_(mf.alice).post("/demands", {**body(), "submit": True})
    assert response.status_code == 201, response.json()
    out = response.json()
    assert out["state"] == "pending" and out["owner"] == "上海甲科技有限公司" and out["budget"] == "800000.00"
    assert out["contact_phone"] == "13812345678"
    listed = api.as_(mf.alice).get("/demands", mine="true").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == out["id"]
    assert api.as_(mf.ben).get(f"/demands/{out['id']}").status_code == 404


def test_unknown_fields_and_codes_are_422_naming_what_is_allowed(api, mf):
    response = api.as_(mf.alice).post("/demands", {**body(), "colour": "red"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "colour", "message": "不允许的字段（未知字段或只读字段）", "code": "extra_forbidden"}
    ]
    response = api.as_(mf.alice).post("/demands", body(field="99", description="x" * 5001))
    items = {i["field"]: i["message"] for i in response.json()["detail"]}
    assert items["field"].startswith("技术领域“99”不存在，可选：01（电子信息）")
    assert items["description"] == "需求描述最多 5,000 字，现为 5,001 字"
    response = api.as_(mf.alice).get("/demands", field="zz")
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "field"
    response = api.as_(mf.alice).get("/demands", sort="hack")
    assert response.status_code == 422 and response.json()["detail"][0]["message"].startswith(
        "排序“hack”不存在"
    )
    assert not Demand.objects.exists()


def test_a_duplicate_is_422_naming_the_existing_demand(api, mf):
    first = api.as_(mf.alice).post("/demands", body()).json()
    response = api.as_(mf.alice).post("/demands", body(title="伺服电机 温升控制！"))
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["field"] == "title" and f"编号 {first['id']}" in item["message"]
    assert Demand.objects.count() == 1


def test_moderation_through_the_api(api, mf):
    created = api.as_(mf.alice).post("/demands", {**body(), "submit": True}).json()
    pk = created["id"]
    assert api.as_(mf.alice).post(f"/demands/{pk}/steps/publish", {}).status_code == 403
    response = api.as_(mf.carol).post(f"/demands/{pk}/steps/return", {"reason": ""})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "reason"
    out = api.as_(mf.carol).post(f"/demands/{pk}/steps/publish", {"reason": "通过"}).json()
    assert out["state"] == "published" and out["moderation_note"] == "通过"
    assert [s["name"] for s in api.as_(mf.alice).get(f"/demands/{pk}").json()["steps"]] == [
        "close",
        "withdraw",
    ]


def test_patch_changes_only_what_is_sent_and_delete_answers_204(api, mf):
    pk = api.as_(mf.uma).post("/achievements", f.achievement_values()).json()["id"]
    out = api.as_(mf.uma).patch(f"/achievements/{pk}", {"trl": 7}).json()
    assert out["trl"] == 7 and out["title"] == "伺服电机高效散热结构"
    response = api.as_(mf.uma).patch(f"/achievements/{pk}", {"trl": 11})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "trl"
    assert api.as_(mf.vic).delete(f"/achievements/{pk}").status_code == 404
    assert api.as_(mf.uma).delete(f"/achievements/{pk}").status_code == 204
    assert api.as_(mf.uma).get(f"/achievements/{pk}").status_code == 404


def test_phones_are_masked_for_others(api, mf):
    d = f.published_demand(mf)
    assert api.as_(mf.ben).get(f"/demands/{d.pk}").json()["contact_phone"] == "138****5678"
    assert api.as_(mf.carol).get(f"/demands/{d.pk}").json()["contact_phone"] == "13812345678"


def test_matches_search_and_a_docking_to_signed(api, mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    matches = api.as_(mf.alice).get(f"/demands/{d.pk}/matches").json()
    assert matches[0]["kind"] == "achievement" and matches[0]["id"] == a.pk
    assert matches[0]["terms"] and matches[0]["field_match"] is True and matches[0]["explanation"]
    response = api.as_(mf.alice).get(f"/demands/{d.pk}/matches", kinds="robot")
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "kinds"
    demands = api.as_(mf.uma).get(f"/achievements/{a.pk}/matches").json()
    assert [m["id"] for m in demands] == [d.pk]
    assert api.as_(mf.uma).get(f"/achievements/{a.pk}/matches", kinds="enterprise").status_code == 422

    found = api.as_(mf.bob).get("/search", q="伺服电机").json()
    assert {(i["kind"], i["id"]) for i in found["items"]} >= {("demand", d.pk), ("achievement", a.pk)}
    assert "<mark>" in found["items"][0]["title_html"] + found["items"][0]["snippet_html"]
    bad = api.as_(mf.bob).get("/search", q="电")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "q"

    docking = api.as_(mf.alice).post("/dockings", {"demand_id": d.pk, "achievement_id": a.pk}).json()
    assert docking["state"] == "recommended" and docking["score"] is not None
    pk = docking["id"]
    today = timezone.localdate().isoformat()
    for name in ("contact", "negotiate"):
        assert (
            api.as_(mf.uma).post(f"/dockings/{pk}/steps/{name}", {"on": today, "text": name}).status_code
            == 200
        )
    response = api.as_(mf.alice).post(f"/dockings/{pk}/steps/sign", {"on": today, "text": "签约"})
    assert response.status_code == 422 and response.json()["detail"] == [
        {"field": "amount", "message": "签约须填写合同金额（元）", "code": "invalid"}
    ]
    out = (
        api.as_(mf.alice)
        .post(f"/dockings/{pk}/steps/sign", {"on": today, "text": "签约", "amount": "600000"})
        .json()
    )
    assert out["state"] == "signed" and out["contract_amount"] == "600000.00" and len(out["notes"]) == 4
    assert api.as_(mf.ben).get(f"/dockings/{pk}").status_code == 404
    assert api.as_(mf.leo).post(f"/dockings/{pk}/notes", {"on": today, "text": "x"}).status_code == 403
    assert api.as_(mf.alice).get("/dockings", state="signed").json()["count"] == 1
    assert Docking.objects.get().state == "signed"


def test_a_docking_needs_one_counterpart(api, mf):
    d = f.published_demand(mf)
    response = api.as_(mf.alice).post("/dockings", {"demand_id": d.pk})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "achievement_id"
    assert not Docking.objects.exists()


def test_the_analyses_are_for_officers_and_leaders(api, mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    docking = api.as_(mf.alice).post("/dockings", {"demand_id": d.pk, "achievement_id": a.pk}).json()
    today = timezone.localdate().isoformat()
    api.as_(mf.alice).post(
        f"/dockings/{docking['id']}/steps/decline", {"on": today, "text": "不对口", "reason": "not_relevant"}
    )
    out = api.as_(mf.leo).get("/declines").json()
    assert (
        out["total"] == 1 and {"code": "not_relevant", "label": "技术不对口", "count": 1} in out["by_reason"]
    )
    assert out["by_field"] == [
        {
            "field": "08",
            "field_label": "先进制造与自动化",
            "reason": "not_relevant",
            "reason_label": "技术不对口",
            "count": 1,
        }
    ]
    assert api.as_(mf.alice).get("/declines").status_code == 403
    assert api.as_(mf.carol).get("/unmatched").status_code == 200
