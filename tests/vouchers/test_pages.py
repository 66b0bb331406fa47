"""The voucher pages through the HTTP client: who sees what, the catalogue's search, filters and paging, and the
whole way from application to settlement as the users click it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from kechuang.vouchers import redemptions
from kechuang.vouchers.models import (
    Provider,
    ProviderState,
    Redemption,
    Settlement,
    Voucher,
    VoucherApplication,
)
from tests.vouchers.conftest import TODAY, make_provider, provider_user

pytestmark = pytest.mark.django_db


def page(client, user, url, status=200, **params):
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode() if status == 200 else response


def test_who_sees_the_schemes_page(client, scheme, personas, pat):
    url = reverse("vouchers:schemes")
    for user in (personas.carol, personas.alice, personas.leo, pat):
        assert scheme.name in page(client, user, url)
    page(client, personas.uma, url, 403)
    client.logout()
    assert client.get(url).status_code == 302


def test_the_schemes_page_shows_budget_used_and_left(client, scheme, voucher, personas):
    html = page(client, personas.carol, reverse("vouchers:schemes"))
    assert '<td class="num granted">10.00</td>' in html and '<td class="num left">90.00</td>' in html
    assert "待审核申请" in html and "办理结算" in html


def test_an_enterprise_s_voucher_page_is_scoped(client, voucher, personas, pat):
    own = reverse("vouchers:enterprise", args=[personas.ent_a.pk])
    html = page(client, personas.alice, own)
    assert voucher.number in html and "100,000.00" in html and 'id="apply-link"' in html
    page(client, personas.alice, reverse("vouchers:enterprise", args=[personas.ent_b.pk]), 404)
    assert voucher.number in page(client, personas.carol, own)
    page(client, pat, own, 403)
    detail = page(client, personas.alice, reverse("enterprises:detail", args=[personas.ent_a.pk]))
    assert own in detail


def test_the_catalogue_searches_filters_and_pages(client, personas, django_assert_max_num_queries):
    for n in range(1, 31):
        make_provider(n, kind="instrument" if n % 3 == 0 else "testing", name=f"测试机构{n:02d}")
    Provider.objects.filter(name="测试机构03").update(state=ProviderState.SUSPENDED)
    url = reverse("vouchers:providers")
    client.force_login(personas.alice)
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert (
        "共 <strong>29</strong> 家服务机构" in html and "第 1 / 2 页" in html
    )  # the suspended one not listed
    assert "共 <strong>9</strong> 家" in page(client, personas.alice, url, kind="instrument")
    assert "共 <strong>1</strong> 家" in page(client, personas.alice, url, q="测试机构12")
    second = page(client, personas.alice, url, page=2, sort="-name")
    assert "测试机构01" in second and "测试机构30" not in second
    officer_view = page(client, personas.carol, url, state="suspended")
    assert "共 <strong>1</strong> 家" in officer_view and "测试机构03" in officer_view
    page(
        client,
        personas.alice,
        reverse("vouchers:provider-detail", args=[Provider.objects.get(name="测试机构03").pk]),
        404,
    )


def test_from_application_to_settlement_through_the_pages(client, scheme, provider, personas, pat):
    alice, carol = personas.alice, personas.carol
    client.force_login(alice)
    response = client.post(
        reverse("vouchers:application-create", args=[personas.ent_a.pk]),
        {
            "scheme": scheme.pk,
            "requested_amount": "80000",
            "purpose": "委托检测",
            "planned_services": [provider.services.first().pk],
        },
    )
    application = VoucherApplication.objects.get()
    assert response.url == reverse("vouchers:application-detail", args=[application.pk])
    client.post(reverse("vouchers:application-step", args=[application.pk]), {"transition": "submit"})
    application.refresh_from_db()
    assert application.state == "submitted"
    assert (
        client.post(
            reverse("vouchers:application-approve", args=[application.pk]), {"granted_amount": "80000"}
        ).status_code
        == 403
    )

    client.force_login(carol)
    queue = page(client, carol, reverse("vouchers:applications"), state="submitted")
    assert "上海甲科技有限公司" in queue
    client.post(
        reverse("vouchers:application-approve", args=[application.pk]),
        {"granted_amount": "60000", "note": "同意"},
    )
    voucher = Voucher.objects.get()
    assert voucher.amount == Decimal("60000.00")
    assert voucher.number in page(
        client, carol, reverse("vouchers:application-detail", args=[application.pk])
    )

    client.force_login(pat)
    form = page(client, pat, reverse("vouchers:redemption-create"))
    assert 'name="provider"' not in form  # a provider's user enters for its own provider
    data = {
        "voucher_number": voucher.number,
        "enterprise_uscc": personas.ent_a.uscc,
        "service": provider.services.get(name="电磁兼容检测").pk,
        "contract_no": "FW-1",
        "contract_amount": "20000",
        "invoice_no": "2631 2000 0000 0000 0009",
        "invoice_date": TODAY.isoformat(),
        "invoice_amount": "16000",
    }
    refused = client.post(reverse("vouchers:redemption-create"), data | {"amount": "60000.01"})
    assert (
        refused.status_code == 200
        and "超过发票金额 16,000.00 元的 50%（至多 8,000.00 元）" in refused.content.decode()
    )
    assert not Redemption.objects.exists()
    response = client.post(reverse("vouchers:redemption-create"), data, follow=True)
    r = Redemption.objects.get()
    assert "抵扣 8,000.00 元，余额 52,000.00 元" in response.content.decode()

    client.force_login(carol)
    assert client.post(reverse("vouchers:redemption-verify", args=[r.pk])).status_code == 302
    r.refresh_from_db()
    assert r.state == "verified"
    preview = page(
        client,
        carol,
        reverse("vouchers:settlement-create"),
        provider=provider.pk,
        period_start=TODAY.isoformat(),
        period_end=TODAY.isoformat(),
        paid_on=TODAY.isoformat(),
    )
    assert "确认结算 8,000.00 元" in preview
    response = client.post(
        reverse("vouchers:settlement-create"),
        {
            "provider": provider.pk,
            "period_start": TODAY.isoformat(),
            "period_end": TODAY.isoformat(),
            "paid_on": TODAY.isoformat(),
            "voucher_no": "记-1",
        },
    )
    s = Settlement.objects.get()
    assert response.url == reverse("vouchers:settlement-detail", args=[s.pk]) and s.total == Decimal(
        "8000.00"
    )
    xlsx = client.get(reverse("vouchers:settlement-xlsx", args=[s.pk]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats") and xlsx.content[:2] == b"PK"
    client.force_login(pat)
    assert f"结算 #{s.pk}" in page(client, pat, reverse("vouchers:settlement-detail", args=[s.pk]))


def test_a_flag_blocks_the_verify_button_and_is_resolved_on_the_page(client, redeem, provider, personas):
    personas.ent_a.address = provider.address
    personas.ent_a.save()
    r = redeem()
    carol = personas.carol
    html = page(client, carol, reverse("vouchers:redemption-detail", args=[r.pk]))
    assert 'id="verify-blocked"' in html and "关联方：同一地址" in html
    client.post(reverse("vouchers:redemption-verify", args=[r.pk]))
    r.refresh_from_db()
    assert r.state == "submitted"
    flag = r.flags.get()
    bad = client.post(reverse("vouchers:flag-resolve", args=[flag.pk]), {"decision": "cleared", "note": ""})
    assert bad.status_code == 200 and "核实情况：这个字段是必填项。" in bad.content.decode()
    client.post(
        reverse("vouchers:flag-resolve", args=[flag.pk]), {"decision": "cleared", "note": "同楼不同室"}
    )
    client.post(reverse("vouchers:redemption-verify", args=[r.pk]))
    r.refresh_from_db()
    assert r.state == "verified"
    assert "共 <strong>0</strong> 条预警" in page(client, carol, reverse("vouchers:flags"))


def test_others_cannot_act_or_see(client, redeem, voucher, personas, pat, scheme, officer):
    r = redeem()
    client.force_login(pat)
    assert client.post(reverse("vouchers:redemption-verify", args=[r.pk])).status_code == 403
    assert client.get(reverse("vouchers:flags")).status_code == 403
    assert client.get(reverse("vouchers:settlement-create")).status_code == 403
    stranger = provider_user(make_provider(2), "sam")
    page(client, stranger, reverse("vouchers:redemption-detail", args=[r.pk]), 404)
    assert "共 <strong>0</strong> 笔兑付" in page(client, stranger, reverse("vouchers:redemptions"))
    page(client, personas.alice, reverse("vouchers:redemption-detail", args=[r.pk]))  # her voucher's
    page(client, personas.alice, reverse("vouchers:redemption-create"), 403)
    application = VoucherApplication.objects.get()
    client.force_login(personas.alice)
    assert (
        client.post(
            reverse("vouchers:application-reject", args=[application.pk]), {"reason": "x"}
        ).status_code
        == 403
    )
    # bob operates park A, whose enterprise this is, but holds no voucher permission
    page(client, personas.bob, reverse("vouchers:application-detail", args=[application.pk]), 403)
    page(client, personas.bob, reverse("vouchers:redemption-detail", args=[r.pk]), 403)
    redemptions.redemption_refuse(r, reason="测试", user=officer)
    html = page(client, personas.alice, reverse("vouchers:voucher-detail", args=[voucher.pk]))
    assert "不予兑付" in html and "100,000.00 元" in html  # the part given back to the balance
