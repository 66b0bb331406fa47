"""The permission matrix of the registry API: every operation × every persona × enterprise A (alice's,
in bob's park) and enterprise B (park B, outside both). Reads and writes on objects outside the
user's scope are 404; in scope without the permission 403; anonymous 401.

MATRIX is keyed by the operations of the OpenAPI document, and test_every_operation_is_in_the_matrix
fails when an operation is added without a row here. Each case also checks the database: a refused
write changed nothing, an accepted one did.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset, Qualification

PERSONAS = ("anon", "alice", "bob", "carol", "leo", "uma", "eve")


def _grid(alice, bob, carol, leo, outsider, anon=(401, 401)):
    """Expected (status on A, status on B) per persona; `outsider` is uma's and eve's."""
    return {
        "anon": anon,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "leo": leo,
        "uma": outsider,
        "eve": outsider,
    }


READ = _grid(alice=(200, 404), bob=(200, 404), carol=(200, 200), leo=(200, 200), outsider=(404, 404))
CHANGE = _grid(alice=(200, 404), bob=(200, 404), carol=(200, 200), leo=(403, 403), outsider=(404, 404))
ADD = _grid(alice=(201, 404), bob=(201, 404), carol=(201, 201), leo=(403, 403), outsider=(404, 404))
OFFICER_ADD = _grid(alice=(403, 404), bob=(403, 404), carol=(201, 201), leo=(403, 403), outsider=(404, 404))
OFFICER_CHANGE = _grid(
    alice=(403, 404), bob=(403, 404), carol=(200, 200), leo=(403, 403), outsider=(404, 404)
)
OFFICER_DELETE = _grid(
    alice=(403, 404), bob=(403, 404), carol=(204, 204), leo=(403, 403), outsider=(404, 404)
)
# Not about one enterprise: the list (scoped, checked by VISIBLE below) and creating an enterprise.
LIST_ALL = _grid(alice=(200, 200), bob=(200, 200), carol=(200, 200), leo=(200, 200), outsider=(200, 200))
CREATE_ENTERPRISE = _grid(
    alice=(403, 403), bob=(403, 403), carol=(201, 201), leo=(403, 403), outsider=(403, 403)
)

VISIBLE = {"alice": {"a"}, "bob": {"a"}, "carol": {"a", "b"}, "leo": {"a", "b"}, "uma": set(), "eve": set()}


@dataclass
class Case:
    expect: dict[str, tuple[int, int]]
    url: Callable[[Any, str], str]  # (personas, "a"|"b") -> URL
    body: Callable[[Any, str], dict] | None = None
    state: Callable[[Any, str], Any] | None = None  # what an accepted write changes
    check: Callable[[Any, str, Any, str], None] | None = None  # (personas, target, body, persona): a 2xx body


def ent(p, t):
    return getattr(p, f"ent_{t}")


def _enterprise_url(p, t):
    return f"/api/enterprises/{ent(p, t).pk}"


def _collection(path):
    return lambda p, t: f"/api/enterprises/{ent(p, t).pk}/{path}"


def _item(path, attr):
    return lambda p, t: f"/api/enterprises/{ent(p, t).pk}/{path}/{getattr(p, f'{attr}_{t}').pk}"


def _count(model):
    return lambda p, t: model.objects.filter(enterprise=ent(p, t)).count()


def _exists(model, attr):
    return lambda p, t: model.objects.filter(pk=getattr(p, f"{attr}_{t}").pk).exists()


def _value(model, attr, field):
    return lambda p, t: getattr(model.objects.get(pk=getattr(p, f"{attr}_{t}").pk), field)


def _all_of_the_enterprise(p, t, body, persona):
    assert body["count"] == len(body["items"]) >= 1
    assert {item["enterprise_id"] for item in body["items"]} == {ent(p, t).pk}


def _of_the_enterprise(p, t, body, persona):
    assert body["enterprise_id"] == ent(p, t).pk


def _is(attr):
    def check(p, t, body, persona):
        assert body["id"] == getattr(p, f"{attr}_{t}").pk

    return check


def _visible_to_persona(p, t, body, persona):
    assert {item["id"] for item in body["items"]} == {ent(p, v).pk for v in VISIBLE[persona]}


def _children(path, attr, model, add, change, delete, create_body, change_body, changed_field):
    collection = f"/api/enterprises/{{enterprise_id}}/{path}"
    item = f"{collection}/{{pk}}"
    return {
        ("GET", collection): Case(READ, _collection(path), check=_all_of_the_enterprise),
        ("POST", collection): Case(
            add,
            _collection(path),
            body=create_body,
            state=_count(model),
            check=_of_the_enterprise,
        ),
        ("GET", item): Case(READ, _item(path, attr), check=_is(attr)),
        ("PATCH", item): Case(
            change,
            _item(path, attr),
            body=lambda p, t: change_body,
            state=_value(model, attr, changed_field),
            check=_is(attr),
        ),
        ("DELETE", item): Case(delete, _item(path, attr), state=_exists(model, attr)),
    }


MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/api/enterprises"): Case(LIST_ALL, lambda p, t: "/api/enterprises", check=_visible_to_persona),
    ("POST", "/api/enterprises"): Case(
        CREATE_ENTERPRISE,
        lambda p, t: "/api/enterprises",
        body=lambda p, t: {
            "uscc": make_code("91310117MA1J00009"),
            "name": "上海丙信息有限公司",
            "park_id": p.park_a.pk,
        },
        state=lambda p, t: Enterprise.objects.count(),
    ),
    ("GET", "/api/enterprises/{enterprise_id}"): Case(READ, _enterprise_url, check=_is("ent")),
    ("PATCH", "/api/enterprises/{enterprise_id}"): Case(
        CHANGE,
        _enterprise_url,
        body=lambda p, t: {"main_business": "工业软件研发"},
        state=lambda p, t: Enterprise.objects.get(pk=ent(p, t).pk).main_business,
        check=_is("ent"),
    ),
    ("DELETE", "/api/enterprises/{enterprise_id}"): Case(
        OFFICER_DELETE,
        _enterprise_url,
        state=lambda p, t: Enterprise.objects.filter(pk=ent(p, t).pk).exists(),
    ),
    **_children(
        "years",
        "year",
        EnterpriseYear,
        ADD,
        CHANGE,
        OFFICER_DELETE,
        create_body=lambda p, t: {"year": 2021, "employees": "5", "sales_revenue": "100000.00"},
        change_body={"employees": "99"},
        changed_field="employees",
    ),
    **_children(
        "ip-assets",
        "ip",
        IPAsset,
        ADD,
        CHANGE,
        OFFICER_DELETE,
        create_body=lambda p, t: {
            "ip_type": "software",
            "number": f"2024SR00{ent(p, t).pk}",
            "title": "数据平台软件",
        },
        change_body={"title": "一种改进的装置"},
        changed_field="title",
    ),
    **_children(
        "qualifications",
        "qual",
        Qualification,
        OFFICER_ADD,
        OFFICER_CHANGE,
        OFFICER_DELETE,
        create_body=lambda p, t: {"kind": "tech_sme", "issue_date": "2024-05-01"},
        change_body={"certificate_no": "GR2023-改"},
        changed_field="certificate_no",
    ),
}


def test_every_operation_is_in_the_matrix(client):
    """Adding a registry operation without a row in MATRIX fails here."""
    paths = client.get("/api/openapi.json").json()["paths"]
    operations = {
        (method.upper(), path)
        for path, ops in paths.items()
        if path.startswith("/api/enterprises")
        for method in ops
    }
    assert operations == set(MATRIX)


@pytest.mark.parametrize("target", ["a", "b"])
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("operation", list(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_matrix(registry, api_client, operation, persona, target):
    p = registry
    case = MATRIX[operation]
    method = operation[0]
    expected = case.expect[persona][0 if target == "a" else 1]
    before = case.state(p, target) if case.state else None
    api_client.as_(None if persona == "anon" else getattr(p, persona))

    response = api_client.call(method, case.url(p, target), case.body(p, target) if case.body else None)

    assert response.status_code == expected, response.content.decode()
    if case.state:
        after = case.state(p, target)
        if 200 <= expected < 300:
            assert after != before, "an accepted write changed nothing"
        else:
            assert after == before, "a refused write changed the database"
    if expected >= 400:
        assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    elif case.check:
        case.check(p, target, response.json(), persona)


CHILD_ITEMS = [op for op in MATRIX if op[1].endswith("{pk}")]


@pytest.mark.parametrize("persona", ["carol", "leo", "alice"])
@pytest.mark.parametrize("operation", CHILD_ITEMS, ids=lambda op: f"{op[0]} {op[1]}")
def test_a_child_is_not_found_under_another_enterprise(registry, api_client, operation, persona):
    """B's year/IP/qualification addressed under A is 404 for everyone, before any 403."""
    p = registry
    method, path = operation
    attr = {"years": "year", "ip-assets": "ip", "qualifications": "qual"}[path.split("/")[4]]
    url = f"/api/enterprises/{p.ent_a.pk}/{path.split('/')[4]}/{getattr(p, f'{attr}_b').pk}"
    body = MATRIX[operation].body(p, "a") if MATRIX[operation].body else None
    before = MATRIX[operation].state(p, "b") if MATRIX[operation].state else None

    response = api_client.as_(getattr(p, persona)).call(method, url, body)

    assert response.status_code == 404
    if MATRIX[operation].state:
        assert MATRIX[operation].state(p, "b") == before


@pytest.mark.parametrize("persona", ["carol", "alice"])
def test_a_missing_enterprise_is_404(registry, api_client, persona):
    missing = Enterprise.objects.order_by("-pk").first().pk + 100
    api_client.as_(getattr(registry, persona))
    assert api_client.get(f"/api/enterprises/{missing}").status_code == 404
    assert api_client.get(f"/api/enterprises/{missing}/years").status_code == 404
    assert api_client.patch(f"/api/enterprises/{missing}", {"name": "x"}).status_code == 404
