from decimal import Decimal

from django import template

from kechuang.core.money import format_wan

register = template.Library()


@register.filter
def wan(value) -> str:
    """Yuan shown in 万元 with two decimals (125000 → "12.50"); None stays "—"."""
    if value is None or value == "":
        return "—"
    return format_wan(Decimal(value))


@register.filter
def yuan(value) -> str:
    """Yuan to the 分 with thousands separators (3600.5 → "3,600.50")."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def pct(value) -> str:
    """50.00 → "50"; 33.50 → "33.5"."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value).normalize():f}"
