"""The money closed loop: the award (任务书) and its refusals, milestones, disbursement (once, only when
accepted, never beyond the amount — also under concurrent requests on PostgreSQL, and held by the database when
the service is bypassed), expenditure against budget with its warnings, evaluations, and the pages."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from kechuang.core import roles
from kechuang.enterprises.models import Membership
from kechuang.projects import money, money_selectors
from kechuang.projects.models import (
    Award,
    Disbursement,
    Evaluation,
    Expenditure,
    Milestone,
)
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog
from tests.projects import money_fixtures as mf
from tests.projects.money_fixtures import (
    ensure_workflows,
    grant,
    make_application,
    make_call,
    milestones_for,
    period,
)

# The fixtures of money_fixtures.py, made available to the tests of this module.
application, call, funded, officer = mf.application, mf.call, mf.funded, mf.officer

pytestmark = pytest.mark.django_db

FEN = Decimal("0.01")


def messages_of(excinfo) -> str:
    return "；".join(excinfo.value.messages)


def award_args(**overrides) -> dict:
    start, end = period()
    args = {
        "amount": "400000",
        "contract_no": "SJKW-2026-009",
        "start_date": start,
        "end_date": end,
        "milestones": milestones_for(["100000", "150000", "100000", "50000"], start, end),
    }
    return args | overrides


def assert_nothing_awarded(application):
    assert not Award.objects.exists()
    assert not Milestone.objects.exists()
    application.refresh_from_db()
    assert application.state == "reviewed"
    assert not TransitionLog.objects.exists()


def accept(milestone, officer, user=None):
    money.report_milestone(milestone, "已完成，交付物见附件", user or officer)
    return money.accept_milestone(milestone, officer)


def accept_all(award, officer):
    for m in award.milestones.order_by("number"):
        accept(m, officer)
    return list(award.milestones.order_by("number"))


def log_of(obj):
    return list(
        TransitionLog.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).order_by("at", "pk")
    )


# --- award (任务书) ---------------------------------------------------------------------------------------------


def test_an_award_is_issued_with_its_milestones_and_the_application_is_approved_with_a_log(
    application, officer
):
    award = money.award(application, **award_args(), user=officer)
    assert award.amount == Decimal("400000.00") and award.disbursed == 0
    assert award.workflow.key == "projects.award" and award.state == award.workflow.definition["initial"]
    assert award.approved_by == officer
    rows = list(award.milestones.order_by("number").values_list("number", "tranche", "state"))
    assert rows == [
        (1, Decimal("100000.00"), "planned"),
        (2, Decimal("150000.00"), "planned"),
        (3, Decimal("100000.00"), "planned"),
        (4, Decimal("50000.00"), "planned"),
    ]
    application.refresh_from_db()
    assert application.state == "approved"
    [step] = log_of(application)
    assert (step.from_state, step.to_state, step.actor) == ("reviewed", "approved", officer)
    assert "SJKW-2026-009" in step.reason


def test_an_already_approved_application_may_be_awarded_and_stays_approved(call, personas, officer):
    approved = make_application(call, personas.ent_a, state="approved")
    money.award(approved, **award_args(), user=officer)
    approved.refresh_from_db()
    assert approved.state == "approved" and not log_of(approved)


def test_over_the_call_cap_is_refused_and_nothing_saved(personas, officer):
    capped = make_call(cap="300000")
    app = make_application(capped, personas.ent_a, requested="300000")
    start, end = period()
    with pytest.raises(ValidationError) as excinfo:
        money.award(
            app,
            **award_args(amount="300000.01", milestones=milestones_for(["300000.01"], start, end)),
            user=officer,
        )
    assert "单项资助上限 300,000.00 元" in messages_of(excinfo)
    assert "300,000.01 元" in messages_of(excinfo)
    assert_nothing_awarded(app)
    # the cap itself is allowed
    money.award(
        app, **award_args(amount="300000", milestones=milestones_for(["300000"], start, end)), user=officer
    )


def test_over_the_requested_amount_is_refused(application, officer):
    start, end = period()
    with pytest.raises(ValidationError) as excinfo:
        money.award(
            application,
            **award_args(amount="400000.01", milestones=milestones_for(["400000.01"], start, end)),
            user=officer,
        )
    assert "超过申报单位申请的资助 400,000.00 元" in messages_of(excinfo)
    assert excinfo.value.message_dict.keys() == {"amount"}
    assert_nothing_awarded(application)


@pytest.mark.parametrize(
    ("tranches", "difference"),
    [
        (["100000", "150000", "100000", "49999.99"], "0.01"),
        (["100000", "150000", "100000", "50000.01"], "0.01"),
    ],
)
def test_tranches_must_sum_exactly_to_the_amount(application, officer, tranches, difference):
    start, end = period()
    with pytest.raises(ValidationError) as excinfo:
        money.award(application, **award_args(milestones=milestones_for(tranches, start, end)), user=officer)
    text = messages_of(excinfo)
    assert "与资助金额 400,000.00 元不符" in text and f"相差 {difference} 元" in text
    assert_nothing_awarded(application)


def test_tranches_summing_exactly_to_the_amount_with_fen_are_accepted(application, officer):
    start, end = period()
    award = money.award(
        application,
        **award_args(
            amount="399999.99", milestones=milestones_for(["133333.33", "133333.33", "133333.33"], start, end)
        ),
        user=officer,
    )
    assert award.milestones.aggregate(t=Sum("tranche"))["t"] == award.amount == Decimal("399999.99")


def test_due_dates_must_fall_within_the_award_period_the_ends_included(application, officer):
    start, end = period()
    rows = milestones_for(["200000", "200000"], start, end)
    for late, where in (
        (start - dt.timedelta(days=1), "第 1 个节点"),
        (end + dt.timedelta(days=1), "第 2 个节点"),
    ):
        bad = [dict(rows[0]), dict(rows[1])]
        bad[0 if where == "第 1 个节点" else 1]["due_date"] = late
        with pytest.raises(ValidationError) as excinfo:
            money.award(application, **award_args(milestones=bad), user=officer)
        assert f"{where}：计划完成日期 {late} 不在任务书期限 {start} 至 {end} 之内" in messages_of(excinfo)
        assert_nothing_awarded(application)
    rows[0]["due_date"], rows[1]["due_date"] = start, end
    assert money.award(application, **award_args(milestones=rows), user=officer).milestones.count() == 2


@pytest.mark.parametrize("state", ["draft", "submitted", "under_review", "rejected"])
def test_only_reviewed_or_approved_applications_may_be_awarded(call, personas, officer, state):
    app = make_application(call, personas.ent_a, state=state)
    with pytest.raises(ValidationError) as excinfo:
        money.award(app, **award_args(), user=officer)
    assert "只有已评审或已批准的申报可以立项" in messages_of(excinfo)
    assert not Award.objects.exists()


def test_a_duplicate_contract_number_is_refused(application, call, personas, officer):
    money.award(application, **award_args(contract_no="SJKW-2026-001"), user=officer)
    other = make_application(call, personas.ent_b, title="另一个项目")
    with pytest.raises(ValidationError) as excinfo:
        money.award(other, **award_args(contract_no=" SJKW-2026-001 "), user=officer)
    assert "任务书编号“SJKW-2026-001”已被“高性能脑机接口芯片研制”使用" in messages_of(excinfo)
    assert Award.objects.count() == 1 and Milestone.objects.count() == 4
    other.refresh_from_db()
    assert other.state == "reviewed"


def test_an_application_is_awarded_once(funded, application, officer):
    with pytest.raises(ValidationError) as excinfo:
        money.award(application, **award_args(contract_no="SJKW-2026-002"), user=officer)
    assert "已立项，不能重复下达任务书" in messages_of(excinfo)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"amount": "0"}, "资助金额须大于 0 元"),
        ({"amount": "-5"}, "金额不能为负"),
        ({"amount": "1000.001"}, "超过两位小数"),
        ({"amount": "十万"}, "“十万”不是数字"),
        ({"contract_no": "  "}, "任务书编号必须填写"),
        ({"milestones": []}, "至少须有一个里程碑节点"),
    ],
)
def test_other_award_refusals_name_field_and_value(application, officer, overrides, expected):
    with pytest.raises(ValidationError) as excinfo:
        money.award(application, **award_args(**overrides), user=officer)
    assert expected in messages_of(excinfo)
    assert_nothing_awarded(application)


def test_negative_tranches_and_end_before_start_are_refused(application, officer):
    start, end = period()
    rows = milestones_for(["450000", "-50000"], start, end)
    with pytest.raises(ValidationError) as excinfo:
        money.award(application, **award_args(milestones=rows, end_date=start), user=officer)
    text = messages_of(excinfo)
    assert "第 2 个节点：对应拨款 -50000 元为负数" in text
    assert f"结束日期 {start} 须晚于开始日期 {start}" in text
    assert_nothing_awarded(application)


def test_the_approve_steps_guard_refuses_the_award_too(personas, officer):
    """The 立项 decision is the application workflow's approve step: its guards (the call's budget) apply."""
    small = make_call(cap="300000", budget_total="500000")
    first = make_application(small, personas.ent_a, requested="300000", state="approved")
    money.award(
        first, **award_args(amount="300000", milestones=milestones_for(["300000"], *period())), user=officer
    )
    second = make_application(small, personas.ent_b, requested="300000", title="第二个项目")
    if "within_call_budget" not in str(second.workflow.definition):
        pytest.skip("the application workflow has no budget guard")
    with pytest.raises(ValidationError) as excinfo:
        money.award(
            second,
            **award_args(
                contract_no="SJKW-2026-010", amount="300000", milestones=milestones_for(["300000"], *period())
            ),
            user=officer,
        )
    assert "总预算" in messages_of(excinfo)
    assert Award.objects.count() == 1


# --- milestones ---------------------------------------------------------------------------------------------------


def test_report_accept_and_return_with_state_checks_and_a_log(funded, officer, personas):
    m1, m2 = funded.milestones.order_by("number")[:2]
    with pytest.raises(ValidationError) as excinfo:
        money.accept_milestone(m1, officer)
    assert "当前为“计划中”，只有“已报告”的节点可以验收" in messages_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        money.report_milestone(m1, "   ", personas.alice)
    assert "节点报告必须填写" in messages_of(excinfo)

    money.report_milestone(m1, "样机完成", personas.alice)
    assert m1.state == "reported" and m1.reported_at
    with pytest.raises(ValidationError):
        money.report_milestone(m1, "再次报告", personas.alice)
    with pytest.raises(ValidationError) as excinfo:
        money.return_milestone(m1, "", officer)
    assert "退回须说明原因" in messages_of(excinfo)
    money.return_milestone(m1, "测试报告缺少第三方检测", officer)
    m1.refresh_from_db()
    assert m1.state == "returned"
    money.report_milestone(m1, "补充了第三方检测报告", personas.alice)
    money.accept_milestone(m1, officer)
    m1.refresh_from_db()
    assert (m1.state, m1.accepted_by, m1.report) == ("accepted", officer, "补充了第三方检测报告")
    with pytest.raises(ValidationError):
        money.return_milestone(m1, "已验收的不能退回", officer)

    steps = [(s.transition, s.from_state, s.to_state, s.actor, s.reason) for s in log_of(m1)]
    assert steps == [
        ("report_milestone", "planned", "reported", personas.alice, ""),
        ("return_milestone", "reported", "returned", officer, "测试报告缺少第三方检测"),
        ("report_milestone", "returned", "reported", personas.alice, ""),
        ("accept_milestone", "reported", "accepted", officer, ""),
    ]
    assert all(s.workflow_id == funded.workflow_id for s in log_of(m1))
    m2.refresh_from_db()
    assert m2.state == "planned"


# --- disbursement -------------------------------------------------------------------------------------------------


def test_an_unaccepted_milestone_is_not_paid(funded, officer, personas):
    m1 = funded.milestones.get(number=1)
    for step in (None, "report"):
        if step == "report":
            money.report_milestone(m1, "完成", personas.alice)
        with pytest.raises(ValidationError) as excinfo:
            money.disburse(m1, user=officer)
        assert money.NOT_ACCEPTED in messages_of(excinfo)
        assert "该节点尚未验收，不能拨付" in messages_of(excinfo)
    assert not Disbursement.objects.exists()
    funded.refresh_from_db()
    assert funded.disbursed == 0


def test_a_tranche_is_paid_once_and_raises_the_running_total(funded, officer):
    m1 = accept(funded.milestones.get(number=1), officer)
    payment = money.disburse(m1, user=officer, voucher_no="PZ-0001")
    assert (payment.amount, payment.paid_by, payment.voucher_no) == (Decimal("100000.00"), officer, "PZ-0001")
    funded.refresh_from_db()
    assert funded.disbursed == Decimal("100000.00")
    with pytest.raises(ValidationError) as excinfo:
        money.disburse(m1, user=officer, voucher_no="PZ-0002")
    assert "已于" in messages_of(excinfo) and "凭证号 PZ-0001，不能重复拨付" in messages_of(excinfo)
    assert Disbursement.objects.count() == 1
    funded.refresh_from_db()
    assert funded.disbursed == Decimal("100000.00")


def test_the_last_tranche_brings_disbursed_exactly_to_the_amount(funded, officer):
    milestones = accept_all(funded, officer)
    for m in milestones:
        money.disburse(m, user=officer)
    funded.refresh_from_db()
    assert funded.disbursed == funded.amount == Decimal("400000.00")
    summary = money_selectors.money_summary(funded)
    assert summary.remaining == 0 and summary.consistent and summary.pct == Decimal("100.0")
    assert all(row.paid and not row.payable for row in summary.milestones)


def test_one_fen_beyond_the_amount_is_refused_and_nothing_written(funded, officer):
    milestones = accept_all(funded, officer)
    for m in milestones[:3]:
        money.disburse(m, user=officer)
    # The last tranche edited to one fen more than what is left (a tranche changed outside the service).
    Milestone.objects.filter(pk=milestones[3].pk).update(tranche=F("tranche") + FEN)
    last = Milestone.objects.get(pk=milestones[3].pk)
    with pytest.raises(ValidationError) as excinfo:
        money.disburse(last, user=officer)
    assert "拨付后累计 400,000.01 元将超过资助金额 400,000.00 元" in messages_of(excinfo)
    assert "已拨付 350,000.00 元，本次 50,000.01 元" in messages_of(excinfo)
    funded.refresh_from_db()
    assert funded.disbursed == Decimal("350000.00") and Disbursement.objects.count() == 3
    # one fen less than one fen more: exactly what is left
    Milestone.objects.filter(pk=last.pk).update(tranche=F("tranche") - FEN)
    money.disburse(last, user=officer)
    funded.refresh_from_db()
    assert funded.disbursed == funded.amount


class _InflatedAwards:
    """Award.objects whose locked read claims a huge amount: the service's own check passes, the database's
    check constraint must refuse."""

    def __init__(self):
        self.real = Award.objects

    def select_for_update(self, *args, **kwargs):
        real = self.real.select_for_update(*args, **kwargs)

        class Locked:
            @staticmethod
            def get(**kwargs):
                award = real.get(**kwargs)
                award.amount = Decimal("10000000000")
                return award

        return Locked()

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_the_database_constraint_is_the_last_line_inside_the_service(funded, officer, monkeypatch):
    milestones = accept_all(funded, officer)
    Milestone.objects.filter(pk=milestones[0].pk).update(tranche=Decimal("400000.01"))

    class InflatedAward:
        objects = _InflatedAwards()

    monkeypatch.setattr(money, "Award", InflatedAward)
    with pytest.raises(ValidationError) as excinfo:
        money.disburse(milestones[0], user=officer)
    assert "将超过资助金额 400,000.00 元" in messages_of(excinfo)
    monkeypatch.undo()
    assert not Disbursement.objects.exists()
    funded.refresh_from_db()
    assert funded.disbursed == 0


def test_a_zero_tranche_and_a_failed_acceptance_are_not_paid(application, officer):
    start, end = period()
    award = money.award(
        application,
        **award_args(milestones=milestones_for(["400000", "0"], start, end)),
        user=officer,
    )
    m1, m2 = accept_all(award, officer)
    with pytest.raises(ValidationError) as excinfo:
        money.disburse(m2, user=officer)
    assert "没有对应拨款（0.00 元），无需拨付" in messages_of(excinfo)
    money.evaluate(award, "acceptance", held_on=timezone.localdate(), conclusion="不通过", user=officer)
    with pytest.raises(ValidationError) as excinfo:
        money.disburse(m1, user=officer)
    assert "项目验收结论为“不通过”，不能继续拨付" in messages_of(excinfo)
    assert not Disbursement.objects.exists()


@pytest.mark.parametrize("huge", [Decimal("400000.01"), Decimal("10000000000")])
def test_the_database_refuses_a_raw_update_beyond_the_amount(funded, huge):
    """Bypassing the service: the check constraint `award_disbursed_within_amount` refuses (both databases)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Award.objects.filter(pk=funded.pk).update(disbursed=F("disbursed") + huge)
    with pytest.raises(IntegrityError), transaction.atomic():
        Award.objects.filter(pk=funded.pk).update(disbursed=Decimal("-0.01"))
    funded.refresh_from_db()
    assert funded.disbursed == 0
    Award.objects.filter(pk=funded.pk).update(disbursed=F("amount"))  # exactly the amount is allowed
    funded.refresh_from_db()
    assert funded.disbursed == funded.amount


def test_the_database_refuses_a_second_payment_row_for_a_milestone(funded, officer):
    m1 = accept(funded.milestones.get(number=1), officer)
    money.disburse(m1, user=officer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(award=funded, milestone=m1, amount=Decimal("1"))
    assert Disbursement.objects.count() == 1


# --- concurrency (PostgreSQL) -------------------------------------------------------------------------------------


def _race(targets: list[int], officer_pk: int) -> tuple[list[int], list[str], list[str]]:
    """Disburse each milestone pk of `targets` from its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(targets))
    paid, refused, crashed = [], [], []
    lock = threading.Lock()

    def worker(pk):
        try:
            user = User.objects.get(pk=officer_pk)
            milestone = Milestone.objects.get(pk=pk)
            barrier.wait(timeout=30)
            try:
                payment = money.disburse(
                    milestone, user=user, voucher_no=f"T{threading.get_ident() % 100000}"
                )
            except ValidationError as error:
                with lock:
                    refused.append("；".join(error.messages))
            else:
                with lock:
                    paid.append(payment.milestone_id)
        except Exception as error:  # anything else is a failure of the test
            with lock:
                crashed.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a disbursement thread hung"
    return paid, refused, crashed


def _assert_books_balance(award: Award) -> None:
    award.refresh_from_db()
    total = Disbursement.objects.filter(award=award).aggregate(t=Sum("amount"))["t"] or Decimal("0")
    assert total == award.disbursed, (total, award.disbursed)
    assert award.disbursed <= award.amount
    per_milestone = Disbursement.objects.filter(award=award).values_list("milestone_id", flat=True)
    assert len(per_milestone) == len(set(per_milestone))


@pytest.mark.django_db(transaction=True)
def test_concurrent_disbursements_pay_each_milestone_once_and_balance(funded, officer):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks are tested on PostgreSQL")
    milestones = accept_all(funded, officer)
    targets = [m.pk for m in milestones] * 4  # 16 requests: every milestone four times at once
    paid, refused, crashed = _race(targets, officer.pk)
    print(
        f"\n16 concurrent requests on 4 milestones: {len(paid)} paid, {len(refused)} refused, {len(crashed)} crashed"
    )
    print("refusals seen:", sorted({r.split("已于")[0] + "…" for r in refused}))
    assert not crashed, crashed
    assert sorted(paid) == sorted(m.pk for m in milestones)
    assert len(refused) == 12 and all("不能重复拨付" in r for r in refused)
    _assert_books_balance(funded)
    assert funded.disbursed == funded.amount


@pytest.mark.django_db(transaction=True)
def test_concurrent_disbursements_never_exceed_the_amount(funded, officer):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks are tested on PostgreSQL")
    milestones = accept_all(funded, officer)
    # Tranches edited outside the service to 150,000 each: 600,000 asked against 400,000 awarded.
    Milestone.objects.filter(award=funded).update(tranche=Decimal("150000"))
    targets = [m.pk for m in milestones] * 3
    paid, refused, crashed = _race(targets, officer.pk)
    print(
        f"\n12 concurrent requests, tranches 4 × 150,000 on 400,000: {len(paid)} paid, {len(refused)} refused"
    )
    assert not crashed, crashed
    assert len(paid) == 2 and len(set(paid)) == 2  # 300,000; a third would make 450,000
    assert any("将超过资助金额 400,000.00 元" in r for r in refused)
    _assert_books_balance(funded)
    assert funded.disbursed == Decimal("300000.00")


# --- expenditure ----------------------------------------------------------------------------------------------------


def today():
    return timezone.localdate()


def test_expenditure_is_stored_per_category_without_warnings_at_exactly_100_percent(
    funded, officer, personas
):
    milestones = accept_all(funded, officer)
    for m in milestones[:3]:
        money.disburse(m, user=officer)  # 350,000 disbursed
    warnings = money.report_expenditure(
        funded, today(), {"equipment": "200000", "business": "120000"}, personas.alice, note="一季度"
    )
    assert warnings == []
    lines = dict(Expenditure.objects.filter(award=funded).values_list("category", "amount"))
    assert lines == {"equipment": Decimal("200000.00"), "business": Decimal("120000.00")}
    report = money_selectors.expenditure_vs_budget(funded)
    equipment = next(r for r in report.rows if r.category == "equipment")
    assert (equipment.pct, equipment.variance_pct, equipment.over) == (
        Decimal("100.0"),
        Decimal("0.0"),
        False,
    )
    assert report.spent_total == Decimal("320000.00") and not report.over_disbursed


def test_one_fen_over_budget_is_a_超支_warning(funded, officer, personas):
    money.disburse(accept(funded.milestones.get(number=2), officer), user=officer)  # 150,000
    first = money.report_expenditure(
        funded, today() - dt.timedelta(days=30), {"labour": "60000"}, personas.alice
    )
    assert first == []
    warnings = money.report_expenditure(funded, today(), {"labour": "0.01"}, personas.alice)
    assert warnings == ["劳务费超支：累计支出 60,000.01 元，为预算 60,000.00 元的 100.0%（超出 0.01 元）"]
    row = next(r for r in money_selectors.expenditure_vs_budget(funded).rows if r.category == "labour")
    assert row.over and row.spent == Decimal("60000.01")


def test_spending_beyond_what_was_disbursed_is_warned_exactly_past_it(funded, officer, personas):
    money.disburse(accept(funded.milestones.get(number=1), officer), user=officer)  # 100,000
    assert (
        money.report_expenditure(
            funded, today() - dt.timedelta(days=2), {"equipment": "100000"}, personas.alice
        )
        == []
    )
    warnings = money.report_expenditure(funded, today(), {"business": "0.01"}, personas.alice)
    assert warnings == ["支出超过已拨付：累计支出 100,000.01 元，已拨付 100,000.00 元（超出 0.01 元）"]


def test_spending_in_a_category_without_budget_is_超支(call, personas, officer):
    app = make_application(call, personas.ent_a, budget={"equipment": "400000"})
    award = money.award(app, **award_args(), user=officer)
    warnings = money.report_expenditure(award, today(), {"labour": "10"}, personas.alice)
    assert warnings[0] == "劳务费超支：累计支出 10.00 元，预算未列该科目资助"
    assert warnings[1].startswith("支出超过已拨付")


@pytest.mark.parametrize(
    ("period_end", "amounts", "expected"),
    [
        (None, {"equipment": "-0.01"}, "设备费支出 -0.01 元为负数，金额不能为负"),
        (None, {"travel": "100"}, "预算科目“travel”不存在"),
        (None, {}, "至少须填写一个预算科目的支出"),
        (None, {"business": "12.345"}, "超过两位小数"),
        ("future", {"business": "1"}, "不能填报将来的支出"),
        ("before", {"business": "1"}, "早于项目开始日期"),
    ],
)
def test_expenditure_refusals_save_nothing(funded, personas, period_end, amounts, expected):
    when = {
        None: today(),
        "future": today() + dt.timedelta(days=1),
        "before": funded.start_date - dt.timedelta(days=1),
    }[period_end]
    payload = {"equipment": "5", **amounts} if amounts else {}  # a valid line beside the bad one
    with pytest.raises(ValidationError) as excinfo:
        money.report_expenditure(funded, when, payload, personas.alice)
    assert expected in messages_of(excinfo)
    assert not Expenditure.objects.exists()


def test_a_period_and_category_are_reported_once(funded, personas):
    money.report_expenditure(funded, today(), {"equipment": "5"}, personas.alice)
    with pytest.raises(ValidationError) as excinfo:
        money.report_expenditure(funded, today(), {"equipment": "5", "business": "1"}, personas.alice)
    assert "的设备费支出已填报，不能重复填报" in messages_of(excinfo)
    assert Expenditure.objects.count() == 1


# --- evaluations ------------------------------------------------------------------------------------------------------


def test_evaluations_one_of_each_kind_and_score_bounds(funded, officer):
    held = today()
    for bad in ("-0.01", "100.01", "abc"):
        with pytest.raises(ValidationError) as excinfo:
            money.evaluate(funded, "mid_term", held_on=held, score=bad, conclusion="通过", user=officer)
        assert "评价得分" in messages_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        money.evaluate(funded, "final", held_on=held, conclusion="通过", user=officer)
    assert "类别“final”不存在" in messages_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        money.evaluate(funded, "mid_term", held_on=held, patents=-1, conclusion="", user=officer)
    assert "专利（件） -1 为负数" in messages_of(excinfo) and "结论必须填写" in messages_of(excinfo)
    assert not Evaluation.objects.exists()

    money.evaluate(funded, "mid_term", held_on=held, score="0", conclusion="通过", user=officer)
    e = money.evaluate(
        funded, "performance", held_on=held, score="100", patents=3, revenue="1200000", jobs=12,
        conclusion="优秀", opinion="超额完成", user=officer,
    )  # fmt: skip
    assert (e.score, e.patents, e.revenue, e.jobs) == (Decimal("100"), 3, Decimal("1200000.00"), 12)
    with pytest.raises(ValidationError) as excinfo:
        money.evaluate(funded, "mid_term", held_on=held, conclusion="通过", user=officer)
    assert "已有中期检查记录，每类只能一条" in messages_of(excinfo)
    assert Evaluation.objects.count() == 2


def test_evaluations_move_the_award_where_its_workflow_leads_with_a_log(funded, officer):
    engine.take(funded, "start", officer)
    money.evaluate(funded, "mid_term", held_on=today(), conclusion="通过", user=officer)
    funded.refresh_from_db()
    assert funded.state == "mid_term_checked"
    money.evaluate(funded, "acceptance", held_on=today(), conclusion="良好", score="86", user=officer)
    funded.refresh_from_db()
    assert funded.state == "accepted"
    steps = [(s.transition, s.to_state, s.actor, s.reason) for s in log_of(funded)]
    assert steps == [
        ("start", "in_progress", officer, ""),
        ("mid_term", "mid_term_checked", officer, "中期检查：通过"),
        ("accept", "accepted", officer, "验收：良好"),
    ]


def test_a_failed_acceptance_moves_to_failed(funded, officer):
    engine.take(funded, "start", officer)
    money.evaluate(funded, "mid_term", held_on=today(), conclusion="通过", user=officer)
    money.evaluate(funded, "acceptance", held_on=today(), conclusion="不合格", user=officer)
    funded.refresh_from_db()
    assert funded.state == "failed"


def test_an_evaluator_who_may_not_move_the_award_leaves_the_step_to_the_inbox(funded, officer, personas):
    engine.take(funded, "start", officer)
    recorder = grant(personas.uma, "add_evaluation")
    money.evaluate(funded, "mid_term", held_on=today(), conclusion="通过", user=recorder)
    funded.refresh_from_db()
    assert funded.state == "in_progress" and Evaluation.objects.count() == 1
    assert [o.name for o in engine.options(funded, officer) if o.allowed] == ["mid_term"]


# --- pages ----------------------------------------------------------------------------------------------------------------


def as_(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def bea(personas):
    """A user of the other enterprise."""
    user = User.objects.create_user("bea", password="pass-bea")
    user.groups.add(Group.objects.get(name=roles.ENTERPRISE.name))
    Membership.objects.create(user=user, enterprise=personas.ent_b)
    return user


def test_who_sees_the_list_and_the_award_page(client, funded, officer, personas, bea):
    page = reverse("projects:award-detail", args=[funded.pk])
    listing = reverse("projects:award-list")
    assert as_(client, officer).get(listing).status_code == 200
    assert as_(client, officer).get(page).status_code == 200
    assert as_(client, personas.alice).get(page).status_code == 200
    assert as_(client, personas.alice).get(listing).status_code == 403
    assert as_(client, bea).get(page).status_code == 404
    assert as_(client, personas.eve).get(page).status_code == 404
    client.logout()
    assert client.get(page).status_code == 302


def test_buttons_follow_permissions(client, funded, officer, personas):
    m1 = funded.milestones.get(number=1)
    page = reverse("projects:award-detail", args=[funded.pk])
    html = as_(client, personas.alice).get(page).content.decode()
    assert reverse("projects:milestone-report", args=[m1.pk]) in html
    assert reverse("projects:milestone-accept", args=[m1.pk]) not in html
    assert 'id="expenditure-form"' in html and 'id="evaluation-form"' not in html
    money.report_milestone(m1, "完成", personas.alice)
    html = as_(client, officer).get(page).content.decode()
    assert reverse("projects:milestone-accept", args=[m1.pk]) in html
    assert reverse("projects:milestone-return", args=[m1.pk]) in html
    assert reverse("projects:milestone-disburse", args=[m1.pk]) not in html
    assert reverse("projects:milestone-report", args=[m1.pk]) not in html
    money.accept_milestone(m1, officer)
    html = as_(client, officer).get(page).content.decode()
    assert reverse("projects:milestone-disburse", args=[m1.pk]) in html
    assert 'id="evaluation-form"' in html


def test_the_closed_loop_through_the_pages(client, funded, officer, personas):
    m1 = funded.milestones.get(number=1)
    page = reverse("projects:award-detail", args=[funded.pk])
    alice = as_(client, personas.alice)
    # the enterprise may not accept or pay
    assert alice.post(reverse("projects:milestone-accept", args=[m1.pk])).status_code == 403
    assert alice.post(reverse("projects:milestone-disburse", args=[m1.pk])).status_code == 403
    response = alice.post(reverse("projects:milestone-report", args=[m1.pk]), {"text": "样机完成"})
    assert response.status_code == 302 and response["Location"] == page
    officer_client = as_(client, officer)
    # paying before acceptance: the page again, with the reason, nothing written
    response = officer_client.post(
        reverse("projects:milestone-disburse", args=[m1.pk]), {"voucher_no": "PZ-1"}
    )
    assert response.status_code == 200 and "该节点尚未验收，不能拨付" in response.content.decode()
    assert not Disbursement.objects.exists()
    assert officer_client.post(reverse("projects:milestone-accept", args=[m1.pk])).status_code == 302
    response = officer_client.post(
        reverse("projects:milestone-disburse", args=[m1.pk]), {"voucher_no": "PZ-1"}, follow=True
    )
    html = response.content.decode()
    assert "已拨付 100,000.00 元" in html and "PZ-1" in html
    response = officer_client.post(
        reverse("projects:milestone-disburse", args=[m1.pk]), {"voucher_no": "PZ-2"}
    )
    assert "不能重复拨付" in response.content.decode() and Disbursement.objects.count() == 1
    # expenditure with warnings shown after saving
    response = as_(client, personas.alice).post(
        reverse("projects:award-expenditure", args=[funded.pk]),
        {"period_end": today().isoformat(), "equipment": "150000", "business": ""},
        follow=True,
    )
    html = response.content.decode()
    assert "经费支出已保存" in html and "支出超过已拨付" in html
    response = as_(client, personas.alice).post(
        reverse("projects:award-expenditure", args=[funded.pk]),
        {"period_end": today().isoformat(), "labour": "-1"},
    )
    assert response.status_code == 200 and "金额不能为负" in response.content.decode()
    assert Expenditure.objects.count() == 1
    # evaluation
    response = as_(client, officer).post(
        reverse("projects:award-evaluation", args=[funded.pk]),
        {"kind": "mid_term", "held_on": today().isoformat(), "conclusion": "通过", "score": "101"},
    )
    assert response.status_code == 200 and "不在 0–100 之内" in response.content.decode()
    response = as_(client, officer).post(
        reverse("projects:award-evaluation", args=[funded.pk]),
        {"kind": "mid_term", "held_on": today().isoformat(), "conclusion": "通过", "score": "88"},
    )
    assert response.status_code == 302 and Evaluation.objects.get().score == Decimal("88")
    html = as_(client, officer).get(page).content.decode()
    assert "提交节点报告" in html and "验收通过" in html  # the audit log


def test_issuing_the_award_through_its_page(client, application, officer, personas):
    url = reverse("projects:award-create", args=[application.pk])
    assert as_(client, personas.alice).get(url).status_code == 403
    assert as_(client, officer).get(url).status_code == 200
    start, end = period()
    data = {
        "contract_no": "SJKW-2026-077",
        "amount": "400000",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "m-TOTAL_FORMS": "3",
        "m-INITIAL_FORMS": "0",
        "m-0-title": "样机",
        "m-0-deliverables": "样机一台",
        "m-0-due_date": (start + dt.timedelta(days=100)).isoformat(),
        "m-0-tranche": "300000",
        "m-1-title": "验收",
        "m-1-deliverables": "验收报告",
        "m-1-due_date": end.isoformat(),
        "m-1-tranche": "99999.99",
    }
    response = as_(client, officer).post(url, data)
    assert response.status_code == 200 and "相差 0.01 元" in response.content.decode()
    assert not Award.objects.exists()
    data["m-1-tranche"] = "100000"
    response = as_(client, officer).post(url, data)
    award = Award.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "projects:award-detail", args=[award.pk]
    )
    assert award.milestones.count() == 2
    assert as_(client, officer).get(url).status_code == 302  # already awarded: to the award


def test_the_list_searches_filters_sorts_and_pages(client, officer, personas):
    ensure_workflows()
    other_call = make_call(title="2026年度科技农业")
    calls = [make_call(), other_call]
    start, end = period()
    for n in range(30):
        app = make_application(
            calls[n % 2], personas.ent_a if n % 3 else personas.ent_b, title=f"项目{n:02d}", requested="400000",
            state="approved",
        )  # fmt: skip
        money.award(
            app,
            amount=str(100000 + n * 1000),
            contract_no=f"SJKW-2026-{n:03d}",
            start_date=start,
            end_date=end,
            milestones=milestones_for([str(100000 + n * 1000)], start, end),
            user=officer,
        )
    c = as_(client, officer)
    listing = reverse("projects:award-list")
    html = c.get(listing).content.decode()
    assert "共 <strong>30</strong> 个项目" in html and "第 1 / 2 页" in html
    html = c.get(listing, {"q": "SJKW-2026-007"}).content.decode()
    assert "共 <strong>1</strong> 个项目" in html and "项目07" in html
    html = c.get(listing, {"q": "乙生物"}).content.decode()
    assert "共 <strong>10</strong> 个项目" in html
    html = c.get(listing, {"call": other_call.pk}).content.decode()
    assert "共 <strong>15</strong> 个项目" in html
    html = c.get(listing, {"state": "contracted"}).content.decode()
    assert "共 <strong>30</strong> 个项目" in html
    assert "共 <strong>0</strong> 个项目" in c.get(listing, {"state": "accepted"}).content.decode()
    html = c.get(listing, {"sort": "-amount"}).content.decode()
    assert html.index("SJKW-2026-029") < html.index("SJKW-2026-028")
    html = c.get(listing, {"sort": "amount", "page": "2"}).content.decode()
    assert "SJKW-2026-029" in html and "SJKW-2026-000" not in html
    partial = c.get(listing, {"q": "项目1"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "共 <strong>10</strong> 个项目" in partial
    assert c.get(listing, {"sort": "nonsense", "call": "x", "state": "??"}).status_code == 200
