"""Crawl rebuilds the catalog from the zones; DDL matches it."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from loglake.catalog.crawler import crawl
from tests.conftest import jl, query, rec


def test_crawl_unions_schemas_widens_types_and_finds_partitions(process_bytes, lake, lake_dir: Path) -> None:
    process_bytes(jl(rec(a=1, b=1)), name="one.log")
    process_bytes(jl(rec(timestamp="2025-07-23T00:00:00Z", a="x", c=[1])), name="two.log")
    incremental = lake.catalog.load()["tables"]["processed_logs"]
    (lake_dir / "catalog" / "catalog.json").unlink()
    doc = crawl(lake.storage, lake.catalog)
    table = doc["tables"]["processed_logs"]
    assert dict(table["columns"]) == dict(incremental["columns"])
    cols = dict(table["columns"])
    assert (cols["a"], cols["b"], cols["c"], cols["timestamp"]) == ("string", "bigint", "string", "timestamp")
    assert table["partitions"] == ["2025-07-21", "2025-07-23"]
    assert query(lake, "SELECT a FROM processed_logs ORDER BY dt") == [{"a": "1"}, {"a": "x"}]


def test_crawl_picks_up_files_copied_in_and_forgets_deleted_ones(process_bytes, lake, lake_dir: Path) -> None:
    process_bytes(jl(rec()), name="one.log")
    part = lake_dir / "processed" / "dt=2025-07-21"
    (original,) = list(part.glob("*.parquet"))
    shutil.copy(original, part / "copied-by-hand.parquet")
    crawl(lake.storage, lake.catalog)
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 2}]
    original.unlink()
    (part / "copied-by-hand.parquet").unlink()
    crawl(lake.storage, lake.catalog)
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 0}]


def test_crawl_ignores_hidden_and_staging_files(process_bytes, lake, lake_dir: Path) -> None:
    process_bytes(jl(rec()), name="one.log")
    part = lake_dir / "processed" / "dt=2025-07-21"
    (original,) = list(part.glob("*.parquet"))
    shutil.copy(original, part / ".tmp-half-written")
    shutil.copy(original, part / "_SUCCESS.parquet")
    crawl(lake.storage, lake.catalog)
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 1}]


def test_ddl_matches_the_catalog(cli, tmp_path: Path) -> None:
    src = tmp_path / "a.log"
    src.write_bytes(jl(rec(http={"status": 200}), b"bad"))
    cli("process", str(src))
    result = cli("crawl", "--ddl", "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    ddl = doc["ddl"]
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS `log_analytics_db`.`processed_logs`" in ddl
    assert "`http_status` bigint" in ddl and "`error_codes` array<string>" in ddl
    assert "PARTITIONED BY (`dt` string)" in ddl and "ParquetHiveSerDe" in ddl
    assert "PARTITION (`dt`='2025-07-21')" in ddl
    for name, table in doc["tables"].items():
        for col, kind in table["columns"]:
            assert f"`{col}` {kind}" in ddl, (name, col)


def test_catalog_keeps_each_schema_once_and_reads_older_documents(tmp_path) -> None:
    """Thousands of small files share a few schemas: the document stores each column list once."""
    import orjson

    from loglake.catalog.local import CATALOG_KEY, LocalCatalog
    from loglake.config import CatalogConfig
    from loglake.storage import LocalStorage

    storage = LocalStorage(str(tmp_path))
    catalog = LocalCatalog(storage, CatalogConfig())
    a = [("level", "string"), ("message", "string")]
    b = [("level", "string"), ("code", "bigint")]
    added = [
        {
            "key": f"processed/dt=2025-07-21/f{i}.parquet",
            "zone": "processed",
            "dt": "2025-07-21",
            "rows": 2,
            "columns": a if i % 2 else b,
        }
        for i in range(200)
    ]
    for out in added:
        storage.write_bytes(out["key"], b"")  # the catalog lists only files that exist
    catalog.apply(added, [])
    raw = orjson.loads(storage.read_bytes(CATALOG_KEY))
    table = raw["tables"]["processed_logs"]
    assert len(table["schemas"]) == 2 and len(table["files"]) == 200
    doc = catalog.load()
    files = doc["tables"]["processed_logs"]["files"]
    assert [tuple(c) for c in files["processed/dt=2025-07-21/f1.parquet"]["columns"]] == a
    assert [tuple(c) for c in files["processed/dt=2025-07-21/f2.parquet"]["columns"]] == b
    assert doc["tables"]["processed_logs"]["file_columns"] == ["level", "code", "message"]
    # A document written before schemas were shared (columns inline per file) still reads the same.
    for entry in table["files"].values():
        entry["columns"] = table["schemas"][entry.pop("schema")]
    del table["schemas"]
    storage.write_bytes(CATALOG_KEY, orjson.dumps(raw))
    again = catalog.load()["tables"]["processed_logs"]
    assert again["files"] == doc["tables"]["processed_logs"]["files"] and again["rows"] == 400
