"""The world of the projects API tests (tests/projects/test_api*.py), built from the other fixtures of this
folder: call_fixtures (an open call enterprise A may apply to), review_fixtures (a call under review, experts),
money_fixtures (reviewed applications, awards with milestones).

Everything comes in two: the object of enterprise A (alice's, in bob's park) and the same of enterprise B
(outside both), so that each operation is tried on an object in and out of each persona's scope. eve is an
expert (with an Expert profile); `other_expert` is an expert without an account.

Make it available in a test module with `world = api_fixtures.world` (it uses call_fixtures.cf).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from kechuang.projects import applications, calls, money
from kechuang.projects.models import Application, AssignmentState, BudgetLine, ReviewAssignment
from kechuang.workflows import engine
from tests.projects import call_fixtures, money_fixtures, review_fixtures
from tests.projects.call_fixtures import FILLED, call_values, filled, started

cf = call_fixtures.cf
BASE = "/api/projects"
PERSONAS = ("anon", "alice", "bob", "carol", "leo", "uma", "eve")


def raw_application(call, enterprise, title: str, state: str, subsidy: str = "300000") -> Application:
    """An application written directly (enterprise B meets no condition of the open call, so the services would
    not let it start): complete, with its budget, in `state`."""
    application = Application(
        call=call,
        enterprise=enterprise,
        title=title,
        data=dict(FILLED),
        requested_amount=Decimal(subsidy),
        submitted_at=None if state == "draft" else timezone.now(),
    )
    engine.start(application, applications.WORKFLOW)
    application.state = state
    application.save()
    BudgetLine.objects.create(application=application, category="business", subsidy=Decimal(subsidy))
    return application


def funded(application, officer, contract_no: str):
    start, end = money_fixtures.period()
    return money.award(
        application,
        amount="400000",
        contract_no=contract_no,
        start_date=start,
        end_date=end,
        milestones=money_fixtures.milestones_for(["100000", "150000", "100000", "50000"], start, end),
        user=officer,
    )


@pytest.fixture
def world(cf):
    p = cf
    p.open_call = {"a": p.call, "b": p.call}
    p.draft_call = calls.call_create(
        programme=p.programme, user=p.carol, **call_values(title="2027年度科技攻关项目（草稿）", year=2027)
    )
    # 申报: a draft and a submitted application of each enterprise, in the open call.
    p.draft_a = filled(started(p.call, p.ent_a, p.alice, title="高精度伺服系统（草稿）"), p.alice)
    p.submitted_a = filled(started(p.call, p.ent_a, p.alice, title="工业视觉检测（已提交）"), p.alice)
    p.submitted_a = applications.application_submit(p.submitted_a, user=p.alice)
    p.draft_b = raw_application(p.call, p.ent_b, "细胞培养基（草稿）", "draft")
    p.submitted_b = raw_application(p.call, p.ent_b, "疫苗佐剂（已提交）", "submitted")
    # 评审: a call under review, an application of each enterprise under review; eve's assignment on A's, another
    # expert's on B's.
    p.review_call = review_fixtures.make_call(experts_per_application=2)
    p.eve_expert = review_fixtures.make_expert("伊娃", organisation="松江大学", fields=["01"], user=p.eve)
    p.other_expert = review_fixtures.make_expert("奥托", organisation="松江研究院", fields=["02"])
    p.review_app_a = review_fixtures.make_application(
        p.review_call, p.ent_a, title="芯片封装测试平台", field="01", state="under_review"
    )
    p.review_app_b = review_fixtures.make_application(
        p.review_call, p.ent_b, title="mRNA 递送系统", field="02", state="under_review"
    )
    p.assignment_a = ReviewAssignment.objects.create(
        application=p.review_app_a, expert=p.eve_expert, state=AssignmentState.PROPOSED, reason="领域匹配"
    )
    p.assignment_b = ReviewAssignment.objects.create(
        application=p.review_app_b, expert=p.other_expert, state=AssignmentState.PROPOSED, reason="领域匹配"
    )
    # 立项与经费: a reviewed application of each enterprise (to award), and an award of each with its first
    # milestone reported, its second accepted, its third planned.
    p.money_call = money_fixtures.make_call()
    for t, enterprise in (("a", p.ent_a), ("b", p.ent_b)):
        reviewed = money_fixtures.make_application(p.money_call, enterprise, title=f"待立项项目{t.upper()}")
        setattr(p, f"reviewed_{t}", reviewed)
        application = money_fixtures.make_application(
            p.money_call, enterprise, title=f"已立项项目{t.upper()}"
        )
        award = funded(application, p.carol, f"SJKW-2026-00{1 if t == 'a' else 2}")
        m1, m2, m3, _ = award.milestones.order_by("number")
        money.report_milestone(m1, "样机完成，测试报告见附件", p.carol)
        money.report_milestone(m2, "中试完成", p.carol)
        money.accept_milestone(m2, p.carol)
        setattr(p, f"award_{t}", award)
        setattr(p, f"reported_{t}", m1)
        setattr(p, f"accepted_{t}", m2)
        setattr(p, f"planned_{t}", m3)
    return p


class Api:
    """The test client on BASE, logged in as whoever `as_(user)` names (None: anonymous); bodies are JSON."""

    def __init__(self, client):
        self.client = client

    def as_(self, user):
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        return self

    def get(self, path: str, **params):
        return self.client.get(BASE + path, params)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json")

    def patch(self, path: str, body: dict):
        return self.client.patch(BASE + path, body, content_type="application/json")


@pytest.fixture
def api(client):
    return Api(client)


def messages(response) -> list[str]:
    """The Chinese messages of a 422."""
    assert response.status_code == 422, response.content.decode()
    return [item["message"] for item in response.json()["detail"]]


def problems(response) -> dict[str | None, list[str]]:
    """{field: [messages]} of a 422."""
    assert response.status_code == 422, response.content.decode()
    found: dict[str | None, list[str]] = {}
    for item in response.json()["detail"]:
        found.setdefault(item["field"], []).append(item["message"])
    return found
