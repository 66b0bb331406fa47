"""The 梯度评估 page of one enterprise, through the HTTP client, as each persona."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kechuang import rules
from kechuang.enterprises.models import EnterpriseYear
from kechuang.tiering.models import AssessedSituation, Assessment
from kechuang.tiering.services import replay, run_now

pytestmark = pytest.mark.django_db


def url(ent):
    return reverse("tiering:enterprise-assessment", args=[ent.pk])


def test_the_url_is_the_one_the_enterprise_page_links_to(client, personas):
    assert url(personas.ent_a) == f"/tiering/enterprises/{personas.ent_a.pk}/"
    client.force_login(personas.alice)
    page = client.get(reverse("enterprises:detail", args=[personas.ent_a.pk])).content.decode()
    assert f'href="/tiering/enterprises/{personas.ent_a.pk}/">梯度评估</a>' in page


def test_an_enterprise_user_sees_its_own_assessment_with_every_area(client, personas):
    client.force_login(personas.alice)
    response = client.get(url(personas.ent_a))
    assert response.status_code == 200
    assert [r.area for r in response.context["areas"]] == list(rules.QUALIFICATIONS)  # ladder order
    assert {"hnte", "tech_sme"} <= set(rules.QUALIFICATIONS)
    page = response.content.decode()
    assert "高新技术企业" in page and "科技型中小企业" in page
    assert 'data-code="hnte.H4"' in page and 'data-code="tech_sme.T5"' in page


def test_an_enterprise_user_cannot_see_another_enterprises_assessment(client, personas):
    client.force_login(personas.alice)
    assert client.get(url(personas.ent_b)).status_code == 404


def test_a_park_operator_sees_only_its_parks_enterprises(client, personas):
    client.force_login(personas.bob)
    assert client.get(url(personas.ent_a)).status_code == 200
    assert client.get(url(personas.ent_b)).status_code == 404


def test_an_officer_sees_every_enterprise(client, personas):
    client.force_login(personas.carol)
    assert client.get(url(personas.ent_b)).status_code == 200


@pytest.mark.parametrize("persona", ["uma", "eve"])
def test_a_university_or_expert_user_is_refused(client, personas, persona):
    client.force_login(getattr(personas, persona))
    assert client.get(url(personas.ent_a)).status_code in (403, 404)


def test_an_anonymous_visitor_is_sent_to_log_in(client, personas):
    response = client.get(url(personas.ent_a))
    assert response.status_code == 302 and "next=" in response["Location"]


def test_it_shows_the_status_value_threshold_source_and_gap_of_an_unmet_condition(client, personas):
    last_year = timezone.localdate().year - 1
    EnterpriseYear.objects.create(
        enterprise=personas.ent_a, year=last_year, employees=Decimal("120"), tech_staff=Decimal("10.5")
    )
    client.force_login(personas.alice)
    page = client.get(url(personas.ent_a)).content.decode()
    row = page[page.index('data-code="hnte.H4"') :]
    row = row[: row.index("</tr>")]
    assert '<span class="tag bad">不满足</span>' in row
    assert "科技人员占比 8.75%" in row and "≥10%" in row
    assert "按现有职工 120 人计还需增加科技人员约 2 人" in row
    assert "国科发火〔2016〕32号 第十一条(四)" in row


def test_it_marks_unknown_conditions_as_pending_and_unconfirmed_parameters(client, personas):
    client.force_login(personas.alice)
    page = client.get(url(personas.ent_a)).content.decode()
    h3 = page[page.index('data-code="hnte.H3"') :]
    assert '<span class="tag warn">待定</span>' in h3[: h3.index("</tr>")]
    t2 = page[page.index('data-code="tech_sme.T2"') :]
    assert "待核实" in t2[: t2.index("</tr>")]


def test_the_page_agrees_with_the_stored_batch_assessment(client, personas):
    last_year = timezone.localdate().year - 1
    EnterpriseYear.objects.create(
        enterprise=personas.ent_a, year=last_year, employees=Decimal("120"), tech_staff=Decimal("10.5")
    )
    run = run_now(on=timezone.localdate())
    client.force_login(personas.alice)
    areas = client.get(url(personas.ent_a)).context["areas"]
    report = replay(run=run, situations=[AssessedSituation.objects.get(run=run, enterprise=personas.ent_a)])
    for result in areas:
        stored = Assessment.objects.get(run=run, enterprise=personas.ent_a, area=result.area)
        assert (result.status, result.score_min, result.score_max) == (
            stored.status,
            stored.score_min,
            stored.score_max,
        )
        assert [c.text for c in result.conditions] == [
            e.text for e in report[personas.ent_a.pk].explanations[result.area] if e.kind == "condition"
        ]
    assert next(r for r in areas if r.area == "hnte").status == "not_met"
