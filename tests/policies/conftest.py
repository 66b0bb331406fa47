"""Policy items, registry rows and runs for the tests of kechuang/policies.

The personas (root conftest.py) act through their roles: carol (officer) keeps items and runs 免申即享, alice is
enterprise A's user, bob park A's operator, leo the leader. The catalogue's documents are in every test database
(catalogue_sync runs after migrate).

Registry (the period 2026, runs dated ON): enterprise A holds a 高新技术企业 certificate issued in 2026 (newly
recognised in the period), its 2025 R&D expense is 300万元 and its 2026 loan interest 32.5万元; enterprise B holds one
issued in 2024 (valid, not new) and has no 2025 figures; enterprise C (park B) holds none; D is deregistered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, EnterpriseYear, Qualification
from kechuang.policies import services
from kechuang.policies.models import PolicyDocument, PolicyFigure, PolicyItem

ON = dt.date(2026, 6, 30)
PERIOD = "2026"

NEW_HNTE = [{"kind": "qualification", "qualification": "hnte", "test": "new"}]
INTEREST = {
    "rate": {"label": "贴息比例", "value": 0.5, "unit": "比例"},
}


class PolicyFixtures:
    pass


def make_item(*, user, publish=True, **fields) -> PolicyItem:
    document = PolicyDocument.objects.get(catalogue_key="husongfu-2025-150")
    values = {
        "document": document,
        "article": document.articles.get(number="（一）"),
        "name": "新认定高新技术企业奖励（测试）",
        "kind": "award",
        "eligibility": NEW_HNTE,
        "formula": "award",
        "parameters": {"award": {"label": "奖励金额", "value": 200000, "unit": "元"}},
        "effective_from": dt.date(2025, 11, 11),
    }
    values.update(fields)
    item = services.item_save(item=PolicyItem(**values), user=user)
    if publish:
        services.item_transition(item=item, name="publish", user=user)
        item.refresh_from_db()
    return item


@pytest.fixture
def pf(personas):
    p = PolicyFixtures()
    p.personas = personas
    p.ent_a, p.ent_b = personas.ent_a, personas.ent_b
    p.ent_c = Enterprise.objects.create(
        uscc=make_code("91310117MA1J00003"), name="上海丙材料有限公司", park=personas.park_b, industry="C"
    )
    p.ent_d = Enterprise.objects.create(
        uscc=make_code("91310117MA1J00004"), name="上海丁注销有限公司", status="deregistered"
    )
    Qualification.objects.create(enterprise=p.ent_a, kind="hnte", issue_date=dt.date(2026, 3, 15))
    Qualification.objects.create(enterprise=p.ent_b, kind="hnte", issue_date=dt.date(2024, 12, 1))
    Qualification.objects.create(enterprise=p.ent_d, kind="hnte", issue_date=dt.date(2026, 2, 1))
    EnterpriseYear.objects.create(enterprise=p.ent_a, year=2025, rd_expense_hnte=Decimal("3000000"))
    EnterpriseYear.objects.create(enterprise=p.ent_c, year=2025, rd_expense_hnte=Decimal("5000000"))
    PolicyFigure.objects.create(
        enterprise=p.ent_a, period=PERIOD, name="loan_interest", value=Decimal("325000")
    )
    p.carol, p.alice, p.bob, p.leo = personas.carol, personas.alice, personas.bob, personas.leo
    p.item = make_item(user=p.carol)
    return p
