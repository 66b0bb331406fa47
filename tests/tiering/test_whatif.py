"""假设分析: a parameter changed over a finished run's stored situations (officers), and an enterprise's
own figures changed (its 梯度评估 page). Exact results on small constructed registries; nothing saved."""

from decimal import Decimal

import polars as pl
import pytest
from django.urls import reverse
from django.utils import timezone

from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset
from kechuang.rules import inputs
from kechuang.tiering import views_review, whatif
from kechuang.tiering.models import (
    AssessedSituation,
    Assessment,
    AssessmentRun,
    ParameterRevision,
    ParameterSnapshot,
)
from kechuang.tiering.services import run_now, situation_from_snapshot
from tests.tiering.conftest import ON, enterprise

pytestmark = pytest.mark.django_db

WHAT_IF = "/tiering/what-if/"
STAFF = "hnte.tech_staff_ratio_min"

# The base enterprise of kechuang/rules/cases/hnte_conditions.yaml, as a run stores it: it meets every
# HNTE condition on ON (科技人员 24 / 职工 120 = 20%).
MEETS_HNTE = {
    "registration_date": "2018-03-01",
    "sales_revenue_lag1": 80000000.0,
    "sales_revenue_lag2": 60000000.0,
    "sales_revenue_lag3": 40000000.0,
    "rd_expense_hnte_lag1": 4000000.0,
    "rd_expense_hnte_lag2": 3000000.0,
    "rd_expense_hnte_lag3": 2000000.0,
    "rd_expense_hnte_domestic_lag1": 3200000.0,
    "rd_expense_hnte_domestic_lag2": 2400000.0,
    "rd_expense_hnte_domestic_lag3": 1600000.0,
    "net_assets_lag1": 30000000.0,
    "net_assets_lag2": 20000000.0,
    "net_assets_lag3": 15000000.0,
    "employees_lag1": 120.0,
    "tech_staff_lag1": 24.0,
    "hitech_revenue_lag1": 60000000.0,
    "total_income_lag1": 80000000.0,
    "ip_class_i_count": 1,
    "ip_class_ii_count": 3,
    "ip_class_ii_unused_count": 3,
    "ip_has_own_rd": True,
    "standards_participation": True,
    "conversions_lag1": 5,
    "conversions_lag2": 5,
    "conversions_lag3": 5,
    "expert_ip_advancement": 6,
    "expert_ip_core_support": 6,
    "expert_rd_management": 14,
    "hitech_field_ok": True,
    "no_major_incident": True,
    "hnte_valid": False,
}


def store(run, ent, **changes):
    situation = {**MEETS_HNTE, **changes}
    AssessedSituation.objects.filter(run=run, enterprise=ent).update(
        inputs={k: v for k, v in situation.items() if v is not None}
    )


@pytest.fixture
def population(personas):
    """X meets HNTE (20%); Y (park A) and Z (park B) miss only H4 (8.75%); W misses H4 and its field is
    unknown. X, Y, W are in park A (bob's); Z in park B."""
    p = personas
    p.x = p.ent_a
    p.y = enterprise(11, park=p.park_a)
    p.z = p.ent_b
    p.w = enterprise(12, park=p.park_a)
    p.run = run_now(on=ON)
    store(p.run, p.x)
    store(p.run, p.y, tech_staff_lag1=10.5)
    store(p.run, p.z, tech_staff_lag1=10.5)
    store(p.run, p.w, tech_staff_lag1=10.5, hitech_field_ok=None)
    return p


def what_if(client, user, **params):
    client.force_login(user)
    return client.get(WHAT_IF, params)


def hnte(response):
    return next(a for a in response.context["result"].areas if a.area == "hnte")


def counts():
    return [
        model.objects.count()
        for model in (Assessment, AssessedSituation, AssessmentRun, ParameterRevision, ParameterSnapshot)
    ]


# --- officers: a parameter over the latest run ----------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_log_in(client, population):
    response = client.get(WHAT_IF)
    assert response.status_code == 302 and "next=" in response["Location"]


@pytest.mark.parametrize("persona", ["alice", "uma", "eve"])
def test_users_without_the_assessment_permission_are_refused(client, population, persona):
    assert what_if(client, getattr(population, persona), parameter=STAFF, value="8").status_code == 403


def test_lowering_a_threshold_shows_who_would_gain_the_qualification(client, population):
    p = population
    before = counts()
    response = what_if(client, p.carol, parameter=STAFF, value="8")
    assert response.status_code == 200
    area = hnte(response)
    assert area.gained == sorted([p.y.pk, p.z.pk]) and area.lost == []
    assert area.other == 1  # W: not met → unknown (its field is still unknown)
    assert (area.met_before, area.met_after) == (1, 3)
    result = response.context["result"]
    assert (result.old_text, result.new_text, result.enterprises) == ("10%", "8%", 4)
    page = response.content.decode()
    assert "科技人员占职工总数比例：10% → 8%" in page
    gained = page[page.index('id="hnte_gained"') :]
    assert f'<a href="/tiering/enterprises/{p.y.pk}/">{p.y.name}</a>' in gained
    assert f'<a href="/tiering/enterprises/{p.z.pk}/">{p.z.name}</a>' in gained
    assert 'id="hnte_lost"' not in page
    assert counts() == before  # nothing saved


def test_raising_a_threshold_shows_who_would_lose_it(client, population):
    response = what_if(client, population.carol, parameter=STAFF, value="25")
    area = hnte(response)
    assert area.lost == [population.x.pk] and area.gained == [] and area.other == 0
    assert 'id="hnte_lost"' in response.content.decode()


def test_a_park_operator_sees_only_its_parks_enterprises(client, population):
    p = population
    response = what_if(client, p.bob, parameter=STAFF, value="8")
    assert hnte(response).gained == [p.y.pk] and hnte(response).other == 1
    assert response.context["result"].enterprises == 3  # X, Y, W


def test_a_leader_sees_the_whole_registry(client, population):
    assert hnte(what_if(client, population.leo, parameter=STAFF, value="8")).gained == sorted(
        [population.y.pk, population.z.pk]
    )


def test_the_run_s_own_parameters_are_the_baseline_not_todays(client, population):
    ParameterRevision.objects.create(path=STAFF, effective_from=ON.replace(2016, 1, 1), value=0.05, note="x")
    response = what_if(client, population.carol, parameter=STAFF, value="8")
    assert response.context["result"].old_text == "10%"
    assert hnte(response).gained == sorted([population.y.pk, population.z.pk])


def test_the_same_value_changes_nothing(client, population):
    response = what_if(client, population.carol, parameter=STAFF, value="10")
    assert response.context["result"].affected == []
    page = response.content.decode()
    assert views_review.SAME_VALUE in page and "调整后没有企业的资质结果发生变化" in page


def test_the_lists_are_paged(client, population, monkeypatch):
    monkeypatch.setattr(views_review, "LIST_PAGE_SIZE", 1)
    p = population
    first = what_if(client, p.carol, parameter=STAFF, value="8")
    listing = next(item for item in first.context["lists"] if item.key == "hnte_gained")
    first_one = min((p.y, p.z), key=lambda e: e.pk)
    assert listing.items == [(first_one.pk, first_one.name)]
    assert listing.next_url.endswith("hnte_gained=2#hnte_gained")
    second = client.get(WHAT_IF + listing.next_url)
    listing = next(item for item in second.context["lists"] if item.key == "hnte_gained")
    assert [pk for pk, _ in listing.items] == [max(p.y.pk, p.z.pk)]


def test_the_parameters_offered_are_the_single_numbers_in_force_on_the_run_date(client, population):
    client.force_login(population.carol)
    response = client.get(WHAT_IF)
    choices = dict(response.context["form"].fields["parameter"].choices)
    assert STAFF in choices and "hnte.registration_min_days" in choices and "tech_sme.sales_max" in choices
    assert "hnte.rd_ratio_bands" not in choices and "hnte.growth_nonpositive_value_rule" not in choices
    assert choices[STAFF] == "高新技术企业 · 科技人员占职工总数比例（现为 10%，按 % 填写）"
    assert response.context["result"] is None


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"parameter": STAFF, "value": "abc"},
            "value",
            "科技人员占职工总数比例（hnte.tech_staff_ratio_min，2016-01-01 起）：“abc”不是数字；请填写百分数（如 10 表示 10%）",
        ),
        (
            {"parameter": STAFF, "value": "150"},
            "value",
            "科技人员占职工总数比例（hnte.tech_staff_ratio_min，2016-01-01 起）：比例须为 0 到 100 之间的百分数"
            "（如 10 表示 10%），而不是 150%",
        ),
        (
            {"parameter": "hnte.registration_min_days", "value": "-3"},
            "value",
            "注册成立时间（hnte.registration_min_days，2016-01-01 起）：取值不能为负数，须为不小于 0 的数（单位 日），而不是 -3",
        ),
        ({"parameter": STAFF, "value": ""}, "value", views_review.VALUE_REQUIRED),
        ({"parameter": "", "value": "8"}, "parameter", views_review.NO_PARAMETER),
        (
            {"parameter": "hnte.rd_ratio_bands", "value": "8"},
            "parameter",
            "“hnte.rd_ratio_bands”不是可作假设分析的参数",
        ),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message(client, population, params, field, message):
    before = counts()
    response = what_if(client, population.carol, **params)
    assert response.status_code == 200 and response.context["result"] is None
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    assert counts() == before


def test_without_a_finished_run_it_says_so(client, personas):
    response = what_if(client, personas.carol, parameter=STAFF, value="8")
    assert response.status_code == 200 and views_review.NO_RUN in response.content.decode()


def test_the_frame_read_in_one_pass_equals_the_situations_replayed_one_by_one(population):
    run = population.run
    store(run, population.w, registration_date="2020-02-29", rd_institution_level="national")
    fast = whatif.run_frame(run=run)
    situations = AssessedSituation.objects.filter(run=run).order_by("enterprise_id")
    slow = inputs.situation_frame([situation_from_snapshot(s.inputs, s.enterprise_id) for s in situations])
    assert fast.equals(slow)
    assert fast.schema == pl.Schema(inputs.SCHEMA)
    scoped = whatif.run_frame(run=run, enterprises=Enterprise.objects.filter(pk=population.y.pk))
    assert scoped["enterprise_id"].to_list() == [str(population.y.pk)]
    assert whatif.run_frame(run=run, enterprises=Enterprise.objects.none()).height == 0


# --- one enterprise: its own figures ----------------------------------------------------------------------------


def ent_url(ent):
    return reverse("tiering:enterprise-what-if", args=[ent.pk])


@pytest.fixture
def figures(personas):
    """Enterprise A with last year's figures (科技人员 10.5 / 职工 120 = 8.75%) and one invention patent."""
    last = timezone.localdate().year - 1
    EnterpriseYear.objects.create(
        enterprise=personas.ent_a,
        year=last,
        employees=Decimal("120"),
        tech_staff=Decimal("10.5"),
        sales_revenue=Decimal("80000000"),
        hitech_revenue=Decimal("60000000"),
        total_income=Decimal("80000000"),
    )
    IPAsset.objects.create(enterprise=personas.ent_a, ip_type="invention", number="ZL1", title="装置")
    personas.last = last
    return personas


def test_the_url_and_the_link_from_the_assessment_page(client, figures):
    assert ent_url(figures.ent_a) == f"/tiering/enterprises/{figures.ent_a.pk}/what-if/"
    client.force_login(figures.alice)
    page = client.get(reverse("tiering:enterprise-assessment", args=[figures.ent_a.pk])).content.decode()
    assert f'href="{ent_url(figures.ent_a)}"' in page


@pytest.mark.parametrize(
    ("persona", "a", "b"),
    [("alice", 200, 404), ("bob", 200, 404), ("carol", 200, 200), ("leo", 200, 200), ("uma", 404, 404)],
)
def test_scope_is_that_of_the_assessment_page(client, figures, persona, a, b):
    client.force_login(getattr(figures, persona))
    assert client.get(ent_url(figures.ent_a)).status_code == a
    assert client.get(ent_url(figures.ent_b)).status_code == b


def test_an_anonymous_visitor_is_sent_to_log_in_from_the_enterprise_what_if(client, figures):
    assert client.get(ent_url(figures.ent_a)).status_code == 302


def test_the_form_is_filled_with_the_registry_s_figures_in_wan_people_and_items(client, figures):
    client.force_login(figures.alice)
    response = client.get(ent_url(figures.ent_a))
    rows = {row["field"].column: row for row in response.context["rows"]}
    assert (
        rows["sales_revenue_lag1"]["typed"] == "8000" and rows["sales_revenue_lag1"]["field"].unit == "万元"
    )
    assert rows["tech_staff_lag1"]["typed"] == "10.5" and rows["tech_staff_lag1"]["current"] == "10.5人"
    assert rows["ip_class_i_count"]["typed"] == "1" and rows["ip_class_i_count"]["field"].unit == "件"
    assert rows["rd_expense_hnte_lag1"]["typed"] == "" and rows["rd_expense_hnte_lag1"]["current"] == "未登记"
    assert rows["employees_lag1"]["field"].label == f"职工总数（{figures.last}年）"
    assert response.context["result"] is None


def submitted(figures, **changes):
    """The form as the page fills it, with `changes`."""
    data = {
        "employees_lag1": "120",
        "tech_staff_lag1": "10.5",
        "sales_revenue_lag1": "8000",
        "hitech_revenue_lag1": "6000",
        "total_income_lag1": "8000",
        "ip_class_i_count": "1",
        "ip_class_ii_count": "0",
        "ip_class_ii_unused_count": "0",
        "ip_class_i_own_rd_count": "1",
        "ip_class_ii_mature_count": "0",
    }
    data.update(changes)
    return data


def test_more_tech_staff_would_meet_the_staff_condition(client, figures):
    client.force_login(figures.alice)
    before = [EnterpriseYear.objects.count(), IPAsset.objects.count(), *counts()]
    response = client.get(ent_url(figures.ent_a), submitted(figures, tech_staff_lag1="24"))
    assert response.status_code == 200
    result = response.context["result"]
    hnte = next(a for a in result.areas if a.area == "hnte")
    h4 = next(item for item in hnte.items if item.code == "hnte.H4")
    assert (h4.was.status, h4.now.status) == ("not_met", "met")
    assert "科技人员占比 8.75%" in h4.was.value and "科技人员占比 20%" in h4.now.value
    assert [item.code for item in hnte.items if item.kind == "condition"] == ["hnte.H4"]
    assert any("科技人员占职工总数比例" in gap for gap in hnte.gaps_closed)
    assert not any("科技人员" in gap for gap in hnte.now.gaps)
    assert [(c.label, c.was, c.now) for c in result.changed_inputs] == [
        (f"科技人员数（{figures.last}年）", "10.5人", "24人")
    ]
    page = response.content.decode()
    assert f"科技人员数（{figures.last}年）：10.5人 → <strong>24人</strong>" in page
    assert '#would-be tr[data-code="hnte.H4"] td' in page  # highlighted in the full results below
    assert 'id="would-be"' in page and 'data-code="hnte.H4"' in page
    assert [EnterpriseYear.objects.count(), IPAsset.objects.count(), *counts()] == before
    assert EnterpriseYear.objects.get(enterprise=figures.ent_a).tech_staff == Decimal("10.5")


def test_an_officer_may_try_any_enterprise(client, figures):
    client.force_login(figures.carol)
    response = client.get(ent_url(figures.ent_a), submitted(figures, tech_staff_lag1="24"))
    assert response.context["result"] is not None


def test_unchanged_figures_change_nothing(client, figures):
    client.force_login(figures.alice)
    result = client.get(ent_url(figures.ent_a), submitted(figures)).context["result"]
    assert result.changed_inputs == []
    assert not any(area.changed for area in result.areas)


def test_an_own_rd_class_i_item_counts_as_own_rd(figures):
    on = timezone.localdate()
    situation = whatif.current_situation(enterprise=figures.ent_a, on=on)
    fields = whatif.input_fields(on)
    result = whatif.enterprise_what_if(
        situation={**situation, "ip_has_own_rd": False},
        on=on,
        values={"ip_class_i_own_rd_count": 1},
        fields=fields,
    )
    acquisition = next(
        item
        for area in result.areas
        if area.area == "hnte"
        for item in area.items
        if "ip_acquisition" in item.code
    )
    assert "仅有受让" in acquisition.was.value and "有自主研发" in acquisition.now.value


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"employees_lag1": "很多"}, "employees_lag1", "“很多”不是数字"),
        ({"employees_lag1": "-1"}, "employees_lag1", "职工总数不能为负数（填写值 -1.0人）"),
        ({"sales_revenue_lag1": "-5"}, "sales_revenue_lag1", "销售收入不能为负数（填写值 -5万元）"),
        ({"tech_staff_lag1": "130"}, "tech_staff_lag1", "科技人员数（130.0）不能多于职工总数（120.0）"),
        ({"ip_class_i_count": "1.5"}, "ip_class_i_count", "须为不小于 0 的整数件数，而不是“1.5”"),
        ({"ip_class_i_count": "-1"}, "ip_class_i_count", "须为不小于 0 的整数件数，而不是“-1”"),
        (
            {"ip_class_ii_count": "2", "ip_class_ii_unused_count": "3"},
            "ip_class_ii_unused_count",
            "尚未用于高企申报的有效Ⅱ类知识产权数（3）不能多于有效Ⅱ类知识产权数（2）",
        ),
    ],
)
def test_bad_figures_are_refused_with_chinese_messages(client, figures, changes, column, message):
    client.force_login(figures.alice)
    response = client.get(ent_url(figures.ent_a), submitted(figures, **changes))
    assert response.status_code == 200 and response.context["result"] is None
    row = next(row for row in response.context["rows"] if row["field"].column == column)
    assert row["error"] == message
    assert message in response.content.decode()
    assert row["typed"] == changes[column]  # what was typed stays in the form


def test_a_negative_net_asset_figure_is_allowed(client, figures):
    client.force_login(figures.alice)
    response = client.get(ent_url(figures.ent_a), submitted(figures, net_assets_lag1="-100"))
    assert response.context["result"] is not None
