"""A programme with an open call, and applications of the personas' enterprises, for the workflow tests.

The project permissions are granted to the persona users here (the officer role does not carry them yet):
alice (enterprise A) applies with projects.add_application; carol (officer) runs calls, applications and awards.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from kechuang.projects.models import Application, Award, Call, Programme
from kechuang.workflows import engine

APPLICANT_PERMISSIONS = ("projects.add_application",)
OFFICER_PERMISSIONS = (
    "projects.change_call",
    "projects.change_application",
    "projects.add_award",
    "projects.change_award",
)
FORM = [
    {
        "key": "basic",
        "title": "基本情况",
        "fields": [{"key": "summary", "label": "项目简介", "type": "text", "required": True}],
    }
]
SCORE_SHEET = [{"key": "innovation", "label": "创新性", "max": 100, "weight": 1}]


def grant(user, *dotted: str):
    """Give `user` the permissions and return it fetched again (has_perm caches what it has seen)."""
    for code in dotted:
        app_label, codename = code.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


def make_call(programme, *, state="open", title="2026年度科技攻关项目", **fields) -> Call:
    now = timezone.now()
    values = dict(
        programme=programme,
        year=2026,
        title=title,
        guide="申报指南",
        budget_total=Decimal("2000000"),
        cap_per_project=Decimal("500000"),
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=10),
        form=FORM,
        score_sheet=SCORE_SHEET,
        experts_per_application=2,
    )
    values.update(fields)
    call = engine.start(Call(**values), "projects.call")
    call.state = state
    call.save()
    return call


def make_application(call, enterprise, *, state=None, title="智能制造关键技术攻关", **fields) -> Application:
    values = dict(
        call=call,
        enterprise=enterprise,
        title=title,
        data={"summary": "研制高精度伺服系统"},
        requested_amount=Decimal("300000"),
    )
    values.update(fields)
    application = engine.start(Application(**values), "projects.application")
    if state:
        application.state = state
    application.save()
    return application


def make_award(application, *, state=None, contract_no="SJKW-2026-001", **fields) -> Award:
    today = timezone.localdate()
    values = dict(
        application=application,
        contract_no=contract_no,
        amount=Decimal("300000"),
        approved_at=timezone.now(),
        start_date=today - timedelta(days=1),
        end_date=date(today.year + 2, 12, 31),
    )
    values.update(fields)
    award = engine.start(Award(**values), "projects.award")
    if state:
        award.state = state
    award.save()
    return award


@pytest.fixture
def wf(personas):
    """The personas, with project permissions, a programme, an open call and alice's draft application."""
    p = personas
    p.alice = grant(p.alice, *APPLICANT_PERMISSIONS)
    p.carol = grant(p.carol, *OFFICER_PERMISSIONS)
    p.programme = Programme.objects.create(code="gongguan", name="科技攻关")
    p.call = make_call(p.programme)
    p.application = make_application(p.call, p.ent_a, created_by=p.alice)
    return p
