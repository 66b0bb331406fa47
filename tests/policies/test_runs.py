"""免申即享 runs and the review (kechuang/policies/services.py) on the registry: who is found, the amounts and their
explanations, never twice (the database constraint, across runs), runs refused for bad periods, the same result
for the batch and for one enterprise, replay, and the review steps with their refusals."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kechuang.enterprises.models import Enterprise, EnterpriseYear, Qualification
from kechuang.policies import services
from kechuang.policies.models import Benefit, BenefitRun, PolicyDocument, PolicyFigure, PolicyItem
from kechuang.policies.periods import Period
from kechuang.workflows.models import TransitionLog
from tests.policies.conftest import INTEREST, ON, PERIOD, make_item

pytestmark = pytest.mark.django_db


def run_now(item, period=PERIOD, as_of=ON, user=None):
    return services.run_now(item=item, period_text=period, as_of=as_of, user=user)


def benefits(run):
    return {b.enterprise_id: b for b in Benefit.objects.filter(run=run)}


# --- a run ---------------------------------------------------------------------------------------------------------


def test_a_run_finds_every_newly_recognised_enterprise_and_stores_amount_explanation_and_inputs(pf):
    run = run_now(pf.item, user=pf.carol)
    assert run.status == "done" and run.state == "reviewing"
    found = benefits(run)
    # A: new in 2026 → granted. B: held since 2024, not new. C: none. D: new but deregistered.
    assert set(found) == {pf.ent_a.pk}
    a = found[pf.ent_a.pk]
    assert (a.state, a.amount, a.item_id, a.period) == ("computed", Decimal("200000.00"), pf.item.pk, "2026")
    assert a.explanation["summary"] == (
        "符合全部 2 项条件。按“奖励金额”计算：20万元 = 200,000 元；四舍五入到元为 200,000 元；本事项未设单户上限。"
        "核定金额 20万元（200,000 元）。"
    )
    assert a.inputs == {"status": "active", "new_hnte": True}
    assert run.counts == {"computed": 1, "not_eligible": 3}
    assert run.total == 4 and run.total_amount == Decimal("200000")
    assert run.definition["formula"] == "award" and run.definition["parameters"]["award"]["value"] == 200000
    assert run.message.startswith("已核定 4 家企业：核定发放 1 户，合计 20万元；待定 0 户；未予核定 0 户；")


def test_eligible_enterprises_with_missing_data_are_stored_as_undetermined_with_the_reason(pf):
    item = make_item(
        user=pf.carol,
        name="贴息（测试）",
        kind="interest",
        eligibility=[{"kind": "qualification", "qualification": "hnte", "test": "held"}],
        formula="loan_interest * rate",
        parameters=INTEREST,
        cap_per_enterprise=Decimal("100000"),
    )
    run = run_now(item)
    found = benefits(run)
    assert found[pf.ent_a.pk].amount == Decimal("100000.00")  # 32.5万 × 50% = 16.25万, capped at 10万
    assert "超过单户上限 10万元，按上限核定" in found[pf.ent_a.pk].explanation["summary"]
    b = found[pf.ent_b.pk]
    assert (b.state, b.amount) == ("undetermined", None)
    assert b.reason == "无法计算：缺少数据：贷款利息支出（本期）"
    assert run.counts == {"computed": 1, "undetermined": 1, "not_eligible": 2}


def test_the_batch_and_one_enterprise_give_the_same_result(pf):
    item = make_item(
        user=pf.carol,
        name="研发补贴（测试）",
        kind="subsidy",
        eligibility=[
            {"kind": "qualification", "qualification": "hnte", "test": "held"},
            {"kind": "compare", "column": "rd_expense_hnte_lag1", "op": ">=", "value": 2000000},
        ],
        formula="rd_expense_hnte_lag1 * rate",
        parameters={"rate": {"label": "补贴比例", "value": 0.05, "unit": "比例"}},
    )
    run = run_now(item)
    for enterprise in (pf.ent_a, pf.ent_b):
        stored = Benefit.objects.get(run=run, enterprise=enterprise)
        one = services.item_test(
            definition=item.definition(), enterprise=enterprise, period=Period.parse("2026"), on=ON
        )
        assert one.explanation == stored.full_explanation
        assert one.amount == stored.amount
    assert Benefit.objects.get(run=run, enterprise=pf.ent_a).amount == Decimal("150000.00")
    assert Benefit.objects.get(run=run, enterprise=pf.ent_b).state == "undetermined"


def test_a_run_is_replayed_exactly_from_what_it_stored(pf):
    item = make_item(
        user=pf.carol,
        name="贴息（重放）",
        kind="interest",
        formula="loan_interest * rate",
        parameters=INTEREST,
        eligibility=[{"kind": "qualification", "qualification": "hnte", "test": "held"}],
    )
    run = run_now(item)
    # Later changes to the registry and the item do not change the run.
    PolicyFigure.objects.filter(enterprise=pf.ent_a).update(value=Decimal("1"))
    replayed = {row["enterprise_id"]: row for row in services.replay(run=run).iter_rows(named=True)}
    for enterprise_id, benefit in benefits(run).items():
        assert json.loads(replayed[enterprise_id]["explanation"]) == benefit.explanation
    assert replayed[pf.ent_a.pk]["amount"] == 162_500


# --- never twice ---------------------------------------------------------------------------------------------------


def test_the_database_refuses_a_second_held_benefit_for_the_same_item_period_and_enterprise(pf):
    run = run_now(pf.item)
    other = BenefitRun.objects.create(
        item=pf.item, period="2026", as_of=ON, definition={}, workflow=run.workflow, state="cancelled"
    )
    duplicate = Benefit(
        run=other,
        enterprise=pf.ent_a,
        item=pf.item,
        period="2026",
        state="confirmed",
        amount=1,
        explanation={},
        inputs={},
    )
    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert "该企业本期已享受此项政策，同一政策同一期间不能重复兑现" in str(caught.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    # A row that is not held (excluded here) does not count, nor does another period.
    third = BenefitRun.objects.create(
        item=pf.item, period="2026", as_of=ON, definition={}, workflow=run.workflow, state="cancelled"
    )
    Benefit.objects.create(
        run=third,
        enterprise=pf.ent_a,
        item=pf.item,
        period="2026",
        state="excluded",
        amount=1,
        explanation={},
        inputs={},
    )
    Benefit.objects.create(
        run=other,
        enterprise=pf.ent_a,
        item=pf.item,
        period="2025",
        state="computed",
        amount=1,
        explanation={},
        inputs={},
    )
    held = Benefit.objects.filter(item=pf.item, enterprise=pf.ent_a, state__in=["computed", "confirmed"])
    assert sorted(held.values_list("period", flat=True)) == ["2025", "2026"]


def test_a_second_run_for_the_same_period_skips_who_is_already_granted_with_the_reason(pf):
    first = run_now(pf.item)
    services.run_transition(run=first, name="confirm", user=pf.carol)
    Qualification.objects.create(enterprise=pf.ent_c, kind="hnte", issue_date=dt.date(2026, 5, 1))
    second = run_now(pf.item)
    found = benefits(second)
    assert found[pf.ent_c.pk].state == "computed"
    a = found[pf.ent_a.pk]
    assert (a.state, a.amount) == ("skipped", None)
    assert a.reason == f"已于批次 {first.pk} 享受（已确认（待企业确认））"
    assert a.explanation["summary"].startswith(f"本期已于批次 {first.pk} 核定此项政策")
    assert (
        Benefit.objects.filter(
            item=pf.item,
            period="2026",
            enterprise=pf.ent_a,
            state__in=["computed", "confirmed", "accepted", "paid"],
        ).count()
        == 1
    )


def test_a_run_is_refused_while_another_of_the_same_period_awaits_review(pf):
    first = run_now(pf.item)
    with pytest.raises(ValidationError) as caught:
        run_now(pf.item)
    assert caught.value.message_dict["period"] == [
        f"政策事项“{pf.item.name}”2026年度已有未完成的批次 {first.pk}（已完成），请先确认或作废该批次"
    ]
    assert BenefitRun.objects.count() == 1


def test_restoring_an_excluded_benefit_granted_since_by_another_run_is_refused(pf):
    first = run_now(pf.item)
    a = Benefit.objects.get(run=first, enterprise=pf.ent_a)
    services.benefit_exclude(benefit=a, user=pf.carol, reason="材料待核")
    services.run_transition(run=first, name="cancel", user=pf.carol, reason="重新核定")
    # Cancelled: the enterprise may be granted again.
    second = run_now(pf.item)
    assert Benefit.objects.get(run=second, enterprise=pf.ent_a).state == "computed"
    # The first run is no longer under review: nothing there can be restored.
    with pytest.raises(ValidationError) as caught:
        services.benefit_restore(benefit=a, user=pf.carol)
    assert caught.value.messages == ["批次当前为“已作废”，只有待审核的批次可以恢复"]
    # Within one run under review, a restore the constraint refuses says who holds it.
    b = Benefit.objects.get(run=second, enterprise=pf.ent_a)
    services.benefit_exclude(benefit=b, user=pf.carol, reason="重复")
    third_run = BenefitRun.objects.create(
        item=pf.item, period="2026", as_of=ON, definition={}, workflow=second.workflow, state="confirmed"
    )
    Benefit.objects.create(
        run=third_run,
        enterprise=pf.ent_a,
        item=pf.item,
        period="2026",
        state="confirmed",
        amount=5,
        explanation={},
        inputs={},
    )
    with pytest.raises(ValidationError) as caught:
        services.benefit_restore(benefit=b, user=pf.carol)
    assert caught.value.messages == [
        f"上海甲科技有限公司本期已在批次 {third_run.pk} 享受此项政策（已确认（待企业确认）），不能恢复：同一政策同一期间不能重复兑现"
    ]
    b.refresh_from_db()
    assert b.state == "excluded"


# --- bad periods -------------------------------------------------------------------------------------------------


def test_a_run_for_a_period_before_the_item_took_effect_is_refused_and_nothing_is_created(pf):
    with pytest.raises(ValidationError) as caught:
        run_now(pf.item, period="2024", as_of=dt.date(2024, 12, 31))
    assert caught.value.message_dict["period"] == [
        f"兑现期间 2024年度（2024-01-01 至 2024-12-31）早于政策事项“{pf.item.name}”的施行日期 2025-11-11，"
        "该期间不适用本政策，不能兑现"
    ]
    assert not BenefitRun.objects.exists() and not Benefit.objects.exists()


def test_a_period_that_only_ends_after_the_item_took_effect_is_allowed(pf):
    run = run_now(pf.item, period="2025", as_of=dt.date(2025, 12, 31))
    assert run.status == "done"


@pytest.mark.parametrize(
    "period, as_of, field, message",
    [
        (
            "2026Q1",
            None,
            "period",
            "政策事项“新认定高新技术企业奖励（测试）”按年度兑现，兑现期间须写成年度（如 2026），收到“2026Q1”",
        ),
        ("二〇二六", None, "period", "兑现期间“二〇二六”无效：须为年度（如 2026）或季度（如 2026Q2）"),
        ("2099", None, "period", "兑现期间 2099年度 尚未开始（2099-01-01 起），不能兑现"),
        (
            "2026",
            dt.date(2025, 12, 31),
            "as_of",
            "数据截至日期 2025-12-31 须在兑现期间 2026年度（2026-01-01 至 2026-12-31）之内，且不晚于今天",
        ),
    ],
)
def test_bad_periods_are_refused_with_a_chinese_message(pf, period, as_of, field, message):
    with pytest.raises(ValidationError) as caught:
        run_now(pf.item, period=period, as_of=as_of)
    assert caught.value.message_dict[field] == [message]
    assert not BenefitRun.objects.exists()


def test_a_period_after_the_item_ended_is_refused(pf):
    item = make_item(
        user=pf.carol,
        name="已截止（测试）",
        effective_from=dt.date(2025, 11, 11),
        effective_to=dt.date(2025, 12, 31),
    )
    with pytest.raises(ValidationError) as caught:
        run_now(item, period="2026")
    assert caught.value.message_dict["period"] == [
        "兑现期间 2026年度（自 2026-01-01 起）晚于政策事项“已截止（测试）”的截止日期 2025-12-31，不能兑现"
    ]


def test_a_draft_item_cannot_be_run(pf):
    draft = make_item(user=pf.carol, name="草稿（测试）", publish=False)
    with pytest.raises(ValidationError) as caught:
        run_now(draft)
    assert caught.value.message_dict["item"] == [
        "政策事项“草稿（测试）”当前为“草稿”，只有已发布的事项可以兑现"
    ]


# --- items: checked at save, edited only as drafts -----------------------------------------------------------------


def test_an_item_naming_a_missing_field_is_refused_at_save_and_not_saved(pf):
    document = PolicyDocument.objects.get(catalogue_key="husongfu-2025-150")
    item = PolicyItem(
        document=document,
        name="错误事项",
        kind="award",
        effective_from=dt.date(2026, 1, 1),
        formula="loan_intrest * 0.5",
        eligibility=[{"kind": "compare", "column": "rd_expens", "op": ">=", "value": 1}],
    )
    with pytest.raises(ValidationError) as caught:
        services.item_save(item=item, user=pf.carol)
    assert caught.value.message_dict == {
        "eligibility": ["第 1 项条件：未知的数据列 'rd_expens'（可用的数据列见编辑页的“可用数据列”）"],
        "formula": ["第 1 个字符处：未知的名称“loan_intrest”：既不是数据列，也不是本政策事项的参数"],
    }
    assert not PolicyItem.objects.filter(name="错误事项").exists()


def test_an_article_of_another_document_and_reversed_dates_are_refused(pf):
    other = PolicyDocument.objects.get(catalogue_key="songkewei-2026-13").articles.first()
    item = PolicyItem(
        document=pf.item.document,
        article=other,
        name="x",
        kind="award",
        formula="100",
        effective_from=dt.date(2026, 5, 1),
        effective_to=dt.date(2026, 4, 30),
    )
    with pytest.raises(ValidationError) as caught:
        services.item_save(item=item, user=pf.carol)
    assert caught.value.message_dict["article"][0].startswith(
        "条款“（一）推动重大规划和政策落地见效”不属于政策文件"
    )
    assert caught.value.message_dict["effective_to"] == ["截止日期 2026-04-30 早于施行日期 2026-05-01"]


def test_a_published_item_is_not_edited_until_taken_back_to_draft(pf):
    pf.item.formula = "award * 2"
    with pytest.raises(ValidationError) as caught:
        services.item_save(item=pf.item, user=pf.carol)
    assert caught.value.messages == [
        f"政策事项“{pf.item.name}”当前为“已发布”，只有草稿可以修改；请先“撤回修改”"
    ]
    assert PolicyItem.objects.get(pk=pf.item.pk).formula == "award"
    services.item_transition(item=pf.item, name="unpublish", user=pf.carol, reason="调整金额")
    pf.item.refresh_from_db()
    pf.item.formula = "award * 2"
    services.item_save(item=pf.item, user=pf.carol)
    assert PolicyItem.objects.get(pk=pf.item.pk).formula == "award * 2"


def test_an_item_cannot_be_taken_back_while_a_run_awaits_review(pf):
    run_now(pf.item)
    with pytest.raises(ValidationError) as caught:
        services.item_transition(item=pf.item, name="unpublish", user=pf.carol)
    assert caught.value.messages == ["该事项尚有 1 个批次待审核，请先确认或作废"]


def test_a_run_keeps_the_definition_it_was_computed_with(pf):
    run = run_now(pf.item)
    services.run_transition(run=run, name="confirm", user=pf.carol)
    services.item_transition(item=pf.item, name="unpublish", user=pf.carol)
    pf.item.refresh_from_db()
    pf.item.parameters = {"award": {"label": "奖励金额", "value": 1, "unit": "元"}}
    services.item_save(item=pf.item, user=pf.carol)
    run.refresh_from_db()
    assert run.definition["parameters"]["award"]["value"] == 200000
    assert json.loads(services.replay(run=run)["explanation"][0]) == Benefit.objects.get(run=run).explanation


# --- review, acceptance, payment -------------------------------------------------------------------------------------


def test_confirm_accept_pay_and_close(pf):
    run = run_now(pf.item)
    a = Benefit.objects.get(run=run, enterprise=pf.ent_a)
    services.run_transition(run=run, name="confirm", user=pf.carol, reason="审核通过")
    a.refresh_from_db()
    assert (a.state, a.decided_by) == ("confirmed", pf.carol)
    # Only the enterprise's own user accepts.
    with pytest.raises(ValidationError) as caught:
        services.benefit_accept(benefit=a, user=pf.bob)
    assert caught.value.messages == ["仅上海甲科技有限公司的用户可以确认领受"]
    services.benefit_accept(benefit=a, user=pf.alice)
    a.refresh_from_db()
    assert (a.state, a.accepted_by) == ("accepted", pf.alice)
    with pytest.raises(ValidationError) as caught:
        services.benefit_accept(benefit=a, user=pf.alice)
    assert caught.value.messages == ["该兑现当前为“企业已确认”，不能确认领受"]
    assert services.run_pay(run=run, user=pf.carol, note="凭证 2026-001") == 1
    a.refresh_from_db()
    assert a.state == "paid" and a.paid_at is not None
    run = services.run_transition(run=run, name="close", user=pf.carol)
    assert run.state == "closed"
    steps = list(
        TransitionLog.objects.filter(object_id__in=[run.pk, a.pk]).values_list("transition", flat=True)
    )
    assert {"confirm", "accept", "pay", "close"} <= set(steps)


def test_closing_waits_for_every_confirmed_benefit(pf):
    run = run_now(pf.item)
    services.run_transition(run=run, name="confirm", user=pf.carol)
    with pytest.raises(ValidationError) as caught:
        services.run_transition(run=run, name="close", user=pf.carol)
    assert caught.value.messages == ["尚有 1 户未拨付（待企业确认或待登记拨付），不能结案"]


def test_exclude_needs_a_reason_and_a_run_under_review(pf):
    run = run_now(pf.item)
    a = Benefit.objects.get(run=run, enterprise=pf.ent_a)
    with pytest.raises(ValidationError) as caught:
        services.benefit_exclude(benefit=a, user=pf.carol, reason="  ")
    assert caught.value.message_dict == {"reason": ["请填写剔除的原因"]}
    a.refresh_from_db()
    assert a.state == "computed"
    services.benefit_exclude(benefit=a, user=pf.carol, reason="企业存在失信记录")
    a.refresh_from_db()
    assert (a.state, a.reason) == ("excluded", "企业存在失信记录")
    services.benefit_restore(benefit=a, user=pf.carol)
    a.refresh_from_db()
    assert a.state == "computed" and a.reason == ""
    services.run_transition(run=run, name="confirm", user=pf.carol)
    with pytest.raises(ValidationError) as caught:
        services.benefit_exclude(benefit=Benefit.objects.get(pk=a.pk), user=pf.carol, reason="迟了")
    assert caught.value.messages == ["批次当前为“已确认”，只有待审核的批次可以剔除"]


def test_cancel_needs_a_reason_and_excludes_every_computed_benefit(pf):
    run = run_now(pf.item)
    with pytest.raises(ValidationError) as caught:
        services.run_transition(run=run, name="cancel", user=pf.carol, reason="")
    assert caught.value.message_dict == {"reason": ["请填写作废的原因"]}
    assert BenefitRun.objects.get(pk=run.pk).state == "reviewing"
    services.run_transition(run=run, name="cancel", user=pf.carol, reason="参数有误")
    assert list(Benefit.objects.filter(run=run).values_list("state", "reason")) == [
        ("excluded", "批次作废：参数有误")
    ]


def test_only_officers_may_confirm(pf):
    run = run_now(pf.item)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.run_transition(run=run, name="confirm", user=pf.leo)
    assert BenefitRun.objects.get(pk=run.pk).state == "reviewing"


# --- budget across runs ----------------------------------------------------------------------------------------------


def test_a_second_run_uses_only_what_is_left_of_the_budget(pf):
    item = make_item(user=pf.carol, name="限额奖励（测试）", budget=Decimal("300000"))
    first = run_now(item)
    services.run_transition(run=first, name="confirm", user=pf.carol)
    Qualification.objects.create(enterprise=pf.ent_c, kind="hnte", issue_date=dt.date(2026, 5, 1))
    second = run_now(item)
    c = Benefit.objects.get(run=second, enterprise=pf.ent_c)
    assert second.budget_available == Decimal("100000.00")
    assert c.amount == Decimal("100000.00")
    assert "本期预算余额 100,000 元" in c.explanation["summary"]


def test_the_demo_command_loads_items_runs_and_is_idempotent(pf):
    from django.core.management import call_command

    call_command("demo_policies", verbosity=0)
    items = PolicyItem.objects.filter(is_demo=True)
    assert items.count() == 4 and set(items.values_list("state", flat=True)) == {"published"}
    runs = BenefitRun.objects.count()
    call_command("demo_policies", verbosity=0)
    assert PolicyItem.objects.filter(is_demo=True).count() == 4 and BenefitRun.objects.count() == runs
    assert Enterprise.objects.count() == 4 and EnterpriseYear.objects.exists()


def test_the_lean_read_gives_the_same_values_as_the_whole_situation(pf):
    """A run that needs only yearly figures and certificates reads the registry lean; the columns it reads are
    the same as the whole situation's (tiering.situation)."""
    from kechuang.enterprises.models import Enterprise as E
    from kechuang.policies.frame import policy_frame

    EnterpriseYear.objects.create(
        enterprise=pf.ent_b, year=2024, rd_expense_hnte=Decimal("1234.5"), employees=7
    )
    EnterpriseYear.objects.filter(enterprise=pf.ent_a, year=2025).update(sales_revenue=Decimal("99.99"))
    Qualification.objects.create(enterprise=pf.ent_c, kind="tech_sme", issue_date=dt.date(2026, 1, 5))
    columns = [
        "status",
        "held_hnte",
        "new_hnte",
        "hnte_valid",
        "tech_sme_valid",
        "rd_expense_hnte_lag1",
        "rd_expense_hnte_lag2",
        "sales_revenue_lag1",
        "employees_lag1",
        "registration_date",
        "in_shanghai",
        "resident_in_china",
        "loan_interest",
    ]
    period = Period.parse("2026")
    lean = policy_frame(enterprises=E.objects.all(), on=ON, period=period, assessed=False, columns=columns)
    whole = policy_frame(enterprises=E.objects.all(), on=ON, period=period, assessed=False, columns=None)
    assert (
        lean.select(["enterprise_id", *columns]).to_dicts()
        == whole.select(["enterprise_id", *columns]).to_dicts()
    )
    assert lean["rd_expense_hnte_lag2"].to_list() == [None, 1234.5, None, None]
    assert whole["ip_class_i_count"].to_list() == [0, 0, 0, 0] and lean["ip_class_i_count"].null_count() == 4
