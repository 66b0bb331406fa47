"""Reading what users type (amounts in yuan to the 分, percentages, dates, text, codes) into values, each refusal a
Chinese message naming the field and the value; amounts written out for messages. Every app's services use these,
so the same input gets the same answer everywhere."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from kechuang.core.money import format_wan

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1e14")  # MONEY: 16 digits, 2 decimals


def yuan(value: Decimal | None) -> str:
    """1234567.5 → "1,234,567.50 元"."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f} 元"


def amount_text(value: Decimal | None) -> str:
    """1234567.5 → "123.46 万元（1,234,567.50 元）"."""
    if value is None:
        return "—"
    return f"{format_wan(value)} 万元（{Decimal(value):,.2f} 元）"


def money(value: Any, label: str, *, allow_zero: bool = True) -> Decimal:
    """An amount in yuan, ≥ 0 (> 0 unless allow_zero), at most two decimals (分)."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"{label}必须填写")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"{label}“{value}”不是数字") from None
    if not number.is_finite():
        raise ValidationError(f"{label}“{value}”不是有限的数字")
    if number < 0:
        raise ValidationError(f"{label} {number} 元为负数，金额不能为负")
    if number == 0 and not allow_zero:
        raise ValidationError(f"{label}须大于 0 元")
    if number != number.quantize(CENT):
        raise ValidationError(f"{label} {number} 元超过两位小数（金额精确到分）")
    if number >= MAX_AMOUNT:
        raise ValidationError(f"{label} {number} 元超出可录入的范围")
    return number.quantize(CENT)


def percent(value: Any, label: str) -> Decimal:
    """A share in % of (0, 100], at most two decimals; "5%" reads as 5."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"{label}必须填写")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        raise ValidationError(f"{label}“{value}”不是数字") from None
    if not number.is_finite() or not Decimal(0) < number <= Decimal(100):
        raise ValidationError(f"{label} {value} 须大于 0 且不超过 100（单位：%）")
    if number != number.quantize(CENT):
        raise ValidationError(f"{label} {value} 超过两位小数")
    return number.quantize(CENT)


def date(value: Any, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(f"{label}“{value}”不是日期（格式：2026-03-31）") from None
    raise ValidationError(f"{label}必须填写")


def text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def required_text(errors: dict, field: str, value: Any, label: str, max_length: int) -> str:
    value = text(value)
    if not value:
        errors.setdefault(field, []).append(f"{label}必须填写")
    elif len(value) > max_length:
        errors.setdefault(field, []).append(f"{label}“{value[:20]}…”超过 {max_length} 个字符")
    return value


def code(value: Any) -> str:
    """A code as typed: half-width (NFKC), no spaces, upper-case."""
    return unicodedata.normalize("NFKC", text(value)).replace(" ", "").upper()


def collect(errors: dict[str, list[str]], field: str, check, *args, **kwargs):
    """Run a parser; on ValidationError record its messages under `field` and return None."""
    try:
        return check(*args, **kwargs)
    except ValidationError as error:
        errors.setdefault(field, []).extend(error.messages)
        return None


def history_user(obj, user):
    """For models that keep simple_history: who made the change."""
    obj._history_user = user if getattr(user, "is_authenticated", False) else None
    return obj


def actor(user):
    return user if getattr(user, "is_authenticated", False) else None
