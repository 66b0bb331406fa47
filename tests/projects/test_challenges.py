"""揭榜挂帅 services (kechuang/projects/challenges.py): posting and moderation, answering (deadline inclusive,
never the poster, never twice), review by the poster and invited experts (conflicts, 0–100), the ranking rule,
choosing the winner among reviewed answers, and the winner becoming an Application from which money.award()
issues the Award. Every refusal is checked with its Chinese message and with nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from kechuang.projects import challenges, money, money_selectors
from kechuang.projects.models import (
    Application,
    Award,
    Challenge,
    ChallengeAnswer,
    ChallengeReview,
    ConflictKind,
    Expert,
    ExpertConflict,
)
from kechuang.workflows.models import TransitionLog
from tests.projects import challenge_fixtures as cf
from tests.projects.challenge_fixtures import (
    answer_values,
    in_review,
    past_deadline,
    posted,
    published,
    values,
)
from tests.projects.money_fixtures import make_call, milestones_for, period

chf = cf.chf

pytestmark = pytest.mark.django_db


def messages_of(excinfo) -> str:
    return "；".join(excinfo.value.messages)


def log_of(obj) -> list[TransitionLog]:
    return list(
        TransitionLog.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).order_by("at", "pk")
    )


def reviewed(p, challenge, answer, *, poster="80", experts=("90",)):
    """The poster (alice) and the experts (eve, then frank) score `answer`."""
    challenges.review_submit(answer, user=p.alice, score=poster)
    for user, score in zip((p.eve,), experts, strict=False):
        challenges.review_submit(answer, user=user, score=score)


# —— 出题 ————————————————————————————————————————————————————————————————————————————————————————————————


def test_the_poster_s_user_posts_a_draft_with_its_history(chf):
    challenge = posted(chf)
    assert challenge.state == "draft" and challenge.workflow.key == "projects.challenge"
    assert challenge.poster == chf.ent_a and challenge.created_by == chf.alice
    assert challenge.budget == Decimal("800000.00") and challenge.subsidy_cap == Decimal("300000.00")
    [record] = challenge.history.all()
    assert record.history_user == chf.alice and record.title == "高精度伺服电机温升控制难题"


def test_a_user_of_another_enterprise_may_not_post_for_the_poster(chf):
    with pytest.raises(PermissionDenied, match="您不是上海甲科技有限公司的用户，不能以其名义发榜"):
        challenges.challenge_create(poster=chf.ent_a, user=chf.ben, **values())
    with pytest.raises(PermissionDenied, match="无权发榜"):
        challenges.challenge_create(poster=chf.ent_a, user=chf.eve, **values())
    assert not Challenge.objects.exists()


def test_bad_values_are_refused_field_by_field_and_nothing_is_saved(chf):
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_create(
            poster=chf.ent_a,
            user=chf.alice,
            **values(
                title="",
                budget="0",
                subsidy_cap="-1",
                field="99",
                deadline=timezone.now() - dt.timedelta(minutes=1),
            ),
        )
    errors = excinfo.value.message_dict
    assert errors["title"] == ["榜单名称必须填写"]
    assert errors["budget"] == ["榜单金额须大于 0 元"]
    assert errors["subsidy_cap"] == ["区级资助上限 -1 元为负数，金额不能为负"]
    assert errors["field"][0].startswith("技术领域“99”不存在，可选：01（电子信息）")
    assert errors["deadline"][0].startswith("揭榜截止时间 ") and "须晚于当前时间" in errors["deadline"][0]
    assert not Challenge.objects.exists()


def test_the_smallest_budget_and_a_zero_subsidy_cap_are_accepted(chf):
    challenge = posted(chf, budget="0.01", subsidy_cap="0")
    assert challenge.budget == Decimal("0.01") and challenge.subsidy_cap == 0


def test_the_database_refuses_a_budget_of_zero_even_past_the_service(chf):
    from django.db import IntegrityError, transaction

    challenge = posted(chf)
    with pytest.raises(IntegrityError), transaction.atomic():
        Challenge.objects.filter(pk=challenge.pk).update(budget=0)
    assert Challenge.objects.get(pk=challenge.pk).budget == Decimal("800000.00")


def test_a_published_challenge_can_no_longer_be_edited(chf):
    challenge = published(chf)
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_update(challenge, user=chf.alice, title="改名")
    assert (
        messages_of(excinfo)
        == "榜单“高精度伺服电机温升控制难题”当前为“揭榜中”，只有草稿或退回修改的榜单可以修改"
    )
    assert Challenge.objects.get(pk=challenge.pk).title == "高精度伺服电机温升控制难题"


def test_moderation_publish_return_with_its_reason_and_resubmit(chf):
    challenge = posted(chf)
    challenges.challenge_submit(challenge, user=chf.alice)
    assert challenge.state == "pending"
    with pytest.raises(PermissionDenied, match="无权执行“审核通过并发布”"):
        challenges.challenge_take(challenge, "publish", user=chf.alice)
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_take(challenge, "return", user=chf.carol, reason="  ")
    assert messages_of(excinfo) == "退回须说明原因（发榜单位据此修改）"
    assert Challenge.objects.get(pk=challenge.pk).state == "pending"
    challenges.challenge_take(challenge, "return", user=chf.carol, reason="考核指标不明确")
    challenges.challenge_update(challenge, user=chf.alice, description="温升降至 30K 以内，连续运行 8 小时。")
    challenges.challenge_submit(Challenge.objects.get(pk=challenge.pk), user=chf.alice)
    challenges.challenge_take(challenge, "publish", user=chf.carol)
    steps = [(s.transition, s.to_state, s.actor.username, s.reason) for s in log_of(challenge)]
    assert steps == [
        ("submit", "pending", "alice", ""),
        ("return", "returned", "carol", "考核指标不明确"),
        ("resubmit", "pending", "alice", ""),
        ("publish", "published", "carol", ""),
    ]


def test_only_the_poster_s_users_submit_and_withdraw(chf):
    challenge = posted(chf)
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_submit(challenge, user=chf.ben)
    assert messages_of(excinfo) == "仅发榜单位上海甲科技有限公司的用户可以办理"
    assert Challenge.objects.get(pk=challenge.pk).state == "draft"
    challenge = published(chf, title="另一榜")
    challenges.challenge_take(challenge, "withdraw", user=chf.alice, reason="需求已内部解决")
    assert Challenge.objects.get(pk=challenge.pk).state == "withdrawn"


def test_a_challenge_whose_deadline_has_passed_cannot_be_published(chf):
    challenge = posted(chf)
    challenges.challenge_submit(challenge, user=chf.alice)
    challenge = past_deadline(challenge)
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_take(challenge, "publish", user=chf.carol)
    assert "已过，请先修改截止时间" in messages_of(excinfo)
    assert Challenge.objects.get(pk=challenge.pk).state == "pending"


def test_a_challenge_cannot_close_before_its_deadline_nor_lapse_with_answers(chf):
    challenge = published(chf)
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_take(challenge, "close", user=chf.carol)
    assert messages_of(excinfo).startswith("揭榜截止时间 ") and messages_of(excinfo).endswith("未到")
    challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    challenge = past_deadline(challenge)
    challenges.challenge_take(challenge, "close", user=chf.carol)
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_take(challenge, "lapse", user=chf.carol)
    assert messages_of(excinfo) == "已有 1 份有效的揭榜方案，须阅卷定榜，不能流榜"
    assert Challenge.objects.get(pk=challenge.pk).state == "closed"


# —— 答题 ————————————————————————————————————————————————————————————————————————————————————————————————


def test_an_enterprise_answers_and_a_university_team_answers_by_name(chf):
    challenge = published(chf)
    answer = challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    assert answer.enterprise == chf.ent_b and answer.organisation == "" and answer.submitted_by == chf.ben
    team = challenges.answer_submit(
        challenge, user=chf.uma, organisation="上海示例大学 机械学院", **answer_values(leader="赵教授")
    )
    assert team.enterprise is None and team.unit_name == "上海示例大学 机械学院"
    assert [a.history.count() for a in (answer, team)] == [1, 1]


def test_an_answer_exactly_at_the_deadline_is_accepted_and_a_second_later_is_refused(chf):
    challenge = published(chf)
    at = challenge.deadline
    challenges.answer_submit(challenge, user=chf.ben, now=at, **answer_values())
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_submit(
            challenge,
            user=chf.uma,
            organisation="上海示例大学",
            now=at + dt.timedelta(seconds=1),
            **answer_values(),
        )
    assert messages_of(excinfo).startswith("已过揭榜截止时间 ") and "不能揭榜（提交时间 " in messages_of(
        excinfo
    )
    assert ChallengeAnswer.objects.count() == 1


def test_a_late_answer_is_refused(chf):
    challenge = past_deadline(published(chf))
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    when = timezone.localtime(challenge.deadline).strftime("%Y-%m-%d %H:%M:%S")
    assert messages_of(excinfo).startswith(f"已过揭榜截止时间 {when}，不能揭榜")
    assert not ChallengeAnswer.objects.exists()


def test_a_challenge_not_yet_published_takes_no_answer(chf):
    challenge = posted(chf)
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    assert messages_of(excinfo) == "榜单“高精度伺服电机温升控制难题”当前为“草稿”，只有揭榜中的榜单可以揭榜"
    assert not ChallengeAnswer.objects.exists()


def test_the_poster_may_not_answer_its_own_challenge(chf):
    challenge = published(chf)
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_submit(challenge, user=chf.alice, **answer_values())
    assert messages_of(excinfo) == "上海甲科技有限公司是本榜的发榜单位，不能揭自己发布的榜"
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_submit(
            challenge, user=chf.uma, organisation="上海甲科技 有限公司", **answer_values()
        )
    assert messages_of(excinfo) == "“上海甲科技 有限公司”是本榜的发榜单位，不能揭自己发布的榜"
    assert not ChallengeAnswer.objects.exists()


def test_a_user_may_not_answer_for_an_enterprise_it_does_not_act_for(chf):
    challenge = published(chf)
    with pytest.raises(PermissionDenied, match="您不是上海乙生物有限公司的用户，不能以其名义揭榜"):
        challenges.answer_submit(challenge, user=chf.uma, enterprise=chf.ent_b, **answer_values())
    with pytest.raises(PermissionDenied, match="无权揭榜"):
        challenges.answer_submit(challenge, user=chf.leo, organisation="某单位", **answer_values())
    assert not ChallengeAnswer.objects.exists()


def test_a_duplicate_answer_is_refused(chf):
    challenge = published(chf)
    first = challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_submit(challenge, user=chf.ben, **answer_values(leader="另一负责人"))
    when = timezone.localtime(first.submitted_at).strftime("%Y-%m-%d %H:%M:%S")
    assert messages_of(excinfo) == f"上海乙生物有限公司已于 {when} 揭此榜，不能重复揭榜（可先撤回原方案）"
    challenges.answer_submit(challenge, user=chf.uma, organisation="上海示例大学", **answer_values())
    with pytest.raises(ValidationError) as excinfo:  # the same name, written with a full-width space
        challenges.answer_submit(
            challenge, user=chf.uma, organisation="上海示例\u3000大学", **answer_values()
        )
    assert "上海示例\u3000大学（负责人 王工）已于 " in messages_of(excinfo)
    assert ChallengeAnswer.objects.count() == 2
    assert ChallengeAnswer.objects.get(pk=first.pk).leader == "王工"
    # Another team of the same university (another leader) is another answer.
    challenges.answer_submit(
        challenge, user=chf.uma, organisation="上海示例大学", **answer_values(leader="钱教授")
    )
    assert ChallengeAnswer.objects.count() == 3


def test_answer_values_are_checked_with_their_boundaries(chf):
    challenge = published(chf)
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_submit(
            challenge,
            user=chf.ben,
            **answer_values(leader="", proposal=" ", quoted_amount="800000.01", period_months=0),
        )
    errors = excinfo.value.message_dict
    assert errors["leader"] == ["团队负责人必须填写"]
    assert errors["proposal"] == ["揭榜方案必须填写（技术路线、进度安排、考核指标）"]
    assert errors["quoted_amount"] == ["报价 80.00 万元超过榜单金额 80.00 万元，报价不能超过榜单金额"]
    assert errors["period_months"] == ["实施周期 0 个月不在 1–120 个月之内"]
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_submit(
            challenge, user=chf.ben, **answer_values(period_months=121, quoted_amount="0")
        )
    assert excinfo.value.message_dict["period_months"] == ["实施周期 121 个月不在 1–120 个月之内"]
    assert excinfo.value.message_dict["quoted_amount"] == ["报价须大于 0 元"]
    assert not ChallengeAnswer.objects.exists()
    answer = challenges.answer_submit(
        challenge, user=chf.ben, **answer_values(quoted_amount="800000", period_months=120)
    )
    assert answer.quoted_amount == Decimal("800000.00") and answer.period_months == 120


def test_a_withdrawn_answer_may_be_submitted_again_but_only_by_its_unit_and_in_time(chf):
    challenge = published(chf)
    answer = challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    with pytest.raises(PermissionDenied, match="仅揭榜单位上海乙生物有限公司可以撤回该方案"):
        challenges.answer_withdraw(answer, user=chf.alice)
    assert not ChallengeAnswer.objects.get(pk=answer.pk).withdrawn
    challenges.answer_withdraw(answer, user=chf.ben)
    assert ChallengeAnswer.objects.get(pk=answer.pk).withdrawn
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_withdraw(answer, user=chf.ben)
    assert messages_of(excinfo) == "上海乙生物有限公司的方案已撤回，无需重复撤回"
    again = challenges.answer_submit(challenge, user=chf.ben, **answer_values(proposal="改进方案"))
    assert again.pk == answer.pk and not again.withdrawn and again.proposal == "改进方案"
    past_deadline(challenge)
    with pytest.raises(ValidationError) as excinfo:
        challenges.answer_withdraw(again, user=chf.ben)
    assert "不能撤回方案" in messages_of(excinfo)
    assert not ChallengeAnswer.objects.get(pk=answer.pk).withdrawn


# —— 阅卷 ————————————————————————————————————————————————————————————————————————————————————————————————


@pytest.fixture
def reviewing(chf):
    """A challenge in review with eve and frank invited; answers of enterprise B (ben) and of a university."""
    p = chf
    challenge = published(p)
    p.b_answer = challenges.answer_submit(challenge, user=p.ben, **answer_values())
    p.u_answer = challenges.answer_submit(
        challenge, user=p.uma, organisation="上海示例大学机械学院", **answer_values(leader="赵教授")
    )
    p.challenge = in_review(p, challenge, p.eve_expert, p.frank_expert)
    return p


def test_the_poster_and_an_invited_expert_review_with_their_roles(reviewing):
    p = reviewing
    mine = challenges.review_submit(p.b_answer, user=p.alice, score="85.5", comment="方案可行")
    theirs = challenges.review_submit(p.b_answer, user=p.eve, score="100")
    assert (mine.role, mine.score, theirs.role, theirs.score) == ("poster", Decimal("85.5"), "expert", 100)
    assert challenges.review_submit(p.u_answer, user=p.eve, score="0").score == 0


def test_review_only_while_reviewing(chf):
    challenge = published(chf)
    answer = challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    with pytest.raises(ValidationError) as excinfo:
        challenges.review_submit(answer, user=chf.alice, score="80")
    assert messages_of(excinfo) == "榜单“高精度伺服电机温升控制难题”当前为“揭榜中”，只有阅卷中的榜单可以评分"
    assert not ChallengeReview.objects.exists()


def test_an_expert_in_a_conflict_with_the_answering_enterprise_may_not_review(reviewing):
    p = reviewing
    with pytest.raises(ValidationError) as excinfo:  # frank works for enterprise B
        challenges.review_submit(p.b_answer, user=p.frank, score="90")
    assert messages_of(excinfo) == (
        "存在回避关系：工作单位“上海乙生物有限公司”即揭榜单位“上海乙生物有限公司”，不能评审该方案"
    )
    ExpertConflict.objects.create(
        expert=p.eve_expert, enterprise=p.ent_b, kind=ConflictKind.COLLABORATION, note="2025年合作项目"
    )
    with pytest.raises(ValidationError) as excinfo:
        challenges.review_submit(p.b_answer, user=p.eve, score="90")
    assert messages_of(excinfo) == (
        "存在回避关系：与上海乙生物有限公司存在回避关系：近三年合作（2025年合作项目），不能评审该方案"
    )
    assert not ChallengeReview.objects.exists()
    # The conflict is with B only: frank reviews the university's answer.
    assert challenges.review_submit(p.u_answer, user=p.frank, score="70").role == "expert"


def test_an_expert_of_the_answering_university_may_not_review_its_answer(reviewing):
    p = reviewing
    Expert.objects.filter(pk=p.eve_expert.pk).update(organisation="上海示例大学 机械学院")
    with pytest.raises(ValidationError) as excinfo:
        challenges.review_submit(p.u_answer, user=p.eve, score="90")
    assert "工作单位“上海示例大学 机械学院”即揭榜单位“上海示例大学机械学院”" in messages_of(excinfo)
    assert not ChallengeReview.objects.exists()


def test_an_expert_not_invited_and_an_outsider_may_not_review(reviewing):
    p = reviewing
    p.challenge.experts.remove(p.eve_expert)
    with pytest.raises(PermissionDenied, match="仅发榜单位上海甲科技有限公司的用户和受邀专家可以阅卷"):
        challenges.review_submit(p.u_answer, user=p.eve, score="90")
    with pytest.raises(PermissionDenied, match="无权阅卷"):
        challenges.review_submit(p.u_answer, user=p.uma, score="90")
    assert not ChallengeReview.objects.exists()


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("100.01", "得分 100.01 超出允许范围 0–100"),
        ("-0.01", "得分 -0.01 超出允许范围 0–100"),
        ("八十", "得分“八十”不是数字（允许 0–100）"),
        ("80.555", "得分 80.555 最多保留两位小数"),
        ("", "得分必须填写（0–100）"),
    ],
)
def test_a_score_outside_0_to_100_is_refused(reviewing, score, message):
    with pytest.raises(ValidationError) as excinfo:
        challenges.review_submit(reviewing.b_answer, user=reviewing.alice, score=score)
    assert messages_of(excinfo) == message
    assert not ChallengeReview.objects.exists()


def test_a_reviewer_scores_an_answer_once(reviewing):
    p = reviewing
    challenges.review_submit(p.b_answer, user=p.alice, score="80")
    with pytest.raises(ValidationError) as excinfo:
        challenges.review_submit(p.b_answer, user=p.alice, score="90")
    assert "（80.00 分），不能重复评分" in messages_of(excinfo)
    assert list(ChallengeReview.objects.values_list("score", flat=True)) == [Decimal("80.00")]


def test_a_withdrawn_answer_is_not_reviewed(chf):
    challenge = published(chf)
    answer = challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    challenges.answer_submit(challenge, user=chf.uma, organisation="上海示例大学", **answer_values())
    challenges.answer_withdraw(answer, user=chf.ben)
    in_review(chf, challenge, chf.eve_expert)
    with pytest.raises(ValidationError) as excinfo:
        challenges.review_submit(answer, user=chf.alice, score="80")
    assert messages_of(excinfo) == "上海乙生物有限公司的方案已撤回，不能评分"


def test_an_expert_of_the_poster_cannot_be_invited(chf):
    challenge = published(chf)
    Expert.objects.filter(pk=chf.eve_expert.pk).update(organisation_code=chf.ent_a.uscc)
    expert = Expert.objects.get(pk=chf.eve_expert.pk)
    nameless = Expert.objects.create(name="无账号专家", organisation="某研究所")
    with pytest.raises(ValidationError) as excinfo:
        challenges.invite_experts(challenge, experts=[expert, nameless], user=chf.carol)
    assert excinfo.value.messages == [
        f"专家伊娃存在回避关系：工作单位即发榜单位（统一社会信用代码 {chf.ent_a.uscc}），不能邀请",
        "专家无账号专家没有登录账号，不能在线阅卷",
    ]
    assert not challenge.experts.exists()
    with pytest.raises(PermissionDenied, match="无权邀请阅卷专家"):
        challenges.invite_experts(challenge, experts=[chf.frank_expert], user=chf.alice)


def test_review_cannot_start_without_answers_and_the_challenge_lapses(chf):
    challenge = past_deadline(published(chf))
    challenges.challenge_take(challenge, "close", user=chf.carol)
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_take(challenge, "start_review", user=chf.carol)
    assert messages_of(excinfo) == "没有有效的揭榜方案，无需阅卷（可作流榜归档）"
    challenges.challenge_take(challenge, "lapse", user=chf.carol)
    assert Challenge.objects.get(pk=challenge.pk).state == "archived"


# —— 排名与定榜 ——————————————————————————————————————————————————————————————————————————————————————————


def test_the_ranking_is_half_the_poster_score_and_half_the_mean_expert_score(reviewing):
    p = reviewing
    challenges.review_submit(p.u_answer, user=p.alice, score="90")
    challenges.review_submit(p.u_answer, user=p.eve, score="60")
    challenges.review_submit(p.u_answer, user=p.frank, score="75.01")
    [row, unranked] = challenges.ranking(p.challenge)
    assert row.answer == p.u_answer and row.rank == 1
    # The expert mean (60 + 75.01) / 2 = 67.505 is shown as 67.51, and the final is computed from what is shown:
    # 0.5 × 90 + 0.5 × 67.51 = 78.755 → 78.76.
    assert (row.poster_score, row.expert_score, row.final) == (
        Decimal("90.00"),
        Decimal("67.51"),
        Decimal("78.76"),
    )
    assert (
        unranked.answer == p.b_answer
        and unranked.rank is None
        and unranked.missing == "发榜单位评分、专家评分"
    )


def test_the_ranking_orders_by_final_score_and_leaves_incomplete_answers_unranked(reviewing):
    p = reviewing
    challenges.review_submit(p.b_answer, user=p.alice, score="70")
    challenges.review_submit(p.b_answer, user=p.eve, score="91")
    challenges.review_submit(p.u_answer, user=p.alice, score="90")
    rows = challenges.ranking(p.challenge)
    assert [(r.answer, r.rank, r.final, r.missing) for r in rows] == [
        (p.b_answer, 1, Decimal("80.50"), ""),
        (p.u_answer, None, None, "专家评分"),
    ]
    challenges.review_submit(p.u_answer, user=p.eve, score="60")
    challenges.review_submit(p.u_answer, user=p.frank, score="75")
    rows = challenges.ranking(p.challenge)
    assert [(r.answer, r.rank, r.final) for r in rows] == [
        (p.b_answer, 1, Decimal("80.50")),
        (p.u_answer, 2, Decimal("78.75")),
    ]


def test_equal_final_scores_rank_the_earlier_answer_first(reviewing):
    p = reviewing
    for answer in (p.u_answer, p.b_answer):
        challenges.review_submit(answer, user=p.alice, score="80")
        challenges.review_submit(answer, user=p.eve, score="80")
    assert [r.answer for r in challenges.ranking(p.challenge)] == [p.b_answer, p.u_answer]


def test_the_winner_must_have_been_reviewed(reviewing):
    p = reviewing
    challenges.review_submit(p.b_answer, user=p.alice, score="80")
    with pytest.raises(ValidationError) as excinfo:
        challenges.choose_winner(p.challenge, p.b_answer, user=p.carol)
    assert messages_of(excinfo) == (
        "上海乙生物有限公司的方案尚未完成阅卷（缺专家评分），只能在已完成阅卷的方案中选定中选方案"
    )
    challenge = Challenge.objects.get(pk=p.challenge.pk)
    assert challenge.winner is None and challenge.state == "reviewing"


def test_choosing_an_answer_not_ranked_first_needs_a_reason(reviewing):
    p = reviewing
    challenges.review_submit(p.b_answer, user=p.alice, score="90")
    challenges.review_submit(p.b_answer, user=p.eve, score="90")
    challenges.review_submit(p.u_answer, user=p.alice, score="80")
    challenges.review_submit(p.u_answer, user=p.eve, score="80")
    with pytest.raises(ValidationError) as excinfo:
        challenges.choose_winner(p.challenge, p.u_answer, user=p.carol)
    assert messages_of(excinfo) == (
        "所选方案排名第 2（综合得分 80.00），排名第一的是上海乙生物有限公司（90.00）：选定非第一名须说明理由"
    )
    assert Challenge.objects.get(pk=p.challenge.pk).winner is None
    with pytest.raises(PermissionDenied, match="无权定榜"):
        challenges.choose_winner(p.challenge, p.b_answer, user=p.alice)
    challenges.choose_winner(p.challenge, p.u_answer, user=p.carol, reason="高校团队有中试条件")
    challenge = Challenge.objects.get(pk=p.challenge.pk)
    assert challenge.winner == p.u_answer and challenge.state == "decided"
    step = log_of(challenge)[-1]
    assert step.transition == "decide" and step.actor == p.carol
    assert step.reason == "中选：上海示例大学机械学院，排名第 2，综合得分 80.00。高校团队有中试条件"


def test_decide_without_a_winner_is_refused(reviewing):
    with pytest.raises(ValidationError) as excinfo:
        challenges.challenge_take(reviewing.challenge, "decide", user=reviewing.carol)
    assert messages_of(excinfo) == "请在排名页选定中选方案后定榜"
    assert Challenge.objects.get(pk=reviewing.challenge.pk).state == "reviewing"


# —— 转立项 ——————————————————————————————————————————————————————————————————————————————————————————————


@pytest.fixture
def decided(reviewing):
    p = reviewing
    challenges.review_submit(p.b_answer, user=p.alice, score="90")
    challenges.review_submit(p.b_answer, user=p.eve, score="88")
    challenges.choose_winner(p.challenge, p.b_answer, user=p.carol)
    p.challenge = Challenge.objects.get(pk=p.challenge.pk)
    return p


def test_a_subsidy_over_the_challenge_s_cap_is_refused(decided):
    p = decided
    with pytest.raises(ValidationError) as excinfo:
        challenges.make_project(p.challenge, call=p.call, amount="300000.01", user=p.carol)
    assert excinfo.value.message_dict["amount"] == ["区级资助 30.00 万元超过本榜单的区级资助上限 30.00 万元"]
    assert not Application.objects.exists()
    assert Challenge.objects.get(pk=p.challenge.pk).application is None


def test_a_subsidy_over_the_call_s_cap_or_the_quote_is_refused(decided):
    p = decided
    small = make_call(cap="100000", budget_total="1000000", title="小额批次")
    Challenge.objects.filter(pk=p.challenge.pk).update(subsidy_cap=Decimal("700000"))
    challenge = Challenge.objects.get(pk=p.challenge.pk)
    with pytest.raises(ValidationError) as excinfo:
        challenges.make_project(challenge, call=small, amount="650000", user=p.carol)
    assert excinfo.value.message_dict["amount"] == [
        "区级资助 65.00 万元超过申报批次“小额批次”的单项资助上限 10.00 万元",
        "区级资助 65.00 万元超过中选方案的报价 60.00 万元",
    ]
    assert not Application.objects.exists()


def test_a_challenge_without_district_subsidy_makes_no_project(decided):
    p = decided
    Challenge.objects.filter(pk=p.challenge.pk).update(subsidy_cap=0)
    with pytest.raises(ValidationError) as excinfo:
        challenges.make_project(
            Challenge.objects.get(pk=p.challenge.pk), call=p.call, amount="1", user=p.carol
        )
    assert messages_of(excinfo) == "本榜单未设区级资助（区级资助上限 0 万元），中选方案不能转为区级资助项目"
    assert not Application.objects.exists()


def test_only_a_decided_challenge_becomes_a_project_and_only_once(reviewing, decided):
    p = decided
    other = in_review(p, _answered(p, title="另一榜单"), p.eve_expert)
    with pytest.raises(ValidationError) as excinfo:
        challenges.make_project(other, call=p.call, amount="100000", user=p.carol)
    assert messages_of(excinfo) == "榜单“另一榜单”当前为“阅卷中”，只有已定榜的榜单可以转为资助项目"
    with pytest.raises(PermissionDenied, match="无权将中选方案转为资助项目"):
        challenges.make_project(p.challenge, call=p.call, amount="100000", user=p.alice)
    assert not Application.objects.exists()
    challenges.make_project(p.challenge, call=p.call, amount="300000", user=p.carol)
    with pytest.raises(ValidationError) as excinfo:
        challenges.make_project(p.challenge, call=p.call, amount="300000", user=p.carol)
    assert messages_of(excinfo) == "榜单已转为资助项目“高精度伺服电机温升控制难题”，不能重复转立项"
    assert Application.objects.count() == 1


def _answered(p, **overrides):
    challenge = published(p, **overrides)
    challenges.answer_submit(challenge, user=p.ben, **answer_values())
    return challenge


def test_the_winner_becomes_an_application_reviewed_through_logged_steps(decided):
    p = decided
    application = challenges.make_project(p.challenge, call=p.call, amount="300000", user=p.carol)
    application.refresh_from_db()
    assert application.state == "reviewed" and application.enterprise == p.ent_b
    assert application.call == p.call and application.requested_amount == Decimal("300000.00")
    assert application.title == "高精度伺服电机温升控制难题" and application.field == "08"
    assert application.data["unit"] == "上海乙生物有限公司" and application.data["final_score"] == "89.00"
    steps = [(s.transition, s.from_state, s.to_state, s.actor) for s in log_of(application)]
    assert steps == [
        ("submit", "draft", "submitted", p.carol),
        ("pass_formal", "submitted", "formally_passed", p.carol),
        ("send_to_review", "formally_passed", "under_review", p.carol),
        ("finish_review", "under_review", "reviewed", p.carol),
    ]
    assert all("揭榜挂帅转立项" in s.reason for s in log_of(application))
    challenge = Challenge.objects.get(pk=p.challenge.pk)
    assert challenge.application == application and challenge.call == p.call


def test_a_university_winner_is_carried_by_the_poster_with_the_team_in_the_data(reviewing):
    p = reviewing
    challenges.review_submit(p.u_answer, user=p.alice, score="95")
    challenges.review_submit(p.u_answer, user=p.eve, score="90")
    challenges.choose_winner(p.challenge, p.u_answer, user=p.carol)
    application = challenges.make_project(p.challenge, call=p.call, amount="300000", user=p.carol)
    assert application.enterprise == p.ent_a
    assert (
        application.data["unit"] == "上海示例大学机械学院" and application.data["unit_in_registry"] is False
    )
    assert application.data["leader"] == "赵教授" and "李工" in application.data["members"]


def test_the_resulting_award_goes_through_money_award_and_is_in_the_award_list(decided, client):
    p = decided
    application = challenges.make_project(p.challenge, call=p.call, amount="300000", user=p.carol)
    start, end = period()
    with pytest.raises(ValidationError) as excinfo:  # money.award's own cap: the amount asked
        money.award(
            application,
            amount="300000.01",
            contract_no="JBGS-2026-001",
            start_date=start,
            end_date=end,
            milestones=milestones_for(["300000.01"], start, end),
            user=p.carol,
        )
    assert "超过申报单位申请的资助" in messages_of(excinfo)
    award = money.award(
        application,
        amount="300000",
        contract_no="JBGS-2026-001",
        start_date=start,
        end_date=end,
        milestones=milestones_for(["100000", "200000"], start, end),
        user=p.carol,
    )
    assert award.amount == Decimal("300000.00") and award.application == application
    application.refresh_from_db()
    assert application.state == "approved"
    assert list(money_selectors.awards(user=p.carol)) == [award]
    client.force_login(p.carol)
    page = client.get(reverse("projects:award-list"), {"q": "JBGS"}).content.decode()
    assert "JBGS-2026-001" in page and "高精度伺服电机温升控制难题" in page and "上海乙生物有限公司" in page
    assert Award.objects.count() == 1


# —— 页面 ————————————————————————————————————————————————————————————————————————————————————————————————


def page(client, user, name, *args, **params):
    client.force_login(user)
    return client.get(reverse(f"projects:{name}", args=args), params)


def test_the_hall_shows_published_challenges_to_anyone_logged_in_with_search_filters_and_sort(chf, client):
    a = published(chf, title="伺服电机温升难题", budget="800000", field="08")
    b = published(chf, title="脑机接口电极涂层难题", budget="1500000", field="02", keywords="生物相容")
    posted(chf, title="尚未提交的草稿")
    response = page(client, chf.leo, "challenge-hall")
    assert response.status_code == 200
    text = response.content.decode()
    assert "伺服电机温升难题" in text and "脑机接口电极涂层难题" in text and "尚未提交的草稿" not in text
    assert "80.00" in text and "150.00" in text  # 万元
    rows = [c.pk for c in response.context["page"].object_list]
    assert sorted(rows) == sorted([a.pk, b.pk])
    assert [
        c.pk for c in page(client, chf.leo, "challenge-hall", q="生物相容").context["page"].object_list
    ] == [b.pk]
    assert [
        c.pk for c in page(client, chf.leo, "challenge-hall", field="08").context["page"].object_list
    ] == [a.pk]
    by_budget = page(client, chf.leo, "challenge-hall", sort="-budget").context["page"].object_list
    assert [c.pk for c in by_budget] == [b.pk, a.pk]
    # A draft's state is not a public state: asking for it shows the default.
    assert page(client, chf.leo, "challenge-hall", state="draft").context["filters"].state == "published"
    client.logout()
    assert client.get(reverse("projects:challenge-hall")).status_code == 302


def test_the_hall_pages_by_twenty(chf, client):
    for number in range(21):
        published(chf, title=f"榜单{number:02d}")
    first = page(client, chf.leo, "challenge-hall")
    assert len(first.context["page"].object_list) == 20 and first.context["page"].paginator.num_pages == 2
    assert len(page(client, chf.leo, "challenge-hall", page=2).context["page"].object_list) == 1


def test_the_hall_s_queries_do_not_grow_with_its_rows(chf, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    published(chf, title="榜单一")
    client.force_login(chf.leo)
    client.get(reverse("projects:challenge-hall"))  # warm the workflow and permission caches
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("projects:challenge-hall"))
    for number in range(8):
        published(chf, title=f"榜单{number + 2}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("projects:challenge-hall"))
    assert len(response.context["page"].object_list) == 9
    assert len(many) == len(few) <= 12


def test_a_draft_is_not_found_for_others_and_its_poster_sees_it(chf, client):
    draft = posted(chf)
    assert page(client, chf.ben, "challenge-detail", draft.pk).status_code == 404
    assert page(client, chf.alice, "challenge-detail", draft.pk).status_code == 200
    assert page(client, chf.carol, "challenge-detail", draft.pk).status_code == 200


def test_an_enterprise_posts_through_the_form_in_wan_yuan(chf, client):
    client.force_login(chf.alice)
    deadline = timezone.localtime() + dt.timedelta(days=20)
    response = client.post(
        reverse("projects:challenge-create"),
        {
            "poster": chf.ent_a.pk,
            "title": "激光焊接气孔率难题",
            "description": "焊缝气孔率需低于 0.5%。",
            "field": "08",
            "keywords": "激光焊接",
            "budget": "120.5",
            "subsidy_cap": "",
            "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    challenge = Challenge.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "projects:challenge-detail", args=[challenge.pk]
    )
    assert challenge.budget == Decimal("1205000.00") and challenge.subsidy_cap == 0
    response = client.post(
        reverse("projects:challenge-create"),
        {
            "poster": chf.ent_a.pk,
            "title": "另一",
            "description": "说明",
            "budget": "0",
            "deadline": "2020-01-01T09:00",
        },
    )
    assert response.status_code == 200
    assert "榜单金额须大于 0 元" in response.content.decode()
    assert "须晚于当前时间" in response.content.decode()
    assert Challenge.objects.count() == 1
    client.force_login(chf.eve)
    assert client.get(reverse("projects:challenge-create")).status_code == 403


def test_the_answer_form_shows_the_service_s_refusal_and_saves_nothing(chf, client):
    challenge = published(chf)
    client.force_login(chf.ben)
    response = client.post(
        reverse("projects:challenge-answer", args=[challenge.pk]),
        {"leader": "王工", "proposal": "方案", "quoted_amount": "80.01", "period_months": "12"},
    )
    assert response.status_code == 422
    assert "报价 80.01 万元超过榜单金额 80.00 万元" in response.content.decode()
    assert not ChallengeAnswer.objects.exists()
    response = client.post(
        reverse("projects:challenge-answer", args=[challenge.pk]),
        {"leader": "王工", "proposal": "方案", "quoted_amount": "60", "period_months": "12"},
    )
    assert response.status_code == 302
    answer = ChallengeAnswer.objects.get()
    assert answer.enterprise == chf.ent_b and answer.quoted_amount == Decimal("600000.00")
    # The poster sees the answer; another answering unit sees only its own.
    challenges.answer_submit(
        challenge, user=chf.uma, organisation="上海示例大学", **answer_values(leader="赵教授")
    )
    poster_page = page(client, chf.alice, "challenge-detail", challenge.pk).content.decode()
    assert "上海乙生物有限公司" in poster_page and "上海示例大学" in poster_page
    uma_page = page(client, chf.uma, "challenge-detail", challenge.pk).content.decode()
    assert "上海示例大学" in uma_page and "负责人 王工" not in uma_page
    assert "我要揭榜" not in page(client, chf.alice, "challenge-detail", challenge.pk).content.decode()


def test_the_moderation_queue_is_for_officers_and_lists_pending_challenges(chf, client):
    pending = posted(chf, title="待审核的榜单")
    challenges.challenge_submit(pending, user=chf.alice)
    published(chf, title="已发布的榜单")
    response = page(client, chf.carol, "challenge-queue")
    assert [c.title for c in response.context["page"].object_list] == ["待审核的榜单"]
    assert page(client, chf.alice, "challenge-queue").status_code == 403
    client.force_login(chf.carol)
    response = client.post(
        reverse("projects:challenge-transition", args=[pending.pk, "return"]), {"reason": ""}, follow=True
    )
    assert "退回须说明原因（发榜单位据此修改）" in response.content.decode()
    assert Challenge.objects.get(pk=pending.pk).state == "pending"
    client.post(reverse("projects:challenge-transition", args=[pending.pk, "publish"]), {"next": "queue"})
    assert Challenge.objects.get(pk=pending.pk).state == "published"


def test_the_ranking_page_states_the_rule_and_the_officer_picks_the_winner_and_makes_the_project(
    reviewing, client
):
    p = reviewing
    challenges.review_submit(p.b_answer, user=p.alice, score="90")
    challenges.review_submit(p.b_answer, user=p.eve, score="80")
    assert page(client, p.ben, "challenge-ranking", p.challenge.pk).status_code == 403
    poster_view = page(client, p.alice, "challenge-ranking", p.challenge.pk).content.decode()
    assert (
        "综合得分 = 0.5 × 发榜单位评分 + 0.5 × 专家评分均值" in poster_view
        and "选为中选方案" not in poster_view
    )
    response = page(client, p.carol, "challenge-ranking", p.challenge.pk)
    text = response.content.decode()
    assert "85.00" in text and "缺发榜单位评分、专家评分" in text and "选为中选方案" in text
    client.post(reverse("projects:challenge-winner", args=[p.challenge.pk]), {"answer": p.u_answer.pk})
    assert Challenge.objects.get(pk=p.challenge.pk).winner is None
    client.post(reverse("projects:challenge-winner", args=[p.challenge.pk]), {"answer": p.b_answer.pk})
    assert Challenge.objects.get(pk=p.challenge.pk).state == "decided"
    response = client.post(
        reverse("projects:challenge-project", args=[p.challenge.pk]), {"call": p.call.pk, "amount": "30.01"}
    )
    assert response.status_code == 422
    assert "区级资助 30.01 万元超过本榜单的区级资助上限 30.00 万元" in response.content.decode()
    assert not Application.objects.exists()
    response = client.post(
        reverse("projects:challenge-project", args=[p.challenge.pk]), {"call": p.call.pk, "amount": "30"}
    )
    application = Application.objects.get()
    assert response.url == reverse("projects:award-create", args=[application.pk])
    assert application.state == "reviewed" and application.requested_amount == Decimal("300000.00")


def test_an_expert_reviews_through_its_page_and_cannot_see_an_answer_it_conflicts_with(reviewing, client):
    p = reviewing
    client.force_login(p.frank)
    assert client.get(reverse("projects:challenge-review", args=[p.b_answer.pk])).status_code == 404
    detail = client.get(reverse("projects:challenge-detail", args=[p.challenge.pk])).content.decode()
    assert "上海示例大学机械学院" in detail and "上海乙生物有限公司</strong>" not in detail
    response = client.post(reverse("projects:challenge-review", args=[p.u_answer.pk]), {"score": "101"})
    assert response.status_code == 422 and "得分 101 超出允许范围 0–100" in response.content.decode()
    assert not ChallengeReview.objects.exists()
    client.post(
        reverse("projects:challenge-review", args=[p.u_answer.pk]), {"score": "77.5", "comment": "可行"}
    )
    review = ChallengeReview.objects.get()
    assert (review.reviewer, review.role, review.score) == (p.frank, "expert", Decimal("77.50"))


# —— 示例数据 ——————————————————————————————————————————————————————————————————————————————————————————————


def test_the_demo_makes_three_challenges_with_answers_through_the_services_once(chf):
    from kechuang.core.uscc import make_code
    from kechuang.enterprises.models import Enterprise
    from kechuang.projects.demo_challenges import load_demo_challenges

    Enterprise.objects.create(
        uscc=make_code("91310117MA1J00003"), name="上海丙材料有限公司", park=chf.park_a, is_demo=True
    )
    Enterprise.objects.update(is_demo=True)
    report = load_demo_challenges()
    assert len(report.created) == 3 and report.answers == 4, report.text
    assert sorted(Challenge.objects.values_list("state", flat=True)) == [
        "published",
        "published",
        "reviewing",
    ]
    in_review_ = Challenge.objects.get(state="reviewing")
    assert set(in_review_.experts.all()) == {chf.eve_expert, chf.frank_expert}
    assert [(r.rank, r.poster_score, r.expert_score) for r in challenges.ranking(in_review_)] == [
        (None, Decimal("86.00"), None),
        (None, Decimal("78.00"), None),
    ]
    unanswered = Challenge.objects.get(title__startswith="工业视觉")
    assert unanswered.answers.count() == 0 and unanswered.deadline > timezone.now()
    again = load_demo_challenges()
    assert again.created == [] and again.existing == 3 and "未重复生成" in again.text
    assert Challenge.objects.count() == 3 and ChallengeAnswer.objects.count() == 4


def test_the_officer_invites_experts_on_the_page_and_an_expert_of_the_poster_is_refused(chf, client):
    challenge = published(chf)
    Expert.objects.filter(pk=chf.frank_expert.pk).update(organisation="上海甲科技有限公司")
    client.force_login(chf.carol)
    detail = client.get(reverse("projects:challenge-detail", args=[challenge.pk]))
    assert [e.name for e in detail.context["invite_form"].fields["experts"].queryset] == ["伊娃", "弗兰克"]
    url = reverse("projects:challenge-experts", args=[challenge.pk])
    response = client.post(url, {"experts": [chf.eve_expert.pk, chf.frank_expert.pk]})
    assert response.status_code == 422
    assert (
        "专家弗兰克存在回避关系：工作单位“上海甲科技有限公司”即发榜单位“上海甲科技有限公司”，不能邀请"
        in response.content.decode()
    )
    assert not challenge.experts.exists()
    assert client.post(url, {"experts": [chf.eve_expert.pk]}).status_code == 302
    assert list(challenge.experts.all()) == [chf.eve_expert]
    detail = client.get(reverse("projects:challenge-detail", args=[challenge.pk]))
    assert [e.name for e in detail.context["invite_form"].fields["experts"].queryset] == ["弗兰克"]
    assert client.post(url, {"experts": [chf.eve_expert.pk]}).status_code == 422  # not offered twice
    client.force_login(chf.alice)
    assert client.post(url, {"experts": [chf.frank_expert.pk]}).status_code == 403


def test_the_page_offers_each_role_only_its_own_steps(chf, client):
    challenge = published(chf)
    steps = {
        who: [o.name for o in page(client, user, "challenge-detail", challenge.pk).context["options"]]
        for who, user in (("alice", chf.alice), ("ben", chf.ben), ("uma", chf.uma), ("carol", chf.carol))
    }
    assert steps == {"alice": ["withdraw"], "ben": [], "uma": [], "carol": ["close"]}
    closing = page(client, chf.carol, "challenge-detail", challenge.pk).context["options"][0]
    assert not closing.allowed and closing.reason.endswith("未到")
