"""Commits into the Iceberg tables: replacement, groups, schema changes, conflicts, interruption, damage."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from loglake.config import CatalogConfig
from loglake.tables.catalog import SQLITE_KEY, TableDamaged, Tables, open_tables
from loglake.tables.commit import ATTEMPT, Change, Commit, apply, finish
from loglake.tables.schema import RESCUED, Target
from tests.tables.conftest import at_once, commit_source, duck_rows, same, write_file


def rows(n: int, **extra: object) -> list[dict[str, object]]:
    return [{"level": "INFO", "message": f"m{i}", "source_line": i + 1, **extra} for i in range(n)]


def test_reprocessing_an_object_replaces_its_rows(tables: Tables) -> None:
    commit_source(tables, {"raw/a.log": [rows(3)], "raw/b.log": [rows(2)]})
    commit_source(tables, {"raw/a.log": [rows(4)]}, seen={"raw/a.log"})
    got = duck_rows(tables, "processed", "SELECT source_uri, count(*) AS n FROM t GROUP BY 1 ORDER BY 1")
    assert got == [{"source_uri": "raw/a.log", "n": 4}, {"source_uri": "raw/b.log", "n": 2}]


def test_a_group_of_objects_is_one_snapshot_and_one_member_is_replaced_alone(tables: Tables) -> None:
    members = {f"raw/small-{i}.log": [rows(2)] for i in range(20)}
    commit_source(tables, members)
    table = tables.load("processed", refresh=True)
    assert len(table.metadata.snapshots) == 1
    commit_source(tables, {"raw/small-3.log": [rows(5)]}, seen={"raw/small-3.log"})
    counts = {
        r["source_uri"]: r["n"]
        for r in duck_rows(tables, "processed", "SELECT source_uri, count(*) n FROM t GROUP BY 1")
    }
    assert counts == {**{u: 2 for u in members}, "raw/small-3.log": 5}


def test_types_changing_between_and_within_files_read_the_same_in_every_reader(tables: Tables, independent) -> None:
    commit_source(tables, {"raw/orders-1.log": [rows(2, order_id=17, amount=3)]})
    # within one file: one row's order_id is text; later a column appears; a float joins a long column
    mixed = [
        {"level": "INFO", "message": "x", "order_id": 18, "amount": 4},
        {"level": "WARN", "message": "y", "order_id": "A-19"},
    ]
    commit_source(tables, {"raw/orders-2.log": [mixed, rows(1, amount=2.5, region="eu")]})
    commit_source(tables, {"raw/orders-1.log": [rows(1, order_id=20)]}, seen={"raw/orders-1.log"})
    ours = duck_rows(tables, "processed")
    theirs = independent(tables, "processed")
    assert len(ours) == 4 and same(ours, theirs)
    by_message = {r["message"]: r for r in ours}
    # that file's order_id column is text (one row's value was), so both its values are kept as they came
    assert by_message["y"]["order_id"] is None and by_message["y"][RESCUED] == '{"order_id":"A-19"}'
    assert by_message["x"]["order_id"] is None and by_message["x"][RESCUED] == '{"order_id":"18"}'
    assert by_message["m0"]["amount"] is None and by_message["m0"][RESCUED] == '{"amount":2.5}'
    assert by_message["m0"]["region"] == "eu"
    schema = tables.load("processed").schema()
    assert str(schema.find_field("order_id").field_type) == "long"
    # the pyiceberg scan agrees too
    assert len(tables.load("processed").scan().to_arrow()) == 4


def test_concurrent_writers_of_the_same_objects_keep_their_rows_once(tables: Tables) -> None:
    """Six threads, each committing the same three objects (one seen, two new) with no lock: conflicts retried."""
    commit_source(tables, {"raw/seen.log": [rows(1)]})

    def writer(_: int) -> None:
        # each opens its own catalog connection, as separate processes would
        root = tables.where.rsplit("/", 2)[0]
        mine = open_tables("file://" + root, CatalogConfig(), root)
        commit_source(
            mine,
            {"raw/seen.log": [rows(2)], "raw/new-1.log": [rows(3)], "raw/new-2.log": [rows(1)]},
            seen={"raw/seen.log"},
        )

    assert not at_once(writer, 6)
    counts = {
        r["source_uri"]: r["n"]
        for r in duck_rows(tables, "processed", "SELECT source_uri, count(*) n FROM t GROUP BY 1")
    }
    assert counts == {"raw/seen.log": 2, "raw/new-1.log": 3, "raw/new-2.log": 1}


def test_an_interrupted_commit_is_finished_once(tables: Tables) -> None:
    target_p = Target(tables.load("processed").schema().as_arrow())
    target_e = Target(tables.load("errors").schema().as_arrow())
    p, _ = write_file(tables, "processed", rows(2, source_uri="raw/a.log"), target_p)
    e, _ = write_file(
        tables, "errors", [{"source_uri": "raw/a.log", "source_line": 3, "error_code": "invalid_json"}], target_e
    )
    commit = Commit(
        uuid.uuid4().hex,
        ["raw/a.log"],
        set(),
        {"processed": Change([p], target_p.schema()), "errors": Change([e], target_e.schema())},
    )
    apply(tables, commit, zones=("processed",))  # the crash: errors never committed
    assert duck_rows(tables, "errors") == []
    finish(tables, commit)
    finish(tables, commit)
    assert len(duck_rows(tables, "processed")) == 2
    assert [r["error_code"] for r in duck_rows(tables, "errors")] == ["invalid_json"]
    snapshots = tables.load("errors", refresh=True).metadata.snapshots
    assert [s.summary.get(ATTEMPT) for s in snapshots] == [commit.attempt] * len(snapshots)


def test_a_damaged_catalog_is_reported_never_empty(tables: Tables, tmp_path: Path) -> None:
    commit_source(tables, {"raw/a.log": [rows(1)]})
    root = tmp_path / "lake"
    (root / SQLITE_KEY).write_bytes(b"not a database at all, just bytes\n")
    with pytest.raises(TableDamaged, match=r"iceberg\.db.*not a SQLite database"):
        open_tables("file://" + str(root), CatalogConfig(), str(root))


def test_missing_table_metadata_is_reported_with_what_to_do(tables: Tables, tmp_path: Path) -> None:
    commit_source(tables, {"raw/a.log": [rows(1)]})
    for f in (tmp_path / "lake" / "processed" / "metadata").glob("*.metadata.json"):
        f.unlink()
    fresh = open_tables(tables.locations["processed"][: -len("/processed")], CatalogConfig(), str(tmp_path / "lake"))
    with pytest.raises(TableDamaged) as info:
        fresh.load("processed")
    assert "log_analytics_db.processed_logs" in str(info.value) and "loglake crawl" in str(info.value)


def test_a_column_another_writer_added_in_another_type_is_fitted_not_failed(tables: Tables) -> None:
    """Two writers both add `x`, one as long, one as text: the second's files are refitted, the text rescued."""
    from loglake.tables.schema import RESCUED

    first, second = (
        Target(tables.load("processed").schema().as_arrow()),
        Target(tables.load("processed").schema().as_arrow()),
    )
    a, _ = write_file(tables, "processed", rows(1, source_uri="raw/a.log", x=1), first)
    b, _ = write_file(tables, "processed", rows(1, source_uri="raw/b.log", x="text"), second)
    apply(tables, Commit("a1", ["raw/a.log"], set(), {"processed": Change([a], first.schema())}))
    apply(tables, Commit("b1", ["raw/b.log"], set(), {"processed": Change([b], second.schema())}))
    got = {r["source_uri"]: (r["x"], r[RESCUED]) for r in duck_rows(tables, "processed")}
    assert got == {"raw/a.log": (1, None), "raw/b.log": (None, '{"x":"text"}')}
