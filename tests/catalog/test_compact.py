"""`loglake compact`: fewer files, same rows, before/during/after, and reprocessing still replaces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from loglake.catalog.compact import Compactor
from loglake.catalog.crawler import crawl
from loglake.lake import Lake
from loglake.query.duckdb_engine import DuckDBEngine
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage
from tests.conftest import query, visible_files

ALL_ROWS = 'SELECT * EXCLUDE (processed_timestamp) FROM "processed_logs" ORDER BY source_uri, source_line'


def _objects(folder: Path, count: int, days: int = 2) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        lines = [
            {"timestamp": f"2025-07-{21 + j % days}T10:00:{j:02d}Z", "level": "INFO", "message": f"m{i}-{j}", "n": j}
            for j in range(6)
        ]
        lines.append({"level": "LOUD", "message": "bad"})
        name = f"obj {i}.jsonl"
        (folder / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
        names.append(name)
    return names


def _process_all(lake: Lake, folder: Path, names: list[str]) -> None:
    pipeline = lake.pipeline()
    for name in names:
        assert pipeline.process(ObjectRef(LocalStorage(str(folder)), name)).status == "ok"


def _catalog_files(lake: Lake, zone: str) -> list[str]:
    table = next(t for t in lake.catalog.load()["tables"].values() if t["zone"] == zone)
    return sorted(table["files"])


def _compact_all(lake: Lake, grace: float = 300.0) -> list[Any]:
    compactor = Compactor(lake.storage, lake.catalog, grace_seconds=grace)
    return [compactor.compact(zone, dt) for zone, dt in list(compactor.partitions())]


def test_compaction_merges_each_partition_into_one_file_with_the_same_rows(lake: Lake, tmp_path: Path) -> None:
    names = _objects(tmp_path / "src", 20)
    _process_all(lake, tmp_path / "src", names)
    before = query(lake, ALL_ROWS)
    errors_before = query(lake, 'SELECT count(*) AS n FROM "errors_logs"')
    assert len(_catalog_files(lake, "processed")) == 40

    reports = _compact_all(lake)

    assert sum(r.merged_files for r in reports if r.zone == "processed") == 40
    assert len(_catalog_files(lake, "processed")) == 2  # one per dt
    assert len(_catalog_files(lake, "errors")) == 1
    assert query(lake, ALL_ROWS) == before
    assert query(lake, 'SELECT count(*) AS n FROM "errors_logs"') == errors_before
    # the inputs wait out the grace period; a crawl does not count them again
    assert len(visible_files(Path(lake.settings.lake), "processed")) == 42
    crawl(lake.storage, lake.catalog)
    assert query(lake, ALL_ROWS) == before


def test_a_query_that_loaded_the_catalog_before_the_swap_still_reads_every_row(lake: Lake, tmp_path: Path) -> None:
    names = _objects(tmp_path / "src", 10)
    _process_all(lake, tmp_path / "src", names)
    count = 'SELECT count(*) AS n, count(DISTINCT message) AS d FROM "processed_logs"'
    expected = query(lake, count)
    running = DuckDBEngine(lake.storage, lake.catalog.load())  # planned on the old file list

    _compact_all(lake)

    assert running.run(count, save=False).rows == expected  # old files still there
    assert query(lake, count) == expected  # new file list: merged file only


def test_inputs_are_deleted_after_the_grace_period(lake: Lake, tmp_path: Path) -> None:
    _process_all(lake, tmp_path / "src", _objects(tmp_path / "src", 5))
    before = query(lake, ALL_ROWS)
    _compact_all(lake, grace=0)
    reports = _compact_all(lake, grace=0)  # the next run deletes what the first retired
    assert sum(r.deleted_retired for r in reports) == 15
    assert len(visible_files(Path(lake.settings.lake), "processed")) == 2
    assert query(lake, ALL_ROWS) == before


def test_reprocessing_after_compaction_replaces_rows_instead_of_doubling(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "src"
    names = _objects(src, 8)
    _process_all(lake, src, names)
    _compact_all(lake)
    # the object changes: fewer, different lines
    (src / names[3]).write_bytes(orjson.dumps({"timestamp": "2025-07-21T11:00:00Z", "level": "WARN", "message": "new"}))
    _process_all(lake, src, [names[3]])

    rows = query(lake, 'SELECT source_uri, message FROM "processed_logs"')
    mine = [r["message"] for r in rows if r["source_uri"].endswith(names[3])]
    assert mine == ["new"]
    assert len(rows) == 7 * 6 + 1
    crawl(lake.storage, lake.catalog)  # the same from the files alone
    assert len(query(lake, 'SELECT source_uri FROM "processed_logs"')) == 7 * 6 + 1
    # and again after compacting once more, with the old inputs gone
    _compact_all(lake, grace=0)
    _compact_all(lake, grace=0)
    crawl(lake.storage, lake.catalog)
    assert len(query(lake, 'SELECT source_uri FROM "processed_logs"')) == 7 * 6 + 1


def test_a_merge_interrupted_after_its_journal_is_rolled_forward(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _process_all(lake, tmp_path / "src", _objects(tmp_path / "src", 6, days=1))
    before = query(lake, ALL_ROWS)

    def crash(*_args: Any) -> None:
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(Compactor, "_finish", crash)
    with pytest.raises(KeyboardInterrupt):
        _compact_all(lake)
    monkeypatch.undo()
    assert query(lake, ALL_ROWS) == before  # nothing swapped yet
    doc = json.loads((Path(lake.settings.lake) / "compactions/processed/dt=2025-07-21.json").read_text())
    assert len(doc["pending"]) == 1

    crawl(lake.storage, lake.catalog)  # crawl (or the next compact) finishes it

    assert query(lake, ALL_ROWS) == before
    assert len(_catalog_files(lake, "processed")) == 1


def test_files_with_conflicting_types_are_not_merged(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i, value in enumerate([1, 2, "three", "four"]):
        (src / f"o{i}.jsonl").write_bytes(
            orjson.dumps({"timestamp": "2025-07-21T10:00:00Z", "level": "INFO", "message": "m", "v": value})
        )
    _process_all(lake, src, [f"o{i}.jsonl" for i in range(4)])
    before = query(lake, 'SELECT CAST(v AS VARCHAR) AS v FROM "processed_logs" ORDER BY 1')
    _compact_all(lake)
    assert len(_catalog_files(lake, "processed")) == 2  # the ints together, the strings together
    assert query(lake, 'SELECT CAST(v AS VARCHAR) AS v FROM "processed_logs" ORDER BY 1') == before


def test_cli_compact_reports_json(cli: Any, lake: Lake, tmp_path: Path) -> None:
    _process_all(lake, tmp_path / "src", _objects(tmp_path / "src", 3, days=1))
    result = cli("compact", "--zone", "processed", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["compacted"] == [
        {"zone": "processed", "dt": "2025-07-21", "merged_files": 3, "into": 1, "rows": 18, "deleted_retired": 0}
    ]
    assert "Example:" in cli("compact", "--help").output
