"""The project workflows' guards (kechuang/projects/guards.py): each passes when it should and otherwise names
the reason, in Chinese."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kechuang.projects import guards
from kechuang.projects.models import Application, Evaluation, Expert, ReviewAssignment
from tests.workflows.conftest import make_application, make_award, make_call


def assign(application, *states):
    for n, state in enumerate(states):
        expert = Expert.objects.create(name=f"专家{application.pk}-{n}", organisation="上海某大学")
        ReviewAssignment.objects.create(application=application, expert=expert, state=state)


@pytest.mark.django_db
def test_reviews_complete_needs_every_remaining_expert_and_enough_of_them(wf):
    """The call asks 2 experts per application; a withdrawn (回避) expert counts for nothing."""
    app = wf.application
    assert guards.reviews_complete(app) == "已评分专家 0 位，须至少 2 位（回避退出的不计）"
    assign(app, "submitted", "accepted")
    assert guards.reviews_complete(app) == "尚有 1 位专家未提交评分"
    ReviewAssignment.objects.filter(application=app, state="accepted").update(state="withdrawn")
    assert guards.reviews_complete(app) == "已评分专家 1 位，须至少 2 位（回避退出的不计）"
    assign(app, "proposed")
    assert guards.reviews_complete(app) == "尚有 1 位专家未提交评分"
    ReviewAssignment.objects.filter(application=app, state="proposed").update(state="submitted")
    assert guards.reviews_complete(app) is None


@pytest.mark.django_db
def test_experts_assigned_does_not_count_withdrawn_experts(wf):
    assign(wf.application, "proposed", "withdrawn")
    assert guards.experts_assigned(wf.application) == "已分配评审专家 1 位，须 2 位（回避退出的不计）"
    assign(wf.application, "accepted")
    assert guards.experts_assigned(wf.application) is None


@pytest.mark.django_db
def test_within_cap_accepts_the_cap_itself_and_refuses_more_or_nothing(wf):
    app = wf.application
    for amount, expected in (
        ("500000", None),
        ("500000.01", "申请资助 50.00 万元，超过单项资助上限 50.00 万元"),
        ("0", "申请资助金额须大于 0"),
    ):
        app.requested_amount = Decimal(amount)
        assert guards.within_cap(app) == expected


@pytest.mark.django_db
def test_within_call_budget_counts_approved_applications_at_their_awarded_amount(wf):
    """Budget 200 万: 150 万 awarded (requested 180 万) leaves 50 万."""
    approved = make_application(
        wf.call, wf.ent_b, title="已立项", state="approved", requested_amount=Decimal("1800000")
    )
    make_award(approved, amount=Decimal("1500000"))
    wf.application.requested_amount = Decimal("500000")
    assert guards.within_call_budget(wf.application) is None
    wf.application.requested_amount = Decimal("500000.01")
    assert guards.within_call_budget(wf.application) == (
        "本批次总预算 200.00 万元，已立项 150.00 万元，余额 50.00 万元，不足以资助本项 50.00 万元"
    )


@pytest.mark.django_db
def test_the_deadline_is_inclusive(wf, monkeypatch):
    closes = wf.call.closes_at
    monkeypatch.setattr(timezone, "now", lambda: closes)
    assert guards.before_deadline(wf.application) is None
    assert guards.deadline_passed(wf.call) == f"申报截止时间 {timezone.localtime(closes):%Y-%m-%d %H:%M} 未到"
    monkeypatch.setattr(timezone, "now", lambda: closes + timedelta(seconds=1))
    assert (
        guards.before_deadline(wf.application)
        == f"已过申报截止时间 {timezone.localtime(closes):%Y-%m-%d %H:%M}"
    )
    assert guards.deadline_passed(wf.call) is None


@pytest.mark.django_db
def test_call_open_needs_the_open_state_and_the_opening_time(wf):
    assert guards.call_open(wf.application) is None
    wf.call.state = "closed"
    assert guards.call_open(wf.application) == "申报批次“2026年度科技攻关项目”未在受理中"
    later = make_call(wf.programme, title="下一批", opens_at=timezone.now() + timedelta(days=1))
    app = make_application(later, wf.ent_a)
    assert guards.call_open(app).startswith("申报批次“下一批”将于 ")


@pytest.mark.django_db
def test_call_ready_needs_a_form_a_score_sheet_and_a_future_deadline(wf):
    draft = make_call(wf.programme, state="draft", title="草稿批次", form=[], score_sheet=[])
    assert guards.call_ready(draft) == "申报批次尚未设置申报书、评分表"
    assert guards.call_ready(wf.call) is None


@pytest.mark.django_db
def test_applications_decided_counts_what_still_awaits_a_decision(wf):
    make_application(wf.call, wf.ent_b, title="评审中", state="under_review")
    make_application(wf.call, wf.ent_b, title="已立项", state="approved")
    assert (
        guards.applications_decided(wf.call) == "本批次尚有 1 项申报未作出立项决定"
    )  # the draft does not count
    Application.objects.filter(title="评审中").update(state="rejected")
    assert guards.applications_decided(wf.call) is None


@pytest.mark.django_db
def test_complete_form_and_eligible_use_the_application_and_eligibility_services(wf):
    wf.application.data = {}
    assert guards.complete_form(wf.application) == "申报书未填写完整：“基本情况”中的“项目简介”为必填项"
    wf.application.data = {"summary": "有内容"}
    assert guards.complete_form(wf.application) is None

    assert guards.eligible(wf.application) is None  # the call lists no condition
    wf.call.eligibility = [{"rule": "hnte_valid", "label": "有效期内高新技术企业"}]
    assert (
        guards.eligible(wf.application)
        == "不符合申报条件：不满足“有效期内高新技术企业”：未持有有效期内的高新技术企业证书"
    )


@pytest.mark.django_db
def test_the_award_guards_read_the_recorded_evaluations(wf):
    award = make_award(make_application(wf.call, wf.ent_a, title="已立项", state="approved"))
    assert guards.mid_term_recorded(award) == "尚未登记中期检查"
    assert guards.acceptance_passed(award) == guards.acceptance_failed(award) == "尚未登记验收结论"
    Evaluation.objects.create(award=award, kind="mid_term", held_on=date(2026, 6, 1))
    assert guards.mid_term_recorded(award) is None
    acceptance = Evaluation.objects.create(
        award=award, kind="acceptance", held_on=date(2027, 6, 1), conclusion="通过"
    )
    assert (guards.acceptance_passed(award), guards.acceptance_failed(award)) == (
        None,
        "验收结论为“通过”，不是不通过",
    )
    acceptance.conclusion = "不通过"
    acceptance.save()
    assert (guards.acceptance_passed(award), guards.acceptance_failed(award)) == ("验收结论为“不通过”", None)
    assert guards.performance_recorded(award) == "尚未登记绩效评价"


@pytest.mark.django_db
def test_an_award_starts_on_its_start_date(wf):
    award = make_award(
        make_application(wf.call, wf.ent_a, title="已立项", state="approved"),
        start_date=timezone.localdate() + timedelta(days=1),
    )
    assert guards.start_date_reached(award) == f"任务书开始日期 {award.start_date:%Y-%m-%d} 未到"
    award.start_date = timezone.localdate()
    assert guards.start_date_reached(award) is None
