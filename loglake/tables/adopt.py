"""Adopt and repair: build both tables from what is in the zones, the manifests and an older lake's catalog.

`loglake crawl` runs this. It finishes interrupted commits, then makes each table anew from the data
files that the manifests (and a 0.1 lake's `catalog/catalog.json`) say are current and that exist.
Files already fit for the table are added as they are; older files (no `dt` column, types that
disagree) are rewritten through the same schema conformance as new data, beside the original. The
old table metadata stays on disk until orphan cleanup; nothing is deleted here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from loglake.errors import ObjectNotFound
from loglake.storage import Storage
from loglake.tables import journal
from loglake.tables.catalog import PARTITION, ZONES, Tables
from loglake.tables.commit import Change, Commit, apply
from loglake.tables.schema import Target

OLD_CATALOG = "catalog/catalog.json"
_DT = re.compile(r"(?:^|/)dt=([^/]+)/")


@dataclass
class Adopted:
    files: dict[str, int] = field(default_factory=dict)
    """zone → files in the rebuilt table"""
    rewritten: int = 0
    missing: list[str] = field(default_factory=list)
    """Files a manifest names that are not there (reported, not fatal)."""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _listed(storage: Storage, report: Adopted) -> dict[str, set[str]]:
    """zone → keys the manifests and an older catalog document call current."""
    keys: dict[str, set[str]] = {zone: set() for zone in ZONES}
    for manifest in journal.iter_manifests(storage):
        for out in manifest.get("outputs", []):
            if out.get("zone") in keys:
                keys[out["zone"]].add(out["key"])
    try:
        doc = orjson.loads(storage.read_bytes(OLD_CATALOG))
    except ObjectNotFound:
        return keys
    except orjson.JSONDecodeError as exc:
        report.notes.append(f"{storage.uri(OLD_CATALOG)} is unreadable ({exc}); adopted what the manifests list")
        return keys
    for table in doc.get("tables", {}).values():
        if table.get("zone") in keys:
            keys[table["zone"]].update(k for k in table.get("files", {}) if k.endswith(".parquet"))
    report.notes.append(f"migrated the file list of {storage.uri(OLD_CATALOG)}")
    return keys


def adopt(
    storage: Storage,
    tables: Tables,
    uri_of: Callable[[str], str],
    lock: Callable[[], AbstractContextManager[Any]],
) -> Adopted:
    journal.recover(storage, tables, lock)
    report = Adopted()
    listed = _listed(storage, report)
    tables.drop()
    tables.ensure()
    for zone in ZONES:
        table = tables.load(zone, refresh=True)
        target = Target(table.schema().as_arrow())
        files = []
        for key in sorted(listed[zone]):
            if not storage.exists(key):
                report.missing.append(key)
                continue
            fixed = _fit(storage, key, target, table.io.new_input(uri_of(key)).open)
            if fixed != key:
                report.rewritten += 1
            files.append(uri_of(fixed))
        report.files[zone] = len(files)
        if files:
            commit = Commit(journal.attempt_id(), [], set(), {zone: Change(files, target.schema())})
            apply(tables, commit, lock, (zone,))
    return report


def _fit(storage: Storage, key: str, target: Target, open_seekable: Callable[[], Any]) -> str:
    """`key` itself when it fits the table; else the key of a conformed copy written beside it."""
    with open_seekable() as fh:  # Parquet footers are read by seeking (S3: ranged GETs)
        table = pq.read_table(fh)
    complete = PARTITION in table.column_names
    if not complete:
        match = _DT.search(key)
        dt = match.group(1) if match else "unknown"
        table = table.append_column(PARTITION, pa.repeat(pa.scalar(dt, pa.string()), len(table)))
    before = dict(target.types)
    out = target.conform(table)
    fits = complete and out.table.schema.equals(table.schema) and not out.rescued_rows
    if fits and all(before.get(f.name, f.type) == f.type for f in table.schema):
        return key
    new = key[: -len(".parquet")] + "-adopted.parquet"
    with storage.open_write(new) as sink:
        pq.write_table(out.table, sink, compression="zstd")
    return new
