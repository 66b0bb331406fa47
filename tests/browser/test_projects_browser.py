"""科技计划项目 in the browser, one project from call to archive through every role, by the pages alone.

The fixtures make only what an administrator sets up before a call: the persona users (conftest.py), a second
enterprise user, a programme with a sub-programme, 高企 certificates and six experts with their accounts.
Everything after that is done by clicking and typing, as each role would:

1. the officer builds a call in the call builder (eligibility, sections with a conditional one, the score
   sheet; a wrong weight total refused first) and publishes it;
2. two enterprises see it among the open calls with their eligibility (满足 / 待核实), start, fill the form
   (a bad number refused, naming the field), the budget by category, attach the 实施方案 and submit; the submit
   box first lists what keeps alice from submitting (a required field of the conditional section, the budget
   over the cap), each named;
3. 形式审查: alice's application is returned with reasons (a return without reasons refused), fixed and
   resubmitted, then passed; the other passes at once;
4. the officer moves the deadline into the past on the edit page (the product allows it: only the form,
   eligibility, cap and opening time are fixed once applications exist), closes the call, starts review from
   the task inbox, confirms the proposed experts and sends both applications to review;
5. six experts log in: one declares a conflict and withdraws, the officer adds a replacement, the others accept
   and score (a score over the criterion's maximum refused);
6. the ranking shows the trimmed means and the outlier; review is finished, alice's application approved with a
   任务书 (an amount over what was applied for refused first) and two milestones, the other not approved, and
   the call's results published;
7. alice reports the first milestone, the officer accepts it and pays its tranche, alice reports spending by
   category and is warned of the overspent one, the officer records the mid-term check, the acceptance and the
   performance evaluation (patents, revenue, jobs, score), the award is archived, and the leader reads it.
The task inboxes (/workflows/inbox/) are checked along the way for the officer, alice, an expert and the leader.

Screenshots go to docs/screenshots/25…34.
"""

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from kechuang.core import roles
from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Membership, Qualification
from kechuang.projects.models import Application, Award, Call, Expert, Programme
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CALL_TITLE = "2026年度科技攻关项目（联合攻关）"
APP1 = "手术机器人高精度伺服系统研制"
APP2 = "植物病害快速检测试剂研发"
# (username, name, organisation, fields, keywords): alice's application (电子信息; 伺服、手术机器人) matches 1–5,
# the other (生物与新医药; 生物、检测) 2–6, so the proposal is 1–5 and 2–6 whatever the draw; 6 replaces 1 when
# 1 withdraws.
EXPERTS = [
    ("wanglei", "王磊", "上海交通大学", ["01"], "伺服、电机"),
    ("lina", "李娜", "同济大学", ["01", "02"], "伺服、生物"),
    ("zhangwei", "张伟", "复旦大学", ["01", "02"], "伺服、生物"),
    ("liuyang", "刘洋", "华东理工大学", ["01", "02"], "伺服、生物"),
    ("chenjing", "陈静", "上海大学", ["01", "02"], "伺服、生物"),
    ("zhaomin", "赵敏", "东华大学", ["02"], "生物、检测"),
]
# Scores per expert (创新性 /40, 可行性 /30, 预期效益 /30: the total is their sum) for each application.
SCORES = {
    APP1: {
        "lina": (34, 26, 25),  # 85
        "zhangwei": (32, 24, 24),  # 80
        "liuyang": (33, 25, 24),  # 82
        "chenjing": (31, 24, 23),  # 78
        "zhaomin": (16, 12, 12),  # 40: more than 20 from the median 80, an outlier
    },
    APP2: {
        "lina": (28, 21, 21),  # 70
        "zhangwei": (29, 22, 21),  # 72
        "liuyang": (30, 23, 22),  # 75
        "chenjing": (27, 21, 20),  # 68
        "zhaomin": (28, 22, 21),  # 71
    },
}


@pytest.fixture
def setting(personas):
    """What exists before the call: personas, a second enterprise's user, the programme, certificates, experts."""
    p = personas
    p.root = Programme.objects.create(code="gongguan", name="科技攻关", source="松科委〔2026〕13号")
    p.programme = Programme.objects.create(code="gongguan-joint", name="联合攻关", parent=p.root)
    issued = timezone.localdate() - dt.timedelta(days=200)
    for number, enterprise in enumerate((p.ent_a, p.ent_b), 1):
        Qualification.objects.create(
            enterprise=enterprise,
            kind="hnte",
            level="national",
            certificate_no=f"GR20253100000{number}",
            issue_date=issued,
        )
    p.bella = User.objects.create_user("bella", password="pass-bella")
    p.bella.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    Membership.objects.create(user=p.bella, enterprise=p.ent_b)
    expert_group = Group.objects.get(name=roles.EXPERT.name)
    p.experts = {}
    for number, (username, name, organisation, fields, keywords) in enumerate(EXPERTS, 1):
        user = User.objects.create_user(username, password="pass-" + username, first_name=name)
        user.groups.add(expert_group)
        p.experts[username] = Expert.objects.create(
            user=user,
            name=name,
            organisation=organisation,
            organisation_code=make_code(f"12310000MB2C0000{number}"),
            title="教授",
            fields=fields,
            keywords=keywords,
        )
    return p


# —— helpers ——————————————————————————————————————————————————————————————————————————————————————————


@pytest.fixture
def page(browser):
    """conftest's page, in a Chromium whose own controls (file chooser, date and time fields) speak Chinese, as
    the users' browsers do: LANGUAGE picks its interface language where Debian's chromium-l10n is installed
    (without it, English as before). A second browser of the session's Playwright."""
    chinese = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env={**os.environ, "LANGUAGE": "zh_CN:zh"}
    )
    context = chinese.new_context(
        viewport={"width": 1400, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    # A page load may wait on a busy machine (the first one also loads every app's template tags): more time
    # for navigations than for finding an element.
    page.set_default_navigation_timeout(60000)
    yield page
    context.close()
    chinese.close()


def shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    # Nothing focused: after a full-page screenshot (the view resized and back) a click following the typing in
    # a still focused field can be lost.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username: str, then: str = "") -> None:
    """Log in afresh as `username`; `then`: the page asked for (an expert follows the link to its review tasks;
    after a plain login each role lands on its start page, kechuang/core/start.py)."""
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/" + (f"?next={then}" if then else ""))
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-" + username)
    with page.expect_navigation():
        page.click("button[type=submit]")


def click(page, selector) -> None:
    """Click something that loads a new page (a link or a form's submit button)."""
    target = page.locator(selector) if isinstance(selector, str) else selector
    with page.expect_navigation():
        target.click()


def messages(page) -> str:
    return page.inner_text(".messages") if page.locator(".messages").count() else ""


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def inbox(page, live_server) -> dict[str, list[str]]:
    """The task inbox: {"projects.application:12": [button labels]} for each row."""
    page.goto(live_server.url + "/workflows/inbox/")
    rows = {}
    for row in page.locator("tr[data-object]").all():
        rows[row.get_attribute("data-object")] = [b.inner_text() for b in row.locator("button").all()]
    return rows


def take(page, live_server, key: str, label: str, reason: str = "") -> str:
    """Take a step from the task inbox; the message it shows."""
    page.goto(live_server.url + "/workflows/inbox/")
    row = page.locator(f"tr[data-object='{key}']")
    if reason:
        row.locator("input[name=reason]").fill(reason)
    click(page, row.locator("button", has_text=label))
    return messages(page)


def pk_in(url: str, pattern: str) -> int:
    return int(re.search(pattern, url).group(1))


# —— 1. the call builder ——————————————————————————————————————————————————————————————————————————————


def builder_section(page, index: int):
    return page.locator("#form-builder .bsec").nth(index)


def builder_field(
    page, section: int, index: int, key: str, label: str, kind: str, *, required=True, extra=""
):
    """Fill the index-th field row of a section: code, name, type (which redraws the builder), then its options
    or maximum length, and whether it is required."""
    row = builder_section(page, section).locator("tbody tr").nth(index)
    row.locator("td").nth(0).locator("input").fill(key)
    row.locator("td").nth(1).locator("input").fill(label)
    row.locator("td").nth(2).locator("select").select_option(kind)
    row = builder_section(page, section).locator("tbody tr").nth(index)  # redrawn
    if extra:
        row.locator("td").nth(4).locator("textarea, input").fill(extra)
    box = row.locator("td").nth(3).locator("input[type=checkbox]")
    if required:
        box.check()
    else:
        box.uncheck()


def add_section(page, key: str, title: str) -> int:
    page.locator("#form-builder").get_by_role("button", name="添加部分").click()
    index = page.locator("#form-builder .bsec").count() - 1
    head = builder_section(page, index).locator(".row").first.locator("input")
    head.nth(0).fill(key)
    head.nth(1).fill(title)
    return index


def build_call(page, live_server) -> int:
    now = timezone.now()
    page.goto(live_server.url + "/projects/calls/")
    click(page, "text=新建申报批次")
    page.select_option("#id_programme", label="联合攻关")
    page.fill("#id_year", "2026")
    page.fill("#id_title", CALL_TITLE)
    page.fill(
        "#id_guide", "围绕松江区重点产业开展关键共性技术攻关。\n申报单位须为在松江区注册的高新技术企业。"
    )
    page.fill("#id_budget_total", "200")
    page.fill("#id_cap_per_project", "50")
    page.fill("#id_opens_at", local(now - dt.timedelta(days=1)))
    page.fill("#id_closes_at", local(now + dt.timedelta(days=30)))
    page.fill("#id_experts_per_application", "5")

    # Eligibility: 松江注册 comes ticked; add 高企 in force, and the last tiering assessment (not run: 待核实).
    page.check("#eligibility-builder [data-rule=hnte_valid] input[type=checkbox]")
    page.check("#eligibility-builder [data-rule=hnte_assessed] input[type=checkbox]")

    # The form: basic information, a section shown only for 医药卫生, outcomes with a required file.
    basic = add_section(page, "basic", "项目基本信息")
    builder_field(page, basic, 0, "track", "申报方向", "choice", extra="联合攻关\n医药卫生\n科技农业")
    builder_section(page, basic).get_by_role("button", name="添加字段").click()
    builder_field(page, basic, 1, "summary", "项目简介", "textarea", extra="500")
    medical = add_section(page, "medical", "医药卫生专项")
    builder_field(page, medical, 0, "ethics", "伦理审查意见", "textarea")
    condition = builder_section(page, medical).locator(".row").nth(1)
    condition.locator("select").first.select_option("track")
    builder_section(page, medical).locator(".row").nth(1).locator("select").nth(1).select_option("医药卫生")
    outcomes = add_section(page, "outcomes", "预期成果")
    builder_field(page, outcomes, 0, "patents", "申请发明专利（件）", "number")
    builder_section(page, outcomes).get_by_role("button", name="添加字段").click()
    builder_field(page, outcomes, 1, "plan", "实施方案", "file")
    assert "cond" in builder_section(page, medical).get_attribute("class")

    # The score sheet, first with weights summing to 90.
    sheet = page.locator("#sheet-builder")
    for key, label, top, weight in (
        ("innovation", "创新性", "40", "40"),
        ("feasibility", "可行性", "30", "30"),
        ("benefit", "预期效益", "30", "20"),
    ):
        sheet.get_by_role("button", name="添加评分项").click()
        cells = sheet.locator("tbody tr").last.locator("td")
        cells.nth(0).locator("input").fill(key)
        cells.nth(1).locator("input").fill(label)
        cells.nth(2).locator("input").fill(top)
        cells.nth(3).locator("input").fill(weight)
    assert "权重合计 90 / 100" in sheet.inner_text() and sheet.locator(".total.bad").count() == 1
    click(page, "#call-builder button[type=submit]")
    assert "评分表：评分表各项权重之和须为 100，现为 90" in page.inner_text("#builder-errors")
    assert not Call.objects.exists()
    # The builder comes back with everything as it was typed; correct the weight.
    sheet = page.locator("#sheet-builder")
    sheet.locator("tr[data-criterion=benefit] td").nth(3).locator("input").fill("30")
    assert "权重合计 100 / 100" in sheet.inner_text() and sheet.locator(".total.bad").count() == 0
    assert page.locator("#form-builder .bsec.cond[data-section=medical]").count() == 1
    shot(page, "25-call-builder")
    click(page, "#call-builder button[type=submit]")
    assert "已保存" in messages(page) and "（草稿）" in messages(page)
    call_pk = pk_in(page.url, r"/calls/(\d+)/")
    assert page.inner_text("#call-state") == "草稿"
    structure = page.inner_text("main")
    assert "当 track 为“医药卫生”时显示" in structure or "医药卫生专项" in structure
    click(page, "form[action$='/transition/open/'] button")
    assert "已发布，开始受理" in messages(page)
    assert page.inner_text("#call-state") == "受理中"
    return call_pk


# —— 2. applying ————————————————————————————————————————————————————————————————————————————————————————


def start_application(page, live_server, call_pk: int, title: str, field: str, keywords: str) -> int:
    page.goto(live_server.url + "/projects/calls/open/")
    card = page.locator(f"section[data-call='{call_pk}']")
    click(page, card.locator("a", has_text="查看指南并申报"))
    assert page.input_value("#field") == field  # the enterprise's own 技术领域, unless changed
    page.fill("#title", title)
    page.fill("#keywords", keywords)
    click(page, "button:has-text('创建申报（草稿）')")
    assert "申报已创建（草稿）" in messages(page)
    return pk_in(page.url, r"/applications/(\d+)/edit/")


def upload_plan(page, tmp_path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(PDF)
    form = page.locator("#file-fields form[data-section=outcomes]")
    form.locator("input[type=file]").set_input_files(str(path))
    click(page, form.locator("button[type=submit]"))
    assert f"已上传“{name}”" in messages(page)


def fill_budget(page, **subsidies) -> None:
    for category, amount in subsidies.items():
        page.fill(f"input[name='{category}-subsidy']", amount)
    click(page, "#budget-form button[type=submit]")
    assert "经费预算已保存" in messages(page)


def alice_applies(page, live_server, call_pk, tmp_path) -> int:
    log_in(page, live_server, "alice")
    page.click("nav summary:text-is('项目')")  # the top bar's menu (base.html) opens
    click(page, "nav >> text=项目申报")
    card = page.locator(f"section[data-call='{call_pk}']")
    assert CALL_TITLE in card.inner_text() and "单项资助上限 50.00 万元" in card.inner_text()
    assert "可以申报" in card.inner_text() and "1 项待核实" in card.inner_text()
    results = {
        r.get_attribute("data-rule"): r.inner_text() for r in card.locator("#eligibility tr[data-rule]").all()
    }
    assert (
        "满足" in results["registered_in_songjiang"]
        and "临港松江科技园" in results["registered_in_songjiang"]
    )
    assert "满足" in results["hnte_valid"] and "GR202531000001" in results["hnte_valid"]
    assert "待核实" in results["hnte_assessed"] and "尚无梯度评估结果" in results["hnte_assessed"]
    shot(page, "26-open-calls")

    app = start_application(page, live_server, call_pk, APP1, "01", "伺服、手术机器人")
    # The conditional section appears when 医药卫生 is chosen.
    assert page.locator("section[data-section=medical]").is_hidden()
    page.select_option("#f-track", "医药卫生")
    assert page.locator("section[data-section=medical]").is_visible()
    page.fill("#f-summary", "研制手术机器人用高精度伺服系统，定位精度达到 0.01 毫米。")
    page.fill("#f-patents", "两件")
    click(page, "button[value=save]")
    assert "“申请发明专利（件）”须为数字，收到“两件”" in page.inner_text("#form-errors")
    assert "“申请发明专利（件）”须为数字" in page.inner_text("#f-patents ~ ul.errorlist")
    assert Application.objects.get(pk=app).data == {}  # nothing saved
    assert page.locator("section[data-section=medical]").is_visible()  # as typed
    page.fill("#f-patents", "3")
    click(page, "button[value=save]")
    assert "草稿已保存" in messages(page)
    assert "还须填写 2 项必填内容" in page.inner_text(
        "#missing"
    )  # 伦理审查意见, and the 实施方案 uploaded next
    upload_plan(page, tmp_path, "实施方案.pdf")
    click(page, "button[value=next]")
    assert "/budget/" in page.url
    # 60 万元 asked for: saved as a draft, flagged against the 50 万元 cap.
    fill_budget(page, equipment="400000", business="150000", labour="50000")
    assert "申请资助超过单项资助上限 50.00 万元" in page.inner_text("#over-cap")
    assert page.inner_text("#requested") == "600,000.00"

    click(page, "text=检查并提交")
    problems = page.inner_text("#submit-problems")
    assert "“医药卫生专项”中的“伦理审查意见”为必填项" in problems
    assert "申请资助 60.00 万元，超过单项资助上限 50.00 万元" in problems
    assert page.locator("#submit-box button[type=submit]").is_disabled()

    click(page, ".pagehead >> text=申报书")
    page.fill("#f-ethics", "已通过上海市第六人民医院伦理委员会审查（批件号 2026-伦审-017）。")
    click(page, "button[value=save]")
    assert "草稿已保存" in messages(page) and page.locator("#missing").count() == 0
    shot(page, "27-application-form")
    click(page, "button[value=next]")
    page.fill("input[name='equipment-subsidy']", "200000")
    fill_budget(page)
    assert page.inner_text("#requested") == "400,000.00" and page.locator("#over-cap").count() == 0

    # Ready: the inbox offers the submission.
    waiting = inbox(page, live_server)
    assert waiting == {f"projects.application:{app}": ["提交申报", "撤回申报"]}
    page.goto(live_server.url + f"/projects/applications/{app}/")
    assert page.locator("#submit-problems").count() == 0
    click(page, "#submit-box button[type=submit]")
    assert "提交，等待形式审查" in messages(page) and page.inner_text("#app-state") == "已提交"
    return app


def bella_applies(page, live_server, call_pk, tmp_path) -> int:
    log_in(page, live_server, "bella")
    app = start_application(page, live_server, call_pk, APP2, "02", "生物、检测")
    page.select_option("#f-track", "科技农业")
    assert page.locator("section[data-section=medical]").is_hidden()  # hidden: requires nothing
    page.fill("#f-summary", "研发针对水稻主要病害的现场快速检测试剂盒。")
    page.fill("#f-patents", "1")
    click(page, "button[value=save]")
    assert "草稿已保存" in messages(page)
    upload_plan(page, tmp_path, "检测试剂实施方案.pdf")
    click(page, ".pagehead >> text=经费预算与附件")
    fill_budget(page, business="300000", labour="60000")
    page.goto(live_server.url + f"/projects/applications/{app}/")
    click(page, "#submit-box button[type=submit]")
    assert page.inner_text("#app-state") == "已提交"
    return app


# —— 3. 形式审查 ——————————————————————————————————————————————————————————————————————————————————————————


def formal_review(page, live_server, app1, app2) -> None:
    waiting = inbox(page, live_server)
    for app in (app1, app2):
        assert waiting[f"projects.application:{app}"] == ["退回修改", "形式审查通过", "形式审查不通过"]
    page.click("nav summary:text-is('项目')")  # the top bar's menu (base.html) opens
    click(page, "nav >> text=科技计划")
    click(page, ".pagehead >> text=形式审查")
    assert page.inner_text("#queue-table").count("审查") == 2
    click(page, page.locator("#queue-table tr", has_text=APP1).locator("a", has_text="审查"))
    # Returned without a reason: refused, nothing changed.
    click(page, "button[value=return]")
    assert "退回修改须写明理由（每行一条）" in page.inner_text("#review-form")
    assert Application.objects.get(pk=app1).state == "submitted"
    page.fill("#reasons", "实施方案未列经费测算依据，请补充后重新上传\n伦理审查批件请注明有效期")
    shot(page, "28-formal-review")
    click(page, "button[value=return]")
    assert f"《{APP1}》已退回修改" in messages(page)
    click(page, page.locator("#queue-table tr", has_text=APP2).locator("a", has_text="审查"))
    click(page, "button[value=pass]")
    assert f"《{APP2}》形式审查通过" in messages(page)
    assert "没有待形式审查的申报" in page.inner_text("#queue-table")


def alice_resubmits(page, live_server, app1, tmp_path) -> None:
    log_in(page, live_server, "alice")
    waiting = inbox(page, live_server)
    assert waiting == {f"projects.application:{app1}": ["修改后重新提交", "撤回申报"]}
    page.goto(live_server.url + "/projects/applications/")
    click(page, page.locator("#application-table a", has_text=APP1))
    assert page.inner_text("#app-state") == "退回修改"
    assert "实施方案未列经费测算依据" in page.inner_text("#decisions")
    history = page.inner_text("#history")
    assert "提交申报（草稿 → 已提交）" in history and "退回修改（已提交 → 退回修改）" in history
    click(page, ".pagehead >> text=申报书")
    page.fill(
        "#f-ethics", "已通过上海市第六人民医院伦理委员会审查（批件号 2026-伦审-017，有效期至 2028-12-31）。"
    )
    click(page, "button[value=save]")
    upload_plan(page, tmp_path, "实施方案（含经费测算）.pdf")
    page.goto(live_server.url + f"/projects/applications/{app1}/")
    assert page.locator("#attachment-table tbody tr").count() == 1  # the field's file replaced, not added
    click(page, "#submit-box button[type=submit]")
    assert page.inner_text("#app-state") == "已提交"


# —— 4. closing, review, assignment —————————————————————————————————————————————————————————————————————


def close_and_assign(page, live_server, call_pk, app1, app2) -> None:
    page.goto(live_server.url + f"/projects/calls/{call_pk}/")
    close = page.locator("form[action$='/transition/close/'] button")
    assert close.is_disabled() and "未到" in close.get_attribute("title")
    # The deadline brought forward on the edit page (allowed: only the form, eligibility, cap and opening
    # time are fixed once there are applications).
    click(page, ".pagehead >> text=编辑")
    assert "本批次已有 2 份申报，不能再修改" in page.inner_text("main")
    page.fill("#id_closes_at", local(timezone.now() - dt.timedelta(minutes=1)))
    click(page, "#call-builder button[type=submit]")
    assert "已保存" in messages(page)
    click(page, "form[action$='/transition/close/'] button")
    assert "已截止受理" in messages(page) and page.inner_text("#call-state") == "已截止"

    waiting = inbox(page, live_server)
    assert waiting[f"projects.call:{call_pk}"] == ["开始评审"]
    assert f"projects.application:{app1}" not in waiting  # 送专家评审 waits for the review to start
    assert "评审中" in take(page, live_server, f"projects.call:{call_pk}", "开始评审")

    page.goto(live_server.url + f"/projects/calls/{call_pk}/")
    click(page, "text=分配评审专家")
    click(page, "#propose")
    proposal = page.locator("#proposal")
    assert "共 2 项申报、10 人次专家" in proposal.inner_text()
    first = proposal.locator(f"tr[data-application='{app1}']").inner_text()
    second = proposal.locator(f"tr[data-application='{app2}']").inner_text()
    assert all(name in first for name in ("王磊", "李娜", "张伟", "刘洋", "陈静")) and "赵敏" not in first
    assert all(name in second for name in ("李娜", "张伟", "刘洋", "陈静", "赵敏")) and "王磊" not in second
    assert "领域匹配：电子信息；相关专长：伺服" in first and "领域匹配：生物与新医药；" in second
    shot(page, "29-review-assignment")
    click(page, "#confirm")
    assert "已分配 10 人次评审专家，涉及 2 项申报" in messages(page)

    waiting = inbox(page, live_server)
    for app in (app1, app2):
        assert waiting[f"projects.application:{app}"] == ["送专家评审"]
        assert "专家评审中" in take(page, live_server, f"projects.application:{app}", "送专家评审")


# —— 5. experts ————————————————————————————————————————————————————————————————————————————————————————


def open_assignment(page, live_server, title: str) -> None:
    page.goto(live_server.url + "/projects/review/inbox/")
    click(page, page.locator("#waiting tr", has_text=title).locator("a", has_text="评审"))


def score(page, values) -> None:
    for key, value in zip(("innovation", "feasibility", "benefit"), values, strict=True):
        page.fill(f"#id_score_{key}", str(value))
    page.fill("#id_comment", "技术路线清晰，团队基础较好。")
    click(page, "#score-form button[type=submit]")


def expert_withdraws(page, live_server) -> None:
    log_in(page, live_server, "wanglei", then="/workflows/inbox/")
    # Review tasks are kept in the expert's own list; the task inbox points there.
    click(page, "#review-tasks a")
    assert page.locator("#waiting tr[data-assignment]").count() == 1
    open_assignment(page, live_server, APP1)
    page.fill("#reason", "本人近三年与申报单位有合作项目")
    click(page, "#withdraw-form button[type=submit]")
    assert f"已申明回避“{APP1}”" in messages(page)
    assert "没有待评审的项目" in page.inner_text("main") and "另有 1 项因回避已移出" in page.inner_text(
        "main"
    )


def officer_replaces(page, live_server, call_pk, app1) -> None:
    page.goto(live_server.url + f"/projects/review/calls/{call_pk}/assign/")
    row = page.locator(f"#assignment-table tr[data-application='{app1}']")
    assert "王磊 回避退出" in row.inner_text() and "本人近三年与申报单位有合作项目" in row.inner_text()
    click(page, row.locator("button", has_text="补充专家"))
    assert f"已为“{APP1}”补充 1 名专家：赵敏" in messages(page)


def experts_score(page, live_server) -> None:
    for username in ("lina", "zhangwei", "liuyang", "chenjing", "zhaomin"):
        log_in(page, live_server, username, then="/projects/review/inbox/")
        assert page.locator("nav a", has_text="评审任务").count() == 1
        assert page.locator("#waiting tr[data-assignment]").count() == 2
        for title in (APP1, APP2):
            open_assignment(page, live_server, title)
            content = page.inner_text("#application-content")
            assert "附件：实施方案" in content  # the file by its title, not its id
            assert ("医药卫生专项" in content) == (title == APP1)  # only the sections shown for the answers
            click(page, "#accept")
            assert f"已接受“{title}”的评审邀请" in messages(page)
            values = SCORES[title][username]
            if username == "zhaomin" and title == APP1:
                # Over the criterion's maximum: refused with the range, nothing saved.
                score(page, (45, *values[1:]))
                assert "“创新性”的得分 45 超出允许范围 0–40" in page.inner_text("#score-form")
                shot(page, "30-expert-scoring")
            score(page, values)
            assert f"已提交“{title}”的评分" in messages(page)
        assert page.locator("#waiting tr[data-assignment]").count() == 0
        assert page.locator("#done tr[data-assignment]").count() == 2


# —— 6. ranking and 立项 —————————————————————————————————————————————————————————————————————————————————


def rank_and_approve(page, live_server, call_pk, app1, app2) -> int:
    page.goto(live_server.url + f"/projects/calls/{call_pk}/")
    click(page, "text=评审排名")
    first = page.locator("#ranking-table tbody tr").nth(0)
    second = page.locator("#ranking-table tbody tr").nth(1)
    assert first.get_attribute("data-application") == str(app1)
    assert first.locator("td.rank").inner_text() == "1" and "80.00" in first.locator("td.mean").inner_text()
    assert "去极值" in first.locator("td.mean").inner_text()
    assert "赵敏 40.00" in first.locator("td.outliers").inner_text()
    assert (
        "71.00" in second.locator("td.mean").inner_text() and second.locator("td.outliers .tag").count() == 0
    )
    assert "1 项有偏离专家" in page.inner_text(".pagehead")

    waiting = inbox(page, live_server)
    for app in (app1, app2):
        assert waiting[f"projects.application:{app}"] == ["评审完成"]
        assert "评审完成" in take(page, live_server, f"projects.application:{app}", "评审完成")
    assert "不予立项" in take(
        page, live_server, f"projects.application:{app2}", "不予立项", "评审得分未达立项线"
    )

    page.goto(live_server.url + f"/projects/review/calls/{call_pk}/ranking/")
    assert page.inner_text(f"tr[data-application='{app1}'] .tag.state") == "评审完成"
    assert page.inner_text(f"tr[data-application='{app2}'] .tag.state") == "不予立项"
    assert page.locator("a.award-link").count() == 1
    shot(page, "31-ranking")
    click(page, page.locator(f"#ranking-table tr[data-application='{app1}'] a.award-link"))
    assert "400,000.00 元" in page.inner_text("#requested")
    today = timezone.localdate()
    page.fill("#id_contract_no", "SKJ-2026-001")
    page.fill("#id_amount", "450000")
    page.fill("#id_start_date", today.isoformat())
    page.fill("#id_end_date", (today + dt.timedelta(days=730)).isoformat())
    milestones = (
        ("样机研制", "伺服系统样机一套，定位精度测试报告", today + dt.timedelta(days=180), "240000"),
        (
            "临床前验证与验收",
            "第三方检测报告、发明专利申请受理通知书",
            today + dt.timedelta(days=700),
            "160000",
        ),
    )
    for number, (title, deliverables, due, tranche) in enumerate(milestones):
        page.fill(f"#id_m-{number}-title", title)
        page.fill(f"#id_m-{number}-deliverables", deliverables)
        page.fill(f"#id_m-{number}-due_date", due.isoformat())
        page.fill(f"#id_m-{number}-tranche", tranche)
    click(page, "#award-form button[type=submit]")
    errors = page.inner_text("#award-form")
    assert "资助金额 450,000.00 元超过申报单位申请的资助 400,000.00 元" in errors
    assert not Award.objects.exists()
    page.fill("#id_amount", "400000")
    shot(page, "32-award-contract")
    click(page, "#award-form button[type=submit]")
    assert "已下达任务书 SKJ-2026-001，资助 400,000.00 元" in messages(page)
    award_pk = pk_in(page.url, r"/awards/(\d+)/")
    assert page.inner_text("#award-state") == "已签任务书"

    waiting = inbox(page, live_server)
    assert waiting[f"projects.call:{call_pk}"] == ["公布立项结果"]
    assert waiting[f"projects.award:{award_pk}"] == ["开始实施"]
    take(page, live_server, f"projects.call:{call_pk}", "公布立项结果")
    assert "实施中" in take(page, live_server, f"projects.award:{award_pk}", "开始实施")
    return award_pk


# —— 7. the money loop, evaluations, archive ————————————————————————————————————————————————————————————


def evaluate(page, kind: str, **values) -> str:
    page.select_option("#id_kind", kind)
    page.fill("#id_held_on", timezone.localdate().isoformat())
    for name, value in values.items():
        page.fill(f"#id_{name}", value)
    click(page, "#evaluation-form button[type=submit]")
    return messages(page)


def money_loop(page, live_server, app1, award_pk) -> None:
    # alice finds her award from her application and reports the first milestone.
    log_in(page, live_server, "alice")
    assert inbox(page, live_server) == {}  # nothing waits on her: the award's steps are the commission's
    page.goto(live_server.url + f"/projects/applications/{app1}/")
    assert page.inner_text("#app-state") == "立项"
    click(page, "#award-link a")
    first = page.locator("#milestones tbody tr").nth(0)
    first.locator("summary", has_text="提交节点报告").click()
    first.locator("textarea[name=text]").fill("样机已完成装配，定位精度 0.008 毫米，测试报告见附件。")
    click(page, first.locator("button", has_text="提交"))
    assert "第 1 个节点报告已提交，等待验收" in messages(page)
    assert page.locator("#expenditure-form").count() == 1 and page.locator("#evaluation-form").count() == 0

    # The officer accepts it and pays its tranche.
    log_in(page, live_server, "carol")
    page.goto(live_server.url + "/projects/awards/")
    click(page, "#award-rows a:has-text('SKJ-2026-001')")
    first = page.locator("#milestones tbody tr").nth(0)
    click(page, first.locator("button", has_text="验收通过"))
    assert "第 1 个节点已验收" in messages(page)
    first = page.locator("#milestones tbody tr").nth(0)
    first.locator("summary", has_text="拨付").click()
    first.locator("input[name=voucher_no]").fill("PZ-2026-0158")
    click(page, first.locator("button", has_text="确认拨付"))
    assert "第 1 个节点已拨付 240,000.00 元" in messages(page)
    assert "240,000.00 元（60.0%）" in page.inner_text("#disbursed")
    assert "PZ-2026-0158" in page.inner_text("#disbursements")
    second = page.locator("#milestones tbody tr").nth(1)
    assert second.locator("summary", has_text="拨付").count() == 0  # not reported, not accepted: not payable

    # alice reports spending by category: 设备费 over its 20 万元 line.
    log_in(page, live_server, "alice")
    page.goto(live_server.url + f"/projects/awards/{award_pk}/")
    page.fill("#id_period_end", timezone.localdate().isoformat())
    page.fill("#id_equipment", "210000")
    page.fill("#id_business", "20000")
    page.fill("#id_note", "采购伺服驱动器与测试平台")
    click(page, "#expenditure-form button[type=submit]")
    said = messages(page)
    assert "经费支出已保存" in said
    assert "设备费超支：累计支出 210,000.00 元，为预算 200,000.00 元的 105.0%（超出 10,000.00 元）" in said
    row = page.locator("#expenditure tbody tr", has_text="设备费")
    assert "超支" in row.inner_text() and "+5.0%" in row.inner_text()
    shot(page, "33-disbursement")

    # The officer records the checks and the evaluation; each moves the award on.
    log_in(page, live_server, "carol")
    page.goto(live_server.url + f"/projects/awards/{award_pk}/")
    assert "中期检查已记录：通过" in evaluate(
        page, "mid_term", conclusion="通过", opinion="进度符合任务书要求"
    )
    assert page.inner_text("#award-state") == "已中期检查"
    evaluate(page, "acceptance", conclusion="通过", score="86", opinion="完成任务书约定的考核指标")
    assert page.inner_text("#award-state") == "验收通过"
    evaluate(page, "performance", conclusion="良好", score="88.5", patents="3", revenue="5000000", jobs="12")
    assert page.inner_text("#award-state") == "已绩效评价"
    rows = page.inner_text("#evaluations")
    assert "绩效评价" in rows and "5,000,000.00" in rows and "88.50" in rows
    waiting = inbox(page, live_server)
    assert waiting[f"projects.award:{award_pk}"] == ["归档"]
    assert "已归档" in take(page, live_server, f"projects.award:{award_pk}", "归档", "项目资料已整理归档")
    assert f"projects.award:{award_pk}" not in inbox(page, live_server)

    # The leader reads the archived award; nothing to act on.
    log_in(page, live_server, "leo")
    assert inbox(page, live_server) == {} and page.locator("#inbox-empty").count() == 1
    page.goto(live_server.url + "/projects/awards/")
    click(page, "#award-rows a:has-text('SKJ-2026-001')")
    assert page.inner_text("#award-state") == "已归档"
    for form in ("#expenditure-form", "#evaluation-form", "#milestones form", "#milestones button"):
        assert page.locator(form).count() == 0, form
    assert "项目资料已整理归档" in page.inner_text("#audit-log")
    shot(page, "34-archived-award")


def test_one_project_from_call_to_archive_through_every_role(page, live_server, setting, tmp_path):
    """The module's story, in order; each step's function checks what that role sees."""
    log_in(page, live_server, "carol")
    call_pk = build_call(page, live_server)

    app1 = alice_applies(page, live_server, call_pk, tmp_path)
    app2 = bella_applies(page, live_server, call_pk, tmp_path)

    log_in(page, live_server, "carol")
    formal_review(page, live_server, app1, app2)
    alice_resubmits(page, live_server, app1, tmp_path)
    log_in(page, live_server, "carol")
    page.goto(live_server.url + f"/projects/formal-review/{app1}/")
    click(page, "button[value=pass]")
    assert f"《{APP1}》形式审查通过" in messages(page)

    close_and_assign(page, live_server, call_pk, app1, app2)
    expert_withdraws(page, live_server)
    log_in(page, live_server, "carol")
    officer_replaces(page, live_server, call_pk, app1)
    experts_score(page, live_server)

    log_in(page, live_server, "carol")
    award_pk = rank_and_approve(page, live_server, call_pk, app1, app2)
    money_loop(page, live_server, app1, award_pk)

    award = Award.objects.get(pk=award_pk)
    assert award.state == "archived" and award.disbursed == Decimal("240000.00")
    assert Call.objects.get(pk=call_pk).state == "decided"
    assert Application.objects.get(pk=app2).state == "rejected"
