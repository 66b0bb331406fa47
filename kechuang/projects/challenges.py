"""揭榜挂帅 (出题 · 答题 · 阅卷): an enterprise posts a technical problem with the money it offers and a deadline
(出题), teams answer it (答题), the poster and invited experts score the answers (阅卷), an officer chooses the
winner, and the winner becomes a funded project: an Application in the challenge's call, reviewed, from which
money.award() issues the 任务书 as for any other project.

The lifecycle is the workflow "projects.challenge" (projects/workflows.py): 草稿 → 待审核 (the poster submits) →
揭榜中 (an officer publishes; or 退回修改 with a reason, and back) → 已截止 (after the deadline) → 阅卷中 → 已定榜
(a winner chosen) → 已归档; the poster may 撤榜 while it is pending, returned or published; a challenge nobody
answered is 流榜归档 from 已截止.

Rules:
- 出题: only the poster enterprise's own users post and edit (projects.add_challenge), and only a draft or a
  returned challenge is edited. 榜单金额 > 0, 区级资助上限 ≥ 0 (0: the district funds nothing), the deadline
  ahead.
- 答题: only while the challenge is 揭榜中 and up to its deadline (inclusive: an answer stamped exactly at the
  deadline counts, one a second later does not); never by the poster itself; one answer per enterprise, and
  one per organisation and team leader for a team outside the registry (a user with no enterprise answers for
  an organisation by name). The quote is > 0 and at most the 榜单金额; the period 1–120 months. A withdrawn
  answer may be submitted again (the same row, its content replaced) while answers are accepted.
- 阅卷: while 阅卷中, by the poster's users (role poster) and the experts an officer invited (role expert), once
  per reviewer and answer, a score 0–100 with at most two decimals. The conflict rules of review.py apply to
  experts: one whose organisation is the answering unit or the poster (统一社会信用代码, or the name once
  normalised as review.normalise_name does), or who has a recorded ExpertConflict with either enterprise, may
  not review that answer (and does not see it).
- 排名: final = 0.5 × poster score + 0.5 × mean of the expert scores (each part the mean of its reviewers'
  scores, rounded half-up to 0.01 as shown; the final computed from the shown parts, rounded likewise). An answer is 已完成阅卷 when it has both parts; only those are ranked,
  highest first, ties by submission time then id.
- 定榜: an officer (projects.change_challenge) chooses the winner among the answers that have completed their
  review; choosing one that is not ranked first needs a reason. The challenge then moves to 已定榜.
- 转立项: an officer turns the winner into an Application of the chosen call: the applying enterprise is the
  answer's enterprise when it is in the registry, otherwise the poster (项目承担单位) with the team recorded in
  the application's data. The district subsidy asked is > 0 and at most the challenge's 区级资助上限, the call's
  单项资助上限 and the winner's quote. The application is moved to 评审完成 through the steps of its own
  workflow version, each logged with why (the challenge's moderation and review stand for formal and expert
  review); money.award() then issues the award.

Every refusal is a ValidationError (or PermissionDenied for who may act) whose Chinese message names the field
and the value; nothing is saved when one is raised (each write is one transaction).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kechuang.core import parsing, uscc
from kechuang.core.money import format_wan
from kechuang.enterprises.choices import HitechField
from kechuang.enterprises.models import Enterprise, Membership
from kechuang.projects.models import (
    Application,
    Call,
    Challenge,
    ChallengeAnswer,
    ChallengeReview,
    ChallengeReviewRole,
    ConflictKind,
    Expert,
    ExpertConflict,
)
from kechuang.projects.review import normalise_name
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog

WORKFLOW = "projects.challenge"
APPLICATION_WORKFLOW = "projects.application"
POST = "projects.add_challenge"
MANAGE = "projects.change_challenge"
ANSWER = "projects.add_challengeanswer"
REVIEW = "projects.add_challengereview"

# States in which anyone logged in sees a challenge (the 榜单大厅 and its archive).
PUBLIC_STATES = ("published", "closed", "reviewing", "decided", "archived")
EDITABLE_STATES = ("draft", "returned")
ANSWERING_STATE = "published"
REVIEWING_STATE = "reviewing"
DECIDED_STATE = "decided"
REVIEWED_STATE = "reviewed"  # the application workflow's 评审完成, from which money.award() issues the award
# Calls a winner may be funded in: not a draft nor archived.
CLOSED_CALL_STATES = ("draft", "archived")
INVITING_STATES = ("published", "closed", "reviewing")

POSTER_WEIGHT = Decimal("0.5")
EXPERT_WEIGHT = Decimal("0.5")
RULE = (
    "综合得分 = 0.5 × 发榜单位评分 + 0.5 × 专家评分均值；发榜单位有多人评分时取其平均；"
    "均值与综合得分均四舍五入保留两位小数；须两方都已评分才参与排名，得分相同的按揭榜时间先后排序"
)
MAX_PERIOD = 120
CENT = Decimal("0.01")
FIELD_LABELS = dict(HitechField.choices)

TITLE_MAX = Challenge._meta.get_field("title").max_length
KEYWORDS_MAX = Challenge._meta.get_field("keywords").max_length
ORGANISATION_MAX = ChallengeAnswer._meta.get_field("organisation").max_length
LEADER_MAX = ChallengeAnswer._meta.get_field("leader").max_length
APPLICATION_TITLE_MAX = Application._meta.get_field("title").max_length


# —— helpers ——————————————————————————————————————————————————————————————————————————————————————————


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _wan(value: Decimal) -> str:
    return f"{format_wan(value)} 万元"


def _require(user, permission: str, message: str) -> None:
    if user is None or not user.has_perm(permission):
        raise PermissionDenied(message)


def member_enterprise_ids(user) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Membership.objects.filter(user=user, enterprise__isnull=False).values_list("enterprise_id", flat=True)
    )


def acting_enterprises(user) -> QuerySet[Enterprise]:
    """The enterprises the user acts for (posts and answers challenges): its enterprise memberships."""
    return Enterprise.objects.filter(pk__in=member_enterprise_ids(user)).order_by("name")


def is_poster_user(user, challenge: Challenge) -> bool:
    return challenge.poster_id in member_enterprise_ids(user)


def expert_of(user) -> Expert | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Expert.objects.filter(user=user).first()


def is_invited_expert(user, challenge: Challenge) -> bool:
    expert = expert_of(user)
    return expert is not None and challenge.experts.filter(pk=expert.pk).exists()


def field_label(code: str) -> str:
    return FIELD_LABELS.get(code, code)


def state_label(challenge: Challenge) -> str:
    return engine.state_label(challenge)


# —— who sees what ——————————————————————————————————————————————————————————————————————————————————————


def visible_challenges(user) -> QuerySet[Challenge]:
    """Officers (projects.change_challenge) all; otherwise the public ones (揭榜中 and after), the poster's own
    in every state, and those the user is invited to review as an expert."""
    if not getattr(user, "is_authenticated", False):
        return Challenge.objects.none()
    if user.has_perm(MANAGE):
        return Challenge.objects.all()
    condition = Q(state__in=PUBLIC_STATES) | Q(poster_id__in=member_enterprise_ids(user))
    expert = expert_of(user)
    if expert is not None:
        condition |= Q(pk__in=expert.challenges.values("pk"))
    return Challenge.objects.filter(condition)


def challenge_for_user(user, pk) -> Challenge:
    """Challenge `pk` if the user may see it; 404 (through the caller) otherwise: Challenge.DoesNotExist."""
    return (
        visible_challenges(user)
        .select_related("poster", "workflow", "winner__enterprise", "call", "application")
        .get(pk=pk)
    )


def may_see_all_answers(user, challenge: Challenge) -> bool:
    """The poster's users and officers see every answer; invited experts those they may review, once the
    review has begun; anyone else only its own."""
    return user.has_perm("projects.view_challengeanswer") or is_poster_user(user, challenge)


def own_answers(user, challenge: Challenge) -> QuerySet[ChallengeAnswer]:
    if not getattr(user, "is_authenticated", False):
        return ChallengeAnswer.objects.none()
    return challenge.answers.filter(
        Q(submitted_by=user) | Q(enterprise_id__in=member_enterprise_ids(user))
    ).select_related("enterprise")


def answers_visible_to(user, challenge: Challenge) -> list[ChallengeAnswer]:
    answers = challenge.answers.select_related("enterprise").order_by("submitted_at", "pk")
    if may_see_all_answers(user, challenge):
        return list(answers)
    if challenge.state in (REVIEWING_STATE, DECIDED_STATE, "archived"):
        expert = expert_of(user)
        if expert is not None and challenge.experts.filter(pk=expert.pk).exists():
            return [
                a
                for a in answers.filter(withdrawn=False)
                if not expert_conflicts(expert, a, challenge.poster)
            ]
    return list(own_answers(user, challenge).order_by("submitted_at", "pk"))


# —— 出题 ————————————————————————————————————————————————————————————————————————————————————————————————

CHALLENGE_FIELDS = ("title", "description", "field", "keywords", "budget", "subsidy_cap", "deadline")


def challenge_errors(values: dict, *, now: dt.datetime | None = None) -> tuple[dict[str, list[str]], dict]:
    """What is wrong with a challenge's values, field by field (empty when nothing), and the cleaned values."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    title = parsing.text(values.get("title"))
    if not title:
        errors.setdefault("title", []).append("榜单名称必须填写")
    elif len(title) > TITLE_MAX:
        errors.setdefault("title", []).append(f"榜单名称最多 {TITLE_MAX} 字，现为 {len(title)} 字")
    description = parsing.text(values.get("description"))
    if not description:
        errors.setdefault("description", []).append("技术难题必须填写（需求背景、要解决的问题、考核指标）")
    code = parsing.text(values.get("field"))
    if code and code not in FIELD_LABELS:
        allowed = "、".join(f"{k}（{v}）" for k, v in FIELD_LABELS.items())
        errors.setdefault("field", []).append(f"技术领域“{code}”不存在，可选：{allowed}")
    keywords = parsing.text(values.get("keywords"))
    if len(keywords) > KEYWORDS_MAX:
        errors.setdefault("keywords", []).append(f"关键词最多 {KEYWORDS_MAX} 字，现为 {len(keywords)} 字")
    budget = parsing.collect(
        errors, "budget", parsing.money, values.get("budget"), "榜单金额", allow_zero=False
    )
    cap = values.get("subsidy_cap")
    cap = Decimal(0) if cap is None or (isinstance(cap, str) and not cap.strip()) else cap
    subsidy_cap = parsing.collect(errors, "subsidy_cap", parsing.money, cap, "区级资助上限", allow_zero=True)
    deadline = values.get("deadline")
    if not isinstance(deadline, dt.datetime):
        errors.setdefault("deadline", []).append("揭榜截止时间必须填写（日期和时刻）")
    else:
        if timezone.is_naive(deadline):
            deadline = timezone.make_aware(deadline)
        if deadline <= now:
            errors.setdefault("deadline", []).append(
                f"揭榜截止时间 {_when(deadline)} 须晚于当前时间 {_when(now)}"
            )
    cleaned = {
        "title": title,
        "description": description,
        "field": code,
        "keywords": keywords,
        "budget": budget,
        "subsidy_cap": subsidy_cap,
        "deadline": deadline,
    }
    return errors, cleaned


def _poster_check(user, poster: Enterprise) -> None:
    _require(user, POST, "无权发榜（需企业用户账号）")
    if poster.pk not in member_enterprise_ids(user):
        raise PermissionDenied(f"您不是{poster.name}的用户，不能以其名义发榜")


@transaction.atomic
def challenge_create(*, poster: Enterprise, user, now: dt.datetime | None = None, **values) -> Challenge:
    """A new challenge of `poster`, in the workflow's initial state (草稿)."""
    unknown = set(values) - set(CHALLENGE_FIELDS)
    if unknown:
        raise TypeError(f"unknown challenge fields {sorted(unknown)}")
    _poster_check(user, poster)
    errors, cleaned = challenge_errors(values, now=now)
    if errors:
        raise ValidationError(errors)
    challenge = Challenge(poster=poster, created_by=parsing.actor(user), **cleaned)
    engine.start(challenge, WORKFLOW)
    parsing.history_user(challenge, user).save()
    return challenge


@transaction.atomic
def challenge_update(challenge: Challenge, *, user, now: dt.datetime | None = None, **changes) -> Challenge:
    """Change a draft or returned challenge (its poster's users only)."""
    unknown = set(changes) - set(CHALLENGE_FIELDS)
    if unknown:
        raise TypeError(f"unknown challenge fields {sorted(unknown)}")
    current = Challenge.objects.select_for_update().select_related("poster", "workflow").get(pk=challenge.pk)
    _poster_check(user, current.poster)
    if current.state not in EDITABLE_STATES:
        raise ValidationError(
            {
                "state": f"榜单“{current.title}”当前为“{state_label(current)}”，只有草稿或退回修改的榜单可以修改"
            }
        )
    values = {name: changes.get(name, getattr(current, name)) for name in CHALLENGE_FIELDS}
    errors, cleaned = challenge_errors(values, now=now)
    if errors:
        raise ValidationError(errors)
    for name, value in cleaned.items():
        setattr(current, name, value)
    parsing.history_user(current, user).save()
    return current


def challenge_take(challenge: Challenge, name: str, *, user, reason: str = "") -> Challenge:
    """Take a step of the challenge's workflow: a return needs its reason, 定榜 goes through choose_winner."""
    reason = parsing.text(reason)
    if name == "return" and not reason:
        raise ValidationError({"reason": "退回须说明原因（发榜单位据此修改）"})
    if name == "decide":
        current = Challenge.objects.get(pk=challenge.pk)
        if current.winner_id is None:
            raise ValidationError({"winner": "请在排名页选定中选方案后定榜"})
    return engine.take(challenge, name, user, reason)


def challenge_submit(challenge: Challenge, *, user) -> Challenge:
    """The poster submits its draft (or its returned challenge again) for moderation."""
    name = "resubmit" if challenge.state == "returned" else "submit"
    return challenge_take(challenge, name, user=user)


@transaction.atomic
def invite_experts(challenge: Challenge, *, experts, user) -> list[Expert]:
    """An officer invites experts to review the answers. Refused (nothing written) for an expert not in the pool,
    without an account, already invited, or working for the poster or in a conflict with it."""
    _require(user, MANAGE, "无权邀请阅卷专家")
    current = Challenge.objects.select_for_update().select_related("poster", "workflow").get(pk=challenge.pk)
    if current.state not in INVITING_STATES:
        raise ValidationError(
            {"experts": f"榜单当前为“{state_label(current)}”，只有揭榜中、已截止或阅卷中的榜单可以邀请专家"}
        )
    chosen = list(experts)
    if not chosen:
        raise ValidationError({"experts": "请选择要邀请的专家"})
    invited = set(current.experts.values_list("pk", flat=True))
    problems = []
    for expert in chosen:
        if not expert.active:
            problems.append(f"专家{expert.name}已不在库，不能邀请")
        elif expert.user_id is None:
            problems.append(f"专家{expert.name}没有登录账号，不能在线阅卷")
        elif expert.pk in invited:
            problems.append(f"专家{expert.name}已受邀，不能重复邀请")
        else:
            reasons = _unit_conflicts(expert, current.poster, "发榜单位")
            if reasons:
                problems.append(f"专家{expert.name}存在回避关系：{'；'.join(reasons)}，不能邀请")
    if problems:
        raise ValidationError({"experts": problems})
    current.experts.add(*chosen)
    return chosen


# —— 回避 (the rules of review.py, for an answer's unit and the poster) ——————————————————————————————————————


def _unit_conflicts(expert: Expert, enterprise: Enterprise, role: str) -> list[str]:
    reasons = []
    code = uscc.normalise(expert.organisation_code)
    name = normalise_name(expert.organisation)
    if code and code == uscc.normalise(enterprise.uscc):
        reasons.append(f"工作单位即{role}（统一社会信用代码 {code}）")
    elif name and name == normalise_name(enterprise.name):
        reasons.append(f"工作单位“{expert.organisation}”即{role}“{enterprise.name}”")
    labels = dict(ConflictKind.choices)
    for kind, note in ExpertConflict.objects.filter(expert=expert, enterprise=enterprise).values_list(
        "kind", "note"
    ):
        reasons.append(
            f"与{enterprise.name}存在回避关系：{labels.get(kind, kind)}" + (f"（{note}）" if note else "")
        )
    return reasons


def expert_conflicts(expert: Expert, answer: ChallengeAnswer, poster: Enterprise | None = None) -> list[str]:
    """Why `expert` may not review `answer`, in Chinese (empty when it may)."""
    reasons = []
    if answer.enterprise_id:
        reasons += _unit_conflicts(expert, answer.enterprise, "揭榜单位")
    else:
        name = normalise_name(expert.organisation)
        if name and name == normalise_name(answer.organisation):
            reasons.append(f"工作单位“{expert.organisation}”即揭榜单位“{answer.organisation}”")
    reasons += _unit_conflicts(expert, poster or answer.challenge.poster, "发榜单位")
    return reasons


# —— 答题 ————————————————————————————————————————————————————————————————————————————————————————————————


def answering_refusal(challenge: Challenge, now: dt.datetime | None = None) -> str | None:
    """Why `challenge` does not accept answers at `now` (None when it does): 揭榜中 and now ≤ deadline."""
    now = now or timezone.now()
    if challenge.state != ANSWERING_STATE:
        return f"榜单“{challenge.title}”当前为“{state_label(challenge)}”，只有揭榜中的榜单可以揭榜"
    if now > challenge.deadline:
        return f"已过揭榜截止时间 {_when(challenge.deadline)}，不能揭榜（提交时间 {_when(now)}）"
    return None


def _answer_values(challenge: Challenge, values: dict) -> tuple[dict[str, list[str]], dict]:
    errors: dict[str, list[str]] = {}
    leader = parsing.text(values.get("leader"))
    if not leader:
        errors.setdefault("leader", []).append("团队负责人必须填写")
    elif len(leader) > LEADER_MAX:
        errors.setdefault("leader", []).append(f"团队负责人最多 {LEADER_MAX} 字，现为 {len(leader)} 字")
    proposal = parsing.text(values.get("proposal"))
    if not proposal:
        errors.setdefault("proposal", []).append("揭榜方案必须填写（技术路线、进度安排、考核指标）")
    quoted = parsing.collect(
        errors, "quoted_amount", parsing.money, values.get("quoted_amount"), "报价", allow_zero=False
    )
    if quoted is not None and quoted > challenge.budget:
        errors.setdefault("quoted_amount", []).append(
            f"报价 {_wan(quoted)}超过榜单金额 {_wan(challenge.budget)}，报价不能超过榜单金额"
        )
    raw = values.get("period_months")
    period = None
    try:
        period = int(str(raw).strip()) if raw is not None and not isinstance(raw, bool) else None
    except ValueError:
        period = None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors.setdefault("period_months", []).append("实施周期必须填写（月）")
    elif period is None:
        errors.setdefault("period_months", []).append(f"实施周期“{raw}”不是整数（月）")
    elif not 1 <= period <= MAX_PERIOD:
        errors.setdefault("period_months", []).append(f"实施周期 {period} 个月不在 1–{MAX_PERIOD} 个月之内")
    cleaned = {
        "leader": leader,
        "members": parsing.text(values.get("members")),
        "proposal": proposal,
        "quoted_amount": quoted,
        "period_months": period,
    }
    return errors, cleaned


@transaction.atomic
def answer_submit(
    challenge: Challenge,
    *,
    user,
    enterprise: Enterprise | None = None,
    organisation: str = "",
    now: dt.datetime | None = None,
    **values,
) -> ChallengeAnswer:
    """揭榜: an answer for `enterprise` (one the user acts for; its only one when not named) or, for a user
    acting for no enterprise, for `organisation` by name. Refused when the challenge does not accept answers
    (state, deadline), for the poster itself, for a unit that has already answered, or for bad values."""
    unknown = set(values) - {"leader", "members", "proposal", "quoted_amount", "period_months"}
    if unknown:
        raise TypeError(f"unknown answer fields {sorted(unknown)}")
    _require(user, ANSWER, "无权揭榜")
    now = now or timezone.now()
    current = Challenge.objects.select_for_update().select_related("poster", "workflow").get(pk=challenge.pk)
    refusal = answering_refusal(current, now)
    if refusal:
        raise ValidationError({"challenge": refusal})
    mine = member_enterprise_ids(user)
    organisation = parsing.text(organisation)
    if enterprise is None and mine:
        if len(mine) > 1:
            raise ValidationError({"enterprise": "您的账号关联多家企业，请选择揭榜单位"})
        enterprise = Enterprise.objects.get(pk=next(iter(mine)))
    if enterprise is not None:
        if enterprise.pk not in mine:
            raise PermissionDenied(f"您不是{enterprise.name}的用户，不能以其名义揭榜")
        organisation = ""
        if enterprise.pk == current.poster_id:
            raise ValidationError({"enterprise": f"{enterprise.name}是本榜的发榜单位，不能揭自己发布的榜"})
    else:
        if not organisation:
            raise ValidationError({"organisation": "揭榜单位名称必须填写（高校、科研院所等）"})
        if len(organisation) > ORGANISATION_MAX:
            raise ValidationError(
                {"organisation": f"揭榜单位名称最多 {ORGANISATION_MAX} 字，现为 {len(organisation)} 字"}
            )
        if normalise_name(organisation) == normalise_name(current.poster.name):
            raise ValidationError({"organisation": f"“{organisation}”是本榜的发榜单位，不能揭自己发布的榜"})
    errors, cleaned = _answer_values(current, values)
    if errors:
        raise ValidationError(errors)
    existing = _existing_answer(current, enterprise, organisation, cleaned["leader"])
    if existing is not None and not existing.withdrawn:
        unit = enterprise.name if enterprise else f"{organisation}（负责人 {cleaned['leader']}）"
        raise ValidationError(
            {
                "enterprise" if enterprise else "organisation": (
                    f"{unit}已于 {_when(existing.submitted_at)} 揭此榜，不能重复揭榜（可先撤回原方案）"
                )
            }
        )
    answer = existing or ChallengeAnswer(challenge=current, enterprise=enterprise, organisation=organisation)
    for name, value in cleaned.items():
        setattr(answer, name, value)
    answer.submitted_by = parsing.actor(user)
    answer.submitted_at = now
    answer.withdrawn = False
    try:
        with transaction.atomic():
            parsing.history_user(answer, user).save()
    except IntegrityError:
        raise ValidationError({"enterprise": "该单位已同时揭此榜，请刷新后核对"}) from None
    return answer


def _existing_answer(challenge, enterprise, organisation: str, leader: str) -> ChallengeAnswer | None:
    if enterprise is not None:
        return challenge.answers.filter(enterprise=enterprise).first()
    key = normalise_name(organisation)
    for answer in challenge.answers.filter(enterprise__isnull=True, leader=leader):
        if normalise_name(answer.organisation) == key:
            return answer
    return None


@transaction.atomic
def answer_withdraw(answer: ChallengeAnswer, *, user, now: dt.datetime | None = None) -> ChallengeAnswer:
    """The answering unit withdraws its answer while answers are still accepted."""
    current = (
        ChallengeAnswer.objects.select_for_update(of=("self",))
        .select_related("challenge__workflow", "enterprise")
        .get(pk=answer.pk)
    )
    own = (current.submitted_by_id is not None and current.submitted_by_id == getattr(user, "pk", None)) or (
        current.enterprise_id is not None and current.enterprise_id in member_enterprise_ids(user)
    )
    if not own:
        raise PermissionDenied(f"仅揭榜单位{current.unit_name}可以撤回该方案")
    if current.withdrawn:
        raise ValidationError({"answer": f"{current.unit_name}的方案已撤回，无需重复撤回"})
    challenge = current.challenge
    now = now or timezone.now()
    if challenge.state != ANSWERING_STATE:
        raise ValidationError(
            {
                "answer": f"榜单“{challenge.title}”当前为“{state_label(challenge)}”，只有揭榜中的榜单可以撤回方案"
            }
        )
    if now > challenge.deadline:
        raise ValidationError({"answer": f"已过揭榜截止时间 {_when(challenge.deadline)}，不能撤回方案"})
    current.withdrawn = True
    parsing.history_user(current, user).save(update_fields=["withdrawn"])
    answer.withdrawn = True
    return current


# —— 阅卷 ————————————————————————————————————————————————————————————————————————————————————————————————


def _score(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError({"score": "得分必须填写（0–100）"})
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({"score": f"得分“{value}”不是数字（允许 0–100）"}) from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        raise ValidationError({"score": f"得分 {value} 超出允许范围 0–100"})
    if number != number.quantize(CENT):
        raise ValidationError({"score": f"得分 {value} 最多保留两位小数"})
    return number.quantize(CENT)


def reviewer_role(user, challenge: Challenge) -> str | None:
    """poster, expert, or None: who the user reviews as."""
    if is_poster_user(user, challenge):
        return ChallengeReviewRole.POSTER
    if is_invited_expert(user, challenge):
        return ChallengeReviewRole.EXPERT
    return None


@transaction.atomic
def review_submit(answer: ChallengeAnswer, *, user, score: Any, comment: str = "") -> ChallengeReview:
    """阅卷: one reviewer's score of one answer, once, while the challenge is 阅卷中."""
    _require(user, REVIEW, "无权阅卷")
    current = (
        ChallengeAnswer.objects.select_for_update(of=("self",))
        .select_related("challenge__poster", "challenge__workflow", "enterprise")
        .get(pk=answer.pk)
    )
    challenge = current.challenge
    role = reviewer_role(user, challenge)
    if role is None:
        raise PermissionDenied(f"仅发榜单位{challenge.poster.name}的用户和受邀专家可以阅卷")
    if challenge.state != REVIEWING_STATE:
        raise ValidationError(
            {
                "challenge": f"榜单“{challenge.title}”当前为“{state_label(challenge)}”，只有阅卷中的榜单可以评分"
            }
        )
    if current.withdrawn:
        raise ValidationError({"answer": f"{current.unit_name}的方案已撤回，不能评分"})
    if role == ChallengeReviewRole.EXPERT:
        reasons = expert_conflicts(expert_of(user), current, challenge.poster)
        if reasons:
            raise ValidationError({"reviewer": f"存在回避关系：{'；'.join(reasons)}，不能评审该方案"})
    done = ChallengeReview.objects.filter(answer=current, reviewer=user).first()
    if done is not None:
        raise ValidationError(
            {"score": f"已于 {_when(done.reviewed_at)} 对该方案评分（{done.score} 分），不能重复评分"}
        )
    number = _score(score)
    review = ChallengeReview(
        answer=current, reviewer=user, role=role, score=number, comment=parsing.text(comment)
    )
    try:
        with transaction.atomic():
            parsing.history_user(review, user).save()
    except IntegrityError:
        raise ValidationError({"score": "已对该方案评分，不能重复评分"}) from None
    return review


# —— 排名 ————————————————————————————————————————————————————————————————————————————————————————————————


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, ROUND_HALF_UP)


def final_score(poster: Decimal | None, expert: Decimal | None) -> Decimal | None:
    """0.5 × poster score + 0.5 × mean expert score; None unless both are there."""
    if poster is None or expert is None:
        return None
    return (POSTER_WEIGHT * poster + EXPERT_WEIGHT * expert).quantize(CENT, ROUND_HALF_UP)


@dataclass
class RankRow:
    answer: ChallengeAnswer
    poster_scores: list[Decimal] = field(default_factory=list)
    expert_scores: list[Decimal] = field(default_factory=list)
    reviews: list[ChallengeReview] = field(default_factory=list)
    rank: int | None = None

    @property
    def poster_score(self) -> Decimal | None:
        return _mean(self.poster_scores)

    @property
    def expert_score(self) -> Decimal | None:
        return _mean(self.expert_scores)

    @property
    def final(self) -> Decimal | None:
        return final_score(self.poster_score, self.expert_score)

    @property
    def complete(self) -> bool:
        return self.final is not None

    @property
    def missing(self) -> str:
        """What the answer still lacks to be ranked, in Chinese (empty when complete)."""
        lacks = []
        if not self.poster_scores:
            lacks.append("发榜单位评分")
        if not self.expert_scores:
            lacks.append("专家评分")
        return "、".join(lacks)


def ranking(challenge: Challenge) -> list[RankRow]:
    """The answers still in (not withdrawn) with their scores: ranked ones first (final highest first, ties by
    submission time then id), then the ones whose review is not complete, unranked."""
    answers = list(
        challenge.answers.filter(withdrawn=False).select_related("enterprise").order_by("submitted_at", "pk")
    )
    rows = {a.pk: RankRow(a) for a in answers}
    reviews = (
        ChallengeReview.objects.filter(answer__in=answers)
        .select_related("reviewer")
        .order_by("role", "reviewed_at", "pk")
    )
    for review in reviews:
        row = rows[review.answer_id]
        row.reviews.append(review)
        (row.poster_scores if review.role == ChallengeReviewRole.POSTER else row.expert_scores).append(
            review.score
        )
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            not r.complete,
            -(r.final or 0),
            r.answer.submitted_at.timestamp(),
            r.answer.pk,
        ),
    )
    for number, row in enumerate((r for r in ordered if r.complete), 1):
        row.rank = number
    return ordered


# —— 定榜 ————————————————————————————————————————————————————————————————————————————————————————————————


@transaction.atomic
def choose_winner(challenge: Challenge, answer: ChallengeAnswer, *, user, reason: str = "") -> Challenge:
    """An officer chooses the winner among the answers whose review is complete, and the challenge is decided
    (定榜, logged). Choosing an answer not ranked first needs a reason."""
    _require(user, MANAGE, "无权定榜")
    current = Challenge.objects.select_for_update().select_related("poster", "workflow").get(pk=challenge.pk)
    if current.state != REVIEWING_STATE:
        raise ValidationError(
            {"challenge": f"榜单“{current.title}”当前为“{state_label(current)}”，只有阅卷中的榜单可以定榜"}
        )
    if answer.challenge_id != current.pk:
        raise ValidationError({"answer": f"方案“{answer}”不是本榜的揭榜方案"})
    rows = ranking(current)
    row = next((r for r in rows if r.answer.pk == answer.pk), None)
    if row is None:
        raise ValidationError({"answer": f"{answer.unit_name}的方案已撤回，不能中选"})
    if not row.complete:
        raise ValidationError(
            {
                "answer": f"{answer.unit_name}的方案尚未完成阅卷（缺{row.missing}），只能在已完成阅卷的方案中选定中选方案"
            }
        )
    reason = parsing.text(reason)
    if row.rank != 1 and not reason:
        first = rows[0]
        raise ValidationError(
            {
                "reason": f"所选方案排名第 {row.rank}（综合得分 {row.final}），排名第一的是"
                f"{first.answer.unit_name}（{first.final}）：选定非第一名须说明理由"
            }
        )
    current.winner = row.answer
    parsing.history_user(current, user).save(update_fields=["winner"])
    step = f"中选：{row.answer.unit_name}，排名第 {row.rank}，综合得分 {row.final}"
    engine.take(current, "decide", user, f"{step}。{reason}" if reason else step)
    challenge.state, challenge.winner = current.state, current.winner
    return current


# —— 转立项 ——————————————————————————————————————————————————————————————————————————————————————————————


def _path(definition: dict, start: str, goal: str) -> list[dict] | None:
    """The shortest chain of transitions from `start` to `goal` in a workflow definition (None: none)."""
    queue: deque[tuple[str, list[dict]]] = deque([(start, [])])
    seen = {start}
    while queue:
        state, steps = queue.popleft()
        if state == goal:
            return steps
        for t in definition.get("transitions", []):
            if state in t.get("from", []) and t.get("to") not in seen:
                seen.add(t["to"])
                queue.append((t["to"], [*steps, t]))
    return None


def project_errors(
    challenge: Challenge, *, call: Call | None, amount: Any
) -> tuple[dict[str, list[str]], Any]:
    errors: dict[str, list[str]] = {}
    if challenge.state != DECIDED_STATE:
        errors.setdefault("challenge", []).append(
            f"榜单“{challenge.title}”当前为“{state_label(challenge)}”，只有已定榜的榜单可以转为资助项目"
        )
    elif challenge.application_id:
        errors.setdefault("challenge", []).append(
            f"榜单已转为资助项目“{challenge.application.title}”，不能重复转立项"
        )
    if call is None:
        errors.setdefault("call", []).append("请选择立项所属的申报批次")
    elif call.state in CLOSED_CALL_STATES:
        errors.setdefault("call", []).append(
            f"申报批次“{call}”当前为“{engine.state_label(call)}”，不能在其中立项"
        )
    number = parsing.collect(errors, "amount", parsing.money, amount, "区级资助金额", allow_zero=False)
    if number is not None:
        if challenge.subsidy_cap <= 0:
            errors.setdefault("amount", []).append(
                "本榜单未设区级资助（区级资助上限 0 万元），中选方案不能转为区级资助项目"
            )
        elif number > challenge.subsidy_cap:
            errors.setdefault("amount", []).append(
                f"区级资助 {_wan(number)}超过本榜单的区级资助上限 {_wan(challenge.subsidy_cap)}"
            )
        if call is not None and number > call.cap_per_project:
            errors.setdefault("amount", []).append(
                f"区级资助 {_wan(number)}超过申报批次“{call.title}”的单项资助上限 {_wan(call.cap_per_project)}"
            )
        winner = challenge.winner
        if winner is not None and number > winner.quoted_amount:
            errors.setdefault("amount", []).append(
                f"区级资助 {_wan(number)}超过中选方案的报价 {_wan(winner.quoted_amount)}"
            )
    return errors, number


@transaction.atomic
def make_project(
    challenge: Challenge, *, call: Call | None, amount: Any, user, now: dt.datetime | None = None
) -> Application:
    """The winner becomes a funded project: an Application in `call` asking `amount` (yuan), moved to 评审完成
    through the logged steps of its workflow, from which money.award() issues the 任务书."""
    _require(user, MANAGE, "无权将中选方案转为资助项目")
    now = now or timezone.now()
    current = (
        Challenge.objects.select_for_update(of=("self",))
        .select_related("poster", "workflow", "winner__enterprise", "application")
        .get(pk=challenge.pk)
    )
    errors, number = project_errors(current, call=call, amount=amount)
    if errors:
        raise ValidationError(errors)
    winner = current.winner
    enterprise = winner.enterprise or current.poster
    title = current.title[:APPLICATION_TITLE_MAX]
    if Application.objects.filter(call=call, enterprise=enterprise, title=title).exists():
        raise ValidationError(
            {"call": f"{enterprise.name}在申报批次“{call.title}”已有同名申报“{title}”，请选择其他批次"}
        )
    ranked = next((r for r in ranking(current) if r.answer.pk == winner.pk), None)
    data = {
        "source": "challenge",
        "challenge_id": current.pk,
        "challenge_title": current.title,
        "poster": current.poster.name,
        "answer_id": winner.pk,
        "unit": winner.unit_name,
        "unit_in_registry": winner.enterprise_id is not None,
        "leader": winner.leader,
        "members": winner.members,
        "proposal": winner.proposal,
        "quoted_amount": str(winner.quoted_amount),
        "period_months": winner.period_months,
        "final_score": str(ranked.final) if ranked and ranked.final is not None else None,
    }
    application = Application(
        call=call,
        enterprise=enterprise,
        title=title,
        field=current.field,
        keywords=current.keywords,
        data=data,
        requested_amount=number,
        submitted_at=now,
        created_by=parsing.actor(user),
    )
    engine.start(application, APPLICATION_WORKFLOW)
    steps = _path(application.workflow.definition, application.state, REVIEWED_STATE)
    if steps is None:
        raise ValidationError(
            {
                "call": f"申报流程第 {application.workflow.version} 版没有从“{engine.state_label(application)}”"
                "到“评审完成”的步骤，无法转为资助项目"
            }
        )
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ValidationError({"call": "该申报已被同时创建，请刷新后核对"}) from None
    why = (
        f"揭榜挂帅转立项：榜单“{current.title}”（发榜单位 {current.poster.name}）中选方案"
        f"（{winner.unit_name}，负责人 {winner.leader}）；发榜审核与阅卷代替申报受理与评审"
    )
    content_type = ContentType.objects.get_for_model(Application)
    for t in steps:
        TransitionLog.objects.create(
            content_type=content_type,
            object_id=application.pk,
            workflow=application.workflow,
            transition=t["name"],
            from_state=application.state,
            to_state=t["to"],
            actor=parsing.actor(user),
            reason=why,
        )
        application.state = t["to"]
    Application.objects.filter(pk=application.pk).update(state=application.state)
    current.application = application
    current.call = call
    parsing.history_user(current, user).save(update_fields=["application", "call"])
    challenge.application, challenge.call = application, call
    return application
