"""The command line as users meet it: help, exit codes, JSON output, config."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from loglake.cli import main
from tests.conftest import jl, rec

COMMANDS = sorted(main.commands)
SUBCOMMANDS = [
    f"{name} {sub}" for name, group in sorted(main.commands.items()) for sub in sorted(getattr(group, "commands", {}))
]


@pytest.mark.parametrize("name", COMMANDS + SUBCOMMANDS)
def test_every_command_has_help_with_an_example(cli, name: str) -> None:
    result = cli(*name.split(), "--help")
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
    assert [Path(s["source_uri"]).name for s in status["objects"]] == ["my app+1.log"]
    assert status["totals"]["objects"] == 1 and status["objects"][0]["status"] == "ok"


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


def test_init_template_parses_with_every_example_uncommented(cli, lake_dir: Path) -> None:
    """Each commented example is valid TOML and valid config once a user removes its `# `."""
    import re
    import tomllib

    from loglake.config import settings_from_toml
    from loglake.formats import FormatRegistry

    cli("init")
    text = (lake_dir / "loglake.toml").read_text()
    uncommented = re.sub(r"(?m)^# (?=[a-z_.]+ = |\[)", "", text)
    assert uncommented.count("[[formats.custom]]") == 2 and "\n# name" not in uncommented
    settings = settings_from_toml(tomllib.loads(uncommented), str(lake_dir))
    registry = FormatRegistry(settings.formats)
    myapp, billing = registry.by_name["myapp"], registry.by_name["billing"]
    assert type(myapp.parse_line(b"2025-07-21 10:00:00,001 INFO [main] started")) is dict
    record = billing.parse_line(b"Jul 21 10:00:00 api status=503 upstream timed out")
    assert record["status"] == 503 and record["timestamp"].month == 7


def test_formats_test_shows_scores_the_winner_and_why_a_user_format_missed(cli, lake_dir: Path, tmp_path: Path) -> None:
    (lake_dir).mkdir(exist_ok=True)
    (lake_dir / "loglake.toml").write_text(
        "[[formats.custom]]\n"
        'name = "mine"\n'
        "regex = '^(?P<timestamp>\\w{3} \\d+ [\\d:]+) (?P<app>\\w+): (?P<message>.*)$'\n"
        'timestamp_format = "%Y-%m-%d"\n'
    )
    log = tmp_path / "my.log"
    log.write_text("Mar 17 10:00:01 myapp: hello\nMar 17 10:00:02 myapp: [bold]again[/bold]\n")
    result = cli("formats", "test", str(log), "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    by_name = {t["name"]: t for t in report["formats"]}
    assert report["winner"] == "syslog" and by_name["syslog"]["matched"] == 2 and report["sample_lines"] == 2
    miss = by_name["mine"]["first_miss"]
    assert miss["line"] == 1 and "timestamp_format" in miss["reason"] and "%Y-%m-%d" in miss["reason"]
    shown = cli("formats", "test", str(log))
    assert "chosen: syslog" in shown.output and "mine (yours)" in shown.output
    missing = cli("formats", "test", str(tmp_path / "nope.log"))
    assert missing.exit_code == 2 and "nope.log" in missing.output


def test_custom_format_names_must_be_unique_and_not_built_in(cli, lake_dir: Path) -> None:
    lake_dir.mkdir(exist_ok=True)
    fmt = "[[formats.custom]]\nname = \"{}\"\nregex = '^(?P<message>.*)$'\n"
    (lake_dir / "loglake.toml").write_text(fmt.format("syslog"))
    result = cli("formats")
    assert result.exit_code == 2 and "#1 (`syslog`)" in result.output and "built-in" in result.output
    (lake_dir / "loglake.toml").write_text(fmt.format("app") + fmt.format("app"))
    result = cli("formats")
    assert result.exit_code == 2 and "#2 (`app`)" in result.output and "#1 has the same name" in result.output
