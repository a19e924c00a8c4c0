"""The columnar path's validation: a per-line probe in C plus vectorised time checks.

A line the probe passes is valid under the rule set exactly as written: no value needs normalising,
so its raw bytes can go to Arrow's JSON reader untouched. Anything else (a lower-case level, an epoch
time, a missing field, bad JSON) is left to the row path, which gives the reasons. The probe only
ever says "certainly valid" or "ask the row path"; it never rejects a line by itself.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from loglake.records import TIMESTAMP
from loglake.rules import LevelRule, Required, RuleSet, TimestampRule
from loglake.rules.levels import normalise_level
from loglake.rules.timestamps import parse_timestamp

# Times Arrow and `datetime.fromisoformat` read the same way; others go through the row path.
_ZONE = re.compile(r"(Z|[+-]\d{2}:\d{2})$")
_ISO = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$"


class Probe:
    """Which lines of a batch are certainly valid, decided by msgspec without building dicts."""

    def __init__(self, timestamp: str, required: tuple[str, ...], level: str, levels: frozenset[str]) -> None:
        self.timestamp, self.level, self.levels = timestamp, level, levels
        self.required = required
        names = [n for n in dict.fromkeys((*required, level, timestamp)) if n]
        attrs = {name: f"f{i}" for i, name in enumerate(names)}
        struct = msgspec.defstruct(
            "Probe", [(attrs[n], Any, msgspec.UNSET) for n in names], rename={attrs[n]: n for n in names}
        )
        self._decode = msgspec.json.Decoder(struct).decode
        # A small generated loop: one attribute read and one test per rule, no calls per field.
        tests = []
        for name in required:
            if name != level:
                a = attrs[name]
                tests.append(
                    f"(r.{a} is not UNSET and r.{a} is not None"
                    f" and (r.{a}.__class__ is not str or (r.{a} and not r.{a}.isspace())))"
                )
        if level:
            a = attrs[level]
            # Any spelling passes here: `levels()` normalises the batch's distinct values afterwards.
            if level in required:
                tests.append(f"(r.{a}.__class__ is str and (r.{a} in LEVELS or (r.{a} and not r.{a}.isspace())))")
            else:
                tests.append(f"(r.{a} is UNSET or r.{a} is None or r.{a}.__class__ is str)")
        if timestamp:
            a = attrs[timestamp]
            tests.append(f"(r.{a} is UNSET or r.{a} is None or r.{a}.__class__ is str)")
        condition = " and ".join(tests) or "True"
        source = (
            "def passing(lines):\n"
            "    keep, rest = [], []\n"
            "    add, other = keep.append, rest.append\n"
            "    for i, line in enumerate(lines):\n"
            "        try:\n"
            "            r = decode(line)\n"
            "        except Errors:\n"
            "            other(i)\n"
            "            continue\n"
            f"        if {condition}:\n"
            "            add(i)\n"
            "        else:\n"
            "            other(i)\n"
            "    return keep, rest\n"
        )
        scope: dict[str, Any] = {
            "decode": self._decode,
            "Errors": (msgspec.DecodeError, TypeError, ValueError),  # ValueError: bad UTF-8 in a rule field
            "UNSET": msgspec.UNSET,
            "LEVELS": levels,
        }
        # Generated from rule field names only (they are attribute names f0, f1 …, never user text).
        exec(compile(source, "<loglake probe>", "exec"), scope)
        self.passing = scope["passing"]
        """list of lines → (indices of the lines certainly valid, indices of the others), both in order."""

    @classmethod
    def for_rules(cls, rules: RuleSet) -> Probe | None:
        """A probe for rule sets it can decide exactly, None for the rest (they take the row path)."""
        config = rules.config
        if config.fields:
            return None
        required: list[str] = []
        level, levels, timestamp = "", frozenset[str](), ""
        for rule in rules.rules:
            if "." in rule.field:
                return None
            if type(rule) is Required:
                required.append(rule.field)
            elif type(rule) is LevelRule:
                level, levels = rule.field, rule.levels
            elif type(rule) is TimestampRule and rule.field == rules.timestamp_field:
                timestamp = rule.field
            else:
                return None
        return cls(timestamp, tuple(required), level, levels)


def event_times(column: pa.Array, now: datetime | pa.Array, rules: RuleSet) -> tuple[pa.Array, list[int]]:
    """The event-time column as naive UTC, and the rows whose time the row path must judge.

    Rows named are bad or unusual times (epochs, other ISO spellings, out of the window); the
    rest are exactly what `parse_timestamp` would give. `now` may be a column: each row's own
    processing time (rows of several objects read together), against which its window is judged.
    """
    if column.type != pa.string():  # not reached: the probe passes only text or null times
        return pa.nulls(len(column), TIMESTAMP), pc.indices_nonzero(column.is_valid()).to_pylist()
    shaped = pc.match_substring_regex(column, _ISO)
    odd = pc.and_(column.is_valid(), pc.invert(shaped))
    zoned = column if pc.all(shaped).as_py() else pc.if_else(shaped, column, None)
    try:
        times = _iso_times(zoned)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # An impossible date (Feb 30) in the batch: decide row by row, only here.
        parsed = [parse_timestamp(v) if v is not None else None for v in zoned.to_pylist()]
        times = pa.array(parsed, TIMESTAMP)
        odd = pc.or_(odd, pc.and_(zoned.is_valid(), times.is_null()))
    config = rules.config
    if config.max_future is not None:
        odd = pc.or_kleene(odd, pc.greater(times, _shifted(now, config.max_future)))
    if config.max_age is not None:
        odd = pc.or_kleene(odd, pc.less(times, _shifted(now, -config.max_age)))
    odd = pc.fill_null(odd, False)
    rejected = pc.indices_nonzero(odd).to_pylist() if pc.any(odd).as_py() else []
    return times, rejected


def _shifted(now: datetime | pa.Array, by: timedelta) -> pa.Scalar | pa.Array:
    if isinstance(now, datetime):
        return pa.scalar(now + by, TIMESTAMP)
    return pc.add(now, pa.scalar(by, pa.duration("us")))


def _zoned(texts: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(texts, pa.timestamp("us", "UTC")), TIMESTAMP)


def _naive(texts: pa.Array) -> pa.Array:
    """Times without a zone are UTC, as in `parse_timestamp`."""
    return pc.cast(texts, TIMESTAMP)


def _mixed(texts: pa.Array) -> pa.Array:
    return _zoned(pc.replace_substring_regex(texts, r"(\d)$", r"\1Z"))


def _iso_times(texts: pa.Array) -> pa.Array:
    """ISO texts (already shaped) → naive UTC, trying first the cast the batch's first time calls for: a cast
    that fails costs ~35 times one that succeeds (log4j times have no zone, JSON ones mostly do)."""
    first = next((v for v in texts[:16].to_pylist() if v is not None), None)
    casts = (_naive, _zoned, _mixed) if first is not None and not _ZONE.search(first) else (_zoned, _naive, _mixed)
    for cast in casts[:-1]:
        try:
            return cast(texts)
        except pa.ArrowInvalid:
            continue
    return casts[-1](texts)


def levels(column: pa.Array, allowed: frozenset[str]) -> tuple[pa.Array, list[int]]:
    """The level column normalised as `LevelRule` does, once per distinct value; and the rows it rejects."""
    distinct = pc.unique(column)
    values = distinct.to_pylist()
    if all(v is None or v in allowed for v in values):
        return column, []
    fixed = [v if v is None or v in allowed or not v.strip() else normalise_level(v) for v in values]
    pairs = enumerate(zip(values, fixed, strict=True))
    bad = [i for i, (v, f) in pairs if v is not None and v.strip() and f not in allowed]
    positions = pc.index_in(column, distinct)
    normalised = pa.array(fixed, pa.string()).take(positions)
    if not bad:
        return normalised, []
    return normalised, pc.indices_nonzero(pc.is_in(positions, pa.array(bad, pa.int32()))).to_pylist()
