"""The platform's input parsing (kechuang.core.parsing), with one difference for this app: an amount must be
above zero unless a caller allows zero (a voucher, a redemption or a service of 0 元 means nothing)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kechuang.core import parsing
from kechuang.core.parsing import (  # noqa: F401 (the app's services import them from here)
    CENT,
    MAX_AMOUNT,
    actor,
    collect,
    date,
    history_user,
    percent,
    required_text,
    text,
    yuan,
)


def money(value: Any, label: str, *, allow_zero: bool = False) -> Decimal:
    return parsing.money(value, label, allow_zero=allow_zero)
