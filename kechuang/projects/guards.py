"""The checks the project workflows name in their transitions ("guards" of kechuang/workflows/engine.py).

A guard is `guard(obj, user) -> None | str`: None when the transition may be taken, otherwise the Chinese
reason it may not. The guards here depend only on the models (dates, money, review assignments, evaluations);
`complete_form` and `eligible` hand over to the application form and eligibility services
(kechuang.projects.applications.form_errors, kechuang.projects.eligibility.check), imported when first used.
The deadline is inclusive, as projects/calls.py's `accepting_refusal` has it: a submission stamped exactly at
截止时间 is accepted, one a second later is not.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from kechuang.core.money import format_wan
from kechuang.enterprises.models import Membership

# Application states that still await a decision: a call cannot be decided while any is in one of them.
APPLICATION_PENDING = ("submitted", "returned", "formally_passed", "under_review", "reviewed")
# An acceptance evaluation with one of these conclusions is a failed acceptance (验收不通过).
FAILED_CONCLUSIONS = ("不通过", "不合格")


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# —— 申报批次 ——


def call_ready(call, user=None) -> str | None:
    """A call may be opened only with a form, a score sheet and a closing time still ahead."""
    missing = [name for name, value in (("申报书", call.form), ("评分表", call.score_sheet)) if not value]
    if missing:
        return f"申报批次尚未设置{'、'.join(missing)}"
    if call.closes_at <= timezone.now():
        return f"截止时间 {_local(call.closes_at)} 已过，不能发布"
    return None


def deadline_passed(call, user=None) -> str | None:
    if timezone.now() <= call.closes_at:
        return f"申报截止时间 {_local(call.closes_at)} 未到"
    return None


def applications_decided(call, user=None) -> str | None:
    pending = call.applications.filter(state__in=APPLICATION_PENDING).count()
    if pending:
        return f"本批次尚有 {pending} 项申报未作出立项决定"
    return None


# —— 项目申报 ——


def applicant(application, user) -> str | None:
    """Only the applying enterprise's own users act for it (submit, withdraw)."""
    if (
        not getattr(user, "is_authenticated", False)
        or not Membership.objects.filter(user=user, enterprise_id=application.enterprise_id).exists()
    ):
        return f"仅{application.enterprise.name}的用户可以办理"
    return None


def call_open(application, user=None) -> str | None:
    call = application.call
    if call.state != "open":
        return f"申报批次“{call.title}”未在受理中"
    if timezone.now() < call.opens_at:
        return f"申报批次“{call.title}”将于 {_local(call.opens_at)} 开始受理"
    return None


def before_deadline(application, user=None) -> str | None:
    closes_at = application.call.closes_at
    if timezone.now() > closes_at:
        return f"已过申报截止时间 {_local(closes_at)}"
    return None


def within_cap(application, user=None) -> str | None:
    """The requested subsidy is positive and within the call's cap per project."""
    cap = application.call.cap_per_project
    requested = application.requested_amount or Decimal(0)
    if requested <= 0:
        return "申请资助金额须大于 0"
    if requested > cap:
        return f"申请资助 {format_wan(requested)} 万元，超过单项资助上限 {format_wan(cap)} 万元"
    return None


def within_call_budget(application, user=None) -> str | None:
    """Approving keeps the call's total (awarded amounts, or requested ones before the award) within its budget."""
    call = application.call
    money = DecimalField(max_digits=16, decimal_places=2)
    committed = (
        call.applications.filter(state="approved")
        .exclude(pk=application.pk)
        .aggregate(
            total=Coalesce(Sum(Coalesce("award__amount", "requested_amount")), Decimal(0), output_field=money)
        )["total"]
    )
    if committed + application.requested_amount > call.budget_total:
        left = call.budget_total - committed
        return (
            f"本批次总预算 {format_wan(call.budget_total)} 万元，已立项 {format_wan(committed)} 万元，"
            f"余额 {format_wan(left)} 万元，不足以资助本项 {format_wan(application.requested_amount)} 万元"
        )
    return None


def call_reviewing(application, user=None) -> str | None:
    if application.call.state != "reviewing":
        return f"申报批次“{application.call.title}”尚未进入评审"
    return None


def _active_assignments(application):
    return application.assignments.exclude(state="withdrawn")


def experts_assigned(application, user=None) -> str | None:
    needed = application.call.experts_per_application
    have = _active_assignments(application).count()
    if have < needed:
        return f"已分配评审专家 {have} 位，须 {needed} 位（回避退出的不计）"
    return None


def reviews_complete(application, user=None) -> str | None:
    """Every expert still on the application (not withdrawn) has submitted, and at least the call's number
    of experts per application have; a withdrawn expert does not count towards that number."""
    needed = application.call.experts_per_application
    states = list(_active_assignments(application).values_list("state", flat=True))
    submitted = states.count("submitted")
    waiting = len(states) - submitted
    if waiting:
        return f"尚有 {waiting} 位专家未提交评分"
    if submitted < needed:
        return f"已评分专家 {submitted} 位，须至少 {needed} 位（回避退出的不计）"
    return None


def complete_form(application, user=None) -> str | None:
    """The form's required fields (of the sections shown) are filled in and every value is accepted."""
    # Imported when used: applications.py imports the services that take these workflows' transitions.
    from kechuang.projects.applications import form_errors

    problems = list(form_errors(application).values())
    if problems:
        shown = "；".join(problems[:3]) + (f" 等 {len(problems)} 处" if len(problems) > 3 else "")
        return f"申报书未填写完整：{shown}"
    return None


def eligible(application, user=None) -> str | None:
    """No condition of the call is "not met" by the enterprise (unknown ones are left to formal review)."""
    from kechuang.projects.eligibility import check, refusal

    return refusal(check(application.call, application.enterprise)) or None


# —— 立项 ——


def _evaluation(award, kind: str):
    return award.evaluations.filter(kind=kind).first()


def start_date_reached(award, user=None) -> str | None:
    if timezone.localdate() < award.start_date:
        return f"任务书开始日期 {award.start_date:%Y-%m-%d} 未到"
    return None


def mid_term_recorded(award, user=None) -> str | None:
    if _evaluation(award, "mid_term") is None:
        return "尚未登记中期检查"
    return None


def acceptance_passed(award, user=None) -> str | None:
    evaluation = _evaluation(award, "acceptance")
    if evaluation is None or not evaluation.conclusion:
        return "尚未登记验收结论"
    if evaluation.conclusion in FAILED_CONCLUSIONS:
        return f"验收结论为“{evaluation.conclusion}”"
    return None


def acceptance_failed(award, user=None) -> str | None:
    evaluation = _evaluation(award, "acceptance")
    if evaluation is None or not evaluation.conclusion:
        return "尚未登记验收结论"
    if evaluation.conclusion not in FAILED_CONCLUSIONS:
        return f"验收结论为“{evaluation.conclusion}”，不是不通过"
    return None


def performance_recorded(award, user=None) -> str | None:
    if _evaluation(award, "performance") is None:
        return "尚未登记绩效评价"
    return None


# —— 揭榜挂帅 (projects/challenges.py) ——
# The answer deadline is inclusive, as a call's: an answer stamped exactly at 揭榜截止时间 is accepted.


def challenge_poster(challenge, user) -> str | None:
    """Only the poster enterprise's own users act for it (submit, withdraw)."""
    if (
        not getattr(user, "is_authenticated", False)
        or not Membership.objects.filter(user=user, enterprise_id=challenge.poster_id).exists()
    ):
        return f"仅发榜单位{challenge.poster.name}的用户可以办理"
    return None


def challenge_deadline_ahead(challenge, user=None) -> str | None:
    if challenge.deadline <= timezone.now():
        return f"揭榜截止时间 {_local(challenge.deadline)} 已过，请先修改截止时间"
    return None


def challenge_deadline_passed(challenge, user=None) -> str | None:
    if timezone.now() <= challenge.deadline:
        return f"揭榜截止时间 {_local(challenge.deadline)} 未到"
    return None


def challenge_answered(challenge, user=None) -> str | None:
    if not challenge.answers.filter(withdrawn=False).exists():
        return "没有有效的揭榜方案，无需阅卷（可作流榜归档）"
    return None


def challenge_unanswered(challenge, user=None) -> str | None:
    count = challenge.answers.filter(withdrawn=False).count()
    if count:
        return f"已有 {count} 份有效的揭榜方案，须阅卷定榜，不能流榜"
    return None


def challenge_winner_chosen(challenge, user=None) -> str | None:
    if challenge.winner_id is None:
        return "尚未选定中选方案"
    return None
