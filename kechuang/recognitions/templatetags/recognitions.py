"""Amounts of the 认定登记 pages: yuan in the database, shown in 万元 as the documents write them."""

from django import template

from kechuang.core.money import format_wan

register = template.Library()


@register.filter
def wan(value) -> str:
    """Yuan as 万元 with two decimals and thousands separators (1,234.56); — when there is no value."""
    if value is None or value == "":
        return "—"
    return format_wan(value)


@register.filter
def yi(value) -> str:
    """Yuan as 亿元 with four decimals (万元 precision)."""
    if value is None or value == "":
        return "—"
    from decimal import Decimal

    return f"{Decimal(value) / Decimal(100000000):,.4f}"
