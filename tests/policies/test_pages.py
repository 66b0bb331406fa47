"""The pages of 政策库 and 免申即享 through the HTTP client, per role: the library (search, filters, exports), the
item editor with its live test, the run page (review list, totals, exclude, confirm, payment list), and the
enterprise's 可享政策 page."""

import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook

from kechuang.enterprises.models import Qualification
from kechuang.policies import services
from kechuang.policies.models import Benefit, BenefitRun, PolicyDocument, PolicyItem
from kechuang.tiering.selectors import enterprise_assessment
from tests.policies.conftest import INTEREST, ON, make_item

pytestmark = pytest.mark.django_db


def client(user):
    c = Client()
    c.force_login(user)
    return c


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- the library -----------------------------------------------------------------------------------------------


def test_every_role_reads_the_library_and_the_search_finds_articles_in_chinese(pf):
    for user in (pf.carol, pf.alice, pf.bob, pf.leo, pf.personas.uma, pf.personas.eve):
        assert client(user).get("/policies/").status_code == 200
    page = text(client(pf.alice).get("/policies/", {"q": "保费补贴"}))
    assert "共 <strong>1</strong> 件政策文件（已筛选）" in page
    assert "松江区科学技术委员会2026年工作要点" in page
    page = text(client(pf.alice).get("/policies/", {"q": "不存在的关键词xyz"}))
    assert "没有符合条件的政策文件" in page


def test_the_library_filters_by_issuer_status_and_year_and_sorts(pf):
    c = client(pf.carol)
    page = text(c.get("/policies/", {"status": "expired"}))
    assert "松江区科技创新“十四五”规划" in page and "若干意见" not in page
    page = text(c.get("/policies/", {"issuer": "上海市松江区科学技术委员会", "year": "2026"}))
    assert "共 <strong>1</strong> 件" in page
    page = c.get("/policies/", {"sort": "issued"}).content.decode()
    assert page.index("十四五”规划") < page.index("若干意见")
    # A stale bookmark still opens.
    assert c.get("/policies/", {"status": "nonsense", "sort": "x", "year": "20"}).status_code == 200


def test_the_library_list_takes_a_fixed_number_of_queries(pf, django_assert_max_num_queries):
    c = client(pf.alice)
    with django_assert_max_num_queries(12):
        c.get("/policies/")


def test_a_document_page_shows_its_articles_and_marks_the_search_words(pf):
    document = PolicyDocument.objects.get(number="沪松府〔2025〕150号")
    page = (
        client(pf.alice).get(f"/policies/documents/{document.pk}/", {"q": "科技型中小企业"}).content.decode()
    )
    assert "（三）服务<mark>科技型中小企业</mark>创新创业" in page
    assert "新认定高新技术企业奖励（测试）" in page  # its published item


def test_an_officer_adds_an_article_and_an_enterprise_may_not(pf):
    document = PolicyDocument.objects.create(title="测试文件", issuer="区科委", issued_on="2026-01-01")
    url = f"/policies/documents/{document.pk}/"
    assert client(pf.alice).post(url, {"number": "第一条", "text": "x"}).status_code == 403
    response = client(pf.carol).post(url, {"number": "第一条", "title": "总则", "text": "为了……"})
    assert response.status_code == 302
    assert document.articles.get().title == "总则"
    response = client(pf.carol).post(url, {"number": "第一条", "title": "重复", "text": "y"})
    assert "该文件已有此条款号" in response.content.decode()
    assert document.articles.count() == 1


def test_the_compendium_docx_has_a_table_of_contents_with_every_document(pf):
    response = client(pf.alice).get("/policies/compendium.docx")
    assert response.status_code == 200
    assert response["Content-Type"].endswith("wordprocessingml.document")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    body = archive.read("word/document.xml").decode()
    assert 'TOC \\o "1-2"' in body and "目  录" in body
    assert body.count('w:pStyle w:val="TOC1"') == 5 and body.count('w:pStyle w:val="Heading1"') == 5
    assert "沪松府〔2025〕150号 松江区关于加快科技创新全链条发展的若干意见" in body
    assert "（一）支持高新技术企业发展" in body
    assert "新认定高新技术企业奖励（测试）" in body  # the published items, for 知晓率
    assert b"<w:updateFields" in archive.read("word/settings.xml")
    from xml.dom import minidom

    for name in archive.namelist():
        if name.endswith(".xml") or name.endswith(".rels"):
            minidom.parseString(archive.read(name))  # every part is well-formed XML


def test_the_compendium_follows_the_filters(pf):
    response = client(pf.alice).get("/policies/compendium.docx", {"status": "expired"})
    body = zipfile.ZipFile(io.BytesIO(response.content)).read("word/document.xml").decode()
    assert body.count('w:pStyle w:val="Heading1"') == 1 and "效力状态：已失效" in body
    assert "筛选条件：效力状态：已失效" in body


def test_the_compendium_xlsx_is_safe_against_formula_injection(pf):
    PolicyDocument.objects.create(title='=HYPERLINK("http://x")', issuer="区科委", issued_on="2026-01-01")
    response = client(pf.carol).get("/policies/compendium.xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    titles = [row[1] for row in workbook["政策文件"].iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://x")' in titles
    assert workbook["政策条款"].max_row > 60
    items = list(workbook["政策事项"].iter_rows(min_row=2, values_only=True))
    assert items[0][2] == "新认定高新技术企业奖励（测试）"


# --- items ------------------------------------------------------------------------------------------------------


def test_readers_see_published_items_only(pf):
    draft = make_item(user=pf.carol, name="草稿事项", publish=False)
    assert "草稿事项" not in client(pf.alice).get("/policies/items/").content.decode()
    assert client(pf.alice).get(f"/policies/items/{draft.pk}/").status_code == 404
    assert "草稿事项" in client(pf.carol).get("/policies/items/").content.decode()


def test_the_editor_refuses_a_missing_field_naming_it_and_saves_nothing(pf):
    document = PolicyDocument.objects.get(number="沪松府〔2025〕150号")
    data = {
        "document": document.pk,
        "name": "新事项",
        "kind": "subsidy",
        "eligibility": '[{"kind": "compare", "column": "rd_expens", "op": ">=", "value": 1}]',
        "formula": "rd_expense_hnte_lag1 * bonus",
        "parameters": "{}",
        "budget_rule": "pro_rata",
        "period_kind": "year",
        "effective_from": "2026-01-01",
    }
    response = client(pf.carol).post("/policies/items/new/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "第 1 项条件：未知的数据列 &#x27;rd_expens&#x27;" in page
    assert "未知的名称“bonus”：既不是数据列，也不是本政策事项的参数" in page
    assert not PolicyItem.objects.filter(name="新事项").exists()
    data["eligibility"] = "[{"  # not JSON
    assert "不是有效的 JSON" in client(pf.carol).post("/policies/items/new/", data).content.decode()
    data["eligibility"] = '[{"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": 1}]'
    data["parameters"] = '{"bonus": {"label": "补贴比例", "value": 0.1, "unit": "比例"}}'
    response = client(pf.carol).post("/policies/items/new/", data)
    item = PolicyItem.objects.get(name="新事项")
    assert response.status_code == 302 and item.state == "draft" and item.created_by == pf.carol


def test_only_keepers_edit_items(pf):
    assert client(pf.alice).get("/policies/items/new/").status_code == 403
    assert client(pf.leo).post("/policies/items/new/", {}).status_code == 403


def test_the_live_test_explains_the_item_on_one_enterprise(pf):
    data = {
        "document": pf.item.document_id,
        "name": "贴息",
        "kind": "interest",
        "eligibility": '[{"kind": "qualification", "qualification": "hnte", "test": "held"}]',
        "formula": "loan_interest * rate",
        "parameters": '{"rate": {"label": "贴息比例", "value": 0.5, "unit": "比例"}}',
        "cap_per_enterprise": "100000",
        "budget_rule": "pro_rata",
        "period_kind": "year",
        "effective_from": "2026-01-01",
        "enterprise": "甲科技",
        "period": "2026",
    }
    page = text(client(pf.carol).post("/policies/items/test/", data))
    assert "上海甲科技有限公司 · 2026年度" in page and "10万元" in page
    assert "32.5万元 × 50% = 162,500 元" in page
    assert "超过单户上限 10万元，按上限核定" in page
    data["formula"] = "loan_interest / 0"
    page = text(client(pf.carol).post("/policies/items/test/", data))
    assert "无法计算" in page and "除数“0”为 0" in page
    data["formula"] = "loan_intrest"
    page = text(client(pf.carol).post("/policies/items/test/", data))
    assert "未知的名称“loan_intrest”" in page
    data["enterprise"] = "无此企业"
    page = text(client(pf.carol).post("/policies/items/test/", {**data, "formula": "1"}))
    assert "找不到企业“无此企业”" in page
    assert client(pf.alice).post("/policies/items/test/", data).status_code == 403


def test_publishing_is_logged_and_a_draft_with_a_bad_definition_cannot_be_published(pf):
    draft = make_item(user=pf.carol, name="将发布", publish=False)
    PolicyItem.objects.filter(pk=draft.pk).update(formula="no_such + 1")
    response = client(pf.carol).post(
        f"/policies/items/{draft.pk}/transition/", {"transition": "publish"}, follow=True
    )
    assert "政策事项定义有误，不能发布：第 1 个字符处：未知的名称“no_such”" in response.content.decode()
    assert PolicyItem.objects.get(pk=draft.pk).state == "draft"


# --- runs and review ---------------------------------------------------------------------------------------------


def test_an_officer_starts_a_run_from_the_item_page_and_a_bad_period_is_refused(
    pf, django_capture_on_commit_callbacks
):
    c = client(pf.carol)
    response = c.post(f"/policies/items/{pf.item.pk}/runs/", {"period": "2024"}, follow=True)
    assert "早于政策事项“新认定高新技术企业奖励（测试）”的施行日期 2025-11-11" in response.content.decode()
    assert not BenefitRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(f"/policies/items/{pf.item.pk}/runs/", {"period": "2026", "as_of": ON.isoformat()})
    run = BenefitRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/policies/runs/{run.pk}/"
    assert run.status == "done"  # queued on commit, executed at once by the test settings' task backend
    assert client(pf.alice).post(f"/policies/items/{pf.item.pk}/runs/", {"period": "2026"}).status_code == 403


def test_the_review_list_filters_totals_excludes_and_confirms(pf):
    item = make_item(
        user=pf.carol,
        name="贴息（页面）",
        kind="interest",
        formula="loan_interest * rate",
        parameters=INTEREST,
        eligibility=[{"kind": "qualification", "qualification": "hnte", "test": "held"}],
    )
    run = services.run_now(item=item, period_text="2026", as_of=ON)
    c = client(pf.carol)
    page = text(c.get(f"/policies/runs/{run.pk}/"))
    assert '待审核</span><strong>1 户</strong><span class="small">16.25万元' in page
    assert "待定</span><strong>1 户</strong>" in page
    assert "32.5万元 × 50% = 162,500 元" in page
    page = text(c.get(f"/policies/runs/{run.pk}/", {"state": "undetermined"}))
    assert "上海乙生物有限公司" in page and "上海甲科技有限公司" not in page
    page = text(c.get(f"/policies/runs/{run.pk}/", {"q": "91310117MA1J00001"[:10]}))
    assert "上海甲科技有限公司" in page
    a = Benefit.objects.get(run=run, enterprise=pf.ent_a)
    response = c.post(f"/policies/benefits/{a.pk}/exclude/", {"reason": ""}, follow=True)
    assert "请填写剔除的原因" in response.content.decode()
    c.post(f"/policies/benefits/{a.pk}/exclude/", {"reason": "核查中"})
    assert Benefit.objects.get(pk=a.pk).state == "excluded"
    c.post(f"/policies/benefits/{a.pk}/restore/", {})
    assert Benefit.objects.get(pk=a.pk).state == "computed"
    c.post(f"/policies/runs/{run.pk}/transition/", {"transition": "confirm"})
    assert BenefitRun.objects.get(pk=run.pk).state == "confirmed"
    assert Benefit.objects.get(pk=a.pk).state == "confirmed"
    # The leader reads, but may not review.
    assert client(pf.leo).get(f"/policies/runs/{run.pk}/").status_code == 200
    assert client(pf.leo).post(f"/policies/benefits/{a.pk}/exclude/", {"reason": "x"}).status_code == 403


def test_a_park_operator_sees_only_the_benefits_of_its_parks(pf):
    item = make_item(
        user=pf.carol,
        name="持有高企（页面）",
        eligibility=[{"kind": "qualification", "qualification": "hnte", "test": "held"}],
    )
    run = services.run_now(item=item, period_text="2026", as_of=ON)
    page = text(client(pf.bob).get(f"/policies/runs/{run.pk}/"))
    assert "上海甲科技有限公司" in page and "上海乙生物有限公司" not in page
    b = Benefit.objects.get(run=run, enterprise=pf.ent_b)
    assert client(pf.bob).get(f"/policies/benefits/{b.pk}/").status_code == 404


def test_the_payment_list_is_an_officers_xlsx_safe_against_formula_injection(pf):
    run = services.run_now(item=pf.item, period_text="2026", as_of=ON)
    services.run_transition(run=run, name="confirm", user=pf.carol)
    pf.ent_a.name = "=cmd|' /C calc'!A0"
    pf.ent_a.save()
    assert client(pf.leo).get(f"/policies/runs/{run.pk}/payments.xlsx").status_code == 403
    response = client(pf.carol).get(f"/policies/runs/{run.pk}/payments.xlsx")
    sheet = load_workbook(io.BytesIO(response.content))["兑付名单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("序号", "企业名称", "统一社会信用代码", "所在园区", "兑现期间", "核定金额（元）")
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][4] == "2026年度" and rows[1][5] == 200000 and rows[1][7] == "已确认（待企业确认）"
    assert rows[2][1] == "合计" and rows[2][4] == "共 1 户" and rows[2][5] == 200000
    assert len(rows) == 3


# --- the enterprise's page ---------------------------------------------------------------------------------------


def test_the_enterprise_sees_its_confirmed_benefit_accepts_it_and_is_told_what_it_qualifies_for(pf):
    run = services.run_now(item=pf.item, period_text="2026", as_of=ON)
    services.run_transition(run=run, name="confirm", user=pf.carol)
    a = Benefit.objects.get(run=run)
    c = client(pf.alice)
    assert 'id="enterprise-policies-link"' in c.get(f"/enterprises/{pf.ent_a.pk}/").content.decode()
    page = text(c.get(f"/policies/enterprises/{pf.ent_a.pk}/"))
    assert '新认定高新技术企业奖励（测试） · 2026年度 <span class="amount-big">20万元</span>' in page
    assert f'id="accept-{a.pk}"' in page
    response = c.post(f"/policies/benefits/{a.pk}/accept/", follow=True)
    assert "已确认领受“新认定高新技术企业奖励（测试）”2026年度：20万元" in response.content.decode()
    assert Benefit.objects.get(pk=a.pk).state == "accepted"
    # Another enterprise's user cannot see or accept it.
    other = client(pf.bob)
    assert (
        other.post(f"/policies/benefits/{a.pk}/accept/").status_code == 403
    )  # the operator may not accept at all
    assert client(pf.alice).get(f"/policies/enterprises/{pf.ent_b.pk}/").status_code == 404


def test_items_the_enterprise_would_qualify_for_with_its_gaps_closed_use_the_tiering_gaps(pf):
    make_item(
        user=pf.carol,
        name="科小研发补贴（页面）",
        kind="subsidy",
        eligibility=[
            {"kind": "qualification", "qualification": "tech_sme", "test": "held"},
            {"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": 5000000},
        ],
        formula="100000",
    )
    make_item(
        user=pf.carol,
        name="限园区（页面）",
        eligibility=[{"kind": "compare", "column": "park", "op": "in", "value": ["G60脑智科创基地"]}],
        formula="1000",
    )
    page = text(client(pf.alice).get(f"/policies/enterprises/{pf.ent_a.pk}/"))
    gaps = page[page.index('id="with-gaps"') :]
    assert "科小研发补贴（页面）" in gaps
    assert "研发费用（高企口径）（2025年）：现为 300万元，需 ≥ 500万元" in gaps
    assert "取得有效的科技型中小企业证书" in gaps
    # The tiering gaps of 科技型中小企业, as the enterprise's 梯度评估 page gives them.
    tiering = {a.area: a for a in enterprise_assessment(enterprise=pf.ent_a, on=timezone.localdate())}
    assert tiering["tech_sme"].gaps
    for gap in tiering["tech_sme"].gaps:
        assert escape(gap) in gaps
    assert "限园区（页面）" not in gaps
    assert "另有 1 项现行政策因园区、企业状态等不能通过补齐数据满足的条件而不适用" in gaps


def test_the_enterprise_page_marks_an_item_already_granted_this_period(pf):
    Qualification.objects.filter(enterprise=pf.ent_a).update(issue_date="2026-01-02")
    run = services.run_now(item=pf.item, period_text="2026", as_of=ON)
    assert Benefit.objects.get(run=run).amount == Decimal("200000")
    page = text(client(pf.carol).get(f"/policies/enterprises/{pf.ent_a.pk}/"))
    qualifies = page[page.index('id="qualifies-now"') : page.index('id="with-gaps"')]
    assert "本期已核定（待审核）" in qualifies


def test_the_run_list_filters_by_item_period_and_state_and_the_review_page_takes_few_queries(
    pf, django_assert_max_num_queries
):
    first = services.run_now(item=pf.item, period_text="2026", as_of=ON)
    services.run_transition(run=first, name="confirm", user=pf.carol)
    other = make_item(user=pf.carol, name="另一事项（列表）")
    services.run_now(item=other, period_text="2026", as_of=ON)
    c = client(pf.carol)
    page = text(c.get("/policies/runs/", {"state": "confirmed"}))
    assert "共 <strong>1</strong> 个批次（已筛选）" in page and "新认定高新技术企业奖励（测试）" in page
    page = text(c.get("/policies/runs/", {"q": "另一事项", "period": "2026"}))
    assert "共 <strong>1</strong> 个批次（已筛选）" in page and "另一事项（列表）" in page
    assert "共 <strong>0</strong> 个批次" in text(c.get("/policies/runs/", {"period": "2025"}))
    assert client(pf.alice).get("/policies/runs/").status_code == 403
    c.get(f"/policies/runs/{first.pk}/")  # warm the session and the workflow caches
    with django_assert_max_num_queries(20):
        c.get(f"/policies/runs/{first.pk}/")
