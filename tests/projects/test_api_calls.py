"""The projects API on calls and applications: lists with their filters and paging, the call's detail with the
enterprise's eligibility, the call builder's and the application services' refusals (422 with their Chinese
messages, nothing changed), submission through the workflow with its guards (deadline, cap, completeness — and
their boundaries), formal review. Who may do what is in test_api.py."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kechuang.core import roles
from kechuang.enterprises.models import Membership
from kechuang.projects import applications, calls
from kechuang.projects.models import Application, Call, Programme
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog
from tests.projects import api_fixtures
from tests.projects.api_fixtures import BASE, messages, problems, raw_application
from tests.projects.call_fixtures import FORM, PDF, SCORE_SHEET, call_values, filled, started

cf, world, api = api_fixtures.cf, api_fixtures.world, api_fixtures.api

pytestmark = pytest.mark.django_db


def _at(monkeypatch, moment):
    monkeypatch.setattr(timezone, "now", lambda: moment)


def _minute(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _second(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _log(obj) -> list[TransitionLog]:
    return list(engine.history(obj).order_by("at", "pk"))


@pytest.fixture
def bea(cf):
    """A user of enterprise B, which holds no 高企 certificate (the open call asks for one)."""
    user = User.objects.create_user("bea", password="pass-bea")
    user.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    Membership.objects.create(user=user, enterprise=cf.ent_b)
    return user


def new_call_body(cf, **overrides) -> dict:
    values = call_values()
    body = {
        "programme_id": cf.programme.pk,
        "year": 2026,
        "title": "2026年度科技攻关项目（医药卫生）",
        "guide": "围绕生物医药开展攻关。",
        "budget_total": "2000000",
        "cap_per_project": "500000",
        "opens_at": values["opens_at"].isoformat(),
        "closes_at": values["closes_at"].isoformat(),
        "form": FORM,
        "score_sheet": SCORE_SHEET,
        "eligibility": [{"rule": "hnte_valid", "label": "有效期内的高新技术企业"}],
    }
    return body | overrides


# —— calls: list ——————————————————————————————————————————————————————————————————————————————————————


@pytest.fixture
def several(cf):
    """Besides the open call (联合攻关, 2026): a draft 2027 call of the root programme, a 2025 call of another
    programme opened and due later."""
    root_call = calls.call_create(
        programme=cf.root, user=cf.carol, **call_values(title="2027年度科技攻关项目（总体）", year=2027)
    )
    other = Programme.objects.create(code="nongye", name="科技农业")
    farm = calls.call_create(
        programme=other,
        user=cf.carol,
        **call_values(
            title="2025年度科技农业项目", year=2025, closes_at=timezone.now() + dt.timedelta(days=30)
        ),
    )
    calls.call_open(farm, user=cf.carol)
    cf.root_call, cf.farm = root_call, farm
    return cf


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content.decode()
    return [item["id"] for item in response.json()["items"]]


def test_the_call_list_filters_searches_sorts_and_pages(several, api):
    p = several
    officer = api.as_(p.carol)

    assert ids(officer.get("/calls")) == [p.root_call.pk, p.call.pk, p.farm.pk]  # newest year first
    assert ids(officer.get("/calls", state="draft")) == [p.root_call.pk]
    assert ids(officer.get("/calls", year=2025)) == [p.farm.pk]
    assert ids(officer.get("/calls", programme=p.root.pk)) == [
        p.root_call.pk,
        p.call.pk,
    ]  # with sub-programmes
    assert ids(officer.get("/calls", programme=p.programme.pk)) == [p.call.pk]
    assert ids(officer.get("/calls", q="农业")) == [p.farm.pk]
    assert ids(officer.get("/calls", accepting="true")) == [p.call.pk, p.farm.pk]
    assert ids(officer.get("/calls", accepting="false")) == [p.root_call.pk]
    assert ids(officer.get("/calls", ordering="closes_at")) == [p.call.pk, p.root_call.pk, p.farm.pk]
    page = officer.get("/calls", limit=1, offset=1).json()
    assert page["count"] == 3 and [c["id"] for c in page["items"]] == [p.call.pk]
    item = officer.get("/calls", year=2025).json()["items"][0]
    assert (
        item["programme_name"] == "科技农业" and item["state_label"] == "受理中" and item["accepting"] is True
    )
    assert item["budget_total"] == "2000000.00"


def test_the_call_list_hides_drafts_from_enterprises_and_refuses_unknown_filters(several, api):
    p = several
    assert ids(api.as_(p.alice).get("/calls")) == [p.call.pk, p.farm.pk]

    refused = api.as_(p.carol).get("/calls", state="flying")
    assert problems(refused) == {
        "state": [
            "状态“flying”不存在，可选：draft（草稿）、open（受理中）、closed（已截止）、reviewing（评审中）、"
            "decided（已公布结果）、archived（已归档）"
        ]
    }
    assert api.get("/calls", limit=0).status_code == 422
    assert api.get("/calls", ordering="budget").status_code == 422


# —— calls: detail with the enterprise's eligibility ————————————————————————————————————————————————


def test_an_enterprise_user_sees_each_condition_with_its_reason(cf, api, bea):
    mine = api.as_(cf.alice).get(f"/calls/{cf.call.pk}").json()
    assert mine["form"] == FORM and mine["score_sheet"] == SCORE_SHEET
    assert [r["rule"] for r in mine["eligibility"]] == ["registered_in_songjiang", "hnte_valid"]
    assert mine["eligibility"][1]["source"] == "企业库·资质（高新技术企业，有效期内）"
    assert mine["accepting"] is True and mine["accepting_refusal"] is None
    assert mine["transitions"] == []
    [own] = mine["my_eligibility"]
    assert own["enterprise_id"] == cf.ent_a.pk and own["eligible"] is True and own["refusal"] == ""
    assert [(c["label"], c["met"], c["status"]) for c in own["conditions"]] == [
        ("在松江区注册的企业", True, "满足"),
        ("有效期内的高新技术企业", True, "满足"),
    ]
    assert own["conditions"][1]["reason"].startswith("持有高新技术企业证书（证书编号 GR202531000001，")

    theirs = api.as_(bea).get(f"/calls/{cf.call.pk}").json()["my_eligibility"][0]
    assert theirs["eligible"] is False
    assert (
        theirs["refusal"]
        == "不符合申报条件：不满足“有效期内的高新技术企业”：未持有有效期内的高新技术企业证书"
    )
    assert [c["met"] for c in theirs["conditions"]] == [True, False]


def test_a_condition_the_registry_cannot_tell_is_unknown_and_does_not_bar(cf, api, bea):
    cf.ent_b.park = None
    cf.ent_b.address = ""
    cf.ent_b.save()
    Call.objects.filter(pk=cf.call.pk).update(eligibility=[{"rule": "registered_in_songjiang", "label": ""}])

    theirs = api.as_(bea).get(f"/calls/{cf.call.pk}").json()["my_eligibility"][0]

    assert theirs["eligible"] is True
    assert theirs["conditions"] == [
        {
            "rule": "registered_in_songjiang",
            "label": "在松江区注册、存续经营的企业",
            "met": None,
            "status": "待核实",
            "reason": "企业库未记录所在园区，注册地址也未显示在松江区，请在形式审查时核实营业执照",
        }
    ]


def test_the_officer_sees_the_counts_and_the_steps_with_why_not(cf, api):
    started(cf.call, cf.ent_a, cf.alice)
    body = api.as_(cf.carol).get(f"/calls/{cf.call.pk}").json()
    assert body["application_counts"] == [{"state": "draft", "label": "草稿", "count": 1}]
    assert body["transitions"] == [
        {
            "name": "close",
            "label": "截止受理",
            "to": "closed",
            "allowed": False,
            "reason": f"申报截止时间 {_minute(cf.call.closes_at)} 未到",
        }
    ]


# —— calls: create, update, transitions ——————————————————————————————————————————————————————————————


def test_an_officer_creates_a_draft_call(cf, api):
    response = api.as_(cf.carol).post("/calls", new_call_body(cf, opens_at="2026-05-01T09:00:00"))

    assert response.status_code == 201, response.content.decode()
    body = response.json()
    call = Call.objects.get(pk=body["id"])
    assert call.state == "draft" and body["state_label"] == "草稿"
    assert call.cap_per_project == Decimal("500000") and call.form == FORM
    # a time without a zone is Beijing time
    assert call.opens_at == dt.datetime(2026, 5, 1, 1, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"cap_per_project": "2000000.01"},
            {"cap_per_project": ["单项资助上限 2,000,000.01 元不能超过总预算 2,000,000.00 元"]},
        ),
        ({"budget_total": "0"}, {"budget_total": ["总预算须大于 0，收到 0"]}),
        ({"year": 1999}, {"year": ["年度 1999 须为 2000–2100 的整数"]}),
        ({"programme_id": 99999}, {"programme_id": ["科技计划 99999 不存在"]}),
        (
            {"score_sheet": [{"key": "a", "label": "创新性", "max": 100, "weight": 60}]},
            {"score_sheet": ["评分表各项权重之和须为 100，现为 60"]},
        ),
        (
            {"eligibility": [{"rule": "rich", "label": "有钱"}]},
            {"eligibility": ["申报条件第 1 条的条件代码 'rich' 不存在，可用："]},
        ),
    ],
)
def test_a_bad_call_is_refused_with_the_builders_message_and_nothing_saved(cf, api, overrides, expected):
    before = Call.objects.count()

    found = problems(api.as_(cf.carol).post("/calls", new_call_body(cf, **overrides)))

    assert set(found) == set(expected)
    for field, wanted in expected.items():
        assert found[field][0].startswith(wanted[0])
    assert Call.objects.count() == before


def test_a_cap_equal_to_the_budget_is_accepted(cf, api):
    response = api.as_(cf.carol).post("/calls", new_call_body(cf, cap_per_project="2000000"))
    assert response.status_code == 201, response.content.decode()


def test_the_form_definition_errors_name_the_section_and_field(cf, api):
    form = [
        {"key": "basic", "title": "基本信息", "fields": [{"key": "x", "label": "进度", "type": "slider"}]}
    ]
    found = problems(api.as_(cf.carol).post("/calls", new_call_body(cf, form=form)))
    assert found["form"][0].startswith(
        "第 1 部分“基本信息”第 1 个字段“进度”（x）的类型 'slider' 不支持，可用："
    )


def test_closing_before_opening_is_refused(cf, api):
    opens = timezone.now()
    found = problems(
        api.as_(cf.carol).post(
            "/calls", new_call_body(cf, opens_at=opens.isoformat(), closes_at=opens.isoformat())
        )
    )
    assert found == {"closes_at": [f"截止时间 {_second(opens)} 须晚于开始受理时间 {_second(opens)}"]}


def test_updating_a_call_with_applications_keeps_its_form_cap_and_opening(cf, api):
    started(cf.call, cf.ent_a, cf.alice)
    officer = api.as_(cf.carol)

    refused = officer.patch(f"/calls/{cf.call.pk}", {"cap_per_project": "400000", "guide": "新指南"})

    assert problems(refused) == {"cap_per_project": ["本批次已有 1 份申报，不能再修改"]}
    cf.call.refresh_from_db()
    assert cf.call.cap_per_project == Decimal("500000") and cf.call.guide != "新指南"
    # the same cap (as the number it is) and a new guide are fine
    accepted = officer.patch(f"/calls/{cf.call.pk}", {"cap_per_project": "500000.00", "guide": "新指南"})
    assert accepted.status_code == 200 and accepted.json()["guide"] == "新指南"


def test_an_officer_opens_a_draft_call_with_a_logged_reason(cf, api):
    draft = calls.call_create(programme=cf.programme, user=cf.carol, **call_values(title="待发布"))

    response = api.as_(cf.carol).post(f"/calls/{draft.pk}/transitions/open", {"reason": "经主任办公会同意"})

    assert response.status_code == 200 and response.json()["state"] == "open"
    [log] = _log(draft)
    assert (log.transition, log.from_state, log.to_state, log.actor, log.reason) == (
        "open",
        "draft",
        "open",
        cf.carol,
        "经主任办公会同意",
    )


def test_call_steps_refused_by_their_checks_change_nothing(cf, api):
    bare = calls.call_create(
        programme=cf.programme, user=cf.carol, **call_values(title="未设评分表", score_sheet=[])
    )
    officer = api.as_(cf.carol)

    assert messages(officer.post(f"/calls/{bare.pk}/transitions/open")) == ["申报批次尚未设置评分表"]
    # the reason is optional: no body at all
    without_body = officer.client.post(
        f"{BASE}/calls/{cf.call.pk}/transitions/close", "", content_type="application/json"
    )
    assert messages(without_body) == [f"申报截止时间 {_minute(cf.call.closes_at)} 未到"]
    assert messages(officer.post(f"/calls/{cf.call.pk}/transitions/fly")) == [
        f"流程 {cf.call.workflow} 没有操作 fly"
    ]
    assert messages(officer.post(f"/calls/{cf.call.pk}/transitions/start_review")) == [
        "当前状态“受理中”不能执行“开始评审”"
    ]
    bare.refresh_from_db()
    cf.call.refresh_from_db()
    assert bare.state == "draft" and cf.call.state == "open"
    assert _log(bare) == [] and len(_log(cf.call)) == 1  # its opening only


def test_closing_after_the_deadline_is_allowed(cf, api, monkeypatch):
    _at(monkeypatch, cf.call.closes_at + dt.timedelta(seconds=1))
    response = api.as_(cf.carol).post(f"/calls/{cf.call.pk}/transitions/close", {"reason": "已截止"})
    assert response.status_code == 200 and response.json()["state"] == "closed"


# —— applications: list and detail ————————————————————————————————————————————————————————————————————


def test_the_application_list_filters_and_searches(world, api):
    p = world
    officer = api.as_(p.carol)
    everything = officer.get("/applications").json()
    assert everything["count"] == Application.objects.count()

    assert set(ids(officer.get("/applications", call=p.call.pk))) == {
        p.draft_a.pk,
        p.submitted_a.pk,
        p.draft_b.pk,
        p.submitted_b.pk,
    }
    assert set(ids(officer.get("/applications", call=p.call.pk, state="submitted"))) == {
        p.submitted_a.pk,
        p.submitted_b.pk,
    }
    assert ids(officer.get("/applications", q="疫苗")) == [p.submitted_b.pk]
    assert ids(officer.get("/applications", q="乙生物", call=p.call.pk, ordering="created_at")) == [
        p.draft_b.pk,
        p.submitted_b.pk,
    ]
    assert set(ids(officer.get("/applications", enterprise=p.ent_b.pk, call=p.call.pk))) == {
        p.draft_b.pk,
        p.submitted_b.pk,
    }
    assert problems(officer.get("/applications", state="lost"))["state"][0].startswith("状态“lost”不存在")
    awarded = officer.get("/applications", q="已立项项目A").json()["items"][0]
    assert awarded["award_id"] == p.award_a.pk and awarded["state_label"] == "立项"


def test_the_applicant_sees_its_draft_with_what_is_missing(cf, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    application = started(cf.call, cf.ent_a, cf.alice)
    applications.budget_set(application, lines={"business": {"subsidy": "600000"}}, user=cf.alice)
    applications.attachment_add(
        application, upload=SimpleUploadedFile("方案.pdf", PDF), field_key="plan", user=cf.alice
    )

    body = api.as_(cf.alice).get(f"/applications/{application.pk}").json()

    assert body["editable"] is True and body["state_label"] == "草稿"
    assert body["form_errors"] == {
        "track": "“项目基本信息”中的“申报方向”为必填项",
        "summary": "“项目基本信息”中的“项目简介”为必填项",
        "patents": "“预期成果”中的“申请发明专利（件）”为必填项",
    }
    assert len(body["submit_problems"]) == 2 and body["submit_problems"][1].startswith("申请资助 60.00 万元")
    assert body["over_cap"] is True and body["cap_per_project"] == "500000.00"
    assert body["budget_lines"] == [
        {
            "category": "business",
            "category_label": "业务费",
            "subsidy": "600000.00",
            "self_funded": "0.00",
            "note": "",
        }
    ]
    assert body["budget_totals"] == {"subsidy": "600000.00", "self_funded": "0.00", "total": "600000.00"}
    [attachment] = body["attachments"]
    assert attachment["title"] == "实施方案" and attachment["field_key"] == "plan"
    assert attachment["size"] == len(PDF) and attachment["filename"].endswith(".pdf")
    assert api.client.get(attachment["download_url"]).status_code == 200
    assert body["shown_sections"] == ["basic", "outcomes"]
    steps = {t["name"]: t for t in body["transitions"]}
    assert set(steps) == {"submit", "withdraw"}
    assert steps["submit"]["allowed"] is False and steps["withdraw"]["allowed"] is True


def test_the_officer_sees_formal_review_steps_and_no_applicant_details(world, api):
    p = world
    body = api.as_(p.carol).get(f"/applications/{p.submitted_a.pk}").json()
    assert {t["name"] for t in body["transitions"]} == {"return", "pass_formal", "reject_formal"}
    assert body["editable"] is False and body["form_errors"] == {} and body["submit_problems"] == []
    assert [h["transition"] for h in body["history"]] == ["submit"]
    assert body["eligibility"]["eligible"] is True


# —— applications: start ————————————————————————————————————————————————————————————————————————————————


def test_an_enterprise_user_starts_a_draft(cf, api):
    response = api.as_(cf.alice).post(
        f"/calls/{cf.call.pk}/applications",
        {"title": "  新型伺服电机  ", "field": "08", "keywords": "伺服、电机"},
    )
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["title"] == "新型伺服电机" and body["state"] == "draft" and body["field"] == "08"
    application = Application.objects.get(pk=body["id"])
    assert application.enterprise == cf.ent_a and application.created_by == cf.alice


def test_an_ineligible_enterprise_cannot_start(cf, api, bea):
    refused = api.as_(bea).post(f"/calls/{cf.call.pk}/applications", {"title": "疫苗佐剂"})
    assert problems(refused) == {
        "enterprise": ["不符合申报条件：不满足“有效期内的高新技术企业”：未持有有效期内的高新技术企业证书"]
    }
    assert not Application.objects.exists()


def test_starting_after_the_deadline_or_twice_is_refused(cf, api, monkeypatch):
    alice = api.as_(cf.alice)
    assert alice.post(f"/calls/{cf.call.pk}/applications", {"title": "伺服电机"}).status_code == 201
    assert problems(alice.post(f"/calls/{cf.call.pk}/applications", {"title": "伺服电机"})) == {
        "title": ["该单位在本批次已有名为“伺服电机”的申报"]
    }
    _at(monkeypatch, cf.call.closes_at + dt.timedelta(seconds=1))
    alice = api.as_(cf.alice)  # a session of that time
    assert problems(alice.post(f"/calls/{cf.call.pk}/applications", {"title": "另一项"})) == {
        "call": [f"“{cf.call}”已于 {_second(cf.call.closes_at)} 截止受理"]
    }
    assert Application.objects.count() == 1


def test_the_applicant_is_one_of_the_users_enterprises(cf, api):
    alice = api.as_(cf.alice)
    refused = alice.post(f"/calls/{cf.call.pk}/applications", {"title": "项目", "enterprise_id": cf.ent_b.pk})
    assert problems(refused) == {
        "enterprise_id": [
            f"企业 {cf.ent_b.pk} 不是本账号关联的企业，可选：{cf.ent_a.pk}（上海甲科技有限公司）"
        ]
    }
    assert not Application.objects.exists()


def test_keywords_up_to_200_characters(cf, api):
    alice = api.as_(cf.alice)
    refused = alice.post(f"/calls/{cf.call.pk}/applications", {"title": "项目", "keywords": "词" * 201})
    assert problems(refused) == {"keywords": ["长度不能超过 200 个字符"]}
    assert (
        alice.post(f"/calls/{cf.call.pk}/applications", {"title": "项目", "keywords": "词" * 200}).status_code
        == 201
    )


# —— applications: draft and budget —————————————————————————————————————————————————————————————————————


def test_the_applicant_saves_data_and_budget_together(cf, api):
    application = started(cf.call, cf.ent_a, cf.alice)
    response = api.as_(cf.alice).patch(
        f"/applications/{application.pk}",
        {
            "title": "新型伺服电机",
            "data": {"track": "医药卫生", "patents": "3"},
            "budget": {
                "equipment": {"subsidy": "100000"},
                "business": {"subsidy": "50000.50", "self_funded": 1000, "note": "测试费"},
            },
        },
    )
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert body["title"] == "新型伺服电机" and body["data"] == {"track": "医药卫生", "patents": "3"}
    assert body["requested_amount"] == "150000.50"
    assert body["shown_sections"] == ["basic", "medical", "outcomes"]
    assert body["form_errors"]["ethics"] == "“医药卫生专项”中的“伦理审查意见”为必填项"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"data": {"track": "航天"}, "budget": {"business": {"subsidy": "1000"}}},
            {"data.track": ["“申报方向”的“航天”不在可选范围（联合攻关、医药卫生、科技农业）"]},
        ),
        (
            {"data": {"summary": "简介", "nonsense": "x"}},
            {"data.nonsense": ["申报书中没有字段“nonsense”"]},
        ),
        (
            {"data": {"summary": "简介"}, "budget": {"business": {"subsidy": "-1"}}},
            {"budget.business.subsidy": ["业务费申请资助须为不小于 0 的数，收到 -1"]},
        ),
        (
            {"budget": {"travel": {"subsidy": "1"}, "labour": {"subsidy": "0.001"}}},
            {
                "budget.travel": ["预算科目“travel”不存在，可用：设备费、业务费、劳务费、间接费用"],
                "budget.labour.subsidy": ["劳务费申请资助 0.001 最多两位小数（单位：元）"],
            },
        ),
        (
            {"title": " ", "data": {"patents": "两件"}},
            {"title": ["须填写项目名称"], "data.patents": ["“申请发明专利（件）”须为数字，收到“两件”"]},
        ),
    ],
)
def test_a_bad_value_saves_nothing(cf, api, change, expected):
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice)
    before = Application.objects.get(pk=application.pk)

    assert problems(api.as_(cf.alice).patch(f"/applications/{application.pk}", change)) == expected

    after = Application.objects.get(pk=application.pk)
    assert (after.title, after.data, after.requested_amount) == (
        before.title,
        before.data,
        before.requested_amount,
    )
    assert [(line.category, line.subsidy) for line in after.budget_lines.all()] == [
        ("business", Decimal("300000"))
    ]


def test_a_submitted_application_can_no_longer_be_changed(world, api):
    p = world
    refused = api.as_(p.alice).patch(f"/applications/{p.submitted_a.pk}", {"data": {"summary": "改"}})
    assert problems(refused) == {"state": ["申报当前状态为“已提交”，不能修改"]}
    p.submitted_a.refresh_from_db()
    assert p.submitted_a.data["summary"] == "研制高精度伺服系统"


# —— applications: submit ————————————————————————————————————————————————————————————————————————————————


def test_a_complete_application_is_submitted_through_the_workflow(cf, api):
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice)

    response = api.as_(cf.alice).post(f"/applications/{application.pk}/submit")

    assert response.status_code == 200, response.content.decode()
    application.refresh_from_db()
    assert application.state == "submitted" and application.submitted_at is not None
    assert [(log.transition, log.actor) for log in _log(application)] == [("submit", cf.alice)]
    assert response.json()["editable"] is False


def _refused_submission(api, application, user):
    logs = len(_log(application))
    found = messages(api.as_(user).post(f"/applications/{application.pk}/submit"))
    application.refresh_from_db()
    assert application.state == "draft" and application.submitted_at is None
    assert len(_log(application)) == logs
    return found


def test_an_incomplete_application_over_the_cap_is_refused_with_every_reason(cf, api):
    application = started(cf.call, cf.ent_a, cf.alice)
    applications.budget_set(application, lines={"business": {"subsidy": "500000.01"}}, user=cf.alice)

    assert _refused_submission(api, application, cf.alice) == [
        "申报书未填写完整：“项目基本信息”中的“申报方向”为必填项；“项目基本信息”中的“项目简介”为必填项；"
        "“预期成果”中的“申请发明专利（件）”为必填项",
        "申请资助 50.00 万元，超过单项资助上限 50.00 万元",
    ]


def test_the_cap_itself_is_within_it(cf, api):
    one_fen_over = filled(started(cf.call, cf.ent_a, cf.alice, title="一分钱"), cf.alice, subsidy="500000.01")
    assert _refused_submission(api, one_fen_over, cf.alice) == [
        "申请资助 50.00 万元，超过单项资助上限 50.00 万元"
    ]

    at_cap = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice, subsidy="500000")
    assert api.as_(cf.alice).post(f"/applications/{at_cap.pk}/submit").status_code == 200


def test_a_late_submission_is_refused_with_the_deadline(cf, api, monkeypatch):
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice)
    _at(monkeypatch, cf.call.closes_at + dt.timedelta(seconds=1))

    assert _refused_submission(api, application, cf.alice) == [
        f"已过申报截止时间 {_minute(cf.call.closes_at)}"
    ]


def test_a_submission_exactly_at_the_deadline_is_on_time(cf, api, monkeypatch):
    application = filled(started(cf.call, cf.ent_a, cf.alice), cf.alice)
    _at(monkeypatch, cf.call.closes_at)

    assert api.as_(cf.alice).post(f"/applications/{application.pk}/submit").status_code == 200
    application.refresh_from_db()
    assert application.submitted_at == cf.call.closes_at


def test_submitting_twice_is_refused(world, api):
    p = world
    assert messages(api.as_(p.alice).post(f"/applications/{p.submitted_a.pk}/submit")) == [
        "申报当前状态为“已提交”，不能提交"
    ]


# —— formal review and other steps ————————————————————————————————————————————————————————————————————


def test_formal_review_returns_with_reasons_and_the_resubmission_passes(world, api):
    p = world
    officer = api.as_(p.carol)
    url = f"/applications/{p.submitted_a.pk}/formal-review"

    assert problems(officer.post(url, {"decision": "return"})) == {
        "reasons": ["退回修改须写明理由（每行一条）"]
    }
    p.submitted_a.refresh_from_db()
    assert p.submitted_a.state == "submitted"

    returned = officer.post(url, {"decision": "return", "reasons": ["预算说明不全", " ", "缺少查新报告"]})
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    assert _log(p.submitted_a)[-1].reason == "预算说明不全\n缺少查新报告"

    alice = api.as_(p.alice)
    assert (
        alice.patch(f"/applications/{p.submitted_a.pk}", {"data": {"summary": "补充后"}}).status_code == 200
    )
    resubmitted = alice.post(f"/applications/{p.submitted_a.pk}/submit")
    assert resubmitted.status_code == 200 and resubmitted.json()["state"] == "submitted"

    passed = api.as_(p.carol).post(url, {"decision": "pass"})
    assert passed.status_code == 200 and passed.json()["state"] == "formally_passed"
    assert [log.transition for log in _log(p.submitted_a)] == ["submit", "return", "resubmit", "pass_formal"]


def test_formal_review_cannot_pass_an_ineligible_enterprise(world, api):
    p = world
    refused = api.as_(p.carol).post(f"/applications/{p.submitted_b.pk}/formal-review", {"decision": "pass"})
    assert messages(refused) == [
        "不符合申报条件：不满足“有效期内的高新技术企业”：未持有有效期内的高新技术企业证书"
    ]
    p.submitted_b.refresh_from_db()
    assert p.submitted_b.state == "submitted" and _log(p.submitted_b) == []


def test_other_steps_go_through_the_workflow_with_its_checks(world, api):
    p = world
    applications.formal_review(p.submitted_a, True, "", p.carol)
    officer = api.as_(p.carol)

    refused = officer.post(f"/applications/{p.submitted_a.pk}/transitions/send_to_review")
    assert messages(refused) == [f"申报批次“{p.call.title}”尚未进入评审"]
    p.submitted_a.refresh_from_db()
    assert p.submitted_a.state == "formally_passed"
    # the inbox's "return" asks for reasons as formal review does
    returned = officer.post(f"/applications/{p.submitted_b.pk}/transitions/return", {"reason": ""})
    assert messages(returned) == ["退回修改须写明理由（每行一条）"]

    withdrawn = api.as_(p.alice).post(
        f"/applications/{p.draft_a.pk}/transitions/withdraw", {"reason": "另行申报"}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"


def test_an_ineligible_application_written_around_the_services_cannot_be_submitted(cf, api, bea):
    application = raw_application(cf.call, cf.ent_b, "疫苗佐剂", "draft")
    assert _refused_submission(api, application, bea) == [
        "不符合申报条件：不满足“有效期内的高新技术企业”：未持有有效期内的高新技术企业证书"
    ]
