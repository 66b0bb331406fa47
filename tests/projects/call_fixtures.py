"""Calls and applications for the tests of calls.py, applications.py, eligibility.py and views_calls.py.

Make the fixture available in a test module with `cf = call_fixtures.cf`. The persona
users act through their roles (kechuang/core/roles.py): carol (officer) keeps calls and does formal review,
alice (enterprise A) applies. Enterprise A holds a 高新技术企业 certificate in force; enterprise B holds none.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kechuang.enterprises.models import Qualification
from kechuang.projects import applications, calls
from kechuang.projects.models import Programme

FORM = [
    {
        "key": "basic",
        "title": "项目基本信息",
        "fields": [
            {
                "key": "track",
                "label": "申报方向",
                "type": "choice",
                "required": True,
                "choices": ["联合攻关", "医药卫生", "科技农业"],
            },
            {"key": "summary", "label": "项目简介", "type": "textarea", "required": True, "max_length": 500},
            {"key": "start_date", "label": "计划开始日期", "type": "date"},
        ],
    },
    {
        "key": "medical",
        "title": "医药卫生专项",
        "show_if": {"field": "track", "equals": "医药卫生"},
        "fields": [{"key": "ethics", "label": "伦理审查意见", "type": "textarea", "required": True}],
    },
    {
        "key": "outcomes",
        "title": "预期成果",
        "fields": [
            {"key": "patents", "label": "申请发明专利（件）", "type": "number", "required": True},
            {"key": "plan", "label": "实施方案", "type": "file"},
        ],
    },
]
SCORE_SHEET = [
    {"key": "innovation", "label": "创新性", "max": 100, "weight": 40},
    {"key": "feasibility", "label": "可行性", "max": 100, "weight": 35},
    {"key": "benefit", "label": "预期效益", "max": 100, "weight": 25},
]
ELIGIBILITY = [
    {"rule": "registered_in_songjiang", "label": "在松江区注册的企业"},
    {"rule": "hnte_valid", "label": "有效期内的高新技术企业"},
]
FILLED = {"track": "联合攻关", "summary": "研制高精度伺服系统", "patents": "2"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def call_values(**overrides) -> dict:
    now = timezone.now()
    values = dict(
        year=2026,
        title="2026年度科技攻关项目（联合攻关）",
        guide="围绕松江区重点产业开展关键共性技术攻关。",
        budget_total=Decimal("2000000"),
        cap_per_project=Decimal("500000"),
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=10),
        eligibility=ELIGIBILITY,
        form=FORM,
        score_sheet=SCORE_SHEET,
    )
    values.update(overrides)
    return values


def open_call(programme, officer, **overrides):
    call = calls.call_create(programme=programme, user=officer, **call_values(**overrides))
    return calls.call_open(call, user=officer)


def started(call, enterprise, user, title="高精度伺服系统关键技术攻关"):
    return applications.application_start(call=call, enterprise=enterprise, title=title, user=user)


def filled(application, user, *, subsidy="300000", data=None):
    applications.application_save(application, data=data or FILLED, user=user)
    return applications.budget_set(application, lines={"business": {"subsidy": subsidy}}, user=user)


@pytest.fixture
def cf(personas, settings):
    """The personas; the 科技攻关 programme with a sub-programme; an open call (carol) whose conditions enterprise
    A meets (a park, a 高企 certificate in force) and enterprise B does not (no certificate)."""
    p = personas
    p.root = Programme.objects.create(code="gongguan", name="科技攻关", source="松科委〔2026〕13号")
    p.programme = Programme.objects.create(code="gongguan-joint", name="联合攻关", parent=p.root)
    Qualification.objects.create(
        enterprise=p.ent_a,
        kind="hnte",
        level="national",
        certificate_no="GR202531000001",
        issue_date=timezone.localdate() - dt.timedelta(days=200),
    )
    p.call = open_call(p.programme, p.carol)
    return p
