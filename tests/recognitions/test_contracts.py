"""技术合同认定登记: the application and its refusals (duplicate, amounts, USCC, sub-type), registration and its
16-digit numbering, 未予登记 / withdrawal / cancellation, who may register; the payment plan and payments of
履约跟踪 and when a milestone is overdue. Every refusal is checked with its Chinese message and with nothing
changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings

from kechuang.core.uscc import make_code
from kechuang.recognitions import contracts, selectors
from kechuang.recognitions.models import PaymentMilestone, TechContract
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog
from tests.recognitions.conftest import (
    TODAY,
    contract_data,
    make_contract,
    messages_of,
    registered,
)

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(TechContract.objects.order_by("pk").values_list("pk", "state", "registration_no")),
        list(PaymentMilestone.objects.order_by("pk").values_list("pk", "amount", "paid_amount", "paid_on")),
        TransitionLog.objects.count(),
    )


# —— the application ——


def test_an_application_is_waiting_and_linked_to_the_seller_in_the_registry(p):
    contract = make_contract(p)

    assert contract.state == "submitted" and engine.state_label(contract) == "待登记"
    assert contract.enterprise == p.ent_a
    assert contract.registration_no is None and contract.submitted_at is not None
    assert contract.history.count() == 1


def test_a_seller_outside_the_registry_is_accepted_without_an_enterprise(p):
    outside = make_code("12310000MB0000009")
    contract = make_contract(p, seller_name="上海某大学", seller_uscc=outside)

    assert contract.enterprise is None and contract.seller_uscc == outside


def test_a_duplicate_registration_is_refused_naming_the_existing_one_and_nothing_changes(p):
    first = registered(p, contract_no="HT-2026-001")
    before = snapshot()

    with pytest.raises(ValidationError) as excinfo:
        make_contract(p, contract_no="ht-2026-001")  # the same number typed in lower case

    message = messages_of(excinfo)
    assert (
        f"卖方“上海甲科技有限公司”（统一社会信用代码 {p.ent_a.uscc}）的合同编号“HT-2026-001”已于 "
        f"{TODAY:%Y-%m-%d} 完成认定登记，合同登记编号 {first.registration_no}"
    ) in message
    assert "同一合同只能登记一次，不能重复登记" in message
    assert excinfo.value.message_dict.keys() == {"contract_no"}
    assert snapshot() == before


def test_a_second_application_while_the_first_waits_is_refused_too(p):
    make_contract(p, contract_no="ＨＴ-007")  # full-width letters are the same number
    count = TechContract.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        make_contract(p, contract_no="HT-007")

    assert "正在办理中，不能重复申请" in messages_of(excinfo)
    assert "状态：待登记" in messages_of(excinfo)
    assert TechContract.objects.count() == count


def test_the_same_contract_number_of_another_seller_is_another_contract(p):
    make_contract(p, contract_no="HT-100")
    other = make_contract(p, p.ent_b, contract_no="HT-100")

    assert other.pk and other.seller_uscc == p.ent_b.uscc


def test_a_contract_not_registered_may_be_submitted_again(p):
    refused = make_contract(p, contract_no="HT-200")
    contracts.contract_refuse(refused, user=p.carol, reason="不属于技术合同")

    again = make_contract(p, contract_no="HT-200")

    assert again.state == "submitted"


def test_the_database_refuses_a_duplicate_that_bypasses_the_service(p):
    first = make_contract(p, contract_no="HT-300")
    copy = TechContract.objects.get(pk=first.pk)
    copy.pk = None
    copy.registration_no = None

    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_a_technology_amount_above_the_total_is_refused_and_nothing_is_saved(p):
    count = TechContract.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        make_contract(p, total_amount=Decimal("1000000.00"), tech_amount=Decimal("1000000.01"))

    assert excinfo.value.message_dict["tech_amount"] == [
        "技术交易额 100.00 万元（1,000,000.01 元）超过成交额 100.00 万元（1,000,000.00 元）："
        "技术交易额是成交额中技术部分的金额，不能超过成交额"
    ]
    assert TechContract.objects.count() == count


def test_a_technology_amount_equal_to_the_total_is_accepted(p):
    contract = make_contract(p, total_amount=Decimal("500000"), tech_amount=Decimal("500000"))

    assert contract.tech_amount == contract.total_amount


def test_the_database_holds_the_amounts_when_the_service_is_bypassed(p):
    contract = make_contract(p)

    with pytest.raises(IntegrityError), transaction.atomic():
        TechContract.objects.filter(pk=contract.pk).update(tech_amount=Decimal("2000000"))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "seller_uscc",
            "91310117MA1J000010",
            "卖方统一社会信用代码“91310117MA1J000010”有误：统一社会信用代码校验位错误",
        ),
        ("seller_uscc", "9131011", "卖方统一社会信用代码“9131011”有误：统一社会信用代码应为18位，实际为7位"),
        (
            "buyer_uscc",
            "91310115MA1K0000I1",
            "买方统一社会信用代码“91310115MA1K0000I1”有误：统一社会信用代码第17位“I”不是允许的字符",
        ),
        ("total_amount", "0", "成交额须大于 0 元"),
        ("tech_amount", "-1", "技术交易额 -1 元为负数，金额不能为负"),
        ("buyer_country", "CN", "买方国别“CN”须为 3 位大写字母代码（境内为 CHN）"),
        ("buyer_region", "31011", "买方行政区划代码“31011”须为 6 位数字（GB/T 2260）"),
        ("contract_type", "purchase", "合同类型“purchase”不存在，可选：技术开发（development）"),
        ("payment_mode", "cash", "支付方式（民法典第八百四十六条）“cash”不存在"),
        ("signed_on", TODAY + dt.timedelta(days=1), f"签订日期 {TODAY + dt.timedelta(days=1)} 晚于今天"),
        ("valid_to", TODAY - dt.timedelta(days=61), "合同有效期至"),
        ("contract_no", "  ", "合同编号必须填写"),
    ],
)
def test_a_wrong_field_is_refused_with_its_value_named_and_nothing_saved(p, field, value, expected):
    count = TechContract.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        make_contract(p, **{field: value})

    assert any(expected in m for m in excinfo.value.message_dict[field]), excinfo.value.message_dict
    assert TechContract.objects.count() == count


def test_a_sub_type_of_another_type_is_refused_with_the_allowed_ones_and_the_article(p):
    with pytest.raises(ValidationError) as excinfo:
        make_contract(p, contract_type="development", sub_type="patent_right")

    assert excinfo.value.message_dict["sub_type"] == [
        "合同子类“专利权转让”不属于技术开发合同，技术开发合同的子类为：委托开发、合作开发、"
        "科技成果实施转化（参照技术开发）（民法典第八百五十一条）"
    ]


def test_the_selected_enterprise_must_be_the_seller(p):
    with pytest.raises(ValidationError) as excinfo:
        contracts.contract_create({**contract_data(p.ent_a), "enterprise": p.ent_b}, user=p.carol)

    assert "与卖方统一社会信用代码" in messages_of(excinfo)


def test_an_enterprise_user_applies_as_the_seller_whatever_it_types(p):
    data = contract_data(p.ent_b)  # B's name and USCC typed: ignored, the seller is alice's enterprise

    contract = contracts.contract_create(data, user=p.alice, enterprise=p.ent_a)

    assert (contract.enterprise, contract.seller_uscc, contract.seller_name) == (
        p.ent_a,
        p.ent_a.uscc,
        p.ent_a.name,
    )


# —— registration ——


def test_registration_numbers_are_16_digits_year_region_and_serial(p):
    year = TODAY.year
    first = registered(p)
    second = registered(p)
    last_year = registered(p, on=dt.date(year - 1, 12, 31), signed_on=dt.date(year - 1, 12, 1))

    assert first.registration_no == f"{year}310117000001"
    assert second.registration_no == f"{year}310117000002"
    assert last_year.registration_no == f"{year - 1}310117000001"
    assert all(len(c.registration_no) == 16 for c in (first, second, last_year))
    third = registered(p)
    assert third.registration_no == f"{year}310117000003"


@override_settings(RECOGNITIONS_REGION_CODE="310000")
def test_the_region_of_the_number_is_a_setting(p):
    assert registered(p).registration_no == f"{TODAY.year}310000000001"


def test_registering_records_the_number_the_date_who_and_the_step(p):
    contract = make_contract(p)

    contracts.contract_register(contract, user=p.carol, registered_on=TODAY)

    stored = TechContract.objects.get(pk=contract.pk)
    assert stored.state == "registered" and stored.registered_on == TODAY and stored.registered_by == p.carol
    log = TransitionLog.objects.get(object_id=contract.pk, transition="register")
    assert (log.from_state, log.to_state, log.actor, log.reason) == (
        "submitted",
        "registered",
        p.carol,
        f"合同登记编号 {stored.registration_no}",
    )


def test_the_registry_s_own_number_is_kept(p):
    contract = make_contract(p)

    contracts.contract_register(contract, user=p.carol, registration_no="2026310117123456")

    assert TechContract.objects.get(pk=contract.pk).registration_no == "2026310117123456"


@pytest.mark.parametrize(
    ("number", "on", "field", "expected"),
    [
        (
            "202631011712345",
            None,
            "registration_no",
            "合同登记编号“202631011712345”须为 16 位数字（现 15 位）",
        ),
        ("2026-31011712345", None, "registration_no", "须为 16 位数字"),
        (
            "",
            TODAY + dt.timedelta(days=1),
            "registered_on",
            f"登记日期 {TODAY + dt.timedelta(days=1)} 晚于今天",
        ),
        ("", TODAY - dt.timedelta(days=61), "registered_on", "早于合同签订日期"),
    ],
)
def test_a_wrong_registration_is_refused_and_nothing_changes(p, number, on, field, expected):
    contract = make_contract(p)
    before = snapshot()

    with pytest.raises(ValidationError) as excinfo:
        contracts.contract_register(contract, user=p.carol, registration_no=number, registered_on=on)

    assert any(expected in m for m in excinfo.value.message_dict[field])
    assert snapshot() == before


def test_a_number_already_given_is_refused(p):
    first = registered(p)
    contract = make_contract(p)

    with pytest.raises(ValidationError) as excinfo:
        contracts.contract_register(contract, user=p.carol, registration_no=first.registration_no)

    assert f"合同登记编号 {first.registration_no} 已用于“{first.name}”（上海甲科技有限公司）" in messages_of(
        excinfo
    )
    assert TechContract.objects.get(pk=contract.pk).state == "submitted"


def test_a_registered_contract_is_not_registered_again(p):
    contract = registered(p)

    with pytest.raises(ValidationError) as excinfo:
        contracts.contract_register(contract, user=p.carol)

    assert "合同当前状态为“已登记”，只有“待登记”的合同可以登记" in messages_of(excinfo)


@pytest.mark.parametrize("who", ["leo", "alice", "eve"])
def test_only_the_registry_registers_and_nothing_changes(p, who):
    contract = make_contract(p)
    before = snapshot()

    with pytest.raises(PermissionDenied, match="无权执行“认定登记”"):
        contracts.contract_register(contract, user=getattr(p, who))

    assert snapshot() == before


def test_not_registered_needs_its_reason(p):
    contract = make_contract(p)

    with pytest.raises(ValidationError) as excinfo:
        contracts.contract_refuse(contract, user=p.carol, reason=" ")
    assert messages_of(excinfo) == "未予登记须说明原因"
    assert TechContract.objects.get(pk=contract.pk).state == "submitted"

    contracts.contract_refuse(contract, user=p.carol, reason="合同标的为设备买卖，不属于技术合同")
    stored = TechContract.objects.get(pk=contract.pk)
    assert (stored.state, stored.decision_note, stored.registration_no) == (
        "not_registered",
        "合同标的为设备买卖，不属于技术合同",
        None,
    )
    assert (
        TransitionLog.objects.get(object_id=contract.pk, transition="refuse").reason == stored.decision_note
    )


def test_the_seller_withdraws_and_the_registry_cancels(p):
    waiting = make_contract(p)
    with pytest.raises(ValidationError) as excinfo:
        contracts.contract_withdraw(waiting, user=p.carol)  # the registry is not the seller
    assert "仅卖方“上海甲科技有限公司”的用户可以办理" in messages_of(excinfo)
    contracts.contract_withdraw(waiting, user=p.alice)
    assert TechContract.objects.get(pk=waiting.pk).state == "cancelled"

    done = registered(p)
    with pytest.raises(ValidationError):
        contracts.contract_cancel(done, user=p.carol, reason="")
    contracts.contract_cancel(done, user=p.carol, reason="双方协议解除")
    assert TechContract.objects.get(pk=done.pk).state == "cancelled"


# —— 履约跟踪 ——


def plan(contract, *amounts, start=None, note=""):
    start = start or contract.signed_on
    rows = [
        {"due_date": start + dt.timedelta(days=30 * (k + 1)), "amount": Decimal(a)}
        for k, a in enumerate(amounts)
    ]
    return contracts.payment_plan_set(contract, rows, note=note, user=None)


def test_a_plan_that_does_not_add_up_to_the_total_is_refused_unless_explained(p):
    contract = registered(p)  # 成交额 100 万元

    with pytest.raises(ValidationError) as excinfo:
        plan(contract, "300000", "600000")

    assert excinfo.value.message_dict["note"] == [
        "各期计划金额合计 90.00 万元（900,000.00 元）与成交额 100.00 万元（1,000,000.00 元）不一致"
        "（少 10.00 万元（100,000.00 元））：请调整各期金额，或在“付款计划说明”中写明原因（如提成支付的金额无法预先确定）"
    ]
    assert not PaymentMilestone.objects.exists()

    made = plan(contract, "300000", "600000", note="提成支付，剩余部分按销售额结算")
    assert [m.amount for m in made] == [Decimal("300000.00"), Decimal("600000.00")]
    assert TechContract.objects.get(pk=contract.pk).plan_note == "提成支付，剩余部分按销售额结算"


def test_a_plan_adding_up_to_the_total_is_numbered_by_date(p):
    contract = registered(p)
    rows = [
        {"due_date": TODAY + dt.timedelta(days=90), "amount": "700000"},
        {"due_date": TODAY - dt.timedelta(days=10), "amount": "300000"},
    ]

    made = contracts.payment_plan_set(contract, rows, user=p.carol)

    assert [(m.number, m.amount) for m in made] == [(1, Decimal("300000.00")), (2, Decimal("700000.00"))]


def test_a_plan_row_before_the_signing_is_refused(p):
    contract = registered(p)
    rows = [{"due_date": contract.signed_on - dt.timedelta(days=1), "amount": "1000000"}]

    with pytest.raises(ValidationError) as excinfo:
        contracts.payment_plan_set(contract, rows, user=p.carol)

    assert f"第 1 期计划付款日期 {contract.signed_on - dt.timedelta(days=1)} 早于合同签订日期" in messages_of(
        excinfo
    )


def test_a_payment_is_added_up_to_the_planned_amount_and_never_beyond(p):
    contract = registered(p)
    first, _ = plan(contract, "400000", "600000")

    contracts.payment_record(first, amount="150000", paid_on=TODAY, user=p.carol)
    contracts.payment_record(first, amount="250000", paid_on=TODAY, user=p.carol)
    assert PaymentMilestone.objects.get(pk=first.pk).paid_amount == Decimal("400000.00")

    second = PaymentMilestone.objects.get(contract=contract, number=2)
    contracts.payment_record(second, amount="100000", paid_on=TODAY, user=p.carol)
    with pytest.raises(ValidationError) as excinfo:
        contracts.payment_record(second, amount="500000.01", paid_on=TODAY, user=p.carol)
    assert excinfo.value.message_dict["amount"] == [
        "本次付款 50.00 万元（500,000.01 元）后第 2 期累计 60.00 万元（600,000.01 元），超过第 2 期计划金额 "
        "60.00 万元（600,000.00 元）（尚欠 50.00 万元（500,000.00 元））"
    ]
    assert PaymentMilestone.objects.get(pk=second.pk).paid_amount == Decimal("100000.00")
    contracts.payment_record(second, amount="500000", paid_on=TODAY, user=p.carol)  # exactly the rest
    assert PaymentMilestone.objects.get(pk=second.pk).paid_amount == Decimal("600000.00")


def test_a_payment_on_a_contract_not_registered_or_in_the_future_is_refused(p):
    waiting = make_contract(p)
    (m,) = plan(waiting, "1000000")
    with pytest.raises(ValidationError) as excinfo:
        contracts.payment_record(m, amount="1000", paid_on=TODAY, user=p.carol)
    assert "合同当前状态为“待登记”，登记后方可记录履约付款" in messages_of(excinfo)

    contracts.contract_register(waiting, user=p.carol)
    with pytest.raises(ValidationError) as excinfo:
        contracts.payment_record(m, amount="1000", paid_on=TODAY + dt.timedelta(days=1), user=p.carol)
    assert f"付款日期 {TODAY + dt.timedelta(days=1)} 晚于今天" in messages_of(excinfo)
    assert PaymentMilestone.objects.get(pk=m.pk).paid_amount == 0


def test_a_plan_is_not_changed_once_a_payment_is_recorded(p):
    contract = registered(p)
    first, _ = plan(contract, "400000", "600000")
    contracts.payment_record(first, amount="1000", paid_on=TODAY, user=p.carol)

    with pytest.raises(ValidationError) as excinfo:
        plan(contract, "1000000")

    assert "第 1 期已记录付款 0.10 万元（1,000.00 元），不能重新制定付款计划" in messages_of(excinfo)
    assert PaymentMilestone.objects.filter(contract=contract).count() == 2


def test_a_milestone_is_overdue_the_day_after_its_due_date_until_paid(p):
    contract = registered(p)
    rows = [
        {"due_date": TODAY - dt.timedelta(days=1), "amount": "300000"},
        {"due_date": TODAY, "amount": "300000"},
        {"due_date": TODAY + dt.timedelta(days=30), "amount": "400000"},
    ]
    yesterday, today, later = contracts.payment_plan_set(contract, rows, user=p.carol)

    assert (yesterday.is_overdue(TODAY), today.is_overdue(TODAY), later.is_overdue(TODAY)) == (
        True,
        False,
        False,
    )
    assert today.is_overdue(TODAY + dt.timedelta(days=1))
    summary = selectors.payment_summary(contract, TODAY)
    assert summary.behind and summary.overdue_amount == Decimal("300000.00")
    assert [r.days_overdue for r in summary.rows] == [1, 0, 0]
    assert list(selectors.behind_schedule(p.carol, on=TODAY)) == [contract]

    contracts.payment_record(yesterday, amount="299999.99", paid_on=TODAY, user=p.carol)
    assert PaymentMilestone.objects.get(pk=yesterday.pk).is_overdue(TODAY)  # one fen still owed
    contracts.payment_record(yesterday, amount="0.01", paid_on=TODAY, user=p.carol)
    assert not PaymentMilestone.objects.get(pk=yesterday.pk).is_overdue(TODAY)
    assert list(selectors.behind_schedule(p.carol, on=TODAY)) == []


def test_behind_schedule_sums_what_the_overdue_milestones_still_owe(p):
    contract = registered(p)
    rows = [
        {"due_date": TODAY - dt.timedelta(days=20), "amount": "300000"},
        {"due_date": TODAY - dt.timedelta(days=5), "amount": "300000"},
        {"due_date": TODAY + dt.timedelta(days=30), "amount": "400000"},
    ]
    first, _, _ = contracts.payment_plan_set(contract, rows, user=p.carol)
    contracts.payment_record(first, amount="100000", paid_on=TODAY, user=p.carol)
    on_time = registered(p)
    contracts.payment_plan_set(on_time, [{"due_date": TODAY, "amount": "1000000"}], user=p.carol)
    waiting = make_contract(p)  # not registered: not tracked
    contracts.payment_plan_set(
        waiting, [{"due_date": TODAY - dt.timedelta(days=9), "amount": "1000000"}], user=p.carol
    )

    (row,) = selectors.behind_schedule(p.carol, on=TODAY)

    assert row == contract
    assert (row.overdue_amount, row.overdue_count, row.first_overdue) == (
        Decimal("500000.00"),
        2,
        TODAY - dt.timedelta(days=20),
    )


def test_no_plan_for_a_contract_not_registered(p):
    refused = make_contract(p)
    contracts.contract_refuse(refused, user=p.carol, reason="不属于技术合同")

    with pytest.raises(ValidationError) as excinfo:
        plan(refused, "1000000")

    assert "合同当前状态为“未予登记”，只有待登记或已登记的合同可以制定付款计划" in messages_of(excinfo)
    assert not PaymentMilestone.objects.exists()
