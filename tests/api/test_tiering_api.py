"""The tiering API (/api/tiering): permissions and scope (404 outside it, 403 without the permission, 401
anonymous), shapes, status codes, the error format, and exact results on small constructed registries."""

from datetime import date

import pytest
from django.utils import timezone

from kechuang import rules
from kechuang.enterprises.models import Qualification
from kechuang.rules import parameters
from kechuang.tiering.forms import DATE_INVALID, DATE_TOO_EARLY
from kechuang.tiering.models import AssessedSituation, Assessment, AssessmentRun, ParameterRevision
from kechuang.tiering.services import replay, run_now
from tests.tiering.conftest import ON, enterprise, hnte_ready

pytestmark = pytest.mark.django_db

BASE = "/api/tiering"
EXPLANATION_FIELDS = {
    "code",
    "kind",
    "label",
    "status",
    "value",
    "threshold",
    "source",
    "gap",
    "notes",
    "unconfirmed",
    "text",
}


@pytest.fixture
def assessed(personas):
    """Enterprise A meets the HNTE figures; B has none; one done run on ON."""
    hnte_ready(personas.ent_a)
    personas.run = run_now(on=ON)
    return personas


def as_(api_client, personas, persona):
    return api_client.as_(None if persona == "anon" else getattr(personas, persona))


# --- permissions ------------------------------------------------------------------------------------------


def _operations(p):
    """(method, url, expected status per persona) of every operation, on enterprise A's and B's objects."""
    run, a, b = p.run.pk, p.ent_a.pk, p.ent_b.pk
    return [
        ("GET", f"{BASE}/runs", dict(alice=403, bob=200, carol=200, leo=200, uma=403)),
        ("GET", f"{BASE}/runs/{run}", dict(alice=403, bob=200, carol=200, leo=200, uma=403)),
        ("GET", f"{BASE}/runs/{run}/assessments", dict(alice=403, bob=200, carol=200, leo=200, uma=403)),
        ("GET", f"{BASE}/runs/{run}/enterprises/{a}", dict(alice=403, bob=200, carol=200, leo=200, uma=404)),
        ("GET", f"{BASE}/runs/{run}/enterprises/{b}", dict(alice=404, bob=404, carol=200, leo=200, uma=404)),
        ("GET", f"{BASE}/enterprises/{a}/assessment", dict(alice=200, bob=200, carol=200, leo=200, uma=404)),
        ("GET", f"{BASE}/enterprises/{b}/assessment", dict(alice=404, bob=404, carol=200, leo=200, uma=404)),
        ("GET", f"{BASE}/pools/hnte-cultivation", dict(alice=403, bob=200, carol=200, leo=200, uma=403)),
        ("GET", f"{BASE}/parameters", dict(alice=403, bob=403, carol=200, leo=403, uma=403)),
        ("POST", f"{BASE}/runs", dict(alice=403, bob=403, carol=201, leo=403, uma=403)),
    ]


@pytest.mark.parametrize("persona", ["anon", "alice", "bob", "carol", "leo", "uma"])
def test_every_operation_answers_by_scope_then_permission(assessed, api_client, persona):
    client = as_(api_client, assessed, persona)
    for method, url, expected in _operations(assessed):
        runs_before = AssessmentRun.objects.count()
        if method == "POST":
            response = client.post(url, {"assessed_on": ON.isoformat()})
        else:
            response = client.get(url)
        status = 401 if persona == "anon" else expected[persona]
        assert response.status_code == status, (method, url, response.content.decode())
        if status >= 400:
            assert isinstance(response.json()["detail"], str) and response.json()["detail"]
        if method == "POST":
            assert AssessmentRun.objects.count() == runs_before + (1 if status == 201 else 0)


def test_every_tiering_operation_is_covered_by_the_permission_test(client, assessed):
    paths = client.get("/api/openapi.json").json()["paths"]
    documented = {
        (method.upper(), path) for path, ops in paths.items() if path.startswith(BASE) for method in ops
    }
    assert documented == {
        ("GET", f"{BASE}/runs"),
        ("POST", f"{BASE}/runs"),
        ("GET", f"{BASE}/runs/{{run_id}}"),
        ("GET", f"{BASE}/runs/{{run_id}}/assessments"),
        ("GET", f"{BASE}/runs/{{run_id}}/enterprises/{{enterprise_id}}"),
        ("GET", f"{BASE}/enterprises/{{enterprise_id}}/assessment"),
        ("GET", f"{BASE}/pools/hnte-cultivation"),
        ("GET", f"{BASE}/parameters"),
    }


def test_the_errors_and_schemas_are_documented(client, assessed):
    openapi = client.get("/api/openapi.json").json()
    paths = openapi["paths"]
    create = paths[f"{BASE}/runs"]["post"]["responses"]
    assert {"201", "401", "403", "422"} <= set(create)
    assert create["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrors")
    assert {"200", "401", "403", "404", "409"} <= set(
        paths[f"{BASE}/runs/{{run_id}}/assessments"]["get"]["responses"]
    )
    explanation = openapi["components"]["schemas"]["ExplanationOut"]["properties"]
    assert set(explanation) == EXPLANATION_FIELDS
    assert "待核实" in explanation["source"]["description"]
    assert paths[f"{BASE}/runs"]["get"]["tags"] == ["梯度培育"]


def test_missing_runs_are_not_found(api_client, assessed):
    client = api_client.as_(assessed.carol)
    missing = assessed.run.pk + 100
    for url in (
        f"{BASE}/runs/{missing}",
        f"{BASE}/runs/{missing}/assessments",
        f"{BASE}/runs/{missing}/enterprises/{assessed.ent_a.pk}",
    ):
        response = client.get(url)
        assert response.status_code == 404 and response.json() == {"detail": "评估批次不存在"}


# --- runs ---------------------------------------------------------------------------------------------------


def test_the_run_list_and_one_run(api_client, assessed):
    client = api_client.as_(assessed.carol)
    second = run_now(on=date(2025, 12, 31))
    body = client.get(f"{BASE}/runs").json()
    assert body["count"] == 2 and [r["id"] for r in body["items"]] == [second.pk, assessed.run.pk]
    run = client.get(f"{BASE}/runs/{assessed.run.pk}").json()
    assert (
        run["assessed_on"] == "2026-06-30" and run["status"] == "done" and run["status_display"] == "已完成"
    )
    assert (run["total"], run["processed"], run["percent"]) == (2, 2, 100)
    assert run["parameters_version"] == assessed.run.parameters_id and len(run["parameters_version"]) == 16
    assert client.get(f"{BASE}/runs", limit=1, offset=1).json()["items"][0]["id"] == assessed.run.pk


def test_an_officer_queues_a_run(api_client, personas, django_capture_on_commit_callbacks):
    client = api_client.as_(personas.carol)
    response = client.post(f"{BASE}/runs", {"assessed_on": "2026-06-30"})
    assert response.status_code == 201
    body = response.json()
    run = AssessmentRun.objects.get(pk=body["id"])
    assert (run.assessed_on, run.status, run.created_by) == (date(2026, 6, 30), "queued", personas.carol)
    assert body["status"] == "queued" and body["parameters_version"] is None and body["total"] == 2


@pytest.mark.parametrize(
    ("value", "message", "code"),
    [
        ("2026/06/30", DATE_INVALID.format(value="2026/06/30"), "invalid"),
        ("", "请填写评价日期。", "required"),
        ("1999-12-31", DATE_TOO_EARLY.format(value="1999-12-31"), "too_early"),
        ("2099-06-30", "评价日期 2099-06-30 晚于一年以后", "too_late"),
    ],
)
def test_a_bad_date_is_refused_with_a_field_message(api_client, personas, value, message, code):
    response = api_client.as_(personas.carol).post(f"{BASE}/runs", {"assessed_on": value})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "assessed_on" and error["code"] == code
    assert error["message"].startswith(message.rstrip("."))
    assert not AssessmentRun.objects.exists()


def test_an_unknown_field_or_a_missing_date_is_refused(api_client, personas):
    client = api_client.as_(personas.carol)
    response = client.post(f"{BASE}/runs", {"assessed_on": "2026-06-30", "all": True})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "all"
    response = client.post(f"{BASE}/runs", {})
    assert response.status_code == 422 and response.json()["detail"] == [
        {"field": "assessed_on", "message": "此项为必填项", "code": "missing"}
    ]
    assert not AssessmentRun.objects.exists()


# --- a run's results ----------------------------------------------------------------------------------------


def test_a_run_s_results_in_scope_with_filters(api_client, assessed):
    p = assessed
    areas = list(rules.QUALIFICATIONS)
    body = api_client.as_(p.carol).get(f"{BASE}/runs/{p.run.pk}/assessments").json()
    assert body["count"] == 2 * len(areas)
    assert [(i["enterprise_id"], i["area"]) for i in body["items"]] == [
        (e.pk, area) for e in sorted((p.ent_a, p.ent_b), key=lambda e: e.pk) for area in areas
    ]
    hnte_a = next(i for i in body["items"] if i["enterprise_id"] == p.ent_a.pk and i["area"] == "hnte")
    assert hnte_a == {
        "enterprise_id": p.ent_a.pk,
        "enterprise_name": "上海甲科技有限公司",
        "uscc": p.ent_a.uscc,
        "park_id": p.park_a.pk,
        "park_name": "临港松江科技园",
        "area": "hnte",
        "area_label": "高新技术企业",
        "status": "unknown",
        "status_display": "待定",
        "score_min": 26,
        "score_max": 100,
        "unmet": 0,
        "unknown": 3,
    }
    filtered = api_client.get(f"{BASE}/runs/{p.run.pk}/assessments", area="hnte", status="not_met").json()
    assert [(i["enterprise_id"], i["area"]) for i in filtered["items"]] == [(p.ent_b.pk, "hnte")]
    in_park = api_client.get(f"{BASE}/runs/{p.run.pk}/assessments", park=p.park_b.pk, area="hnte").json()
    assert [i["enterprise_id"] for i in in_park["items"]] == [p.ent_b.pk]
    zone = api_client.get(f"{BASE}/runs/{p.run.pk}/assessments", park=p.zone.pk, area="hnte").json()
    assert zone["count"] == 2
    bob = api_client.as_(p.bob).get(f"{BASE}/runs/{p.run.pk}/assessments", area="hnte").json()
    assert [i["enterprise_id"] for i in bob["items"]] == [p.ent_a.pk]
    outside = api_client.get(f"{BASE}/runs/{p.run.pk}/assessments", park=p.park_b.pk).json()
    assert outside == {"items": [], "count": 0}


def test_bad_filters_are_refused_in_the_api_error_format(api_client, assessed):
    response = api_client.as_(assessed.carol).get(f"{BASE}/runs/{assessed.run.pk}/assessments", area="nope")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "area" and error["code"] == "literal_error" and "hnte" in error["message"]


def test_an_unfinished_run_has_no_results_yet(api_client, assessed):
    queued = AssessmentRun.objects.create(assessed_on=ON)
    client = api_client.as_(assessed.carol)
    response = client.get(f"{BASE}/runs/{queued.pk}/assessments")
    assert response.status_code == 409 and response.json() == {
        "detail": "评估批次尚未完成（排队中），暂无结果"
    }
    assert client.get(f"{BASE}/runs/{queued.pk}/enterprises/{assessed.ent_a.pk}").status_code == 409
    assert client.get(f"{BASE}/pools/hnte-cultivation", run=queued.pk).status_code == 409


# --- one enterprise -----------------------------------------------------------------------------------------


def _explanations(body):
    return {e["code"]: e for area in body["areas"] for e in area["explanations"]}


def test_the_live_assessment_has_every_explanation(api_client, assessed):
    p = assessed
    response = api_client.as_(p.alice).get(f"{BASE}/enterprises/{p.ent_a.pk}/assessment", on="2026-06-30")
    assert response.status_code == 200
    body = response.json()
    assert (body["enterprise_id"], body["on"], body["run_id"]) == (p.ent_a.pk, "2026-06-30", None)
    assert body["parameters_version"] == parameters.default().version
    assert [a["area"] for a in body["areas"]] == list(rules.QUALIFICATIONS)
    hnte = next(a for a in body["areas"] if a["area"] == "hnte")
    assert (hnte["status"], hnte["status_display"], hnte["score_min"], hnte["score_max"]) == (
        "unknown",
        "待定",
        26,
        100,
    )
    assert hnte["explanations"][0]["code"] == "hnte.H1" and hnte["explanations"][-1]["kind"] == "score"
    h4 = _explanations(body)["hnte.H4"]
    assert set(h4) == EXPLANATION_FIELDS
    assert h4["status"] == "met" and h4["threshold"] == "≥10%" and h4["unconfirmed"] is False
    assert "国科发火〔2016〕32号 第十一条(四)" in h4["source"] and h4["text"].startswith("【满足】")
    t2 = _explanations(body)["tech_sme.T2"]
    assert t2["unconfirmed"] is True and "待核实" in t2["text"]
    unmet = [e for e in hnte["explanations"] if e["kind"] == "condition" and e["status"] != "met"]
    assert [e["code"] for e in unmet] == ["hnte.H3", "hnte.H7", "hnte.H8"]
    assert hnte["gaps"] == [f"{e['label']}：{e['gap']}" for e in unmet]


def test_the_live_assessment_defaults_to_today_and_reads_the_officers_decisions(api_client, assessed):
    ParameterRevision.objects.create(
        path="tech_sme.figures_period",
        effective_from=date(2017, 5, 3),
        note="核对原文",
        decided_by=assessed.carol,
    )
    body = api_client.as_(assessed.alice).get(f"{BASE}/enterprises/{assessed.ent_a.pk}/assessment").json()
    assert body["on"] == timezone.localdate().isoformat()
    t2 = _explanations(body)["tech_sme.T2"]
    assert t2["unconfirmed"] is False and "待核实" not in t2["text"] and "核对原文" in t2["text"]


def test_a_bad_assessment_date_is_refused(api_client, assessed):
    response = api_client.as_(assessed.alice).get(
        f"{BASE}/enterprises/{assessed.ent_a.pk}/assessment", on="2026-13-01"
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "on" and error["message"] == "应为日期，格式 YYYY-MM-DD"


def test_a_run_s_result_is_replayed_with_the_same_shape(api_client, assessed):
    p = assessed
    client = api_client.as_(p.bob)
    live = client.get(f"{BASE}/enterprises/{p.ent_a.pk}/assessment", on="2026-06-30").json()
    stored = client.get(f"{BASE}/runs/{p.run.pk}/enterprises/{p.ent_a.pk}").json()
    assert stored["run_id"] == p.run.pk and stored["on"] == "2026-06-30"
    assert stored["parameters_version"] == p.run.parameters_id
    assert {**stored, "run_id": None} == live
    report = replay(run=p.run, situations=[AssessedSituation.objects.get(run=p.run, enterprise=p.ent_a)])
    assert _explanations(stored)["hnte.H5"]["text"] == report[p.ent_a.pk].explanation("hnte.H5").text


def test_a_replay_keeps_the_run_s_figures(api_client, assessed):
    p = assessed
    p.ent_a.years.filter(year=2025).update(tech_staff=10)
    client = api_client.as_(p.carol)
    stored = _explanations(client.get(f"{BASE}/runs/{p.run.pk}/enterprises/{p.ent_a.pk}").json())
    live = _explanations(client.get(f"{BASE}/enterprises/{p.ent_a.pk}/assessment", on="2026-06-30").json())
    assert stored["hnte.H4"]["status"] == "met" and live["hnte.H4"]["status"] == "not_met"


def test_an_enterprise_not_in_the_run_is_not_found(api_client, assessed):
    late = enterprise(9)
    response = api_client.as_(assessed.carol).get(f"{BASE}/runs/{assessed.run.pk}/enterprises/{late.pk}")
    assert response.status_code == 404 and response.json() == {"detail": "该企业不在此评估批次中"}


# --- the HNTE cultivation pool ------------------------------------------------------------------------------


@pytest.fixture
def pool(personas):
    """A run whose HNTE rows are set by hand: the pool's ranking on exact numbers."""
    p = personas
    p.others = [enterprise(20 + n, park=p.park_a if n < 4 else p.park_b) for n in range(6)]
    p.run = run_now(on=ON)
    rows = {
        p.ent_a.pk: ("met", 0, 0, 80),  # meets it: not in the pool
        p.ent_b.pk: ("not_met", 1, 0, 60),
        p.others[0].pk: ("not_met", 1, 0, 90),
        p.others[1].pk: ("unknown", 0, 2, 50),
        p.others[2].pk: ("unknown", 0, 1, 40),
        p.others[3].pk: ("not_met", 2, 0, None),
        p.others[4].pk: ("unknown", 0, 1, 70),  # holds a valid HNTE certificate: not in the pool
        p.others[5].pk: ("not_met", 1, 1, 95),
    }
    for pk, (status, unmet, unknown, score_max) in rows.items():
        Assessment.objects.filter(run=p.run, enterprise_id=pk, area="hnte").update(
            status=status, unmet=unmet, unknown=unknown, score_max=score_max
        )
    Qualification.objects.create(enterprise=p.others[4], kind="hnte", issue_date=date(2024, 12, 1))
    Qualification.objects.create(  # expired before the run date: does not count
        enterprise=p.others[1], kind="hnte", issue_date=date(2020, 12, 1), expiry_date=date(2023, 11, 30)
    )
    return p


def test_the_pool_ranks_by_unmet_then_unknown_then_score(api_client, pool):
    p = pool
    body = api_client.as_(p.carol).get(f"{BASE}/pools/hnte-cultivation").json()
    o = p.others
    assert body["run_id"] == p.run.pk and body["assessed_on"] == "2026-06-30" and body["count"] == 6
    assert [(i["rank"], i["enterprise_id"]) for i in body["items"]] == list(
        enumerate([o[2].pk, o[1].pk, o[0].pk, p.ent_b.pk, o[5].pk, o[3].pk], start=1)
    )
    first = body["items"][0]
    assert first == {
        "rank": 1,
        "enterprise_id": o[2].pk,
        "enterprise_name": o[2].name,
        "park_id": p.park_a.pk,
        "park_name": "临港松江科技园",
        "status": "unknown",
        "unmet": 0,
        "unknown": 1,
        "score_min": first["score_min"],
        "score_max": 40,
    }
    page = api_client.get(f"{BASE}/pools/hnte-cultivation", limit=2, offset=2).json()
    assert [(i["rank"], i["enterprise_id"]) for i in page["items"]] == [(3, o[0].pk), (4, p.ent_b.pk)]
    assert page["count"] == 6


def test_the_pool_is_scoped_and_filtered_by_park(api_client, pool):
    p = pool
    o = p.others
    bob = api_client.as_(p.bob).get(f"{BASE}/pools/hnte-cultivation").json()
    assert [i["enterprise_id"] for i in bob["items"]] == [o[2].pk, o[1].pk, o[0].pk, o[3].pk]
    in_b = api_client.as_(p.carol).get(f"{BASE}/pools/hnte-cultivation", park=p.park_b.pk).json()
    assert [i["enterprise_id"] for i in in_b["items"]] == [p.ent_b.pk, o[5].pk]
    assert api_client.get(f"{BASE}/pools/hnte-cultivation", run=p.run.pk + 100).status_code == 404
    assert api_client.get(f"{BASE}/pools/hnte-cultivation", limit=501).status_code == 422


def test_without_a_done_run_the_pool_is_empty(api_client, personas):
    body = api_client.as_(personas.carol).get(f"{BASE}/pools/hnte-cultivation").json()
    assert body == {"run_id": None, "assessed_on": None, "items": [], "count": 0}


# --- parameters ---------------------------------------------------------------------------------------------


def test_the_parameters_awaiting_confirmation(api_client, personas):
    client = api_client.as_(personas.carol)
    body = client.get(f"{BASE}/parameters", unconfirmed="true").json()
    expected = sorted((v.path, v.effective_from.isoformat()) for v in parameters.default().unconfirmed())
    assert sorted((i["path"], i["effective_from"]) for i in body["items"]) == expected
    assert body["count"] == len(expected) and all(i["unconfirmed"] for i in body["items"])
    period = next(i for i in body["items"] if i["path"] == "tech_sme.figures_period")
    assert period == {
        "path": "tech_sme.figures_period",
        "area": "tech_sme",
        "area_label": "科技型中小企业",
        "label": "规模与评分指标的取数期间",
        "effective_from": "2017-05-03",
        "effective_to": None,
        "value": "上一会计年度",
        "value_text": "上一会计年度",
        "unit": "期间",
        "reference": period["reference"],
        "source": period["reference"] + "（待核实）",
        "status": "unconfirmed",
        "unconfirmed": True,
        "revision": None,
    }


def test_every_parameter_with_the_officers_decisions(api_client, personas):
    ParameterRevision.objects.create(
        path="hnte.tech_staff_ratio_min",
        effective_from=date(2016, 1, 1),
        value=0.08,
        note="办公会纪要",
        decided_by=personas.carol,
    )
    client = api_client.as_(personas.carol)
    body = client.get(f"{BASE}/parameters", area="hnte", limit=500).json()
    assert all(i["area"] == "hnte" for i in body["items"])
    staff = next(i for i in body["items"] if i["path"] == "hnte.tech_staff_ratio_min")
    assert (staff["value"], staff["value_text"], staff["status"]) == (0.08, "8%", "confirmed")
    assert staff["reference"] == "国科发火〔2016〕32号 第十一条(四)（“不低于10%”）"
    assert "核实修正：办公会纪要" in staff["source"]
    assert staff["revision"]["value"] == 0.08 and staff["revision"]["decided_by"] == "carol"
    assert staff["revision"]["note"] == "办公会纪要"
    bands = next(i for i in body["items"] if i["path"] == "hnte.rd_ratio_bands")
    assert bands["value"][0]["rate"] == 0.05
