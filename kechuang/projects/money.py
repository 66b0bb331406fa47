"""Writes of the money closed loop: the award (任务书) with its milestones, milestone reports and acceptance,
disbursement of a tranche, expenditure reports, and the 中期检查/验收/绩效评价 records.

Every refusal is a ValidationError with Chinese messages naming the field and the value; nothing is saved when
one is raised (each function is one transaction). The money invariant — an award's disbursed total never exceeds
its amount, a tranche is paid once — is checked here under a row lock on the award and held in the end by the
database (check constraint `award_disbursed_within_amount`, unique Disbursement.milestone).

Audit: state moves of workflow objects go through `engine.take` (TransitionLog with who, when, why): the
application's reviewed → approved when its award is issued, the award's move on a passed acceptance when its
workflow defines one. Milestone moves (report, accept, return) are written to the same TransitionLog, under the
award's workflow version, with the return reason; a disbursement is its own immutable row (who, when, voucher).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kechuang.core.parsing import CENT, MAX_AMOUNT, yuan  # noqa: F401 (yuan: the views write amounts with it)
from kechuang.core.parsing import collect as _collect
from kechuang.core.parsing import date as _date
from kechuang.core.parsing import history_user as _history_user
from kechuang.core.parsing import money as _money
from kechuang.core.parsing import text as _text
from kechuang.projects.guards import FAILED_CONCLUSIONS
from kechuang.projects.models import (
    Application,
    Award,
    BudgetCategory,
    Disbursement,
    Evaluation,
    EvaluationKind,
    Expenditure,
    Milestone,
    MilestoneState,
)
from kechuang.workflows import engine
from kechuang.workflows.models import TransitionLog, WorkflowModel

AWARD_WORKFLOW = "projects.award"
# Application states from which an award may be issued (the application workflow: reviewed → approved).
AWARDABLE_STATES = ("reviewed", "approved")
APPROVED_STATE = "approved"
# The award's state once an evaluation is recorded (projects/workflows.py), moved where the award's workflow
# version leads there from its current state and the user may take that step.
STATE_AFTER = {
    EvaluationKind.MID_TERM: "mid_term_checked",
    EvaluationKind.PERFORMANCE: "evaluated",
}
ACCEPTANCE_STATES = ("accepted", "failed")  # 验收通过, 验收不通过 (FAILED_CONCLUSIONS)


# --- helpers ------------------------------------------------------------------------------------------


def _count(value: Any, label: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{label}“{value}”不是整数")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError(f"{label}“{value}”不是整数") from None
    if number < 0:
        raise ValidationError(f"{label} {number} 为负数，不能为负")
    return number


def _log(obj, workflow, name: str, before: str, after: str, user, reason: str = "") -> None:
    """A step on an object that is not itself a WorkflowModel (a milestone), in the workflow log."""
    TransitionLog.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        workflow=workflow,
        transition=name,
        from_state=before,
        to_state=after,
        actor=user if getattr(user, "is_authenticated", False) else None,
        reason=reason,
    )


def _advance_to(obj: WorkflowModel, to_state: str, user, reason: str = "", *, strict: bool) -> bool:
    """Take the transition of the object's own workflow version leading from its state to `to_state`, if
    there is exactly one; the engine checks permission and guards again and logs it. False when none applies.
    strict: a refusal (permission, guard) is raised; otherwise the move is left for someone who may take it
    (the workflow inbox offers it) and False is returned."""
    candidates = [
        t
        for t in obj.workflow.definition.get("transitions", [])
        if obj.state in t.get("from", []) and t.get("to") == to_state
    ]
    if len(candidates) != 1:
        return False
    name = candidates[0]["name"]
    if not strict and not any(o.name == name and o.allowed for o in engine.options(obj, user)):
        return False
    engine.take(obj, name, user, reason)
    return True


# --- award (任务书) ----------------------------------------------------------------------------------------


def award_errors(
    application: Application,
    *,
    amount: Any,
    contract_no: Any,
    start_date: Any,
    end_date: Any,
    milestones: list[dict],
) -> tuple[dict[str, list[str]], dict]:
    """What is wrong with an award, field by field (empty when nothing), and the parsed values."""
    errors: dict[str, list[str]] = {}
    call = application.call
    amount = _collect(errors, "amount", _money, amount, "资助金额", allow_zero=False)
    if amount is not None:
        if amount > call.cap_per_project:
            errors.setdefault("amount", []).append(
                f"资助金额 {yuan(amount)}超过本批次“{call.title}”的单项资助上限 {yuan(call.cap_per_project)}"
            )
        if amount > application.requested_amount:
            errors.setdefault("amount", []).append(
                f"资助金额 {yuan(amount)}超过申报单位申请的资助 {yuan(application.requested_amount)}"
            )
    contract_no = _text(contract_no)
    if not contract_no:
        errors.setdefault("contract_no", []).append("任务书编号必须填写")
    elif len(contract_no) > 40:
        errors.setdefault("contract_no", []).append(f"任务书编号“{contract_no}”超过 40 个字符")
    else:
        existing = Award.objects.filter(contract_no=contract_no).select_related("application").first()
        if existing:
            errors.setdefault("contract_no", []).append(
                f"任务书编号“{contract_no}”已被“{existing.application.title}”使用，编号不能重复"
            )
    start = _collect(errors, "start_date", _date, start_date, "开始日期")
    end = _collect(errors, "end_date", _date, end_date, "结束日期")
    if start and end and end <= start:
        errors.setdefault("end_date", []).append(f"结束日期 {end} 须晚于开始日期 {start}")
    if application.state not in AWARDABLE_STATES:
        errors.setdefault("application", []).append(
            f"申报“{application.title}”当前状态为“{engine.state_label(application)}”，"
            "只有已评审或已批准的申报可以立项"
        )
    if Award.objects.filter(application=application).exists():
        errors.setdefault("application", []).append(f"申报“{application.title}”已立项，不能重复下达任务书")

    parsed = []
    rows = list(milestones or [])
    if not rows:
        errors.setdefault("milestones", []).append("任务书至少须有一个里程碑节点")
    period_ok = bool(start and end and end > start)
    for number, row in enumerate(rows, 1):
        where = f"第 {number} 个节点"
        row_errors: dict[str, list[str]] = {}
        title = _text(row.get("title"))
        deliverables = _text(row.get("deliverables"))
        if not title:
            row_errors.setdefault("m", []).append(f"{where}：节点名称必须填写")
        elif len(title) > 200:
            row_errors.setdefault("m", []).append(f"{where}：节点名称超过 200 个字符")
        if not deliverables:
            row_errors.setdefault("m", []).append(f"{where}：交付物必须填写")
        due = _collect(row_errors, "due", _date, row.get("due_date"), f"{where}：计划完成日期")
        if due and period_ok and not start <= due <= end:
            row_errors.setdefault("m", []).append(
                f"{where}：计划完成日期 {due} 不在任务书期限 {start} 至 {end} 之内"
            )
        tranche = _collect(row_errors, "tranche", _money, row.get("tranche"), f"{where}：对应拨款")
        for messages in row_errors.values():
            errors.setdefault("milestones", []).extend(messages)
        parsed.append({"title": title, "deliverables": deliverables, "due_date": due, "tranche": tranche})
    tranches = [p["tranche"] for p in parsed]
    if amount is not None and tranches and all(t is not None for t in tranches):
        total = sum(tranches, Decimal("0"))
        if total != amount:
            errors.setdefault("milestones", []).append(
                f"各节点拨款合计 {yuan(total)}与资助金额 {yuan(amount)}不符"
                f"（相差 {yuan(abs(total - amount))}），须恰好相等"
            )
    values = {
        "amount": amount,
        "contract_no": contract_no,
        "start_date": start,
        "end_date": end,
        "milestones": parsed,
    }
    return errors, values


@transaction.atomic
def award(
    application: Application,
    *,
    amount: Any,
    contract_no: Any,
    start_date: Any,
    end_date: Any,
    milestones: list[dict],
    user,
) -> Award:
    """立项: issue the 任务书 for an application that has been reviewed or approved. The amount may not exceed
    the call's cap per project nor the amount applied for; the milestones' tranches must sum exactly to the
    amount and fall due within the award period. A reviewed application is moved to approved (logged)."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("call", "workflow")
        .get(pk=application.pk)
    )
    errors, values = award_errors(
        application,
        amount=amount,
        contract_no=contract_no,
        start_date=start_date,
        end_date=end_date,
        milestones=milestones,
    )
    if errors:
        raise ValidationError(errors)
    result = Award(
        application=application,
        contract_no=values["contract_no"],
        amount=values["amount"],
        approved_at=timezone.now(),
        approved_by=user if getattr(user, "is_authenticated", False) else None,
        start_date=values["start_date"],
        end_date=values["end_date"],
    )
    engine.start(result, AWARD_WORKFLOW)
    try:
        with transaction.atomic():
            _history_user(result, user).save()
            for number, row in enumerate(values["milestones"], 1):
                _history_user(Milestone(award=result, number=number, **row), user).save()
    except IntegrityError:
        # A concurrent award took the contract number or the application between our check and the insert.
        raise ValidationError(
            {"contract_no": [f"任务书编号“{values['contract_no']}”或该申报已被同时立项，请刷新后重试"]}
        ) from None
    if application.state != APPROVED_STATE:
        # The 立项 decision itself: refused (and the award with it) when the user may not approve or a guard
        # of the approve step says no (e.g. the call's budget).
        _advance_to(application, APPROVED_STATE, user, reason=f"下达任务书 {result.contract_no}", strict=True)
    return result


# --- milestones ------------------------------------------------------------------------------------------


def _locked_milestone(milestone: Milestone) -> Milestone:
    return (
        Milestone.objects.select_for_update(of=("self",))
        .select_related("award__workflow")
        .get(pk=milestone.pk)
    )


def _state_error(m: Milestone, action: str, allowed: tuple[str, ...]) -> ValidationError:
    wanted = "、".join(f"“{MilestoneState(s).label}”" for s in allowed)
    return ValidationError(
        {
            "state": f"第 {m.number} 个节点“{m.title}”当前为“{m.get_state_display()}”，"
            f"只有{wanted}的节点可以{action}"
        }
    )


def _sync(target: Milestone, source: Milestone) -> Milestone:
    for name in ("state", "report", "reported_at", "accepted_at", "accepted_by_id"):
        setattr(target, name, getattr(source, name))
    return target


@transaction.atomic
def report_milestone(milestone: Milestone, text: Any, user) -> Milestone:
    """The enterprise reports a planned (or returned) milestone as done, with its report."""
    m = _locked_milestone(milestone)
    allowed = (MilestoneState.PLANNED, MilestoneState.RETURNED)
    if m.state not in allowed:
        raise _state_error(m, "提交节点报告", allowed)
    text = _text(text)
    if not text:
        raise ValidationError({"report": "节点报告必须填写（完成情况与交付物说明）"})
    before = m.state
    m.state = MilestoneState.REPORTED
    m.report = text
    m.reported_at = timezone.now()
    _history_user(m, user).save(update_fields=["state", "report", "reported_at"])
    _log(m, m.award.workflow, "report_milestone", before, m.state, user)
    return _sync(milestone, m)


@transaction.atomic
def accept_milestone(milestone: Milestone, user) -> Milestone:
    """The commission accepts a reported milestone; its tranche may then be disbursed."""
    m = _locked_milestone(milestone)
    if m.state != MilestoneState.REPORTED:
        raise _state_error(m, "验收", (MilestoneState.REPORTED,))
    before = m.state
    m.state = MilestoneState.ACCEPTED
    m.accepted_at = timezone.now()
    m.accepted_by = user if getattr(user, "is_authenticated", False) else None
    _history_user(m, user).save(update_fields=["state", "accepted_at", "accepted_by"])
    _log(m, m.award.workflow, "accept_milestone", before, m.state, user)
    return _sync(milestone, m)


@transaction.atomic
def return_milestone(milestone: Milestone, reason: Any, user) -> Milestone:
    """The commission returns a reported milestone for rework, saying why (kept in the log)."""
    m = _locked_milestone(milestone)
    if m.state != MilestoneState.REPORTED:
        raise _state_error(m, "退回", (MilestoneState.REPORTED,))
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": "退回须说明原因"})
    before = m.state
    m.state = MilestoneState.RETURNED
    _history_user(m, user).save(update_fields=["state"])
    _log(m, m.award.workflow, "return_milestone", before, m.state, user, reason)
    return _sync(milestone, m)


# --- disbursement ------------------------------------------------------------------------------------------

NOT_ACCEPTED = "该节点尚未验收，不能拨付"


@transaction.atomic
def disburse(milestone: Milestone, *, user, voucher_no: Any = "") -> Disbursement:
    """Pay an accepted milestone's tranche: one transaction under a lock on the award row. Refused when the
    milestone is not accepted, already paid, has no tranche, the award failed its acceptance (验收不通过), or
    the award's disbursed total would exceed its amount; the database's constraints are the last line (caught
    and told in Chinese; nothing written)."""
    voucher_no = _text(voucher_no)
    if len(voucher_no) > 40:
        raise ValidationError({"voucher_no": f"凭证号“{voucher_no}”超过 40 个字符"})
    # Lock order: the award, then its milestone (the milestone steps lock only the milestone row: no cycle).
    locked_award = Award.objects.select_for_update().get(pk=milestone.award_id)
    m = Milestone.objects.select_for_update().get(pk=milestone.pk)
    where = f"第 {m.number} 个节点“{m.title}”"
    if m.state != MilestoneState.ACCEPTED:
        raise ValidationError({"milestone": f"{NOT_ACCEPTED}（{where}当前为“{m.get_state_display()}”）"})
    paid = Disbursement.objects.filter(milestone=m).first()
    if paid:
        raise ValidationError({"milestone": _already_paid(where, paid)})
    failed = Evaluation.objects.filter(
        award=locked_award, kind=EvaluationKind.ACCEPTANCE, conclusion__in=FAILED_CONCLUSIONS
    ).first()
    if failed:
        raise ValidationError({"milestone": f"项目验收结论为“{failed.conclusion}”，不能继续拨付"})
    if m.tranche <= 0:
        raise ValidationError({"milestone": f"{where}没有对应拨款（{yuan(m.tranche)}），无需拨付"})
    after = locked_award.disbursed + m.tranche
    if after > locked_award.amount:
        raise ValidationError({"amount": _over_amount(locked_award, m.tranche)})
    try:
        with transaction.atomic():
            payment = Disbursement(
                award=locked_award,
                milestone=m,
                amount=m.tranche,
                paid_by=user if getattr(user, "is_authenticated", False) else None,
                voucher_no=voucher_no,
            )
            _history_user(payment, user).save()
            Award.objects.filter(pk=locked_award.pk).update(disbursed=F("disbursed") + m.tranche)
    except IntegrityError:
        paid = Disbursement.objects.filter(milestone=m).first()
        if paid:
            raise ValidationError({"milestone": _already_paid(where, paid)}) from None
        current = Award.objects.get(pk=locked_award.pk)
        raise ValidationError({"amount": _over_amount(current, m.tranche)}) from None
    locked_award.refresh_from_db(fields=["disbursed"])
    cached = milestone._state.fields_cache.get("award")
    if cached is not None:
        cached.disbursed = locked_award.disbursed
    return payment


def _already_paid(where: str, paid: Disbursement) -> str:
    voucher = f"，凭证号 {paid.voucher_no}" if paid.voucher_no else ""
    when = timezone.localtime(paid.paid_at).strftime("%Y-%m-%d %H:%M")
    return f"{where}已于 {when} 拨付 {yuan(paid.amount)}{voucher}，不能重复拨付"


def _over_amount(a: Award, tranche: Decimal) -> str:
    return (
        f"拨付后累计 {yuan(a.disbursed + tranche)}将超过资助金额 {yuan(a.amount)}"
        f"（已拨付 {yuan(a.disbursed)}，本次 {yuan(tranche)}）"
    )


# --- expenditure -----------------------------------------------------------------------------------------------


@transaction.atomic
def report_expenditure(
    award: Award,
    period_end: Any,
    amounts: dict[str, Any],
    user,
    *,
    note: Any = "",
    today: dt.date | None = None,
) -> list[str]:
    """A use-of-funds report: amounts spent from the subsidy in the period ending `period_end`, by budget
    category (BudgetCategory values). Stored per category; returns the variance warnings (Chinese) — a category
    whose cumulative spending exceeds its budget line (超支), total spending beyond what was disbursed."""
    today = today or timezone.localdate()
    locked = Award.objects.select_for_update().get(pk=award.pk)
    errors: dict[str, list[str]] = {}
    period = _collect(errors, "period_end", _date, period_end, "截至日期")
    if period and period < locked.start_date:
        errors.setdefault("period_end", []).append(f"截至日期 {period} 早于项目开始日期 {locked.start_date}")
    if period and period > today:
        errors.setdefault("period_end", []).append(f"截至日期 {period} 晚于今天 {today}，不能填报将来的支出")
    labels = dict(BudgetCategory.choices)
    parsed: dict[str, Decimal] = {}
    if not amounts:
        errors.setdefault("amounts", []).append("至少须填写一个预算科目的支出")
    for category, value in (amounts or {}).items():
        if category not in labels:
            allowed = "、".join(f"{k}（{v}）" for k, v in labels.items())
            errors.setdefault("amounts", []).append(f"预算科目“{category}”不存在，可用：{allowed}")
            continue
        number = _collect(errors, category, _money, value, f"{labels[category]}支出")
        if number is not None:
            parsed[category] = number
    note = _text(note)
    if len(note) > 300:
        errors.setdefault("note", []).append("说明超过 300 个字符")
    if period and parsed:
        taken = list(
            Expenditure.objects.filter(award=locked, period_end=period, category__in=parsed).values_list(
                "category", flat=True
            )
        )
        if taken:
            names = "、".join(labels[c] for c in taken)
            errors.setdefault("period_end", []).append(f"截至 {period} 的{names}支出已填报，不能重复填报")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            for category, number in parsed.items():
                line = Expenditure(
                    award=locked,
                    period_end=period,
                    category=category,
                    amount=number,
                    note=note,
                    reported_by=user if getattr(user, "is_authenticated", False) else None,
                )
                _history_user(line, user).save()
    except IntegrityError:
        raise ValidationError({"period_end": f"截至 {period} 的支出已被同时填报，请刷新后核对"}) from None
    return expenditure_warnings(locked)


def expenditure_warnings(award: Award) -> list[str]:
    """超支 per category (cumulative spending over 100% of its budget line's subsidy) and spending beyond
    what was disbursed, as Chinese sentences."""
    from kechuang.projects.money_selectors import expenditure_vs_budget

    report = expenditure_vs_budget(award)
    warnings = []
    for row in report.rows:
        if not row.over:
            continue
        if row.budget:
            warnings.append(
                f"{row.label}超支：累计支出 {yuan(row.spent)}，为预算 {yuan(row.budget)}的 {row.pct}%"
                f"（超出 {yuan(row.spent - row.budget)}）"
            )
        else:
            warnings.append(f"{row.label}超支：累计支出 {yuan(row.spent)}，预算未列该科目资助")
    if report.spent_total > report.disbursed:
        warnings.append(
            f"支出超过已拨付：累计支出 {yuan(report.spent_total)}，已拨付 {yuan(report.disbursed)}"
            f"（超出 {yuan(report.spent_total - report.disbursed)}）"
        )
    return warnings


# --- evaluations ---------------------------------------------------------------------------------------------


@transaction.atomic
def evaluate(
    award: Award,
    kind: Any,
    *,
    held_on: Any,
    patents: Any = None,
    revenue: Any = None,
    jobs: Any = None,
    score: Any = None,
    conclusion: Any,
    opinion: Any = "",
    user,
    today: dt.date | None = None,
) -> Evaluation:
    """Record the award's 中期检查, 验收 or 绩效评价 (one of each), then move the award on where its workflow
    leads from its state (中期检查 → 已中期检查, 验收 → 验收通过/验收不通过 by the conclusion, 绩效评价 → 已绩效评价)
    and the user may take that step; otherwise the step waits in the workflow inbox."""
    today = today or timezone.localdate()
    locked = Award.objects.select_for_update(of=("self",)).select_related("workflow").get(pk=award.pk)
    errors: dict[str, list[str]] = {}
    labels = dict(EvaluationKind.choices)
    if kind not in labels:
        allowed = "、".join(f"{k}（{v}）" for k, v in labels.items())
        errors.setdefault("kind", []).append(f"类别“{kind}”不存在，可用：{allowed}")
    elif Evaluation.objects.filter(award=locked, kind=kind).exists():
        errors.setdefault("kind", []).append(
            f"项目 {locked.contract_no} 已有{labels[kind]}记录，每类只能一条"
        )
    held = _collect(errors, "held_on", _date, held_on, "日期")
    if held and held < locked.start_date:
        errors.setdefault("held_on", []).append(f"日期 {held} 早于项目开始日期 {locked.start_date}")
    if held and held > today:
        errors.setdefault("held_on", []).append(f"日期 {held} 晚于今天 {today}")
    patents = _collect(errors, "patents", _count, patents, "专利（件）")
    jobs = _collect(errors, "jobs", _count, jobs, "新增就业（人）")
    if revenue is not None and not (isinstance(revenue, str) and not revenue.strip()):
        revenue = _collect(errors, "revenue", _money, revenue, "新增销售收入")
    else:
        revenue = None
    if score is not None and not (isinstance(score, str) and not score.strip()):
        score = _collect(errors, "score", _score, score)
    else:
        score = None
    conclusion = _text(conclusion)
    if not conclusion:
        errors.setdefault("conclusion", []).append(
            "结论必须填写（如 通过、不通过、优秀、良好、合格、不合格）"
        )
    elif len(conclusion) > 20:
        errors.setdefault("conclusion", []).append(f"结论“{conclusion}”超过 20 个字符")
    if errors:
        raise ValidationError(errors)
    record = Evaluation(
        award=locked,
        kind=kind,
        held_on=held,
        patents=patents,
        revenue=revenue,
        jobs=jobs,
        score=score,
        conclusion=conclusion,
        opinion=_text(opinion),
    )
    try:
        with transaction.atomic():
            _history_user(record, user).save()
    except IntegrityError:
        raise ValidationError(
            {"kind": f"项目 {locked.contract_no} 已有{labels[kind]}记录，每类只能一条"}
        ) from None
    if kind == EvaluationKind.ACCEPTANCE:
        passed, failed = ACCEPTANCE_STATES
        target = failed if conclusion in FAILED_CONCLUSIONS else passed
    else:
        target = STATE_AFTER[kind]
    _advance_to(locked, target, user, reason=f"{labels[kind]}：{conclusion}", strict=False)
    award.state = locked.state
    return record


def _score(value: Any) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"评价得分“{value}”不是数字") from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        raise ValidationError(f"评价得分 {value} 不在 0–100 之内")
    if number != number.quantize(CENT):
        raise ValidationError(f"评价得分 {value} 超过两位小数")
    return number
