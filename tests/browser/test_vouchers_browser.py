"""科技创新券 in the browser, one voucher from application to settlement, by the pages alone.

The fixture makes what exists before: the persona users, this year's open scheme, a small catalogue of providers
with their services and a provider user (pat, 服务机构), and another enterprise's voucher already in use (so that
the scheme's figures are not all zero). Enterprise A's registered address is the provider's, written another way:
pat's redemption for it is flagged (关联方：同一地址).

1. alice, from her enterprise's page, applies (an amount over the cap refused first, naming it) and submits;
2. the officer finds it in the queue, approves it with a granted amount (more than applied for refused first);
   the scheme page shows the budget granted and left;
3. pat enters the redemption against the contract and invoice (an ask beyond the voucher's part refused first,
   nothing saved), and is told of the flag;
4. the officer sees verification blocked by the flag, clears it with a note, verifies;
5. the officer settles the provider's verified redemptions of the day and downloads the payment list.

Screenshots go to docs/screenshots/55…58.
"""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from openpyxl import load_workbook

from kechuang.core import roles
from kechuang.enterprises.models import Membership
from kechuang.vouchers import redemptions, services, settlement
from kechuang.vouchers.models import ProviderMember, Redemption, Settlement, Voucher, VoucherApplication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TODAY = timezone.localdate()

CATALOGUE = [
    (
        "上海松江质检技术服务有限公司",
        "testing",
        "欧阳明远",
        "上海市松江区文汇路928号",
        [("电磁兼容（EMC）检测", "8000", "项"), ("环境可靠性试验", "3500", "项")],
    ),
    (
        "松江大学城大型仪器共享平台",
        "instrument",
        "公孙立言",
        "上海市松江区文汇路300号",
        [("扫描电子显微镜机时", "600", "机时"), ("核磁共振波谱机时", "900", "机时")],
    ),
    (
        "上海松江工业设计研究院有限公司",
        "rd",
        "慕容思齐",
        "上海市松江区广富林路658弄12号",
        [("产品工业设计", "40000", "项"), ("样机快速制造", "15000", "件")],
    ),
    (
        "上海G60检验检测有限公司",
        "testing",
        "诸葛远航",
        "上海市松江区沪亭北路218号",
        [("集成电路失效分析", "9000", "项")],
    ),
]


@pytest.fixture
def setting(personas):
    from kechuang.core.uscc import make_code

    p = personas
    officer = User.objects.get(pk=p.carol.pk)
    p.scheme = services.scheme_save(
        year=TODAY.year,
        name="科技创新券",
        budget_total="5000000",
        cap_per_enterprise="200000",
        share_pct="50",
        opens_on=dt.date(TODAY.year, 1, 1),
        closes_on=dt.date(TODAY.year, 12, 31),
        valid_until=dt.date(TODAY.year + 1, 6, 30),
        source="沪松府〔2025〕150号 二（七）",
        user=officer,
    )
    services.scheme_set_state(p.scheme, "open", user=officer)
    p.providers = []
    for number, (name, kind, legal, address, offered) in enumerate(CATALOGUE, 1):
        provider = services.provider_save(
            name=name,
            uscc=make_code(f"91310117MA7R{number:05d}"),
            legal_representative=legal,
            address=address,
            kind=kind,
            contact_person="联系人",
            contact_phone=f"021-5768{number:04d}",
            user=officer,
        )
        for service, price, unit in offered:
            services.service_save(
                provider=provider, name=service, category=kind, unit_price=price, unit=unit, user=officer
            )
        p.providers.append(provider)
    p.pat = User.objects.create_user("pat", password="pass-pat", first_name="质检公司经办人")
    p.pat.groups.add(Group.objects.get(name=roles.PROVIDER.name))
    ProviderMember.objects.create(user=p.pat, provider=p.providers[0])
    # Enterprise A sits at the provider's address, as another clerk typed it.
    p.ent_a.address = "松江区文汇路９２８號"
    p.ent_a.legal_representative = "张伟"
    p.ent_a.save()
    # Enterprise B's voucher, already drawn on and partly settled.
    bella = User.objects.create_user("bella", password="pass-bella")
    bella.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    Membership.objects.create(user=bella, enterprise=p.ent_b)
    application = services.application_save(
        enterprise=p.ent_b,
        scheme=p.scheme,
        requested_amount="150000",
        purpose="仪器共享：电镜与核磁表征",
        user=bella,
    )
    services.application_submit(application, user=bella)
    voucher_b = services.application_approve(application, user=officer)
    platform = p.providers[1]
    for number, amount in enumerate(("12000", "9000"), 1):
        r = redemptions.redeem(
            voucher_number=voucher_b.number,
            enterprise_uscc=p.ent_b.uscc,
            provider=platform,
            service=platform.services.get(name="扫描电子显微镜机时"),
            contract_no=f"GX-{TODAY.year}-00{number}",
            contract_amount=amount,
            invoice_no=f"2631{TODAY:%m%d}0000000000{number:02d}",
            invoice_date=TODAY,
            invoice_amount=amount,
            user=officer,
        )
        redemptions.redemption_verify(r, user=officer)
    settlement.settle(provider=platform, period_start=TODAY, period_end=TODAY, paid_on=TODAY, user=officer)
    return p


def shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-" + username)
    with page.expect_navigation():
        page.click("button[type=submit]")


def click(page, selector) -> None:
    target = page.locator(selector) if isinstance(selector, str) else selector
    with page.expect_navigation():
        target.click()


def messages(page) -> str:
    return page.inner_text(".messages") if page.locator(".messages").count() else ""


def test_a_voucher_from_application_to_settlement(page, live_server, setting, screenshot):
    p = setting
    provider = p.providers[0]
    page.set_default_timeout(60000)  # a shared machine under load can take longer than the default 15 s

    # 1. alice applies from her enterprise's page.
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/enterprises/{p.ent_a.pk}/")
    click(page, "a:has-text('科技创新券')")
    screenshot("vouchers-enterprise-before")
    click(page, "#apply-link")
    page.fill("#id_requested_amount", "200000.01")
    page.fill("#id_purpose", "委托检测新一代 5G 模组的电磁兼容与环境可靠性，支撑产品认证")
    page.select_option(
        "#id_planned_services", label="上海松江质检技术服务有限公司 · 电磁兼容（EMC）检测（8,000.00 元/项）"
    )
    click(page, "#application-form button[type=submit]")
    assert "申请额度 200,000.01 元超过每家企业上限 200,000.00 元" in page.inner_text(".form-errors")
    screenshot("vouchers-application-form-refused")
    assert not VoucherApplication.objects.filter(enterprise=p.ent_a).exists()
    page.fill("#id_requested_amount", "100000")
    click(page, "#application-form button[type=submit]")
    assert "申请已保存为草稿" in messages(page)
    click(page, "button[data-step='submit']")
    assert page.inner_text("#application-state") == "已提交"
    assert VoucherApplication.objects.get(enterprise=p.ent_a).submitted_at is not None

    # 2. The officer approves it from the queue.
    log_in(page, live_server, "carol")
    page.goto(live_server.url + "/vouchers/")
    click(page, "#officer-queues a:has-text('待审核申请')")
    click(page, "#application-rows a:has-text('上海甲科技有限公司')")
    assert "100,000.00 元" in page.inner_text("#requested")
    page.fill("#id_granted_amount", "100000.01")
    page.fill("#id_note", "材料齐全，用途明确")
    shot(page, "56-voucher-application")
    click(page, "#approve-form button[type=submit]")
    assert "核定额度 100,000.01 元超过申请额度 100,000.00 元" in page.inner_text(".form-errors")
    assert not Voucher.objects.filter(enterprise=p.ent_a).exists()
    page.fill("#id_granted_amount", "80000")
    click(page, "#approve-form button[type=submit]")
    voucher = Voucher.objects.get(enterprise=p.ent_a)
    assert f"发放创新券 {voucher.number}，额度 80,000.00 元" in messages(page)
    assert page.inner_text("#application-state") == "已批准"
    page.goto(live_server.url + "/vouchers/")
    row = page.locator(f"#scheme-table tr[data-scheme='{p.scheme.pk}']")
    assert row.locator(".granted").inner_text() == "23.00" and row.locator(".left").inner_text() == "477.00"
    assert row.locator(".settled").inner_text() == "1.05"
    shot(page, "55-voucher-schemes")

    # 3. pat, the provider's user, enters the redemption.
    log_in(page, live_server, "pat")
    page.goto(live_server.url + "/vouchers/")
    click(page, "#voucher-nav a:has-text('提交兑付')")
    page.fill("#id_voucher_number", voucher.number)
    page.fill("#id_enterprise_uscc", p.ent_a.uscc.lower())
    page.select_option("#id_service", label="电磁兼容（EMC）检测（8,000.00 元/项）")
    page.fill("#id_contract_no", "FW-2026-0188")
    page.fill("#id_contract_amount", "24000")
    page.fill("#id_invoice_no", "2631 1120 0000 0000 0188")
    page.fill("#id_invoice_date", TODAY.isoformat())
    page.fill("#id_invoice_amount", "16000")
    page.fill("#id_amount", "8000.01")
    click(page, "#redemption-form button[type=submit]")
    assert "本次抵扣 8,000.01 元超过发票金额 16,000.00 元的 50%（至多 8,000.00 元）" in page.inner_text(
        ".form-errors"
    )
    assert not Redemption.objects.filter(voucher=voucher).exists()
    page.fill("#id_amount", "")
    click(page, "#redemption-form button[type=submit]")
    told = messages(page)
    assert "抵扣 8,000.00 元，余额 72,000.00 元，等待科委核验" in told
    assert "异常预警（关联方：同一地址）" in told
    r = Redemption.objects.get(voucher=voucher)
    assert r.invoice_no == "26311120000000000188"
    page.goto(live_server.url + "/vouchers/providers/")
    screenshot("vouchers-catalogue")

    # 4. The officer: verification waits for the flag; cleared with a note, then verified.
    log_in(page, live_server, "carol")
    page.goto(live_server.url + "/vouchers/")
    click(page, "#voucher-nav a:has-text('兑付核验')")
    screenshot("vouchers-redemption-queue")
    click(page, f"#redemption-rows a:has-text('#{r.pk}')")
    assert "关联方：同一地址" in page.inner_text("#verify-blocked")
    assert page.locator("#verify-button").is_disabled()
    assert "规范化后均为“松江区文汇路928号”" in page.inner_text("#flags")
    shot(page, "57-redemption")
    flag = r.flags.get()
    page.select_option(f"#decision-{flag.pk}", "cleared")
    page.fill(f"#note-{flag.pk}", "企业租用质检公司所在园区的另一楼层，无股权与人员关联")
    click(page, f"#flag-{flag.pk} button[type=submit]")
    assert "已处理为“核实无误”" in messages(page)
    click(page, "#verify-button")
    assert page.inner_text("#redemption-state") == "已核验"

    # 5. Settlement of the day, and the payment list.
    click(page, "#voucher-nav a:has-text('结算')")
    click(page, "a:has-text('办理结算')")
    page.select_option("#id_provider", label=provider.name)
    page.fill("#id_period_start", TODAY.isoformat())
    page.fill("#id_period_end", TODAY.isoformat())
    page.fill("#id_paid_on", TODAY.isoformat())
    page.fill("#id_voucher_no", "记-2026-1123")
    click(page, "#preview-button")
    assert page.locator("#candidate-rows tbody tr").count() == 1
    screenshot("vouchers-settlement-preview")
    click(page, "#settle-form button[type=submit]")
    assert "向“上海松江质检技术服务有限公司”支付 8,000.00 元（1 笔兑付）" in messages(page)
    done = Settlement.objects.get(provider=provider)
    assert done.total == Decimal("8000.00")
    r.refresh_from_db()
    assert r.state == "settled"
    shot(page, "58-settlement")
    with page.expect_download() as download:
        page.click("#xlsx-link")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["支付清单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][2] == voucher.number and rows[1][10] == 8000
    page.goto(live_server.url + "/vouchers/flags/?resolution=all")
    screenshot("vouchers-flags")
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/vouchers/enterprises/{p.ent_a.pk}/")
    assert "72,000.00" in page.inner_text(f"#voucher-table tr[data-voucher='{voucher.number}'] .balance")
    screenshot("vouchers-enterprise-after")
