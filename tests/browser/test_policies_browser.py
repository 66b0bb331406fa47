"""政策库 and 免申即享 in the browser, on a small demo registry, by the pages alone:

1. the officer searches the policy library in Chinese and opens a document with its articles;
2. from the document, writes a policy item (a wrong column refused first, naming it), tests it live on an
   enterprise (the explanation with its values), and publishes it;
3. runs 免申即享 for this year: a period before the item took effect is refused first; the run page shows the
   progress, the review list with its totals, excludes one enterprise with a reason, exports the payment list
   and confirms;
4. the enterprise's user finds the benefit on its 可享政策 page (reached from its enterprise page) and accepts it
   without any application.

Screenshots go to docs/screenshots/50…53.
"""

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from kechuang.enterprises.demo import KEY_ENTERPRISE_USER
from kechuang.enterprises.models import Enterprise, EnterpriseYear, Qualification
from kechuang.policies import services
from kechuang.policies.models import Benefit, BenefitRun, PolicyDocument, PolicyItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ITEM = "高新技术企业研发投入奖励"


@pytest.fixture
def registry():
    call_command("demo", enterprises=60, verbosity=0)
    call_command("demo_accounts", force=True, verbosity=0)
    key = Enterprise.objects.get(name=KEY_ENTERPRISE_USER)
    today = timezone.localdate()
    # The demo enterprise user's enterprise holds a valid 高企 certificate and reported last year's R&D expense.
    if not Qualification.objects.valid_on(today).filter(enterprise=key, kind="hnte").exists():
        Qualification.objects.create(enterprise=key, kind="hnte", issue_date=today - dt.timedelta(days=30))
    # A published item the enterprise does not qualify for yet: its 可享政策 page shows the gaps to close.
    officer = User.objects.get(username="officer")
    document = PolicyDocument.objects.get(number="沪松府〔2025〕150号")
    gap_item = services.item_save(
        item=PolicyItem(
            document=document,
            article=document.articles.get(number="（二）"),
            name="专精特新“小巨人”企业研发奖励",
            kind="award",
            eligibility=[{"kind": "qualification", "qualification": "little_giant", "test": "held"}],
            formula="300000",
            effective_from=dt.date(2025, 11, 11),
        ),
        user=officer,
    )
    services.item_transition(item=gap_item, name="publish", user=officer)
    EnterpriseYear.objects.update_or_create(
        enterprise=key,
        year=today.year - 1,
        defaults={"rd_expense_hnte": Decimal("86000000"), "rd_expense_hnte_domestic": Decimal("80000000")},
    )
    return key


def log_in(page, live_server, username):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "kechuang-demo")
    with page.expect_navigation():
        page.click("button[type=submit]")


def shot(page, name):
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def test_an_officer_publishes_an_item_runs_it_confirms_and_the_enterprise_accepts(
    page, live_server, registry
):
    key = registry
    today = timezone.localdate()
    page.set_default_timeout(60000)  # other work may share the machine
    log_in(page, live_server, "officer")

    # 1. The library, searched in Chinese.
    page.click("nav.mainnav summary:text-is('政策与创新券')")  # the top bar's menu (base.html) opens
    with page.expect_navigation():
        page.click("nav.mainnav a:text-is('政策')")
    page.fill("#q", "高新技术企业")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert re.search(r"共 \d+ 件政策文件（已筛选）", page.inner_text("#result-count"))
    shot(page, "50-policy-library")
    with page.expect_navigation():
        page.click("#documents >> text=松江区关于加快科技创新全链条发展的若干意见")
    assert page.locator(".article mark").count() >= 1
    assert "（一）支持高新技术企业发展" in page.inner_text("#articles")

    # 2. A new item: a wrong column is refused, then it is tested live and published.
    with page.expect_navigation():
        page.click("text=新增政策事项")
    page.fill("#id_name", ITEM)
    page.select_option("#id_kind", "award")
    page.select_option("#id_article", label="沪松府〔2025〕150号 （一）支持高新技术企业发展")
    page.fill(
        "#id_eligibility",
        '[{"kind": "qualification", "qualification": "hnte", "test": "held"},'
        ' {"kind": "compare", "column": "rd_expense_lag", "op": ">=", "value": 2000000}]',
    )
    page.fill("#id_formula", "rd_expense_hnte_lag1 * rate")
    page.fill("#id_parameters", '{"rate": {"label": "奖励比例", "value": 0.01, "unit": "比例"}}')
    page.fill("#id_cap_per_enterprise", "500000")
    page.fill("#id_effective_from", "2025-11-11")
    with page.expect_navigation():
        page.click("#save-item")
    assert "未知的数据列 'rd_expense_lag'" in page.inner_text("#error-eligibility")
    assert not PolicyItem.objects.filter(name=ITEM).exists()
    page.fill(
        "#id_eligibility",
        '[{"kind": "qualification", "qualification": "hnte", "test": "held"},'
        ' {"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": 2000000}]',
    )
    page.fill("#id_test-enterprise", "移远通信")
    page.fill("#id_test-period", str(today.year))
    page.click("#test-button")
    page.wait_for_selector("#test-result h3")
    result = page.inner_text("#test-result")
    assert "上海移远通信技术股份有限公司" in result and "8600万元 × 1% = 860,000 元" in result
    assert "超过单户上限 50万元，按上限核定" in result
    with page.expect_navigation():
        page.click("#save-item")
    item = PolicyItem.objects.get(name=ITEM)
    assert item.state == "draft"
    with page.expect_navigation():
        page.click("#transition-publish")
    assert page.inner_text("#item-state") == "已发布"
    page.fill("#id_test-enterprise", key.uscc)
    page.click("#test-button")
    page.wait_for_selector("#test-result h3")
    assert "核定金额 50万元（500,000 元）" in page.inner_text("#test-result")
    shot(page, "51-policy-item")

    # 3. 免申即享: a period before the item took effect is refused, then this year's run.
    page.fill("#id_period", "2024")
    with page.expect_navigation():
        page.click("#run-button")
    assert "早于政策事项“高新技术企业研发投入奖励”的施行日期 2025-11-11" in page.inner_text(".messages")
    assert not BenefitRun.objects.exists()
    page.fill("#id_period", str(today.year))
    with page.expect_navigation():
        page.click("#run-button")
    page.wait_for_selector("#run-progress[data-status=done]")
    run = BenefitRun.objects.get()
    assert page.inner_text("#run-state") == "待审核"
    granted = Benefit.objects.filter(run=run, state="computed")
    assert granted.filter(enterprise=key, amount=Decimal("500000")).exists()
    totals = page.inner_text("#totals")
    assert f"待审核\n{granted.count()} 户" in totals
    # Exclude one other enterprise with a reason.
    other = granted.exclude(enterprise=key).order_by("enterprise__name").first()
    row = page.locator(f"#benefits tr[data-enterprise='{other.enterprise_id}']")
    row.locator("input[name=reason]").fill("存在未整改的失信记录")
    with page.expect_navigation():
        row.locator("button", has_text="剔除").click()
    assert Benefit.objects.get(pk=other.pk).state == "excluded"
    shot(page, "52-benefit-run")
    with page.expect_navigation():
        page.click("#transition-confirm")
    assert page.inner_text("#run-state") == "已确认"
    with page.expect_download() as download:
        page.click("#payment-export")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["兑付名单"]
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert KEY_ENTERPRISE_USER in names and other.enterprise.name not in names

    # 4. The enterprise accepts, without applying.
    page.context.clear_cookies()
    log_in(page, live_server, "enterprise")
    page.goto(f"{live_server.url}/enterprises/{key.pk}/")
    with page.expect_navigation():
        page.click("#enterprise-policies-link")
    benefit = Benefit.objects.get(run=run, enterprise=key)
    card = page.inner_text("#my-benefits")
    assert f"{ITEM} · {today.year}年度 50万元" in card and "已确认（待企业确认）" in card
    with page.expect_navigation():
        page.click(f"#accept-{benefit.pk}")
    assert "已确认领受" in page.inner_text(".messages")
    assert Benefit.objects.get(pk=benefit.pk).state == "accepted"
    assert "企业已确认" in page.inner_text("#my-benefits")
    gaps = page.inner_text("#with-gaps")
    assert "专精特新“小巨人”企业研发奖励" in gaps and "取得有效的专精特新“小巨人”企业证书" in gaps
    shot(page, "53-enterprise-benefits")


def _figures_file(*rows) -> bytes:
    from openpyxl import Workbook

    from kechuang.policies import figures

    book = Workbook()
    sheet = book.active
    sheet.title = figures.SHEET
    sheet.append(list(figures.COLUMNS))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_officer_imports_period_figures_and_exports_a_long_payment_list_in_the_background(
    page, live_server, registry, monkeypatch
):
    """The officer imports 贷款利息 from .xlsx (a negative amount refused first, by its Excel row, nothing saved),
    then exports a payment list too long for one request: queued, its progress page, the download."""
    from kechuang.policies import exporting
    from kechuang.policies.models import PaymentExport, PolicyFigure

    key = registry
    year = str(timezone.localdate().year)
    other = Enterprise.objects.exclude(pk=key.pk).order_by("pk").first()
    page.set_default_timeout(60000)
    log_in(page, live_server, "officer")
    page.goto(f"{live_server.url}/policies/figures/?period={year}")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    before = PolicyFigure.objects.count()

    page.fill("#import-period", year)
    page.set_input_files(
        "#import-file",
        files=[
            {
                "name": "贷款利息.xlsx",
                "mimeType": xlsx,
                "buffer": _figures_file(
                    (key.uscc, key.name, year, "贷款利息支出", "325,000", "农商行"),
                    (other.uscc, other.name, year, "贷款利息支出", "-1", "农商行"),
                ),
            }
        ],
    )
    with page.expect_navigation():
        page.click("#figure-import-submit")
    errors = page.inner_text("#import-errors")
    assert "文件有 1 行共 1 处错误，未导入任何数据" in errors
    assert "金额（元） -1 元为负数，金额不能为负" in page.inner_text("#import-errors tr[data-row='3']")
    assert PolicyFigure.objects.count() == before

    page.fill("#import-period", year)
    page.set_input_files(
        "#import-file",
        files=[
            {
                "name": "贷款利息.xlsx",
                "mimeType": xlsx,
                "buffer": _figures_file(
                    (key.uscc, key.name, year, "贷款利息支出", "325,000", "农商行"),
                    (other.uscc, other.name, year, "贷款利息支出", "1,000", "农商行"),
                ),
            }
        ],
    )
    with page.expect_navigation():
        page.click("#figure-import-submit")
    assert f"导入 {year}年度的数据 2 行" in page.inner_text(".messages")
    assert PolicyFigure.objects.get(enterprise=key, period=year, name="loan_interest").value == Decimal(
        "325000"
    )
    page.fill("#q", key.name)
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert "32.5万元" in page.inner_text("#figure-list")
    shot(page, "54-policy-figures")

    # A run granting every enterprise in business: its payment list is longer than one request writes.
    officer = User.objects.get(username="officer")
    item = services.item_save(
        item=PolicyItem(
            document=PolicyDocument.objects.get(number="沪松府〔2025〕150号"),
            name="在营企业补贴（浏览器测试）",
            kind="subsidy",
            eligibility=[],
            formula="10000",
            effective_from=dt.date(2025, 11, 11),
        ),
        user=officer,
    )
    services.item_transition(item=item, name="publish", user=officer)
    item.refresh_from_db()
    run = services.run_now(item=item, period_text=year, user=officer)
    services.run_transition(run=run, name="confirm", user=officer)
    granted = Benefit.objects.filter(run=run, state="confirmed").count()
    monkeypatch.setattr(exporting, "PAYMENT_SYNC_MAX", 10)
    assert granted > 10

    page.goto(f"{live_server.url}/policies/runs/{run.pk}/")
    with page.expect_navigation():
        page.click("#payment-export")
    assert page.inner_text("#payment-rows") == str(granted)
    with page.expect_navigation():
        page.click("#payment-export-start")
    job = PaymentExport.objects.get(run=run)
    page.wait_for_selector("#payment-export-download")
    assert f"已写入 {granted} / {granted} 户（100%）" in page.inner_text("#payment-export-progress")
    assert f"已生成兑付名单：{granted} 户" in page.inner_text("#payment-export-message")
    shot(page, "60-payment-export")
    with page.expect_download() as download:
        page.click("#payment-export-download")
    rows = list(
        load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["兑付名单"].iter_rows(
            values_only=True
        )
    )
    assert len(rows) == 1 + granted + 1 and rows[-1][1] == "合计" and rows[-1][5] == 10000 * granted
    assert job.pk and PaymentExport.objects.get(pk=job.pk).status == "done"
