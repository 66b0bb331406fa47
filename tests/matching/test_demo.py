"""`kechuang demo_matching`: the demo postings across the eight fields, published through moderation with a few
left pending, dockings at every stage (some declined with their reasons) from the engine's own
recommendations, the demo university account made a user of 东华大学; a second run changes nothing; without the
demo enterprises it says what to run first."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from kechuang.core import roles
from kechuang.core.uscc import make_code
from kechuang.enterprises.demo import KEY_ENTERPRISE_USER
from kechuang.enterprises.models import Enterprise
from kechuang.matching import demo, demo_data, selectors
from kechuang.matching.models import Achievement, Affiliation, Demand, Docking, TalentProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_enterprises(personas):
    for serial, code in enumerate(["01", "02", "03", "04", "05", "06", "07", "08", "01", "08"], 1):
        Enterprise.objects.create(
            uscc=make_code(f"91310117MA1K{serial:05d}"),
            name=KEY_ENTERPRISE_USER if serial == 1 else f"示例企业{serial}",
            hitech_field=code,
            park=personas.park_a if serial % 2 else personas.park_b,
            is_demo=True,
        )
    university = User.objects.create_user("university")
    university.groups.add(Group.objects.get(name=roles.UNIVERSITY.name))
    return personas


def test_the_demo_loads_once_with_every_stage(demo_enterprises):
    out = StringIO()
    call_command("demo_matching", stdout=out)
    assert out.getvalue().startswith("已生成双向发榜示例：")
    assert Achievement.objects.count() == len(demo_data.ACHIEVEMENTS) >= 140
    assert TalentProfile.objects.count() == len(demo_data.TALENTS) >= 20
    assert Demand.objects.count() == len(demo_data.DEMANDS) >= 40
    fields = set(Achievement.objects.values_list("field", flat=True))
    assert fields == {"01", "02", "03", "04", "05", "06", "07", "08"}
    pending = sum(m.objects.filter(state="pending").count() for m in (Achievement, Demand, TalentProfile))
    assert pending == demo.PENDING_ACHIEVEMENTS + demo.PENDING_DEMANDS
    assert Demand.objects.filter(enterprise__name=KEY_ENTERPRISE_USER).count() >= 2
    states = set(Docking.objects.values_list("state", flat=True))
    assert states == {"recommended", "contacted", "negotiating", "signed", "landed", "declined"}
    assert Docking.objects.filter(state="declined").exclude(decline_reason="").count() >= 5
    assert all(d.score is not None for d in Docking.objects.all())
    assert selectors.decline_analysis().total == Docking.objects.filter(state="declined").count()
    assert Affiliation.objects.get(user__username="university").organisation == demo_data.DHU
    assert Achievement.objects.filter(organisation=demo_data.DHU, created_by__username="university").exists()

    before = (Achievement.objects.count(), Demand.objects.count(), Docking.objects.count())
    out = StringIO()
    call_command("demo_matching", stdout=out)
    assert out.getvalue().strip() == "双向发榜示例数据已存在，未重复生成。"
    assert (Achievement.objects.count(), Demand.objects.count(), Docking.objects.count()) == before


def test_without_demo_enterprises_it_says_what_to_run(personas):
    with pytest.raises(CommandError, match="没有示例企业：请先运行 kechuang demo"):
        call_command("demo_matching", stdout=StringIO())
    assert not Achievement.objects.exists()
