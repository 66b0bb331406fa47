"""Template filters of policies: money in 万元 as the documents write it, whole yuan, period labels."""

from decimal import Decimal

from django import template

from kechuang.policies.periods import Period, PeriodError

register = template.Library()


@register.filter
def wan(value) -> str:
    """Yuan as 万元 with up to four decimals and no trailing zeros: 162500 → 16.25万元; None → —."""
    if value is None or value == "":
        return "—"
    number = (Decimal(value) / 10000).quantize(Decimal("0.0001"))
    text = f"{number:,.4f}".rstrip("0").rstrip(".")
    return f"{text}万元"


@register.filter
def yuan(value) -> str:
    """Whole yuan with thousands separators: 162500 → 162,500 元."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.0f} 元"


@register.filter
def yuan_exact(value) -> str:
    """A computed amount in yuan, up to two decimals, with separators: 162500.4 → 162,500.4 元."""
    if value is None or value == "":
        return "—"
    text = f"{Decimal(str(value)):,.2f}".rstrip("0").rstrip(".")
    return f"{text} 元"


@register.filter
def period_label(code) -> str:
    try:
        return Period.parse(str(code)).label
    except PeriodError:
        return str(code)


@register.filter
def status_class(status: str) -> str:
    return {"met": "ok", "not_met": "bad"}.get(status, "warn")


@register.filter
def status_text(status: str) -> str:
    return {"met": "满足", "not_met": "不满足", "unknown": "待定"}.get(status, status)


@register.filter
def highlight(text, q):
    """The text, escaped, with every occurrence of `q` (case-insensitive) marked."""
    import re

    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    text = escape(text or "")
    if not q:
        return mark_safe(text)
    pattern = re.compile(re.escape(escape(q)), re.IGNORECASE)
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", text))


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key
