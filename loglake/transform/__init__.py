"""Enrichment: flatten nested objects into Athena-safe columns, add lineage and the partition key."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

LINEAGE = ("processed_timestamp", "source_uri", "source_line")
PARTITION_KEY = "dt"
RESERVED = frozenset(LINEAGE + (PARTITION_KEY,))
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


def resolve_names(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Safe, unique column names for one record's keys, independent of key order.

    A key already equal to its safe name keeps it; other keys that fold to the same name get
    `_2`, `_3`, … in code-point order of the original keys. Lineage and partition names are taken.
    """
    wanted = [safe_name(k) for k in keys]
    taken = set(RESERVED)
    result: dict[str, str] = {}
    for key, name in zip(keys, wanted, strict=True):
        if key == name and name not in taken:
            result[key] = name
            taken.add(name)
    for key, name in sorted(zip(keys, wanted, strict=True)):
        if key in result:
            continue
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        result[key] = candidate
        taken.add(candidate)
    return tuple(result[k] for k in keys)


class Flattener:
    """Nested objects → flat columns joined by `separator`; arrays and too-deep objects → JSON text."""

    def __init__(self, separator: str = "_", max_depth: int = 8) -> None:
        self.separator = separator
        self.max_depth = max_depth
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}

    def _walk(self, obj: dict[str, Any], prefix: str, depth: int, out: dict[str, Any]) -> None:
        sep = self.separator
        for key, value in obj.items():
            name = prefix + sep + key if prefix else key
            kind = type(value)
            if kind is dict:
                if value and depth < self.max_depth:
                    self._walk(value, name, depth + 1, out)
                else:
                    out[name] = orjson.dumps(value).decode()
            elif kind is list:
                out[name] = orjson.dumps(value, option=orjson.OPT_NAIVE_UTC).decode()
            else:
                out[name] = value

    def flatten(self, record: dict[str, Any]) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        self._walk(record, "", 1, flat)
        keys = tuple(flat)
        names = self._names.get(keys)
        if names is None:
            names = resolve_names(keys)
            if len(self._names) < 4096:
                self._names[keys] = names
        return dict(zip(names, flat.values(), strict=True))


def partition_of(event_time: Any, processed: datetime) -> str:
    """`dt=YYYY-MM-DD` from the event time, or from the processing time when there is none."""
    ts = event_time if type(event_time) is datetime else processed
    return ts.date().isoformat()
