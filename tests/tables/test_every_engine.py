"""The issue's acceptance check, through the real pipeline: DuckDB's own `iceberg_scan` (no pyiceberg) reads
both tables exactly as `loglake query` does, after every kind of change a lake goes through."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from click.testing import CliRunner

from loglake.cli import main
from loglake.config import ProcessingConfig, Settings
from loglake.lake import Lake
from loglake.sources import ObjectRef, refs_for_paths
from loglake.storage import LocalStorage
from tests.conftest import jl, query, rec
from tests.tables.conftest import same


def _key(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def test_both_readers_agree_after_type_changes_a_late_column_reprocessing_groups_and_compaction(
    tmp_path: Path, independent
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    root = tmp_path / "lake"
    lake = Lake.open(Settings(lake=str(root), processing=ProcessingConfig(fsync=False, batch_rows=2)))
    lake.init()
    storage = LocalStorage(str(src))
    # a field whose type changes between files and within one (batch_rows=2: several batches), a bad line
    (src / "orders-1.log").write_bytes(jl(rec(order_id=1, amount=3), rec(order_id=2, amount=4), b"not json"))
    (src / "orders-2.log").write_bytes(jl(rec(order_id="A-3", amount=2.5), rec(order_id=4), rec(order_id="B-5")))
    for name in ("orders-1.log", "orders-2.log"):
        lake.pipeline().process(ObjectRef(storage, name))
    # a column that appears later; a reprocessed object
    (src / "orders-1.log").write_bytes(jl(rec(order_id=6, region="eu"), rec(order_id=7, region="us")))
    lake.pipeline().process(ObjectRef(storage, "orders-1.log"))
    # a group of small objects, then one member reprocessed alone
    small = src / "small"
    small.mkdir()
    for i in range(8):
        (small / f"s{i}.log").write_bytes(jl(rec(n=i), b"{broken"))
    list(lake.pipeline().process_many(refs_for_paths([str(small)], lake.settings.processing.suffixes)))
    (small / "s3.log").write_bytes(jl(rec(n=33)))
    lake.pipeline().process(ObjectRef(LocalStorage(str(small)), "s3.log"))

    def agree() -> None:
        for zone, table in (("processed", "processed_logs"), ("errors", "errors_logs")):
            ours = query(lake, f"SELECT * EXCLUDE (processed_timestamp) FROM {table}")
            theirs = independent(lake.tables, zone, "SELECT * EXCLUDE (processed_timestamp) FROM t")
            assert len(ours) == len(theirs) and same(ours, theirs), zone

    agree()
    counts = {
        "processed": len(query(lake, "SELECT 1 FROM processed_logs")),
        "errors": len(query(lake, "SELECT 1 FROM errors_logs")),
    }
    assert counts == {"processed": 2 + 3 + 7 + 1, "errors": 7}  # orders-1 now has no bad line; s3 neither

    # compaction while both readers query in a loop: never a missing or doubled row
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            seen.append(
                (len(query(lake, "SELECT 1 FROM processed_logs")), len(query(lake, "SELECT 1 FROM errors_logs")))
            )

    reader = threading.Thread(target=loop)
    reader.start()
    try:
        result = CliRunner().invoke(
            main, ["--lake", str(root), "compact", "--grace", "0", "--retain-hours", "0", "--json"]
        )
        for _ in range(2):
            seen.append(
                (
                    independent(lake.tables, "processed", "SELECT count(*) n FROM t")[0]["n"],
                    independent(lake.tables, "errors", "SELECT count(*) n FROM t")[0]["n"],
                )
            )
    finally:
        stop.set()
        reader.join()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["compacted"]
    assert seen and set(seen) == {(counts["processed"], counts["errors"])}
    agree()
