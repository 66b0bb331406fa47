"""认定登记 feeds the monitoring: 技术合同成交额 (亿元, registered contracts' 成交额 by registration date) and
高新技术成果转化项目认定数量 (项, projects recognised in the year) are computed indicators of the catalogue; a
registration moves the value of its year, a contract 未予登记 or cancelled does not count; their pages show the
value and lead to the records behind it; the role groups carry the recognitions permissions after migrate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from kechuang.core import roles
from kechuang.indicators import selectors
from kechuang.indicators.computed import COMPUTED
from kechuang.indicators.models import Indicator
from kechuang.recognitions import contracts, transformation
from tests.recognitions.conftest import TODAY, make_contract, recommended, registered, reviewed

pytestmark = pytest.mark.django_db

TURNOVER = COMPUTED["tech_contract_turnover"]
PROJECTS = COMPUTED["hitech_transfer_projects"]
YEAR_END = dt.date(TODAY.year - 1, 12, 31)


def test_the_catalogue_marks_both_indicators_computed():
    """catalogue_sync (run after migrate) reads indicators.yaml."""
    assert Indicator.objects.get(code="tech_contract_turnover").computed == "tech_contract_turnover"
    assert Indicator.objects.get(code="hitech_transfer_projects").computed == "hitech_transfer_projects"


def test_registering_a_contract_changes_the_turnover_of_its_year(p):
    assert TURNOVER.value(TODAY) == Decimal("0.0000")
    contract = make_contract(p, total_amount=Decimal("12345678.90"), tech_amount=Decimal("10000000"))
    assert TURNOVER.value(TODAY) == Decimal("0.0000")  # waiting: not counted yet

    contracts.contract_register(contract, user=p.carol, registered_on=TODAY)

    assert TURNOVER.value(TODAY) == Decimal("0.1235")  # 12,345,678.90 元 = 0.1235 亿元
    assert TURNOVER.value(YEAR_END) == Decimal("0.0000")  # last year is another year


def test_a_contract_registered_last_year_counts_in_last_year_by_its_registration_date(p):
    registered(
        p,
        on=YEAR_END,
        signed_on=dt.date(TODAY.year - 1, 11, 1),
        total_amount=Decimal("50000000"),
        tech_amount=Decimal("50000000"),
    )

    assert TURNOVER.values([YEAR_END, TODAY]) == {YEAR_END: Decimal("0.5000"), TODAY: Decimal("0.0000")}


def test_a_contract_not_registered_or_cancelled_does_not_count(p):
    refused = make_contract(p, total_amount=Decimal("30000000"), tech_amount=Decimal("1"))
    contracts.contract_refuse(refused, user=p.carol, reason="不属于技术合同")
    assert TURNOVER.value(TODAY) == Decimal("0.0000")

    kept = registered(p, total_amount=Decimal("20000000"), tech_amount=Decimal("1"))
    assert TURNOVER.value(TODAY) == Decimal("0.2000")
    contracts.contract_cancel(kept, user=p.carol, reason="协议解除")
    assert TURNOVER.value(TODAY) == Decimal("0.0000")


def test_the_turnover_of_a_park_counts_its_enterprises_contracts(p):
    registered(p, p.ent_a, total_amount=Decimal("10000000"), tech_amount=Decimal("1"))
    registered(p, p.ent_b, total_amount=Decimal("30000000"), tech_amount=Decimal("1"))

    assert TURNOVER.value(TODAY, p.park_a.with_descendants()) == Decimal("0.1000")
    assert TURNOVER.value(TODAY, p.zone.with_descendants()) == Decimal("0.4000")


def test_recognising_a_project_adds_one_to_its_year(p):
    project = reviewed(p, recommended(p))
    assert PROJECTS.value(TODAY) == 0

    transformation.project_recognise(project, certificate_no="GZ-1", recognised_on=TODAY, user=p.carol)

    assert PROJECTS.value(TODAY) == 1
    assert PROJECTS.value(YEAR_END) == 0


def test_the_indicator_series_and_page_show_the_registered_value(client, p):
    registered(p, total_amount=Decimal("25000000"), tech_amount=Decimal("1"))
    indicator = Indicator.objects.get(code="tech_contract_turnover")

    series = selectors.series(indicator, TODAY)
    assert series[-1].value == 0.25 and series[-1].on == TODAY and series[-1].source == "registry"

    client.force_login(p.carol)
    page = client.get(reverse("indicators:detail", args=["tech_contract_turnover"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "当年认定登记的技术合同成交额" in html and 'id="registry"' not in html
    )  # no breakdown by enterprise
    behind = client.get(reverse("indicators:drilldown", args=["tech_contract_turnover"]) + f"?on={TODAY}")
    assert behind.status_code == 302
    assert (
        behind["Location"] == reverse("recognitions:contract-list") + f"?year={TODAY.year}&state=registered"
    )


def test_the_dashboard_still_breaks_down_the_registry_indicators_only(client, p):
    client.force_login(p.carol)

    page = client.get(reverse("indicators:dashboard") + "?by=tech_contract_turnover")

    assert page.status_code == 200
    codes = [i.code for i in page.context["computed_indicators"]]
    assert "tech_contract_turnover" not in codes and "hitech_transfer_projects" not in codes


def test_an_officer_has_the_recognitions_permissions_after_migrate():
    """The groups were synced after the last app's migration (kechuang/core/apps.py), ours included: no
    roles_sync() here (the personas fixture would call it)."""
    group = Group.objects.get(name=roles.OFFICER.name)
    held = {
        f"{app}.{code}" for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }

    assert set(roles.RECOGNITIONS_OFFICER) <= held
    assert {"recognitions.register_techcontract", "recognitions.decide_transformationproject"} <= held
    expert = {
        f"{app}.{code}"
        for app, code in Group.objects.get(name=roles.EXPERT.name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert set(roles.RECOGNITIONS_EXPERT) <= expert


def test_each_role_holds_what_it_may_do(p):
    assert p.carol.has_perm("recognitions.register_techcontract")
    assert not p.alice.has_perm("recognitions.register_techcontract")
    assert p.alice.has_perm("recognitions.add_transformationproject")
    assert p.eve.has_perm("recognitions.submit_transformationreview")
    assert p.leo.has_perm("recognitions.view_techcontract") and not p.leo.has_perm(
        "recognitions.add_techcontract"
    )
    assert not p.bob.has_perm("recognitions.view_techcontract")
