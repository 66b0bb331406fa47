"""Fixtures of the money tests: a call, a reviewed application with its budget, an award with milestones, the
officer's project permissions; and a URL conf that mounts the money pages under "projects" until the project's
own urls include them.

A test module makes the fixtures its own by binding them: `officer = money_fixtures.officer`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from kechuang.projects.models import Application, BudgetLine, Call, Programme
from kechuang.workflows import engine

AWARD_KEY = "projects.award"
APPLICATION_KEY = "projects.application"
CALL_KEY = "projects.call"

# The officer's project permissions (kechuang/core/roles.py gives them to the officer role once the lead adds
# them; granted to the user here so the tests do not depend on it).
OFFICER_PERMS = (
    "view_award",
    "add_award",
    "change_award",
    "change_milestone",
    "add_disbursement",
    "add_expenditure",
    "add_evaluation",
    "change_application",
)


def ensure_workflows() -> None:
    """The project workflows are registered by kechuang/projects/workflows.py at start-up; where that module
    is missing, minimal stand-ins with the same state names."""
    try:
        import kechuang.projects.workflows  # noqa: F401
    except ModuleNotFoundError:
        pass
    t = _transition
    if CALL_KEY not in engine.REGISTRY:
        engine.register(
            CALL_KEY,
            default={
                "initial": "draft",
                "states": {"draft": "草稿", "reviewing": "评审中"},
                "transitions": [t("start_review", "开始评审", ["draft"], "reviewing")],
            },
        )
    if APPLICATION_KEY not in engine.REGISTRY:
        engine.register(
            APPLICATION_KEY,
            default={
                "initial": "draft",
                "states": {
                    "draft": "草稿",
                    "submitted": "已提交",
                    "reviewed": "评审完成",
                    "approved": "立项",
                },
                "transitions": [
                    t("submit", "提交申报", ["draft"], "submitted"),
                    t("approve", "立项", ["reviewed"], "approved", "projects.add_award"),
                ],
            },
        )
    if AWARD_KEY not in engine.REGISTRY:
        engine.register(
            AWARD_KEY,
            default={
                "initial": "contracted",
                "states": {
                    "contracted": "已签任务书",
                    "in_progress": "实施中",
                    "mid_term_checked": "已中期检查",
                    "accepted": "验收通过",
                    "failed": "验收不通过",
                },
                "transitions": [
                    t("start", "开始实施", ["contracted"], "in_progress", "projects.change_award"),
                    t("mid_term", "中期检查", ["in_progress"], "mid_term_checked", "projects.change_award"),
                    t("accept", "验收通过", ["mid_term_checked"], "accepted", "projects.change_award"),
                    t("fail", "验收不通过", ["mid_term_checked"], "failed", "projects.change_award"),
                ],
            },
        )


def _transition(name, label, sources, to, permission="") -> dict:
    return {"name": name, "label": label, "from": sources, "to": to, "permission": permission, "guards": []}


def grant(user: User, *codenames: str) -> User:
    """The user with these projects permissions, fetched again so that its permission cache is fresh."""
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="projects", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


def make_call(*, cap="500000", budget_total="5000000", title="2026年度科技攻关（联合攻关）") -> Call:
    programme, _ = Programme.objects.get_or_create(code="keji-gonguan", defaults={"name": "科技攻关"})
    now = timezone.now()
    call = Call(
        programme=programme,
        year=2026,
        title=title,
        guide="申报指南",
        budget_total=Decimal(budget_total),
        cap_per_project=Decimal(cap),
        opens_at=now - dt.timedelta(days=120),
        closes_at=now - dt.timedelta(days=60),
    )
    engine.start(call, CALL_KEY)
    call.state = "reviewing"
    call.save()
    return call


def make_application(
    call: Call,
    enterprise,
    *,
    requested="400000",
    state="reviewed",
    title="高性能脑机接口芯片研制",
    budget: dict | None = None,
) -> Application:
    application = Application(
        call=call,
        enterprise=enterprise,
        title=title,
        requested_amount=Decimal(requested),
        submitted_at=call.opens_at,
    )
    engine.start(application, APPLICATION_KEY)
    application.state = state
    application.save()
    budget = (
        budget
        if budget is not None
        else {"equipment": "200000", "business": "120000", "labour": "60000", "indirect": "20000"}
    )
    for category, subsidy in budget.items():
        BudgetLine.objects.create(application=application, category=category, subsidy=Decimal(subsidy))
    return application


def period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """An award period that started 200 days ago and ends in a year and a half."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=200), today + dt.timedelta(days=540)


def milestones_for(tranches: list[str], start: dt.date, end: dt.date) -> list[dict]:
    """Milestones with these tranches, due evenly through the period (the last on the end date)."""
    count = len(tranches)
    step = (end - start) / count
    return [
        {
            "title": f"节点{number}",
            "deliverables": f"节点{number}交付物：样机、测试报告",
            "due_date": start + step * number if number < count else end,
            "tranche": tranche,
        }
        for number, tranche in enumerate(tranches, 1)
    ]


@pytest.fixture
def officer(personas):
    ensure_workflows()
    return grant(personas.carol, *OFFICER_PERMS)


@pytest.fixture
def call(personas):
    ensure_workflows()
    return make_call()


@pytest.fixture
def application(call, personas):
    return make_application(call, personas.ent_a)


@pytest.fixture
def funded(application, officer):
    """An award of 400,000.00 元 in four tranches (100,000 + 150,000 + 100,000 + 50,000)."""
    from kechuang.projects import money

    start, end = period()
    return money.award(
        application,
        amount="400000",
        contract_no="SJKW-2026-001",
        start_date=start,
        end_date=end,
        milestones=milestones_for(["100000", "150000", "100000", "50000"], start, end),
        user=officer,
    )
