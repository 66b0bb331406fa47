"""Reads of the vouchers: who sees what, the schemes with their budget figures, the provider catalogue, the
officers' lists (applications, redemptions, flags, settlements) with search, filters and sorting.

Who sees what: applications, vouchers and redemptions of the enterprises the user may see
(Enterprise.objects.visible_to: officers and leaders all, an enterprise user its own); a provider's users also
see the redemptions of their provider. The catalogue and the schemes are open to every role holding their view
permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from kechuang.enterprises.models import Enterprise, Membership
from kechuang.vouchers.models import (
    AbuseFlag,
    FlagKind,
    FlagResolution,
    Provider,
    ProviderKind,
    ProviderMember,
    ProviderService,
    ProviderState,
    Redemption,
    Settlement,
    SettlementLine,
    Voucher,
    VoucherApplication,
    VoucherScheme,
)
from kechuang.workflows.selectors import known_states

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)


def _money(expression):
    return Coalesce(expression, Value(ZERO), output_field=MONEY_FIELD)


# --- who sees what --------------------------------------------------------------------------------------------------


def member_enterprise_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user, enterprise__isnull=False).values_list("enterprise_id", flat=True)
    )


def member_provider_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(ProviderMember.objects.filter(user=user).values_list("provider_id", flat=True))


def _visible_enterprises(user):
    return Enterprise.objects.visible_to(user).values("pk")


def visible_applications(user) -> QuerySet[VoucherApplication]:
    if not getattr(user, "is_authenticated", False):
        return VoucherApplication.objects.none()
    return VoucherApplication.objects.filter(enterprise__in=_visible_enterprises(user)).select_related(
        "scheme", "enterprise", "workflow"
    )


def visible_vouchers(user) -> QuerySet[Voucher]:
    if not getattr(user, "is_authenticated", False):
        return Voucher.objects.none()
    return Voucher.objects.filter(enterprise__in=_visible_enterprises(user)).select_related(
        "scheme", "enterprise"
    )


def visible_redemptions(user) -> QuerySet[Redemption]:
    if not getattr(user, "is_authenticated", False):
        return Redemption.objects.none()
    return Redemption.objects.filter(
        Q(voucher__enterprise__in=_visible_enterprises(user)) | Q(provider__in=member_provider_ids(user))
    ).select_related("voucher__enterprise", "voucher__scheme", "provider", "service", "workflow")


def visible_settlements(user) -> QuerySet[Settlement]:
    """Officers and leaders (vouchers.view_settlement with every enterprise in sight) all; a provider's users
    their provider's."""
    if not getattr(user, "is_authenticated", False):
        return Settlement.objects.none()
    qs = Settlement.objects.select_related("provider", "created_by")
    if user.has_perm("vouchers.view_settlement") and user.has_perm("enterprises.view_all_enterprises"):
        return qs
    return qs.filter(provider__in=member_provider_ids(user))


# --- schemes --------------------------------------------------------------------------------------------------------


@dataclass
class SchemeFigures:
    scheme: VoucherScheme
    applications: int
    pending: int
    vouchers: int
    used: Decimal  # held by redemptions not refused
    settled: Decimal

    @property
    def left(self) -> Decimal:
        return self.scheme.budget_total - self.scheme.granted

    @property
    def granted_pct(self) -> Decimal:
        budget = self.scheme.budget_total
        return (self.scheme.granted * 100 / budget).quantize(Decimal("0.1")) if budget else ZERO


def scheme_figures(schemes=None) -> list[SchemeFigures]:
    qs = (schemes if schemes is not None else VoucherScheme.objects.all()).annotate(
        n_applications=Count("applications", filter=~Q(applications__state="draft"), distinct=True),
        n_pending=Count("applications", filter=Q(applications__state="submitted"), distinct=True),
    )
    used = dict(Voucher.objects.values("scheme").annotate(t=Sum("used")).values_list("scheme", "t"))
    counts = dict(Voucher.objects.values("scheme").annotate(n=Count("pk")).values_list("scheme", "n"))
    settled = dict(
        SettlementLine.objects.values("redemption__voucher__scheme")
        .annotate(t=Sum("amount"))
        .values_list("redemption__voucher__scheme", "t")
    )
    return [
        SchemeFigures(
            scheme=s,
            applications=s.n_applications,
            pending=s.n_pending,
            vouchers=counts.get(s.pk, 0),
            used=used.get(s.pk) or ZERO,
            settled=settled.get(s.pk) or ZERO,
        )
        for s in qs.order_by("-year", "name")
    ]


# --- the provider catalogue -----------------------------------------------------------------------------------------

PROVIDER_SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "services": ("n_services", "name"),
    "-services": ("-n_services", "name"),
    "listed": ("listed_on", "name"),
    "-listed": ("-listed_on", "name"),
}


@dataclass
class ProviderFilters:
    q: str = ""
    kind: str = ""
    state: str = ""
    sort: str = "name"

    @classmethod
    def from_params(cls, params) -> ProviderFilters:
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            kind=params.get("kind") or "",
            state=params.get("state") or "",
            sort=params.get("sort") or "name",
        )
        if f.kind not in ProviderKind.values:
            f.kind = ""
        if f.state not in ProviderState.values:
            f.state = ""
        if f.sort not in PROVIDER_SORTS:
            f.sort = "name"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.kind, self.state))


def providers(filters: ProviderFilters, *, listed_only: bool = False) -> QuerySet[Provider]:
    qs = Provider.objects.annotate(n_services=Count("services", filter=Q(services__active=True)))
    if listed_only:
        qs = qs.filter(state=ProviderState.LISTED)
    if filters.q:
        matching = ProviderService.objects.filter(name__icontains=filters.q).values("provider")
        qs = qs.filter(
            Q(name__icontains=filters.q)
            | Q(uscc__icontains=filters.q.upper())
            | Q(address__icontains=filters.q)
            | Q(pk__in=matching)
        )
    if filters.kind:
        qs = qs.filter(
            Q(kind=filters.kind) | Q(services__category=filters.kind, services__active=True)
        ).distinct()
    if filters.state:
        qs = qs.filter(state=filters.state)
    return qs.order_by(*PROVIDER_SORTS[filters.sort])


# --- applications ---------------------------------------------------------------------------------------------------

APPLICATION_SORTS = {
    "submitted": ("submitted_at", "pk"),
    "-submitted": ("-submitted_at", "-pk"),
    "amount": ("requested_amount", "pk"),
    "-amount": ("-requested_amount", "-pk"),
    "enterprise": ("enterprise__name", "pk"),
    "-enterprise": ("-enterprise__name", "-pk"),
}


def workflow_states(key: str) -> list[tuple[str, str]]:
    """(state, label) of every published version of workflow `key`, in the order the work goes."""
    return known_states(key)


@dataclass
class ApplicationFilters:
    q: str = ""
    scheme: str = ""
    state: str = ""
    flagged: str = ""
    sort: str = "-submitted"

    @classmethod
    def from_params(cls, params, states) -> ApplicationFilters:
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            scheme=params.get("scheme") or "",
            state=(params.get("state") or "")[:40],
            flagged=params.get("flagged") or "",
            sort=params.get("sort") or "-submitted",
        )
        if not f.scheme.isdigit():
            f.scheme = ""
        if f.state not in dict(states):
            f.state = ""
        if f.flagged not in ("open", ""):
            f.flagged = ""
        if f.sort not in APPLICATION_SORTS:
            f.sort = "-submitted"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.scheme, self.state, self.flagged))


def _open_flags(model_field: str):
    return Exists(AbuseFlag.objects.filter(**{model_field: OuterRef("pk")}, resolution=FlagResolution.OPEN))


def applications(filters: ApplicationFilters, *, user) -> QuerySet[VoucherApplication]:
    qs = visible_applications(user).annotate(has_open_flags=_open_flags("application"))
    if filters.q:
        qs = qs.filter(
            Q(enterprise__name__icontains=filters.q) | Q(enterprise__uscc__icontains=filters.q.upper())
        )
    if filters.scheme:
        qs = qs.filter(scheme_id=int(filters.scheme))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.flagged:
        qs = qs.filter(has_open_flags=True)
    return qs.order_by(*APPLICATION_SORTS[filters.sort])


# --- redemptions ----------------------------------------------------------------------------------------------------

REDEMPTION_SORTS = {
    "submitted": ("submitted_at", "pk"),
    "-submitted": ("-submitted_at", "-pk"),
    "part": ("voucher_part", "pk"),
    "-part": ("-voucher_part", "-pk"),
    "invoice": ("invoice_date", "pk"),
    "-invoice": ("-invoice_date", "-pk"),
}


@dataclass
class RedemptionFilters:
    q: str = ""
    state: str = ""
    provider: str = ""
    flagged: str = ""
    sort: str = "-submitted"

    @classmethod
    def from_params(cls, params, states) -> RedemptionFilters:
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            state=(params.get("state") or "")[:40],
            provider=params.get("provider") or "",
            flagged=params.get("flagged") or "",
            sort=params.get("sort") or "-submitted",
        )
        if f.state not in dict(states):
            f.state = ""
        if not f.provider.isdigit():
            f.provider = ""
        if f.flagged not in ("open", ""):
            f.flagged = ""
        if f.sort not in REDEMPTION_SORTS:
            f.sort = "-submitted"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.state, self.provider, self.flagged))


def redemptions(filters: RedemptionFilters, *, user) -> QuerySet[Redemption]:
    qs = visible_redemptions(user).annotate(has_open_flags=_open_flags("redemption"))
    if filters.q:
        q = filters.q
        qs = qs.filter(
            Q(invoice_no__icontains=q.replace(" ", "").upper())
            | Q(contract_no__icontains=q)
            | Q(voucher__number__icontains=q.upper())
            | Q(voucher__enterprise__name__icontains=q)
            | Q(provider__name__icontains=q)
        )
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.provider:
        qs = qs.filter(provider_id=int(filters.provider))
    if filters.flagged:
        qs = qs.filter(has_open_flags=True)
    return qs.order_by(*REDEMPTION_SORTS[filters.sort])


def totals(qs: QuerySet[Redemption]) -> dict:
    return qs.aggregate(
        invoices=_money(Sum("invoice_amount")), parts=_money(Sum("voucher_part")), n=Count("pk")
    )


# --- flags -----------------------------------------------------------------------------------------------------------

FLAG_SORTS = {"raised": ("raised_at", "pk"), "-raised": ("-raised_at", "-pk"), "kind": ("kind", "-raised_at")}


@dataclass
class FlagFilters:
    resolution: str = "open"
    kind: str = ""
    sort: str = "-raised"

    @classmethod
    def from_params(cls, params) -> FlagFilters:
        f = cls(
            resolution=params.get("resolution", "open") or "",
            kind=params.get("kind") or "",
            sort=params.get("sort") or "-raised",
        )
        if f.resolution not in ("open", "all", *[v for v in FlagResolution.values if v]):
            f.resolution = "open"
        if f.kind not in FlagKind.values:
            f.kind = ""
        if f.sort not in FLAG_SORTS:
            f.sort = "-raised"
        return f

    @property
    def active(self) -> bool:
        return self.resolution != "open" or bool(self.kind)


def flags(filters: FlagFilters, *, user) -> QuerySet[AbuseFlag]:
    qs = AbuseFlag.objects.filter(
        Q(redemption__in=visible_redemptions(user).values("pk"))
        | Q(application__in=visible_applications(user).values("pk"))
    ).select_related(
        "redemption__voucher__enterprise", "redemption__provider", "application__enterprise", "resolved_by"
    )
    if filters.resolution == "open":
        qs = qs.filter(resolution=FlagResolution.OPEN)
    elif filters.resolution != "all":
        qs = qs.filter(resolution=filters.resolution)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by(*FLAG_SORTS[filters.sort])


def open_flag_counts() -> dict[str, int]:
    return dict(
        AbuseFlag.objects.filter(resolution=FlagResolution.OPEN)
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )


# --- one enterprise -------------------------------------------------------------------------------------------------


def enterprise_vouchers(enterprise: Enterprise) -> QuerySet[Voucher]:
    return (
        Voucher.objects.filter(enterprise=enterprise)
        .select_related("scheme", "application")
        .annotate(n_redemptions=Count("redemptions"))
        .order_by("-issued_at", "-pk")
    )
