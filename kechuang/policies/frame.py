"""The policy frame from the registry (columns.py): one code path for the whole registry and for one enterprise
(a queryset of one).

The rules engine's situation frame (tiering.situation, five queries) gives the yearly figures, IP counts and facts;
three more queries give the enterprise's own fields, its certificates (held on the run's date, issued in the
period) and its period figures (PolicyFigure). When an item reads a result of the rules engine ("assessed"
conditions), the engine evaluates the situations once, with the parameters in force (tiering.services).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import FloatField, Q, QuerySet
from django.db.models.functions import Cast

from kechuang import rules
from kechuang.enterprises import choices
from kechuang.enterprises.models import Enterprise, EnterpriseYear, Park, Qualification
from kechuang.policies import columns as cols
from kechuang.policies.models import PolicyFigure
from kechuang.policies.periods import Period
from kechuang.rules import parameters
from kechuang.tiering import services as tiering_services
from kechuang.tiering.models import Assessment, AssessmentRun
from kechuang.tiering.situation import (
    EQUITY_COLUMNS,
    IN_SHANGHAI,
    IP_COLUMNS,
    RD_INSTITUTION_COLUMNS,
    RESIDENT_IN_CHINA,
    TITLE_COLUMNS,
    YEAR_COLUMNS,
    situation_frame,
)

# Situation columns only the whole situation read fills (IP counts, equity financing, R&D institutions).
FULL_ONLY = frozenset((*IP_COLUMNS, *EQUITY_COLUMNS, *RD_INSTITUTION_COLUMNS))


def policy_frame(
    *,
    enterprises: QuerySet[Enterprise],
    on: dt.date,
    period: Period,
    assessed: bool,
    parameter_set: parameters.ParameterSet | None = None,
    columns: list[str] | None = None,
    assessment_run: AssessmentRun | None = None,
) -> pl.DataFrame:
    """The policy frame of `enterprises` (ordered by primary key) as known on `on`, for `period`.
    `assessed`: add the rules engine's result of every qualification (with `parameter_set`, default the
    parameters in force). `columns`: the columns the caller reads (None: all). When the rules engine is not
    needed and none of them is one that only the whole situation read fills (FULL_ONLY), the situation is read
    lean — the enterprises and only the yearly figures asked for, the same values by the same queries as
    tiering.situation — which is most of a run's time saved on 100,000 enterprises; every other column is
    null either way, or filled below.
    `assessment_run`: a finished tiering run on `on` with the same parameters (selectors.covering_assessment_run):
    the rules engine's results are read from it (only the areas `columns` name), so the situation is read lean
    too; the enterprises it did not assess (registered since) are evaluated here."""
    stored = assessed and assessment_run is not None
    full = (assessed and not stored) or columns is None or not FULL_ONLY.isdisjoint(columns)
    if full:
        situation = situation_frame(enterprises=enterprises, on=on)
    else:
        situation = _lean_situation(enterprises, on, [c for c in columns if c in YEAR_COLUMNS])
    frame = situation.with_columns(pl.col("enterprise_id").cast(pl.Int64))
    pks = enterprises.values("pk")

    own = _frame(
        enterprises.order_by("pk").values_list("pk", "status", "park__name", "industry", "hitech_field"),
        {
            "enterprise_id": pl.Int64,
            "status": pl.String,
            "park": pl.String,
            "industry": pl.String,
            "hitech_field": pl.String,
        },
    ).with_columns(pl.col("industry", "hitech_field").replace("", None))
    frame = frame.join(own, on="enterprise_id", how="left")

    issued_until = min(period.end, on)
    held = _frame(
        Qualification.objects.filter(enterprise_id__in=pks)
        .filter(
            Q(issue_date__lte=on, expiry_date__isnull=True)
            | Q(issue_date__lte=on, expiry_date__gte=on)
            | Q(issue_date__gte=period.start, issue_date__lte=issued_until)
        )
        .values_list("enterprise_id", "kind", "issue_date", "expiry_date")
        .order_by(),
        {"enterprise_id": pl.Int64, "kind": pl.String, "issue_date": pl.Date, "expiry_date": pl.Date},
    )
    valid = (pl.col("issue_date") <= on) & (pl.col("expiry_date").is_null() | (pl.col("expiry_date") >= on))
    new = (pl.col("issue_date") >= period.start) & (pl.col("issue_date") <= issued_until)
    flags = held.group_by("enterprise_id").agg(
        *(
            (valid & (pl.col("kind") == kind)).any().alias(f"held_{kind}")
            for kind in cols.QUALIFICATION_KINDS
        ),
        *((new & (pl.col("kind") == kind)).any().alias(f"new_{kind}") for kind in cols.QUALIFICATION_KINDS),
    )
    flag_columns = [c for c in flags.columns if c != "enterprise_id"]
    # The registry is the register of certificates: none recorded means none held.
    frame = frame.join(flags, on="enterprise_id", how="left").with_columns(
        pl.col(flag_columns).fill_null(False)
    )
    if not full:  # the situation's titles held on `on` (hnte_valid …) are the same certificates
        frame = frame.with_columns(
            pl.col(f"held_{kind}").alias(column) for column, kind in TITLE_COLUMNS.items()
        )

    figures = _frame(
        PolicyFigure.objects.filter(enterprise_id__in=pks, period=period.code)
        .values_list("enterprise_id", "name", Cast("value", FloatField()))
        .order_by(),
        {"enterprise_id": pl.Int64, "name": pl.String, "value": pl.Float64},
    )
    if figures.height:
        wide = figures.pivot(on="name", index="enterprise_id", values="value", aggregate_function="first")
        frame = frame.join(wide, on="enterprise_id", how="left")

    if stored:
        areas = [a for a, c in cols.ASSESSED.items() if columns is None or c in columns]
        statuses = stored_statuses(enterprises, assessment_run, areas)
        missing = frame.join(statuses, on="enterprise_id", how="anti")["enterprise_id"].to_list()
        if missing:  # registered since the tiering run: evaluated now, as a run without one would
            unassessed = (
                enterprises.filter(pk__in=missing)
                if len(missing) <= 1000
                else enterprises.exclude(
                    pk__in=Assessment.objects.filter(run=assessment_run, area=areas[0]).values(
                        "enterprise_id"
                    )
                )
            )
            situation = situation_frame(enterprises=unassessed, on=on)
            statuses = pl.concat(
                [statuses, _evaluated(situation, on, parameter_set).select(statuses.columns)]
            )
        frame = frame.join(statuses, on="enterprise_id", how="left")
    elif assessed:
        frame = frame.join(_evaluated(situation, on, parameter_set), on="enterprise_id", how="left")
    return cols.conform(frame.sort("enterprise_id"))


def _evaluated(situation: pl.DataFrame, on: dt.date, parameter_set) -> pl.DataFrame:
    """The rules engine's status of every qualification (assessed_<area>) of the situations, evaluated now."""
    with parameters.using(parameter_set or tiering_services.parameter_set()):
        result = rules.evaluate(situation, on)
    return result.select(
        pl.col("enterprise_id").cast(pl.Int64),
        *(pl.col(column).alias(cols.ASSESSED[area]) for area, column in rules.RESULT_COLUMN.items()),
    )


def stored_statuses(
    enterprises: QuerySet[Enterprise], assessment_run: AssessmentRun, areas: list[str]
) -> pl.DataFrame:
    """(enterprise_id, assessed_<area>…) as a finished tiering run stored them: three narrow columns of the
    areas asked for, read by the run's (run, area, status, enterprise) index, pivoted to one row per enterprise."""
    rows = Assessment.objects.filter(run=assessment_run, area__in=areas)
    if enterprises.query.where:  # one enterprise, or a subset: not the whole registry
        rows = rows.filter(enterprise_id__in=enterprises.values("pk"))
    long = _frame(
        rows.values_list("enterprise_id", "area", "status").order_by(),
        {"enterprise_id": pl.Int64, "area": pl.String, "status": pl.String},
    )
    if not long.height:
        wide = pl.DataFrame(schema={"enterprise_id": pl.Int64})
    else:
        wide = long.pivot(on="area", index="enterprise_id", values="status", aggregate_function="first")
    return wide.select(
        "enterprise_id",
        *(
            (pl.col(area) if area in wide.columns else pl.lit(None, dtype=pl.String))
            .cast(rules.STATUS)
            .alias(cols.ASSESSED[area])
            for area in areas
        ),
    )


def _lean_situation(enterprises: QuerySet[Enterprise], on: dt.date, yearly: list[str]) -> pl.DataFrame:
    """The part of tiering.situation.situation_frame a lean read needs: the enterprise's own columns and the
    yearly figures in `yearly` (of the years they lag), read as that function reads them."""
    base = _frame(
        enterprises.order_by("pk").values_list("pk", "registration_date", "is_listed", "status"),
        {"pk": pl.Int64, "registration_date": pl.Date, "is_listed": pl.Boolean, "status": pl.String},
    )
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
    if yearly:
        stems = sorted({YEAR_COLUMNS[c][0] for c in yearly})
        lags = sorted({YEAR_COLUMNS[c][1] for c in yearly})
        years = _frame(
            EnterpriseYear.objects.filter(
                enterprise_id__in=enterprises.values("pk"), year__in=[on.year - lag for lag in lags]
            ).values_list("enterprise_id", "year", *(Cast(name, FloatField()) for name in stems)),
            {"pk": pl.Int64, "year": pl.Int64, **dict.fromkeys(stems, pl.Float64)},
        )
        for lag in lags:
            wanted = {c: YEAR_COLUMNS[c][0] for c in yearly if YEAR_COLUMNS[c][1] == lag}
            of_lag = years.filter(pl.col("year") == on.year - lag).select(
                "pk", *(pl.col(stem).alias(column) for column, stem in wanted.items())
            )
            frame = frame.join(of_lag, on="pk", how="left")
    return frame.drop("pk")


def _frame(queryset: QuerySet, schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of a values_list queryset as a frame, read without Django's per-value converters (as
    tiering.situation reads the registry)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return pl.DataFrame(schema=schema)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def park_tree() -> dict[str, list[str]]:
    """Park name → its name and the names of every park under it (so a condition on a park includes them)."""
    rows = list(Park.objects.values_list("pk", "name", "parent_id"))
    names = {pk: name for pk, name, _ in rows}
    children: dict[int | None, list[int]] = {}
    for pk, _, parent in rows:
        children.setdefault(parent, []).append(pk)
    tree = {}
    for pk, name, _ in rows:
        found, frontier = [pk], [pk]
        while frontier:
            frontier = [child for parent in frontier for child in children.get(parent, [])]
            found += frontier
        tree[name] = [names[p] for p in found]
    return tree


def code_lists() -> dict[str, dict[str, Any]]:
    """The allowed values of the text columns a condition may compare (code → label)."""
    return {
        "status": dict(choices.EnterpriseStatus.choices),
        "industry": dict(choices.Industry.choices),
        "hitech_field": dict(choices.HitechField.choices),
        "park": {name: name for name in Park.objects.values_list("name", flat=True)},
    }
