"""Rows for the recognitions tests, on the personas of the root conftest: enterprise A (alice's, park A) and B
(the outsider), carol the officer, leo the leader, eve the expert.

Contracts and projects are made through the services, as users make them; amounts are yuan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import IPAsset
from kechuang.projects.models import Expert
from kechuang.recognitions import contracts, transformation
from kechuang.recognitions.choices import Exclusion

TODAY = timezone.localdate()
_numbers = count(1)


def messages_of(excinfo) -> str:
    return "；".join(excinfo.value.messages)


def contract_data(seller, **overrides) -> dict:
    """A valid application for `seller` (an Enterprise) as an officer types it."""
    n = next(_numbers)
    data = {
        "contract_no": f"HT-{n:04d}",
        "name": f"智能检测算法技术开发{n}",
        "contract_type": "development",
        "sub_type": "entrusted",
        "seller_name": seller.name,
        "seller_uscc": seller.uscc,
        "seller_region": "310117",
        "buyer_name": "上海买方科技有限公司",
        "buyer_uscc": make_code("91310115MA1K00001"),
        "buyer_region": "310115",
        "buyer_country": "CHN",
        "signed_on": TODAY - dt.timedelta(days=60),
        "valid_from": TODAY - dt.timedelta(days=60),
        "valid_to": TODAY + dt.timedelta(days=300),
        "total_amount": Decimal("1000000.00"),
        "tech_amount": Decimal("800000.00"),
        "payment_mode": "instalments",
    }
    data.update(overrides)
    return data


def make_contract(p, seller=None, *, user=None, **overrides):
    seller = seller or p.ent_a
    return contracts.contract_create(contract_data(seller, **overrides), user=user or p.carol)


def registered(p, seller=None, *, on=None, **overrides):
    contract = make_contract(p, seller, **overrides)
    contracts.contract_register(contract, user=p.carol, registered_on=on or TODAY)
    return contract


def ip(enterprise, ip_type="invention", grant_date=None, **fields) -> IPAsset:
    n = next(_numbers)
    return IPAsset.objects.create(
        enterprise=enterprise,
        ip_type=ip_type,
        number=f"ZL2023{n:06d}",
        title=f"一种检测装置{n}",
        grant_date=grant_date or TODAY - dt.timedelta(days=200),
        **fields,
    )


PROJECT = {
    "name": "晶圆缺陷智能检测系统",
    "product": "晶圆缺陷检测仪",
    "field": "01",
    "field_detail": "微电子技术",
    "first_transformed_on": TODAY - dt.timedelta(days=90),
    "test_report_no": "JC-2026-0001",
    "no_infringement": True,
    "no_accident": True,
    "not_dishonest": True,
}


def make_project(p, enterprise=None, *, ips=None, user=None, **overrides):
    enterprise = enterprise or p.ent_a
    if ips is None:
        ips = [ip(enterprise)]
    return transformation.project_save(
        None,
        enterprise=enterprise,
        data={**PROJECT, **overrides},
        ip_ids=[i.pk for i in ips],
        user=user or p.alice,
    )


def expert(name: str, *, organisation: str = "某大学", code: str = "", user=None) -> Expert:
    return Expert.objects.create(name=name, organisation=organisation, organisation_code=code, user=user)


def recommended(p, **overrides):
    """A project submitted by alice, judged and recommended by carol."""
    project = make_project(p, **overrides)
    transformation.project_submit(project, user=p.alice)
    transformation.exclusion_judge(project, exclusion=Exclusion.NONE, note="首次转化的新产品", user=p.carol)
    transformation.project_recommend(project, user=p.carol, opinion="同意推荐")
    return project


SCORES = {"technology": 25, "ip": 20, "transformation": 20, "benefit": 15}


def reviewed(p, project, n: int = 3):
    """n experts assigned and their reviews submitted (by carol, on their behalf)."""
    for k in range(n):
        item = transformation.review_assign(project, expert(f"专家{k}{next(_numbers)}"), user=p.carol)
        transformation.review_submit(item, scores=SCORES, opinion="建议认定", recommend=True, user=p.carol)
    return project


@pytest.fixture
def p(personas):
    return personas
