"""Compaction and housekeeping: small files merged in one snapshot, old snapshots and orphans removed.

A compaction of a partition is one Iceberg overwrite: the merged file added and its inputs removed
in the same snapshot, so every engine sees the inputs or the merged file, never both, never
neither. If a concurrent commit removed one of the inputs meanwhile (its source reprocessed), the
overwrite's validation fails and that partition is left for the next run; nothing is lost.

Files stay on disk after they leave the current snapshot: older snapshots (time travel, a query
that planned just before) still need them. `expire` drops snapshots older than a retention, and
`remove_orphans` deletes files no remaining snapshot references once they are older than a grace
period (the files of a commit in flight are unreferenced, young, and kept).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from loglake.tables.catalog import PARTITION, ZONES, Tables

if TYPE_CHECKING:
    from pyiceberg.table import Table

TARGET_BYTES = 128 << 20
"""~128 MB files are what Athena, Spark and Trino read best."""


@dataclass
class Compaction:
    zone: str
    dt: str
    inputs: int
    into: int
    rows: int
    skipped: str | None = None
    """Why the partition was left as it was (a concurrent change to its files)."""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _bins(files: list[Any], target: int) -> list[list[Any]]:
    bins: list[list[Any]] = [[]]
    size = 0
    for f in sorted(files, key=lambda f: f.file_path):
        if bins[-1] and size + f.file_size_in_bytes > target:
            bins.append([])
            size = 0
        bins[-1].append(f)
        size += f.file_size_in_bytes
    return [b for b in bins if len(b) > 1]


def compact(
    tables: Tables,
    zones: tuple[str, ...] = ZONES,
    dt: str | None = None,
    target: int = TARGET_BYTES,
    small: int | None = None,
) -> list[Compaction]:
    """Merge each partition's small files (below `small`, default a quarter of `target`) into files of
    about `target` bytes; one overwrite snapshot per merged file."""
    from pyiceberg.expressions import EqualTo

    small = target // 4 if small is None else small
    out = []
    for zone in zones:
        table = tables.load(zone, refresh=True)
        scan = table.scan(row_filter=EqualTo(PARTITION, dt)) if dt else table.scan()  # type: ignore[call-arg,arg-type]
        by_dt: dict[str, list[Any]] = {}
        for task in scan.plan_files():
            f = task.file
            if f.file_size_in_bytes < small:
                by_dt.setdefault(str(f.partition[0]), []).append(f)
        for part, files in sorted(by_dt.items()):
            for group in _bins(files, target):
                out.append(_merge(tables, zone, part, group))
    return out


def _merge(tables: Tables, zone: str, dt: str, inputs: list[Any]) -> Compaction:
    from pyiceberg.exceptions import CommitFailedException, ValidationException
    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    table = tables.load(zone, refresh=True)
    schema = table.schema().as_arrow()
    target = f"{table.location()}/{PARTITION}={dt}/compacted-{uuid.uuid4().hex}.parquet"
    rows = 0
    fs = table.io
    with fs.new_output(target).create() as sink, pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for f in inputs:
            with fs.new_input(f.file_path).open() as src:
                for batch in pq.ParquetFile(src).iter_batches(batch_size=65536):
                    table_part = _to_schema(pa.Table.from_batches([batch]), schema)
                    writer.write_table(table_part)
                    rows += len(table_part)
    try:
        with table.transaction() as tx:
            # The new file is named by the table's name mapping like every other file (no field ids).
            data_file = parquet_file_to_data_file(table.io, tx.table_metadata, target)
            with tx.update_snapshot(snapshot_properties={"loglake.compaction": "1"}).overwrite() as ow:
                for f in inputs:
                    ow.delete_data_file(f)
                ow.append_data_file(data_file)
    except (CommitFailedException, ValidationException) as exc:
        fs.delete(target)
        return Compaction(zone, dt, len(inputs), 0, 0, skipped=f"changed during compaction ({exc}); run it again")
    return Compaction(zone, dt, len(inputs), 1, rows)


def _to_schema(part: pa.Table, schema: pa.Schema) -> pa.Table:
    """An older file's batch in the table's current schema: widened types, new columns as nulls."""
    arrays = []
    for f in schema:
        if f.name in part.column_names:
            column = part.column(f.name)
            arrays.append(column.cast(f.type) if column.type != f.type else column)
        else:
            arrays.append(pa.nulls(len(part), f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def expire(tables: Tables, older_than: timedelta) -> dict[str, int]:
    """Drop snapshots older than `older_than` (the current one always stays); per zone, how many went."""
    gone = {}
    cutoff = datetime.now(UTC) - older_than
    for zone in ZONES:
        table = tables.load(zone, refresh=True)
        before = len(table.metadata.snapshots)
        current = table.current_snapshot()
        old = [
            s.snapshot_id
            for s in table.metadata.snapshots
            if s.timestamp_ms < cutoff.timestamp() * 1000 and (current is None or s.snapshot_id != current.snapshot_id)
        ]
        if old:
            table.maintenance.expire_snapshots().by_ids(old).commit()
        gone[zone] = before - len(tables.load(zone, refresh=True).metadata.snapshots)
    return gone


def referenced(table: Table) -> set[str]:
    """Every file any snapshot of the table still needs: data, manifests, manifest lists, metadata."""
    keep = {table.metadata_location}
    keep.update(entry.metadata_file for entry in table.metadata.metadata_log)
    for snapshot in table.metadata.snapshots:
        keep.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            keep.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                keep.add(entry.data_file.file_path)
    return keep


def remove_orphans(tables: Tables, storage: Any, grace: timedelta) -> dict[str, int]:
    """Delete files in the zones that no snapshot references and that are older than `grace`."""
    import time

    removed = {}
    for zone in ZONES:
        table = tables.load(zone, refresh=True)
        base = tables.locations[zone][: -len(zone)]  # the lake's root URI, with its slash
        keep = {uri[len(base) :] for uri in referenced(table) if uri.startswith(base)}
        count = 0
        cutoff_ns = (time.time() - grace.total_seconds()) * 1e9
        for info in list(storage.list(zone + "/")):
            if info.key in keep or info.key.rsplit("/", 1)[-1].startswith("."):
                continue
            if info.mtime_ns and info.mtime_ns < cutoff_ns:
                storage.delete(info.key)
                count += 1
        removed[zone] = count
    return removed
