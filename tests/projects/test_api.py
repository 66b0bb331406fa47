"""The projects API's permission matrix: every operation × every persona × the object of enterprise A (alice's,
in bob's park) and of enterprise B (outside both) — or, where the scope is not an enterprise's, an object in
and out of the persona's reach (a published and a draft call; eve's own assignment and another expert's).

Out of scope is 404, in scope without the permission 403, anonymous 401; a refused write changes nothing and
an accepted one changes what it should. MATRIX is keyed by the operations of the OpenAPI document, so an
operation added without a row here fails test_every_operation_is_in_the_matrix.

All the cases of one operation run on one world, each in a savepoint that is rolled back after it.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from ninja import Schema

from kechuang.projects import calls
from kechuang.projects import schemas as project_schemas
from kechuang.projects.api import router
from kechuang.projects.models import (
    Application,
    Award,
    Call,
    Disbursement,
    Evaluation,
    Expenditure,
    Milestone,
    ReviewAssignment,
    Score,
)
from tests.projects import api_fixtures, money_fixtures
from tests.projects.api_fixtures import BASE, PERSONAS, raw_application
from tests.projects.call_fixtures import call_values
from tests.projects.money_fixtures import period

cf, world = api_fixtures.cf, api_fixtures.world

pytestmark = pytest.mark.django_db


def grid(alice, bob, carol, leo, uma, eve, anon=(401, 401)) -> dict[str, tuple[int, int]]:
    """Expected (status on A's object, status on B's object) per persona."""
    return {"anon": anon, "alice": alice, "bob": bob, "carol": carol, "leo": leo, "uma": uma, "eve": eve}


def same(**statuses) -> dict[str, tuple[int, int]]:
    """For operations on no object: one status per persona, whatever the target."""
    return grid(**{k: (v, v) for k, v in statuses.items()})


@dataclass
class Case:
    expect: dict[str, tuple[int, int]]
    url: Callable[[Any, str], str]
    body: Callable[[Any, str], dict] | None = None
    state: Callable[[Any, str], Any] | None = None  # what an accepted write changes
    check: Callable[[Any, str, str, dict], None] | None = None  # (world, target, persona, body of a 2xx)


def obj(p, name, t):
    return getattr(p, f"{name}_{t}")


def at(path: str, name: str | None = None):
    """The URL of `path` with {} filled by the id of world's `name`_a / `name`_b."""
    return lambda p, t: BASE + (path.format(obj(p, name, t).pk) if name else path)


def field_of(model, name, attr):
    return lambda p, t: getattr(model.objects.get(pk=obj(p, name, t).pk), attr)


def count(model, **where):
    return lambda p, t: model.objects.filter(**where).count()


def calls_url(p, t):
    return BASE + f"/calls/{(p.call if t == 'a' else p.draft_call).pk}"


def call_field(attr):
    return lambda p, t: getattr(Call.objects.get(pk=(p.call if t == "a" else p.draft_call).pk), attr)


# --- checks of accepted reads -----------------------------------------------------------------------------------


def sees_published_calls(p, t, persona, body):
    ids = {item["id"] for item in body["items"]}
    assert p.call.pk in ids
    assert (p.draft_call.pk in ids) == (persona == "carol")


def sees_applications_of_its_scope(p, t, persona, body):
    enterprises = {item["enterprise_id"] for item in body["items"]}
    assert enterprises == ({p.ent_a.pk} if persona == "alice" else {p.ent_a.pk, p.ent_b.pk})
    assert body["count"] == len(body["items"])


def is_the_object(name):
    def check(p, t, persona, body):
        assert body["id"] == obj(p, name, t).pk

    return check


def eve_sees_only_her_assignment(p, t, persona, body):
    assert [item["id"] for item in body["items"]] == [p.assignment_a.pk]
    assert body["count"] == 1 and body["hidden"] == 0


def eligibility_for_enterprises_only(p, t, persona, body):
    if persona == "alice":
        assert [e["enterprise_id"] for e in body["my_eligibility"]] == [p.ent_a.pk]
        assert body["my_eligibility"][0]["eligible"] is True and body["application_counts"] is None
    else:
        assert body["my_eligibility"] is None
        assert (body["application_counts"] is not None) == (persona == "carol")


OPEN_CALL = grid(
    alice=(200, 404), bob=(403, 404), carol=(200, 200), leo=(200, 404), uma=(403, 404), eve=(403, 404)
)
OFFICER_ON_CALL = grid(
    alice=(403, 404), bob=(403, 404), carol=(200, 200), leo=(403, 404), uma=(403, 404), eve=(403, 404)
)
# Applications: alice's own (A) and B's; bob, uma and eve lack projects.view_application (none in scope).
APPLICATION_READ = grid(
    alice=(200, 404), bob=(404, 404), carol=(200, 200), leo=(200, 200), uma=(404, 404), eve=(404, 404)
)
APPLICANT_WRITE = grid(
    alice=(200, 404), bob=(404, 404), carol=(403, 403), leo=(403, 403), uma=(404, 404), eve=(404, 404)
)
OFFICER_ON_APPLICATION = grid(
    alice=(403, 404), bob=(404, 404), carol=(200, 200), leo=(403, 403), uma=(404, 404), eve=(404, 404)
)
# Assignments: eve's own (A) and another expert's (B); officers keep them all (代为办理).
ASSIGNMENT = grid(
    alice=(404, 404), bob=(404, 404), carol=(200, 200), leo=(404, 404), uma=(404, 404), eve=(200, 404)
)
# Awards: officers and leaders all; alice her enterprise's, bob his park's.
AWARD_READ = grid(
    alice=(200, 404), bob=(200, 404), carol=(200, 200), leo=(200, 200), uma=(404, 404), eve=(404, 404)
)
OFFICER_ON_AWARD = grid(
    alice=(403, 404), bob=(403, 404), carol=(200, 200), leo=(403, 403), uma=(404, 404), eve=(404, 404)
)
OFFICER_CREATES_ON_AWARD = {k: tuple(201 if s == 200 else s for s in v) for k, v in OFFICER_ON_AWARD.items()}

MATRIX: dict[tuple[str, str], Case] = {
    # —— calls ——
    ("GET", "/calls"): Case(
        same(alice=200, bob=403, carol=200, leo=200, uma=403, eve=403),
        at("/calls"),
        check=sees_published_calls,
    ),
    ("POST", "/calls"): Case(
        same(alice=403, bob=403, carol=201, leo=403, uma=403, eve=403),
        at("/calls"),
        body=lambda p, t: {
            **{k: v.isoformat() for k, v in call_values().items() if k.endswith("_at")},
            "programme_id": p.programme.pk,
            "year": 2026,
            "title": "2026年度科技攻关项目（医药卫生）",
            "guide": "指南",
            "budget_total": "1000000",
            "cap_per_project": "200000",
            "form": call_values()["form"],
        },
        state=count(Call),
    ),
    ("GET", "/calls/{call_id}"): Case(OPEN_CALL, calls_url, check=eligibility_for_enterprises_only),
    ("PATCH", "/calls/{call_id}"): Case(
        OFFICER_ON_CALL, calls_url, body=lambda p, t: {"guide": "修订后的申报指南"}, state=call_field("guide")
    ),
    ("POST", "/calls/{call_id}/transitions/{name}"): Case(
        # A's call is open and its deadline ahead: closing is refused (422) even for the officer; B's is a
        # draft ready to open.
        grid(
            alice=(403, 404), bob=(403, 404), carol=(422, 200), leo=(403, 404), uma=(403, 404), eve=(403, 404)
        ),
        lambda p, t: calls_url(p, t) + ("/transitions/close" if t == "a" else "/transitions/open"),
        body=lambda p, t: {"reason": "按计划"},
        state=call_field("state"),
    ),
    ("GET", "/calls/{call_id}/ranking"): Case(
        grid(
            alice=(403, 404), bob=(403, 404), carol=(200, 200), leo=(403, 404), uma=(403, 404), eve=(403, 404)
        ),
        lambda p, t: BASE + f"/calls/{(p.review_call if t == 'a' else p.draft_call).pk}/ranking",
    ),
    # —— applications ——
    ("GET", "/applications"): Case(
        same(alice=200, bob=403, carol=200, leo=200, uma=403, eve=403),
        at("/applications"),
        check=sees_applications_of_its_scope,
    ),
    ("GET", "/applications/{application_id}"): Case(
        APPLICATION_READ, at("/applications/{}", "draft"), check=is_the_object("draft")
    ),
    ("POST", "/calls/{call_id}/applications"): Case(
        grid(
            alice=(201, 404), bob=(403, 404), carol=(403, 403), leo=(403, 404), uma=(403, 404), eve=(403, 404)
        ),
        lambda p, t: calls_url(p, t) + "/applications",
        body=lambda p, t: {"title": "新材料项目", "keywords": "材料、涂层"},
        state=count(Application),
    ),
    ("PATCH", "/applications/{application_id}"): Case(
        APPLICANT_WRITE,
        at("/applications/{}", "draft"),
        body=lambda p, t: {"data": {"summary": "修改后的简介"}, "budget": {"labour": {"subsidy": "1000"}}},
        state=lambda p, t: (
            Application.objects.get(pk=obj(p, "draft", t).pk).data,
            Application.objects.get(pk=obj(p, "draft", t).pk).requested_amount,
        ),
    ),
    ("POST", "/applications/{application_id}/submit"): Case(
        APPLICANT_WRITE, at("/applications/{}/submit", "draft"), state=field_of(Application, "draft", "state")
    ),
    ("POST", "/applications/{application_id}/formal-review"): Case(
        OFFICER_ON_APPLICATION,
        at("/applications/{}/formal-review", "submitted"),
        body=lambda p, t: {"decision": "return", "reasons": ["预算说明不全"]},
        state=field_of(Application, "submitted", "state"),
    ),
    ("POST", "/applications/{application_id}/transitions/{name}"): Case(
        APPLICANT_WRITE,
        at("/applications/{}/transitions/withdraw", "draft"),
        body=lambda p, t: {"reason": "不再申报"},
        state=field_of(Application, "draft", "state"),
    ),
    ("GET", "/applications/{application_id}/reviews"): Case(
        grid(
            alice=(403, 404), bob=(404, 404), carol=(200, 200), leo=(403, 403), uma=(404, 404), eve=(404, 404)
        ),
        at("/applications/{}/reviews", "review_app"),
    ),
    # —— reviews ——
    ("GET", "/assignments"): Case(
        same(alice=403, bob=403, carol=404, leo=403, uma=403, eve=200),
        at("/assignments"),
        check=eve_sees_only_her_assignment,
    ),
    ("GET", "/assignments/{assignment_id}"): Case(
        ASSIGNMENT, at("/assignments/{}", "assignment"), check=is_the_object("assignment")
    ),
    ("POST", "/assignments/{assignment_id}/accept"): Case(
        ASSIGNMENT,
        at("/assignments/{}/accept", "assignment"),
        state=field_of(ReviewAssignment, "assignment", "state"),
    ),
    ("POST", "/assignments/{assignment_id}/withdraw"): Case(
        ASSIGNMENT,
        at("/assignments/{}/withdraw", "assignment"),
        body=lambda p, t: {"reason": "曾与申报单位合作"},
        state=field_of(ReviewAssignment, "assignment", "state"),
    ),
    ("POST", "/assignments/{assignment_id}/scores"): Case(
        ASSIGNMENT,
        at("/assignments/{}/scores", "assignment"),
        body=lambda p, t: {"scores": {"innovation": "8", "team": "15", "benefit": "4"}, "comment": "可行"},
        state=count(Score),
    ),
    # —— awards ——
    ("GET", "/awards"): Case(same(alice=403, bob=403, carol=200, leo=200, uma=403, eve=403), at("/awards")),
    ("GET", "/awards/{award_id}"): Case(AWARD_READ, at("/awards/{}", "award"), check=is_the_object("award")),
    ("POST", "/applications/{application_id}/award"): Case(
        grid(
            alice=(403, 404), bob=(404, 404), carol=(201, 201), leo=(403, 403), uma=(404, 404), eve=(404, 404)
        ),
        at("/applications/{}/award", "reviewed"),
        body=lambda p, t: {
            "contract_no": f"SJKW-2026-1{t}",
            "amount": "400000",
            "start_date": str(period()[0]),
            "end_date": str(period()[1]),
            "milestones": [
                {
                    "title": "节点1",
                    "deliverables": "样机",
                    "due_date": str(period()[1]),
                    "tranche": "400000",
                }
            ],
        },
        state=count(Award),
    ),
    ("POST", "/awards/{award_id}/transitions/{name}"): Case(
        OFFICER_ON_AWARD,
        at("/awards/{}/transitions/start", "award"),
        body=lambda p, t: {"reason": ""},
        state=field_of(Award, "award", "state"),
    ),
    ("POST", "/awards/{award_id}/milestones/{milestone_id}/report"): Case(
        grid(
            alice=(200, 404), bob=(403, 404), carol=(403, 403), leo=(403, 403), uma=(404, 404), eve=(404, 404)
        ),
        lambda p, t: BASE + f"/awards/{obj(p, 'award', t).pk}/milestones/{obj(p, 'planned', t).pk}/report",
        body=lambda p, t: {"text": "完成"},
        state=field_of(Milestone, "planned", "state"),
    ),
    ("POST", "/awards/{award_id}/milestones/{milestone_id}/accept"): Case(
        OFFICER_ON_AWARD,
        lambda p, t: BASE + f"/awards/{obj(p, 'award', t).pk}/milestones/{obj(p, 'reported', t).pk}/accept",
        state=field_of(Milestone, "reported", "state"),
    ),
    ("POST", "/awards/{award_id}/milestones/{milestone_id}/return"): Case(
        OFFICER_ON_AWARD,
        lambda p, t: BASE + f"/awards/{obj(p, 'award', t).pk}/milestones/{obj(p, 'reported', t).pk}/return",
        body=lambda p, t: {"reason": "测试报告缺签章"},
        state=field_of(Milestone, "reported", "state"),
    ),
    ("POST", "/awards/{award_id}/milestones/{milestone_id}/disburse"): Case(
        OFFICER_ON_AWARD,
        lambda p, t: BASE + f"/awards/{obj(p, 'award', t).pk}/milestones/{obj(p, 'accepted', t).pk}/disburse",
        body=lambda p, t: {"voucher_no": "PZ-001"},
        state=count(Disbursement),
    ),
    ("POST", "/awards/{award_id}/expenditures"): Case(
        grid(
            alice=(201, 404), bob=(403, 404), carol=(201, 201), leo=(403, 403), uma=(404, 404), eve=(404, 404)
        ),
        at("/awards/{}/expenditures", "award"),
        body=lambda p, t: {
            "period_end": str(obj(p, "award", t).start_date),
            "amounts": {"equipment": "1000"},
        },
        state=count(Expenditure),
    ),
    ("POST", "/awards/{award_id}/evaluations"): Case(
        OFFICER_CREATES_ON_AWARD,
        at("/awards/{}/evaluations", "award"),
        body=lambda p, t: {
            "kind": "mid_term",
            "held_on": str(obj(p, "award", t).start_date),
            "conclusion": "通过",
        },
        state=count(Evaluation),
    ),
}


def test_every_operation_is_in_the_matrix():
    """Adding a projects operation without a row in MATRIX fails here."""
    operations = {
        (method, re.sub(r"\{\w+:", "{", path))
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }
    assert operations == set(MATRIX)


def _request(client, method, url, body):
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, body or {}, content_type="application/json")


@pytest.mark.parametrize("operation", list(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_matrix(world, client, operation):
    p = world
    case = MATRIX[operation]
    method = operation[0]
    wrong = []
    for persona in PERSONAS:
        for index, target in enumerate(("a", "b")):
            expected = case.expect[persona][index]
            with transaction.atomic():
                before = case.state(p, target) if case.state else None
                client.logout()
                if persona != "anon":
                    client.force_login(getattr(p, persona))
                response = _request(
                    client, method, case.url(p, target), case.body(p, target) if case.body else None
                )
                where = f"{persona} on {target}: {response.status_code} (expected {expected})"
                if response.status_code != expected:
                    wrong.append(f"{where} {json.dumps(response.json(), ensure_ascii=False)[:300]}")
                elif case.state:
                    after = case.state(p, target)
                    if 200 <= expected < 300 and after == before:
                        wrong.append(f"{where}: an accepted write changed nothing")
                    if expected >= 400 and after != before:
                        wrong.append(f"{where}: a refused write changed {before!r} to {after!r}")
                if expected >= 400 and response.status_code == expected:
                    detail = response.json()["detail"]
                    if expected != 422 and not (isinstance(detail, str) and detail):
                        wrong.append(f"{where}: no Chinese detail")
                elif 200 <= expected < 300 and response.status_code == expected and case.check:
                    case.check(p, target, persona, response.json())
                transaction.set_rollback(True)
    assert not wrong, "\n".join(wrong)


def test_the_openapi_document_builds_with_the_projects_paths_and_errors(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    document = response.json()
    submit = document["paths"][f"{BASE}/applications/{{application_id}}/submit"]["post"]["responses"]
    assert {"200", "401", "403", "404", "422"} <= set(submit)
    assert submit["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrors")
    components = document["components"]["schemas"]
    assert "单位：元" in components["ProjectAwardOut"]["properties"]["amount"]["description"]
    # A schema of another app with the same name would silently replace ours in the document: none does.
    ours = {
        name: model
        for name, model in vars(project_schemas).items()
        if name.startswith("Project") and isinstance(model, type) and issubclass(model, Schema)
    }
    shown = {name: components[name] for name in ours if name in components}
    assert {
        "ProjectCallDetailOut",
        "ProjectApplicationDetailOut",
        "ProjectRankingOut",
        "ProjectAwardDetailOut",
    } <= set(shown)
    for name, component in shown.items():
        assert set(component["properties"]) == set(ours[name].model_fields), name


# --- the lists' queries do not grow with their rows -------------------------------------------------------------


def _more_rows(p):
    """Three more of everything the lists show: calls, applications, awards."""
    for n in range(3):
        calls.call_create(programme=p.programme, user=p.carol, **call_values(title=f"追加批次{n}"))
        raw_application(p.call, p.ent_b, f"追加申报{n}", "submitted")
        application = money_fixtures.make_application(p.money_call, p.ent_b, title=f"追加立项{n}")
        api_fixtures.funded(application, p.carol, f"SJKW-2026-10{n}")


@pytest.mark.parametrize("path", ["/calls", "/applications", "/awards"])
def test_a_list_costs_the_same_queries_however_many_rows(world, client, path):
    client.force_login(world.carol)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(BASE + path)
        assert response.status_code == 200
        return len(captured)

    before = queries()
    _more_rows(world)
    assert queries() == before
