"""The command line as users meet it: help, exit codes, JSON output, config."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from loglake.cli import main
from tests.conftest import jl, rec

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(cli, name: str) -> None:
    result = cli(name, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output and "loglake" in result.output.split("Example:")[1]


def test_usage_errors_exit_2(cli) -> None:
    assert cli("process").exit_code == 2
    assert cli("query").exit_code == 2
    assert cli("no-such-command").exit_code == 2


def test_init_creates_layout_and_commented_config(cli, lake_dir: Path) -> None:
    result = cli("init")
    assert result.exit_code == 0
    for zone in ("raw", "processed", "errors", "catalog", "manifests", "query-results"):
        assert (lake_dir / zone).is_dir()
    text = (lake_dir / "loglake.toml").read_text()
    assert 'database = "log_analytics_db"' in text and "[[rules.field]]" in text
    assert "already initialised" in cli("init").output


def test_example_config_is_valid_and_means_the_defaults(cli, lake_dir: Path) -> None:
    import tomllib

    from loglake.config import Settings, settings_from_toml

    cli("init")
    parsed = settings_from_toml(tomllib.loads((lake_dir / "loglake.toml").read_text()), str(lake_dir))
    assert parsed == Settings(lake=str(lake_dir))


def test_process_json_and_exit_codes(cli, tmp_path: Path) -> None:
    good, mixed = tmp_path / "good.log", tmp_path / "mixed.log"
    good.write_bytes(jl(rec(), rec()))
    mixed.write_bytes(jl(rec(), b"nope"))
    ok = cli("process", str(good), "--json")
    assert ok.exit_code == 0
    doc = orjson.loads(ok.stdout)
    assert doc["totals"]["processed"] == 2 and doc["objects"][0]["status"] == "ok"
    some = cli("process", str(mixed), "--json")
    assert some.exit_code == 1
    assert orjson.loads(some.stdout)["totals"]["errors_by_reason"] == {"invalid_json": 1}


def test_process_folder_takes_matching_files_only(cli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.log").write_bytes(jl(rec()))
    (folder / "sub" / "b.jsonl").write_bytes(jl(rec()))
    (folder / "notes.txt").write_bytes(b"not a log")
    (folder / ".hidden.log").write_bytes(b"x")
    doc = orjson.loads(cli("process", str(folder), "--json").stdout)
    assert sorted(Path(o["source_uri"]).name for o in doc["objects"]) == ["a.log", "b.jsonl"]


def test_missing_path_is_reported_and_others_still_run(cli, tmp_path: Path) -> None:
    good = tmp_path / "good.log"
    good.write_bytes(jl(rec()))
    result = cli("process", str(tmp_path / "missing.log"), str(good), "--json")
    assert result.exit_code == 1
    doc = orjson.loads(result.stdout)
    assert doc["totals"]["processed"] == 1 and doc["totals"]["failed_objects"] == 1


def test_config_file_rules_apply(cli, tmp_path: Path, lake_dir: Path) -> None:
    cli("init")
    (lake_dir / "loglake.toml").write_text(
        '[rules]\nrequired = ["message"]\n[[rules.field]]\nname = "status"\nmin = 100\nmax = 599\n'
    )
    src = tmp_path / "a.log"
    src.write_bytes(jl({"message": "no level is fine now"}, rec(status=700)))
    doc = orjson.loads(cli("process", str(src), "--json").stdout)
    assert doc["totals"]["processed"] == 1 and doc["totals"]["errors_by_reason"] == {"out_of_range:status": 1}


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ("[rules]\nrequird = []\n", "`requird`"),
        ('[processing]\nprocessed_format = "jsonl"\n', "Iceberg tables of Parquet files"),
    ],
)
def test_bad_config_is_a_clear_usage_error(cli, lake_dir: Path, tmp_path: Path, toml: str, said: str) -> None:
    cli("init")
    (lake_dir / "loglake.toml").write_text(toml)
    src = tmp_path / "a.log"
    src.write_bytes(jl(rec()))
    result = cli("process", str(src))
    assert result.exit_code == 2 and said in result.stderr and "hint" in result.stderr
    assert "Traceback" not in result.output


def test_lake_from_environment(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    monkeypatch.setenv("LOGLAKE_LAKE", str(tmp_path / "envlake"))
    result = CliRunner().invoke(main, ["init", "--json"])
    assert result.exit_code == 0
    assert orjson.loads(result.stdout)["lake"] == str((tmp_path / "envlake").resolve())


def test_ingest_copies_into_raw_and_status_lists_objects(cli, tmp_path: Path, lake_dir: Path) -> None:
    src = tmp_path / "my app+1.log"
    src.write_bytes(jl(rec()))
    result = cli("ingest", str(src), "--prefix", "app")
    assert result.exit_code == 0
    copied = lake_dir / "raw" / "app" / "my app+1.log"
    assert copied.read_bytes() == src.read_bytes()
    assert cli("process", str(lake_dir / "raw")).exit_code == 0
    status = orjson.loads(cli("status", "--json").stdout)
    assert [Path(s["source_uri"]).name for s in status] == ["my app+1.log"]


def test_demo_runs_the_tutorial_queries(cli, lake_dir: Path) -> None:
    result = cli("demo", "--lines", "600")
    assert result.exit_code == 0, result.output
    for fragment in ("GROUP BY level;", "log_count", "errors_logs", str(lake_dir.resolve())):
        assert fragment in result.output
    rerun = cli("demo", "--lines", "600")
    assert rerun.exit_code == 0
    count = orjson.loads(cli("query", "SELECT count(*) AS n FROM processed_logs", "--format", "json").stdout)
    assert count[0]["n"] < 600  # reprocessing replaced, it did not double


def test_process_with_several_jobs_matches_one_job(cli, tmp_path: Path, lake_dir: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(6):
        (folder / f"f{i}.log").write_bytes(jl(*[rec(i=i, n=n) for n in range(20)], b"bad line"))
    doc = orjson.loads(cli("process", str(folder), "--jobs", "2", "--json").stdout)
    assert doc["totals"]["processed"] == 120 and doc["totals"]["errors"] == 6 and doc["totals"]["objects"] == 6
    # the parent wrote every worker's outputs into the catalog
    count = orjson.loads(
        cli(
            "query",
            "SELECT count(*) AS n, count(DISTINCT source_uri) AS objects FROM processed_logs",
            "--format",
            "json",
        ).stdout
    )
    assert count == [{"n": 120, "objects": 6}]
    again = orjson.loads(cli("process", str(folder), "--json").stdout)
    assert again["totals"] == {**doc["totals"], "seconds": again["totals"]["seconds"]}
    count = orjson.loads(cli("query", "SELECT count(*) AS n FROM processed_logs", "--json").stdout)
    assert count == [{"n": 120}]
