"""Reads of the registry that take more than one line: the filtered list, an enterprise's page."""

from dataclasses import dataclass
from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet, Window
from django.utils import timezone

from kechuang.core import uscc
from kechuang.enterprises.choices import HitechField, Industry, QualificationKind
from kechuang.enterprises.models import Enterprise, Park, Qualification

EXPIRING_DAYS = 180

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "uscc": ("uscc",),
    "-uscc": ("-uscc",),
    "registration_date": ("registration_date", "pk"),
    "-registration_date": ("-registration_date", "-pk"),
    "park": ("park__name", "name", "pk"),
    "-park": ("-park__name", "-name", "-pk"),
}

VALIDITY_CHOICES = (
    ("valid", "有效期内"),
    ("expiring", f"{EXPIRING_DAYS}天内到期"),
    ("expired", "已过期（无有效证书）"),
)


@dataclass
class RegistryFilters:
    q: str = ""
    park: str = ""
    industry: str = ""
    hitech_field: str = ""
    qualification: str = ""
    validity: str = ""
    sort: str = "name"

    @classmethod
    def from_params(cls, params) -> "RegistryFilters":
        """Unknown values are ignored rather than failing the page: a stale bookmark still opens."""
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            park=params.get("park") or "",
            industry=params.get("industry") or "",
            hitech_field=params.get("hitech_field") or "",
            qualification=params.get("qualification") or "",
            validity=params.get("validity") or "",
            sort=params.get("sort") or "name",
        )
        if not f.park.isdigit():
            f.park = ""
        if f.industry not in Industry.values:
            f.industry = ""
        if f.hitech_field not in HitechField.values:
            f.hitech_field = ""
        if f.qualification not in QualificationKind.values:
            f.qualification = ""
        if f.validity not in dict(VALIDITY_CHOICES):
            f.validity = ""
        if f.sort not in SORTS:
            f.sort = "name"
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.park, self.industry, self.hitech_field, self.qualification, self.validity))


def enterprise_list(*, user, filters: RegistryFilters) -> QuerySet[Enterprise]:
    """The enterprises `user` may see, filtered and sorted as asked."""
    qs = Enterprise.objects.visible_to(user)
    if filters.q:
        qs = qs.filter(search_condition(filters.q))
    if filters.park:
        qs = in_park(qs, filters.park)
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.hitech_field:
        qs = qs.filter(hitech_field=filters.hitech_field)
    if filters.qualification or filters.validity:
        qs = _filter_qualification(qs, filters.qualification, filters.validity)
    return qs.order_by(*SORTS[filters.sort])


def search_condition(text: str) -> Q:
    """Name or short name containing `text`, or a code containing it (typed in any case or width).
    Chinese has no case: a query without cased letters uses LIKE, which PostgreSQL runs about four
    times faster than ILIKE over 100,000 names."""
    text = text.strip()
    lookup = "icontains" if text.lower() != text.upper() else "contains"
    return (
        Q(**{f"name__{lookup}": text})
        | Q(**{f"short_name__{lookup}": text})
        | Q(uscc__contains=uscc.normalise(text))
    )


def in_park(qs: QuerySet[Enterprise], park_id) -> QuerySet[Enterprise]:
    """Enterprises of a park and of all its sub-parks; an unknown park matches nothing."""
    park = Park.objects.filter(pk=park_id).first()
    return qs.filter(park_id__in=park.with_descendants()) if park else qs.none()


def _filter_qualification(qs, kind: str, validity: str):
    today = timezone.localdate()
    held = Qualification.objects.all()
    if kind:
        held = held.filter(kind=kind)
    if validity == "valid":
        return qs.filter(pk__in=held.valid_on(today).values("enterprise_id"))
    if validity == "expiring":
        soon = held.valid_on(today).filter(expiry_date__lte=today + timedelta(days=EXPIRING_DAYS))
        return qs.filter(pk__in=soon.values("enterprise_id"))
    if validity == "expired":
        return qs.filter(pk__in=held.values("enterprise_id")).exclude(pk__in=held.valid_on(today).values("enterprise_id"))
    return qs.filter(pk__in=held.values("enterprise_id"))


def registry_page(qs: QuerySet[Enterprise], number, per_page: int, *, count_in_page_query: bool = False):
    """One page of a sorted list. The offset is walked over primary keys only (often straight off
    an index), then the page's rows are fetched whole: deep pages stay fast at 100,000 rows.

    With `count_in_page_query` the total comes from a window function in the same query. That
    costs a full pass where an index would have served the first page alone, so it pays only when
    the filter itself needs a full pass (the certificate subquery): there it halves the time on
    PostgreSQL (170 → 81 ms at 100,000 enterprises, benchmarks/RESULTS.md)."""
    page = _page_counted_in_query(qs, number, per_page) if count_in_page_query else None
    if page is None:
        page = Paginator(qs.values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    rows = {e.pk: e for e in with_list_columns(Enterprise.objects.filter(pk__in=ids))}
    page.object_list = [rows[pk] for pk in ids]
    return page


class _KnownCount:
    """An object list whose length is already known, so Paginator does not count again."""

    def __init__(self, count: int):
        self._count = count

    def count(self) -> int:
        return self._count

    def __getitem__(self, key):
        return []


def _page_counted_in_query(qs, number, per_page: int):
    try:
        number = max(1, int(number))
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * per_page
    rows = list(qs.annotate(_total=Window(Count("pk"))).values_list("pk", "_total")[offset : offset + per_page])
    if not rows:
        return None  # past the end or empty: the plain path shows the last page
    page = Paginator(_KnownCount(rows[0][1]), per_page).page(number)
    page.object_list = [pk for pk, _ in rows]
    return page


def with_list_columns(qs: QuerySet[Enterprise]) -> QuerySet[Enterprise]:
    """What a list page shows of each row, fetched in a fixed number of queries."""
    valid_now = Qualification.objects.valid_on().order_by("kind")
    return qs.select_related("park").prefetch_related(Prefetch("qualifications", queryset=valid_now, to_attr="valid_qualifications"))


def enterprise_page(*, enterprise: Enterprise, user) -> dict:
    """Everything the enterprise page shows: figures by year (as a table of figure × year, in the
    units people read), the trend series, IP with its class, qualifications with days to expiry."""
    from kechuang.core.money import yuan_to_wan
    from kechuang.enterprises.figures import FIGURES

    years = list(enterprise.years.order_by("year"))
    rows = []
    for figure in FIGURES:
        values = [getattr(y, figure.name) for y in years]
        if figure.is_money:
            values = [yuan_to_wan(v) for v in values]
        rows.append({"figure": figure, "values": values})
    trend = {
        "years": [str(y.year) for y in years],
        "sales_revenue": [_num(yuan_to_wan(y.sales_revenue)) for y in years],
        "rd_expense_hnte": [_num(yuan_to_wan(y.rd_expense_hnte)) for y in years],
        "employees": [_num(y.employees) for y in years],
    }
    ip_assets = list(enterprise.ip_assets.order_by("-grant_date", "number"))
    qualifications = list(enterprise.qualifications.order_by("-issue_date"))
    can_change = user.has_perm("enterprises.change_enterprise")
    return {
        "enterprise": enterprise,
        "years": years,
        "figure_rows": rows,
        "trend": trend,
        "ip_assets": ip_assets,
        "ip_counts": {
            "I": sum(1 for ip in ip_assets if ip.ip_class == "I" and ip.status == "valid"),
            "II": sum(1 for ip in ip_assets if ip.ip_class == "II" and ip.status == "valid"),
            "II_unused": sum(1 for ip in ip_assets if ip.ip_class == "II" and ip.status == "valid" and not ip.is_used_for_hnte),
        },
        "qualifications": qualifications,
        "can_change": can_change,
        "can_add_year": user.has_perm("enterprises.add_enterpriseyear"),
        "can_change_year": user.has_perm("enterprises.change_enterpriseyear"),
        "can_add_ip": user.has_perm("enterprises.add_ipasset"),
        "can_change_ip": user.has_perm("enterprises.change_ipasset"),
        "can_add_qualification": user.has_perm("enterprises.add_qualification"),
        "can_change_qualification": user.has_perm("enterprises.change_qualification"),
        "can_view_history": user.has_perm("enterprises.view_history"),
        # Contact phones are personal data: shown to those who maintain the enterprise, masked for others.
        "show_phone": can_change,
    }


def _num(value):
    return None if value is None else float(value)


@dataclass
class Change:
    when: object
    who: str
    what: str  # the object changed, e.g. "2024年 年度数据"
    action: str  # 新增 / 修改 / 删除
    reason: str
    fields: list  # [(label, old, new)]


def enterprise_changes(*, enterprise: Enterprise) -> list[Change]:
    """Who changed what, when: the enterprise and all its years, IP and qualifications, newest first."""
    from kechuang.enterprises.models import EnterpriseYear, IPAsset

    sources = [
        (Enterprise.history.filter(id=enterprise.pk), lambda r: "企业信息"),
        (EnterpriseYear.history.filter(enterprise_id=enterprise.pk), lambda r: f"{r.year}年 年度数据"),
        (IPAsset.history.filter(enterprise_id=enterprise.pk), lambda r: f"知识产权 {r.number}"),
        (Qualification.history.filter(enterprise_id=enterprise.pk), lambda r: f"资质 {r.get_kind_display()}"),
    ]
    changes: list[Change] = []
    for history, describe in sources:
        records = list(history.select_related("history_user").order_by("id", "history_date", "history_id"))
        previous_by_id: dict = {}
        for record in records:
            previous = previous_by_id.get(record.id)
            fields = []
            if record.history_type == "~" and previous is not None:
                delta = record.diff_against(previous)
                for change in delta.changes:
                    field = record.instance_type._meta.get_field(change.field)
                    fields.append((str(field.verbose_name), _shown(previous, field), _shown(record, field)))
            elif record.history_type == "+":
                fields = []
            changes.append(
                Change(
                    when=record.history_date,
                    who=(record.history_user.get_full_name() or record.history_user.username) if record.history_user else "系统",
                    what=describe(record),
                    action={"+": "新增", "~": "修改", "-": "删除"}[record.history_type],
                    reason=record.history_change_reason or "",
                    fields=fields,
                )
            )
            previous_by_id[record.id] = record
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes


def _shown(record, field) -> str:
    value = getattr(record, field.attname)
    if value is None or value == "":
        return "（空）"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        related = field.related_model.objects.filter(pk=value).first()
        return str(related) if related else str(value)
    return str(value)
