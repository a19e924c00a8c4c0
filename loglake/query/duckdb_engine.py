"""SQL over the lake's Iceberg tables with DuckDB: each table a view over one snapshot.

Read-only by construction: only SELECT-like statements (and read-only PRAGMAs) are accepted, checked by
DuckDB's own parser, and the connection can read no file outside the lake (DuckDB's `allowed_directories`
with external access off, the configuration then locked). pyiceberg plans the snapshot's files from
the table metadata (`query.snapshot`); a local lake's files
are read by DuckDB directly, a remote lake's through a pyarrow dataset (no extension downloads needed).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from loglake.config import QueryConfig
from loglake.errors import QueryError
from loglake.query.results import expire_results, saved_key, tee_to_results
from loglake.query.snapshot import plan_sized, view_sql
from loglake.storage import LocalStorage, Storage
from loglake.tables.catalog import ZONES, Tables

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
READ_ONLY_PRAGMAS = frozenset(
    {
        "table_info",
        "show_tables",
        "show_tables_expanded",
        "show",
        "database_list",
        "database_size",
        "storage_info",
        "functions",
        "collations",
        "version",
        "platform",
        "user_agent",
        "metadata_info",
    }
)
"""PRAGMAs that only report; every other one could change a setting and is refused."""
_PRAGMA = re.compile(r"^\s*PRAGMA\s+([A-Za-z_]+)", re.I)
BATCH_ROWS = 64 * 1024


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Stream:
    """A result being read: its schema now, its batches as the engine produces them (read them once)."""

    query_id: str
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    saved_to: str | None = None
    """Where the CSV copy will be once the batches were read to the end."""

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def table(self) -> pa.Table:
        """The whole result in memory (small results; stream the batches otherwise)."""
        return pa.Table.from_batches(list(self.batches), schema=self.schema)


@dataclass
class Result:
    columns: list[str]
    rows: list[dict[str, Any]]
    query_id: str
    saved_to: str | None = None


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
    def __init__(
        self, storage: Storage, tables: Tables, as_of: str | None = None, config: QueryConfig | None = None
    ) -> None:
        self.storage = storage
        self.config = config or QueryConfig()
        self.con = duckdb.connect(":memory:")
        db = tables.config.database
        self.database = db
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
        self._confine()

    def _confine(self) -> None:
        """No file outside the lake: a local lake's views read its own folder only, a remote lake's read
        registered datasets (no file access at all); then no setting can change any more."""
        if isinstance(self.storage, LocalStorage):
            root = self.storage.path("").rstrip("/") + "/"
            self.con.execute(f"SET allowed_directories = [{_lit(root)}]")
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def tables(self) -> list[tuple[str, int]]:
        """The lake's tables with their column counts (what `loglake tables` lists)."""
        rows = self.con.execute(
            "SELECT table_name, count(*) FROM information_schema.columns WHERE table_schema = ? "
            "GROUP BY table_name ORDER BY table_name",
            [self.database],
        ).fetchall()
        return [(str(name), int(n)) for name, n in rows]

    def columns(self, table: str) -> list[tuple[str, str]]:
        """A table's columns and their SQL types; an unknown table is a QueryError naming the known ones."""
        name = table.split(".")[-1].strip('"')
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [self.database, name],
        ).fetchall()
        if not rows:
            known = ", ".join(t for t, _ in self.tables())
            raise QueryError(f"no table `{table}`", hint=f"the lake's tables: {known}")
        return [(str(c), str(t)) for c, t in rows]

    def check(self, sql: str) -> str:
        try:
            statements = self.con.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryError(f"cannot parse the query: {exc}") from exc
        if len(statements) != 1:
            raise QueryError(f"expected one SQL statement, got {len(statements)}", hint="run statements one at a time")
        stmt = statements[0]
        if stmt.type == duckdb.StatementType.PRAGMA:
            m = _PRAGMA.match(stmt.query)
            if m and m.group(1).lower() in READ_ONLY_PRAGMAS:
                return stmt.query
            raise QueryError(
                "refused: this PRAGMA could change settings; the query path is read-only",
                hint="read-only PRAGMAs: " + ", ".join(sorted(READ_ONLY_PRAGMAS)),
            )
        if stmt.type not in ALLOWED:
            kind = stmt.type.name
            raise QueryError(
                f"refused: `{kind}` statements would change data; the query path is read-only",
                hint="use SELECT (also DESCRIBE, SUMMARIZE, SHOW TABLES, EXPLAIN) over the lake's tables",
            )
        return stmt.query

    def stream(self, sql: str, save: bool = False) -> Stream:
        """Start a query; its rows arrive batch by batch (constant memory whatever the result's size). With
        `save`, a CSV copy is written under query-results/ as the batches are read."""
        query = self.check(sql)
        try:
            relation = self.con.sql(query)
            if relation is None:  # pragma: no cover - every allowed statement has a result
                raise QueryError("the statement returned no result")
            reader = relation.to_arrow_reader(BATCH_ROWS)
        except duckdb.PermissionException as exc:
            raise QueryError(
                f"refused: the query reads outside the lake ({_first_line(exc)})",
                hint="queries read the lake's tables only; ingest other files with `loglake ingest`",
            ) from exc
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {_first_line(exc)}") from exc
        stream = Stream(str(uuid.uuid4()), reader.schema, _batches(reader))
        if save:
            expire_results(self.storage, self.config.results_retention_days)
            key = saved_key(stream.query_id)
            stream.batches = tee_to_results(self.storage, key, stream.schema, stream.batches)
            stream.saved_to = self.storage.uri(key)
        return stream

    def run(self, sql: str, save: bool = True) -> Result:
        """The whole result in memory, as rows (small results: tests, the demo)."""
        stream = self.stream(sql, save=save)
        rows = stream.table().to_pylist()
        return Result(columns=stream.columns, rows=rows, query_id=stream.query_id, saved_to=stream.saved_to)


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    try:
        yield from reader
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
