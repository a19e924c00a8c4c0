"""RFC 3164 times carry no year: it is inferred from now, which is read at most once a second."""

from __future__ import annotations

from datetime import datetime

from loglake.formats.timestamps import syslog_3164


def test_year_is_the_latest_not_over_a_day_ahead_and_now_is_read_rarely() -> None:
    calls = []

    def now() -> datetime:
        calls.append(1)
        return datetime(2026, 1, 2, 12, 0, 0)

    parse = syslog_3164(now)
    assert parse("Jan  2 11:00:00") == datetime(2026, 1, 2, 11, 0, 0)
    assert parse("Jan  3 12:00:00") == datetime(2026, 1, 3, 12, 0, 0)  # within a day ahead: this year
    assert parse("Dec 31 23:59:59") == datetime(2025, 12, 31, 23, 59, 59)  # would be the future: last year
    assert parse("Feb 29 10:00:00") is None  # neither this year nor the last has one
    assert parse("Foo 1 10:00:00") is None
    for _ in range(10_000):
        parse("Jul 21 10:00:00")
    assert len(calls) <= 2  # not once per line
