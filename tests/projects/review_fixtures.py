"""Rows for the review tests (tests/projects/test_review.py): calls, applications, experts, and a URLconf
that mounts the review pages under the namespace "projects" until kechuang/urls.py does.

Applications and calls are pinned to their workflows with `engine.start`; when the colleague's
kechuang/projects/workflows.py has not registered "projects.application" / "projects.call" yet (or cannot be
imported), minimal definitions are registered here, for these tests only.
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from itertools import count

from django.utils import timezone

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise
from kechuang.projects.models import Application, Call, Expert, Programme
from kechuang.workflows import engine

# —— Workflows ———————————————————————————————————————————————————————————————————————————————————————

MINIMAL = {
    "projects.call": {
        "initial": "draft",
        "states": {"draft": "草稿", "reviewing": "评审中"},
        "transitions": [{"name": "start_review", "label": "开始评审", "from": ["draft"], "to": "reviewing"}],
    },
    "projects.application": {
        "initial": "draft",
        "states": {
            "draft": "草稿",
            "submitted": "已提交",
            "formally_passed": "形式审查通过",
            "under_review": "专家评审中",
            "reviewed": "评审完成",
        },
        "transitions": [
            {"name": "submit", "label": "提交申报", "from": ["draft"], "to": "submitted"},
            {"name": "pass_formal", "label": "形式审查通过", "from": ["submitted"], "to": "formally_passed"},
        ],
    },
}


def ensure_workflows() -> None:
    for key, definition in MINIMAL.items():
        if key not in engine.REGISTRY:
            try:
                importlib.import_module("kechuang.projects.workflows")
            except (ImportError, AttributeError):
                pass
        if key not in engine.REGISTRY:
            engine.register(key, default=definition)


# —— Rows ———————————————————————————————————————————————————————————————————————————————————————————

SHEET = [
    {"key": "innovation", "label": "技术创新性", "max": 10, "weight": 40},
    {"key": "team", "label": "团队与基础", "max": 20, "weight": 30},
    {"key": "benefit", "label": "预期效益", "max": 5, "weight": 30},
]
_numbers = count(1)


def make_call(*, experts_per_application: int = 5, sheet=None, title: str = "2026年度科技攻关") -> Call:
    ensure_workflows()
    programme, _ = Programme.objects.get_or_create(code="review-test", defaults={"name": "科技攻关"})
    now = timezone.now()
    call = Call(
        programme=programme,
        year=2026,
        title=title,
        guide="指南",
        budget_total=Decimal("10000000"),
        cap_per_project=Decimal("500000"),
        opens_at=now - dt.timedelta(days=60),
        closes_at=now - dt.timedelta(days=30),
        score_sheet=SHEET if sheet is None else sheet,
        experts_per_application=experts_per_application,
        form=[{"key": "basic", "title": "项目概况", "fields": [{"key": "summary", "label": "项目简介"}]}],
    )
    engine.start(call, "projects.call")
    call.state = "reviewing"
    call.save()
    return call


def make_enterprise(name: str | None = None, *, n: int | None = None) -> Enterprise:
    n = next(_numbers) if n is None else n
    return Enterprise.objects.create(uscc=make_code(f"91310117MA3R{n:05d}"), name=name or f"评审测试企业{n}")


def make_application(
    call: Call,
    enterprise: Enterprise | None = None,
    *,
    title: str | None = None,
    field: str = "",
    keywords: str = "",
    state: str = "formally_passed",
    submitted_at: dt.datetime | None = None,
) -> Application:
    n = next(_numbers)
    app = Application(
        call=call,
        enterprise=enterprise or make_enterprise(),
        title=title or f"项目{n}",
        field=field,
        keywords=keywords,
        data={"summary": f"项目{n}的简介"},
        requested_amount=Decimal("300000"),
        submitted_at=submitted_at or timezone.now() - dt.timedelta(days=40, minutes=-n),
    )
    engine.start(app, "projects.application")
    app.state = state
    app.save()
    return app


def make_expert(
    name: str | None = None,
    *,
    organisation: str = "",
    code: str = "",
    fields=(),
    keywords: str = "",
    user=None,
    active: bool = True,
) -> Expert:
    n = next(_numbers)
    return Expert.objects.create(
        name=name or f"专家{n}",
        organisation=organisation or f"某大学{n}",
        organisation_code=code,
        fields=list(fields),
        keywords=keywords,
        user=user,
        active=active,
    )


def experts(k: int, **kwargs) -> list[Expert]:
    return [make_expert(**kwargs) for _ in range(k)]


def full_marks_share(share: Decimal) -> dict[str, Decimal]:
    """Scores at the same share of every criterion's maximum: the weighted total is share × 100."""
    return {c["key"]: (Decimal(c["max"]) * share).quantize(Decimal("0.01")) for c in SHEET}
