"""双向发榜 in the browser, on the demo data (kechuang demo, demo_accounts, demo_matching): the demo enterprise
user posts a technical demand through the form (refused first for a field left empty and an over-long
description, and the HTML it types shown as text), the officer passes it in the moderation queue, the demand's
page lists its matches with their explanations, the enterprise starts a docking from the best one and moves it
推荐 → 联系 → 洽谈 → 签约 (a signing without its amount refused first), and the board shows it signed. Along the
way: the search box with highlighted terms (a one-character query told why), the officer's open demands with no
good match.

Screenshots go to docs/screenshots/45…48.
"""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from kechuang.enterprises.demo import DEMO_PASSWORD
from kechuang.matching.models import Demand, Docking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TITLE = "通信模组外观缺陷机器视觉检测"
KEYWORDS = "机器视觉、缺陷检测、深度学习、外观检测"
DESCRIPTION = (
    "5G 通信模组屏蔽罩与焊点外观检测依靠人工目检，漏检率约 2%，每班需 6 名检验员。"
    "希望引入基于深度学习的机器视觉检测方案，覆盖划痕、虚焊、缺件、脏污等缺陷，单件检测节拍不超过 0.5 秒，"
    "漏检率低于 0.5%，可与现有产线 MES 对接。<b>欢迎高校团队联系</b>"
)


@pytest.fixture
def demo_market():
    call_command("demo", enterprises=120, verbosity=0)
    call_command("demo_accounts", force=True, verbosity=0)
    call_command("demo_matching", verbosity=0)


def shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def click(page, selector) -> None:
    target = page.locator(selector) if isinstance(selector, str) else selector
    with page.expect_navigation():
        target.click()


def messages(page) -> str:
    return page.inner_text(".messages") if page.locator(".messages").count() else ""


def test_a_demand_is_posted_matched_docked_and_signed(page, live_server, demo_market):
    today = timezone.localdate().isoformat()

    # —— the search box ——
    log_in(page, live_server, "enterprise")
    page.goto(live_server.url + "/matching/")
    page.fill("#q", "电")
    click(page, "#search-form button[type=submit]")
    assert "至少" in page.inner_text("#search-error") or "字" in page.inner_text("#search-error")
    page.fill("#q", "机器视觉 缺陷检测")
    click(page, "#search-form button[type=submit]")
    assert page.locator("#hits li").count() >= 3
    assert page.locator("#hits mark").count() >= 3
    shot(page, "45-matching-search")

    # —— posting a demand: refused first, then saved and submitted ——
    page.goto(live_server.url + "/matching/demands/new/")
    page.fill("#id_title", TITLE)
    page.fill("#id_keywords", KEYWORDS)
    page.fill("#id_description", "长" * 5001)
    click(page, "#save-submit")
    errors = page.inner_text("#form-errors")
    assert "技术领域必须选择" in errors and "需求描述最多 5,000 字，现为 5,001 字" in errors
    assert not Demand.objects.filter(title=TITLE).exists()
    page.select_option("#id_field", "01")
    page.fill("#id_description", DESCRIPTION)
    page.fill("#id_budget", "600000")
    page.fill("#id_contact_name", "质量部 陈工")
    page.fill("#id_contact_phone", "13900001111")
    click(page, "#save-submit")
    assert "已保存并提交审核" in messages(page)
    demand = Demand.objects.get(title=TITLE)
    assert demand.state == "pending"
    assert "<b>欢迎高校团队联系</b>" in page.inner_text("#body")  # shown as typed, not as bold HTML
    assert page.locator("#body b").count() == 0

    # —— the officer passes it ——
    log_in(page, live_server, "officer")
    page.goto(live_server.url + "/matching/moderation/")
    row = page.locator(f"#queue tr[data-kind='demand'][data-pk='{demand.pk}']")
    click(page, row.get_by_role("button", name="审核通过"))
    assert "已审核通过并发布" in messages(page)
    assert Demand.objects.get(pk=demand.pk).state == "published"

    # —— the demand's page: matches with explanations ——
    log_in(page, live_server, "enterprise")
    page.goto(live_server.url + f"/matching/demands/{demand.pk}/")
    rows = page.locator("#match-rows tbody tr")
    assert rows.count() >= 5
    first = rows.first
    assert "共同关键词" in first.inner_text() and "同属领域" in first.inner_text()
    assert first.locator(".terms .tag").count() >= 2
    achievement_pk = int(first.get_attribute("data-pk"))
    shot(page, "46-demand-matches")

    # —— a docking from the best match, to 签约 ——
    click(page, first.get_by_role("button", name="发起对接"))
    docking = Docking.objects.get(demand=demand)
    assert docking.achievement_id == achievement_pk and docking.score is not None
    assert "已发起对接" in messages(page)
    for name, label in (("contact", "已联系"), ("negotiate", "进入洽谈")):
        form = page.locator(f"form[data-step='{name}']")
        form.locator("input[type=date]").fill(today)
        form.locator("textarea").fill(f"{label}：与对方约定现场交流。")
        click(page, form.get_by_role("button", name=label))
        assert f"对接已{label}" in messages(page)
    form = page.locator("form[data-step='sign']")
    form.locator("input[type=date]").fill(today)
    form.locator("textarea").fill("签订技术开发合同，分两期付款。")
    click(page, form.get_by_role("button", name="签约"))
    assert "签约须填写合同金额（元）" in page.locator("form[data-step='sign'] .form-errors").inner_text()
    assert Docking.objects.get(pk=docking.pk).state == "negotiating"
    form = page.locator("form[data-step='sign']")
    form.locator("input[type=date]").fill(today)
    form.locator("input[name='sign-amount']").fill("450000")
    form.locator("textarea").fill("签订技术开发合同，分两期付款。")
    click(page, form.get_by_role("button", name="签约"))
    assert "对接已签约" in messages(page)
    assert page.inner_text("#docking-state") == "签约"
    assert "45.00 万元" in page.inner_text("#amount")
    docking.refresh_from_db()
    assert docking.state == "signed" and str(docking.contract_amount) == "450000.00"

    # —— the board and the officer's open demands ——
    log_in(page, live_server, "officer")
    page.goto(live_server.url + "/matching/dockings/")
    signed = page.locator(".column[data-state='signed']")
    assert signed.locator(f".cardlet[data-pk='{docking.pk}']").count() == 1
    for state in ("recommended", "contacted", "negotiating", "landed", "declined"):
        assert page.locator(f".column[data-state='{state}'] .cardlet").count() >= 1
    shot(page, "47-docking-board")
    page.goto(live_server.url + "/matching/demands/unmatched/")
    assert page.locator("#unmatched-rows tbody tr[data-pk]").count() >= 1
    assert page.locator(f"#unmatched-rows tr[data-pk='{demand.pk}']").count() == 0  # it is being docked
    shot(page, "48-unmatched-demands")
