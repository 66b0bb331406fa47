"""Writes: observations (one at a time or from .xlsx, all or nothing), target parts, alerts to owners.

Every problem is a Chinese message naming the field, the row and the value and what is allowed; nothing is
saved when any is found.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kechuang.core.excel import ImportRejected, RowError  # noqa: F401 (callers catch them from here)
from kechuang.enterprises.models import Park
from kechuang.indicators import selectors
from kechuang.indicators.models import Frequency, Indicator, Observation, ResponsibleUnit, Target, TargetAlert

FIRST_YEAR = 2000
SUB_PERIODS = {Frequency.YEAR: (0, 0), Frequency.QUARTER: (1, 4), Frequency.MONTH: (1, 12)}
SUB_PERIOD_TEXT = {
    Frequency.YEAR: "年度指标的季度/月份须为 0（或留空）",
    Frequency.QUARTER: "季度须为 1–4",
    Frequency.MONTH: "月份须为 1–12",
}


def _number(value: Any, field: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, bool):
        raise ValidationError({field: "必须填写数值"})
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError({field: f"“{value}”不是数字"}) from None
    if not number.is_finite():
        raise ValidationError({field: f"“{value}”不是有限的数字"})
    return number


def observation_errors(
    indicator: Indicator,
    year: Any,
    sub_period: Any,
    park: Park | None,
    value: Any,
    today: dt.date | None = None,
    exclude_pk: int | None = None,
) -> dict[str, str]:
    """What is wrong with an observation, field by field (empty when nothing)."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if indicator.computed:
        errors["indicator"] = f"“{indicator.name}”由企业库自动计算（{indicator.computed}），不能手工录入"
    try:
        year = int(year)
    except (TypeError, ValueError):
        errors["year"] = f"年份“{year}”不是整数"
        year = None
    if year is not None and not FIRST_YEAR <= year <= today.year:
        errors["year"] = f"年份 {year} 不在 {FIRST_YEAR}–{today.year} 之内（不能录入将来的期间）"
    try:
        sub_period = int(sub_period or 0)
    except (TypeError, ValueError):
        errors["sub_period"] = f"季度/月份“{sub_period}”不是整数"
        sub_period = None
    low, high = SUB_PERIODS[indicator.frequency]
    if sub_period is not None and not low <= sub_period <= high:
        errors["sub_period"] = (
            f"期间 {sub_period} 不符合该指标的统计频度（{indicator.get_frequency_display()}）：{SUB_PERIOD_TEXT[indicator.frequency]}"
        )
    try:
        number = _number(value, "value")
    except ValidationError as error:
        errors["value"] = error.message_dict["value"][0]
        number = None
    if number is not None:
        low_v, high_v = indicator.value_min, indicator.value_max
        if (low_v is not None and number < Decimal(str(low_v))) or (
            high_v is not None and number > Decimal(str(high_v))
        ):
            errors["value"] = (
                f"数值 {number} 超出“{indicator.name}”（单位：{indicator.unit}）的合理范围 "
                f"{_plain(low_v)}–{_plain(high_v)}，请检查单位（如 万元/亿元、% 与小数）"
            )
    if not errors:
        same = Observation.objects.filter(indicator=indicator, year=year, sub_period=sub_period, park=park)
        if exclude_pk:
            same = same.exclude(pk=exclude_pk)
        existing = same.first()
        if existing:
            where = f"{park.name}" if park else "全区"
            errors["year"] = (
                f"{where} {existing.period_label} 的“{indicator.name}”已录入（{_plain(existing.value)}{indicator.unit}），如需更正请修改原记录"
            )
    return errors


def _plain(value: Decimal | None) -> str:
    if value is None:
        return "不限"
    return format(Decimal(str(value)).normalize(), "f")


@transaction.atomic
def record_observation(
    indicator: Indicator,
    *,
    year: Any,
    value: Any,
    sub_period: Any = 0,
    park: Park | None = None,
    source: str = "",
    note: str = "",
    user=None,
    today: dt.date | None = None,
) -> Observation:
    errors = observation_errors(indicator, year, sub_period, park, value, today)
    if errors:
        raise ValidationError(errors)
    observation = Observation(
        indicator=indicator,
        year=int(year),
        sub_period=int(sub_period or 0),
        park=park,
        value=_number(value, "value"),
        source=source,
        note=note,
        recorded_by=user,
    )
    observation._history_user = user
    observation.save()
    refresh_alerts(today, indicators=[indicator])
    return observation


@transaction.atomic
def correct_observation(
    observation: Observation, *, value: Any, note: str, user=None, today: dt.date | None = None
) -> Observation:
    """Change a recorded value; the change is kept in its history with who and why."""
    if not note or not note.strip():
        raise ValidationError({"note": "更正须说明原因"})
    errors = observation_errors(
        observation.indicator,
        observation.year,
        observation.sub_period,
        observation.park,
        value,
        today,
        exclude_pk=observation.pk,
    )
    if errors:
        raise ValidationError(errors)
    observation.value = _number(value, "value")
    observation.note = note.strip()
    observation.recorded_by = user
    observation._history_user = user
    observation._change_reason = note.strip()
    observation.save()
    refresh_alerts(today, indicators=[observation.indicator])
    return observation


# --- import from .xlsx ------------------------------------------------------------------------------------

IMPORT_COLUMNS = ("指标代码", "年份", "季度/月份", "园区", "数值", "数据来源", "备注")


FIELD_COLUMN = {
    "indicator": "指标代码",
    "year": "年份",
    "sub_period": "季度/月份",
    "value": "数值",
    "park": "园区",
}


def import_observations(
    rows: list[tuple], *, user=None, source_name: str = "", today: dt.date | None = None
) -> int:
    """Rows after the header, in IMPORT_COLUMNS order. All or nothing: any error → ImportRejected with every
    row's problems; otherwise every row saved. Duplicates within the file are errors too."""
    indicators = {i.code: i for i in Indicator.objects.all()}
    parks = {p.name: p for p in Park.objects.all()} | {
        p.short_name: p for p in Park.objects.exclude(short_name="")
    }
    errors: list[RowError] = []
    good = []
    seen: dict[tuple, int] = {}
    for number, raw in enumerate(rows, start=2):
        row = dict(
            zip(IMPORT_COLUMNS, (*raw, *([None] * len(IMPORT_COLUMNS)))[: len(IMPORT_COLUMNS)], strict=True)
        )
        if all(v is None or str(v).strip() == "" for v in row.values()):
            continue
        code = str(row["指标代码"] or "").strip()
        indicator = indicators.get(code)
        if indicator is None:
            errors.append(RowError(number, "指标代码", row["指标代码"], "没有这个指标代码（见指标目录）"))
            continue
        park = None
        if row["园区"] not in (None, ""):
            park = parks.get(str(row["园区"]).strip())
            if park is None:
                errors.append(RowError(number, "园区", row["园区"], "没有这个园区；全区数据请留空"))
                continue
        found = observation_errors(indicator, row["年份"], row["季度/月份"], park, row["数值"], today)
        for field, message in found.items():
            errors.append(RowError(number, FIELD_COLUMN[field], row[FIELD_COLUMN[field]], message))
        if found:
            continue
        key = (code, int(row["年份"]), int(row["季度/月份"] or 0), park.pk if park else None)
        if key in seen:
            errors.append(
                RowError(number, "年份", row["年份"], f"与第 {seen[key]} 行重复（同一指标、期间、园区）")
            )
            continue
        seen[key] = number
        good.append((indicator, row, park))
    if errors:
        raise ImportRejected(errors)
    with transaction.atomic():
        for indicator, row, park in good:
            observation = Observation(
                indicator=indicator,
                year=int(row["年份"]),
                sub_period=int(row["季度/月份"] or 0),
                park=park,
                value=_number(row["数值"], "value"),
                source=str(row["数据来源"] or source_name).strip(),
                note=str(row["备注"] or "").strip(),
                recorded_by=user,
            )
            observation._history_user = user
            observation._change_reason = f"批量导入：{source_name}" if source_name else "批量导入"
            observation.save()
        refresh_alerts(today, indicators=list({i.pk: i for i, _, _ in good}.values()))
    return len(good)


# --- targets -------------------------------------------------------------------------------------------------


@transaction.atomic
def add_target_part(
    parent: Target,
    *,
    value: Any,
    year: Any = None,
    park: Park | None = None,
    unit: ResponsibleUnit | None = None,
    owner=None,
    baseline_value: Any = None,
    note: str = "",
) -> Target:
    """Split a target: a part for a park, a responsible unit or an earlier year (a period milestone)."""
    errors: dict[str, str] = {}
    if year in (None, ""):
        errors["year"] = "目标须填写目标年"
    else:
        try:
            year = int(year)
        except (TypeError, ValueError):
            errors["year"] = f"目标年“{year}”不是整数"
        else:
            if not parent.baseline_year < year <= parent.year:
                errors["year"] = (
                    f"分解目标的年份 {year} 须在基期 {parent.baseline_year} 之后、总目标年 {parent.year} 及之前"
                )
    try:
        value = _number(value, "value")
    except ValidationError as error:
        errors["value"] = error.message_dict["value"][0]
    if park is None and unit is None and (not errors.get("year") and year == parent.year):
        errors["park"] = "分解目标须指定园区、责任单位，或早于总目标年的阶段年份"
    if baseline_value in (None, ""):
        baseline_value = parent.baseline_value if park is None else None
        if baseline_value is None:
            errors["baseline_value"] = "按园区分解须填写该园区的基期值"
    else:
        try:
            baseline_value = _number(baseline_value, "baseline_value")
        except ValidationError as error:
            errors["baseline_value"] = error.message_dict["baseline_value"][0]
    if errors:
        raise ValidationError(errors)
    part = Target(
        indicator=parent.indicator,
        year=year,
        value=value,
        baseline_year=parent.baseline_year,
        baseline_value=baseline_value,
        parent=parent,
        park=park,
        unit=unit,
        owner=owner,
        note=note,
    )
    part.full_clean(exclude=["figure"])
    part.save()
    return part


def refresh_alerts(
    today: dt.date | None = None, indicators: list[Indicator] | None = None
) -> list[TargetAlert]:
    """Alert each target's owner when its status changes from what they were last told: when it first slips,
    slips further, or recovers (so that a later slip is told again)."""
    today = today or timezone.localdate()
    owned = Target.objects.filter(owner__isnull=False).select_related("indicator", "park", "owner")
    if indicators is not None:
        owned = owned.filter(indicator__in=indicators)
    raised = []
    for target in owned:
        state = selectors.progress(target, today)
        last = target.alerts.filter(owner=target.owner).order_by("-created_at", "-pk").first()
        before = selectors.STATUS_RANK[last.status] if last else 0
        if selectors.STATUS_RANK[state.status] != before:
            raised.append(
                TargetAlert.objects.create(
                    target=target,
                    owner=target.owner,
                    status=state.status,
                    message=f"{target}：{state.status_text}。{state.reason}",
                )
            )
    return raised
