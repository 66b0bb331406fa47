"""兑现期间 (the period a benefit is for): a year ("2026") or a quarter ("2026Q2"), with its first and last day."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:[Qq](?P<quarter>[1-4]))?$")
YEAR_MIN, YEAR_MAX = 2000, 2100
INVALID = "兑现期间“{text}”无效：须为年度（如 2026）或季度（如 2026Q2）"


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int | None = None

    @classmethod
    def parse(cls, text: str) -> Period:
        raw = (text or "").strip().replace("年", "").replace("第", "").replace("季度", "")
        match = _PERIOD.match(raw.upper().replace("-", ""))
        if not match or not YEAR_MIN <= int(match["year"]) <= YEAR_MAX:
            raise PeriodError(INVALID.format(text=(text or "").strip()[:20]))
        quarter = int(match["quarter"]) if match["quarter"] else None
        return cls(int(match["year"]), quarter)

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.quarter}季度" if self.quarter else f"{self.year}年度"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * (self.quarter - 1) + 1, 1) if self.quarter else dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        if not self.quarter:
            return dt.date(self.year, 12, 31)
        month = 3 * self.quarter
        following = dt.date(self.year + (month == 12), month % 12 + 1, 1)
        return following - dt.timedelta(days=1)

    def __str__(self) -> str:
        return self.code


def current(kind: str, today: dt.date) -> Period:
    """The period containing `today`: its year, or its quarter when `kind` is "quarter"."""
    return Period(today.year, (today.month - 1) // 3 + 1 if kind == "quarter" else None)
