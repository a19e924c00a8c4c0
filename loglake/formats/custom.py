"""User-defined formats from `loglake.toml`: a regex or a grok pattern, a timestamp format, a level mapping."""

from __future__ import annotations

import re
from typing import Any

from loglake.config import CustomFormat
from loglake.errors import ConfigError
from loglake.formats import timestamps as ts
from loglake.formats.base import RegexFormat
from loglake.formats.grok import compile_grok
from loglake.formats.layouts import any_time


def location(spec: CustomFormat, index: int) -> str:
    """How messages name a user's format."""
    return f"loglake.toml [[formats.custom]] #{index + 1} (`{spec.name}`)"


def build(spec: CustomFormat, index: int) -> RegexFormat:
    """Everything is checked here, at start-up: a bad pattern never fails line by line."""
    where = location(spec, index)
    if bool(spec.regex) == bool(spec.grok):
        raise ConfigError(f"{where}: give exactly one of `regex` or `grok`")
    ints: tuple[str, ...] = ()
    floats: tuple[str, ...] = ()
    if spec.grok:
        pattern, conversions = compile_grok(spec.grok, where, dict(spec.patterns))
        ints = tuple(k for k, v in conversions.items() if v == "int")
        floats = tuple(k for k, v in conversions.items() if v == "float")
    else:
        pattern = spec.regex or ""
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{where}: `regex` does not compile: {exc}") from exc
        if not compiled.groupindex:
            raise ConfigError(f"{where}: `regex` has no named groups", hint="capture fields as (?P<name>...)")
    if spec.record_start:
        try:
            re.compile(spec.record_start)
        except re.error as exc:
            raise ConfigError(f"{where}: `record_start` does not compile: {exc}") from exc
    if spec.timestamp_format is None:
        parse_ts: Any = any_time
    elif spec.timestamp_format in ("iso", "epoch"):
        parse_ts = ts.iso
    else:
        fmt = spec.timestamp_format
        try:
            from datetime import datetime

            datetime.now().strftime(fmt)
        except ValueError as exc:
            raise ConfigError(f"{where}: `timestamp_format` `{fmt}` is not a strptime format: {exc}") from exc
        parse_ts = ts.syslog_3164() if fmt == "syslog" else ts.for_layout(fmt)
    mapping = {k.lower(): v.upper() for k, v in spec.levels.items()}
    groups = set(re.compile(pattern).groupindex)

    def level(record: dict[str, Any]) -> str | None:
        raw = record.get("level")
        return mapping.get(raw.lower(), raw) if isinstance(raw, str) else None

    unknown = sorted(set(spec.types) - groups)
    if unknown:
        raise ConfigError(f"{where}: `types` names {', '.join(unknown)}, not groups of the pattern")
    ints += tuple(k for k, v in spec.types.items() if v == "int" and k not in ints)
    floats += tuple(k for k, v in spec.types.items() if v == "float" and k not in floats)
    hint = (
        f"set `timestamp_format` in {where}"
        if spec.timestamp_format is None
        else f'it does not fit `timestamp_format = "{spec.timestamp_format}"` in {where}'
    )
    return RegexFormat(
        spec.name,
        pattern if pattern.startswith("^") else "^" + pattern,
        timestamp=parse_ts,
        level=level if mapping else None,
        ints=ints,
        floats=floats,
        provides_level="level" in groups,
        multiline=spec.multiline,
        record_start=spec.record_start,
        description=spec.description or "user-defined",
        timestamp_hint=hint,
    )
