"""Athena/Hive column types and how conflicting types widen (int vs string → string)."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

NUMERIC = {"int", "bigint", "double"}

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "array<string>": "VARCHAR[]",
}


_ARROW_TO_ATHENA = {
    pa.string(): "string",
    pa.large_string(): "string",
    pa.int64(): "bigint",
    pa.int32(): "int",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.null(): "string",
}


def athena_type(arrow_type: pa.DataType) -> str:
    """The Hive/Athena type a column is declared with; unknown types read as string."""
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"array<{athena_type(arrow_type.value_type)}>"
    return _ARROW_TO_ATHENA.get(arrow_type, "string")


def widen(a: str, b: str) -> str:
    """The narrowest type both values fit: same → same, int+bigint → bigint, numbers → double, else string."""
    if a == b:
        return a
    if a in NUMERIC and b in NUMERIC:
        return "bigint" if {a, b} == {"int", "bigint"} else "double"
    return "string"


def merge_columns(*schemas: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Union of columns by name in first-seen order, conflicting types widened."""
    merged: dict[str, str] = {}
    for schema in schemas:
        for name, kind in schema:
            merged[name] = widen(merged[name], kind) if name in merged else kind
    return [(n, t) for n, t in merged.items()]
