"""Indicators the registry holds the data for: computed live on a date, never typed in, each with the
enterprises behind its number (the drill-down).

A count is of enterprises (not certificates) holding a qualification in force on the date (有效期内:
issued on or before it and not past its last valid day), optionally within a park and its sub-parks.

A year's figure of 认定登记 (YearTotal: 高转项目认定数量, 技术合同成交额) is counted from the recognitions records
instead: on a date, the records of that date's year up to it (year to date; 31 December gives the whole year).
It has no breakdown by enterprise (`by_registry` False); its drill-down is the records' own list.

校企双向发榜成功对接项目 (SuccessfulDockings) is counted the same way from the dockings of 双向发榜 (kechuang/matching):
on a date, the dockings whose 签约日期 falls in that date's year up to it and that are 签约 or 落地 now (a docking
moved on to 落地 stays one; one signed and then declined, 未成, no longer counts), within a park by the demand's
enterprise. Its drill-down is the docking list filtered to those dockings. Unlike the recognitions figures it is
remembered (cached) until a docking or the registry changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from django.apps import apps
from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.urls import reverse

from kechuang.enterprises.choices import QualificationKind as Kind
from kechuang.enterprises.choices import QualificationLevel as Level
from kechuang.enterprises.models import Enterprise, Qualification
from kechuang.matching.models import Docking
from kechuang.matching.workflows import SUCCESSFUL_DOCKING_STATES


@dataclass(frozen=True)
class Computed:
    definition: str  # what is counted, in Chinese, shown next to the number
    kinds: tuple[str, ...]
    levels: tuple[str, ...] = ()  # empty: any level
    by_registry: ClassVar[bool] = True  # enterprises holding qualifications: broken down by park and field
    source_name: ClassVar[str] = "企业库"  # where the number is counted, on the pages
    drilldown_label: ClassVar[str] = "企业明细"

    def qualifications(self) -> QuerySet[Qualification]:
        found = Qualification.objects.filter(kind__in=self.kinds)
        return found.filter(level__in=self.levels) if self.levels else found

    def enterprises(self, on: dt.date, park_ids: Iterable[int] | None = None) -> QuerySet[Enterprise]:
        """The enterprises behind the number on `on`."""
        held = self.qualifications().valid_on(on).filter(enterprise=OuterRef("pk"))
        found = Enterprise.objects.filter(Exists(held))
        return found.filter(park_id__in=list(park_ids)) if park_ids is not None else found

    def value(self, on: dt.date, park_ids: Iterable[int] | None = None) -> int:
        return self.enterprises(on, park_ids).count()

    def values(self, dates: Iterable[dt.date], park_ids: Iterable[int] | None = None) -> dict[dt.date, int]:
        """The value on each of several dates, in one query (the trend of a chart); remembered until the
        registry changes (see cached)."""
        dates = list(dates)
        parks = sorted(park_ids) if park_ids is not None else None
        return cached(
            ("values", self.kinds, self.levels, tuple(dates), parks), lambda: self._values(dates, parks)
        )

    def _values(self, dates: list[dt.date], park_ids: list[int] | None) -> dict[dt.date, int]:
        found = self.qualifications()
        if park_ids is not None:
            found = found.filter(enterprise__park_id__in=list(park_ids))
        if not dates:
            return {}
        counts = found.aggregate(
            **{
                f"d{i}": Count(
                    "enterprise",
                    distinct=True,
                    filter=Q(issue_date__lte=on) & (Q(expiry_date__isnull=True) | Q(expiry_date__gte=on)),
                )
                for i, on in enumerate(dates)
            }
        )
        return {on: counts[f"d{i}"] for i, on in enumerate(dates)}


# A count on a date changes only when a certificate or an enterprise does (a park, a deregistration). Every such
# change goes through the models or the import, which write a history row, or adds a certificate (a higher id):
# the latest of those ids says whether a remembered count still holds. The time limit bounds what a write
# outside both (a demo reload) could leave behind.
CACHE_SECONDS = 600


def registry_state() -> tuple:
    return (
        Qualification.objects.aggregate(last=Max("pk"))["last"],
        Qualification.history.aggregate(last=Max("history_id"))["last"],
        Enterprise.objects.aggregate(last=Max("pk"))["last"],
        Enterprise.history.aggregate(last=Max("history_id"))["last"],
    )


def docking_state() -> tuple:
    """The registry's state and the dockings': every docking step (matching.services) saves the docking with a
    history row, so a transition (签约, 落地, 未成) or a new or deleted docking gives a higher history id."""
    return (
        *registry_state(),
        Docking.objects.aggregate(last=Max("pk"))["last"],
        Docking.history.aggregate(last=Max("history_id"))["last"],
    )


def cached(key: tuple, compute, state=registry_state):
    """compute(), remembered for the data as it is now: `state()` (default: the registry's) is part of the key."""
    name = "computed:" + hashlib.sha256(repr((key, state())).encode()).hexdigest()
    found = cache.get(name)
    if found is None:
        found = compute()
        cache.set(name, found, CACHE_SECONDS)
    return found


@dataclass(frozen=True)
class YearTotal:
    """A figure of the year counted from the records of a recognitions model: the records in `state` whose
    `date_field` falls in the year of the date, up to the date; their number, or the sum of `amount_field` in
    units of `scale` yuan (1e8 for 亿元) rounded to `places` decimals. Within a park (with its sub-parks): the
    records of its enterprises."""

    definition: str
    model: str  # "recognitions.TechContract"
    date_field: str
    state: str
    list_url: str  # the records' list page (URL name), filtered by ?year=
    amount_field: str = ""  # empty: a count
    scale: Decimal = Decimal(1)
    places: int = 0
    by_registry: ClassVar[bool] = False
    source_name: ClassVar[str] = "认定登记记录"  # where the number is counted, on the pages
    drilldown_label: ClassVar[str] = "记录明细"

    def _within(self, on: dt.date) -> Q:
        return Q(**{f"{self.date_field}__gte": dt.date(on.year, 1, 1), f"{self.date_field}__lte": on})

    def _found(self, park_ids: Iterable[int] | None) -> QuerySet:
        found = apps.get_model(self.model).objects.filter(state=self.state)
        return found.filter(enterprise__park_id__in=list(park_ids)) if park_ids is not None else found

    def records(self, on: dt.date, park_ids: Iterable[int] | None = None) -> QuerySet:
        """The records behind the value on `on`."""
        return self._found(park_ids).filter(self._within(on))

    def value(self, on: dt.date, park_ids: Iterable[int] | None = None):
        return self.values([on], park_ids)[on]

    def values(self, dates: Iterable[dt.date], park_ids: Iterable[int] | None = None) -> dict:
        """The value on each of several dates, in one query (never remembered: a registration shows at once)."""
        dates = list(dates)
        if not dates:
            return {}
        if self.amount_field:
            measures = {
                f"d{i}": Sum(self.amount_field, filter=self._within(on)) for i, on in enumerate(dates)
            }
        else:
            measures = {f"d{i}": Count("pk", filter=self._within(on)) for i, on in enumerate(dates)}
        found = self._found(park_ids).aggregate(**measures)
        return {on: self._shown(found[f"d{i}"]) for i, on in enumerate(dates)}

    def _shown(self, raw):
        if not self.amount_field:
            return raw or 0
        return (Decimal(raw or 0) / self.scale).quantize(Decimal(1).scaleb(-self.places))

    def records_url(self, on: dt.date) -> str:
        return f"{reverse(self.list_url)}?year={on.year}&state={self.state}"


@dataclass(frozen=True)
class SuccessfulDockings:
    """校企双向发榜成功对接项目: on a date, the dockings signed (签约日期) in its year up to it that are 签约 or 落地
    now (see the module's docstring); within a park (with its sub-parks), those of its enterprises' demands."""

    definition: str
    list_url: str = "matching:docking-board"  # filtered by ?state=successful&signed_year=
    by_registry: ClassVar[bool] = False
    source_name: ClassVar[str] = "对接记录"
    drilldown_label: ClassVar[str] = "对接明细"

    @staticmethod
    def _within(on: dt.date) -> Q:
        return Q(signed_on__gte=dt.date(on.year, 1, 1), signed_on__lte=on)

    def _found(self, park_ids: Iterable[int] | None) -> QuerySet[Docking]:
        found = Docking.objects.filter(state__in=SUCCESSFUL_DOCKING_STATES)
        return found.filter(demand__enterprise__park_id__in=list(park_ids)) if park_ids is not None else found

    def records(self, on: dt.date, park_ids: Iterable[int] | None = None) -> QuerySet[Docking]:
        """The dockings behind the value on `on`."""
        return self._found(park_ids).filter(self._within(on))

    def value(self, on: dt.date, park_ids: Iterable[int] | None = None) -> int:
        return self.values([on], park_ids)[on]

    def values(self, dates: Iterable[dt.date], park_ids: Iterable[int] | None = None) -> dict[dt.date, int]:
        """The value on each of several dates, in one query, remembered until a docking or the registry changes."""
        dates = list(dates)
        parks = sorted(park_ids) if park_ids is not None else None
        return cached(
            ("successful_dockings", tuple(dates), parks),
            lambda: self._values(dates, parks),
            state=docking_state,
        )

    def _values(self, dates: list[dt.date], park_ids: list[int] | None) -> dict[dt.date, int]:
        if not dates:
            return {}
        counts = self._found(park_ids).aggregate(
            **{f"d{i}": Count("pk", filter=self._within(on)) for i, on in enumerate(dates)}
        )
        return {on: counts[f"d{i}"] or 0 for i, on in enumerate(dates)}

    def records_url(self, on: dt.date) -> str:
        return f"{reverse(self.list_url)}?state=successful&signed_year={on.year}&sort=-signed"


COMPUTED: dict[str, Computed | YearTotal | SuccessfulDockings] = {
    "hnte_valid": Computed("持有有效期内高新技术企业证书的企业数", (Kind.HNTE,)),
    "tech_sme_valid": Computed("入库有效期内的科技型中小企业数", (Kind.TECH_SME,)),
    "innovative_sme_valid": Computed("有效期内的创新型中小企业数", (Kind.INNOVATIVE_SME,)),
    "srdi_municipal_up": Computed(
        "市级以上专精特新企业数：有效期内的市级专精特新中小企业和国家级专精特新“小巨人”企业",
        (Kind.SPECIALISED_SME, Kind.LITTLE_GIANT),
        (Level.MUNICIPAL, Level.NATIONAL),
    ),
    "little_giant_valid": Computed("有效期内的国家级专精特新“小巨人”企业数", (Kind.LITTLE_GIANT,)),
    "sh_tech_giant_all": Computed(
        "上海市科技小巨人企业和科技小巨人培育企业数（累计认定，未撤销）",
        (Kind.SH_TECH_GIANT, Kind.SH_TECH_GIANT_CULTIVATION),
    ),
    "academician_workstations": Computed(
        "院士（专家）工作站数（建站企业数）", (Kind.ACADEMICIAN_WORKSTATION,)
    ),
    "unicorn_valid": Computed("独角兽企业数", (Kind.UNICORN,)),
    "gazelle_valid": Computed("瞪羚企业数", (Kind.GAZELLE,)),
    # 认定登记 (kechuang/recognitions): the year's recognitions and registrations, by their own dates.
    "hitech_transfer_projects": YearTotal(
        "当年认定的高新技术成果转化项目数（沪科规〔2020〕8号；按认定日期，当年 1 月 1 日起至该日）",
        "recognitions.TransformationProject",
        "recognised_on",
        "recognised",
        "recognitions:project-list",
    ),
    "tech_contract_turnover": YearTotal(
        "当年认定登记的技术合同成交额（亿元；按登记日期，当年 1 月 1 日起至该日，已登记且未注销的合同）",
        "recognitions.TechContract",
        "registered_on",
        "registered",
        "recognitions:contract-list",
        amount_field="total_amount",
        scale=Decimal(100_000_000),
        places=4,
    ),
    # 双向发榜 (kechuang/matching): dockings that reached 签约 in the year.
    "two_way_listing_projects": SuccessfulDockings(
        "当年校企双向发榜成功对接的项目数（按签约日期，当年 1 月 1 日起至该日；现为签约或落地的对接，签约后未成的不计）"
    ),
}
