"""Numbers of the monitoring pages as the documents write them: 2,650 and 3.5, rates per year, 完成度."""

from django import template

from kechuang.indicators import selectors

register = template.Library()


@register.filter
def num(value) -> str:
    """Thousands separators, at most two decimals, no trailing zeros; — when there is no value."""
    if value is None or value == "":
        return "—"
    return selectors._num(float(value))


@register.filter
def share(value) -> str:
    """完成度 as a percentage (a fraction of the planned change)."""
    if value is None:
        return "—"
    return f"{value:.0%}"


@register.filter
def bar(value) -> int:
    """Width of a 完成度 bar in percent, 0–100."""
    if value is None:
        return 0
    return round(max(0.0, min(1.0, value)) * 100)


@register.filter
def plain(value) -> str:
    """A Decimal as typed: 3200, 4.5 (no separators, no trailing zeros), to compare with a document's text."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


@register.filter
def achieved_rate(state) -> str:
    return _rate(state, state.achieved_rate)


@register.filter
def needed_rate(state) -> str:
    """The growth the remaining years need; nothing once the target is met."""
    if state.status == selectors.ACHIEVED:
        return "—"
    return _rate(state, state.needed_rate)


@register.filter
def forecast(state) -> str:
    """The forecast, whole when the target and its baseline are (a count of enterprises is not 4,315.86)."""
    if state.forecast is None:
        return "—"
    target = state.target
    whole = (
        target.value == target.value.to_integral_value()
        and target.baseline_value == target.baseline_value.to_integral_value()
    )
    return selectors._num(round(state.forecast)) if whole else selectors._num(state.forecast)


def _rate(state, rate) -> str:
    if rate is None:
        return "—"
    if state.compound:
        if rate > 9.99:  # more than tenfold a year: e.g. the last weeks of a target year
            return "＞+999%/年"
        return f"{rate:+.1%}/年"
    unit = state.target.indicator.unit
    if unit == "%":
        return f"{rate:+.2f} 个百分点/年"
    return f"{'+' if rate >= 0 else '−'}{selectors._num(abs(rate))}{unit}/年"


@register.filter
def status_class(status: str) -> str:
    return selectors.STATUS_CLASS.get(status, "none")


@register.filter
def status_text(status: str) -> str:
    return selectors.STATUS_TEXT.get(status, status)


@register.filter
def source(point) -> str:
    return selectors.source_text(point) if point is not None else ""


@register.filter
def ratio(value) -> str:
    if value is None:
        return "—"
    return f"{value:.2%}"


@register.filter
def wan(value) -> str:
    """Yuan shown in 万元, thousands separated, no decimals."""
    if value is None:
        return "—"
    return f"{float(value) / 10000:,.0f}"


@register.filter
def person(user, missing: str = "—") -> str:
    """A user's full name, else the username; `missing` when there is none."""
    if user is None:
        return missing
    return user.get_full_name() or user.username
