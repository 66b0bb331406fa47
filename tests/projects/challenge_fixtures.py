"""Fixtures of the 揭榜挂帅 tests (challenges.py and its pages and API).

`chf = challenge_fixtures.chf` in a test module makes the personas of the root conftest available with:
alice (enterprise A) posts; ben (enterprise B's user) and uma (a university, no enterprise) answer; carol
(officer) moderates and decides; eve is an expert of 上海示例大学 with no conflict; frank an expert who works for
enterprise B (so in a conflict with B's answers); a call in review (cap 50 万元) for the funded project.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from kechuang.core import roles
from kechuang.enterprises.models import Membership
from kechuang.projects import challenges
from kechuang.projects.models import Challenge, Expert
from tests.projects.money_fixtures import ensure_workflows, make_call


def values(**overrides) -> dict:
    v = dict(
        title="高精度伺服电机温升控制难题",
        description="伺服电机连续运行 8 小时温升超过 45K，需在不增加体积的前提下降至 30K 以内。",
        field="08",
        keywords="伺服电机、温升、散热",
        budget=Decimal("800000"),
        subsidy_cap=Decimal("300000"),
        deadline=timezone.now() + dt.timedelta(days=30),
    )
    v.update(overrides)
    return v


def answer_values(**overrides) -> dict:
    v = dict(
        leader="王工",
        members="王工（高级工程师）\n李工（工程师）",
        proposal="采用相变材料与新型绕组结构，分三阶段完成样机与验证。",
        quoted_amount=Decimal("600000"),
        period_months=18,
    )
    v.update(overrides)
    return v


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def posted(p, **overrides) -> Challenge:
    """A draft challenge of enterprise A, by alice."""
    return challenges.challenge_create(poster=p.ent_a, user=p.alice, **values(**overrides))


def published(p, **overrides) -> Challenge:
    challenge = posted(p, **overrides)
    challenges.challenge_submit(challenge, user=p.alice)
    challenges.challenge_take(challenge, "publish", user=p.carol)
    return Challenge.objects.get(pk=challenge.pk)


def past_deadline(challenge: Challenge, seconds: int = 1) -> Challenge:
    """Time has passed: the deadline is `seconds` ago (the services compare with the clock)."""
    Challenge.objects.filter(pk=challenge.pk).update(deadline=timezone.now() - dt.timedelta(seconds=seconds))
    return Challenge.objects.get(pk=challenge.pk)


def in_review(p, challenge: Challenge, *experts: Expert) -> Challenge:
    """The challenge closed after its deadline, experts invited, review begun."""
    challenge = past_deadline(challenge)
    challenges.challenge_take(challenge, "close", user=p.carol)
    if experts:
        challenges.invite_experts(challenge, experts=experts, user=p.carol)
    challenges.challenge_take(challenge, "start_review", user=p.carol)
    return Challenge.objects.get(pk=challenge.pk)


@pytest.fixture
def chf(personas):
    ensure_workflows()
    p = personas
    p.ben = User.objects.create_user("ben", password="pass-ben", first_name="本")
    p.ben.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    Membership.objects.create(user=p.ben, enterprise=p.ent_b)
    p.frank = User.objects.create_user("frank", password="pass-frank")
    p.frank.groups.add(Group.objects.get(name=roles.EXPERT.name))
    p.eve_expert = Expert.objects.create(
        user=p.eve, name="伊娃", organisation="上海示例大学", title="教授", fields=["08"]
    )
    p.frank_expert = Expert.objects.create(
        user=p.frank, name="弗兰克", organisation="上海乙生物有限公司", title="高工", fields=["02"]
    )
    for name in ("alice", "ben", "carol", "eve", "frank", "uma", "leo", "bob"):
        setattr(p, name, fresh(getattr(p, name)))
    p.call = make_call(cap="500000", budget_total="5000000", title="2026年度揭榜挂帅专项")
    return p
