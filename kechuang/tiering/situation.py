"""The situation frame from the registry: what the rules engine reads, one row per enterprise.

One code path for the whole population and for one enterprise (a queryset of one). A fixed number of
queries whatever the number of enterprises: the enterprises, their years y−1..y−3, their IP counts, and
their HNTE certificates in force on the assessment date. A column the registry cannot fill (expert
scores, 科技成果转化, facts from other records) stays null, which the engine reports as unknown.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from django.db.models import Count, Q, QuerySet

from kechuang.enterprises import choices
from kechuang.enterprises.models import EnterpriseYear, IPAsset, Qualification
from kechuang.rules import inputs

_LAGGED = re.compile(r"^(?P<stem>.+)_lag(?P<lag>\d)$")
_YEAR_FIELDS = {field.name for field in EnterpriseYear._meta.get_fields()}

# situation column → (EnterpriseYear field, lag), for every lagged column the registry holds.
YEAR_COLUMNS: dict[str, tuple[str, int]] = {
    column.name: (match["stem"], int(match["lag"]))
    for column in inputs.COLUMNS
    if (match := _LAGGED.match(column.name)) and match["stem"] in _YEAR_FIELDS
}
YEAR_FIELDS = sorted({stem for stem, _ in YEAR_COLUMNS.values()})
LAGS = sorted({lag for _, lag in YEAR_COLUMNS.values()})

IP_COLUMNS = ("ip_class_i_count", "ip_class_ii_count", "ip_class_ii_unused_count", "ip_has_own_rd")
REGISTRY_COLUMNS = frozenset({"enterprise_id", "registration_date", "hnte_valid", *YEAR_COLUMNS, *IP_COLUMNS})


def situation_frame(*, enterprises: QuerySet, on: date) -> pl.DataFrame:
    """The situation frame of `enterprises` (ordered by primary key) as known on `on`.

    Years are counted back from `on`'s year: `_lag1` is y−1. IP counts are of assets in force (status
    有效, granted on or before `on` or with no grant date recorded); Ⅱ类 "unused" means not yet used in
    an HNTE application. An enterprise with no IP in the registry has counts of 0 (the registry is the
    IP register); a year not in the registry is null, never 0.
    """
    pks = enterprises.values("pk")
    base = list(enterprises.order_by("pk").values_list("pk", "registration_date"))  # query 1

    rows: dict[int, dict[str, Any]] = {
        pk: {
            "enterprise_id": str(pk),
            "registration_date": registered,
            "ip_class_i_count": 0,
            "ip_class_ii_count": 0,
            "ip_class_ii_unused_count": 0,
            "ip_has_own_rd": False,
            "hnte_valid": False,
        }
        for pk, registered in base
    }

    lag_of_year = {on.year - lag: lag for lag in LAGS}
    years = EnterpriseYear.objects.filter(enterprise_id__in=pks, year__in=list(lag_of_year)).values(
        "enterprise_id", "year", *YEAR_FIELDS
    )  # query 2
    wanted = {(stem, lag): column for column, (stem, lag) in YEAR_COLUMNS.items()}
    for figures in years:
        row = rows.get(figures["enterprise_id"])
        if row is None:
            continue
        lag = lag_of_year[figures["year"]]
        for stem in YEAR_FIELDS:
            column = wanted.get((stem, lag))
            if column is not None:
                row[column] = _number(figures[stem])

    in_force = Q(status=choices.IPStatus.VALID) & (Q(grant_date__isnull=True) | Q(grant_date__lte=on))
    class_i = Q(ip_type__in=list(choices.CLASS_I_TYPES))
    class_ii = Q(ip_type__in=list(choices.CLASS_II_TYPES))
    counts = (
        IPAsset.objects.filter(in_force, enterprise_id__in=pks)
        .values("enterprise_id")
        .order_by("enterprise_id")
        .annotate(
            class_i=Count("pk", filter=class_i),
            class_ii=Count("pk", filter=class_ii),
            class_ii_unused=Count("pk", filter=class_ii & Q(hnte_used_year__isnull=True)),
            own_rd=Count("pk", filter=(class_i | class_ii) & Q(acquisition=choices.IPAcquisition.OWN_RD)),
        )
    )  # query 3
    for count in counts:
        row = rows.get(count["enterprise_id"])
        if row is None:
            continue
        row["ip_class_i_count"] = count["class_i"]
        row["ip_class_ii_count"] = count["class_ii"]
        row["ip_class_ii_unused_count"] = count["class_ii_unused"]
        row["ip_has_own_rd"] = count["own_rd"] > 0

    hnte_holders = (
        Qualification.objects.valid_on(on)
        .filter(kind=choices.QualificationKind.HNTE, enterprise_id__in=pks)
        .values_list("enterprise_id", flat=True)
        .distinct()
    )  # query 4
    for pk in hnte_holders:
        if pk in rows:
            rows[pk]["hnte_valid"] = True

    return inputs.situation_frame(rows.values())


def _number(value: Decimal | None) -> float | None:
    """Decimal yuan (or people) from the database as the float the engine reads; null stays null."""
    return None if value is None else float(value)
