"""Detection on mixed and ambiguous inputs, overrides, user formats, encodings, compression, and a fuzz."""

from __future__ import annotations

import bz2
import gzip
import io
from datetime import datetime

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglake.config import CustomFormat, FormatOverride, FormatsConfig, ProcessingConfig, Settings
from loglake.errors import ConfigError, ObjectError
from loglake.formats import FormatRegistry, iter_lines, open_decompressed
from loglake.formats.builtin import BUILTIN
from loglake.formats.reader import looks_binary
from loglake.lake import Lake
from tests.conftest import jl, query, rec


def detect(*lines: str | bytes, config: FormatsConfig | None = None) -> str:
    sample = [line.encode() if isinstance(line, str) else line for line in lines]
    return FormatRegistry(config or FormatsConfig()).detect(sample).name


def test_ambiguous_lines_go_to_the_more_specific_format() -> None:
    # plain ISO lines are also CloudWatch export lines; the format with a level wins the tie
    assert detect("2025-07-21T10:00:00Z INFO a", "2025-07-21T10:00:01Z WARN b") == "plain"
    assert detect("2025-07-21T10:00:00.000Z something happened") == "cloudwatch_export"
    # log4j comma-milliseconds lines also look plain
    assert detect("2015-07-29 17:41:44,747 - INFO  [main:QuorumPeer@913] - x") == "log4j"


def test_mixed_input_picks_the_majority_format() -> None:
    lines = ['{"level": "info", "message": "a"}'] * 5 + ["2025-07-21T10:00:00Z INFO a"] * 2 + ["garbage"]
    assert detect(*lines) == "jsonl"
    lines = ["Jun 14 15:16:01 combo sshd[1]: a"] * 5 + ['{"level": "info", "message": "a"}'] * 2
    assert detect(*lines) == "syslog"


def test_mixed_object_processes_the_majority_and_reports_the_rest(process_bytes, lake) -> None:
    data = jl(rec(), rec(), rec()) + b"2025-07-21T10:00:00Z INFO a plain line\n"
    summary = process_bytes(data)
    assert (summary.format, summary.processed, summary.errors) == ("jsonl", 3, 1)
    assert summary.errors_by_reason == {"invalid_json": 1}


def test_text_no_format_reads_is_an_error_per_line_that_says_how_to_add_one(process_bytes, lake) -> None:
    summary = process_bytes(b"hello there\nnothing structured\n")
    assert (summary.format, summary.errors, summary.processed) == ("unrecognised", 2, 0)
    assert summary.errors_by_reason == {"no_format": 2}
    (row,) = {r["error_message"] for r in query(lake, "SELECT * FROM errors_logs")}
    assert "no format matched" in row and "[[formats.custom]]" in row and "loglake formats test" in row


def test_broken_json_lines_stay_json_lines(process_bytes) -> None:
    summary = process_bytes(jl(rec()) + b'{"a": 1,,}\n{"b": 01}\n')
    assert (summary.format, summary.processed, summary.errors_by_reason) == ("jsonl", 1, {"invalid_json": 2})


def test_override_by_glob_and_default(tmp_path, process_bytes, lake_dir) -> None:
    config = FormatsConfig(override=(FormatOverride(match="*.flow.log", format="vpc_flow"),))
    lake = Lake.open(Settings(lake=str(lake_dir), formats=config))
    line = b"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"
    assert process_bytes(line, name="x.flow.log", target=lake).format == "vpc_flow"
    assert process_bytes(jl(rec()), name="y.log", target=lake).format == "jsonl"
    with pytest.raises(ConfigError, match="unknown format `nope`"):
        FormatRegistry(FormatsConfig(default="nope"))


def test_user_defined_regex_format_with_level_mapping(process_bytes, lake_dir) -> None:
    spec = CustomFormat(
        name="legacy",
        regex=r"(?P<timestamp>\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}) (?P<level>[IWE]) (?P<user>\w+) (?P<message>.*)",
        timestamp_format="%d.%m.%Y %H:%M",
        levels={"I": "INFO", "W": "WARN", "E": "ERROR"},
    )
    lake = Lake.open(Settings(lake=str(lake_dir), formats=FormatsConfig(custom=(spec,))))
    summary = process_bytes(b"21.07.2025 10:00 W bob quota low\n21.07.2025 10:01 E amy disk full\n", target=lake)
    assert (summary.format, summary.processed) == ("legacy", 2)
    rows = query(lake, 'SELECT timestamp, level, "user", message FROM processed_logs ORDER BY source_line')
    assert rows[0] == {
        "timestamp": datetime(2025, 7, 21, 10, 0),
        "level": "WARN",
        "user": "bob",
        "message": "quota low",
    }


def test_user_defined_grok_format_multiline_and_typed_fields(process_bytes, lake_dir) -> None:
    spec = CustomFormat(
        name="svc",
        grok="%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} \\[%{DATA:thread}\\] %{NUMBER:took_ms:float}ms %{GREEDYDATA:message}",
        multiline=True,
    )
    lake = Lake.open(Settings(lake=str(lake_dir), formats=FormatsConfig(custom=(spec,))))
    data = b"2025-07-21 10:00:00 ERROR [w-1] 12.5ms failed\n  at frame 1\n2025-07-21 10:00:01 INFO [w-2] 3ms ok\n"
    summary = process_bytes(data, target=lake)
    assert (summary.format, summary.processed, summary.joined) == ("svc", 2, 1)
    rows = query(lake, "SELECT thread, took_ms, message FROM processed_logs ORDER BY source_line")
    assert rows == [
        {"thread": "w-1", "took_ms": 12.5, "message": "failed\n  at frame 1"},
        {"thread": "w-2", "took_ms": 3.0, "message": "ok"},
    ]


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        (CustomFormat(name="a", regex="(?P<x>"), "does not compile"),
        (CustomFormat(name="b", regex="no groups"), "no named groups"),
        (CustomFormat(name="c", grok="%{NOPE:x}"), "unknown grok pattern `%{NOPE}`"),
        (CustomFormat(name="d"), "exactly one of `regex` or `grok`"),
        (CustomFormat(name="e", regex="(?P<a>x)", record_start="("), "`record_start` does not compile"),
    ],
)
def test_bad_user_format_is_a_start_up_error(spec: CustomFormat, needle: str) -> None:
    with pytest.raises(ConfigError, match=__import__("re").escape(needle)):
        FormatRegistry(FormatsConfig(custom=(spec,)))


def test_user_format_from_toml_via_cli(cli, tmp_path, lake_dir) -> None:
    import orjson

    cli("init")
    (lake_dir / "loglake.toml").write_text(
        "[[formats.custom]]\nname = \"kv\"\ngrok = '%{TIMESTAMP_ISO8601:timestamp} %{WORD:level}: %{GREEDYDATA:message}'\n"
    )
    src = tmp_path / "a.log"
    src.write_bytes(b"2025-07-21T10:00:00Z warn: careful\n")
    doc = orjson.loads(cli("process", str(src), "--json").stdout)
    assert doc["objects"][0]["format"] == "kv" and doc["totals"]["processed"] == 1
    (lake_dir / "loglake.toml").write_text("[[formats.custom]]\nname = \"bad\"\nregex = '(?P<x'\n")
    result = cli("process", str(src))
    assert result.exit_code == 2 and "does not compile" in result.stderr


def test_fallback_encoding_for_legacy_logs(process_bytes, lake_dir) -> None:
    line = "2025-07-21T10:00:00Z INFO café ready\n".encode("latin-1")
    strict = process_bytes(line)
    assert strict.errors_by_reason == {"invalid_utf8": 1}
    lake = Lake.open(Settings(lake=str(lake_dir), formats=FormatsConfig(fallback_encoding="latin-1")))
    assert process_bytes(line, target=lake).processed == 1
    assert query(lake, "SELECT message FROM processed_logs") == [{"message": "café ready"}]


def test_invalid_utf8_in_a_text_format_keeps_the_raw_bytes(process_bytes, lake) -> None:
    import base64

    bad = b"2025-07-21T10:00:01Z INFO caf\xe9\n"
    process_bytes(b"2025-07-21T10:00:00Z INFO ok\n" + bad)
    (row,) = query(lake, "SELECT error_code, raw_line_b64 FROM errors_logs")
    assert row["error_code"] == "invalid_utf8" and base64.b64decode(row["raw_line_b64"]) == bad.rstrip(b"\n")


COMPRESSORS = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}


@pytest.mark.parametrize("kind", list(COMPRESSORS))
def test_compression_by_magic_bytes_whatever_the_name(process_bytes, kind: str) -> None:
    data = jl(*[rec(i=i) for i in range(100)])
    summary = process_bytes(COMPRESSORS[kind](data), name="no-extension.log")
    assert (summary.compression, summary.processed) == (kind, 100)


def test_concatenated_zstd_frames(process_bytes) -> None:
    c = zstandard.ZstdCompressor()
    summary = process_bytes(c.compress(jl(rec())) + c.compress(jl(rec(), rec())))
    assert (summary.compression, summary.processed) == ("zstd", 3)


@pytest.mark.parametrize("kind", list(COMPRESSORS))
def test_truncated_stream_names_the_object_and_keeps_what_was_read(process_bytes, lake, kind: str) -> None:
    data = COMPRESSORS[kind](jl(*[rec(i=i, pad="x" * 50) for i in range(40_000)]))
    summary = process_bytes(data[: len(data) * 3 // 4], name=f"cut-{kind}.log")
    assert summary.status == "failed", summary
    assert "damaged" in (summary.error or "") or "truncated" in (summary.error or "")
    assert summary.source_uri.endswith(f"cut-{kind}.log")
    written = query(lake, "SELECT count(*) AS n FROM processed_logs")[0]["n"]
    assert written == summary.processed and (kind == "bzip2" or written > 0)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_decompression_bomb_is_stopped(process_bytes, lake_dir, kind: str) -> None:
    bomb = COMPRESSORS[kind](b"x" * (200 * 1024 * 1024))  # 200 MiB in a few hundred KB
    lake = Lake.open(Settings(lake=str(lake_dir), processing=ProcessingConfig(max_compression_ratio=100)))
    summary = process_bytes(bomb, target=lake)
    assert summary.status == "failed" and "decompression bomb" in (summary.error or "")


def test_decompressed_size_limit(process_bytes, lake_dir) -> None:
    lake = Lake.open(Settings(lake=str(lake_dir), processing=ProcessingConfig(max_decompressed_bytes=10_000)))
    summary = process_bytes(gzip.compress(jl(*[rec(i=i) for i in range(1000)])), target=lake)
    assert summary.status == "failed" and "more than 10,000 bytes" in (summary.error or "")


def _lines_of(data: bytes) -> list:
    stream, _ = open_decompressed(io.BytesIO(data), "mem://fuzz")
    return list(iter_lines(stream, "mem://fuzz", 4096))


@pytest.mark.parametrize("fmt", BUILTIN, ids=lambda f: f.name)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=600)
    | st.lists(
        st.sampled_from(
            [
                b"",
                b"[",
                b"]",
                b"{",
                b"}",
                b'"',
                b"\\",
                b"=",
                b" ",
                b"\t",
                b"\r",
                b"\x00",
                b"\xff",
                b"Jun 14 15:16:01 ",
                b"2025-07-21T10:00:00Z ",
                b"INFO ",
                b"<34>",
                b"<165>1 ",
                b"http ",
                b"version srcport dstport",
                b'{"a":1}',
                b"a=b ",
            ]
        ),
        max_size=40,
    ).map(b"".join)
)
def test_every_parser_survives_arbitrary_bytes_and_accounts_for_every_line(fmt, data: bytes) -> None:
    """Fuzz: no parser crashes, and lines = processed-or-failed records + blank + joined."""
    try:
        lines = _lines_of(data) if not data.startswith((b"\x1f\x8b", b"BZh", b"\x28\xb5\x2f\xfd")) else []
    except ObjectError as exc:  # refused whole at the head (mostly NULs): no line reaches a parser
        assert "binary data" in str(exc) and looks_binary(data[:4096])
        return
    spans = 0
    for lineno, _raw, _outcome, span in fmt.records(iter(lines)):
        assert 1 <= lineno <= max(len(lines), 1)
        assert span >= 1
        spans += span
    assert spans == len(lines)


def test_readme_format_example_is_valid_config(tmp_path) -> None:
    """The README's 'Adding a format' block is what users copy: it must load and work."""
    import re
    import tomllib
    from pathlib import Path

    from loglake.config import settings_from_toml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"### Adding a format.*?```toml\n(.*?)```", readme, re.S)
    assert block is not None
    settings = settings_from_toml(tomllib.loads(block.group(1)), str(tmp_path))
    registry = FormatRegistry(settings.formats)
    assert registry.detect([b"21.07.2025 10:00 W bob quota low"]).name == "legacy"
    assert registry.by_name["legacy"].parse_line(b"21.07.2025 10:00 E bob #4711 refund failed")["ticket"] == 4711
    myapp = registry.by_name["myapp"].parse_line(b"2025-07-21T10:00:00Z WARN [t1] 1.5ms slow")
    assert isinstance(myapp, dict) and myapp["took_ms"] == 1.5 and myapp["thread"] == "t1"
    assert registry.forced("raw/nginx/access.log").name == "access_log"


FORMAT_NAMES = [f.name for f in BUILTIN]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(FORMAT_NAMES),
    data=st.lists(
        st.binary(max_size=60)
        | st.sampled_from(
            [
                b"2025-07-21T10:00:00Z INFO ok",
                b"Jun 14 15:16:01 host app[1]: m",
                b"\tat x.y(Z.java:1)",
                b"[",
                b"]",
                b'{"level": "info", "message": "m"}',
                b"a=1 b=2",
                b"version srcport",
                b"",
                b"\r",
            ]
        ),
        max_size=30,
    ).map(b"\n".join),
)
def test_a_run_never_crashes_and_accounts_for_every_line_whatever_the_format(tmp_path_factory, name, data) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "src").mkdir()
    (root / "src" / "x.log").write_bytes(data)
    lake = Lake.open(Settings(lake=str(root / "lake"), formats=FormatsConfig(default=name)))
    from loglake.sources import ObjectRef
    from loglake.storage import LocalStorage

    summary = lake.pipeline().process(ObjectRef(LocalStorage(str(root / "src")), "x.log"))
    assert not (summary.error or "").startswith("internal error"), summary.error
    if summary.status == "failed":
        # an object-level failure (binary data, or bytes that open like a compressed stream) is named,
        # and what was read before it is still accounted for
        assert any(w in (summary.error or "") for w in ("binary", "damaged", "truncated", "decompression")), summary
        assert summary.lines == summary.processed + summary.errors + summary.blank + summary.joined
        return
    body = data.removeprefix(b"\xef\xbb\xbf")  # a BOM belongs to the encoding: alone, it is an empty object
    physical = body.split(b"\n")
    if physical[-1] == b"":
        physical.pop()
    assert summary.lines == len(physical) == summary.processed + summary.errors + summary.blank + summary.joined
    assert query(lake, "SELECT count(*) AS n FROM processed_logs")[0]["n"] == summary.processed
    assert query(lake, "SELECT count(*) AS n FROM errors_logs")[0]["n"] == summary.errors
