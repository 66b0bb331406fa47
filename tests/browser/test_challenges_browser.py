"""揭榜挂帅 in the browser, by the pages alone: an enterprise user (alice) posts a challenge and submits it, the
officer (carol) publishes it from the moderation queue, a second enterprise (ben) finds it in the 榜单大厅 and
answers (a quote over the 榜单金额 refused first), time passes, the officer closes it, invites two experts (eve,
and frank who works for ben's enterprise) and starts the review, the poster and the experts score the answers (a
score over 100 refused first; frank sees only the answer he has no conflict with), the officer
reads the ranking with its rule, picks the winner, turns it into a funded project (a subsidy over the
challenge's cap refused first) and issues the 任务书 through the award form.

Fixtures: the personas, ben and the experts of tests/projects/challenge_fixtures.py, a call in review, two other
published challenges and a university team's answer (made through the services) so the hall and the ranking
have more than one row. Screenshots: docs/screenshots/35-challenge-hall.png, 36-challenge-detail.png,
37-challenge-ranking.png.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from kechuang.projects import challenges
from kechuang.projects.models import Application, Award, Challenge, ChallengeAnswer, ChallengeReview
from tests.projects import challenge_fixtures as cf
from tests.projects.challenge_fixtures import answer_values, published

chf = cf.chf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TITLE = "伺服电机连续运行温升超标难题"


def shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-" + username)
    with page.expect_navigation():
        page.click("button[type=submit]")


def click(page, selector) -> None:
    """Click something that loads a new page (a link or a form's submit button)."""
    target = page.locator(selector) if isinstance(selector, str) else selector
    with page.expect_navigation():
        target.click()


def go(page, live_server, path: str) -> None:
    page.goto(live_server.url + path)


def test_post_publish_answer_review_choose_and_fund(page, live_server, chf):
    p = chf
    published(p, title="激光焊接焊缝气孔率控制难题", field="08", budget="500000", keywords="激光焊接、气孔")
    bio = challenges.challenge_create(
        poster=p.ent_b,
        user=p.ben,
        **cf.values(
            title="植入电极长期阻抗漂移难题",
            field="02",
            budget="1200000",
            subsidy_cap="0",
            keywords="神经电极",
        ),
    )
    challenges.challenge_submit(bio, user=p.ben)
    challenges.challenge_take(bio, "publish", user=p.carol)

    # 1. alice posts a challenge and submits it for moderation.
    log_in(page, live_server, "alice")
    go(page, live_server, "/projects/challenges/")
    click(page, "#post-challenge")
    page.fill("#id_title", TITLE)
    page.fill(
        "#id_description",
        "伺服电机连续运行 8 小时温升超过 45K。\n需在不增加体积的前提下降至 30K 以内，并通过 1000 小时寿命试验。",
    )
    page.select_option("#id_field", "08")
    page.fill("#id_keywords", "伺服电机、温升、散热")
    page.fill("#id_budget", "80")
    page.fill("#id_subsidy_cap", "30")
    deadline = timezone.localtime() + dt.timedelta(days=20)
    page.fill("#id_deadline", deadline.strftime("%Y-%m-%dT17:00"))
    click(page, "#challenge-form button[type=submit]")
    challenge = Challenge.objects.get(title=TITLE)
    assert challenge.budget == Decimal("800000.00") and challenge.subsidy_cap == Decimal("300000.00")
    assert page.inner_text("#challenge-state") == "草稿"
    click(page, "form[data-step=submit] button")
    assert page.inner_text("#challenge-state") == "待审核"

    # 2. carol publishes it from the moderation queue.
    log_in(page, live_server, "carol")
    go(page, live_server, "/projects/challenges/moderation/")
    assert TITLE in page.inner_text("#challenge-table")
    click(page, f"tr[data-challenge='{challenge.pk}'] a.btn")
    click(page, "form[data-step=publish] button")
    assert page.inner_text("#challenge-state") == "揭榜中"

    # 3. ben finds it in the hall and answers; a quote over the 榜单金额 is refused first.
    log_in(page, live_server, "ben")
    go(page, live_server, "/projects/challenges/")
    assert page.locator("#challenge-table tbody tr").count() == 3
    page.fill("#q", "超标")
    click(page, "form.filters button[type=submit]")
    assert page.locator("#challenge-table tbody tr").count() == 1
    assert "80.00" in page.inner_text(f"tr[data-challenge='{challenge.pk}']")
    go(page, live_server, "/projects/challenges/")
    shot(page, "35-challenge-hall")
    click(page, f"tr[data-challenge='{challenge.pk}'] a")
    page.fill("#id_leader", "王工")
    page.fill("#id_members", "王工（高级工程师）\n李工（工程师）")
    page.fill("#id_proposal", "采用相变材料与新型绕组结构：第一阶段热仿真，第二阶段样机，第三阶段寿命试验。")
    page.fill("#id_quoted_amount", "85")
    page.fill("#id_period_months", "18")
    click(page, "#answer-form button[type=submit]")
    assert "报价 85.00 万元超过榜单金额 80.00 万元" in page.inner_text("#error-quoted_amount")
    assert not ChallengeAnswer.objects.exists()
    page.fill("#id_quoted_amount", "60")
    click(page, "#answer-form button[type=submit]")
    assert "已揭榜：上海乙生物有限公司" in page.inner_text(".messages")
    ben_answer = ChallengeAnswer.objects.get(enterprise=p.ent_b)
    assert ben_answer.quoted_amount == Decimal("600000.00")
    uma_answer = challenges.answer_submit(
        challenge,
        user=p.uma,
        organisation="上海示例大学机械学院",
        **answer_values(leader="赵教授", quoted_amount="700000"),
    )

    # 4. Time passes: the officer closes it, invites eve and starts the review.
    Challenge.objects.filter(pk=challenge.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    log_in(page, live_server, "carol")
    go(page, live_server, f"/projects/challenges/{challenge.pk}/")
    assert "已过揭榜截止时间" in page.inner_text("#challenge-facts")
    click(page, "form[data-step=close] button")
    assert page.inner_text("#challenge-state") == "已截止"
    page.select_option("#id_experts", [str(p.eve_expert.pk), str(p.frank_expert.pk)])
    click(page, "#invite-form button[type=submit]")
    assert "已邀请阅卷专家：伊娃、弗兰克" in page.inner_text(".messages")
    click(page, "form[data-step=start_review] button")
    assert page.inner_text("#challenge-state") == "阅卷中"

    # 5. The poster and the expert score the answers.
    log_in(page, live_server, "alice")
    go(page, live_server, f"/projects/challenges/{challenge.pk}/")
    click(page, f"tr[data-answer='{ben_answer.pk}'] a.btn")
    page.fill("#id_score", "101")
    click(page, "#review-form button[type=submit]")
    assert "得分 101 超出允许范围 0–100" in page.inner_text("#error-score")
    page.fill("#id_score", "90")
    page.fill("#id_comment", "方案可行，进度合理")
    click(page, "#review-form button[type=submit]")
    click(page, f"tr[data-answer='{uma_answer.pk}'] a.btn")
    page.fill("#id_score", "84")
    click(page, "#review-form button[type=submit]")

    log_in(page, live_server, "eve")
    go(page, live_server, "/projects/challenges/mine/")
    click(page, f"#invited a:text('{TITLE}')")
    assert page.locator("#answer-table tbody tr").count() == 2
    assert "发榜单位评分" not in page.inner_text("#answer-table")  # an expert does not see the others' scores
    for answer, score in ((ben_answer, "86"), (uma_answer, "80")):
        click(page, f"tr[data-answer='{answer.pk}'] a.btn")
        page.fill("#id_score", score)
        click(page, "#review-form button[type=submit]")
    # frank works for enterprise B: he sees and scores only the university's answer.
    log_in(page, live_server, "frank")
    go(page, live_server, f"/projects/challenges/{challenge.pk}/")
    assert [r.get_attribute("data-answer") for r in page.locator("#answer-table tbody tr").all()] == [
        str(uma_answer.pk)
    ]
    click(page, f"tr[data-answer='{uma_answer.pk}'] a.btn")
    page.fill("#id_score", "76")
    click(page, "#review-form button[type=submit]")
    assert ChallengeReview.objects.count() == 5

    # 6. The officer reads the ranking, picks the winner and makes the project.
    log_in(page, live_server, "carol")
    go(page, live_server, f"/projects/challenges/{challenge.pk}/")
    shot(page, "36-challenge-detail")
    click(page, "#ranking-link")
    assert "综合得分 = 0.5 × 发榜单位评分 + 0.5 × 专家评分均值" in page.inner_text("#rule")
    first = page.locator("#ranking-table tbody tr").first
    assert first.get_attribute("data-answer") == str(ben_answer.pk)
    assert first.locator(".final").inner_text().startswith("88.00")  # 0.5 × 90 + 0.5 × 86
    assert "81.00" in page.inner_text(f"tr[data-answer='{uma_answer.pk}']")  # 0.5 × 84 + 0.5 × (80 + 76) / 2
    shot(page, "37-challenge-ranking")
    click(page, f"tr[data-answer='{ben_answer.pk}'] .winner-form button")
    assert page.inner_text("#challenge-state") == "已定榜"
    page.select_option("#id_call", str(p.call.pk))
    page.fill("#id_amount", "30.01")
    click(page, "#project-form button[type=submit]")
    assert "区级资助 30.01 万元超过本榜单的区级资助上限 30.00 万元" in page.inner_text("#error-amount")
    assert not Application.objects.exists()
    page.fill("#id_amount", "30")
    click(page, "#project-form button[type=submit]")
    application = Application.objects.get()
    assert application.state == "reviewed" and application.enterprise == p.ent_b
    assert page.url.endswith(f"/projects/applications/{application.pk}/award/")

    # 7. The 任务书 through the existing award form: money.award makes the Award.
    today = timezone.localdate()
    page.fill("#id_contract_no", "JBGS-2026-001")
    page.fill("#id_amount", "300000")
    page.fill("#id_start_date", today.isoformat())
    page.fill("#id_end_date", (today + dt.timedelta(days=540)).isoformat())
    page.fill("#id_m-0-title", "样机研制")
    page.fill("#id_m-0-deliverables", "样机一台，温升测试报告")
    page.fill("#id_m-0-due_date", (today + dt.timedelta(days=270)).isoformat())
    page.fill("#id_m-0-tranche", "300000")
    click(page, "#award-form button[type=submit]")
    award = Award.objects.get()
    assert award.application == application and award.amount == Decimal("300000.00")
    go(page, live_server, "/projects/awards/")
    assert "JBGS-2026-001" in page.inner_text("#award-rows")
