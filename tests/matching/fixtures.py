"""Fixtures of the 双向发榜 tests.

`mf = fixtures.mf` in a test module gives the personas of the root conftest with: alice (enterprise A) posts
demands; ben is enterprise B's user; uma is a user of 上海示例大学 (a university) and posts achievements and
talent profiles; vic a user of 另一所大学; carol the officer moderates; leo the leader reads. Every user has an
e-mail address, so notifications can be checked in mail.outbox.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from kechuang.core import roles
from kechuang.enterprises.models import Membership
from kechuang.matching import services
from kechuang.matching.models import Affiliation

UNIVERSITY = "上海示例大学"
OTHER_UNIVERSITY = "另一所大学"


def demand_values(**overrides) -> dict:
    v = dict(
        title="伺服电机温升控制",
        field="08",
        keywords="伺服电机、温升、散热",
        description="高精度伺服电机连续运行 8 小时温升超过 45K，需在不增加体积的前提下将温升降至 30K 以内。",
        budget=Decimal("800000"),
        deadline=None,
        contact_name="王工",
        contact_phone="13812345678",
    )
    v.update(overrides)
    return v


def achievement_values(**overrides) -> dict:
    v = dict(
        title="伺服电机高效散热结构",
        field="08",
        keywords="伺服电机、散热、相变材料、温升",
        abstract="定子灌封导热胶与相变材料散热结构，伺服电机连续运行温升降低 12K，不增加外形尺寸。",
        trl=5,
        ip="发明专利 ZL2023XXXXXXXX.X",
        cooperation_modes=["licence", "joint"],
        contact_name="李老师",
        contact_phone="02167791234",
    )
    v.update(overrides)
    return v


def talent_values(**overrides) -> dict:
    v = dict(
        title="电机驱动与控制团队",
        field="08",
        keywords="伺服电机、电机控制、散热",
        position="教授",
        bio="研究伺服电机设计与驱动控制，在电机温升抑制与散热结构方面有多项专利。",
        contact_name="张老师",
        contact_phone="021-67795678",
    )
    v.update(overrides)
    return v


UNRELATED = dict(
    title="可降解医用缝合线",
    field="02",
    keywords="聚乳酸、缝合线、医用纤维",
    abstract="聚乳酸熔融纺丝制备可吸收缝合线，60 天内完全降解。",
    trl=6,
    ip="",
    cooperation_modes=["transfer"],
)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def demand(p, **overrides):
    """A draft demand of enterprise A, by alice."""
    return services.demand_create(enterprise=p.ent_a, user=p.alice, **demand_values(**overrides))


def achievement(p, **overrides):
    """A draft achievement of 上海示例大学, by uma."""
    return services.achievement_create(user=p.uma, **achievement_values(**overrides))


def talent(p, **overrides):
    return services.talent_create(user=p.uma, **talent_values(**overrides))


def publish(p, posting):
    services.posting_take(posting, "submit", user=p.uma if not hasattr(posting, "enterprise") else p.alice)
    services.posting_take(posting, "publish", user=p.carol)
    posting.refresh_from_db()
    return posting


def published_demand(p, **overrides):
    return publish(p, demand(p, **overrides))


def published_achievement(p, **overrides):
    return publish(p, achievement(p, **overrides))


def published_talent(p, **overrides):
    return publish(p, talent(p, **overrides))


@pytest.fixture
def mf(personas):
    p = personas
    p.ben = User.objects.create_user("ben", password="pass-ben", first_name="本")
    p.ben.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    Membership.objects.create(user=p.ben, enterprise=p.ent_b)
    p.vic = User.objects.create_user("vic", password="pass-vic", first_name="维克")
    p.vic.groups.add(Group.objects.get(name=roles.UNIVERSITY.name))
    Affiliation.objects.create(user=p.uma, organisation=UNIVERSITY)
    Affiliation.objects.create(user=p.vic, organisation=OTHER_UNIVERSITY)
    for name in ("alice", "ben", "bob", "carol", "leo", "uma", "vic", "eve"):
        user = getattr(p, name)
        user.email = f"{name}@example.org"
        user.first_name = user.first_name or name
        user.save()
        setattr(p, name, fresh(user))
    return p
