"""Reads of the money closed loop: which awards a user may see, the officers' award list (search, filters,
sorting), one award's money summary (awarded, disbursed, remaining, each milestone's tranche, state and
payment) and its expenditure by budget category against the application's budget lines.

执行率 (pct) is cumulative spending ÷ the budget line's subsidy × 100; 偏差 (variance_pct) is pct − 100;
a category is 超支 (over) when its spending exceeds its subsidy (exactly 100% is not over).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from kechuang.enterprises.models import Enterprise, Membership
from kechuang.projects.models import (
    Award,
    BudgetCategory,
    BudgetLine,
    Call,
    Disbursement,
    Expenditure,
    MilestoneState,
)
from kechuang.workflows.selectors import known_states

ZERO = Decimal("0")
VIEW_ALL = "projects.view_award"


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- who sees what ---------------------------------------------------------------------------------------


def member_enterprise_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user, enterprise__isnull=False).values_list("enterprise_id", flat=True)
    )


def visible_awards(user) -> QuerySet[Award]:
    """All awards for those with projects.view_award (officers, leaders); otherwise the awards of the
    enterprises the user may see (an enterprise user its own, a park operator its park's), as the award
    workflow's scope does; none for anyone else."""
    qs = Award.objects.select_related("application__enterprise", "application__call", "workflow")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if user.has_perm(VIEW_ALL):
        return qs
    return qs.filter(application__enterprise__in=Enterprise.objects.visible_to(user).values("pk"))


def is_member(user, award: Award) -> bool:
    """Whether the user acts for the award's enterprise (reports milestones and spending)."""
    return award.application.enterprise_id in member_enterprise_ids(user)


# --- the award list -----------------------------------------------------------------------------------------

def award_permissions(user, award: Award) -> dict[str, bool]:
    """What `user` may do on `award` (pages and API alike): report and spend as its enterprise's member; review
    milestones, disburse, record expenditure and evaluate by permission."""
    member = is_member(user, award)
    return {
        "report": member,
        "review": user.has_perm("projects.change_milestone"),
        "disburse": user.has_perm("projects.add_disbursement"),
        "expend": member or user.has_perm("projects.add_expenditure"),
        "evaluate": user.has_perm("projects.add_evaluation"),
    }


SORTS = {
    "approved": ("approved_at", "pk"),
    "-approved": ("-approved_at", "-pk"),
    "contract": ("contract_no",),
    "-contract": ("-contract_no",),
    "amount": ("amount", "contract_no"),
    "-amount": ("-amount", "contract_no"),
    "disbursed": ("disbursed", "contract_no"),
    "-disbursed": ("-disbursed", "contract_no"),
    "remaining": ("remaining", "contract_no"),
    "-remaining": ("-remaining", "contract_no"),
    "end": ("end_date", "contract_no"),
    "-end": ("-end_date", "contract_no"),
}


@dataclass
class AwardFilters:
    q: str = ""
    call: str = ""
    state: str = ""
    sort: str = "-approved"

    @classmethod
    def from_params(cls, params) -> AwardFilters:
        """Unknown values are ignored rather than failing the page: a stale bookmark still opens."""
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            call=params.get("call") or "",
            state=(params.get("state") or "")[:40],
            sort=params.get("sort") or "-approved",
        )
        if not f.call.isdigit():
            f.call = ""
        if f.state not in dict(award_states()):
            f.state = ""
        if f.sort not in SORTS:
            f.sort = "-approved"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.call, self.state))


def award_states() -> list[tuple[str, str]]:
    """(state, label) of every published version of the award workflow, in the order the work goes."""
    return known_states("projects.award")


def award_calls() -> QuerySet[Call]:
    return Call.objects.filter(applications__award__isnull=False).distinct().order_by("-year", "title")


def awards(filters: AwardFilters | None = None, *, user) -> QuerySet[Award]:
    """The awards `filters` select among those `user` may see, each with `remaining` (amount − disbursed)."""
    filters = filters or AwardFilters()
    qs = visible_awards(user)
    qs = qs.annotate(
        remaining=ExpressionWrapper(
            F("amount") - F("disbursed"), output_field=DecimalField(max_digits=16, decimal_places=2)
        )
    )
    if filters.q:
        q = filters.q
        qs = qs.filter(
            Q(contract_no__icontains=q)
            | Q(application__title__icontains=q)
            | Q(application__enterprise__name__icontains=q)
            | Q(application__enterprise__short_name__icontains=q)
        )
    if filters.call:
        qs = qs.filter(application__call_id=int(filters.call))
    if filters.state:
        qs = qs.filter(state=filters.state)
    return qs.order_by(*SORTS[filters.sort])


def totals(qs: QuerySet[Award]) -> dict:
    sums = qs.aggregate(amount=Sum("amount"), disbursed=Sum("disbursed"))
    amount, disbursed = sums["amount"] or ZERO, sums["disbursed"] or ZERO
    return {
        "amount": amount,
        "disbursed": disbursed,
        "remaining": amount - disbursed,
        "pct": _pct(disbursed, amount),
    }


# --- one award's money ------------------------------------------------------------------------------------------


@dataclass
class MilestoneRow:
    milestone: object
    number: int
    title: str
    due_date: dt.date
    tranche: Decimal
    state: str
    state_label: str
    paid: bool
    paid_at: dt.datetime | None
    paid_amount: Decimal | None
    voucher_no: str
    payable: bool  # accepted, unpaid, with a tranche
    overdue: bool  # past its due date and not yet accepted


@dataclass
class MoneySummary:
    award: Award
    awarded: Decimal
    disbursed: Decimal
    remaining: Decimal
    pct: Decimal | None
    milestones: list[MilestoneRow]
    disbursements: list[Disbursement]
    paid_total: Decimal  # the sum of disbursement rows
    consistent: bool  # the rows sum to the award's running total
    tranches_total: Decimal


def money_summary(award: Award, *, today: dt.date | None = None) -> MoneySummary:
    today = today or timezone.localdate()
    award = Award.objects.get(pk=award.pk)  # the running total as stored now
    payments = list(award.disbursements.select_related("milestone", "paid_by").order_by("paid_at", "pk"))
    by_milestone = {p.milestone_id: p for p in payments}
    rows = []
    for m in award.milestones.select_related("accepted_by").order_by("number"):
        p = by_milestone.get(m.pk)
        rows.append(
            MilestoneRow(
                milestone=m,
                number=m.number,
                title=m.title,
                due_date=m.due_date,
                tranche=m.tranche,
                state=m.state,
                state_label=m.get_state_display(),
                paid=p is not None,
                paid_at=p.paid_at if p else None,
                paid_amount=p.amount if p else None,
                voucher_no=p.voucher_no if p else "",
                payable=p is None and m.state == MilestoneState.ACCEPTED and m.tranche > 0,
                overdue=m.state != MilestoneState.ACCEPTED and m.due_date < today,
            )
        )
    paid_total = sum((p.amount for p in payments), ZERO)
    return MoneySummary(
        award=award,
        awarded=award.amount,
        disbursed=award.disbursed,
        remaining=award.amount - award.disbursed,
        pct=_pct(award.disbursed, award.amount),
        milestones=rows,
        disbursements=payments,
        paid_total=paid_total,
        consistent=paid_total == award.disbursed,
        tranches_total=sum((r.tranche for r in rows), ZERO),
    )


@dataclass
class CategoryRow:
    category: str
    label: str
    budget: Decimal  # the application's budget line: subsidy
    spent: Decimal  # cumulative, all periods
    remaining: Decimal
    pct: Decimal | None  # 执行率 %, None without a budget
    variance_pct: Decimal | None  # pct − 100
    over: bool  # 超支: spent > budget


@dataclass
class ExpenditureReport:
    rows: list[CategoryRow]
    budget_total: Decimal
    spent_total: Decimal
    disbursed: Decimal
    pct: Decimal | None
    over_disbursed: bool  # spending beyond what was disbursed
    periods: list[dict] = field(
        default_factory=list
    )  # [{"period_end", "amounts": {category: Decimal}, "total"}]


def expenditure_vs_budget(award: Award) -> ExpenditureReport:
    """Spending per budget category (all periods) against the application's budget lines; categories with
    neither budget nor spending are left out."""
    award = Award.objects.get(pk=award.pk)
    budget = dict(
        BudgetLine.objects.filter(application_id=award.application_id).values_list("category", "subsidy")
    )
    spent = {
        row["category"]: row["total"]
        for row in Expenditure.objects.filter(award=award).values("category").annotate(total=Sum("amount"))
    }
    rows = []
    for category, label in BudgetCategory.choices:
        b, s = budget.get(category, ZERO), spent.get(category, ZERO)
        if not b and not s:
            continue
        pct = _pct(s, b)
        rows.append(
            CategoryRow(
                category=category,
                label=label,
                budget=b,
                spent=s,
                remaining=b - s,
                pct=pct,
                variance_pct=pct - 100 if pct is not None else None,
                over=s > b,
            )
        )
    periods: dict[dt.date, dict] = {}
    for line in Expenditure.objects.filter(award=award).order_by("period_end", "category"):
        entry = periods.setdefault(
            line.period_end, {"period_end": line.period_end, "amounts": {}, "total": ZERO}
        )
        entry["amounts"][line.category] = line.amount
        entry["total"] += line.amount
    budget_total = sum(budget.values(), ZERO)
    spent_total = sum(spent.values(), ZERO)
    return ExpenditureReport(
        rows=rows,
        budget_total=budget_total,
        spent_total=spent_total,
        disbursed=award.disbursed,
        pct=_pct(spent_total, budget_total),
        over_disbursed=spent_total > award.disbursed,
        periods=list(periods.values()),
    )
