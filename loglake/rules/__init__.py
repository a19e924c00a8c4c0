"""Validation rules. Each rule checks one field, may normalise it in place, and names what failed."""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from loglake.config import FieldRule, RulesConfig
from loglake.rules.levels import normalise_level
from loglake.rules.timestamps import parse_timestamp

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Failure:
    code: str
    """Machine-readable: `missing_field:level`, `bad_timestamp`, …"""
    message: str
    """For people: says which value and why."""


def _locate(record: dict[str, Any], path: str) -> tuple[dict[str, Any], str] | None:
    """The dict holding `path` and its last key; a literal dotted key wins over nesting."""
    if path in record:
        return record, path
    parent: Any = record
    parts = path.split(".")
    for part in parts[:-1]:
        parent = parent.get(part) if type(parent) is dict else None
        if parent is None:
            return None
    return (parent, parts[-1]) if type(parent) is dict and parts[-1] in parent else None


def get_field(record: dict[str, Any], path: str) -> Any:
    found = _locate(record, path)
    return _MISSING if found is None else found[0][found[1]]


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Rule(abc.ABC):
    field: str

    @abc.abstractmethod
    def check(self, record: dict[str, Any], now: datetime) -> Failure | None:
        """None when the record passes; may normalise the field in place."""


class Required(Rule):
    def __init__(self, field: str) -> None:
        self.field = field
        self.nested = "." in field

    def check(self, record: dict[str, Any], now: datetime) -> Failure | None:
        value = get_field(record, self.field) if self.nested else record.get(self.field, _MISSING)
        if value is _MISSING:
            return Failure(f"missing_field:{self.field}", f"required field `{self.field}` is missing")
        if value is None or (type(value) is str and not value.strip()):
            return Failure(f"empty_field:{self.field}", f"required field `{self.field}` is empty")
        return None


_TYPE_CHECKS: dict[str, Any] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) in (int, float),
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
}


class TypeRule(Rule):
    def __init__(self, field: str, type_name: str) -> None:
        self.field, self.type_name, self._ok = field, type_name, _TYPE_CHECKS[type_name]

    def check(self, record: dict[str, Any], now: datetime) -> Failure | None:
        value = get_field(record, self.field)
        if value is _MISSING or value is None or self._ok(value):
            return None
        return Failure(f"wrong_type:{self.field}", f"`{self.field}` is {_show(value)}, expected {self.type_name}")


class EnumRule(Rule):
    def __init__(self, field: str, allowed: Sequence[Any]) -> None:
        self.field, self.allowed = field, tuple(allowed)
        self._set = {(type(v), v) for v in allowed}

    def check(self, record: dict[str, Any], now: datetime) -> Failure | None:
        value = get_field(record, self.field)
        if value is _MISSING or value is None:
            return None
        try:
            ok = (type(value), value) in self._set
        except TypeError:  # unhashable: a list or object is never in an enum
            ok = False
        if ok:
            return None
        allowed = ", ".join(str(a) for a in self.allowed)
        return Failure(f"not_allowed:{self.field}", f"`{self.field}` is {_show(value)}, expected one of {allowed}")


class RegexRule(Rule):
    def __init__(self, field: str, pattern: str) -> None:
        self.field, self.pattern, self._re = field, pattern, re.compile(pattern)

    def check(self, record: dict[str, Any], now: datetime) -> Failure | None:
        value = get_field(record, self.field)
        if value is _MISSING or value is None:
            return None
        if type(value) is str and self._re.search(value):
            return None
        return Failure(
            f"pattern_mismatch:{self.field}", f"`{self.field}` is {_show(value)}, does not match /{self.pattern}/"
        )


class RangeRule(Rule):
    def __init__(self, field: str, low: float | None, high: float | None) -> None:
        self.field, self.low, self.high = field, low, high

    def check(self, record: dict[str, Any], now: datetime) -> Failure | None:
        value = get_field(record, self.field)
        if value is _MISSING or value is None:
            return None
        if type(value) not in (int, float):
            return Failure(f"wrong_type:{self.field}", f"`{self.field}` is {_show(value)}, expected a number")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf" if self.high is None else f"{self.high:g}"
            return Failure(f"out_of_range:{self.field}", f"`{self.field}` is {value}, outside [{lo}, {hi}]")
        return None


class TimestampRule(Rule):
    """Parses to naive UTC in place. The event-time field's codes carry no suffix: it is the record's time."""

    def __init__(
        self, field: str, *, event_time: bool, max_future: timedelta | None, max_age: timedelta | None
    ) -> None:
        self.field, self.max_future, self.max_age = field, max_future, max_age
        suffix = "" if event_time else f":{field}"
        self.bad, self.window = f"bad_timestamp{suffix}", f"timestamp_out_of_window{suffix}"

    def check(self, record: dict[str, Any], now: datetime) -> Failure | None:
        found = _locate(record, self.field)
        if found is None:
            return None
        parent, key = found
        value = parent[key]
        if value is None:
            return None
        ts = parse_timestamp(value)
        if ts is None:
            return Failure(self.bad, f"`{self.field}` is {_show(value)}, not an ISO-8601 time or epoch number")
        if self.max_future is not None and ts > now + self.max_future:
            return Failure(
                self.window, f"`{self.field}` {ts.isoformat()}Z is more than {self.max_future} in the future"
            )
        if self.max_age is not None and ts < now - self.max_age:
            return Failure(self.window, f"`{self.field}` {ts.isoformat()}Z is older than {self.max_age}")
        parent[key] = ts
        return None


class LevelRule(Rule):
    def __init__(self, field: str, levels: Sequence[str]) -> None:
        self.field, self.levels = field, frozenset(levels)
        self._shown = ", ".join(levels)

    def check(self, record: dict[str, Any], now: datetime) -> Failure | None:
        found = _locate(record, self.field)
        if found is None:
            return None
        parent, key = found
        value = parent[key]
        if value in self.levels:
            return None  # already canonical: the common case
        if value is None or (type(value) is str and not value.strip()):
            return None  # presence is the Required rule's business
        if type(value) is not str:
            return Failure(f"wrong_type:{self.field}", f"`{self.field}` is {_show(value)}, expected a string")
        level = normalise_level(value)
        if level not in self.levels:
            return Failure(
                f"not_allowed:{self.field}", f"`{self.field}` is {_show(value)}, expected one of {self._shown}"
            )
        parent[key] = level
        return None


def _field_rules(spec: FieldRule) -> list[Rule]:
    rules: list[Rule] = []
    if spec.required:
        rules.append(Required(spec.name))
    if spec.type:
        rules.append(TypeRule(spec.name, spec.type))
    if spec.enum is not None:
        rules.append(EnumRule(spec.name, spec.enum))
    if spec.regex is not None:
        rules.append(RegexRule(spec.name, spec.regex))
    if spec.min is not None or spec.max is not None:
        rules.append(RangeRule(spec.name, spec.min, spec.max))
    if spec.timestamp or spec.max_future or spec.max_age:
        rules.append(TimestampRule(spec.name, event_time=False, max_future=spec.max_future, max_age=spec.max_age))
    return rules


class RuleSet:
    """All rules of a config, checked in order; every failure is reported, not just the first."""

    def __init__(self, config: RulesConfig, provides_level: bool = True) -> None:
        self.config = config
        self.timestamp_field = config.timestamp_field
        required = config.required
        if not provides_level and required == RulesConfig.required:
            # The default rule adapts to formats that carry no level (flow logs, BSD syslog).
            required = tuple(f for f in required if f != config.level_field)
        rules: list[Rule] = [Required(f) for f in required]
        if config.level_field:
            rules.append(LevelRule(config.level_field, config.levels))
        if config.timestamp_field:
            rules.append(
                TimestampRule(
                    config.timestamp_field, event_time=True, max_future=config.max_future, max_age=config.max_age
                )
            )
        for spec in config.fields:
            rules.extend(_field_rules(spec))
        self.rules = rules

    def validate(self, record: dict[str, Any], now: datetime) -> list[Failure]:
        failures = []
        for rule in self.rules:
            failure = rule.check(record, now)
            if failure is not None:
                failures.append(failure)
        return failures
