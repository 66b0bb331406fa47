from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def amount(value, places: int = 2) -> str:
    """A figure with thousands separators (1,234.56), the way finance staff read numbers;
    None stays None so templates can show "not reported"."""
    if value is None or value == "":
        return value
    return f"{Decimal(value):,.{int(places)}f}"


@register.filter
def people(value) -> str:
    """Head counts are annual averages: 120 rather than 120.0, but 120.5 stays."""
    if value is None or value == "":
        return value
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.1f}"
