"""SQL over the lake's Iceberg tables with DuckDB: each table a view over one snapshot.

Read-only by construction: only SELECT-like statements are accepted, checked by DuckDB's own parser.
pyiceberg plans the snapshot's files from the table metadata (`query.snapshot`); a local lake's files
are read by DuckDB directly, a remote lake's through a pyarrow dataset (no extension downloads needed).
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

from loglake.errors import QueryError
from loglake.query.snapshot import plan_sized, view_sql
from loglake.storage import LocalStorage, Storage
from loglake.tables.catalog import ZONES, Tables

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
RESULTS = "query-results"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def remote_dataset(storage: Storage, files: list[str], sizes: list[int], schema: pa.Schema) -> Any:
    """A pyarrow dataset over a remote snapshot's files, in the table's schema (missing columns null). The
    sizes come from the table metadata, so no file is asked for its size before it is read."""
    import pyarrow.dataset as ds

    if not files:
        return schema.empty_table()
    fs, _ = storage.arrow_filesystem()
    fmt = ds.ParquetFileFormat()
    fragments = [
        fmt.make_fragment(f.split("://", 1)[1], filesystem=fs, file_size=size)
        for f, size in zip(files, sizes, strict=True)
    ]
    return ds.FileSystemDataset(fragments, schema=schema, format=fmt, filesystem=fs)


class DuckDBEngine:
    def __init__(self, storage: Storage, tables: Tables, as_of: str | None = None) -> None:
        self.storage = storage
        self.con = duckdb.connect(":memory:")
        db = tables.config.database
        self.con.execute(f"CREATE SCHEMA {_q(db)}")
        for zone in ZONES:
            table = tables.load(zone, refresh=True)
            name = tables.name(zone).split(".", 1)[1]
            files, sizes, schema = plan_sized(table, as_of)
            if isinstance(storage, LocalStorage):
                self.con.execute(f"CREATE VIEW {_q(db)}.{_q(name)} AS {view_sql(files, schema)}")
            else:
                hidden = f"__loglake_{name}"
                self.con.register(hidden, remote_dataset(storage, files, sizes, schema))
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
