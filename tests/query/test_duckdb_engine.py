"""The tutorial's queries verbatim, read-only enforcement, saved results — through the real CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest

from tests.conftest import jl, rec

TUTORIAL = (
    'SELECT * FROM "log_analytics_db"."processed_logs" LIMIT 10;',
    'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level;',
    'SELECT * FROM "log_analytics_db"."errors_logs" LIMIT 10;',
)


@pytest.fixture
def loaded(tmp_path: Path, cli) -> Path:
    src = tmp_path / "app.log"
    src.write_bytes(
        jl(rec(), rec(level="warn"), rec(level="Warning"), rec(level="ERROR"), b"{oops", {"message": "no level"})
    )
    result = cli("process", str(src))
    assert result.exit_code == 1, result.output  # some records failed
    return src


def test_tutorial_group_by_level(cli, loaded) -> None:
    result = cli("query", TUTORIAL[1], "--format", "json")
    assert result.exit_code == 0, result.output
    counts = {r["level"]: r["log_count"] for r in orjson.loads(result.stdout)}
    assert counts == {"INFO": 1, "WARN": 2, "ERROR": 1}


def test_tutorial_select_star_queries(cli, loaded) -> None:
    processed = orjson.loads(cli("query", TUTORIAL[0], "--format", "json").stdout)
    assert len(processed) == 4 and {"level", "message", "source_uri", "source_line", "dt"} <= set(processed[0])
    errors = orjson.loads(cli("query", TUTORIAL[2], "--format", "json").stdout)
    assert sorted(e["error_code"] for e in errors) == ["invalid_json", "missing_field:level"]


def test_tutorial_queries_run_on_an_empty_lake(cli) -> None:
    cli("init")
    for sql in TUTORIAL:
        result = cli("query", sql, "--format", "json")
        assert result.exit_code == 0, result.output
        assert orjson.loads(result.stdout) == []


def test_csv_format_and_result_saved_like_athena(cli, loaded, lake_dir: Path) -> None:
    result = cli("query", TUTORIAL[1], "--format", "csv")
    printed = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["level"]: r["log_count"] for r in printed} == {"INFO": "1", "WARN": "2", "ERROR": "1"}
    (saved,) = list((lake_dir / "query-results").rglob("*.csv"))
    assert saved.read_text() == result.stdout


def test_table_format_prints_rows(cli, loaded) -> None:
    result = cli("query", TUTORIAL[1])
    assert "log_count" in result.stdout and "WARN" in result.stdout and "(3 rows)" in result.stdout


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM processed_logs",
        "INSERT INTO processed_logs (level) VALUES ('x')",
        "DROP VIEW log_analytics_db.processed_logs",
        "CREATE TABLE t AS SELECT 1",
        "COPY (SELECT 1) TO '/tmp/loglake-should-not-exist.csv'",
        "ATTACH '/tmp/x.duckdb'",
        "SET threads = 1",
        "SELECT 1; DELETE FROM processed_logs",
    ],
)
def test_statements_that_change_data_are_refused(cli, loaded, sql: str) -> None:
    result = cli("query", sql)
    assert result.exit_code == 2
    assert "error:" in result.stderr
    assert not Path("/tmp/loglake-should-not-exist.csv").exists()
    still = orjson.loads(cli("query", "SELECT count(*) AS n FROM processed_logs", "--format", "json").stdout)
    assert still == [{"n": 4}]


def test_bad_sql_is_a_clear_error(cli, loaded) -> None:
    result = cli("query", "SELEC nonsense")
    assert result.exit_code == 2 and "cannot parse" in result.stderr
    result = cli("query", "SELECT no_such_column FROM processed_logs")
    assert result.exit_code == 2 and "no_such_column" in result.stderr
