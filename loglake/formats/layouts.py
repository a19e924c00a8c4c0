"""The ways logs spell a time, as regexes and parsers: what the generic text format learns from, and what
multi-line formats refuse to join (a line that begins with a time starts a record of some layout)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from loglake.formats import timestamps as ts


@dataclass(frozen=True)
class Shape:
    """One way logs spell a time: its regex (no groups) and the parser of the matched text."""

    name: str
    pattern: str
    parse: Callable[[str], datetime | None]


def _iso_like(text: str) -> datetime | None:
    """`2025/07/21 10:00:00.123`, `2005-06-03-15.42.50.675872`, `20171223-22:15:29:606`, `2005.06.03 15:42:50`."""
    m = re.match(r"(\d{4})\D?(\d{2})\D?(\d{2})\D?(\d{2})\D?(\d{2})\D?(\d{2})(?:\D(\d{1,9}))?$", text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac = m.groups()
    try:
        micros = int((frac or "0").ljust(6, "0")[:6]) if frac else 0
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micros)
    except ValueError:
        return None


_MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_FRAC = r"(?:[.,:]\d{1,9})?"

SHAPES: tuple[Shape, ...] = (
    # ISO-8601 and its space, comma and zone variants (log4j, Python, Go, Zookeeper, Windows CBS, OpenStack).
    Shape("iso", r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?", ts.iso),
    # Dates with other separators or none, times with dots (BGL, HealthApp, dotted European-style years first).
    Shape("ymd", r"\d{4}[/.]\d{2}[/.]\d{2}[ T-]\d{2}[:.]\d{2}[:.]\d{2}" + _FRAC, _iso_like),
    Shape("ymd_dash_dots", r"\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}" + _FRAC, _iso_like),
    Shape("compact", r"\d{8}[ T-]?\d{2}:?\d{2}:?\d{2}" + _FRAC, _iso_like),
    # Apache/Nginx access logs, `10/Oct/2000:13:55:36 -0700`.
    Shape("clf", r"\d{2}/" + _MON + r"/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}", ts.strptime("%d/%b/%Y:%H:%M:%S %z")),
    # C's ctime with the year (Apache error logs) and without (some kernels, daemons).
    Shape("ctime", _DAY + " " + _MON + r" [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4}", ts.apache_error),
    Shape("ctime_no_year", _DAY + " " + _MON + r" [ \d]\d \d{2}:\d{2}:\d{2}", ts.YearLess("%a %b %d %H:%M:%S")),
    # `Jul 1, 2017 9:00:55 AM` (java.util.logging) and `Jul 01 2017 09:00:55`.
    Shape("mdy_words", _MON + r" \d{1,2},? \d{4},? \d{1,2}:\d{2}:\d{2}(?: [AP]M)?", lambda t: _mdy_words(t)),
    # `17-Jul-2025 10:00:00.123` (Tomcat).
    Shape("dmy_words", r"\d{2}-" + _MON + r"-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?", lambda t: _dmy_words(t)),
    # Syslog's `Jun 14 15:16:01` and `Jul  1 09:00:55` (year inferred).
    # Syslog's own parser, so the columnar path reads these times too.
    Shape("syslog", _MON + r" {1,2}\d{1,2} \d{2}:\d{2}:\d{2}", ts.syslog_3164()),
    # Two-digit years: Spark's `17/06/09 20:10:40`, HDFS's `081109 203615`.
    Shape("yy_slash", r"\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}", ts.strptime("%y/%m/%d %H:%M:%S")),
    Shape("yymmdd", r"\d{6} \d{6}", ts.strptime("%y%m%d %H%M%S")),
    # Day-first and month-first four-digit years.
    Shape("dmy_dots", r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}", ts.strptime("%d.%m.%Y %H:%M:%S")),
    Shape("mdy_slash", r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", ts.strptime("%m/%d/%Y %H:%M:%S")),
    # Year-less month-day times: Android's `03-17 16:13:38.811`, Proxifier's `10.30 16:49:06`.
    Shape("md_dash", r"\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}", ts.YearLess("%m-%d %H:%M:%S.%f")),
    Shape("md_dots", r"\d{2}\.\d{2} \d{2}:\d{2}:\d{2}", ts.YearLess("%m.%d %H:%M:%S")),
    # Epoch seconds or milliseconds (2001-09-09 … 2033-05-18).
    Shape("epoch", r"1\d{9}(?:\.\d{1,6})?|1\d{12}", ts.iso),
)


def _mdy_words(text: str) -> datetime | None:
    clean = text.replace(",", "")
    for fmt in ("%b %d %Y %I:%M:%S %p", "%b %d %Y %H:%M:%S"):
        parsed = ts.strptime(fmt)(clean)
        if parsed is not None:
            return parsed
    return None


def _dmy_words(text: str) -> datetime | None:
    return ts.strptime("%d-%b-%Y %H:%M:%S.%f" if "." in text else "%d-%b-%Y %H:%M:%S")(text)


_BOUNDARY_BEFORE = r"(?:^|(?<=[\s\[(<|,;]))"
_BOUNDARY_AFTER = r"(?=$|[\s\])>|,;:\-])"
FINDERS = [re.compile(_BOUNDARY_BEFORE + "(?:" + s.pattern + ")" + _BOUNDARY_AFTER) for s in SHAPES]
STARTS_PATTERN = r"^[\[(<]?(?:" + "|".join(s.pattern for s in SHAPES[:-1]) + r")(?:$|[\s\])>|,;:\-])"
STARTS = re.compile(STARTS_PATTERN.encode())
"""A line that begins with a time in any of the layouts above (epochs aside: too like other numbers).
Multi-line formats never join such a line to the record above: it starts a record of some layout."""


_WHOLE = [(re.compile("(?:" + s.pattern + ")"), s.parse) for s in SHAPES]


def any_time(text: str) -> datetime | None:
    """ISO-8601 or epoch, else any layout above that the whole text has: the default for a user's format
    without `timestamp_format`, so `Mar 17 10:00:01` or `17/06/09 20:10:40` need no setting."""
    parsed = ts.iso(text)
    if parsed is not None:
        return parsed
    text = text.strip()
    for whole, parse in _WHOLE:
        if whole.fullmatch(text):
            return parse(text)
    return None
