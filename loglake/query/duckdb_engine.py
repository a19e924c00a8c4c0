"""SQL over the catalog with DuckDB: the catalog's tables become views with the catalog's types.

Read-only by construction: only SELECT-like statements are accepted, checked by DuckDB's own parser.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from loglake.catalog.types import DUCKDB_TYPES
from loglake.errors import QueryError
from loglake.storage import Storage

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
RESULTS = "query-results"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_sql(storage: Storage, table: dict[str, Any]) -> str:
    """A view that applies the catalog's (widened) types to every file of the table."""
    columns = [(c, DUCKDB_TYPES.get(t, "VARCHAR")) for c, t in table["columns"]]
    by_ext: dict[str, list[str]] = {}
    for key in sorted(table["files"]):
        by_ext.setdefault(key.rsplit(".", 1)[-1], []).append(storage.uri(key))
    in_files = set(table.get("file_columns", ()))
    select = ", ".join(f"CAST({_q(c) if c in in_files else 'NULL'} AS {t}) AS {_q(c)}" for c, t in columns)
    if not by_ext:
        nulls = ", ".join(f"CAST(NULL AS {t}) AS {_q(c)}" for c, t in columns)
        return f"SELECT {nulls + ', ' if nulls else ''}CAST(NULL AS VARCHAR) AS dt WHERE false"
    parts = []
    for ext, paths in by_ext.items():
        files = "[" + ", ".join(_lit(p) for p in paths) + "]"
        if ext == "parquet":
            src = f"read_parquet({files}, union_by_name=true, hive_partitioning=true, hive_types_autocast=false)"
        else:
            cols = "{" + ", ".join(f"{_lit(c)}: {_lit(t)}" for c, t in columns) + "}"
            src = (
                f"read_json({files}, format='newline_delimited', records=true, columns={cols}, "
                "hive_partitioning=true, hive_types_autocast=false)"
            )
        parts.append(f"SELECT {select}, CAST(dt AS VARCHAR) AS dt FROM {src}")
    return " UNION ALL BY NAME ".join(parts)


@dataclass
class Result:
    columns: list[str]
    rows: list[dict[str, Any]]
    query_id: str
    saved_to: str | None = None

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_cell(row[c]) for c in self.columns])
        return buf.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return value


ARROW_TYPES = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "array<string>": pa.list_(pa.string()),
}


def remote_dataset(storage: Storage, table: dict[str, Any]) -> Any:
    """A pyarrow dataset over a remote lake's files with the catalog's (widened) schema."""
    import pyarrow.dataset as ds

    fs, base = storage.arrow_filesystem()
    schema = pa.schema([(c, ARROW_TYPES.get(t, pa.string())) for c, t in table["columns"]] + [("dt", pa.string())])
    partitioning = ds.partitioning(pa.schema([("dt", pa.string())]), flavor="hive")
    parts = []
    for ext, fmt in (("parquet", "parquet"), ("jsonl", "json")):
        paths = [f"{base}/{k}" for k in sorted(table["files"]) if k.endswith("." + ext)]
        if paths:
            parts.append(
                ds.dataset(
                    paths,
                    schema=schema,
                    format=fmt,
                    filesystem=fs,
                    partitioning=partitioning,
                    partition_base_dir=f"{base}/{table['zone']}",
                )
            )
    if not parts:
        return schema.empty_table()
    return parts[0] if len(parts) == 1 else ds.dataset(parts)


class DuckDBEngine:
    def __init__(self, storage: Storage, catalog: dict[str, Any]) -> None:
        from loglake.storage import LocalStorage

        self.storage = storage
        self.con = duckdb.connect(":memory:")
        db = catalog["database"]
        self.con.execute(f"CREATE SCHEMA {_q(db)}")
        for name, table in catalog["tables"].items():
            if isinstance(storage, LocalStorage):
                self.con.execute(f"CREATE VIEW {_q(db)}.{_q(name)} AS {view_sql(storage, table)}")
            else:
                # DuckDB reads remote lakes through pyarrow's filesystems (no extension downloads needed).
                hidden = f"__loglake_{name}"
                self.con.register(hidden, remote_dataset(storage, table))
                self.con.execute(f"CREATE VIEW {_q(db)}.{_q(name)} AS SELECT * FROM {_q(hidden)}")
        # Athena resolves unqualified names in the query's database; so do we.
        self.con.execute(f"SET schema = {_lit(db)}")

    def check(self, sql: str) -> str:
        try:
            statements = self.con.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryError(f"cannot parse the query: {exc}") from exc
        if len(statements) != 1:
            raise QueryError(f"expected one SQL statement, got {len(statements)}", hint="run statements one at a time")
        stmt = statements[0]
        if stmt.type not in ALLOWED:
            kind = stmt.type.name
            raise QueryError(
                f"refused: `{kind}` statements would change data; the query path is read-only",
                hint="use SELECT (or EXPLAIN) over the catalog's tables",
            )
        return stmt.query

    def run(self, sql: str, save: bool = True) -> Result:
        query = self.check(sql)
        try:
            table: pa.Table = self.con.sql(query).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {exc}") from exc
        result = Result(columns=table.column_names, rows=table.to_pylist(), query_id=str(uuid.uuid4()))
        if save:
            stamp = datetime.now(UTC).strftime("%Y/%m/%d")
            key = f"{RESULTS}/{stamp}/{result.query_id}.csv"
            self.storage.write_bytes(key, result.to_csv().encode())
            result.saved_to = self.storage.uri(key)
        return result
