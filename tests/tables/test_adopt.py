"""`crawl`: a lake written by the previous version (JSON catalog, files without `dt`) migrates in one command."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from loglake.cli import main
from loglake.config import Settings
from loglake.lake import Lake
from tests.conftest import query


def _old_lake(root: Path) -> None:
    """Two files whose `order_id` disagree (long, then text), a third the old catalog no longer lists."""
    part = root / "processed" / "dt=2025-07-21"
    part.mkdir(parents=True)
    base = {"level": ["INFO"], "message": ["m"], "source_uri": ["raw/a.log"], "source_line": [1]}
    pq.write_table(pa.table({**base, "order_id": pa.array([17], pa.int64())}), part / "a-0000.parquet")
    pq.write_table(
        pa.table({**base, "source_uri": ["raw/b.log"], "order_id": ["B-2"], "region": ["eu"]}), part / "b-0000.parquet"
    )
    pq.write_table(pa.table({**base, "source_uri": ["raw/c.log"]}), part / "retired-0000.parquet")
    (root / "errors").mkdir()
    catalog = {
        "database": "log_analytics_db",
        "tables": {
            "processed_logs": {
                "zone": "processed",
                "files": {"processed/dt=2025-07-21/a-0000.parquet": {}, "processed/dt=2025-07-21/b-0000.parquet": {}},
            },
            "errors_logs": {"zone": "errors", "files": {}},
        },
    }
    (root / "catalog").mkdir()
    (root / "catalog" / "catalog.json").write_bytes(orjson.dumps(catalog))


def test_a_lake_of_the_previous_version_is_adopted_with_every_row_and_value(tmp_path: Path, independent) -> None:
    root = tmp_path / "lake"
    _old_lake(root)
    result = CliRunner().invoke(main, ["--lake", str(root), "crawl", "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["files"] == {"processed": 2, "errors": 0} and doc["rewritten"] == 2
    lake = Lake.open(Settings(lake=str(root)))
    rows = query(lake, "SELECT source_uri, order_id, region, dt, _rescued_data FROM processed_logs ORDER BY 1")
    assert rows == [
        {"source_uri": "raw/a.log", "order_id": 17, "region": None, "dt": "2025-07-21", "_rescued_data": None},
        {
            "source_uri": "raw/b.log",
            "order_id": None,
            "region": "eu",
            "dt": "2025-07-21",
            "_rescued_data": '{"order_id":"B-2"}',
        },
    ]
    theirs = independent(lake.tables, "processed", "SELECT source_uri, order_id, region FROM t ORDER BY 1")
    assert theirs == [
        {"source_uri": "raw/a.log", "order_id": 17, "region": None},
        {"source_uri": "raw/b.log", "order_id": None, "region": "eu"},
    ]


def test_crawl_again_gives_the_same_tables(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _old_lake(root)
    runner = CliRunner()
    assert runner.invoke(main, ["--lake", str(root), "crawl"]).exit_code == 0
    lake = Lake.open(Settings(lake=str(root)))
    first = query(lake, "SELECT * FROM processed_logs ORDER BY source_uri")
    assert runner.invoke(main, ["--lake", str(root), "crawl"]).exit_code == 0
    assert query(lake, "SELECT * FROM processed_logs ORDER BY source_uri") == first
