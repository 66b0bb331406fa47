"""The projects API on expert review: an expert's assignments (never one in conflict), accepting, declaring a
conflict, scoring against the call's sheet (its bounds included; refusals 422 with nothing saved), an officer
acting for an expert (代为办理), and a call's ranking with the trimmed mean and the outliers flagged. Who may
do what is in test_api.py."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from kechuang.projects import review, review_selectors
from kechuang.projects.models import AssignmentState, ConflictKind, ExpertConflict, ReviewAssignment, Score
from tests.projects import api_fixtures, review_fixtures
from tests.projects.api_fixtures import messages, problems

cf, world, api = api_fixtures.cf, api_fixtures.world, api_fixtures.api

pytestmark = pytest.mark.django_db
D = Decimal
GOOD = {"innovation": "8", "team": "15", "benefit": "4"}  # 32 + 22.5 + 24 = 78.50


def state_of(assignment) -> str:
    return ReviewAssignment.objects.get(pk=assignment.pk).state


# —— the expert's assignments —————————————————————————————————————————————————————————————————————————————


def test_an_expert_lists_its_assignments_with_filters(world, api):
    p = world
    other_call = review_fixtures.make_call(title="2026年度医药卫生")
    later = review_fixtures.make_application(other_call, p.ent_b, title="新药筛选")
    accepted = ReviewAssignment.objects.create(
        application=later, expert=p.eve_expert, state=AssignmentState.ACCEPTED
    )
    eve = api.as_(p.eve)

    body = eve.get("/assignments").json()
    assert body["count"] == 2 and body["hidden"] == 0
    assert {i["id"] for i in body["items"]} == {p.assignment_a.pk, accepted.pk}
    assert [i["id"] for i in eve.get("/assignments", call=other_call.pk).json()["items"]] == [accepted.pk]
    assert [i["id"] for i in eve.get("/assignments", state="proposed").json()["items"]] == [p.assignment_a.pk]
    page = eve.get("/assignments", limit=1).json()
    assert page["count"] == 2 and len(page["items"]) == 1
    item = eve.get("/assignments", state="proposed").json()["items"][0]
    assert item["application_title"] == "芯片封装测试平台" and item["field_label"] == "电子信息"
    assert item["state_label"] == "拟邀请" and item["reason"] == "领域匹配" and item["total"] is None
    assert problems(eve.get("/assignments", state="lost"))["state"][0].startswith("不是有效的选项")


def test_an_expert_never_sees_an_assignment_it_has_a_conflict_with(world, api):
    p = world
    ExpertConflict.objects.create(expert=p.eve_expert, enterprise=p.ent_a, kind=ConflictKind.COLLABORATION)
    eve = api.as_(p.eve)

    body = eve.get("/assignments").json()
    assert body["items"] == [] and body["hidden"] == 1
    for path in ("", "/accept", "/scores"):
        method = eve.get if not path else eve.post
        response = method(
            f"/assignments/{p.assignment_a.pk}{path}", *([] if not path else [{"scores": GOOD}])
        )
        assert response.status_code == 404, path
        assert response.json() == {"detail": "评审任务不存在或无权查看"}
    assert state_of(p.assignment_a) == "proposed" and not Score.objects.exists()


def test_an_assignment_shows_the_application_and_the_score_sheet(world, api):
    p = world
    body = api.as_(p.eve).get(f"/assignments/{p.assignment_a.pk}").json()
    assert body["data"] == p.review_app_a.data and body["form"] == p.review_call.form
    assert body["score_sheet"] == [
        {"key": "innovation", "label": "技术创新性", "max": "10", "weight": "40"},
        {"key": "team", "label": "团队与基础", "max": "20", "weight": "30"},
        {"key": "benefit", "label": "预期效益", "max": "5", "weight": "30"},
    ]
    assert body["score_sheet_problem"] == "" and body["scores"] == {} and body["conflicts"] == []


# —— accept and withdraw ————————————————————————————————————————————————————————————————————————————————


def test_an_expert_accepts_once(world, api):
    p = world
    eve = api.as_(p.eve)
    accepted = eve.post(f"/assignments/{p.assignment_a.pk}/accept")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"

    assert problems(eve.post(f"/assignments/{p.assignment_a.pk}/accept")) == {
        "state": ["评审状态为“已接受”，不能接受"]
    }
    assert state_of(p.assignment_a) == "accepted"


def test_declaring_a_conflict_needs_a_reason_and_records_it(world, api):
    p = world
    eve = api.as_(p.eve)
    url = f"/assignments/{p.assignment_a.pk}/withdraw"

    assert problems(eve.post(url, {"reason": "  "})) == {"reason": ["申明回避须说明原因"]}
    assert problems(eve.post(url, {"reason": "因" * 301})) == {
        "reason": ["回避原因不能超过 300 个字（现 301 个字）"]
    }
    assert state_of(p.assignment_a) == "proposed" and not ExpertConflict.objects.exists()

    withdrawn = eve.post(url, {"reason": "近三年与申报单位有合作"})

    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    conflict = ExpertConflict.objects.get()
    assert (conflict.expert, conflict.enterprise, conflict.kind) == (
        p.eve_expert,
        p.ent_a,
        ConflictKind.DECLARED,
    )
    # from now on the expert does not see it, and an officer cannot have it scored
    assert eve.get(f"/assignments/{p.assignment_a.pk}").status_code == 404
    assert api.as_(p.carol).get(f"/assignments/{p.assignment_a.pk}").json()["conflicts"] == [
        "与上海甲科技有限公司存在回避关系：本人申明回避（评审“芯片封装测试平台”时申明：近三年与申报单位有合作）",
        "本人已申明回避本项目：近三年与申报单位有合作",
    ]


def test_a_scored_assignment_cannot_be_withdrawn(world, api):
    p = world
    review.submit_scores(p.assignment_a, GOOD, "", p.eve)
    refused = api.as_(p.eve).post(f"/assignments/{p.assignment_a.pk}/withdraw", {"reason": "想起来有合作"})
    assert problems(refused) == {"state": ["已提交评分，不能再申明回避；如确有回避情形，请联系科委工作人员"]}
    assert state_of(p.assignment_a) == "submitted" and not ExpertConflict.objects.exists()


# —— scores ——————————————————————————————————————————————————————————————————————————————————————————————


def test_an_expert_submits_scores_and_the_weighted_total(world, api):
    p = world
    response = api.as_(p.eve).post(
        f"/assignments/{p.assignment_a.pk}/scores", {"scores": GOOD, "comment": " 可行 "}
    )

    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert body["state"] == "submitted" and body["total"] == "78.50" and body["comment"] == "可行"
    assert body["scores"] == {"innovation": "8.00", "team": "15.00", "benefit": "4.00"}


def test_the_maximum_and_zero_are_within_the_sheet(world, api):
    p = world
    response = api.as_(p.eve).post(
        f"/assignments/{p.assignment_a.pk}/scores",
        {"scores": {"innovation": 10, "team": 0, "benefit": "5.00"}},
    )
    assert response.status_code == 200 and response.json()["total"] == "70.00"


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        (
            {**GOOD, "innovation": "10.01"},
            {"scores.innovation": ["“技术创新性”的得分 10.01 超出允许范围 0–10"]},
        ),
        ({**GOOD, "team": "-0.01"}, {"scores.team": ["“团队与基础”的得分 -0.01 超出允许范围 0–20"]}),
        ({**GOOD, "team": "12.345"}, {"scores.team": ["“团队与基础”的得分 12.345 最多保留两位小数"]}),
        ({"innovation": "8", "team": "15"}, {"scores.benefit": ["未填写“预期效益”的得分（允许 0–5）"]}),
        (
            {**GOOD, "luck": "3"},
            {"scores.luck": ["评分表中没有评分项“luck”（得分 3），评分项为 innovation、team、benefit"]},
        ),
    ],
)
def test_a_score_outside_the_sheet_saves_nothing(world, api, scores, expected):
    p = world
    refused = api.as_(p.eve).post(f"/assignments/{p.assignment_a.pk}/scores", {"scores": scores})

    assert problems(refused) == expected
    assert state_of(p.assignment_a) == "proposed" and not Score.objects.exists()


def test_text_where_a_score_belongs_is_refused_by_the_schema(world, api):
    p = world
    refused = api.as_(p.eve).post(
        f"/assignments/{p.assignment_a.pk}/scores", {"scores": {**GOOD, "team": "十五"}}
    )
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "scores.team"
    assert not Score.objects.exists()


def test_scores_are_submitted_once(world, api):
    p = world
    eve = api.as_(p.eve)
    assert eve.post(f"/assignments/{p.assignment_a.pk}/scores", {"scores": GOOD}).status_code == 200

    [message] = messages(
        eve.post(f"/assignments/{p.assignment_a.pk}/scores", {"scores": {**GOOD, "team": "1"}})
    )

    assert message.startswith("已于 ") and message.endswith("提交评分，不能重复提交")
    assert dict(Score.objects.values_list("criterion", "value"))["team"] == D("15")


def test_an_officer_cannot_have_a_conflicted_expert_score(world, api):
    """The expert does not see an application it has a conflict with (404); the officer acting for it is told why."""
    p = world
    ExpertConflict.objects.create(
        expert=p.other_expert, enterprise=p.ent_b, kind=ConflictKind.SAME_ORGANISATION
    )

    refused = api.as_(p.carol).post(f"/assignments/{p.assignment_b.pk}/scores", {"scores": GOOD})

    assert problems(refused) == {
        "expert": ["存在回避关系：与上海乙生物有限公司存在回避关系：同一单位，不能评审"]
    }
    assert state_of(p.assignment_b) == "proposed" and not Score.objects.exists()
    assert messages(api.as_(p.carol).post(f"/assignments/{p.assignment_b.pk}/accept")) == [
        "存在回避关系：与上海乙生物有限公司存在回避关系：同一单位，不能评审"
    ]


def test_an_expert_account_without_the_scoring_permission_is_forbidden(world, api):
    p = world
    eve = User.objects.get(pk=p.eve.pk)
    eve.groups.clear()
    eve.user_permissions.add(Permission.objects.get(codename="view_reviewassignment"))

    refused = api.as_(eve).post(f"/assignments/{p.assignment_a.pk}/scores", {"scores": GOOD})

    assert refused.status_code == 403 and refused.json() == {"detail": "无权提交评分"}
    assert not Score.objects.exists()


# —— ranking ——————————————————————————————————————————————————————————————————————————————————————————————


def _scored(application, expert, share: str):
    a = ReviewAssignment.objects.create(
        application=application, expert=expert, state=AssignmentState.ACCEPTED
    )
    review.submit_scores(a, review_fixtures.full_marks_share(D(share)), "", None)
    return a


@pytest.fixture
def ranked(cf):
    """Five experts on the first application (one far below), two on the second exactly 20 from their median
    apart, none submitted on the third."""
    p = cf
    p.rcall = review_fixtures.make_call(experts_per_application=5)
    now = timezone.now()
    p.five = review_fixtures.make_application(
        p.rcall, p.ent_a, title="五位专家", submitted_at=now - dt.timedelta(days=3)
    )
    p.two = review_fixtures.make_application(
        p.rcall, p.ent_b, title="两位专家", submitted_at=now - dt.timedelta(days=2)
    )
    p.none = review_fixtures.make_application(
        p.rcall, title="未评分", submitted_at=now - dt.timedelta(days=9)
    )
    pool = review_fixtures.experts(5)
    p.pool = pool
    for expert, share in zip(pool, ["0.8", "0.82", "0.84", "0.86", "0.4"], strict=True):
        _scored(p.five, expert, share)
    _scored(p.two, pool[0], "0.9")
    _scored(p.two, pool[1], "0.5")
    ReviewAssignment.objects.create(application=p.none, expert=pool[2], state=AssignmentState.ACCEPTED)
    return p


def test_the_ranking_shows_the_trimmed_mean_and_flags_outliers(ranked, api):
    p = ranked
    body = api.as_(p.carol).get(f"/calls/{p.rcall.pk}/ranking").json()

    assert (body["trim_from"], body["outlier_points"], body["scored"], body["flagged"], body["count"]) == (
        5,
        "20",
        2,
        1,
        3,
    )
    first, second, third = body["items"]
    # 80, 82, 84, 86, 40: the highest and lowest dropped → (80 + 82 + 84) / 3 = 82; 40 is 42 from the median 82.
    assert (first["title"], first["rank"], first["mean"], first["trimmed"], first["n"]) == (
        "五位专家",
        1,
        "82.00",
        True,
        5,
    )
    assert (first["median"], first["low"], first["high"], first["spread"], first["outliers"]) == (
        "82.00",
        "40.00",
        "86.00",
        "46.00",
        1,
    )
    assert [(e["expert_name"], e["total"], e["outlier"]) for e in first["experts"]] == [
        (p.pool[0].name, "80.00", False),
        (p.pool[1].name, "82.00", False),
        (p.pool[2].name, "84.00", False),
        (p.pool[3].name, "86.00", False),
        (p.pool[4].name, "40.00", True),
    ]
    # 90 and 50: the plain mean 70; each exactly 20 from the median 70, so no outlier.
    assert (second["rank"], second["mean"], second["trimmed"], second["outliers"]) == (2, "70.00", False, 0)
    assert (third["title"], third["rank"], third["mean"], third["n"], third["pending"]) == (
        "未评分",
        None,
        None,
        0,
        1,
    )
    rows = review_selectors.call_ranking(p.rcall)
    assert [r.application.pk for r in rows] == [i["application_id"] for i in body["items"]]


def test_the_ranking_sorts_by_a_column_and_pages(ranked, api):
    p = ranked
    officer = api.as_(p.carol)

    def titles(**params):
        return [i["title"] for i in officer.get(f"/calls/{p.rcall.pk}/ranking", **params).json()["items"]]

    assert titles(sort="-rank") == ["两位专家", "五位专家", "未评分"]  # unscored last either way
    assert titles(sort="spread") == ["两位专家", "五位专家", "未评分"]
    assert titles(sort="-outliers") == ["五位专家", "两位专家", "未评分"]
    assert titles(limit=1, offset=1) == ["两位专家"]
    assert officer.get(f"/calls/{p.rcall.pk}/ranking", sort="luck").status_code == 422


def test_an_applications_reviews_show_each_expert_with_withdrawals(ranked, api):
    p = ranked
    withdrawn = ReviewAssignment.objects.create(application=p.two, expert=p.pool[4])
    review.declare_conflict(withdrawn, "曾任该单位顾问", None)

    body = api.as_(p.carol).get(f"/applications/{p.two.pk}/reviews").json()

    assert (body["n"], body["mean"], body["trimmed"], body["median"]) == (2, "70.00", False, "70.00")
    assert [(r["expert_name"], r["state"], r["total"], r["outlier"]) for r in body["reviews"]] == sorted(
        [
            (p.pool[0].name, "submitted", "90.00", False),
            (p.pool[1].name, "submitted", "50.00", False),
            (p.pool[4].name, "withdrawn", None, False),
        ]
    )
    assert next(r for r in body["reviews"] if r["state"] == "withdrawn")["comment"] == "曾任该单位顾问"
