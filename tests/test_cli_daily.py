"""The command line as a daily tool: data shown as data on a real (pseudo-)terminal, results that stream,
every listed mistake one line and exit code 2, no silent overwrite, the shell, and the library beneath."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loglake import Lake
from tests.conftest import jl, rec
from tests.terminal import Terminal, on_terminal

HOSTILE = [
    "[link=https://evil.example/]click me[/link]",
    "[bold red]not bold[/] and [/]",
    "user:x:1000 :smile: :x:",
    "\x1b[31mRED\x1b[0m in the data",
    "\x1b]8;;https://evil.example/\x07hidden link\x1b]8;;\x07",
    "[client 10.0.0.5] File does not exist",
    "right-to-left \u202eoverride",
]
SGR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""Rich's own styling and progress-bar cursor moves: the only escape sequences output may contain."""


def _lake_with(tmp_path: Path, lines: bytes, name: str = "db[prod].jsonl") -> Path:
    lake = tmp_path / "lake"
    src = tmp_path / name
    src.write_bytes(lines)
    subprocess.run(
        [sys.executable, "-m", "loglake", "--lake", str(lake), "process", str(src), "--json"],
        check=False,
        capture_output=True,
    )
    return lake


@pytest.fixture
def hostile_lake(tmp_path: Path) -> Path:
    return _lake_with(tmp_path, jl(*(rec(message=m) for m in HOSTILE), b'{"level": "INFO"}'))


def _no_terminal_control_from_data(raw: str) -> str:
    assert "\x1b]" not in raw, "an OSC sequence (hyperlink, title) reached the terminal"
    assert "\x07" not in raw and "\u202e" not in raw
    plain = SGR.sub("", raw)
    assert "\x1b" not in plain, "an escape sequence other than Rich's own styling reached the terminal"
    return plain


@pytest.mark.slow
def test_hostile_lines_are_shown_verbatim_in_query_tables_on_a_terminal(hostile_lake: Path) -> None:
    code, raw = on_terminal(hostile_lake, "query", "SELECT message FROM processed_logs ORDER BY source_line")
    assert code == 0
    plain = _no_terminal_control_from_data(raw)
    for text in HOSTILE[:3] + HOSTILE[5:6]:
        assert text in plain
    assert "\\x1b[31mRED\\x1b[0m in the data" in plain  # the data's escapes, visible as text
    assert "\x1b[31mRED" not in raw
    assert "\\x1b]8;;https://evil.example/\\x07hidden link" in plain
    assert "\\u202eoverride" in plain
    assert "❌" not in plain and "😄" not in plain  # emoji codes stay codes

    code, raw = on_terminal(hostile_lake, "query", "SELECT DISTINCT source_uri, error_codes FROM errors_logs")
    plain = _no_terminal_control_from_data(raw)
    assert "db[prod].jsonl" in plain and '["missing_field:message"]' in plain


@pytest.mark.slow
def test_hostile_lines_in_the_line_layout_errors_and_status_on_a_terminal(hostile_lake: Path) -> None:
    for args in (
        ("query", "SELECT message FROM processed_logs", "--format", "line"),
        ("errors",),
        ("status",),
        ("tables",),
    ):
        code, raw = on_terminal(hostile_lake, *args)
        plain = _no_terminal_control_from_data(raw)
        assert code == 0, plain
        if args[0] == "query":
            assert HOSTILE[0] in plain
        if args[0] in ("errors", "status"):
            assert "db[prod].jsonl" in plain


@pytest.mark.slow
def test_a_terminal_table_fits_caps_rows_marks_null_and_aligns_numbers(tmp_path: Path) -> None:
    lines = jl(*(rec(message=f"event {i}", n=i, note=None if i % 2 else "") for i in range(100)))
    lake = _lake_with(tmp_path, lines, "app.log")
    code, raw = on_terminal(lake, "query", "SELECT source_line, message, note FROM processed_logs ORDER BY 1")
    plain = SGR.sub("", raw)
    assert code == 0
    assert "(100 rows, 40 shown; --max-rows to see more)" in plain
    assert "event 0" in plain and "event 99" in plain and "event 50" not in plain  # first and last halves
    assert "NULL" in plain
    assert re.search(r"│ +8 │ event 7 ", plain)  # numbers right-aligned (line 8 holds event 7)
    wide = "SELECT * FROM processed_logs"
    code, raw = on_terminal(lake, "query", wide, "--max-rows", "2", columns=60)
    plain = SGR.sub("", raw)
    assert "-[ row 1 ]" in plain and "processed_timestamp │ " in plain  # too wide: vertical
    assert max(len(line) for line in plain.splitlines()) <= 60 or "│" in plain


def test_results_stream_as_csv_jsonl_and_json_with_every_type(cli, tmp_path: Path) -> None:
    src = tmp_path / "app.log"
    src.write_bytes(jl(*(rec(n=i) for i in range(5))))
    assert cli("process", str(src)).exit_code == 0
    sql = (
        "SELECT SUM(n) AS total, 1.25::DECIMAL(10,2) AS price, 123456789012345678901234567890::HUGEINT AS big, "
        "DATE '2025-07-21' AS day, TIME '10:11:12' AS t, INTERVAL 90 MINUTE AS span, 'ab'::BLOB AS blob, "
        "[1, 2] AS list, {'a': 1, 'b': 'x'} AS struct, MAP {'k': 1} AS m, NULL AS nothing FROM processed_logs"
    )
    doc = orjson.loads(cli("query", sql, "--json", "--no-save").stdout)
    assert doc == [
        {
            "total": 10,
            "price": 1.25,
            "big": "123456789012345678901234567890",
            "day": "2025-07-21",
            "t": "10:11:12",
            "span": {"months": 0, "days": 0, "nanoseconds": 5_400_000_000_000},
            "blob": "YWI=",
            "list": [1, 2],
            "struct": {"a": 1, "b": "x"},
            "m": [["k", 1]],
            "nothing": None,
        }
    ]
    lines = cli("query", "SELECT n FROM processed_logs ORDER BY n", "--format", "jsonl", "--no-save").stdout
    assert [orjson.loads(x) for x in lines.splitlines()] == [{"n": i} for i in range(5)]
    csv = cli("query", sql, "--format", "csv", "--no-save").stdout.splitlines()
    assert csv[0].startswith('"total","price","big"') and csv[1].startswith("10,1.25,")
    assert '"[1,2]"' in csv[1] and "YWI=" in csv[1]
    empty = cli("query", "SELECT n FROM processed_logs WHERE n > 99", "--json", "--no-save").stdout
    assert orjson.loads(empty) == []


def test_sql_from_stdin_and_from_a_file(cli, tmp_path: Path) -> None:
    src = tmp_path / "app.log"
    src.write_bytes(jl(rec(), rec()))
    cli("process", str(src))
    piped = cli("query", "-", "--json", input="SELECT COUNT(*) AS n FROM processed_logs")
    assert orjson.loads(piped.stdout) == [{"n": 2}]
    script = tmp_path / "report.sql"
    script.write_text("-- levels\nSELECT level, COUNT(*) AS n FROM processed_logs GROUP BY level;\n")
    assert orjson.loads(cli("query", f"@{script}", "--json").stdout) == [{"level": "INFO", "n": 2}]
    missing = cli("query", "@nope.sql")
    assert missing.exit_code == 2 and "cannot read nope.sql" in missing.output


def test_reads_outside_the_lake_are_refused_and_read_only_introspection_works(cli, tmp_path: Path) -> None:
    src = tmp_path / "app.log"
    src.write_bytes(jl(rec()))
    cli("process", str(src))
    outside = tmp_path / "secret.csv"
    outside.write_text("a,b\n1,2\n")
    for sql in (f"SELECT * FROM read_csv('{outside}')", "SELECT * FROM read_csv('/etc/passwd')"):
        refused = cli("query", sql)
        assert refused.exit_code == 2 and "reads outside the lake" in refused.output, refused.output
    assert "could change settings" in cli("query", "PRAGMA enable_external_access").output
    assert cli("query", "SET enable_external_access = true").exit_code == 2
    for sql in ("DESCRIBE processed_logs", "SUMMARIZE errors_logs", "SHOW TABLES", "PRAGMA table_info(processed_logs)"):
        result = cli("query", sql, "--json", "--no-save")
        assert result.exit_code == 0 and orjson.loads(result.stdout), sql
    tables = orjson.loads(cli("tables", "--json").stdout)
    assert [t["name"] for t in tables] == ["log_analytics_db.processed_logs", "log_analytics_db.errors_logs"]
    assert tables[0]["rows"] == 1
    columns = orjson.loads(cli("schema", "processed_logs", "--json").stdout)
    assert {"name": "level", "type": "VARCHAR"} in columns and {"name": "source_line", "type": "BIGINT"} in columns
    unknown = cli("schema", "nope")
    assert unknown.exit_code == 2 and "processed_logs" in unknown.output


def test_saved_results_are_kept_for_the_retention_window(cli, lake_dir: Path, tmp_path: Path) -> None:
    cli("init")
    old = lake_dir / "query-results" / "2020" / "01" / "01" / "old.csv"
    old.parent.mkdir(parents=True)
    old.write_text("x\n")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    recent = old.with_name("recent.csv")
    recent.write_text("x\n")
    result = cli("query", "SELECT 1 AS one")
    assert result.exit_code == 0
    saved = Path(result.stderr.split("saved to ", 1)[1].strip())
    assert saved.read_text() == '"one"\n1\n'
    assert not old.exists() and recent.exists()


def test_errors_command_filters_and_shows_raw_lines_exactly(cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(jl(rec(), b"not json \x1b[31m[x]", {"message": "no level"}))
    b.write_bytes(jl(b'{"also": not json'))
    cli("process", str(a), str(b))
    everything = cli("errors", "--json")
    rows = [orjson.loads(x) for x in everything.stdout.splitlines()]
    assert sorted(r["error_code"] for r in rows) == ["invalid_json", "invalid_json", "missing_field:level"]
    assert {r["raw_line"] for r in rows} >= {"not json \x1b[31m[x]", '{"also": not json'}
    only = cli("errors", "--reason", "missing_field:level", "--json").stdout.splitlines()
    assert [orjson.loads(x)["source_line"] for x in only] == [3]
    by_source = cli("errors", "--source", "b.log", "--json").stdout.splitlines()
    assert [orjson.loads(x)["raw_line"] for x in by_source] == ['{"also": not json']
    shown = cli("errors", "--source", "*a.log", "--since", "1h").stdout
    assert "a.log:2 invalid_json" in shown and "not json \\x1b[31m[x]" in shown
    assert cli("errors", "--since", "soon").exit_code == 2
    assert "no errors match" in cli("errors", "--reason", "nothing_like_it").stderr


@pytest.mark.slow
def test_errors_follow_prints_new_errors_as_they_are_processed(tmp_path: Path) -> None:
    lake = _lake_with(tmp_path, jl(rec(), b"first bad {"), "one.log")
    follow = subprocess.Popen(
        [sys.executable, "-m", "loglake", "--lake", str(lake), "errors", "--follow", "--json", "--interval", "0.2"],
        stdout=subprocess.PIPE,
    )
    try:
        assert follow.stdout is not None
        assert orjson.loads(follow.stdout.readline())["raw_line"] == "first bad {"
        second = tmp_path / "two.log"
        second.write_bytes(jl(rec(), b"second bad {"))
        subprocess.run([sys.executable, "-m", "loglake", "--lake", str(lake), "process", str(second)], check=False)
        assert orjson.loads(follow.stdout.readline())["raw_line"] == "second bad {"
    finally:
        follow.terminate()
        follow.wait(timeout=10)


@pytest.mark.parametrize(
    "args",
    [
        ["init"],
        ["ingest", "__FILE__"],
        ["process", "__FILE__"],
        ["crawl"],
        ["watch"],
        ["query", "SELECT 1"],
        ["status"],
    ],
)
def test_a_lake_that_is_a_file_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    not_a_folder = tmp_path / "lake.txt"
    not_a_folder.write_text("x")
    log = tmp_path / "app.log"
    log.write_bytes(jl(rec()))
    args = [str(log) if a == "__FILE__" else a for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "loglake", "--lake", str(not_a_folder), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: the lake")
    assert "is a file, not a folder" in done.stderr


def test_read_commands_on_a_path_that_is_not_a_lake_say_so_and_create_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "lkae"
    for args in (["query", "SELECT 1"], ["status"], ["tables"], ["errors"], ["crawl"], ["compact"], ["shell"]):
        done = subprocess.run(
            [sys.executable, "-m", "loglake", "--lake", str(typo), *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, args
        assert f"no lake at {typo}" in done.stderr and "loglake init" in done.stderr
        assert "Traceback" not in done.stderr
        assert not typo.exists()


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ('[watch]\nsettle_seconds = "soon"\n', "settle_seconds: `soon` is not a duration"),
        ('[processing]\nbatch_rows = "many"\n', "batch_rows: expected a positive whole number"),
        ('[processing]\ncolumnar = "yes"\n', "columnar: expected true or false"),
        ("[processing]\nflatten_separator = 1\n", "flatten_separator: expected a string"),
        ('[query]\nmax_rows = "all"\n', "max_rows: expected a whole number"),
        ("[query]\nresults_retention_days = -1\n", "results_retention_days: expected a number (0 or more)"),
        ('[catalog]\ndatabase = ["x"]\n', "database: expected a string"),
    ],
)
def test_config_values_of_the_wrong_type_are_refused_at_start_up(cli, lake_dir: Path, toml: str, said: str) -> None:
    cli("init")
    (lake_dir / "loglake.toml").write_text(toml)
    result = cli("status")
    assert result.exit_code == 2 and said in result.stderr, result.stderr


def test_a_duration_for_settle_seconds_is_understood(lake_dir: Path) -> None:
    from loglake.config import load_settings

    lake_dir.mkdir()
    (lake_dir / "loglake.toml").write_text('[watch]\nsettle_seconds = "2s"\n')
    assert load_settings(str(lake_dir)).watch.settle_seconds == 2.0


def test_negative_jobs_is_a_usage_error(cli, tmp_path: Path) -> None:
    src = tmp_path / "app.log"
    src.write_bytes(jl(rec()))
    result = cli("process", str(src), "--jobs", "-3")
    assert result.exit_code == 2 and "-3 is not in the range x>=0" in result.output


def _aws_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        **extra,
    }


@pytest.mark.parametrize(
    ("env", "args", "said"),
    [
        ({}, ["destroy", "--yes"], "no AWS region is set"),
        ({"AWS_REGION": "eu-west-1"}, ["destroy", "--yes"], "AWS credentials are missing"),
        (
            {"AWS_REGION": "eu-west-1"},
            ["worker", "--queue-url", "http://127.0.0.1:9/q", "--until-empty"],
            "credentials",
        ),
        ({"AWS_REGION": "eu-west-1"}, ["collect", "--log-group", "/x"], "AWS credentials are missing"),
        ({"AWS_REGION": "eu-west-1"}, ["query", "--engine", "athena", "SELECT 1"], "AWS credentials are missing"),
    ],
)
def test_aws_mistakes_are_one_line_and_aws_region_is_honoured(
    tmp_path: Path, env: dict[str, str], args: list[str], said: str
) -> None:
    lake = tmp_path / "lake"
    subprocess.run([sys.executable, "-m", "loglake", "--lake", str(lake), "init"], check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-m", "loglake", "--lake", str(lake), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_aws_env(tmp_path, **env),
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2 and said in done.stderr, done.stderr


def test_aws_region_reaches_every_client(monkeypatch) -> None:
    from loglake.storage.s3 import reset_clients, s3_client

    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    reset_clients()
    try:
        assert {s3_client(name).meta.region_name for name in ("s3", "sqs", "glue", "logs", "athena")} == {
            "ap-southeast-2"
        }
    finally:
        reset_clients()


def test_ingest_never_overwrites_silently(cli, lake_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "hostA").mkdir()
    (tmp_path / "hostB").mkdir()
    a, b = tmp_path / "hostA" / "app.log", tmp_path / "hostB" / "app.log"
    a.write_bytes(jl(rec(message="from A")))
    b.write_bytes(jl(rec(message="from B")))
    both = cli("ingest", str(a), str(b))
    assert both.exit_code == 2 and "would both become" in both.stderr and "--keep-paths" in both.stderr
    assert not (lake_dir / "raw" / "app.log").exists()  # refused before any copy
    assert cli("ingest", str(a)).exit_code == 0
    again = cli("ingest", str(a))
    assert again.exit_code == 0 and "unchanged (same content)" in again.stdout
    other = cli("ingest", str(b))
    assert other.exit_code == 2 and "already exists with other content" in other.stderr
    assert (lake_dir / "raw" / "app.log").read_bytes() == a.read_bytes()
    assert cli("ingest", str(b), "--overwrite").stdout.startswith("replaced ")
    assert (lake_dir / "raw" / "app.log").read_bytes() == b.read_bytes()
    kept = orjson.loads(cli("ingest", str(a), str(b), "--keep-paths", "--json").stdout)
    assert sorted(kept["ingested"]) == [str(lake_dir / "raw" / h / "app.log") for h in ("hostA", "hostB")]


def test_status_is_sorted_failed_first_with_waiting_files_and_totals(cli, lake_dir: Path, tmp_path: Path) -> None:
    good, bad = tmp_path / "b-good.log", tmp_path / "a-bad.log.gz"
    good.write_bytes(jl(rec(), rec()))
    bad.write_bytes(b"\x1f\x8b\x08\x00broken gzip")
    cli("process", str(good), str(bad))
    waiting = tmp_path / "waiting.log"
    waiting.write_bytes(jl(rec()))
    cli("ingest", str(waiting))
    result = cli("status", "--json")
    assert result.exit_code == 1  # an object failed
    doc = orjson.loads(result.stdout)
    assert [(Path(o["source_uri"]).name, o["status"]) for o in doc["objects"]] == [
        ("a-bad.log.gz", "failed"),
        ("waiting.log", "waiting"),
        ("b-good.log", "ok"),
    ]
    ok = doc["objects"][2]
    assert ok["format"] == "jsonl" and ok["lines"] == 2 and ok["bytes"] == good.stat().st_size and ok["processed_at"]
    assert doc["objects"][0]["error"]
    assert doc["totals"] | {"bytes": 0} == {
        "objects": 3,
        "failed": 1,
        "waiting": 1,
        "lines": 2,
        "processed": 2,
        "errors": 0,
        "bytes": 0,
    }
    text = cli("status").stdout
    assert "3 object(s): 1 failed, 1 waiting in raw/" in text


def test_quiet_processing_prints_totals_and_problems_only(cli, tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"ok{i}.log").write_bytes(jl(rec()))
    (tmp_path / "broken.log.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    result = cli("process", str(tmp_path), "--quiet")
    lines = result.output.splitlines()
    assert len([x for x in lines if x.startswith("ok ")]) == 0
    assert any("FAILED" in x and "broken.log.gz" in x for x in lines)
    assert lines[-1].startswith("4 object(s): 3 processed")


def test_long_output_is_not_hard_wrapped_when_piped(cli, tmp_path: Path) -> None:
    deep = tmp_path / ("a-very-long-folder-name-" * 6)
    deep.mkdir()
    src = deep / "app.log"
    src.write_bytes(jl(rec()))
    result = cli("process", str(src))
    assert any(str(src) in line for line in result.output.splitlines())


def test_every_help_documents_exit_codes(cli) -> None:
    from loglake.cli import main

    for name in main.commands:
        assert "Exit codes: 0" in cli(name, "--help").output, name


@pytest.mark.slow
def test_shell_runs_sql_with_history_and_completion(hostile_lake: Path, tmp_path: Path) -> None:
    history = tmp_path / "history"
    term = Terminal("--lake", str(hostile_lake), "shell", "--history", str(history))
    assert b"loglake>" in term.read_until(b"loglake>")
    term.send("SELECT COUNT(*) AS n\r")
    term.read_until(b"...>")
    term.send("FROM processed_logs;\r")
    screen = term.read_until_after(b"(1 row)", b"loglake>")
    assert b"(1 row)" in screen and b" 7 " in screen
    term.send("SELECT source_li")
    assert b"source_line" in term.read_until(b"source_line")  # offered as you type
    term.send("\t")  # and taken with Tab
    term.read_until(b"source_line")  # the line is redrawn with the rest of the name
    term.send(" FROM processed_logs ORDER BY 1 DESC LIMIT 1;\r")
    screen = term.read_until_after(b"(1 row)", b"loglake>")
    assert b"source_line" in screen and b" 7 " in screen  # the completed column ran
    term.send("DROP TABLE processed_logs;\r")
    assert b"read-only" in term.read_until_after(b"read-only", b"loglake>")
    term.send(".tables\r")
    assert b"errors_logs" in term.read_until_after(b"processed_logs  (", b"loglake>")
    term.send("\x04")  # Ctrl-D leaves
    code, _ = term.finish()
    assert code == 0
    assert "SELECT COUNT(*) AS n" in history.read_text()


def test_the_library_underneath(tmp_path: Path) -> None:
    src = tmp_path / "app.log"
    src.write_bytes(jl(rec(), rec(level="WARN"), b"bad"))
    lake = Lake.open(tmp_path / "lake")
    lake.init()
    summaries = list(lake.process([str(src)]))
    assert [(s.processed, s.errors) for s in summaries] == [(2, 1)]
    table = lake.query("SELECT level, COUNT(*) AS n FROM processed_logs GROUP BY level ORDER BY level")
    assert table.to_pylist() == [{"level": "INFO", "n": 1}, {"level": "WARN", "n": 1}]
    assert [(s.status, s.processed) for s in lake.status()] == [("ok", 2)]
    assert lake.crawl().to_json()
    assert lake.compact().to_json()["compacted"] == []
    with pytest.raises(Exception, match="no lake at"):
        Lake.open(tmp_path / "nowhere").query("SELECT 1")


def test_a_large_object_reports_bytes_read_while_it_is_processed(tmp_path: Path, monkeypatch) -> None:
    from loglake import pipeline as pipeline_mod
    from loglake.sources import ObjectRef
    from loglake.storage import LocalStorage

    monkeypatch.setattr(pipeline_mod, "PROGRESS_FROM_BYTES", 1)
    monkeypatch.setattr(pipeline_mod, "PROGRESS_EVERY", 0.001)
    src = tmp_path / "big.log"
    src.write_bytes(jl(*(rec(message="x" * 200, n=i) for i in range(20_000))))
    lake = Lake.open(tmp_path / "lake")
    pipe = lake.pipeline()
    reports: list[tuple[str, int, int]] = []
    pipe.progress = lambda uri, done, size: reports.append((uri, done, size))
    summary = next(pipe.process_many([ObjectRef(LocalStorage(str(tmp_path)), "big.log")]))
    assert summary.processed == 20_000
    assert reports, "no progress was reported"
    assert {r[2] for r in reports} == {src.stat().st_size} and all(0 <= r[1] <= r[2] for r in reports)
    assert [r[1] for r in reports] == sorted(r[1] for r in reports)  # the count only grows


def test_config_and_format_texts_with_brackets_print_as_written(cli, lake_dir: Path) -> None:
    cli("init")
    (lake_dir / "loglake.toml").write_text("[nope]\n")
    said = cli("status").stderr
    assert "unknown section(s) [nope]" in said and "valid sections: [aws], [catalog], [formats]" in said
    (lake_dir / "loglake.toml").write_text("")
    from loglake.config import FormatsConfig
    from loglake.formats import FormatRegistry

    listed = cli("formats").stdout
    for f in FormatRegistry(FormatsConfig()).ordered:
        shown = (f.description.replace("\t", "\\t"), f.example.replace("\t", "\\t"))
        assert shown[0] in listed and shown[1] in listed  # e.g. log4j's "level, [thread]"


@pytest.mark.slow
def test_process_summaries_show_hostile_names_verbatim_on_a_terminal(tmp_path: Path) -> None:
    name = "[link=https:evil.example]x :x: [b] [red.log"
    src = tmp_path / name
    src.write_bytes(jl(rec(), b"\x1b]8;;https://evil.example/\x07bad"))
    code, raw = on_terminal(tmp_path / "lake", "process", str(src))
    plain = _no_terminal_control_from_data(raw)
    assert code == 1 and name in plain and "errors by reason: invalid_json=1" in plain


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_visible_text_holds_no_control_characters_and_keeps_the_rest(text: str) -> None:
    from loglake.cli.output import visible

    shown = visible(text, breaks=False)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]", shown)
    kept = iter(shown)  # every other character is still there, in order
    assert all(ch in kept for ch in re.sub(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text))
    with_breaks = visible(text)
    assert with_breaks.count("\n") == text.count("\n")  # line breaks kept where asked


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
@settings(max_examples=300, deadline=None)
def test_explorer_search_parses_any_text_into_words_and_known_fields(query: str) -> None:
    from loglake.errors import QueryError
    from loglake.query.explore import parse_search

    try:
        search = parse_search(query, {"level", "service"})
    except QueryError as exc:
        assert "no column" in str(exc)
        return
    assert all(name in {"level", "service"} for name, _ in search.filters)
    assert all(word and not word.isspace() for word in search.text)
