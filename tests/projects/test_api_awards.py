"""The projects API on awards and money: the list with filters and totals, one award with its milestones,
disbursements, spending against budget and evaluations; issuing the 任务书; milestone report, acceptance and
return; disbursement (refused before acceptance, beyond the award, twice — nothing written); expenditure with its
warnings; evaluations moving the award; the award's own steps. Who may do what is in test_api.py."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from kechuang.projects import money
from kechuang.projects.models import Application, Award, Disbursement, Evaluation, Expenditure, Milestone
from kechuang.workflows import engine
from tests.projects import api_fixtures, money_fixtures
from tests.projects.api_fixtures import messages, problems
from tests.projects.money_fixtures import make_application, milestones_for, period

application, call, funded, officer = (
    money_fixtures.application,
    money_fixtures.call,
    money_fixtures.funded,
    money_fixtures.officer,
)
api = api_fixtures.api

pytestmark = pytest.mark.django_db
FEN = Decimal("0.01")


def milestone(award, number: int) -> Milestone:
    return award.milestones.get(number=number)


def url(award, path: str = "") -> str:
    return f"/awards/{award.pk}{path}"


def step(award, number: int, action: str) -> str:
    return url(award, f"/milestones/{milestone(award, number).pk}/{action}")


def accepted(award, number: int, officer):
    m = milestone(award, number)
    money.report_milestone(m, "完成", officer)
    return money.accept_milestone(m, officer)


def money_state(award):
    award.refresh_from_db()
    return award.disbursed, Disbursement.objects.filter(award=award).count()


# —— list and detail ———————————————————————————————————————————————————————————————————————————————————————


@pytest.fixture
def two(funded, call, personas, officer):
    """Besides A's award (400,000, SJKW-2026-001): an award of B of 300,000 in progress."""
    start, end = period()
    other = money.award(
        make_application(call, personas.ent_b, requested="300000", title="细胞治疗平台"),
        amount="300000",
        contract_no="SJKW-2026-002",
        start_date=start,
        end_date=end,
        milestones=milestones_for(["300000"], start, end),
        user=officer,
    )
    engine.take(other, "start", officer)
    return funded, other


def test_the_award_list_filters_sorts_and_totals(two, api, officer, personas, call):
    mine, theirs = two
    everything = api.as_(officer).get("/awards", sort="-amount").json()
    assert [a["contract_no"] for a in everything["items"]] == ["SJKW-2026-001", "SJKW-2026-002"]
    assert everything["totals"] == {
        "amount": "700000.00",
        "disbursed": "0.00",
        "remaining": "700000.00",
        "pct": "0.0",
    }
    first = everything["items"][0]
    assert (first["enterprise_name"], first["state_label"], first["remaining"]) == (
        "上海甲科技有限公司",
        "已签任务书",
        "400000.00",
    )

    def contracts(**params):
        return [a["contract_no"] for a in api.as_(officer).get("/awards", **params).json()["items"]]

    assert contracts(q="细胞") == ["SJKW-2026-002"]
    assert contracts(q="甲科技") == ["SJKW-2026-001"]
    assert contracts(state="in_progress") == ["SJKW-2026-002"]
    assert contracts(call=call.pk, sort="contract") == ["SJKW-2026-001", "SJKW-2026-002"]
    assert contracts(call=call.pk + 100) == []
    assert api.as_(personas.leo).get("/awards").json()["count"] == 2
    page = api.as_(officer).get("/awards", sort="amount", limit=1, offset=1).json()
    assert page["count"] == 2 and [a["contract_no"] for a in page["items"]] == ["SJKW-2026-001"]
    assert problems(api.as_(officer).get("/awards", state="flying"))["state"][0].startswith(
        "状态“flying”不存在"
    )


def test_the_award_page_for_the_enterprise_and_the_officer(funded, api, personas, officer):
    mine = api.as_(personas.alice).get(url(funded)).json()

    assert mine["can"] == {
        "report": True,
        "review": False,
        "disburse": False,
        "expend": True,
        "evaluate": False,
    }
    assert mine["transitions"] == []
    assert [(m["number"], m["tranche"], m["state"], m["payable"]) for m in mine["milestones"]] == [
        (1, "100000.00", "planned", False),
        (2, "150000.00", "planned", False),
        (3, "100000.00", "planned", False),
        (4, "50000.00", "planned", False),
    ]
    assert (mine["amount"], mine["disbursed"], mine["remaining"], mine["pct"]) == (
        "400000.00",
        "0.00",
        "400000.00",
        "0.0",
    )
    assert [(r["category"], r["budget"], r["spent"]) for r in mine["spending"]["rows"]] == [
        ("equipment", "200000.00", "0.00"),
        ("business", "120000.00", "0.00"),
        ("labour", "60000.00", "0.00"),
        ("indirect", "20000.00", "0.00"),
    ]
    assert mine["evaluations"] == [] and mine["disbursements"] == [] and mine["consistent"] is True

    theirs = api.as_(officer).get(url(funded)).json()
    assert theirs["can"] == {
        "report": False,
        "review": True,
        "disburse": True,
        "expend": True,
        "evaluate": True,
    }
    assert theirs["transitions"] == [
        {"name": "start", "label": "开始实施", "to": "in_progress", "allowed": True, "reason": ""}
    ]
    # the enterprise finds its award from its application
    assert (
        api.as_(personas.alice).get(f"/applications/{funded.application_id}").json()["award_id"] == funded.pk
    )


# —— issuing the 任务书 ———————————————————————————————————————————————————————————————————————————————————


def award_body(**overrides) -> dict:
    start, end = period()
    body = {
        "contract_no": "SJKW-2026-009",
        "amount": "400000",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "milestones": [
            {**m, "due_date": m["due_date"].isoformat()}
            for m in milestones_for(["250000", "150000"], start, end)
        ],
    }
    return body | overrides


def test_an_officer_issues_the_award_and_the_application_is_approved(application, api, officer):
    response = api.as_(officer).post(f"/applications/{application.pk}/award", award_body())

    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert (body["contract_no"], body["amount"], body["state"]) == (
        "SJKW-2026-009",
        "400000.00",
        "contracted",
    )
    assert [m["tranche"] for m in body["milestones"]] == ["250000.00", "150000.00"]
    application.refresh_from_db()
    assert application.state == "approved"
    [log] = engine.history(application)
    assert (log.transition, log.actor, log.reason) == ("approve", officer, "下达任务书 SJKW-2026-009")


def _tranches(*amounts) -> list[dict]:
    start, end = period()
    return [{**m, "due_date": m["due_date"].isoformat()} for m in milestones_for(list(amounts), start, end)]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"milestones": _tranches("250000", "149999.99")},
            {
                "milestones": [
                    "各节点拨款合计 399,999.99 元与资助金额 400,000.00 元不符（相差 0.01 元），须恰好相等"
                ]
            },
        ),
        (
            {"amount": "400000.01", "milestones": _tranches("250000", "150000.01")},
            {"amount": ["资助金额 400,000.01 元超过申报单位申请的资助 400,000.00 元"]},
        ),
        ({"milestones": []}, {"milestones": ["任务书至少须有一个里程碑节点"]}),
        ({"contract_no": " "}, {"contract_no": ["任务书编号必须填写"]}),
    ],
)
def test_a_bad_award_is_refused_and_nothing_saved(application, api, officer, overrides, expected):
    assert (
        problems(api.as_(officer).post(f"/applications/{application.pk}/award", award_body(**overrides)))
        == expected
    )
    assert not Award.objects.exists() and not Milestone.objects.exists()
    application.refresh_from_db()
    assert application.state == "reviewed"


def test_tranches_summing_exactly_with_fen_are_accepted(application, api, officer):
    body = award_body(amount="399999.99", milestones=_tranches("250000", "149999.99"))
    assert api.as_(officer).post(f"/applications/{application.pk}/award", body).status_code == 201


def test_a_due_date_outside_the_period_is_refused(application, api, officer):
    start, end = period()
    late = (end + dt.timedelta(days=1)).isoformat()
    body = award_body(
        milestones=[{"title": "节点1", "deliverables": "样机", "due_date": late, "tranche": "400000"}]
    )

    assert problems(api.as_(officer).post(f"/applications/{application.pk}/award", body)) == {
        "milestones": [f"第 1 个节点：计划完成日期 {late} 不在任务书期限 {start} 至 {end} 之内"]
    }
    assert not Award.objects.exists()


def test_an_application_is_awarded_once_and_only_when_reviewed(funded, call, api, officer, personas):
    again = api.as_(officer).post(f"/applications/{funded.application_id}/award", award_body())
    assert messages(again) == ["申报“高性能脑机接口芯片研制”已立项，不能重复下达任务书"]

    submitted = make_application(call, personas.ent_b, state="submitted", title="在审项目")
    early = api.as_(officer).post(f"/applications/{submitted.pk}/award", award_body())
    assert messages(early) == ["申报“在审项目”当前状态为“已提交”，只有已评审或已批准的申报可以立项"]
    assert Award.objects.count() == 1 and Milestone.objects.count() == 4


# —— milestones ————————————————————————————————————————————————————————————————————————————————————————————


def test_the_enterprise_reports_and_the_officer_returns_then_accepts(funded, api, personas, officer):
    alice = api.as_(personas.alice)
    assert problems(alice.post(step(funded, 1, "report"), {"text": " "})) == {
        "report": ["节点报告必须填写（完成情况与交付物说明）"]
    }
    assert milestone(funded, 1).state == "planned"
    reported = alice.post(step(funded, 1, "report"), {"text": "样机完成"})
    assert reported.status_code == 200 and reported.json()["milestones"][0]["state"] == "reported"
    assert problems(alice.post(step(funded, 1, "report"), {"text": "再报"})) == {
        "state": ["第 1 个节点“节点1”当前为“已报告”，只有“计划中”、“退回修改”的节点可以提交节点报告"]
    }

    officer_api = api.as_(officer)
    assert problems(officer_api.post(step(funded, 2, "accept"))) == {
        "state": ["第 2 个节点“节点2”当前为“计划中”，只有“已报告”的节点可以验收"]
    }
    assert problems(officer_api.post(step(funded, 1, "return"), {"reason": ""})) == {
        "reason": ["退回须说明原因"]
    }
    assert milestone(funded, 1).state == "reported"
    returned = officer_api.post(step(funded, 1, "return"), {"reason": "缺测试报告"})
    assert returned.status_code == 200 and returned.json()["milestones"][0]["state"] == "returned"

    api.as_(personas.alice).post(step(funded, 1, "report"), {"text": "补充测试报告"})
    done = api.as_(officer).post(step(funded, 1, "accept"))
    assert done.status_code == 200
    first = done.json()["milestones"][0]
    assert first["state"] == "accepted" and first["payable"] is True and first["report"] == "补充测试报告"


def test_a_milestone_of_another_award_is_not_found_under_this_one(two, api, officer):
    mine, theirs = two
    response = api.as_(officer).post(
        url(mine, f"/milestones/{milestone(theirs, 1).pk}/report"), {"text": "x"}
    )
    assert response.status_code == 404 and response.json() == {"detail": "里程碑不存在"}


# —— disbursement ——————————————————————————————————————————————————————————————————————————————————————————


def test_a_tranche_is_not_paid_before_its_milestone_is_accepted(funded, api, officer):
    money.report_milestone(milestone(funded, 1), "完成", officer)

    refused = api.as_(officer).post(step(funded, 1, "disburse"), {"voucher_no": "PZ-1"})

    assert problems(refused) == {
        "milestone": ["该节点尚未验收，不能拨付（第 1 个节点“节点1”当前为“已报告”）"]
    }
    assert money_state(funded) == (Decimal("0"), 0)


def test_a_tranche_is_paid_once(funded, api, officer):
    accepted(funded, 1, officer)
    officer_api = api.as_(officer)

    paid = officer_api.post(step(funded, 1, "disburse"), {"voucher_no": "PZ-1"})
    assert paid.status_code == 200, paid.content.decode()
    body = paid.json()
    assert (body["disbursed"], body["remaining"], body["pct"]) == ("100000.00", "300000.00", "25.0")
    assert [(d["milestone_number"], d["amount"], d["voucher_no"]) for d in body["disbursements"]] == [
        (1, "100000.00", "PZ-1")
    ]

    [message] = messages(officer_api.post(step(funded, 1, "disburse"), {"voucher_no": "PZ-2"}))
    assert message.startswith("第 1 个节点“节点1”已于 ") and message.endswith(
        "拨付 100,000.00 元，凭证号 PZ-1，不能重复拨付"
    )
    assert money_state(funded) == (Decimal("100000"), 1)


def test_one_fen_beyond_the_award_is_refused_and_exactly_the_award_is_paid(funded, api, officer):
    for number in (1, 2, 3, 4):
        accepted(funded, number, officer)
    for number in (1, 2, 3):
        money.disburse(milestone(funded, number), user=officer)
    # the last tranche edited to one fen more than what is left (outside the service)
    Milestone.objects.filter(pk=milestone(funded, 4).pk).update(tranche=F("tranche") + FEN)

    refused = api.as_(officer).post(step(funded, 4, "disburse"))

    assert problems(refused) == {
        "amount": [
            "拨付后累计 400,000.01 元将超过资助金额 400,000.00 元（已拨付 350,000.00 元，本次 50,000.01 元）"
        ]
    }
    assert money_state(funded) == (Decimal("350000"), 3)
    Milestone.objects.filter(pk=milestone(funded, 4).pk).update(tranche=F("tranche") - FEN)
    paid = api.as_(officer).post(step(funded, 4, "disburse")).json()
    assert (paid["disbursed"], paid["remaining"], paid["pct"], paid["consistent"]) == (
        "400000.00",
        "0.00",
        "100.0",
        True,
    )


def test_a_failed_acceptance_stops_the_payments(funded, api, officer):
    accepted(funded, 1, officer)
    money.evaluate(funded, "acceptance", held_on=funded.start_date, conclusion="不通过", user=officer)

    refused = api.as_(officer).post(step(funded, 1, "disburse"))

    assert problems(refused) == {"milestone": ["项目验收结论为“不通过”，不能继续拨付"]}
    assert money_state(funded) == (Decimal("0"), 0)


# —— expenditure ——————————————————————————————————————————————————————————————————————————————————————————


def test_spending_at_the_budget_is_fine_and_one_fen_over_is_warned(funded, api, personas, officer):
    accepted(funded, 1, officer)
    money.disburse(milestone(funded, 1), user=officer)
    alice = api.as_(personas.alice)
    day = funded.start_date

    at_budget = alice.post(
        url(funded, "/expenditures"), {"period_end": day.isoformat(), "amounts": {"labour": "60000"}}
    )
    assert at_budget.status_code == 201, at_budget.content.decode()
    assert at_budget.json()["spending"]["warnings"] == []

    later = (day + dt.timedelta(days=1)).isoformat()
    over = alice.post(
        url(funded, "/expenditures"), {"period_end": later, "amounts": {"labour": "0.01"}, "note": "补录"}
    )
    assert over.status_code == 201
    spending = over.json()["spending"]
    assert spending["warnings"] == [
        "劳务费超支：累计支出 60,000.01 元，为预算 60,000.00 元的 100.0%（超出 0.01 元）"
    ]
    labour = next(r for r in spending["rows"] if r["category"] == "labour")
    assert (labour["spent"], labour["over"]) == ("60000.01", True)
    assert [p["period_end"] for p in spending["periods"]] == [day.isoformat(), later]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"period_end": "tomorrow"},
            None,  # the schema's date check
        ),
        (
            {"amounts": {"travel": "1"}},
            {
                "amounts": [
                    "预算科目“travel”不存在，可用：equipment（设备费）、business（业务费）、labour（劳务费）、"
                    "indirect（间接费用）"
                ]
            },
        ),
        ({"amounts": {"equipment": "-1"}}, {"amounts.equipment": ["设备费支出 -1 元为负数，金额不能为负"]}),
        ({"amounts": {}}, {"amounts": ["至少须填写一个预算科目的支出"]}),
    ],
)
def test_bad_spending_saves_nothing(funded, api, personas, change, expected):
    body = {"period_end": funded.start_date.isoformat(), "amounts": {"equipment": "1000"}} | change
    refused = api.as_(personas.alice).post(url(funded, "/expenditures"), body)
    if expected is None:
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "period_end"
    else:
        assert problems(refused) == expected
    assert not Expenditure.objects.exists()


def test_future_and_repeated_periods_are_refused(funded, api, personas):
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    alice = api.as_(personas.alice)
    refused = alice.post(
        url(funded, "/expenditures"), {"period_end": tomorrow.isoformat(), "amounts": {"equipment": "1"}}
    )
    assert problems(refused) == {"period_end": [f"截至日期 {tomorrow} 晚于今天 {today}，不能填报将来的支出"]}

    first = {"period_end": today.isoformat(), "amounts": {"equipment": "1"}}
    assert alice.post(url(funded, "/expenditures"), first).status_code == 201
    assert problems(alice.post(url(funded, "/expenditures"), first)) == {
        "period_end": [f"截至 {today} 的设备费支出已填报，不能重复填报"]
    }
    assert Expenditure.objects.count() == 1


# —— evaluations and the award's steps ————————————————————————————————————————————————————————————————————


def test_the_award_moves_through_its_workflow(funded, api, officer):
    officer_api = api.as_(officer)
    assert messages(officer_api.post(url(funded, "/transitions/mid_term"))) == [
        "当前状态“已签任务书”不能执行“中期检查”"
    ]

    started = officer_api.post(url(funded, "/transitions/start"), {"reason": "任务书已签"})
    assert started.status_code == 200 and started.json()["state"] == "in_progress"

    assert messages(officer_api.post(url(funded, "/transitions/mid_term"))) == ["尚未登记中期检查"]
    funded.refresh_from_db()
    assert funded.state == "in_progress"

    evaluated = officer_api.post(
        url(funded, "/evaluations"),
        {"kind": "mid_term", "held_on": funded.start_date.isoformat(), "conclusion": "通过", "score": "100"},
    )
    assert evaluated.status_code == 201, evaluated.content.decode()
    body = evaluated.json()
    assert body["state"] == "mid_term_checked"
    assert [(e["kind_label"], e["conclusion"], e["score"]) for e in body["evaluations"]] == [
        ("中期检查", "通过", "100.00")
    ]
    assert [h["transition"] for h in body["history"]] == ["start", "mid_term"]
    assert body["history"][0]["reason"] == "任务书已签"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"score": "100.01"}, {"score": ["评价得分 100.01 不在 0–100 之内"]}),
        ({"conclusion": ""}, {"conclusion": ["结论必须填写（如 通过、不通过、优秀、良好、合格、不合格）"]}),
        ({"jobs": -1}, {"jobs": ["新增就业（人） -1 为负数，不能为负"]}),
    ],
)
def test_a_bad_evaluation_saves_nothing(funded, api, officer, change, expected):
    body = {"kind": "mid_term", "held_on": funded.start_date.isoformat(), "conclusion": "通过"} | change
    assert problems(api.as_(officer).post(url(funded, "/evaluations"), body)) == expected
    assert not Evaluation.objects.exists()
    funded.refresh_from_db()
    assert funded.state == "contracted"


def test_one_evaluation_of_each_kind(funded, api, officer):
    body = {"kind": "mid_term", "held_on": funded.start_date.isoformat(), "conclusion": "通过"}
    officer_api = api.as_(officer)
    assert officer_api.post(url(funded, "/evaluations"), body).status_code == 201
    assert problems(officer_api.post(url(funded, "/evaluations"), body)) == {
        "kind": ["项目 SJKW-2026-001 已有中期检查记录，每类只能一条"]
    }
    assert Evaluation.objects.count() == 1
    assert officer_api.post(url(funded, "/evaluations"), body | {"kind": "midterm"}).status_code == 422


def test_an_award_of_another_application_state_is_untouched_by_refusals(funded, api, personas):
    """An enterprise user may not move its award nor record its evaluations."""
    alice = api.as_(personas.alice)
    assert alice.post(url(funded, "/transitions/start")).status_code == 403
    assert (
        alice.post(
            url(funded, "/evaluations"), {"kind": "mid_term", "held_on": "2026-01-01", "conclusion": "通过"}
        ).status_code
        == 403
    )
    funded.refresh_from_db()
    assert funded.state == "contracted" and not Evaluation.objects.exists()
    assert Application.objects.get(pk=funded.application_id).state == "approved"
