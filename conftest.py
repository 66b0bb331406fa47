"""Test set-up shared by the whole suite: fast hashing, and the persona users of every role."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Test databases roll back, so two tests can leave the same ids behind with different rows: nothing
    # remembered for one may serve another (kechuang.indicators.computed.cached,
    # kechuang.projects.review_selectors.call_ranking).
    from django.core.cache import cache

    from kechuang.projects.review_selectors import forget_rankings

    cache.clear()
    forget_rankings()


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


class Personas:
    """Two parks, an enterprise in each, and one user per role; `alice` is enterprise A's user,
    `bob` is park A's operator, `carol` an officer, `leo` the leader, `uma` a university, `eve` an
    expert. Enterprise B (park B) is the outsider none of alice and bob may touch."""


@pytest.fixture
def personas(db):
    from datetime import date

    from django.contrib.auth.models import Group, User

    from kechuang.core import roles
    from kechuang.core.uscc import make_code
    from kechuang.enterprises.models import Enterprise, Membership, Park

    roles.roles_sync()
    p = Personas()
    p.zone = Park.objects.create(name="张江高新区松江园", kind="zone")
    p.park_a = Park.objects.create(name="临港松江科技园", kind="sub_park", parent=p.zone)
    p.park_b = Park.objects.create(name="G60脑智科创基地", kind="sub_park", parent=p.zone)
    p.ent_a = Enterprise.objects.create(
        uscc=make_code("91310117MA1J00001"),
        name="上海甲科技有限公司",
        short_name="甲科技",
        park=p.park_a,
        industry="I",
        hitech_field="01",
        registration_date=date(2018, 3, 1),
        contact_phone="13812345678",
    )
    p.ent_b = Enterprise.objects.create(
        uscc=make_code("91310117MA1J00002"),
        name="上海乙生物有限公司",
        short_name="乙生物",
        park=p.park_b,
        industry="C",
        hitech_field="02",
        registration_date=date(2015, 6, 1),
    )

    def user(username, role):
        u = User.objects.create_user(username, password="pass-" + username)
        u.groups.add(Group.objects.get(name=role.name))
        return u

    p.alice = user("alice", roles.ENTERPRISE)
    Membership.objects.create(user=p.alice, enterprise=p.ent_a)
    p.bob = user("bob", roles.PARK_OPERATOR)
    Membership.objects.create(user=p.bob, park=p.park_a)
    p.carol = user("carol", roles.OFFICER)
    p.leo = user("leo", roles.LEADER)
    p.uma = user("uma", roles.UNIVERSITY)
    p.eve = user("eve", roles.EXPERT)
    return p
