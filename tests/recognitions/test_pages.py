"""The 认定登记 pages through the HTTP client: who sees which lists and objects (an enterprise only its own), the
forms with their Chinese errors and nothing changed, registration and payments from the contract page, the 履约
page, the .xlsx export (formula injection escaped), the project page with its conditions and the unconfirmed
validity, the expert's review inbox (conflicts hidden); pinned query counts on the lists."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from kechuang.projects.models import ConflictKind, ExpertConflict
from kechuang.recognitions import contracts, transformation
from kechuang.recognitions.models import PaymentMilestone, TechContract, TransformationProject
from tests.recognitions.conftest import (
    PROJECT,
    TODAY,
    expert,
    ip,
    make_contract,
    make_project,
    recommended,
    registered,
)

pytestmark = pytest.mark.django_db


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def post(client, user, url, data):
    client.force_login(user)
    return client.post(url, data)


def contract_form(seller, **overrides) -> dict:
    data = {
        "contract_no": "HT-WEB-1",
        "name": "视觉检测技术开发",
        "contract_type": "development",
        "sub_type": "entrusted",
        "seller_name": seller.name,
        "seller_uscc": seller.uscc,
        "seller_region": "310117",
        "buyer_name": "上海乙方有限公司",
        "buyer_uscc": "",
        "buyer_region": "310115",
        "buyer_country": "CHN",
        "signed_on": (TODAY - dt.timedelta(days=10)).isoformat(),
        "valid_from": (TODAY - dt.timedelta(days=10)).isoformat(),
        "valid_to": (TODAY + dt.timedelta(days=200)).isoformat(),
        "total_amount": "120",  # 万元
        "tech_amount": "100",
        "payment_mode": "instalments",
    }
    data.update(overrides)
    return data


# —— who sees what ——


def test_an_officer_and_the_leader_see_every_contract(client, p):
    a, b = make_contract(p, p.ent_a), make_contract(p, p.ent_b)

    for user in (p.carol, p.leo):
        page = get(client, user, reverse("recognitions:contract-list"))
        assert page.status_code == 200
        assert {c.pk for c in page.context["page"].object_list} == {a.pk, b.pk}


def test_an_enterprise_sees_only_its_own_contracts_and_projects(client, p):
    own, other = make_contract(p, p.ent_a), make_contract(p, p.ent_b)
    mine = make_project(p)
    theirs = make_project(p, p.ent_b, ips=[ip(p.ent_b)], user=p.carol)

    page = get(client, p.alice, reverse("recognitions:contract-list"))
    assert [c.pk for c in page.context["page"].object_list] == [own.pk]
    assert get(client, p.alice, reverse("recognitions:contract-detail", args=[own.pk])).status_code == 200
    assert get(client, p.alice, reverse("recognitions:contract-detail", args=[other.pk])).status_code == 404
    projects = get(client, p.alice, reverse("recognitions:project-list"))
    assert [x.pk for x in projects.context["page"].object_list] == [mine.pk]
    assert get(client, p.alice, reverse("recognitions:project-detail", args=[theirs.pk])).status_code == 404


@pytest.mark.parametrize("who", ["bob", "uma", "eve"])
def test_roles_without_the_view_permission_are_forbidden(client, p, who):
    assert get(client, getattr(p, who), reverse("recognitions:contract-list")).status_code == 403
    assert get(client, getattr(p, who), reverse("recognitions:project-list")).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, p):
    response = client.get(reverse("recognitions:contract-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# —— the contract list ——


def test_the_list_searches_filters_and_sorts(client, p):
    big = registered(p, name="大额合同", total_amount=Decimal("9000000"), tech_amount=Decimal("1"))
    small = registered(p, name="小额合同", total_amount=Decimal("100000"), tech_amount=Decimal("1"))
    licence = make_contract(p, name="许可合同", contract_type="licence", sub_type="patent_licence")
    url = reverse("recognitions:contract-list")

    def shown(**params):
        return [c.pk for c in get(client, p.carol, url, **params).context["page"].object_list]

    assert shown(q="大额") == [big.pk]
    assert shown(q=big.registration_no) == [big.pk]
    assert shown(type="licence") == [licence.pk]
    assert shown(state="registered", sort="-total") == [big.pk, small.pk]
    assert shown(state="registered", sort="total") == [small.pk, big.pk]
    assert shown(year=str(TODAY.year), sort="registered") == [big.pk, small.pk]
    assert set(shown(state="nonsense")) == {big.pk, small.pk, licence.pk}  # an unknown value is ignored


def test_the_list_shows_amounts_in_wan_and_the_year_s_totals(client, p):
    registered(p, total_amount=Decimal("12345678.90"), tech_amount=Decimal("1"))

    html = get(client, p.carol, reverse("recognitions:contract-list")).content.decode()

    assert "1,234.57" in html  # 万元
    assert f"{TODAY.year} 年已登记 <strong>1</strong> 项，成交额 <strong>1,234.57</strong> 万元" in html


def test_the_list_s_queries_do_not_grow_with_its_rows(client, p):
    url = reverse("recognitions:contract-list")
    client.force_login(p.carol)
    client.get(url)
    registered(p)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for _ in range(15):
        registered(p)
    assert count() == before
    assert before <= 20


def test_the_export_lists_registered_contracts_with_formulas_escaped(client, p):
    registered(p, name='=HYPERLINK("http://evil","点此")', buyer_name="+SUM(A1:A9)")
    make_contract(p, name="等待登记的合同")

    response = get(client, p.carol, reverse("recognitions:contract-export"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content))["已登记技术合同"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "合同登记编号" and len(rows) == 2
    assert rows[1][3] == '\'=HYPERLINK("http://evil","点此")'
    assert rows[1][8] == "'+SUM(A1:A9)"
    assert rows[1][15] == 100.0  # 成交额 in 万元, a number


def test_an_enterprise_s_export_holds_only_its_own(client, p):
    registered(p, p.ent_a, name="甲的合同")
    registered(p, p.ent_b, name="乙的合同")

    response = get(client, p.alice, reverse("recognitions:contract-export"))

    names = [
        r[3]
        for r in load_workbook(io.BytesIO(response.content))["已登记技术合同"].iter_rows(
            min_row=2, values_only=True
        )
    ]
    assert names == ["甲的合同"]


# —— applying and registering on the pages ——


def test_an_enterprise_applies_for_its_own_contract(client, p):
    response = post(client, p.alice, reverse("recognitions:contract-create"), contract_form(p.ent_b))

    contract = TechContract.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "recognitions:contract-detail", args=[contract.pk]
    )
    assert (contract.seller_uscc, contract.total_amount, contract.tech_amount) == (
        p.ent_a.uscc,
        Decimal("1200000.00"),
        Decimal("1000000.00"),
    )


def test_a_duplicate_on_the_page_is_refused_in_chinese_and_nothing_changes(client, p):
    first = registered(p, contract_no="HT-WEB-1")

    response = post(client, p.carol, reverse("recognitions:contract-create"), contract_form(p.ent_a))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"合同登记编号 {first.registration_no}" in html and "不能重复登记" in html
    assert TechContract.objects.count() == 1


def test_a_technology_amount_above_the_total_is_refused_on_the_page(client, p):
    response = post(
        client,
        p.carol,
        reverse("recognitions:contract-create"),
        contract_form(p.ent_a, tech_amount="120.000001"),
    )

    assert "超过成交额 120.00 万元（1,200,000.00 元）" in response.content.decode()
    assert not TechContract.objects.exists()


def test_registering_and_recording_a_payment_on_the_contract_page(client, p):
    contract = make_contract(p)
    url = reverse("recognitions:contract-detail", args=[contract.pk])
    page = get(client, p.carol, url).content.decode()
    assert 'id="register-form"' in page

    response = post(
        client,
        p.carol,
        reverse("recognitions:contract-register", args=[contract.pk]),
        {"registration_no": "", "registered_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.registration_no == f"{TODAY.year}310117000001"

    plan = {
        "plan-TOTAL_FORMS": "2",
        "plan-INITIAL_FORMS": "0",
        "plan-MIN_NUM_FORMS": "1",
        "plan-MAX_NUM_FORMS": "36",
        "plan-0-due_date": (TODAY - dt.timedelta(days=3)).isoformat(),
        "plan-0-amount": "40",
        "plan-1-due_date": (TODAY + dt.timedelta(days=60)).isoformat(),
        "plan-1-amount": "50",
        "note": "",
    }
    refused = post(client, p.carol, reverse("recognitions:payment-plan", args=[contract.pk]), plan)
    assert "各期计划金额合计 90.00 万元" in refused.content.decode() and not PaymentMilestone.objects.exists()
    plan["plan-1-amount"] = "60"
    assert (
        post(client, p.carol, reverse("recognitions:payment-plan", args=[contract.pk]), plan).status_code
        == 302
    )
    first = PaymentMilestone.objects.get(contract=contract, number=1)
    overdue = get(client, p.carol, url).content.decode()
    assert "逾期 3 天" in overdue

    paid = post(
        client,
        p.carol,
        reverse("recognitions:payment-add", args=[first.pk]),
        {"amount": "40", "paid_on": TODAY.isoformat()},
    )
    assert paid.status_code == 302
    assert PaymentMilestone.objects.get(pk=first.pk).paid_amount == Decimal("400000.00")
    assert "已付清" in get(client, p.carol, url).content.decode()


def test_the_enterprise_cannot_register_or_record_payments(client, p):
    contract = make_contract(p)

    page = get(client, p.alice, reverse("recognitions:contract-detail", args=[contract.pk])).content.decode()
    assert 'id="register-form"' not in page
    response = post(
        client,
        p.alice,
        reverse("recognitions:contract-register", args=[contract.pk]),
        {"registered_on": TODAY.isoformat()},
    )
    assert response.status_code == 403
    assert TechContract.objects.get(pk=contract.pk).state == "submitted"


def test_the_performance_page_lists_contracts_behind_schedule(client, p):
    late = registered(p, name="逾期合同")
    contracts.payment_plan_set(
        late, [{"due_date": TODAY - dt.timedelta(days=7), "amount": "1000000"}], user=p.carol
    )
    fine = registered(p, name="按期合同")
    contracts.payment_plan_set(fine, [{"due_date": TODAY, "amount": "1000000"}], user=p.carol)

    page = get(client, p.carol, reverse("recognitions:performance"))

    assert [c.pk for c in page.context["page"].object_list] == [late.pk]
    assert "逾期 7 天" in page.content.decode()


# —— projects ——


def test_the_project_page_explains_the_conditions_and_marks_the_validity_unconfirmed(client, p):
    project = make_project(p, ips=[ip(p.ent_a, "utility_model", grant_date=TODAY - dt.timedelta(days=800))])

    html = get(client, p.alice, reverse("recognitions:project-detail", args=[project.pk])).content.decode()

    assert "沪科规〔2020〕8号 第六条第（二）项" in html
    assert "超过 2 年时限" in html
    assert "高转项目认定证书有效期：默认 3 年（待核实" in html
    assert 'id="submit-refusal"' in html  # the condition not met is why it cannot be submitted


def test_an_enterprise_applies_on_the_form_and_submits(client, p):
    asset = ip(p.ent_a)
    data = {
        **{k: v for k, v in PROJECT.items() if not isinstance(v, bool)},
        "first_transformed_on": PROJECT["first_transformed_on"].isoformat(),
        "enterprise": p.ent_a.pk,
        "core_ip": [asset.pk],
        "no_infringement": "on",
        "no_accident": "on",
        "not_dishonest": "on",
    }

    response = post(client, p.alice, reverse("recognitions:project-create"), data)

    project = TransformationProject.objects.get()
    assert response.status_code == 302 and list(project.core_ip.all()) == [asset]
    submitted = post(client, p.alice, reverse("recognitions:project-step", args=[project.pk, "submit"]), {})
    assert submitted.status_code == 302
    assert TransformationProject.objects.get(pk=project.pk).state == "submitted"


def test_an_officer_cannot_apply_for_an_enterprise(client, p):
    assert get(client, p.carol, reverse("recognitions:project-create")).status_code == 403


def test_a_conflicted_expert_is_not_offered_and_is_refused_on_the_page(client, p):
    project = recommended(p)
    insider = expert("张工", organisation="上海甲科技有限公司")
    free = expert("李教授")

    page = get(client, p.carol, reverse("recognitions:project-detail", args=[project.pk]))
    choices = [c[0] for c in page.context["assign_form"].fields["expert"].choices]
    assert free.pk in choices and insider.pk not in choices
    assert "回避：张工（工作单位“上海甲科技有限公司”即申报单位“上海甲科技有限公司”）" in page.content.decode()

    refused = post(
        client, p.carol, reverse("recognitions:review-assign", args=[project.pk]), {"expert": insider.pk}
    )
    assert "存在回避关系" in refused.content.decode()
    assert not project.reviews.exists()


def test_the_expert_s_inbox_hides_a_project_it_has_a_conflict_with(client, p):
    e = expert("王研究员", user=p.eve)
    shown = recommended(p)
    item = transformation.review_assign(shown, e, user=p.carol)
    hidden = recommended(p, name="另一个项目")
    hidden_item = transformation.review_assign(hidden, e, user=p.carol)
    ExpertConflict.objects.create(expert=e, enterprise=p.ent_a, kind=ConflictKind.DECLARED)

    inbox = get(client, p.eve, reverse("recognitions:review-inbox"))

    assert inbox.context["reviews"] == [] and inbox.context["hidden"] == 2
    assert get(client, p.eve, reverse("recognitions:review-detail", args=[hidden_item.pk])).status_code == 404
    ExpertConflict.objects.all().delete()
    assert {r.pk for r in get(client, p.eve, reverse("recognitions:review-inbox")).context["reviews"]} == {
        item.pk,
        hidden_item.pk,
    }
    response = post(
        client,
        p.eve,
        reverse("recognitions:review-submit", args=[item.pk]),
        {
            "score_technology": "25",
            "score_ip": "20",
            "score_transformation": "20",
            "score_benefit": "30",
            "opinion": "好",
            "recommend": "yes",
        },
    )
    assert "“市场前景与经济社会效益”的得分 30 超出允许范围 0–20" in response.content.decode()
    assert shown.reviews.get().state == "assigned"
