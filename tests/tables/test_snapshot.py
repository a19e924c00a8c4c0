"""Views over a snapshot: the table's columns always, and earlier snapshots by id or time."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from loglake.errors import QueryError
from loglake.tables.catalog import Tables
from tests.tables.conftest import commit_source, duck_rows


def rows(n: int, **extra: object) -> list[dict[str, object]]:
    return [{"level": "INFO", "message": f"m{i}", "source_line": i + 1, **extra} for i in range(n)]


def test_an_empty_table_has_its_columns_and_no_rows(tables: Tables) -> None:
    got = duck_rows(tables, "errors", "SELECT count(*) n, count(error_code) c FROM t")
    assert got == [{"n": 0, "c": 0}]


def test_a_column_no_file_of_the_snapshot_has_reads_as_null(tables: Tables) -> None:
    commit_source(tables, {"raw/a.log": [rows(2)]})
    commit_source(tables, {"raw/b.log": [rows(1, region="eu")]})
    got = duck_rows(tables, "processed", "SELECT source_uri, region FROM t ORDER BY 1")
    assert got == [{"source_uri": "raw/a.log", "region": None}] * 2 + [{"source_uri": "raw/b.log", "region": "eu"}]


def test_as_of_reads_an_earlier_snapshot_by_id_and_by_time(tables: Tables) -> None:
    commit_source(tables, {"raw/a.log": [rows(2)]})
    first = tables.load("processed", refresh=True).current_snapshot()
    assert first is not None
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    commit_source(tables, {"raw/a.log": [rows(5, region="eu")]}, seen={"raw/a.log"})
    count = "SELECT count(*) n FROM t"
    assert duck_rows(tables, "processed", count) == [{"n": 5}]
    assert duck_rows(tables, "processed", count, as_of=str(first.snapshot_id)) == [{"n": 2}]
    assert duck_rows(tables, "processed", count, as_of=between) == [{"n": 2}]
    # the earlier snapshot is read with the schema it was written with: no `region` then
    with pytest.raises(Exception, match="region"):
        duck_rows(tables, "processed", "SELECT region FROM t", as_of=str(first.snapshot_id))


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("12345", "no snapshot `12345`"),
        ("yesterday", "neither a snapshot id nor a time"),
        ("2001-01-01", "no snapshot yet"),
    ],
)
def test_as_of_that_names_nothing_says_so(tables: Tables, as_of: str, message: str) -> None:
    commit_source(tables, {"raw/a.log": [rows(1)]})
    with pytest.raises(QueryError, match=message):
        duck_rows(tables, "processed", as_of=as_of)
