"""Settings: defaults < `loglake.toml` at the lake root < environment < command-line flags.

Defaults follow the AWS tutorial's names so queries written for Athena run unchanged.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import Any

from loglake.errors import ConfigError

LEVELS = ("TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRITICAL", "FATAL")
FIELD_TYPES = ("string", "integer", "number", "boolean", "object", "array")
OUTPUT_FORMATS = ("parquet",)


@dataclass(frozen=True)
class FieldRule:
    """Checks on one field, addressed by a dotted path into nested objects (`http.status`)."""

    name: str
    required: bool = False
    """The field must be present, not null and not an empty string."""
    type: str | None = None
    """One of string, integer, number, boolean, object, array."""
    enum: tuple[Any, ...] | None = None
    """The value must be one of these."""
    regex: str | None = None
    """A string value must match (Python `re.search`; anchor with ^…$ for a whole match)."""
    min: float | None = None
    """Numeric lower bound, inclusive."""
    max: float | None = None
    """Numeric upper bound, inclusive."""
    timestamp: bool = False
    """The value must parse as a timestamp (ISO-8601 or epoch seconds/milliseconds)."""
    max_future: timedelta | None = None
    """With `timestamp`: not later than now plus this (e.g. "1d")."""
    max_age: timedelta | None = None
    """With `timestamp`: not earlier than now minus this (e.g. "30d")."""


@dataclass(frozen=True)
class RulesConfig:
    """Validation. The defaults are the tutorial's: `level` and `message` present and non-empty."""

    required: tuple[str, ...] = ("level", "message")
    """Fields every record must have, non-empty."""
    level_field: str = "level"
    """Normalised (`warn` → `WARN`) and checked against `levels`; empty string turns it off."""
    levels: tuple[str, ...] = LEVELS
    """Allowed levels after normalisation."""
    timestamp_field: str = "timestamp"
    """Event time: parsed, converted to UTC, and used for the `dt` partition."""
    max_future: timedelta | None = None
    """Reject event times later than now plus this (e.g. "1d"); unset means no limit."""
    max_age: timedelta | None = None
    """Reject event times older than now minus this; unset means no limit."""
    fields: tuple[FieldRule, ...] = ()
    """Extra checks per field (`[[rules.field]]` tables)."""


@dataclass(frozen=True)
class ProcessingConfig:
    """How objects become rows."""

    suffixes: tuple[str, ...] = (".log", ".log.gz", ".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")
    """Object names that `watch` and folder processing pick up."""
    flatten_separator: str = "_"
    """Joins nested keys: `http.status` → `http_status`."""
    flatten_max_depth: int = 8
    """Objects nested deeper than this are kept as JSON text."""
    max_line_bytes: int = 32 * 1024 * 1024
    """Longer lines go to errors/ as `line_too_long` (their first KiB kept) instead of exhausting memory."""
    batch_rows: int = 16_384
    """Rows buffered per partition before a Parquet row group is written."""
    processed_format: str = "parquet"
    """`parquet` (zstd; files of a few rows uncompressed), the tables' data files."""
    errors_format: str = "parquet"
    """`parquet`, as for processed/."""
    columnar: bool = True
    """JSON Lines under the built-in rules go through Arrow in batches (several times faster); lines that
    need a reason or a normalised value still go row by row. Off: every line row by row (same output)."""
    fsync: bool = True
    """Flush every output file to disk before it becomes visible (power-loss safe). Turning it off speeds
    up many small objects several-fold; a crash of the process alone never exposes partial output either way."""
    split_bytes: int = 32 * 1024 * 1024
    """With `--jobs`, an uncompressed object of line-by-line records at least twice this size is cut into
    byte ranges (at most one per job, none smaller than this) read by separate processes, committed as one."""
    group_object_bytes: int = 1024 * 1024
    """Objects up to this size are committed in groups whose rows share one file per partition (many small
    objects: a few files, not thousands; still one manifest and exact replacement per object). Parquet
    output only; used by `process` and `watch`. 0: never."""
    group_objects: int = 1000
    """At most this many objects per group…"""
    group_bytes: int = 16 * 1024 * 1024
    """…and this many bytes (a group's rows are held in memory until it commits)."""
    max_decompressed_bytes: int = 64 * 1024**3
    """A compressed object expanding beyond this is stopped as a decompression bomb."""
    max_compression_ratio: int = 1000
    """…and so is one expanding more than this many times its compressed size (checked past 64 MiB)."""


@dataclass(frozen=True)
class CustomFormat:
    """A format defined in config only: `[[formats.custom]]`."""

    name: str
    regex: str | None = None
    """A Python regex with named groups; group names become columns (`timestamp`, `level`, `message` are special)."""
    grok: str | None = None
    """Or a grok pattern: `%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}`."""
    patterns: dict[str, str] = field(default_factory=dict)
    """Extra grok patterns by name."""
    timestamp_format: str | None = None
    """`strptime` format of the `timestamp` group; default ISO-8601/epoch; `syslog` for `Jun 14 15:16:01`."""
    levels: dict[str, str] = field(default_factory=dict)
    """Map the format's level words to standard levels: { "I" = "INFO", "W" = "WARN" }."""
    multiline: bool = False
    """Join lines that do not start a record (stack traces) to the record above."""
    record_start: str | None = None
    """Regex a line must match to start a record (default: the format's own pattern)."""
    types: dict[str, str] = field(default_factory=dict)
    """Groups to read as numbers: { status = "int", latency = "float" } (grok's `%{NUMBER:x:int}` also works)."""
    description: str = ""


@dataclass(frozen=True)
class FormatOverride:
    """Force a format for objects whose key matches a glob: `[[formats.override]]`."""

    match: str
    """Glob on the object key or name, e.g. `raw/nginx/*` or `*.access.log`."""
    format: str


@dataclass(frozen=True)
class FormatsConfig:
    """How objects are parsed."""

    default: str = "auto"
    """`auto` sniffs the first lines of each object; or a format name to use everywhere."""
    sniff_lines: int = 64
    """How many non-blank lines detection looks at."""
    fallback_encoding: str | None = None
    """For legacy logs that are not UTF-8, e.g. `latin-1`; unset sends such lines to errors/."""
    override: tuple[FormatOverride, ...] = ()
    custom: tuple[CustomFormat, ...] = ()
    disabled: tuple[str, ...] = ()
    """Built-in formats detection never picks, e.g. `["logfmt"]` (the generic `text` format too)."""
    max_record_lines: int = 1000
    """Multi-line records (stack traces) end at this many lines …"""
    max_record_bytes: int = 1 << 20
    """… or this many bytes; the next line starts a record of its own (or is an error)."""


@dataclass(frozen=True)
class CatalogConfig:
    """Names of the database and tables, as in the tutorial's Glue catalog."""

    database: str = "log_analytics_db"
    processed_table: str = "processed_logs"
    errors_table: str = "errors_logs"


@dataclass(frozen=True)
class AwsConfig:
    """Running on AWS: which raw objects to take, and the Glue/Athena side."""

    raw_prefix: str = ""
    """Only keys under this prefix are processed (e.g. `raw/`); empty takes every key."""
    glue: bool = True
    """Mirror tables and partitions into the Glue Data Catalog when the lake is on S3."""
    athena_workgroup: str = "primary"
    athena_output: str | None = None
    """Where Athena writes results; default `<lake>/query-results/`."""
    process_subscriptions: bool = True
    """Process CloudWatch Logs subscription batches at once when they land in the lake's own raw/ zone."""
    collect_log_groups: tuple[str, ...] = ()
    """Log groups the scheduled collector pulls (env `LOGLAKE_COLLECT_LOG_GROUPS`, comma-separated, wins)."""
    collect_lag: str = "2m"
    """How late events may arrive and still be collected."""
    collect_since: str = "1d"
    """How far back a log group's first collection reaches."""


@dataclass(frozen=True)
class QueryConfig:
    """`loglake query`, `shell` and the console."""

    results_retention_days: float = 30.0
    """Saved results under query-results/ older than this are deleted when a new one is saved (as an
    Athena result bucket's lifecycle rule does); 0 keeps them forever."""
    save_results: bool = True
    """Save each `loglake query` result as CSV under query-results/ (`--no-save` skips one)."""
    max_rows: int = 40
    """Rows a table shows on a terminal (first and last halves, with the total); `--max-rows` overrides."""


@dataclass(frozen=True)
class WatchConfig:
    """Local event-driven mode."""

    settle_seconds: float = 1.0
    """A file counts as completely written when its size and mtime stay unchanged this long."""


@dataclass(frozen=True)
class Settings:
    """Everything LogLake needs to run, resolved once at start-up."""

    lake: str = "./lake"
    """Lake root: a folder (later `s3://bucket/prefix`)."""
    rules: RulesConfig = field(default_factory=RulesConfig)
    processing: ProcessingConfig = field(default_factory=ProcessingConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    formats: FormatsConfig = field(default_factory=FormatsConfig)
    aws: AwsConfig = field(default_factory=AwsConfig)
    watch: WatchConfig = field(default_factory=WatchConfig)
    query: QueryConfig = field(default_factory=QueryConfig)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: object, where: str) -> timedelta:
    """`"90s"`, `"15m"`, `"2h"`, `"1d"`, `"1w"` or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
    raise ConfigError(f"{where}: `{value}` is not a duration", hint='write e.g. "30s", "15m", "2h" or "1d"')


def _section(cls: type, raw: dict[str, Any], where: str, convert: dict[str, Any]) -> Any:
    """Build a config dataclass from a TOML table, rejecting unknown keys by name."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting(s) {', '.join(f'`{k}`' for k in unknown)}",
            hint=f"valid settings here: {', '.join(sorted(names))}",
        )
    kwargs: dict[str, Any] = {}
    hints = typing.get_type_hints(cls)
    for key, value in raw.items():
        conv = convert.get(key)
        kwargs[key] = conv(value, f"{where}.{key}") if conv else _typed(value, hints[key], f"{where}.{key}")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by the unknown-key check
        raise ConfigError(f"{where}: {exc}") from exc


_PLAIN = {str: "a string", bool: "true or false", int: "a whole number", float: "a number"}


def _typed(value: object, hint: Any, where: str) -> Any:
    """A setting without a converter must have its field's plain type (checked at start-up, so a wrong
    type is one clear message, never an error deep inside a run)."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (types.UnionType, typing.Union) else (hint,)
    plain = [t for t in options if t in _PLAIN]
    if not plain:
        return value
    for t in plain:
        if t is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, t) and (t is bool or not isinstance(value, bool)):
            return value
    wanted = " or ".join(_PLAIN[t] for t in plain)
    raise ConfigError(f"{where}: expected {wanted}, got `{value!r}`")


def _seconds(value: object, where: str) -> float:
    """A number of seconds, or a duration such as "1s" or "2m"."""
    return parse_duration(value, where).total_seconds()


def _non_negative(value: object, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{where}: expected a number (0 or more), got `{value!r}`")
    return float(value)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got `{value!r}`")
    return tuple(value)


def _field_rules(value: object, where: str) -> tuple[FieldRule, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected [[rules.field]] tables")
    out = []
    for i, raw in enumerate(value):
        w = f"{where}[{i}]"
        if not isinstance(raw, dict) or "name" not in raw:
            raise ConfigError(f"{w}: every [[rules.field]] needs a `name`")
        rule: FieldRule = _section(
            FieldRule,
            raw,
            w,
            {
                "enum": lambda v, _w: tuple(v),
                "max_future": parse_duration,
                "max_age": parse_duration,
            },
        )
        if rule.type is not None and rule.type not in FIELD_TYPES:
            raise ConfigError(f"{w}.type: `{rule.type}` is not a type", hint=f"use one of {', '.join(FIELD_TYPES)}")
        if rule.regex is not None:
            try:
                re.compile(rule.regex)
            except re.error as exc:
                raise ConfigError(f"{w}.regex: `{rule.regex}` is not a valid pattern: {exc}") from exc
        out.append(rule)
    return tuple(out)


def _types(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(v in ("int", "float") for v in value.values()):
        raise ConfigError(f'{where}: expected a table of group = "int" or "float", got `{value!r}`')
    return dict(value)


def _positive_int(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{where}: expected a positive whole number, got `{value!r}`")
    return value


def _whole_number(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{where}: expected a whole number (0 or more), got `{value!r}`")
    return value


def _output_format(value: object, where: str) -> str:
    if value not in OUTPUT_FORMATS:
        raise ConfigError(
            f"{where}: `{value}` is not an output format",
            hint="the tables are Apache Iceberg tables of Parquet files (JSON Lines output is no longer written); "
            "remove the setting or use `parquet`",
        )
    return str(value)


def settings_from_toml(doc: dict[str, Any], lake: str, where: str = "loglake.toml") -> Settings:
    """Turn a parsed `loglake.toml` into Settings; every mistake names its key."""
    known = {"rules", "processing", "catalog", "formats", "aws", "watch", "query"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown section(s) {', '.join(f'[{k}]' for k in unknown)}",
            hint=f"valid sections: {', '.join(f'[{k}]' for k in sorted(known))}",
        )
    rules_raw = dict(doc.get("rules", {}))
    if "field" in rules_raw:
        rules_raw["fields"] = rules_raw.pop("field")
    rules = _section(
        RulesConfig,
        rules_raw,
        f"{where} [rules]",
        {
            "required": _strings,
            "levels": lambda v, w: tuple(s.upper() for s in _strings(v, w)),
            "max_future": parse_duration,
            "max_age": parse_duration,
            "fields": _field_rules,
        },
    )
    processing = _section(
        ProcessingConfig,
        doc.get("processing", {}),
        f"{where} [processing]",
        {
            "suffixes": _strings,
            "flatten_max_depth": _positive_int,
            "max_line_bytes": _positive_int,
            "batch_rows": _positive_int,
            "split_bytes": _positive_int,
            "group_object_bytes": _whole_number,
            "group_objects": _positive_int,
            "group_bytes": _positive_int,
            "max_decompressed_bytes": _positive_int,
            "max_compression_ratio": _positive_int,
            "processed_format": _output_format,
            "errors_format": _output_format,
        },
    )
    catalog = _section(CatalogConfig, doc.get("catalog", {}), f"{where} [catalog]", {})
    formats = _section(
        FormatsConfig,
        doc.get("formats", {}),
        f"{where} [formats]",
        {
            "sniff_lines": _positive_int,
            "disabled": _strings,
            "max_record_lines": _positive_int,
            "max_record_bytes": _positive_int,
            "override": lambda v, w: tuple(
                _section(FormatOverride, x, f"{where} [[formats.override]] #{i + 1}", {}) for i, x in enumerate(v)
            ),
            "custom": lambda v, w: tuple(
                _section(CustomFormat, x, f"{where} [[formats.custom]] #{i + 1}", {"types": _types})
                for i, x in enumerate(v)
            ),
        },
    )
    watch = _section(WatchConfig, doc.get("watch", {}), f"{where} [watch]", {"settle_seconds": _seconds})
    query = _section(QueryConfig, doc.get("query", {}), f"{where} [query]", {"results_retention_days": _non_negative})
    aws = _section(AwsConfig, doc.get("aws", {}), f"{where} [aws]", {"collect_log_groups": _strings})
    return Settings(
        lake=lake,
        rules=rules,
        processing=processing,
        catalog=catalog,
        formats=formats,
        aws=aws,
        watch=watch,
        query=query,
    )


def load_settings(lake: str | None = None, config_path: str | None = None) -> Settings:
    """Resolve the lake (flag > `LOGLAKE_LAKE` > `s3://$PROCESSED_BUCKET` > ./lake) and read its `loglake.toml`."""
    bucket = os.environ.get("PROCESSED_BUCKET")
    root = lake or os.environ.get("LOGLAKE_LAKE") or (f"s3://{bucket}" if bucket else "./lake")
    path = config_path or os.environ.get("LOGLAKE_CONFIG")
    if path is None and root.startswith("s3://"):
        return _settings_in_bucket(root)
    if path is None and "://" not in root:
        candidate = os.path.join(root, "loglake.toml")
        path = candidate if os.path.exists(candidate) else None
    if path is None:
        return Settings(lake=root)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist", hint="run `loglake init` or drop --config") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return settings_from_toml(doc, root, where=path)


def _settings_in_bucket(root: str) -> Settings:
    """`loglake.toml` stored at the root of an S3 lake, if there is one."""
    from loglake.errors import ObjectNotFound
    from loglake.storage import open_storage

    try:
        data = open_storage(root).read_bytes("loglake.toml")
    except ObjectNotFound:
        return Settings(lake=root)
    try:
        return settings_from_toml(tomllib.loads(data.decode()), root, where=f"{root}/loglake.toml")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{root}/loglake.toml: not valid TOML: {exc}") from exc


def with_overrides(settings: Settings, **processing: Any) -> Settings:
    """Apply command-line overrides to the processing section."""
    given = {k: v for k, v in processing.items() if v is not None}
    return replace(settings, processing=replace(settings.processing, **given)) if given else settings


EXAMPLE_TOML = """\
# loglake.toml — settings for this lake. Every key is optional; the values shown are the defaults.
# Command-line flags and environment variables (LOGLAKE_LAKE) override what is here.

[catalog]
# Names as in the AWS tutorial, so its Athena queries run unchanged.
database = "log_analytics_db"
processed_table = "processed_logs"
errors_table = "errors_logs"

[processing]
# Object names picked up by `loglake watch` and when processing a folder.
suffixes = [".log", ".log.gz", ".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson"]
# Nested objects become columns: {"http": {"status": 200}} -> http_status.
flatten_separator = "_"
flatten_max_depth = 8
# Data files of the Iceberg tables: "parquet" (zstd).
processed_format = "parquet"
errors_format = "parquet"
# Lines longer than this go to errors/ as line_too_long.
max_line_bytes = 33554432
# Flush each output file to disk before it appears (power-loss safe); false is much faster for many small files.
fsync = true
# JSON Lines go through Arrow in batches; lines needing a reason or a fix still go row by row (same output).
columnar = true
# With --jobs, uncompressed objects of at least twice this size are split across processes by byte range.
split_bytes = 33554432
# Objects up to this size are committed in groups sharing one file per partition (Parquet output;
# `process` and `watch`); 0: each object its own files.
group_object_bytes = 1048576
group_objects = 1000
group_bytes = 16777216

[rules]
# The tutorial's rule: these fields must be present and non-empty.
required = ["level", "message"]
# `level` is normalised (warn, Warning -> WARN) and must be one of these.
level_field = "level"
levels = ["TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRITICAL", "FATAL"]
# Event time: ISO-8601 (with or without zone) or epoch seconds/milliseconds, stored in UTC.
timestamp_field = "timestamp"
# Reject events stamped more than a day in the future (uncomment to enable).
# max_future = "1d"
# max_age = "365d"

# Extra checks per field; combine any of: required, type, enum, regex, min, max, timestamp.
# [[rules.field]]
# name = "http.status"
# type = "integer"
# min = 100
# max = 599
#
# [[rules.field]]
# name = "env"
# enum = ["prod", "staging", "dev"]
#
# [[rules.field]]
# name = "request_id"
# regex = "^[0-9a-f-]{36}$"

[formats]
# "auto" sniffs each object's first lines; or name one format for everything.
default = "auto"
# Legacy logs that are not UTF-8: decode them with this instead of sending lines to errors/.
# fallback_encoding = "latin-1"
# Built-in formats detection must never pick; `text` is the generic one that learns unknown layouts.
# disabled = ["logfmt"]
# Multi-line records (stack traces) end at whichever comes first.
max_record_lines = 1000
max_record_bytes = 1048576

# Force a format by object key (glob).
# [[formats.override]]
# match = "raw/nginx/*"
# format = "access_log"

# A format of your own: a regex with named groups, or grok. No code needed. Patterns go in single
# quotes (TOML literal strings), so backslashes stay as written. Try it: loglake formats test FILE
# [[formats.custom]]
# name = "myapp"
# grok = '%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} \\[%{DATA:thread}\\] %{GREEDYDATA:message}'
# multiline = true          # join stack-trace lines to the record above
# levels = { "W" = "WARN", "E" = "ERROR" }
#
# [[formats.custom]]
# name = "billing"
# regex = '^(?P<timestamp>\\w{3} +\\d+ [\\d:]+) (?P<service>\\S+) status=(?P<status>\\d+) (?P<message>.*)$'
# timestamp_format = "%b %d %H:%M:%S"   # no year: inferred, as for syslog (leave unset to detect the layout)
# types = { status = "int" }

[watch]
# A new file is processed once its size has been stable this long (seconds, or e.g. "2s").
settle_seconds = 1.0

[query]
# Saved results under query-results/ older than this many days are deleted (0: keep them all).
results_retention_days = 30
# Rows a table shows on a terminal (its first and last halves, with the total).
max_rows = 40
"""
