"""The monitoring API: who may read and write, observations with 422 errors that save nothing, progress."""

from datetime import date
from decimal import Decimal

import pytest

from kechuang.indicators.models import DocumentedFigure, Indicator, Observation, Target

YEAR = date.today().year


@pytest.fixture
def patents(db):
    ind = Indicator.objects.create(
        code="test_patents",
        name="测试发明专利授权量",
        unit="件",
        data_source="区知识产权局",
        value_min=0,
        value_max=100000,
    )
    figure = DocumentedFigure.objects.create(
        indicator=ind,
        kind="target",
        year=YEAR + 1,
        text="200",
        value=200,
        document="002",
        place="表2",
        quote="200",
    )
    Target.objects.create(
        indicator=ind, year=YEAR + 1, value=200, baseline_year=YEAR - 3, baseline_value=100, figure=figure
    )
    return ind


@pytest.mark.django_db
def test_reading_needs_the_monitoring_role(personas, api_client, patents):
    for user, status in (
        (None, 401),
        (personas.alice, 403),
        (personas.bob, 403),
        (personas.leo, 200),
        (personas.carol, 200),
    ):
        assert api_client.as_(user).get("/api/indicators/").status_code == status, user
    body = api_client.as_(personas.leo).get("/api/indicators/test_patents").json()
    assert body["unit"] == "件" and body["figures"][0]["place"] == "表2"
    assert body["figures"][0]["document_title"].startswith("松科委〔2022〕2号")
    assert api_client.get("/api/indicators/nope").status_code == 404


@pytest.mark.django_db
def test_record_observation_errors_are_422_and_save_nothing(personas, api_client, patents):
    url = "/api/indicators/test_patents/observations"
    assert api_client.as_(personas.leo).post(url, {"year": YEAR - 1, "value": "120"}).status_code == 403
    officer = api_client.as_(personas.carol)
    bad = officer.post(url, {"year": YEAR - 1, "value": "1000000"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "value"
    assert "合理范围 0–100000" in bad.json()["detail"][0]["message"]
    assert officer.post(url, {"year": YEAR + 1, "value": "1"}).json()["detail"][0]["field"] == "year"
    assert (
        officer.post(url, {"year": YEAR - 1, "sub_period": 2, "value": "1"}).json()["detail"][0]["field"]
        == "sub_period"
    )
    assert not Observation.objects.exists()
    made = officer.post(url, {"year": YEAR - 1, "value": "150", "source": "区知识产权局"})
    assert made.status_code == 201 and Decimal(made.json()["value"]) == 150
    duplicate = officer.post(url, {"year": YEAR - 1, "value": "151"})
    assert duplicate.status_code == 422 and "已录入（150件）" in duplicate.json()["detail"][0]["message"]
    listed = officer.get(url).json()
    assert listed["count"] == 1 and listed["items"][0]["source"] == "区知识产权局"
    pk = made.json()["id"]
    assert officer.patch(f"{url}/{pk}", {"value": "152", "note": ""}).status_code == 422
    fixed = officer.patch(f"{url}/{pk}", {"value": "152", "note": "口径更正"})
    assert fixed.status_code == 200 and Observation.objects.get().value == Decimal("152")


@pytest.mark.django_db
def test_progress_follows_observations(personas, api_client, patents):
    client = api_client.as_(personas.leo)

    def row_of_test_target(**params):
        rows = client.get("/api/indicators/progress", **params).json()
        return [r for r in rows if r["indicator"] == "test_patents"]

    [row] = row_of_test_target()
    assert row["status"] == "no_data" and row["document_place"].endswith("表2")
    Observation.objects.create(indicator=patents, year=YEAR - 1, value=Decimal("190"))
    [row] = row_of_test_target()
    assert row["latest"] == 190 and row["status"] == "on_track"
    assert row["share"] == pytest.approx(0.9)
    assert row_of_test_target(status="off_track") == []
    assert len(row_of_test_target(status="on_track")) == 1


@pytest.mark.django_db
def test_tasks_read_and_note(personas, api_client):
    from kechuang.indicators.models import PlanTask

    assert api_client.as_(personas.alice).get("/api/indicators/tasks/").status_code == 403
    leader = api_client.as_(personas.leo)
    listed = leader.get("/api/indicators/tasks/", kind="work_item", limit=500).json()
    assert listed["count"] == 15 and {t["document"] for t in listed["items"]} == {"001"}
    task = PlanTask.objects.get(kind="reform_task", number=1)
    body = leader.get(f"/api/indicators/tasks/{task.pk}").json()
    assert body["units"] == ["区科委"] and body["title"] == task.title
    assert (
        leader.post(f"/api/indicators/tasks/{task.pk}/notes", {"date": "2025-01-01", "text": "x"}).status_code
        == 403
    )
    officer = api_client.as_(personas.carol)
    future = officer.post(
        f"/api/indicators/tasks/{task.pk}/notes", {"date": "2999-01-01", "text": "启动", "progress": 10}
    )
    assert future.status_code == 422 and future.json()["detail"][0]["field"] == "date"
    made = officer.post(
        f"/api/indicators/tasks/{task.pk}/notes",
        {"date": "2025-07-01", "text": "管理机构已成立", "progress": 40},
    )
    assert made.status_code == 201 and made.json()["author"] == "carol"
    assert leader.get(f"/api/indicators/tasks/{task.pk}").json()["progress"] == 40
    assert [n["text"] for n in leader.get(f"/api/indicators/tasks/{task.pk}/notes").json()] == [
        "管理机构已成立"
    ]
    assert leader.get("/api/indicators/tasks/99999").status_code == 404
