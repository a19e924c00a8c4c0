"""A lake's tables on disk, data files written the way the writers write them, and the independent reader."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loglake.config import CatalogConfig
from loglake.query.snapshot import local_path, plan, view_sql
from loglake.sinks.arrow import rows_to_table
from loglake.tables.catalog import Tables, open_tables
from loglake.tables.commit import Change, Commit, apply
from loglake.tables.schema import Target

ROOT = Path(__file__).resolve().parents[2]
READER = ROOT / ".venv-reader" / "bin" / "python"


@pytest.fixture
def tables(tmp_path: Path) -> Tables:
    root = tmp_path / "lake"
    root.mkdir()
    t = open_tables("file://" + str(root), CatalogConfig(), str(root))
    t.ensure()
    return t


def write_file(
    tables: Tables, zone: str, rows: list[dict[str, Any]], target: Target, dt: str = "2025-07-21"
) -> tuple[str, int]:
    """One data file of `rows` (inferred as the writers infer them), conformed; (uri, rescued)."""
    batch = rows_to_table(rows)
    batch = batch.append_column("dt", pa.array([dt] * len(batch), pa.string()))
    out = target.conform(batch)
    uri = f"{tables.locations[zone]}/dt={dt}/{uuid.uuid4().hex}.parquet"
    if uri.startswith("file://"):
        os.makedirs(os.path.dirname(local_path(uri)), exist_ok=True)
    with tables.load(zone).io.new_output(uri).create(overwrite=True) as sink:
        pq.write_table(out.table, sink)
    return uri, out.rescued_rows


def commit_source(
    tables: Tables,
    sources: dict[str, list[list[dict[str, Any]]]],
    seen: set[str] | None = None,
    **kwargs: Any,
) -> str:
    """Commit each source's files (one per row list) to `processed`, in one commit; returns its attempt id."""
    target = Target(tables.load("processed", refresh=True).schema().as_arrow())
    files = []
    for uri, parts in sources.items():
        for rows in parts:
            files.append(write_file(tables, "processed", [dict(r, source_uri=uri) for r in rows], target)[0])
    attempt = uuid.uuid4().hex
    commit = Commit(attempt, list(sources), set(seen or ()), {"processed": Change(files, target.schema())})
    apply(tables, commit, **kwargs)
    return attempt


def duck_rows(
    tables: Tables, zone: str, sql: str = "SELECT * FROM t", as_of: str | None = None
) -> list[dict[str, Any]]:
    """Rows through LogLake's own query path: pyiceberg plans, DuckDB reads."""
    import duckdb

    files, schema = plan(tables.load(zone, refresh=True), as_of)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS {view_sql(files, schema)}")
    return con.sql(sql).to_arrow_table().to_pylist()


@pytest.fixture
def independent() -> Callable[[Tables, str, str], list[dict[str, Any]]]:
    """Rows as DuckDB's own Iceberg reader (`iceberg_scan`, no pyiceberg) sees them, from the test-only venv."""
    if not READER.exists():
        pytest.fail(f"{READER} is missing: `make test` creates it (DuckDB 1.5.5 with its iceberg extension)")

    def read(tables: Tables, zone: str, sql: str = "SELECT * FROM t") -> list[dict[str, Any]]:
        metadata = local_path(tables.load(zone, refresh=True).metadata_location)
        proc = subprocess.run(
            [str(READER), str(Path(__file__).with_name("iceberg_reader.py")), metadata, sql],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)  # type: ignore[no-any-return]

    return read


def same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    key = lambda r: json.dumps(r, sort_keys=True, default=str)  # noqa: E731
    return sorted(map(key, a)) == sorted(map(key, b))


def at_once(work: Callable[[int], object], count: int) -> list[BaseException]:
    """`work(0) … work(count-1)` on threads started together; what they raised."""
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
