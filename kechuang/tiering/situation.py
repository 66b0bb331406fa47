"""The situation frame from the registry: what the rules engine reads, one row per enterprise.

One code path for the whole population and for one enterprise (a queryset of one). A fixed number of
queries whatever the number of enterprises (five): the enterprises, their years y−1..y−4, their equity
financing over all years up to y−1, their IP counts, and their certificates in force on the assessment
date. A column the registry cannot fill (expert scores, 科技成果转化, market share, facts from other
records) stays null, which the engine reports as unknown.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Cast

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

K = choices.QualificationKind
L = choices.QualificationLevel

# Titles held on the assessment date: situation column → Qualification kind.
TITLE_COLUMNS: dict[str, str] = {
    "hnte_valid": K.HNTE,
    "tech_sme_valid": K.TECH_SME,
    "innovative_sme_valid": K.INNOVATIVE_SME,
    "srdi_valid": K.SPECIALISED_SME,
    "little_giant_valid": K.LITTLE_GIANT,
}
# Qualification.level of a 研发机构 → rd_institution_level. 上海市级 is 省级: Shanghai is a
# provincial-level municipality; a district's (区级) is below the prefecture level (地市级以下).
RD_INSTITUTION_LEVELS: dict[str, str] = {
    L.NATIONAL: "national",
    L.MUNICIPAL: "provincial",
    L.DISTRICT: "below",
}
_LEVEL_RANK = {"national": 3, "provincial": 2, "city": 1, "below": 0}

# The registry is the district's: an enterprise in business there is registered and pays tax in
# Shanghai; where a moved-out one went is not recorded; a deregistered one is registered nowhere.
IN_SHANGHAI: dict[str, bool | None] = {
    choices.EnterpriseStatus.ACTIVE: True,
    choices.EnterpriseStatus.MOVED_OUT: None,
    choices.EnterpriseStatus.DEREGISTERED: False,
}

# Every enterprise of the registry has a 统一社会信用代码 (GB 32100): it is registered in mainland China,
# hence a resident enterprise (科小第六条(一)) until it is deregistered.
RESIDENT_IN_CHINA: dict[str, bool] = {
    choices.EnterpriseStatus.ACTIVE: True,
    choices.EnterpriseStatus.MOVED_OUT: True,
    choices.EnterpriseStatus.DEREGISTERED: False,
}

IP_COLUMNS = (
    "ip_class_i_count",
    "ip_class_ii_count",
    "ip_class_ii_unused_count",
    "ip_has_own_rd",
    "ip_class_i_own_rd_count",
    "ip_class_ii_mature_count",
)
EQUITY_COLUMNS = ("equity_financing_total", "has_private_equity")
RD_INSTITUTION_COLUMNS = ("rd_institution_level", "provincial_rd_institution", "rd_institution_own_or_joint")
REGISTRY_COLUMNS = frozenset(
    {
        "enterprise_id",
        "registration_date",
        "is_listed",
        "in_shanghai",
        "resident_in_china",
        *YEAR_COLUMNS,
        *EQUITY_COLUMNS,
        *IP_COLUMNS,
        *TITLE_COLUMNS,
        *RD_INSTITUTION_COLUMNS,
    }
)


def situation_frame(*, enterprises: QuerySet, on: date) -> pl.DataFrame:
    """The situation frame of `enterprises` (ordered by primary key) as known on `on`.

    Years are counted back from `on`'s year y: `_lag1` is y−1, down to `_lag4` (y−4, the base year of
    a three-year growth rate); a year not in the registry is null, never 0. `equity_financing_total`
    sums 新增股权融资 over every recorded year up to y−1 (null when no year records it);
    `has_private_equity` is whether one of those years records more than 0 (False when they record only
    0, null when none records the figure). `is_listed` is the enterprise's flag as it stands today.
    `in_shanghai` is True for an enterprise in business (存续): the registry is the district's (松江区), so
    its enterprises are registered and pay tax in Shanghai; it is unknown (null) for one that moved out
    (迁出, perhaps elsewhere in Shanghai) and False for one deregistered (注销).

    IP counts are of assets in force (status 有效, granted on or before `on` or with no grant date
    recorded); an enterprise with no IP in the registry has counts of 0 (the registry is the IP
    register). Ⅱ类 "unused" means not yet used in an HNTE application. For 梯度培育 (工信部企业〔2022〕63号
    附件4) Ⅱ类 is every 软件著作权 plus the 实用新型 and 外观设计 patents granted more than two years
    before `on` (granted exactly two years before is not yet "more than"); the registry keeps a status,
    not a maintenance history, so "maintained" is read as 有效 with such a grant date. Ⅰ类高价值 and Ⅰ类
    related to the main product are not recorded and stay null. Ⅰ类 "transferred in less than a year"
    is not excluded: the registry keeps no transfer date (the own-R&D count is not affected).

    Titles (高企, 科小, 创新型, 专精特新, 小巨人) are certificates in force on `on`, False when none is.
    `rd_institution_level` is the best level of the 研发机构 certificates in force: 国家级 → national,
    市级 (上海市级 = 省级) → provincial, 区级 → below, none without one; a certificate with no level
    recorded makes it unknown (null) unless a national one is held. `provincial_rd_institution` is
    national or provincial; `rd_institution_own_or_joint` is True when one is held and unknown
    otherwise (an institution that no authority recognised is not in the registry).
    """
    pks = enterprises.values("pk")
    base = _frame(
        enterprises.order_by("pk").values_list("pk", "registration_date", "is_listed", "status"),
        {"pk": pl.Int64, "registration_date": pl.Date, "is_listed": pl.Boolean, "status": pl.String},
    )  # query 1
    frame = base.select(
        pl.col("pk"),
        pl.col("pk").cast(pl.String).alias("enterprise_id"),
        "registration_date",
        "is_listed",
        pl.col("status")
        .replace_strict(IN_SHANGHAI, default=None, return_dtype=pl.Boolean)
        .alias("in_shanghai"),
        pl.col("status")
        .replace_strict(RESIDENT_IN_CHINA, default=None, return_dtype=pl.Boolean)
        .alias("resident_in_china"),
    )

    lag_of_year = {on.year - lag: lag for lag in LAGS}
    years = _frame(
        EnterpriseYear.objects.filter(enterprise_id__in=pks, year__in=list(lag_of_year)).values_list(
            "enterprise_id", "year", *(Cast(name, FloatField()) for name in YEAR_FIELDS)
        ),
        {"pk": pl.Int64, "year": pl.Int64, **dict.fromkeys(YEAR_FIELDS, pl.Float64)},
    )  # query 2
    for lag in LAGS:
        wanted = {stem: column for column, (stem, k) in YEAR_COLUMNS.items() if k == lag}
        of_lag = years.filter(pl.col("year") == on.year - lag).select(
            "pk", *(pl.col(stem).alias(column) for stem, column in wanted.items())
        )
        frame = frame.join(of_lag, on="pk", how="left")

    equity = _frame(
        EnterpriseYear.objects.filter(enterprise_id__in=pks, year__lt=on.year)
        .values("enterprise_id")
        .order_by("enterprise_id")
        .annotate(
            total=Sum("equity_financing"),
            recorded=Count("equity_financing"),
            positive=Count("pk", filter=Q(equity_financing__gt=0)),
        )
        .values_list("enterprise_id", Cast("total", FloatField()), "recorded", "positive"),
        {"pk": pl.Int64, "total": pl.Float64, "recorded": pl.Int64, "positive": pl.Int64},
    )  # query 3
    frame = frame.join(
        equity.filter(pl.col("recorded") > 0).select(
            "pk",
            pl.col("total").alias("equity_financing_total"),
            (pl.col("positive") > 0).alias("has_private_equity"),
        ),
        on="pk",
        how="left",
    )

    in_force = Q(status=choices.IPStatus.VALID) & (Q(grant_date__isnull=True) | Q(grant_date__lte=on))
    class_i = Q(ip_type__in=list(choices.CLASS_I_TYPES))
    class_ii = Q(ip_type__in=list(choices.CLASS_II_TYPES))
    own_rd = Q(acquisition=choices.IPAcquisition.OWN_RD)
    mature = Q(ip_type=choices.IPType.SOFTWARE) | Q(
        ip_type__in=[choices.IPType.UTILITY_MODEL, choices.IPType.DESIGN], grant_date__lt=two_years_before(on)
    )
    counts = _frame(
        IPAsset.objects.filter(in_force, enterprise_id__in=pks)
        .values("enterprise_id")
        .order_by("enterprise_id")
        .annotate(
            class_i=Count("pk", filter=class_i),
            class_ii=Count("pk", filter=class_ii),
            class_ii_unused=Count("pk", filter=class_ii & Q(hnte_used_year__isnull=True)),
            own_rd=Count("pk", filter=(class_i | class_ii) & own_rd),
            class_i_own_rd=Count("pk", filter=class_i & own_rd),
            class_ii_mature=Count("pk", filter=mature),
        )
        .values_list(
            "enterprise_id",
            "class_i",
            "class_ii",
            "class_ii_unused",
            "own_rd",
            "class_i_own_rd",
            "class_ii_mature",
        ),
        {
            "pk": pl.Int64,
            "ip_class_i_count": pl.Int64,
            "ip_class_ii_count": pl.Int64,
            "ip_class_ii_unused_count": pl.Int64,
            "_own_rd": pl.Int64,
            "ip_class_i_own_rd_count": pl.Int64,
            "ip_class_ii_mature_count": pl.Int64,
        },
    )  # query 4
    # An enterprise with no IP in the registry has counts of 0: the registry is the IP register.
    frame = (
        frame.join(counts, on="pk", how="left")
        .with_columns(pl.col(column).fill_null(0) for column in counts.columns if column.startswith("ip_"))
        .with_columns(ip_has_own_rd=pl.col("_own_rd").fill_null(0) > 0)
        .drop("_own_rd")
    )

    held = _frame(
        Qualification.objects.valid_on(on)
        .filter(enterprise_id__in=pks, kind__in=[*TITLE_COLUMNS.values(), K.RD_INSTITUTION])
        .values_list("enterprise_id", "kind", "level")
        .order_by()
        .distinct(),
        {"pk": pl.Int64, "kind": pl.String, "level": pl.String},
    )  # query 5
    titles = held.group_by("pk").agg(
        pl.col("kind").is_in([kind]).any().alias(column) for column, kind in TITLE_COLUMNS.items()
    )
    frame = frame.join(titles, on="pk", how="left").with_columns(
        pl.col(column).fill_null(False) for column in TITLE_COLUMNS
    )
    institutions: dict[int, list[str]] = {}
    for pk, level in held.filter(pl.col("kind") == K.RD_INSTITUTION).select("pk", "level").iter_rows():
        institutions.setdefault(pk, []).append(level or "")
    rd = pl.DataFrame(
        [{"pk": pk, **_rd_institution(levels)} for pk, levels in institutions.items()],
        schema={
            "pk": pl.Int64,
            "rd_institution_level": pl.String,
            "provincial_rd_institution": pl.Boolean,
            "rd_institution_own_or_joint": pl.Boolean,
        },
    )
    frame = frame.join(rd, on="pk", how="left").with_columns(
        pl.when(pl.col("pk").is_in(rd["pk"].implode()))
        .then(pl.col("rd_institution_level"))
        .otherwise(pl.lit("none"))
        .alias("rd_institution_level"),
        pl.col("provincial_rd_institution").fill_null(
            pl.when(pl.col("pk").is_in(rd["pk"].implode())).then(None).otherwise(False)
        ),
    )
    return inputs.conform(frame.drop("pk"))


def _frame(queryset: QuerySet, schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of a values_list queryset as a frame, read without Django's per-value converters (which
    cost more than the rest of building the frame: a Decimal quantised per figure and row)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. Enterprise.objects.none()
        return pl.DataFrame(schema=schema)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def two_years_before(on: date) -> date:
    """The same day two years earlier; for 29 February, 1 March (a patent granted on 28 February
    two years before has then been held for more than two years)."""
    try:
        return on.replace(year=on.year - 2)
    except ValueError:
        return date(on.year - 2, 3, 1)


def _rd_institution(levels: list[str]) -> dict[str, Any]:
    """The rd_institution columns of an enterprise holding 研发机构 certificates of these levels
    ("" = level not recorded)."""
    known = [RD_INSTITUTION_LEVELS[level] for level in levels if level in RD_INSTITUTION_LEVELS]
    best = max(known, key=_LEVEL_RANK.__getitem__, default=None)
    unknown_level = len(known) < len(levels)
    if unknown_level and best != "national":
        level = None  # the unrecorded one may rank higher
        provincial = True if best == "provincial" else None
    else:
        level = best
        provincial = best in ("national", "provincial")
    return {
        "rd_institution_level": level,
        "provincial_rd_institution": provincial,
        "rd_institution_own_or_joint": True,
    }
