"""The enterprise list: limit/offset pagination, filters and ordering, always within the user's scope."""

from datetime import date

import pytest

from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, Park, Qualification


@pytest.fixture
def many(registry):
    """Five more enterprises in park A, named 丙…庚 so the name order is known."""
    p = registry
    for i, name in enumerate(["上海丙公司", "上海丁公司", "上海戊公司", "上海己公司", "上海庚公司"], start=3):
        Enterprise.objects.create(
            uscc=make_code(f"91310117MA1J0000{i}"),
            name=name,
            park=p.park_a,
            industry="M",
            registration_date=date(2010 + i, 1, 1),
        )
    return p


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def names(response):
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


def test_it_pages_with_limit_and_offset(many, api_client):
    api_client.as_(many.carol)
    everything = names(api_client.get("/api/enterprises"))

    page = api_client.get("/api/enterprises", limit=2, offset=2)

    assert page.json()["count"] == 7
    assert names(page) == everything[2:4]
    assert len(everything) == 7


def test_a_page_past_the_end_is_empty_with_the_count(many, api_client):
    response = api_client.as_(many.carol).get("/api/enterprises", limit=5, offset=100)

    assert response.json() == {"items": [], "count": 7}


def test_the_count_is_the_scoped_count(many, api_client):
    """bob sees park A's six; the seventh enterprise (B) is not counted."""
    response = api_client.as_(many.bob).get("/api/enterprises", limit=1)

    assert response.json()["count"] == 6
    assert len(response.json()["items"]) == 1


@pytest.mark.parametrize(
    "q,expected",
    [
        ("甲科技", ["ent_a"]),
        ("生物", ["ent_b"]),
        ("上海乙", ["ent_b"]),
        ("ma1j00001", ["ent_a"]),
        ("不存在", []),
    ],
)
def test_q_searches_name_short_name_and_code(registry, api_client, q, expected):
    response = api_client.as_(registry.carol).get("/api/enterprises", q=q)

    assert ids(response) == [getattr(registry, e).pk for e in expected]


@pytest.mark.parametrize(
    "park,expected", [("zone", {"ent_a", "ent_b"}), ("park_a", {"ent_a"}), ("park_b", {"ent_b"})]
)
def test_park_includes_its_sub_parks(registry, api_client, park, expected):
    response = api_client.as_(registry.carol).get("/api/enterprises", park=getattr(registry, park).pk)

    assert set(ids(response)) == {getattr(registry, e).pk for e in expected}


def test_a_sub_sub_park_is_included(registry, api_client):
    carrier = Park.objects.create(name="临港松江科技园孵化器", kind="carrier", parent=registry.park_a)
    inner = Enterprise.objects.create(uscc=make_code("91310117MA1J00009"), name="上海孵化企业", park=carrier)

    response = api_client.as_(registry.carol).get("/api/enterprises", park=registry.zone.pk)

    assert set(ids(response)) == {registry.ent_a.pk, registry.ent_b.pk, inner.pk}


def test_an_unknown_park_lists_nothing(registry, api_client):
    assert ids(api_client.as_(registry.carol).get("/api/enterprises", park=987654)) == []


def test_a_filter_never_widens_the_scope(registry, api_client):
    api_client.as_(registry.bob)

    assert ids(api_client.get("/api/enterprises", park=registry.park_b.pk)) == []
    assert ids(api_client.get("/api/enterprises", park=registry.zone.pk)) == [registry.ent_a.pk]
    assert ids(api_client.get("/api/enterprises", q="乙生物")) == []


@pytest.mark.parametrize("params,expected", [({"industry": "C"}, "ent_b"), ({"hitech_field": "01"}, "ent_a")])
def test_industry_and_hitech_field(registry, api_client, params, expected):
    response = api_client.as_(registry.carol).get("/api/enterprises", **params)

    assert ids(response) == [getattr(registry, expected).pk]


def test_status(registry, api_client):
    Enterprise.objects.filter(pk=registry.ent_b.pk).update(status="moved_out")

    assert ids(api_client.as_(registry.carol).get("/api/enterprises", status="moved_out")) == [
        registry.ent_b.pk
    ]


@pytest.mark.parametrize(
    "on,expected",
    [("2020-12-31", []), ("2021-01-01", ["ent_b"]), ("2023-12-31", ["ent_b"]), ("2024-01-01", [])],
)
def test_qualification_held_and_valid_on_a_date(registry, api_client, on, expected):
    Qualification.objects.create(
        enterprise=registry.ent_b,
        kind="tech_sme",
        issue_date=date(2021, 1, 1),
        expiry_date=date(2023, 12, 31),
    )
    Qualification.objects.create(enterprise=registry.ent_a, kind="gazelle", issue_date=date(2021, 1, 1))

    response = api_client.as_(registry.carol).get(
        "/api/enterprises", qualification="tech_sme", qualification_on=on
    )

    assert ids(response) == [getattr(registry, e).pk for e in expected]


def test_qualification_defaults_to_valid_today(registry, api_client):
    Qualification.objects.create(
        enterprise=registry.ent_b, kind="tech_sme", issue_date=date(2021, 1, 1), expiry_date=date(2022, 1, 1)
    )
    Qualification.objects.create(
        enterprise=registry.ent_a, kind="tech_sme", issue_date=date(2021, 1, 1)
    )  # no expiry

    assert ids(api_client.as_(registry.carol).get("/api/enterprises", qualification="tech_sme")) == [
        registry.ent_a.pk
    ]


def test_ordering(many, api_client):
    api_client.as_(many.carol)
    by_name = names(api_client.get("/api/enterprises", ordering="name"))

    assert names(api_client.get("/api/enterprises", ordering="-name")) == list(reversed(by_name))
    assert by_name == sorted(by_name)


@pytest.mark.parametrize("ordering", ["registration_date", "-registration_date"])
def test_a_missing_date_sorts_last_either_way(many, api_client, ordering):
    undated = Enterprise.objects.create(
        uscc=make_code("91310117MA1J00099"), name="上海无日期公司", park=many.park_a
    )

    result = ids(api_client.as_(many.carol).get("/api/enterprises", ordering=ordering))

    dates = [Enterprise.objects.get(pk=pk).registration_date for pk in result[:-1]]
    assert result[-1] == undated.pk
    assert dates == sorted(dates, reverse=ordering.startswith("-"))


@pytest.mark.parametrize("persona", ["carol", "bob", "alice"])
def test_the_query_count_does_not_grow_with_the_page(registry, api_client, persona):
    """No query per row: listing 2 or 12 enterprises costs the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api_client.as_(getattr(registry, persona))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/api/enterprises").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(10):
        Enterprise.objects.create(
            uscc=make_code(f"91310117MA1J001{i:02d}"), name=f"上海批量{i}公司", park=registry.park_a
        )
    assert count() == few
    assert few <= 12
