"""Event-time parsing: ISO-8601 (with or without zone) and epoch numbers, always to naive UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1)
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def from_epoch(value: float) -> datetime:
    """Seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude."""
    magnitude = abs(value)
    if magnitude >= 1e17:
        value /= 1e9
    elif magnitude >= 1e14:
        value /= 1e6
    elif magnitude >= 1e11:
        value /= 1e3
    return _EPOCH + timedelta(seconds=value)


def parse_timestamp(value: object) -> datetime | None:
    """The UTC instant a value names, or None when it names none."""
    if type(value) is datetime:
        return value  # already parsed by a text format, in UTC
    try:
        if isinstance(value, str):
            text = value.strip()
            # ISO-8601 (`YYYY-…`) is the common case: skip the epoch pattern for it.
            if not (len(text) >= 10 and text[4:5] == "-") and _NUMERIC.match(text):
                return from_epoch(float(text))
            ts = datetime.fromisoformat(text)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            return from_epoch(value)
        else:
            return None
    except (ValueError, OverflowError):
        return None
    if ts.tzinfo is not None:
        try:
            ts = ts.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            return None
    return ts
