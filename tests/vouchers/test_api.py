"""The voucher API (/api/vouchers): the same services as the pages, errors in the project's format (422 with
Chinese messages and nothing changed; 401, 403, 404), scope before permission."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kechuang.vouchers.models import AbuseFlag, Redemption, Settlement, Voucher, VoucherApplication
from tests.vouchers.conftest import TODAY, make_provider, provider_user

pytestmark = pytest.mark.django_db

API = "/api/vouchers"


@pytest.fixture
def api(client):
    class Api:
        def as_(self, user):
            client.logout()
            if user is not None:
                client.force_login(user)
            return self

        def get(self, path, **params):
            return client.get(API + path, params)

        def post(self, path, body):
            return client.post(API + path, body, content_type="application/json")

    return Api()


def redemption_body(voucher, provider, **overrides):
    return {
        "voucher_number": voucher.number,
        "enterprise_uscc": voucher.enterprise.uscc,
        "service_id": provider.services.get(name="电磁兼容检测").pk,
        "contract_no": "FW-API-1",
        "contract_amount": "20000",
        "invoice_no": "26312000000000000077",
        "invoice_date": TODAY.isoformat(),
        "invoice_amount": "16000",
    } | overrides


def test_anonymous_is_401_and_roles_without_the_permission_403(api, scheme, personas):
    assert api.as_(None).get("/schemes").status_code == 401
    response = api.as_(personas.uma).get("/schemes")
    assert response.status_code == 403 and response.json() == {"detail": "无权查看创新券年度方案"}
    body = api.as_(personas.carol).get("/schemes").json()
    assert body["count"] == 1 and body["items"][0]["left"] == "1000000.00"


def test_the_whole_way_through_the_api(api, scheme, provider, personas, pat):
    created = api.as_(personas.alice).post(
        "/applications",
        {
            "scheme_id": scheme.pk,
            "enterprise_id": personas.ent_a.pk,
            "requested_amount": "90000",
            "purpose": "委托检测",
        },
    )
    assert created.status_code == 201, created.json()
    application = created.json()
    assert application["state"] == "draft" and {t["name"] for t in application["transitions"]} >= {
        "submit",
        "withdraw",
    }
    submitted = api.post(f"/applications/{application['id']}/transitions/submit", {})
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    assert api.post(f"/applications/{application['id']}/approve", {}).status_code == 403

    approved = api.as_(personas.carol).post(
        f"/applications/{application['id']}/approve", {"granted_amount": "80000"}
    )
    assert approved.status_code == 200
    voucher = approved.json()
    assert voucher["amount"] == "80000.00" and voucher["balance"] == "80000.00"

    v = Voucher.objects.get()
    made = api.as_(pat).post("/redemptions", redemption_body(v, provider))
    assert made.status_code == 201, made.json()
    r = made.json()
    assert r["voucher_part"] == "8000.00" and r["state"] == "submitted" and r["flags"] == []
    verified = api.as_(personas.carol).post(f"/redemptions/{r['id']}/transitions/verify", {})
    assert verified.status_code == 200 and verified.json()["state"] == "verified"
    settled = api.post(
        "/settlements",
        {
            "provider_id": provider.pk,
            "period_start": TODAY.isoformat(),
            "period_end": TODAY.isoformat(),
            "paid_on": TODAY.isoformat(),
        },
    )
    assert (
        settled.status_code == 201
        and settled.json()["total"] == "8000.00"
        and settled.json()["redemption_ids"] == [r["id"]]
    )
    assert api.as_(pat).get("/settlements").json()["count"] == 1
    assert api.as_(personas.alice).get(f"/vouchers/{v.pk}").json()["balance"] == "72000.00"


def test_a_refused_redemption_is_422_in_chinese_and_nothing_changed(api, voucher, provider, pat):
    first = api.as_(pat).post("/redemptions", redemption_body(voucher, provider))
    assert first.status_code == 201
    again = api.post("/redemptions", redemption_body(voucher, provider, contract_no="FW-2"))
    assert again.status_code == 422
    item = again.json()["detail"][0]
    assert item["field"] == "invoice_no" and "同一张发票不能重复兑付" in item["message"]
    beyond = api.post("/redemptions", redemption_body(voucher, provider, invoice_no="X9", amount="8000.01"))
    assert beyond.status_code == 422 and beyond.json()["detail"][0]["field"] == "amount"
    assert Redemption.objects.count() == 1
    voucher.refresh_from_db()
    assert voucher.used == Decimal("8000.00")
    malformed = api.post("/redemptions", redemption_body(voucher, provider, invoice_amount="很多"))
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["field"] == "invoice_amount"


def test_flags_come_back_with_the_redemption_and_are_resolved(api, voucher, provider, pat, personas):
    personas.ent_a.address = provider.address
    personas.ent_a.save()
    r = api.as_(pat).post("/redemptions", redemption_body(voucher, provider)).json()
    assert [f["kind"] for f in r["flags"]] == ["same_address"]
    blocked = api.as_(personas.carol).post(f"/redemptions/{r['id']}/transitions/verify", {})
    assert blocked.status_code == 422 and "异常预警未处理" in blocked.json()["detail"][0]["message"]
    listed = api.get("/flags").json()
    assert listed["count"] == 1
    flag_id = listed["items"][0]["id"]
    assert api.as_(pat).post(f"/flags/{flag_id}/resolve", {"upheld": False, "note": "x"}).status_code == 403
    resolved = api.as_(personas.carol).post(f"/flags/{flag_id}/resolve", {"upheld": True, "note": "关联方"})
    assert resolved.status_code == 200 and resolved.json()["resolution"] == "upheld"
    assert api.get(f"/redemptions/{r['id']}").json()["state"] == "refused"
    assert AbuseFlag.objects.get().resolution == "upheld"


def test_scope_before_permission(api, voucher, provider, pat, personas):
    r = api.as_(pat).post("/redemptions", redemption_body(voucher, provider)).json()
    stranger = provider_user(make_provider(2), "sam")
    assert api.as_(stranger).get(f"/redemptions/{r['id']}").status_code == 404
    assert api.as_(personas.alice).get(f"/redemptions/{r['id']}").status_code == 200
    application = VoucherApplication.objects.get()
    assert api.as_(personas.bob).get(f"/applications/{application.pk}").status_code == 403
    assert api.as_(pat).get(f"/applications/{application.pk}").status_code == 404
    other = api.as_(stranger).post(
        "/redemptions", redemption_body(voucher, provider, invoice_no="S2", provider_id=provider.pk)
    )
    assert other.status_code == 403
    refused = api.as_(personas.alice).post(
        "/applications",
        {
            "scheme_id": voucher.scheme_id,
            "enterprise_id": personas.ent_b.pk,
            "requested_amount": "1",
            "purpose": "x",
        },
    )
    assert refused.status_code == 404  # enterprise B is not hers to see
    assert Settlement.objects.count() == 0


def test_the_catalogue_hides_suspended_providers_from_enterprises(api, provider, personas, officer):
    from kechuang.vouchers import services

    make_provider(2, kind="instrument")
    services.provider_suspend(provider, reason="整改", user=officer)
    listed = api.as_(personas.alice).get("/providers").json()
    assert listed["count"] == 1 and listed["items"][0]["kind"] == "instrument"
    assert api.get(f"/providers/{provider.pk}").status_code == 404
    assert api.as_(personas.carol).get("/providers").json()["count"] == 2
    assert api.get("/providers", kind="instrument").json()["count"] == 1
