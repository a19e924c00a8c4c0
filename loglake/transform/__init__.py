"""Enrichment: flatten nested objects into Athena-safe columns, add lineage and the partition key."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

from loglake.records import LINEAGE_COLUMNS

LINEAGE = tuple(name for name, _ in LINEAGE_COLUMNS)
PARTITION_KEY = "dt"
RESERVED = frozenset((*LINEAGE, PARTITION_KEY))
_UNSAFE = re.compile(r"[^a-z0-9_]")
MAX_NAME = 255


def safe_name(key: str) -> str:
    """Athena folds case and wants [a-z0-9_]: `HTTP Status` → `http_status`, `1st` → `col_1st`."""
    name = _UNSAFE.sub("_", key.lower())[:MAX_NAME]
    if not name or name.strip("_") == "":
        return "col_" + (name or "_")
    if name[0].isdigit():
        return "col_" + name
    return name


def resolve_names(paths: tuple[tuple[str, ...], ...], separator: str = "_") -> tuple[str, ...]:
    """Safe, unique column names for one record's flattened key paths, independent of key order.

    A path whose joined name is already safe keeps it (a literal key before a nested path);
    others that fold to the same name get `_2`, `_3`, … in code-point order of their paths.
    Lineage and partition names are taken.
    """
    joined = [separator.join(p) for p in paths]
    wanted = [safe_name(j) for j in joined]
    taken = set(RESERVED)
    result: list[str] = [""] * len(paths)
    for i in sorted(range(len(paths)), key=lambda i: (len(paths[i]), paths[i])):
        if joined[i] == wanted[i] and wanted[i] not in taken:
            result[i] = wanted[i]
            taken.add(wanted[i])
    for i in sorted(range(len(paths)), key=lambda i: (joined[i], paths[i])):
        if result[i]:
            continue
        name = wanted[i]
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        result[i] = candidate
        taken.add(candidate)
    return tuple(result)


class Flattener:
    """Nested objects → flat columns joined by `separator`; arrays and too-deep objects → JSON text."""

    def __init__(self, separator: str = "_", max_depth: int = 8) -> None:
        self.separator = separator
        self.max_depth = max_depth
        self._names: dict[tuple[tuple[str, ...], ...], tuple[str, ...]] = {}
        self._joined: dict[tuple[str, ...], tuple[str, ...]] = {}

    def _walk(
        self, obj: dict[str, Any], prefix: tuple[str, ...], depth: int, paths: list[Any], values: list[Any]
    ) -> None:
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                if value and depth < self.max_depth:
                    self._walk(value, (*prefix, key), depth + 1, paths, values)
                    continue
                value = orjson.dumps(value).decode()
            elif kind is list:
                value = orjson.dumps(value, option=orjson.OPT_NAIVE_UTC).decode()
            paths.append((*prefix, key))
            values.append(value)

    def _fast(self, obj: dict[str, Any], prefix: str, depth: int, out: dict[str, Any]) -> int:
        """Joined names straight into a dict; returns the leaf count so collisions can be detected."""
        leaves = 0
        sep = self.separator
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                if value and depth < self.max_depth:
                    leaves += self._fast(value, prefix + key + sep, depth + 1, out)
                    continue
                value = orjson.dumps(value).decode()
            elif kind is list:
                value = orjson.dumps(value, option=orjson.OPT_NAIVE_UTC).decode()
            out[prefix + key] = value
            leaves += 1
        return leaves

    def flatten(self, record: dict[str, Any]) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        if self._fast(record, "", 1, flat) == len(flat):
            # No two paths joined to the same name: the names alone decide (same result as by paths).
            keys = tuple(flat)
            names = self._joined.get(keys)
            if names is None:
                names = resolve_names(tuple((k,) for k in keys), self.separator)
                if len(self._joined) < 4096:
                    self._joined[keys] = names
            return flat if names == keys else dict(zip(names, flat.values(), strict=True))
        return self._by_paths(record)

    def _by_paths(self, record: dict[str, Any]) -> dict[str, Any]:
        paths: list[tuple[str, ...]] = []
        values: list[Any] = []
        self._walk(record, (), 1, paths, values)
        shape = tuple(paths)
        names = self._names.get(shape)
        if names is None:
            names = resolve_names(shape, self.separator)
            if len(self._names) < 4096:
                self._names[shape] = names
        return dict(zip(names, values, strict=True))


def partition_of(event_time: Any, processed: datetime) -> str:
    """`dt=YYYY-MM-DD` from the event time, or from the processing time when there is none."""
    ts = event_time if type(event_time) is datetime else processed
    return ts.date().isoformat()
