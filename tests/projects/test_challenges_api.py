"""The 揭榜挂帅 API (/api/challenges): who sees and does what (401 / 403 / 404), the service's refusals as 422 in
the project's format with nothing saved, and the whole course — post, publish, answer, review, rank, choose."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kechuang.projects import challenges
from kechuang.projects.models import Challenge, ChallengeAnswer, ChallengeReview
from tests.projects import challenge_fixtures as cf
from tests.projects.challenge_fixtures import answer_values, in_review, posted, published

chf = cf.chf

pytestmark = pytest.mark.django_db

BASE = "/api/challenges"


@pytest.fixture
def api(client):
    class Api:
        def as_(self, user):
            client.logout()
            if user is not None:
                client.force_login(user)
            return self

        def get(self, path, **params):
            return client.get(BASE + path, params)

        def post(self, path, body=None):
            return client.post(BASE + path, body or {}, content_type="application/json")

    return Api()


def body(**overrides) -> dict:
    deadline = timezone.now() + dt.timedelta(days=30)
    b = {
        "title": "焊缝气孔率难题",
        "description": "激光焊接焊缝气孔率需低于 0.5%。",
        "field": "08",
        "keywords": "激光焊接",
        "budget": "500000",
        "subsidy_cap": "200000",
        "deadline": deadline.isoformat(),
    }
    b.update(overrides)
    return b


def answer_body(**overrides) -> dict:
    b = {"leader": "王工", "proposal": "方案", "quoted_amount": "400000", "period_months": 12}
    b.update(overrides)
    return b


def test_anonymous_is_401(chf, api):
    assert api.as_(None).get("").status_code == 401
    assert api.as_(None).post("", body()).status_code == 401
    assert not Challenge.objects.exists()


def test_the_list_shows_published_challenges_and_mine_shows_the_poster_s_drafts(chf, api):
    shown = published(chf, title="已发布的榜单")
    draft = posted(chf, title="草稿榜单")
    response = api.as_(chf.leo).get("")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1 and [c["id"] for c in data["items"]] == [shown.pk]
    item = data["items"][0]
    assert item["budget"] == "800000.00" and item["state_label"] == "揭榜中" and item["answer_count"] == 0
    assert item["poster_name"] == "上海甲科技有限公司" and item["field_label"] == "先进制造与自动化"
    assert [c["id"] for c in api.as_(chf.alice).get("", mine="true").json()["items"]] == [shown.pk, draft.pk]
    assert api.as_(chf.ben).get("", mine="true").json()["count"] == 0
    assert api.as_(chf.leo).get("", state="draft").json()["count"] == 1  # not a public state: the default
    assert api.as_(chf.carol).get("", state="draft").json()["items"][0]["id"] == draft.pk
    assert api.as_(chf.leo).get("", q="不存在的词").json()["count"] == 0


def test_another_s_draft_is_not_found(chf, api):
    draft = posted(chf)
    response = api.as_(chf.ben).get(f"/{draft.pk}")
    assert response.status_code == 404 and response.json() == {"detail": "榜单不存在或无权查看"}
    assert api.as_(chf.alice).get(f"/{draft.pk}").json()["steps"] == ["submit"]


def test_posting_needs_the_permission_and_refusals_are_422_with_nothing_saved(chf, api):
    response = api.as_(chf.eve).post("", body())
    assert response.status_code == 403 and response.json() == {"detail": "无权发榜（需企业用户账号）"}
    response = api.as_(chf.alice).post("", body(poster_id=chf.ent_b.pk))
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["field"] == "poster_id" and item["message"].startswith(
        f"企业 {chf.ent_b.pk} 不是本账号关联的企业"
    )
    response = api.as_(chf.alice).post("", body(budget="0", subsidy_cap="-5"))
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"field": "budget", "message": "榜单金额须大于 0 元", "code": "invalid"},
            {"field": "subsidy_cap", "message": "区级资助上限 -5 元为负数，金额不能为负", "code": "invalid"},
        ]
    }
    response = api.as_(chf.alice).post("", {"title": "缺字段"})
    assert response.status_code == 422 and {i["field"] for i in response.json()["detail"]} >= {"budget"}
    assert not Challenge.objects.exists()


def test_the_whole_course_through_the_api(chf, api):
    created = api.as_(chf.alice).post("", body())
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["state"] == "draft" and created.json()["budget"] == "500000.00"
    assert api.as_(chf.alice).post(f"/{pk}/steps/submit").json()["state"] == "pending"
    refused = api.as_(chf.alice).post(f"/{pk}/steps/publish")
    assert refused.status_code == 403 and refused.json() == {"detail": "无权执行“审核通过并发布”"}
    refused = api.as_(chf.carol).post(f"/{pk}/steps/return", {"reason": ""})
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {"field": "reason", "message": "退回须说明原因（发榜单位据此修改）", "code": "invalid"}
    ]
    assert api.as_(chf.carol).post(f"/{pk}/steps/publish").json()["state"] == "published"

    answered = api.as_(chf.ben).post(f"/{pk}/answers", answer_body())
    assert answered.status_code == 201 and answered.json()["unit"] == "上海乙生物有限公司"
    team = api.as_(chf.uma).post(f"/{pk}/answers", answer_body(organisation="上海示例大学", leader="赵教授"))
    assert team.status_code == 201 and team.json()["enterprise_id"] is None
    # ben sees only its own answer; alice (the poster) both, with scores.
    assert [a["unit"] for a in api.as_(chf.ben).get(f"/{pk}").json()["answers"]] == ["上海乙生物有限公司"]
    assert len(api.as_(chf.alice).get(f"/{pk}").json()["answers"]) == 2

    challenge = in_review(chf, Challenge.objects.get(pk=pk), chf.eve_expert, chf.frank_expert)
    b_id, u_id = answered.json()["id"], team.json()["id"]
    assert api.as_(chf.alice).post(f"/answers/{b_id}/reviews", {"score": "90"}).status_code == 201
    review = api.as_(chf.eve).post(f"/answers/{b_id}/reviews", {"score": "80", "comment": "可行"})
    assert (
        review.status_code == 201 and review.json()["role"] == "expert" and review.json()["score"] == "80.00"
    )
    ranking = api.as_(chf.alice).get(f"/{pk}/ranking").json()
    assert "0.5 × 发榜单位评分" in ranking["rule"]
    assert [(r["answer_id"], r["rank"], r["final"], r["missing"]) for r in ranking["rows"]] == [
        (b_id, 1, "85.00", ""),
        (u_id, None, None, "发榜单位评分、专家评分"),
    ]
    refused = api.as_(chf.carol).post(f"/{pk}/winner", {"answer_id": u_id})
    assert refused.status_code == 422 and "尚未完成阅卷" in refused.json()["detail"][0]["message"]
    decided = api.as_(chf.carol).post(f"/{pk}/winner", {"answer_id": b_id})
    assert decided.status_code == 200 and decided.json()["state"] == "decided"
    assert decided.json()["winner_id"] == b_id and challenge.pk == pk


def test_a_late_answer_and_the_poster_s_own_answer_are_422(chf, api):
    challenge = published(chf)
    response = api.as_(chf.alice).post(f"/{challenge.pk}/answers", answer_body())
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "enterprise",
            "message": "上海甲科技有限公司是本榜的发榜单位，不能揭自己发布的榜",
            "code": "invalid",
        }
    ]
    Challenge.objects.filter(pk=challenge.pk).update(deadline=timezone.now() - dt.timedelta(seconds=1))
    response = api.as_(chf.ben).post(f"/{challenge.pk}/answers", answer_body())
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["field"] == "challenge" and item["message"].startswith("已过揭榜截止时间 ")
    assert not ChallengeAnswer.objects.exists()


def test_answering_for_an_enterprise_the_user_does_not_act_for_is_422_and_without_permission_403(chf, api):
    challenge = published(chf)
    response = api.as_(chf.uma).post(f"/{challenge.pk}/answers", answer_body(enterprise_id=chf.ent_b.pk))
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "enterprise_id"
    response = api.as_(chf.leo).post(f"/{challenge.pk}/answers", answer_body(organisation="某单位"))
    assert response.status_code == 403 and response.json() == {"detail": "无权揭榜"}
    assert not ChallengeAnswer.objects.exists()


def test_review_refusals(chf, api):
    challenge = published(chf)
    answer = challenges.answer_submit(challenge, user=chf.ben, **answer_values())
    in_review(chf, challenge, chf.eve_expert, chf.frank_expert)
    # frank works for enterprise B: B's answer is hidden from him.
    response = api.as_(chf.frank).post(f"/answers/{answer.pk}/reviews", {"score": "90"})
    assert response.status_code == 404
    response = api.as_(chf.alice).post(f"/answers/{answer.pk}/reviews", {"score": "100.5"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "score", "message": "得分 100.5 超出允许范围 0–100", "code": "invalid"}
    ]
    response = api.as_(chf.ben).post(f"/answers/{answer.pk}/reviews", {"score": "90"})
    assert response.status_code == 403
    assert not ChallengeReview.objects.exists()
    assert (
        api.as_(chf.alice).post(f"/answers/{answer.pk}/reviews", {"score": "100"}).json()["score"] == "100.00"
    )
    assert ChallengeReview.objects.get().score == Decimal("100")


def test_the_ranking_is_for_officers_and_the_poster(chf, api):
    challenge = published(chf)
    assert api.as_(chf.ben).get(f"/{challenge.pk}/ranking").status_code == 403
    assert api.as_(chf.carol).get(f"/{challenge.pk}/ranking").status_code == 200
    assert api.as_(chf.ben).get("/999999/ranking").status_code == 404


def test_the_operations_are_documented(chf, client):
    paths = client.get("/api/openapi.json").json()["paths"]
    mine = {(m.upper(), p) for p, ops in paths.items() if p.startswith(BASE) for m in ops}
    assert mine == {
        ("GET", BASE),
        ("POST", BASE),
        ("GET", BASE + "/{challenge_id}"),
        ("POST", BASE + "/{challenge_id}/steps/{name}"),
        ("POST", BASE + "/{challenge_id}/answers"),
        ("POST", BASE + "/answers/{answer_id}/withdraw"),
        ("POST", BASE + "/answers/{answer_id}/reviews"),
        ("GET", BASE + "/{challenge_id}/ranking"),
        ("POST", BASE + "/{challenge_id}/winner"),
    }
    assert {"401", "403", "404", "422"} <= set(paths[BASE + "/{challenge_id}/answers"]["post"]["responses"])
