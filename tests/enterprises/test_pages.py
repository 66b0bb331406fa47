"""The registry pages through the HTTP client, as each persona."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset, Qualification

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def names(response):
    return [e.name for e in response.context["page"].object_list]


# ---- list: search, filters, sorting, paging -------------------------------------------------


def test_it_lists_every_enterprise_for_an_officer(client, personas):
    response = login(client, personas.carol).get(reverse("enterprises:list"))
    assert response.status_code == 200
    assert names(response) == ["上海乙生物有限公司", "上海甲科技有限公司"]


def test_it_searches_by_name_short_name_and_code(client, personas):
    c = login(client, personas.carol)
    assert names(c.get(reverse("enterprises:list"), {"q": "甲科"})) == ["上海甲科技有限公司"]
    assert names(c.get(reverse("enterprises:list"), {"q": "乙生物"})) == ["上海乙生物有限公司"]
    # Code prefix, typed in lower case and full width, still finds the enterprise.
    code = personas.ent_b.uscc
    assert names(c.get(reverse("enterprises:list"), {"q": code[:17].lower()})) == ["上海乙生物有限公司"]
    assert names(c.get(reverse("enterprises:list"), {"q": "不存在的企业"})) == []


def test_it_filters_by_park_including_sub_parks(client, personas):
    c = login(client, personas.carol)
    assert names(c.get(reverse("enterprises:list"), {"park": personas.park_a.pk})) == ["上海甲科技有限公司"]
    assert len(names(c.get(reverse("enterprises:list"), {"park": personas.zone.pk}))) == 2


def test_it_filters_by_industry_and_hitech_field(client, personas):
    c = login(client, personas.carol)
    assert names(c.get(reverse("enterprises:list"), {"industry": "C"})) == ["上海乙生物有限公司"]
    assert names(c.get(reverse("enterprises:list"), {"hitech_field": "01"})) == ["上海甲科技有限公司"]


def test_it_filters_by_qualification_validity(client, personas):
    today = timezone.localdate()
    # A: HNTE valid, expiring in 30 days. B: HNTE expired yesterday.
    Qualification.objects.create(enterprise=personas.ent_a, kind="hnte", issue_date=today - timedelta(days=1000), expiry_date=today + timedelta(days=30))
    Qualification.objects.create(enterprise=personas.ent_b, kind="hnte", issue_date=today - timedelta(days=1200), expiry_date=today - timedelta(days=1))
    c = login(client, personas.carol)
    url = reverse("enterprises:list")
    assert names(c.get(url, {"qualification": "hnte"})) == ["上海乙生物有限公司", "上海甲科技有限公司"]
    assert names(c.get(url, {"qualification": "hnte", "validity": "valid"})) == ["上海甲科技有限公司"]
    assert names(c.get(url, {"qualification": "hnte", "validity": "expiring"})) == ["上海甲科技有限公司"]
    assert names(c.get(url, {"qualification": "hnte", "validity": "expired"})) == ["上海乙生物有限公司"]
    assert names(c.get(url, {"qualification": "tech_sme"})) == []


def test_a_certificate_is_valid_through_its_last_day(client, personas):
    today = timezone.localdate()
    Qualification.objects.create(enterprise=personas.ent_a, kind="hnte", issue_date=today - timedelta(days=900), expiry_date=today)
    c = login(client, personas.carol)
    assert names(c.get(reverse("enterprises:list"), {"qualification": "hnte", "validity": "valid"})) == ["上海甲科技有限公司"]


def test_it_sorts_both_ways(client, personas):
    c = login(client, personas.carol)
    url = reverse("enterprises:list")
    assert names(c.get(url, {"sort": "registration_date"})) == ["上海乙生物有限公司", "上海甲科技有限公司"]
    assert names(c.get(url, {"sort": "-registration_date"})) == ["上海甲科技有限公司", "上海乙生物有限公司"]
    assert names(c.get(url, {"sort": "-park"}))[0] == "上海甲科技有限公司"  # 临港… sorts after G60… in the C collation


def test_it_pages_25_at_a_time(client, personas):
    Enterprise.objects.bulk_create(
        Enterprise(uscc=make_code(f"91310117MA1K{i:05d}"), name=f"上海分页测试{i:03d}有限公司") for i in range(60)
    )
    c = login(client, personas.carol)
    first = c.get(reverse("enterprises:list"))
    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].paginator.num_pages == 3
    last = c.get(reverse("enterprises:list"), {"page": 3})
    assert len(last.context["page"].object_list) == 62 - 50
    # A page beyond the end shows the last page rather than an error.
    assert c.get(reverse("enterprises:list"), {"page": 99}).context["page"].number == 3


def test_unknown_filter_values_are_ignored_not_errors(client, personas):
    response = login(client, personas.carol).get(reverse("enterprises:list"), {"industry": "ZZ", "sort": "drop table", "park": "x"})
    assert response.status_code == 200
    assert len(names(response)) == 2


def test_the_list_runs_a_fixed_number_of_queries(client, personas, django_assert_max_num_queries):
    Enterprise.objects.bulk_create(Enterprise(uscc=make_code(f"91310117MA1K{i:05d}"), name=f"企业{i}") for i in range(40))
    for e in Enterprise.objects.all()[:30]:
        Qualification.objects.create(enterprise=e, kind="tech_sme", issue_date=date(2025, 1, 1))
    c = login(client, personas.carol)
    with django_assert_max_num_queries(12):
        response = c.get(reverse("enterprises:list"))
    assert response.status_code == 200


def test_the_htmx_request_gets_only_the_table(client, personas):
    response = login(client, personas.carol).get(reverse("enterprises:list"), {"q": "甲"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'id="enterprise-table"' in body and "上海甲科技有限公司" in body


# ---- detail ---------------------------------------------------------------------------------


def test_the_detail_page_shows_years_in_wan_ip_class_and_days_to_expiry(client, personas):
    EnterpriseYear.objects.create(enterprise=personas.ent_a, year=2024, sales_revenue=Decimal("12345600.00"), employees=Decimal("80"))
    IPAsset.objects.create(enterprise=personas.ent_a, ip_type="software", number="2024SR000001", title="平台软件", hnte_used_year=2024)
    Qualification.objects.create(
        enterprise=personas.ent_a, kind="hnte", issue_date=timezone.localdate() - timedelta(days=100),
        expiry_date=timezone.localdate() + timedelta(days=45),
    )
    response = login(client, personas.carol).get(reverse("enterprises:detail", args=[personas.ent_a.pk]))
    body = response.content.decode()
    assert "1,234.56" in body  # 12,345,600 yuan shown as 万元
    assert "Ⅱ类" in body and "2024年已用" in body
    assert "45 天后到期" in body
    assert 'id="trend-chart"' in body and "echarts.min.js" in body


def test_missing_figures_show_as_not_reported_not_zero(client, personas):
    EnterpriseYear.objects.create(enterprise=personas.ent_a, year=2024, employees=Decimal("10"))
    response = login(client, personas.carol).get(reverse("enterprises:detail", args=[personas.ent_a.pk]))
    row = next(r for r in response.context["figure_rows"] if r["figure"].name == "sales_revenue")
    assert row["values"] == [None]


def test_phone_is_masked_for_the_leader_and_shown_to_the_officer(client, personas):
    url = reverse("enterprises:detail", args=[personas.ent_a.pk])
    assert "138****5678" in login(client, personas.leo).get(url).content.decode()
    assert "13812345678" in login(client, personas.carol).get(url).content.decode()


# ---- permission matrix for pages ------------------------------------------------------------


def child_urls(p):
    year = EnterpriseYear.objects.create(enterprise=p.ent_b, year=2024)
    ip = IPAsset.objects.create(enterprise=p.ent_b, ip_type="invention", number="ZL2024000001", title="发明")
    q = Qualification.objects.create(enterprise=p.ent_b, kind="hnte", issue_date=date(2024, 1, 1))
    pk = p.ent_b.pk
    return [
        reverse("enterprises:detail", args=[pk]),
        reverse("enterprises:edit", args=[pk]),
        reverse("enterprises:history", args=[pk]),
        reverse("enterprises:year-create", args=[pk]),
        reverse("enterprises:year-edit", args=[pk, year.pk]),
        reverse("enterprises:ip-create", args=[pk]),
        reverse("enterprises:ip-edit", args=[pk, ip.pk]),
        reverse("enterprises:qualification-create", args=[pk]),
        reverse("enterprises:qualification-edit", args=[pk, q.pk]),
    ]


@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_an_outsider_cannot_read_or_change_another_enterprise_by_page(client, personas, persona):
    urls = child_urls(personas)
    c = login(client, getattr(personas, persona))
    before = Enterprise.objects.get(pk=personas.ent_b.pk).name
    for url in urls:
        assert c.get(url).status_code == 404, url
        assert c.post(url, {"name": "被篡改", "year": 2023}).status_code == 404, url
    assert Enterprise.objects.get(pk=personas.ent_b.pk).name == before
    assert personas.ent_b.name not in names(c.get(reverse("enterprises:list")))


def test_the_enterprise_user_sees_only_its_own_enterprise(client, personas):
    response = login(client, personas.alice).get(reverse("enterprises:list"))
    assert names(response) == ["上海甲科技有限公司"]


def test_the_park_operator_sees_only_its_park(client, personas):
    response = login(client, personas.bob).get(reverse("enterprises:list"))
    assert names(response) == ["上海甲科技有限公司"]


@pytest.mark.parametrize("persona", ["uma", "eve"])
def test_university_and_expert_have_no_registry_access(client, personas, persona):
    c = login(client, getattr(personas, persona))
    assert c.get(reverse("enterprises:list")).status_code == 403
    assert c.get(reverse("enterprises:detail", args=[personas.ent_a.pk])).status_code == 404


def test_the_leader_reads_everything_and_changes_nothing(client, personas):
    c = login(client, personas.leo)
    assert c.get(reverse("enterprises:detail", args=[personas.ent_b.pk])).status_code == 200
    assert c.get(reverse("enterprises:edit", args=[personas.ent_b.pk])).status_code == 403
    assert c.post(reverse("enterprises:year-create", args=[personas.ent_b.pk]), {"year": 2024}).status_code == 403
    assert c.get(reverse("enterprises:create")).status_code == 403
    assert not EnterpriseYear.objects.exists()


def test_the_enterprise_user_cannot_add_qualifications_to_itself(client, personas):
    c = login(client, personas.alice)
    response = c.post(reverse("enterprises:qualification-create", args=[personas.ent_a.pk]), {"kind": "hnte", "issue_date": "2024-01-01"})
    assert response.status_code == 403
    assert not Qualification.objects.exists()


def test_anonymous_users_are_sent_to_login(client, personas):
    response = client.get(reverse("enterprises:detail", args=[personas.ent_a.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# ---- edits, validation, audit ---------------------------------------------------------------


def test_the_enterprise_user_edits_its_profile_but_not_its_code_or_park(client, personas):
    c = login(client, personas.alice)
    url = reverse("enterprises:edit", args=[personas.ent_a.pk])
    form = c.get(url).context["form"]
    assert "uscc" not in form.fields and "park" not in form.fields
    response = c.post(url, {"name": "上海甲科技股份有限公司", "status": "active", "uscc": "91000000000000000K", "park": personas.park_b.pk})
    assert response.status_code == 302
    ent = Enterprise.objects.get(pk=personas.ent_a.pk)
    assert ent.name == "上海甲科技股份有限公司"
    assert ent.uscc == personas.ent_a.uscc and ent.park_id == personas.park_a.pk


def test_an_invalid_code_is_refused_with_the_reason(client, personas):
    c = login(client, personas.carol)
    response = c.post(reverse("enterprises:create"), {"uscc": "912201011239989158", "name": "新企业", "status": "active"})
    assert response.status_code == 200
    assert response.context["form"].errors["uscc"] == ["统一社会信用代码校验位错误：第18位应为“9”，实际为“8”"]
    assert not Enterprise.objects.filter(name="新企业").exists()


def test_a_duplicate_code_is_refused(client, personas):
    c = login(client, personas.carol)
    response = c.post(reverse("enterprises:create"), {"uscc": personas.ent_a.uscc.lower(), "name": "重复", "status": "active"})
    assert "uscc" in response.context["form"].errors
    assert Enterprise.objects.count() == 2


def test_a_year_is_typed_in_wan_and_stored_in_yuan(client, personas):
    c = login(client, personas.alice)
    response = c.post(
        reverse("enterprises:year-create", args=[personas.ent_a.pk]),
        {"year": 2024, "sales_revenue": "1234.5", "employees": "50", "tech_staff": "12"},
    )
    assert response.status_code == 302
    year = EnterpriseYear.objects.get(enterprise=personas.ent_a, year=2024)
    assert year.sales_revenue == Decimal("12345000.00")
    assert year.rd_expense_hnte is None  # left blank: missing, not 0


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"employees": "10", "rd_staff": "11"}, "rd_staff", "研发人员数（11）不能多于职工总数（10）"),
        ({"employees": "10", "tech_staff": "10.5"}, "tech_staff", "科技人员数（10.5）不能多于职工总数（10）"),
        ({"rd_expense_hnte": "100", "rd_expense_hnte_domestic": "100.01"}, "rd_expense_hnte_domestic", "境内研发费用（100.01万元）不能多于研发费用总额（100万元）"),
        ({"sales_revenue": "-1"}, "sales_revenue", "销售收入不能为负数（填写值 -1万元）"),
        ({"sales_revenue": "200000000"}, "sales_revenue", "销售收入 200000000万元 超过合理上限 1万亿元，请检查单位（应填万元）"),
    ],
)
def test_a_year_breaking_a_rule_is_refused_with_the_reason(client, personas, data, field, message):
    c = login(client, personas.carol)
    response = c.post(reverse("enterprises:year-create", args=[personas.ent_a.pk]), {"year": 2024, **data})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not EnterpriseYear.objects.exists()


def test_boundary_values_are_allowed(client, personas):
    c = login(client, personas.carol)
    response = c.post(
        reverse("enterprises:year-create", args=[personas.ent_a.pk]),
        {"year": 2024, "employees": "10", "rd_staff": "10", "tech_staff": "10", "rd_expense_hnte": "100", "rd_expense_hnte_domestic": "100", "net_profit": "-5", "sales_revenue": "0"},
    )
    assert response.status_code == 302
    assert EnterpriseYear.objects.get().net_profit == Decimal("-50000.00")


def test_a_second_row_for_the_same_year_is_refused(client, personas):
    EnterpriseYear.objects.create(enterprise=personas.ent_a, year=2024)
    response = login(client, personas.carol).post(reverse("enterprises:year-create", args=[personas.ent_a.pk]), {"year": 2024})
    assert response.context["form"].non_field_errors() == ["该企业该年度的数据已存在，请编辑原有记录"]
    assert EnterpriseYear.objects.count() == 1


def test_a_certificate_must_expire_after_its_issue(client, personas):
    response = login(client, personas.carol).post(
        reverse("enterprises:qualification-create", args=[personas.ent_a.pk]),
        {"kind": "hnte", "issue_date": "2024-05-01", "expiry_date": "2024-05-01"},
    )
    assert response.context["form"].errors["expiry_date"] == ["有效期至 2024-05-01 必须晚于发证日期 2024-05-01"]


def test_an_hnte_certificate_defaults_to_three_years_of_validity(client, personas):
    login(client, personas.carol).post(
        reverse("enterprises:qualification-create", args=[personas.ent_a.pk]), {"kind": "hnte", "issue_date": "2023-12-01"}
    )
    assert Qualification.objects.get().expiry_date == date(2026, 11, 30)


def test_ip_grant_before_application_is_refused(client, personas):
    response = login(client, personas.alice).post(
        reverse("enterprises:ip-create", args=[personas.ent_a.pk]),
        {"ip_type": "invention", "number": "ZL1", "title": "x", "application_date": "2024-02-01", "grant_date": "2024-01-31", "acquisition": "own_rd", "status": "valid"},
    )
    assert response.context["form"].errors["grant_date"] == ["授权/登记日 2024-01-31 早于申请日 2024-02-01"]


def test_every_change_is_in_the_history_with_who_and_what(client, personas):
    c = login(client, personas.bob)
    c.post(reverse("enterprises:edit", args=[personas.ent_a.pk]), {"name": "上海甲科技（集团）有限公司", "status": "active", "short_name": "甲科技"})
    c.post(reverse("enterprises:year-create", args=[personas.ent_a.pk]), {"year": 2024, "employees": "30"})
    year = EnterpriseYear.objects.get()
    c.post(reverse("enterprises:year-edit", args=[personas.ent_a.pk, year.pk]), {"year": 2024, "employees": "35"})
    response = c.get(reverse("enterprises:history", args=[personas.ent_a.pk]))
    changes = response.context["page"].object_list
    assert changes[0].who == "bob" and changes[0].what == "2024年 年度数据" and changes[0].action == "修改"
    assert changes[0].fields == [("职工总数", "30.0", "35.0")]
    rename = next(ch for ch in changes if ch.what == "企业信息" and ch.action == "修改")
    assert rename.who == "bob"
    assert ("企业名称", "上海甲科技有限公司", "上海甲科技（集团）有限公司") in rename.fields


def test_latin_letters_in_names_match_in_any_case(client, personas):
    Enterprise.objects.create(uscc=make_code("91310117MA1J00077"), name="上海ABC智能有限公司")
    c = login(client, personas.carol)
    assert names(c.get(reverse("enterprises:list"), {"q": "abc智能"})) == ["上海ABC智能有限公司"]
    # A code's tail finds it too: people paste the last digits from a certificate.
    assert names(c.get(reverse("enterprises:list"), {"q": personas.ent_b.uscc[-6:]})) == ["上海乙生物有限公司"]


def test_a_certificate_filtered_list_pages_and_counts_like_any_other(client, personas):
    """The certificate filter counts in the page query (a window function): same pages, same totals."""
    created = Enterprise.objects.bulk_create(
        Enterprise(uscc=make_code(f"91310117MA1W{i:05d}"), name=f"上海窗口{i:03d}有限公司") for i in range(30)
    )
    for e in created:
        Qualification.objects.create(enterprise=e, kind="tech_sme", issue_date=date(2025, 1, 1), expiry_date=date(2099, 12, 31))
    c = login(client, personas.carol)
    url = reverse("enterprises:list")
    first = c.get(url, {"qualification": "tech_sme", "validity": "valid"})
    assert first.context["page"].paginator.count == 30
    assert names(first) == [f"上海窗口{i:03d}有限公司" for i in range(25)]
    second = c.get(url, {"qualification": "tech_sme", "validity": "valid", "page": 2})
    assert names(second) == [f"上海窗口{i:03d}有限公司" for i in range(25, 30)]
    assert second.context["page"].has_previous() and not second.context["page"].has_next()
    # Past the end and nonsense both land on a real page.
    assert c.get(url, {"qualification": "tech_sme", "validity": "valid", "page": 9}).context["page"].number == 2
    assert c.get(url, {"qualification": "tech_sme", "validity": "valid", "page": "x"}).context["page"].number == 1
    assert c.get(url, {"qualification": "hnte", "validity": "valid"}).context["page"].paginator.count == 0
