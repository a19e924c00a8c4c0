"""DuckDB views over one snapshot of each Iceberg table, planned by pyiceberg.

pyiceberg reads the table's metadata (manifest list and manifests, never a request per data file)
and names the snapshot's data files; DuckDB reads them. A typed empty relation of the table's
schema is unioned by name with the files, so a column no file has yet reads as NULL, files written
before a widening read in the wider type, and the view's columns are always the table's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from loglake.errors import QueryError

if TYPE_CHECKING:
    from pyiceberg.table import Table


def duckdb_type(kind: pa.DataType) -> str:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "VARCHAR"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return duckdb_type(kind.value_type) + "[]"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ" if kind.tz else "TIMESTAMP"
    simple = {
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.float64(): "DOUBLE",
        pa.float32(): "FLOAT",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
        pa.binary(): "BLOB",
    }
    return simple.get(kind, "VARCHAR")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def snapshot_id(table: Table, as_of: str | None) -> int | None:
    """The snapshot `as_of` names: a snapshot id, or a time (ISO-8601; the snapshot current then)."""
    if as_of is None:
        current = table.current_snapshot()
        return None if current is None else current.snapshot_id
    if as_of.isdigit():
        if table.snapshot_by_id(int(as_of)) is None:
            raise QueryError(f"no snapshot `{as_of}` in `{table.name()}`", hint="`loglake snapshots` lists them")
        return int(as_of)
    try:
        when = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"--as-of `{as_of}` is neither a snapshot id nor a time", hint="e.g. --as-of 2026-12-01T10:00:00Z"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    snap = table.snapshot_as_of_timestamp(int(when.timestamp() * 1000))
    if snap is None:
        raise QueryError(f"`{table.name()}` had no snapshot yet at {when.isoformat()}")
    return snap.snapshot_id


def plan(table: Table, as_of: str | None = None) -> tuple[list[str], pa.Schema]:
    """The data files of the snapshot and the schema it was written with."""
    files, _sizes, schema = plan_sized(table, as_of)
    return files, schema


def plan_sized(table: Table, as_of: str | None = None) -> tuple[list[str], list[int], pa.Schema]:
    """`plan` with each file's size from the metadata: a reader that knows them asks nothing per file first."""
    sid = snapshot_id(table, as_of)
    if sid is None:
        return [], [], table.schema().as_arrow()
    snap = table.snapshot_by_id(sid)
    schema = table.schemas().get(snap.schema_id) if snap is not None and snap.schema_id is not None else None
    tasks = list(table.scan(snapshot_id=sid).plan_files())
    files = [t.file.file_path for t in tasks]
    return files, [t.file.file_size_in_bytes for t in tasks], (schema or table.schema()).as_arrow()


def local_path(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def view_sql(files: list[str], schema: pa.Schema) -> str:
    typed = ", ".join(f"CAST(NULL AS {duckdb_type(f.type)}) AS {_q(f.name)}" for f in schema)
    empty = f"SELECT {typed} WHERE false"
    columns = ", ".join(f"CAST({_q(f.name)} AS {duckdb_type(f.type)}) AS {_q(f.name)}" for f in schema)
    if not files:
        return empty
    listed = "[" + ", ".join(_lit(local_path(p)) for p in files) + "]"
    src = f"read_parquet({listed}, union_by_name=true, hive_partitioning=false)"
    return f"SELECT {columns} FROM ({empty} UNION ALL BY NAME SELECT * FROM {src})"


def describe(table: Table) -> dict[str, Any]:
    """What `status` and `tables` show of a table: its snapshot, files, rows, columns."""
    current = table.current_snapshot()
    summary = dict(current.summary.additional_properties) if current is not None and current.summary else {}
    return {
        "name": ".".join(table.name()),
        "location": table.location(),
        "metadata_location": table.metadata_location,
        "snapshot_id": None if current is None else current.snapshot_id,
        "snapshots": len(table.metadata.snapshots),
        "rows": int(summary.get("total-records", 0)),
        "files": int(summary.get("total-data-files", 0)),
        "columns": [(f.name, duckdb_type(f.type)) for f in table.schema().as_arrow()],
    }
