"""`kechuang demo_recognitions`: about 30 contracts and 15 projects over the demo enterprises, made through the
services (so they obey the rules), idempotent; and refused in Chinese without demo enterprises."""

import io

import pytest
from django.core.management import CommandError, call_command

from kechuang.recognitions.models import PaymentMilestone, TechContract, TransformationProject
from kechuang.recognitions.selectors import behind_schedule
from tests.recognitions.conftest import TODAY

pytestmark = pytest.mark.django_db


def test_without_demo_enterprises_the_command_says_what_to_run_first():
    with pytest.raises(CommandError, match="没有示例企业：请先运行 kechuang demo"):
        call_command("demo_recognitions")


def test_the_demo_is_made_through_the_services_and_only_once(p):
    call_command("demo", enterprises=300, verbosity=0)
    out = io.StringIO()

    call_command("demo_recognitions", stdout=out)

    assert "技术合同 30 项；高转项目 15 个" in out.getvalue()
    contracts = TechContract.objects.filter(is_demo=True)
    states = {
        s: contracts.filter(state=s).count()
        for s in ("registered", "submitted", "not_registered", "cancelled")
    }
    assert states == {"registered": 25, "submitted": 2, "not_registered": 2, "cancelled": 1}
    for c in contracts.filter(state="registered"):
        assert len(c.registration_no) == 16 and c.registration_no.startswith(str(c.registered_on.year))
        assert c.tech_amount <= c.total_amount
        assert c.milestones.exists()
    assert PaymentMilestone.objects.filter(paid_amount__gt=0).exists()
    assert behind_schedule(p.carol, on=TODAY).exists()
    projects = TransformationProject.objects.filter(is_demo=True)
    assert projects.count() == 15
    for project in projects.filter(state="recognised"):
        assert project.reviews.filter(state="submitted").count() >= 3
        assert project.certificate_no and project.valid_until > project.recognised_on
    assert {p_.state for p_ in projects} == {
        "draft",
        "submitted",
        "returned",
        "district_recommended",
        "recognised",
        "rejected",
    }

    again = io.StringIO()
    call_command("demo_recognitions", stdout=again)
    assert "已有认定登记示例数据，未重复生成" in again.getvalue()
    assert TechContract.objects.count() == 30 and TransformationProject.objects.count() == 15
