"""Money is stored as Decimal yuan and shown in 万元 (or 亿元 for district totals), as the documents do."""

from decimal import ROUND_HALF_UP, Decimal

WAN = Decimal(10000)
YI = Decimal(100000000)


def yuan_to_wan(value: Decimal | None, places: int = 2) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value) / WAN).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def wan_to_yuan(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value) * WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_wan(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{yuan_to_wan(value):,.2f}"
