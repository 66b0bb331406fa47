"""Reads of 认定登记: who sees which projects and contracts, the lists with their filters and sorting, the
履约 (payment tracking) figures, and the year's counts and amounts that feed the indicators.

Scope: officers and leaders (enterprises.view_all_enterprises) see everything; an enterprise user sees its own
enterprise's projects and contracts (as seller); a park operator has no recognitions permission; an expert
sees only the projects assigned to it for review (`reviews_for`).

履约: a payment milestone is overdue on a date when its due date is before that date and it is not fully paid
(the due date itself is not late); a registered contract is behind schedule when it has an overdue milestone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from kechuang.enterprises.models import Enterprise, Membership
from kechuang.recognitions.choices import ContractType, ReviewState
from kechuang.recognitions.models import (
    REGISTERED,
    PaymentMilestone,
    TechContract,
    TransformationProject,
    TransformationReview,
)
from kechuang.workflows.selectors import known_states

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)
VIEW_ALL = "enterprises.view_all_enterprises"
VIEW_CONTRACT = "recognitions.view_techcontract"
VIEW_PROJECT = "recognitions.view_transformationproject"
# 松科委〔2026〕13号《松江区科学技术委员会2026年工作要点》三（七）: "全年力争认定数量 90 项以上" (docs/sources/003_…txt 第44行).
YEAR_TARGET = 90
YEAR_TARGET_SOURCE = "松科委〔2026〕13号《2026年工作要点》三（七）：全年力争认定数量 90 项以上"


# —— who sees what ——————————————————————————————————————————————————————————————————————————————————


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def visible_contracts(user) -> QuerySet[TechContract]:
    qs = TechContract.objects.select_related("enterprise", "workflow")
    if not _authenticated(user) or not user.has_perm(VIEW_CONTRACT):
        return qs.none()
    if user.has_perm(VIEW_ALL):
        return qs
    return qs.filter(enterprise__in=Enterprise.objects.visible_to(user).values("pk"))


def visible_projects(user) -> QuerySet[TransformationProject]:
    qs = TransformationProject.objects.select_related("enterprise", "workflow")
    if not _authenticated(user) or not user.has_perm(VIEW_PROJECT):
        return qs.none()
    if user.has_perm(VIEW_ALL):
        return qs
    return qs.filter(enterprise__in=Enterprise.objects.visible_to(user).values("pk"))


def reviews_for(user) -> QuerySet[TransformationReview]:
    """The reviews assigned to the expert whose account `user` is."""
    if not _authenticated(user):
        return TransformationReview.objects.none()
    return TransformationReview.objects.filter(expert__user=user).select_related(
        "project__enterprise", "project__workflow", "expert"
    )


def acting_enterprises(user) -> QuerySet[Enterprise]:
    """The enterprises the user acts for (its memberships)."""
    if not _authenticated(user):
        return Enterprise.objects.none()
    own = Membership.objects.filter(user=user, enterprise__isnull=False).values("enterprise_id")
    return Enterprise.objects.filter(pk__in=own).order_by("name")


def states_of(key: str) -> list[tuple[str, str]]:
    """(state, label) of every published version of a workflow, in the order the work goes."""
    return known_states(key)


# —— contracts ——————————————————————————————————————————————————————————————————————————————————————

CONTRACT_SORTS = {
    "registered": ("registered_on", "registration_no", "pk"),
    "-registered": ("-registered_on", "-registration_no", "-pk"),
    "number": ("registration_no", "pk"),
    "-number": ("-registration_no", "-pk"),
    "signed": ("signed_on", "pk"),
    "-signed": ("-signed_on", "-pk"),
    "total": ("total_amount", "pk"),
    "-total": ("-total_amount", "-pk"),
    "tech": ("tech_amount", "pk"),
    "-tech": ("-tech_amount", "-pk"),
    "submitted": ("submitted_at", "pk"),
    "-submitted": ("-submitted_at", "-pk"),
}


@dataclass
class ContractFilters:
    q: str = ""
    contract_type: str = ""
    state: str = ""
    year: str = ""  # registration year
    behind: bool = False
    sort: str = "-submitted"

    @classmethod
    def from_params(cls, params, states: list[tuple[str, str]] | None = None) -> ContractFilters:
        """Unknown values are ignored rather than failing the page: a stale bookmark still opens."""
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            contract_type=params.get("type") or "",
            state=(params.get("state") or "")[:40],
            year=params.get("year") or "",
            behind=params.get("behind") in ("1", "true", "on"),
            sort=params.get("sort") or "-submitted",
        )
        if f.contract_type not in ContractType.values:
            f.contract_type = ""
        if states is not None and f.state not in dict(states):
            f.state = ""
        if not (f.year.isdigit() and len(f.year) == 4):
            f.year = ""
        if f.sort not in CONTRACT_SORTS:
            f.sort = "-submitted"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.contract_type, self.state, self.year, self.behind))


def _overdue(on: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}due_date__lt": on, f"{prefix}paid_amount__lt": F(f"{prefix}amount")})


def with_payments(qs: QuerySet[TechContract], on: dt.date) -> QuerySet[TechContract]:
    """Each contract with `planned` and `paid` (its milestones' sums) and `behind` (an overdue milestone)."""
    milestones = PaymentMilestone.objects.filter(contract=OuterRef("pk")).order_by().values("contract")
    planned = milestones.annotate(s=Sum("amount")).values("s")
    paid = milestones.annotate(s=Sum("paid_amount")).values("s")
    return qs.annotate(
        planned=Coalesce(Subquery(planned, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD),
        paid=Coalesce(Subquery(paid, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD),
        behind=Exists(
            PaymentMilestone.objects.filter(_overdue(on), contract=OuterRef("pk"), contract__state=REGISTERED)
        ),
    )


def contracts(
    filters: ContractFilters | None = None, *, user, on: dt.date | None = None
) -> QuerySet[TechContract]:
    filters = filters or ContractFilters()
    on = on or timezone.localdate()
    qs = with_payments(visible_contracts(user), on)
    if filters.q:
        q = filters.q
        qs = qs.filter(
            Q(registration_no__icontains=q)
            | Q(contract_no__icontains=q)
            | Q(name__icontains=q)
            | Q(seller_name__icontains=q)
            | Q(seller_uscc__icontains=q)
            | Q(buyer_name__icontains=q)
        )
    if filters.contract_type:
        qs = qs.filter(contract_type=filters.contract_type)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.year:
        qs = qs.filter(registered_on__year=int(filters.year))
    if filters.behind:
        qs = qs.filter(behind=True)
    return qs.order_by(*CONTRACT_SORTS[filters.sort])


def contract_totals(qs: QuerySet[TechContract]) -> dict:
    sums = qs.order_by().aggregate(n=Count("pk"), total=Sum("total_amount"), tech=Sum("tech_amount"))
    return {"count": sums["n"], "total": sums["total"] or ZERO, "tech": sums["tech"] or ZERO}


def registration_years() -> list[int]:
    return sorted(
        {
            d.year
            for d in TechContract.objects.filter(registered_on__isnull=False).dates("registered_on", "year")
        },
        reverse=True,
    )


@dataclass
class MilestoneRow:
    milestone: PaymentMilestone
    overdue: bool
    outstanding: Decimal
    days_overdue: int  # 0 when not overdue


@dataclass
class PaymentSummary:
    rows: list[MilestoneRow]
    planned: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue_amount: Decimal
    total_amount: Decimal  # 成交额
    difference: Decimal  # planned − 成交额
    behind: bool
    pct: Decimal | None  # paid ÷ 成交额 × 100


def payment_summary(contract: TechContract, on: dt.date | None = None) -> PaymentSummary:
    on = on or timezone.localdate()
    rows = []
    for m in contract.milestones.order_by("number"):
        overdue = contract.state == REGISTERED and m.is_overdue(on)
        rows.append(MilestoneRow(m, overdue, m.outstanding, (on - m.due_date).days if overdue else 0))
    planned = sum((r.milestone.amount for r in rows), ZERO)
    paid = sum((r.milestone.paid_amount for r in rows), ZERO)
    overdue_amount = sum((r.outstanding for r in rows if r.overdue), ZERO)
    total = contract.total_amount
    pct = (paid * 100 / total).quantize(Decimal("0.1")) if total else None
    return PaymentSummary(
        rows,
        planned,
        paid,
        planned - paid,
        overdue_amount,
        total,
        planned - total,
        any(r.overdue for r in rows),
        pct,
    )


# —— 履约: registered contracts behind schedule ——————————————————————————————————————————————————————————

PERFORMANCE_SORTS = {
    "overdue": ("-overdue_amount", "pk"),
    "-overdue": ("overdue_amount", "pk"),
    "since": ("first_overdue", "pk"),
    "-since": ("-first_overdue", "pk"),
    "registered": ("registered_on", "pk"),
    "-registered": ("-registered_on", "pk"),
    "total": ("total_amount", "pk"),
    "-total": ("-total_amount", "pk"),
}


def behind_schedule(user, *, q: str = "", contract_type: str = "", sort: str = "since", on=None):
    """Registered contracts the user may see that have an overdue milestone, each with `overdue_amount` (what the
    overdue milestones still owe), `overdue_count` and `first_overdue` (the earliest overdue due date)."""
    on = on or timezone.localdate()
    overdue = _overdue(on, "milestones__")
    qs = visible_contracts(user).filter(state=REGISTERED)
    if q:
        qs = qs.filter(
            Q(registration_no__icontains=q)
            | Q(name__icontains=q)
            | Q(seller_name__icontains=q)
            | Q(buyer_name__icontains=q)
        )
    if contract_type in ContractType.values:
        qs = qs.filter(contract_type=contract_type)
    qs = qs.annotate(
        overdue_amount=Coalesce(
            Sum(
                F("milestones__amount") - F("milestones__paid_amount"),
                filter=overdue,
                output_field=MONEY_FIELD,
            ),
            Value(ZERO),
            output_field=MONEY_FIELD,
        ),
        overdue_count=Count("milestones", filter=overdue),
        first_overdue=Min("milestones__due_date", filter=overdue),
    ).filter(overdue_count__gt=0)
    return qs.order_by(*PERFORMANCE_SORTS.get(sort, PERFORMANCE_SORTS["since"]))


# —— 高转项目 ——————————————————————————————————————————————————————————————————————————————————————————

PROJECT_SORTS = {
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "recognised": ("recognised_on", "pk"),
    "-recognised": ("-recognised_on", "-pk"),
    "valid": ("valid_until", "pk"),
    "-valid": ("-valid_until", "-pk"),
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
}


@dataclass
class ProjectFilters:
    q: str = ""
    state: str = ""
    field: str = ""
    year: str = ""  # recognition year
    valid: bool = False  # certificates in force today
    sort: str = "-created"

    @classmethod
    def from_params(cls, params, states: list[tuple[str, str]] | None = None) -> ProjectFilters:
        from kechuang.enterprises.choices import HitechField

        f = cls(
            q=(params.get("q") or "").strip()[:100],
            state=(params.get("state") or "")[:40],
            field=params.get("field") or "",
            year=params.get("year") or "",
            valid=params.get("valid") in ("1", "true", "on"),
            sort=params.get("sort") or "-created",
        )
        if states is not None and f.state not in dict(states):
            f.state = ""
        if f.field not in HitechField.values:
            f.field = ""
        if not (f.year.isdigit() and len(f.year) == 4):
            f.year = ""
        if f.sort not in PROJECT_SORTS:
            f.sort = "-created"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.state, self.field, self.year, self.valid))


def projects(filters: ProjectFilters | None = None, *, user, on: dt.date | None = None):
    filters = filters or ProjectFilters()
    on = on or timezone.localdate()
    qs = visible_projects(user)
    if filters.q:
        q = filters.q
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(product__icontains=q)
            | Q(certificate_no__icontains=q)
            | Q(enterprise__name__icontains=q)
            | Q(enterprise__short_name__icontains=q)
        )
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.field:
        qs = qs.filter(field=filters.field)
    if filters.year:
        qs = qs.filter(recognised_on__year=int(filters.year))
    if filters.valid:
        qs = qs.filter(valid_on(on))
    return qs.order_by(*PROJECT_SORTS[filters.sort])


def valid_on(on: dt.date) -> Q:
    """Recognised projects whose certificate is in force on `on` (有效期内: recognised on or before it and not
    past its last valid day)."""
    return Q(state="recognised", recognised_on__lte=on, valid_until__gte=on)


def recognition_years() -> list[int]:
    return sorted(
        {
            d.year
            for d in TransformationProject.objects.filter(recognised_on__isnull=False).dates(
                "recognised_on", "year"
            )
        },
        reverse=True,
    )


# —— the year's figures (the pages' headers; kechuang/indicators/computed.py counts the same way) ————————————


def recognised_in(year: int, on: dt.date | None = None) -> QuerySet[TransformationProject]:
    """Projects recognised in `year` (up to `on` when given): 高新技术成果转化项目认定数量."""
    qs = TransformationProject.objects.filter(state="recognised", recognised_on__year=year)
    return qs.filter(recognised_on__lte=on) if on else qs


def registered_in(year: int, on: dt.date | None = None) -> QuerySet[TechContract]:
    """Contracts registered in `year` (by registration date, up to `on` when given) and still registered."""
    qs = TechContract.objects.filter(state=REGISTERED, registered_on__year=year)
    return qs.filter(registered_on__lte=on) if on else qs


def review_counts(project: TransformationProject) -> dict[str, int]:
    counts = dict.fromkeys(ReviewState.values, 0)
    for state, n in project.reviews.values_list("state").annotate(n=Count("pk")).order_by():
        counts[state] = n
    return counts
