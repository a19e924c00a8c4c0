"""Timestamp parsers for text formats; all return naive UTC datetimes or None."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from loglake.rules.timestamps import parse_timestamp

MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}


def iso(text: str) -> datetime | None:
    """ISO-8601, also with a comma before the fraction (log4j) or epoch numbers."""
    return parse_timestamp(text.replace(",", ".", 1) if "," in text else text)


class Strptime:
    """A parser for one `strptime` format; aware results are converted to UTC.

    A class, not a closure, so the columnar path can read its format and parse whole columns.
    """

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt

    def __call__(self, text: str) -> datetime | None:
        try:
            ts = datetime.strptime(text.strip(), self.fmt)
        except ValueError:
            return None
        if ts.tzinfo is not None:
            ts = ts.astimezone(UTC).replace(tzinfo=None)
        return ts


def strptime(fmt: str) -> Strptime:
    return Strptime(fmt)


def apache_error(text: str) -> datetime | None:
    """`Sun Dec 04 04:47:44 2005` or with microseconds `Wed Oct 11 14:32:52.123456 2000`."""
    fmt = "%a %b %d %H:%M:%S.%f %Y" if "." in text else "%a %b %d %H:%M:%S %Y"
    return strptime(fmt)(text)


class _YearInferred:
    """Times without a year take the latest year that does not put them over a day ahead of now, so
    December lines read in January fall in the year before."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None)) -> None:
        self.now = now
        self._tick = float("-inf")
        self._reference: datetime | None = None

    def reference(self) -> datetime:
        """`now()`, read at most once a second: per line it was a tenth of a syslog object's time."""
        tick = time.monotonic()
        if self._reference is None or tick - self._tick >= 1.0:
            self._tick, self._reference = tick, self.now()
        return self._reference

    def _in_latest_year(self, make: Callable[[int], datetime]) -> datetime | None:
        reference = self.reference()
        for year in (reference.year, reference.year - 1):
            try:
                when = make(year)
            except ValueError:
                continue  # 29 February in a year that has none, or not this layout at all
            if when <= reference + timedelta(days=1):
                return when
        return None


class Syslog3164(_YearInferred):
    """`Jun 14 15:16:01`, read without `strptime` (the row path's syslog cost)."""

    def __call__(self, text: str) -> datetime | None:
        parts = text.split()
        if len(parts) != 3 or parts[0] not in MONTHS:
            return None
        try:
            day = int(parts[1])
            hh, mm, ss = (int(x) for x in parts[2].split(":"))
        except ValueError:
            return None
        month = MONTHS[parts[0]]
        return self._in_latest_year(lambda year: datetime(year, month, day, hh, mm, ss))


def syslog_3164(now: Callable[[], datetime] | None = None) -> Syslog3164:
    return Syslog3164() if now is None else Syslog3164(now)


class YearLess(_YearInferred):
    """A `strptime` layout without a year (`%b %d %H:%M:%S`, `%m-%d %H:%M:%S.%f`), its year inferred."""

    def __init__(self, fmt: str, now: Callable[[], datetime] | None = None) -> None:
        super().__init__() if now is None else super().__init__(now)
        self.fmt = fmt

    def __call__(self, text: str) -> datetime | None:
        text = text.strip()

        def make(year: int) -> datetime:
            when = datetime.strptime(f"{year} {text}", f"%Y {self.fmt}")
            return when if when.tzinfo is None else when.astimezone(UTC).replace(tzinfo=None)

        return self._in_latest_year(make)


def has_year(fmt: str) -> bool:
    return any(d in fmt for d in ("%Y", "%y", "%G", "%c"))


def for_layout(fmt: str) -> Callable[[str], datetime | None]:
    """The parser for a user's `timestamp_format`: year-less layouts get their year inferred."""
    return Strptime(fmt) if has_year(fmt) else YearLess(fmt)
