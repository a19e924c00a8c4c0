"""Compaction in one snapshot; queries during it never see missing or doubled rows; expiry and orphans."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

from loglake.query.snapshot import local_path
from loglake.storage import LocalStorage
from loglake.tables.catalog import Tables
from loglake.tables.compact import compact, expire, referenced, remove_orphans
from tests.tables.conftest import commit_source, duck_rows, same


def rows(n: int, **extra: object) -> list[dict[str, object]]:
    return [{"level": "INFO", "message": f"m{i}", "source_line": i + 1, **extra} for i in range(n)]


def fill(tables: Tables, objects: int) -> None:
    for i in range(objects):
        extra = {"order_id": i} if i % 2 else {"order_id": f"o-{i}", "region": "eu"}
        commit_source(tables, {f"raw/{i:03d}.log": [rows(3, **extra)]})


def test_compaction_merges_small_files_and_keeps_every_row_for_every_reader(tables: Tables, independent) -> None:
    fill(tables, 12)
    before = duck_rows(tables, "processed")
    files_before = len(tables.load("processed", refresh=True).inspect.files())
    report = compact(tables, zones=("processed",))
    assert [(r.inputs, r.into) for r in report] == [(files_before, 1)]
    assert len(tables.load("processed", refresh=True).inspect.files()) == 1
    after = duck_rows(tables, "processed")
    assert same(before, after) and len(after) == 36
    assert same(after, independent(tables, "processed"))
    # a source reprocessed after compaction: its rows are taken out of the merged file
    commit_source(tables, {"raw/004.log": [rows(1)]}, seen={"raw/004.log"})
    counts = duck_rows(tables, "processed", "SELECT count(*) n, count(*) FILTER (source_uri = 'raw/004.log') m FROM t")
    assert counts == [{"n": 34, "m": 1}]


def test_queries_while_compacting_never_see_a_missing_or_doubled_row(tables: Tables, independent) -> None:
    fill(tables, 16)
    commit_source(tables, {"raw/more.log": [rows(3)]})
    seen: list[int] = []
    stop = threading.Event()

    def query_loop() -> None:
        while not stop.is_set():
            seen.append(duck_rows(tables, "processed", "SELECT count(*) n FROM t")[0]["n"])

    loop = threading.Thread(target=query_loop)
    loop.start()
    try:
        for _ in range(3):
            commit_source(tables, {"raw/more.log": [rows(3)]}, seen={"raw/more.log"})
            compact(tables, zones=("processed",))
            seen.append(independent(tables, "processed", "SELECT count(*) n FROM t")[0]["n"])
    finally:
        stop.set()
        loop.join()
    assert len(seen) > 3 and set(seen) == {51}


def test_expiry_then_orphan_cleanup_removes_only_what_no_snapshot_needs(tables: Tables, tmp_path: Path) -> None:
    fill(tables, 4)
    compact(tables, zones=("processed",))
    root = tmp_path / "lake"
    stray = root / "processed" / "dt=2025-07-21" / "crashed-writer.parquet"
    stray.write_bytes(b"PAR1 half a file")
    storage = LocalStorage(str(root))
    # inputs of the compaction are still needed by older snapshots: nothing goes
    assert remove_orphans(tables, storage, grace=timedelta(0))["processed"] == 1  # only the stray file
    assert not stray.exists()
    expired = expire(tables, older_than=timedelta(0))
    assert expired["processed"] >= 4
    removed = remove_orphans(tables, storage, grace=timedelta(0))
    assert removed["processed"] >= 4  # the compacted inputs and the old manifests
    table = tables.load("processed", refresh=True)
    assert all(os.path.exists(local_path(p)) for p in referenced(table))
    assert len(duck_rows(tables, "processed")) == 12


def test_young_unreferenced_files_are_kept_a_commit_may_be_about_to_add_them(tables: Tables, tmp_path: Path) -> None:
    fill(tables, 1)
    young = tmp_path / "lake" / "processed" / "dt=2025-07-21" / "in-flight.parquet"
    young.write_bytes(b"being written")
    assert remove_orphans(tables, LocalStorage(str(tmp_path / "lake")), grace=timedelta(hours=1))["processed"] == 0
    assert young.exists()
