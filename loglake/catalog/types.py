"""Athena/Hive column types and how conflicting types widen (int vs string → string)."""

from __future__ import annotations

from collections.abc import Iterable

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
