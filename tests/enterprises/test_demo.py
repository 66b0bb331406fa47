"""Demo data (kechuang/enterprises/demo.py) and the `kechuang demo` / `kechuang demo_accounts` commands."""

import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kechuang.core import roles, uscc
from kechuang.enterprises import choices, demo
from kechuang.enterprises.figures import MONEY_FIGURES, PEOPLE_FIGURES
from kechuang.enterprises.models import (
    Enterprise,
    EnterpriseYear,
    IPAsset,
    Membership,
    Park,
    Qualification,
    year_errors,
)

# The source documents, kept in the repository (docs/sources). The facts the tests need are copied below;
# the documents cross-check them.
SEEDS = Path(__file__).resolve().parents[2] / "docs" / "sources"
SEED_004 = "004_b3a790c432d546a9.txt"  # 沪松府〔2025〕80号 张江高新区松江园改革创新发展行动方案（2025-2026年）
SEED_000 = "000_6dca2b4127d75a15.txt"  # 沪松府〔2026〕67号 松江区新质生产力发展先行区建设“十五五”规划

# 附件4 重点培育企业清单, 004_b3a790c432d546a9.txt lines 759–801: (序号, 企业名称, 所属领域, 重点培育方向, line).
# No. 7 is split over lines 772 and 774 in the text; no. 6 prints half-width parentheses.
ATTACHMENT_4 = [
    (1, "上海移远通信技术股份有限公司", "电子信息制造", "“链主”型企业", 759),
    (2, "上海宏力达信息技术股份有限公司", "电子信息制造", "核心骨干企业", 761),
    (3, "上海三旺奇通信息科技有限公司", "电子信息制造", "核心骨干企业", 763),
    (4, "豪威半导体（上海）有限责任公司", "电子信息制造", "拥有关键核心技术企业", 765),
    (5, "上海垣信卫星科技有限公司", "电子信息服务", "“链主”型企业", 767),
    (6, "创远信科(上海)技术股份有限公司", "电子信息服务", "拥有关键核心技术企业", 769),
    (7, "云汉芯城（上海）互联网科技股份有限公司", "电子信息服务", "“链主”型企业", 771),
    (8, "上海昊海生物科技有限公司", "生命健康制造", "“链主”型企业", 777),
    (9, "上海形状记忆合金材料有限公司", "生命健康制造", "核心骨干企业", 779),
    (10, "上海乐纯生物技术股份有限公司", "生命健康制造", "核心骨干企业", 781),
    (11, "上海睿钰生物科技有限公司", "生命健康制造", "核心骨干企业", 783),
    (12, "上海邦邦机器人有限公司", "生命健康制造", "拥有关键核心技术企业", 785),
    (13, "华道（上海）生物医药有限公司", "生命健康制造", "拥有关键核心技术企业", 787),
    (14, "上海汇禾医疗科技股份有限公司", "生命健康制造", "引领带动明显企业", 789),
    (15, "上海明品医学数据科技有限公司", "生命健康服务", "引领带动明显企业", 791),
    (16, "上海曼恒数字技术股份有限公司", "智能终端", "拥有关键核心技术企业", 793),
    (17, "卡奥斯数字科技（上海）有限公司", "智能终端", "“链主”型企业", 795),
    (18, "上海飞科电器股份有限公司", "智能终端", "核心骨干企业", 797),
    (19, "上海华诚金锐信息技术有限公司", "智能终端", "核心骨干企业", 799),
    (20, "上海英众信息科技有限公司", "智能终端", "引领带动明显企业", 801),
]

# The parks: name → (kind, parent, seed file, line where the name is printed). The text puts spaces
# between Chinese and Latin characters ("松江 6G", "G60 生物医药") and breaks lines inside names
# (洞泾…, lines 148/150): the names are compared with whitespace removed.
PARKS = {
    "张江高新区松江园": ("zone", None, SEED_004, 18),
    "临港松江科技园": ("sub_park", "张江高新区松江园", SEED_004, 291),
    "G60脑智科创基地": ("sub_park", "张江高新区松江园", SEED_004, 148),
    "洞泾智能机器人产业基地": ("sub_park", "张江高新区松江园", SEED_004, 148),
    "松江6G未来通信产业园": ("sub_park", "张江高新区松江园", SEED_004, 223),
    "G60生物医药产业基地": ("sub_park", "张江高新区松江园", SEED_000, 213),
    "东华大学国家大学科技园": ("carrier", None, SEED_000, 27),
}


def seed_lines(filename: str) -> list[str]:
    return (SEEDS / filename).read_text(encoding="utf-8").splitlines()


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def checksum() -> str:
    """A digest of every demo row, in an order that does not depend on primary keys."""
    h = hashlib.sha256()
    for e in Enterprise.objects.filter(is_demo=True).select_related("park").order_by("uscc"):
        h.update(repr((
            e.uscc, e.name, e.short_name, e.registration_date, e.park and e.park.name, e.industry, e.hitech_field,
            e.main_business, e.address, e.legal_representative, e.contact_phone, e.status, e.is_listed,
        )).encode())
    year_fields = ("enterprise__uscc", "year", *PEOPLE_FIGURES, *MONEY_FIGURES)
    for row in EnterpriseYear.objects.order_by("enterprise__uscc", "year").values_list(*year_fields):
        h.update(repr(row).encode())
    for row in Qualification.objects.order_by("enterprise__uscc", "kind", "issue_date").values_list(
        "enterprise__uscc", "kind", "level", "certificate_no", "issuer", "issue_date", "expiry_date"
    ):
        h.update(repr(row).encode())
    for row in IPAsset.objects.order_by("ip_type", "number").values_list(
        "enterprise__uscc", "ip_type", "number", "title", "application_date", "grant_date", "acquisition", "status",
        "hnte_used_year",
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Park, Enterprise, EnterpriseYear, IPAsset, Qualification, Membership, User))


# --- the documents' names ----------------------------------------------------------------------


def test_the_key_enterprise_list_is_attachment_4():
    assert [(k.number, k.name, k.domain, k.direction, k.line) for k in demo.KEY_ENTERPRISES] == ATTACHMENT_4


def test_attachment_4_rows_are_in_the_seed_text_where_cited():
    lines = seed_lines(SEED_004)
    section = squeeze("\n".join(lines[748:802]))
    assert section.startswith("附件4重点培育企业清单")
    for number, name, domain, direction, line in ATTACHMENT_4:
        assert f"{number}{name}{domain}{direction}" in section, name
        assert lines[line - 1].strip().split(" ")[0] == str(number)


@pytest.mark.django_db
def test_it_loads_the_20_key_enterprises_with_their_field_and_synthetic_codes():
    demo.load_demo(enterprises=10)
    zone = Park.objects.get(name="张江高新区松江园")
    for number, name, domain, direction, _ in ATTACHMENT_4:
        e = Enterprise.objects.get(name=name)
        assert e.is_demo and e.park == zone
        assert e.main_business == f"{domain} · {direction}（附件4）"
        assert (e.industry, e.hitech_field) == demo.DOMAINS[domain]
        assert uscc.is_valid(e.uscc) and e.uscc[8:16] == f"DK{number:06d}"
        assert e.registration_date is None  # a real company's date is not invented
    yiyuan = Enterprise.objects.get(name="上海移远通信技术股份有限公司")
    assert (yiyuan.industry, yiyuan.hitech_field) == ("C", "01")
    assert Enterprise.objects.get(name="上海明品医学数据科技有限公司").industry == "M"
    assert Enterprise.objects.get(name="上海垣信卫星科技有限公司").industry == "I"


@pytest.mark.django_db
def test_it_loads_the_parks_with_kind_parent_and_source():
    demo.load_demo(enterprises=0)
    loaded = {p.name: p for p in Park.objects.select_related("parent")}
    assert set(loaded) == set(PARKS)
    for name, (kind, parent, filename, line) in PARKS.items():
        park = loaded[name]
        assert park.kind == kind
        assert (park.parent.name if park.parent else None) == parent
        assert filename in park.source and f"第{line}" in park.source, park.source


@pytest.mark.parametrize("name", PARKS)
def test_every_park_name_appears_verbatim_in_its_seed_document(name):
    _, _, filename, line = PARKS[name]
    lines = seed_lines(filename)
    assert name in squeeze("\n".join(lines[line - 1 : line + 2])), f"{name} not at {filename}:{line}"


# --- the synthetic enterprises -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    today = timezone.localdate()
    demo.load_demo(enterprises=200, seed=7, today=today)
    first = checksum()
    assert Enterprise.objects.filter(is_demo=True).count() == 220
    demo.load_demo(enterprises=200, seed=7, today=today, reset=True)
    assert checksum() == first
    demo.load_demo(enterprises=200, seed=8, today=today, reset=True)
    assert checksum() != first


@pytest.mark.django_db
def test_every_row_passes_the_model_rules():
    demo.load_demo(enterprises=300)
    for e in Enterprise.objects.all():
        e.full_clean()
    names = list(Enterprise.objects.values_list("name", flat=True))
    assert len(names) == len(set(names)) == 320
    years = list(EnterpriseYear.objects.all())
    assert len(years) > 700
    for y in years:
        assert year_errors({n: getattr(y, n) for n in (*PEOPLE_FIGURES, *MONEY_FIGURES)}, y.year) == {}, (y, y.year)
        y.full_clean(validate_constraints=False)
    for q in Qualification.objects.all():
        q.full_clean(validate_constraints=False)
        assert q.certificate_no.startswith("示例-")
    for ip in IPAsset.objects.all():
        ip.full_clean(validate_constraints=False)
        assert ip.number.startswith("示例-")
        assert ip.hnte_used_year is None or ip.ip_class == "II"


@pytest.mark.django_db
def test_the_figures_look_like_a_district_registry():
    demo.load_demo(enterprises=1000)
    today = timezone.localdate()
    last = today.year - 1
    assert set(EnterpriseYear.objects.values_list("year", flat=True)) == {last - 3, last - 2, last - 1, last}
    # One more, earlier year for some: 销售收入 and 主营业务收入 only, the base of a three-year growth rate.
    earlier = EnterpriseYear.objects.filter(year=last - 3)
    assert 0.3 < earlier.count() / 1020 < 0.6
    assert all(r.sales_revenue > 0 and r.main_business_revenue <= r.sales_revenue for r in earlier)
    assert not earlier.filter(employees__isnull=False).exists() and not earlier.filter(rd_expense__isnull=False).exists()
    rows = list(EnterpriseYear.objects.filter(year=last))
    sales = sorted(r.sales_revenue for r in rows)
    assert Decimal("1e7") < sales[len(sales) // 2] < Decimal("4e7")  # median about 2000万元
    assert sales[-1] > Decimal("3e8")  # a long tail to several 亿
    assert any(r.net_assets is not None and r.net_assets < 0 for r in rows)
    assert any(r.total_profit < 0 for r in rows)
    assert any(r.rd_staff is None for r in rows) and not any(r.rd_staff == 0 and r.tech_staff == 0 for r in rows)

    hnte = Qualification.objects.filter(kind=choices.QualificationKind.HNTE)
    holders = hnte.values("enterprise").distinct().count()
    assert 0.18 < holders / 1020 < 0.35
    assert hnte.filter(expiry_date__lt=today).exists()  # expired
    # HNTE certificates are issued in yearly batches (October to December), so some expire within any year;
    # within 180 days holds only from April to December.
    assert hnte.filter(expiry_date__gte=today, expiry_date__lte=today + timezone.timedelta(days=366)).exists()
    assert all(q.expiry_date == demo.default_expiry(q.kind, q.issue_date) for q in hnte)
    kinds = set(Qualification.objects.values_list("kind", flat=True))
    assert {"tech_sme", "innovative_sme", "specialised_sme", "little_giant", "rd_institution"} <= kinds
    three_years = Qualification.objects.filter(kind__in=["innovative_sme", "specialised_sme", "little_giant"])
    assert three_years.filter(expiry_date__lt=today).exists()
    assert three_years.filter(expiry_date__gte=today, expiry_date__lte=today + timezone.timedelta(days=182)).exists()
    institutions = Qualification.objects.filter(kind="rd_institution")
    assert set(institutions.values_list("level", flat=True)) == {"national", "municipal", "district"}

    # A valid 高新技术企业 meets the hard conditions in its figures (国科发火〔2016〕32号 第十一条).
    valid = Enterprise.objects.with_valid_qualification(choices.QualificationKind.HNTE)
    for r in EnterpriseYear.objects.filter(enterprise__in=valid, year=last):
        assert r.tech_staff / r.employees >= Decimal("0.1")
        assert r.rd_expense_hnte / r.sales_revenue >= Decimal("0.03")
        assert r.rd_expense_hnte_domestic / r.rd_expense_hnte >= Decimal("0.6")
        if r.hitech_revenue is not None and r.total_income is not None:
            assert r.hitech_revenue / r.total_income >= Decimal("0.6")
    for e in valid:
        assert e.ip_assets.exists(), e


@pytest.mark.django_db
def test_the_tiers_have_their_figures_r_and_d_on_the_accounting_basis_growth_and_financing():
    demo.load_demo(enterprises=1000)
    today = timezone.localdate()
    last = today.year - 1
    rows = list(EnterpriseYear.objects.filter(year__gte=last - 2))
    # 研发费用（会计口径） is reported by nearly all, close to the 加计扣除 basis and apart from it.
    assert sum(r.rd_expense is None for r in rows) / len(rows) < 0.1
    both = [r for r in rows if r.rd_expense is not None and (r.rd_expense_deduction or 0) >= 100000]  # 100 yuan steps
    ratios = sorted(r.rd_expense / r.rd_expense_deduction for r in both)
    assert Decimal("0.8") < ratios[0] and ratios[-1] < Decimal("1.4")
    assert Decimal("1.0") < ratios[len(ratios) // 2] < Decimal("1.2")
    assert sum(r.rd_expense != r.rd_expense_deduction for r in both) > 0.9 * len(both)

    # 新增股权融资: a round, 0 between rounds, or not reported (null, never 0 by default).
    equity = [r.equity_financing for r in rows]
    assert any(e is None for e in equity) and any(e == 0 for e in equity) and any(e and e > 0 for e in equity)

    # Fast growers: valued above 1亿美元, a few above 10亿美元, young, financed and not listed (独角兽).
    valued = EnterpriseYear.objects.filter(year=last, valuation__isnull=False).select_related("enterprise")
    assert valued.filter(valuation__gt=Decimal("7.3e8")).count() >= 3
    unicorns = [r for r in valued if r.valuation > Decimal("7.3e9")]
    assert unicorns
    for r in unicorns:
        e = r.enterprise
        assert not e.is_listed and (today - e.registration_date).days <= 10 * 366
        assert EnterpriseYear.objects.filter(enterprise=e, equity_financing__gt=0).exists()
        assert EnterpriseYear.objects.filter(enterprise=e, year=last - 3).exists()  # a growth base year
    # 估值 carries the latest round: it never falls from one year to the next.
    by_enterprise: dict[int, list] = {}
    for r in EnterpriseYear.objects.filter(valuation__isnull=False).order_by("year"):
        by_enterprise.setdefault(r.enterprise_id, []).append(r)
    for history in by_enterprise.values():
        if any(r.equity_financing == 0 for r in history):  # the fast growers
            assert [r.valuation for r in history] == sorted(r.valuation for r in history)


@pytest.mark.django_db
def test_a_second_run_creates_nothing_and_reset_reloads_the_same():
    out = io.StringIO()
    call_command("demo", "--enterprises", "50", stdout=out)
    assert "已生成示例数据" in out.getvalue()
    before, digest = counts(), checksum()
    out = io.StringIO()
    call_command("demo", "--enterprises", "50", stdout=out)
    assert "已存在" in out.getvalue()
    assert counts() == before
    out = io.StringIO()
    call_command("demo", "--enterprises", "50", "--reset", stdout=out)
    assert "已删除原有示例数据：企业 70 家" in out.getvalue()
    assert counts() == before and checksum() == digest


@pytest.mark.django_db
def test_it_leaves_real_enterprises_alone():
    real = Enterprise.objects.create(uscc=uscc.make_code("91310117MA1J00001"), name="上海移远通信技术股份有限公司")
    demo.load_demo(enterprises=20)
    assert list(Enterprise.objects.filter(name=real.name)) == [real]
    demo.load_demo(enterprises=20, reset=True)
    real.refresh_from_db()
    assert not real.is_demo and Enterprise.objects.filter(is_demo=False).count() == 1


def test_it_refuses_an_impossible_number_of_enterprises():
    with pytest.raises(CommandError, match="企业数"):
        call_command("demo", "--enterprises", "-1")


# --- demo accounts -----------------------------------------------------------------------------


@pytest.fixture
def demo_data(db, settings):
    settings.DEBUG = True
    demo.load_demo(enterprises=60)


def test_demo_accounts_get_their_role_membership_and_password(demo_data, client):
    out = io.StringIO()
    call_command("demo_accounts", "--print", "--url", "http://example.test:8000", stdout=out)
    text = out.getvalue()
    assert "http://example.test:8000/accounts/login/" in text and demo.DEMO_PASSWORD in text
    expected = {
        "officer": roles.OFFICER, "park": roles.PARK_OPERATOR, "enterprise": roles.ENTERPRISE,
        "university": roles.UNIVERSITY, "expert": roles.EXPERT, "leader": roles.LEADER,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role.name]
        assert roles.role_of(user) is role
        assert user.check_password(demo.DEMO_PASSWORD)
        assert user.is_staff == (username == "officer") and not user.is_superuser
        assert username in text and role.name in text

    yiyuan = Enterprise.objects.get(name="上海移远通信技术股份有限公司", is_demo=True)
    assert [(m.enterprise, m.park) for m in Membership.objects.filter(user__username="enterprise")] == [(yiyuan, None)]
    park = Park.objects.get(name="临港松江科技园")
    assert [(m.enterprise, m.park) for m in Membership.objects.filter(user__username="park")] == [(None, park)]
    assert Membership.objects.count() == 2

    visible = {u: Enterprise.objects.visible_to(User.objects.get(username=u)) for u in expected}
    assert list(visible["enterprise"]) == [yiyuan]
    assert 0 < visible["park"].count() == Enterprise.objects.filter(park=park).count()
    assert visible["officer"].count() == visible["leader"].count() == 80
    assert visible["university"].count() == visible["expert"].count() == 0
    assert client.login(username="enterprise", password=demo.DEMO_PASSWORD)


def test_demo_accounts_are_idempotent(demo_data):
    call_command("demo_accounts", stdout=io.StringIO())
    User.objects.filter(username="park").update(is_staff=True)
    before = counts()
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert "新建 0 个，已有 6 个" in out.getvalue()
    assert counts() == before
    assert not User.objects.get(username="park").is_staff


def test_demo_reset_relinks_the_demo_accounts(demo_data):
    call_command("demo_accounts", stdout=io.StringIO())
    call_command("demo", "--enterprises", "60", "--reset", stdout=io.StringIO())
    membership = Membership.objects.get(user__username="enterprise")
    assert membership.enterprise.name == "上海移远通信技术股份有限公司"
    assert Membership.objects.get(user__username="park").park.name == "临港松江科技园"


def test_demo_accounts_need_the_demo_data(db, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="请先运行 kechuang demo"):
        call_command("demo_accounts", stdout=io.StringIO())


def test_demo_accounts_are_refused_in_production(demo_data, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=False"):
        call_command("demo_accounts", stdout=io.StringIO())
    assert not User.objects.exists()


@pytest.mark.django_db
def test_reset_after_an_assessment_deletes_the_old_enterprises_assessments():
    from kechuang.tiering.models import Assessment

    call_command("demo", "--enterprises", "20", stdout=io.StringIO())
    call_command("assess", stdout=io.StringIO())
    assert Assessment.objects.exists()
    call_command("demo", "--enterprises", "20", "--reset", stdout=io.StringIO())
    assert not Assessment.objects.exists()  # they were of the deleted enterprises
    assert Enterprise.objects.filter(is_demo=True).count() == 40


@pytest.mark.django_db
def test_reset_refuses_and_changes_nothing_when_a_person_made_a_record_about_a_demo_enterprise():
    from kechuang.matching.models import Demand
    from tests.matching.fixtures import demand_values

    call_command("demo", "--enterprises", "20", stdout=io.StringIO())
    before, digest = counts(), checksum()
    Demand.objects.create(enterprise=Enterprise.objects.filter(is_demo=True).first(), state="draft", **demand_values())
    with pytest.raises(CommandError) as refused:
        call_command("demo", "--enterprises", "20", "--reset", stdout=io.StringIO())
    assert "示例企业已被其他记录引用（技术需求 1 条）" in str(refused.value)
    assert "make clean" in str(refused.value)
    assert counts() == before and checksum() == digest
    assert Demand.objects.count() == 1
