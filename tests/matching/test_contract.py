"""A signed docking becomes a registered technology contract (recognitions.TechContract): the registry's form,
prefilled from the docking (seller = the achievement's organisation, buyer = the demand's enterprise, amount in
万元, signing date), submitted through recognitions' own service and linked to the docking with a dated note;
only for registry officers and signed dockings, once."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from kechuang.core.uscc import make_code
from kechuang.matching import services
from kechuang.matching.models import Docking
from kechuang.recognitions.models import TechContract
from tests.matching import fixtures as f

mf = f.mf
pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(mf):
    d = f.published_demand(mf)
    a = f.published_achievement(mf)
    docking = services.docking_create(d, user=mf.alice, achievement=a)
    today = timezone.localdate()
    for name in ("contact", "negotiate"):
        services.docking_step(docking, name, user=mf.alice, on=today, text=name)
    services.docking_step(docking, "sign", user=mf.alice, on=today, text="签约", amount="600000")
    mf.docking = Docking.objects.get(pk=docking.pk)
    return mf


def form_data(page_initial: dict, **overrides) -> dict:
    data = {k: ("" if v is None else v) for k, v in page_initial.items()}
    data.update(
        contract_no="HT-2026-001",
        seller_uscc=make_code("12310000MB2C00001"),
        seller_region="310117",
        valid_to=str(timezone.localdate().replace(year=timezone.localdate().year + 1)),
        payment_mode="instalments",
    )
    data.update(overrides)
    return data


def test_the_form_is_prefilled_from_the_docking_and_registering_links_the_contract(client, signed):
    client.force_login(signed.carol)
    url = reverse("matching:docking-contract", args=[signed.docking.pk])
    response = client.get(url)
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["seller_name"] == f.UNIVERSITY and initial["buyer_name"] == "上海甲科技有限公司"
    assert initial["buyer_uscc"] == signed.ent_a.uscc and initial["signed_on"] == timezone.localdate()
    assert str(initial["total_amount"]) == "60.000000"
    assert (initial["contract_type"], initial["sub_type"]) == ("licence", "patent_licence")
    detail = client.get(reverse("matching:docking-detail", args=[signed.docking.pk])).content.decode()
    assert "登记为技术合同" in detail

    response = client.post(url, form_data(initial))
    contract = TechContract.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "recognitions:contract-detail", args=[contract.pk]
    )
    assert contract.seller_name == f.UNIVERSITY and contract.buyer_name == "上海甲科技有限公司"
    assert str(contract.total_amount) == "600000.00"
    docking = Docking.objects.get(pk=signed.docking.pk)
    assert docking.tech_contract == contract
    assert (
        docking.notes.order_by("-pk").first().text.startswith("已申请技术合同认定登记（合同编号 HT-2026-001")
    )
    assert client.get(url).status_code == 302  # once
    assert (
        "查看技术合同" in client.get(reverse("matching:docking-detail", args=[docking.pk])).content.decode()
    )


def test_a_bad_form_registers_nothing(client, signed):
    client.force_login(signed.carol)
    url = reverse("matching:docking-contract", args=[signed.docking.pk])
    initial = client.get(url).context["form"].initial
    page = client.post(url, form_data(initial, seller_uscc="123")).content.decode()
    assert "卖方统一社会信用代码" in page
    assert (
        not TechContract.objects.exists() and Docking.objects.get(pk=signed.docking.pk).tech_contract is None
    )


def test_only_registry_officers_and_only_signed_dockings(client, signed):
    client.force_login(signed.alice)
    assert client.get(reverse("matching:docking-contract", args=[signed.docking.pk])).status_code == 403
    other = services.docking_create(
        signed.docking.demand,
        user=signed.alice,
        achievement=f.published_achievement(signed, title="伺服第二方案"),
    )
    assert not services.may_register_contract(signed.carol, other)
    client.force_login(signed.carol)
    response = client.get(reverse("matching:docking-contract", args=[other.pk]))
    assert response.status_code == 302 and not TechContract.objects.exists()
