"""Regex line formats through Arrow must give exactly what the row path gives, and take the common lines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglake.columnar import text as columnar_text
from loglake.columnar.text import TextPlan
from loglake.config import CustomFormat, FormatsConfig, RulesConfig
from loglake.formats import FormatRegistry, builtin, reader
from loglake.formats.timestamps import Strptime
from loglake.pipeline import Summary
from loglake.rules import RuleSet
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage
from tests.test_columnar import _pipeline, assert_same_output

NOW = datetime(2026, 3, 1, 12, 0, 0)


@pytest.fixture(autouse=True)
def _fixed_syslog_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both paths infer RFC 3164 years from one reference time, so runs compare exactly."""
    monkeypatch.setattr(builtin.SYSLOG_3164.timestamp, "now", lambda: NOW)
    monkeypatch.setattr(builtin.SYSLOG_3164.timestamp, "_reference", None)


def _process(
    root: Path,
    data: bytes,
    fmt: str,
    columnar: bool,
    rules: RulesConfig | None = None,
    overlap: bool = True,
    max_line_bytes: int = 1 << 20,
    **formats: Any,
) -> tuple[Summary, Path, int]:
    pipeline, lake_dir = _pipeline(root, columnar, rules, FormatsConfig(default=fmt, **formats), max_line_bytes)
    pipeline.overlap = overlap  # off: batches whole and inline, as in worker processes filling the cores
    src = root / "src"
    src.mkdir(exist_ok=True)
    (src / "app.log").write_bytes(data)
    by_rows = 0
    run_rows = pipeline.run_rows

    def counting(run: Any, records: Any) -> None:
        nonlocal by_rows
        records = list(records)
        by_rows += len(records)
        run_rows(run, iter(records))

    pipeline.run_rows = counting  # type: ignore[method-assign]
    summary = pipeline.process(ObjectRef(LocalStorage(str(src)), "app.log"))
    return summary, lake_dir, by_rows


def _same(
    tmp: Path,
    lines: list[bytes],
    fmt: str,
    rules: RulesConfig | None = None,
    overlap: bool = True,
    max_line_bytes: int = 1 << 20,
    **formats: Any,
) -> int:
    """Asserts both paths agree; returns how many lines the columnar run left to the row path."""
    data = b"\n".join(lines) + b"\n"
    fast, fast_dir, by_rows = _process(tmp, data, fmt, True, rules, overlap, max_line_bytes, **formats)
    slow, slow_dir, _ = _process(tmp, data, fmt, False, rules, max_line_bytes=max_line_bytes, **formats)
    assert_same_output(fast, fast_dir, slow, slow_dir)
    return by_rows


@contextmanager
def _reads_of(size: int) -> Iterator[None]:
    """Reads (and so batches) of a few lines: records then cross batch boundaries."""
    chunk, reader.CHUNK = reader.CHUNK, size
    try:
        yield
    finally:
        reader.CHUNK = chunk


MONTH = st.sampled_from(["Jan", "Feb", "Mar", "Jul", "Dec", "jul", "Foo"])
DAY = st.sampled_from(["1", "01", "28", "29", "30", "31", "00", "32"])
CLOCK = st.sampled_from(["00:00:00", "23:59:59", "12:00:00", "24:00:00", "12:60:00", "12:00:60"])
TEXT = st.sampled_from(["session opened", "", " ", "a\tb", "café", "nul\x00", "bell\x07", "x: y", "-", "ab\r"])


@st.composite
def syslog_lines(draw: st.DrawFn) -> bytes:
    day = draw(DAY)
    stamp = f"{draw(MONTH)} {day:>2}" if draw(st.booleans()) else f"{draw(MONTH)} {day}"
    pri = draw(st.sampled_from(["", "<13>", "<0>", "<191>", "<192>", "<999>"]))
    app = draw(st.sampled_from(["sshd[42]: ", "cron: ", "kernel:", "-- root[1]: ", "", "app[x]: "]))
    return f"{pri}{stamp} {draw(CLOCK)} {draw(st.sampled_from(['host', 'h-1', '']))} {app}{draw(TEXT)}".encode()


@st.composite
def access_lines(draw: st.DrawFn) -> bytes:
    day = draw(st.sampled_from(["10", "1", "31", "30", "29"]))
    month = draw(st.sampled_from(["Oct", "oct", "Feb", "Apr", "Xyz"]))
    year = draw(st.sampled_from(["2000", "2024", "2023", "0000"]))
    zone = draw(st.sampled_from(["-0700", "+0000", "+2359", "+2400", "+07:00", "Z", "+0530"]))
    clock = draw(st.sampled_from(["13:55:36", "00:00:00", "23:59:59", "24:00:00"]))
    request = draw(st.sampled_from(["GET /a HTTP/1.0", "", "GET  /b HTTP/1.1", "BREW", 'GET /\\"q\\" HTTP/1.0']))
    status = draw(st.sampled_from(["200", "404", "503", "000"]))
    size = draw(st.sampled_from(["2326", "-", "0", "99999999999999999999"]))
    tail = draw(st.sampled_from(["", ' "-" "curl/8.0"', ' "" ""', ' "http://r/" "Mozilla 5"', " extra"]))
    client = draw(st.sampled_from(["127.0.0.1", "::1", "-"]))
    return f'{client} - frank [{day}/{month}/{year}:{clock} {zone}] "{request}" {status} {size}{tail}'.encode()


@st.composite
def syslog5424_lines(draw: st.DrawFn) -> bytes:
    pri = draw(st.sampled_from(["165", "0", "191", "200"]))
    stamp = draw(st.sampled_from(["2003-10-11T22:14:15.003Z", "2003-10-11T22:14:15+02:00", "-", "yesterday"]))
    data = draw(st.sampled_from(["-", '[ex@1 a="b"]', '[a x="]"]']))
    message = draw(st.sampled_from(["", " ", " An event", " \ufeffBOM event", "  two"]))
    return f"<{pri}>1 {stamp} host app - ID47 {data}{message}".encode()


BLANKS = st.sampled_from([b"", b"   ", b"\t"])
LEVEL = st.sampled_from(["INFO", "WARN", "debug", "ERROR", "LOUD"])
DATE = st.sampled_from(["2025-07-21", "2024-02-29", "2025-02-29", "2025-13-01"])
CONTINUATION = st.sampled_from(
    [
        b"java.lang.IllegalStateException: boom",
        b"\tat org.app.Service.run(Service.java:42)",
        b"Caused by: java.io.IOException",
        b"\t... 3 more",
        "\tat caf\u00e9.Main(Main.java:1)".encode(),
        b"caf\xe9 latin-1",
        b"bell\x07 here",
        b"trailing cr\r",
        b"",
        b"  ",
        b"\tat " + b"x" * 120,  # over the test's `max_line_bytes`: an over-long line inside a trace
    ]
)


@st.composite
def log4j_lines(draw: st.DrawFn) -> bytes:
    clock = draw(st.sampled_from(["10:00:00,123", "23:59:59.999", "24:00:00,000"]))
    thread = draw(st.sampled_from(["[main] ", "[pool-1 thread-2] ", ""]))
    logger = draw(st.sampled_from(["org.app.Service - ", "- ", "QuorumPeer@913: - ", ""]))
    return f"{draw(DATE)} {clock} {draw(LEVEL)} {thread}{logger}{draw(TEXT)}".encode()


@st.composite
def spark_lines(draw: st.DrawFn) -> bytes:
    date = draw(st.sampled_from(["17/06/09", "24/02/29", "17/02/29", "17/13/01"]))
    return f"{date} 20:10:40 {draw(LEVEL)} spark.Executor: {draw(TEXT)}".encode()


@st.composite
def hdfs_lines(draw: st.DrawFn) -> bytes:
    pid = draw(st.sampled_from(["148", "0", "99999999999999999999"]))
    return (
        f"081109 {draw(st.sampled_from(['203615', '246000']))} {pid} {draw(LEVEL)} dfs.DataNode: {draw(TEXT)}".encode()
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(syslog_lines(), syslog_lines(), BLANKS), min_size=1, max_size=30))
def test_syslog_matches_the_row_path(tmp_path_factory: Any, lines: list[bytes]) -> None:
    _same(tmp_path_factory.mktemp("syslog"), lines, "syslog")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(access_lines(), access_lines(), BLANKS), min_size=1, max_size=30))
def test_access_log_matches_the_row_path(tmp_path_factory: Any, lines: list[bytes]) -> None:
    _same(tmp_path_factory.mktemp("access"), lines, "access_log")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(syslog5424_lines(), min_size=1, max_size=20))
def test_syslog5424_matches_the_row_path(tmp_path_factory: Any, lines: list[bytes]) -> None:
    _same(tmp_path_factory.mktemp("rfc5424"), lines, "syslog5424")


MULTILINE = {"log4j": log4j_lines(), "spark": spark_lines(), "hdfs": hdfs_lines()}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(sorted(MULTILINE)),
    data=st.data(),
    chunk=st.sampled_from([64, 200, 1 << 20]),
    overlap=st.booleans(),
)
def test_multiline_formats_match_the_row_path(
    tmp_path_factory: Any, fmt: str, data: st.DataObject, chunk: int, overlap: bool
) -> None:
    """Stack traces, blank and odd lines inside them, records crossing batch boundaries: joined as the row path
    joins them, with the same line numbers and counts."""
    starts = MULTILINE[fmt]
    lines = data.draw(st.lists(st.one_of(starts, starts, CONTINUATION), min_size=1, max_size=40))
    with _reads_of(chunk):
        _same(tmp_path_factory.mktemp(fmt), lines, fmt, overlap=overlap, max_line_bytes=100)


@pytest.mark.parametrize("overlap", [True, False])
def test_stack_traces_take_the_columnar_path(tmp_path: Path, overlap: bool) -> None:
    lines = []
    for i in range(20_000):
        lines.append(f"2025-07-21 10:{i % 60:02d}:00,{i % 1000:03d} INFO [main] org.app.Service - handled {i}".encode())
        if i % 100 == 0:
            lines += [b"java.lang.IllegalStateException: boom", b"\tat org.app.Service.run(Service.java:42)"]
        if i % 5000 == 0:
            lines += ["\tat caf\u00e9.Main(Main.java:1)".encode(), b"", b"2025-02-30 10:00:00,000 INFO x"]
    with _reads_of(64 << 10):  # records cross many batch boundaries
        by_rows = _same(tmp_path / "log4j", lines, "log4j", overlap=overlap)
    # Only the 4 records holding a non-ASCII or blank line (the row path decides where those belong) go row by row,
    # with what follows them: the impossible date below begins with a time, so it is never joined (it is a
    # record of its own, an error) and the row path judges it too.
    assert by_rows == 12


def test_multiline_limits_match_the_row_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record over `max_record_bytes`, and a stretch with no record start longer than the columnar path
    waits for one (the rest of the object then goes row by row)."""
    monkeypatch.setattr(columnar_text, "CARRY_BYTES", 2000)
    start = b"2025-07-21 10:00:00,000 INFO [main] org.app.Service - handled"
    trace = [f"\tat org.app.Frame{i}.run(Frame.java:{i})".encode() for i in range(12)]
    lines = [start, *trace[:3], start, *trace, start, *(trace * 10), start, start, *trace[:2]]
    with _reads_of(256):
        by_rows = _same(tmp_path / "limits", lines, "log4j", max_record_bytes=300)
    # Only the first record (4 lines) is joined in Arrow. The second is over 300 bytes: the row path joins what
    # fits and reports the other lines one by one (7 records); 2,000 bytes into the third no record has started,
    # so from its start the object goes row by row: 7 + 115 + the 2 records after it.
    assert by_rows == 7 + 115 + 2


@pytest.mark.parametrize("overlap", [True, False])
def test_common_lines_take_the_columnar_path(tmp_path: Path, overlap: bool) -> None:
    """The point of the path: a real-looking object goes through Arrow except its odd lines."""
    lines = []
    for i in range(20_000):
        stamp = f"Feb {1 + i % 28:>2} {i % 24:02d}:{i % 60:02d}:00"
        lines.append(f"<{i % 192}>{stamp} host{i % 7} sshd[{i}]: ok {i}".encode())
        if i % 1000 == 0:
            lines.append(b"Feb 30 10:00:00 host app: impossible day")
    by_rows = _same(tmp_path / "syslog", lines, "syslog", overlap=overlap)
    assert by_rows == 20  # the Feb 30 lines, which the row path reports as bad timestamps
    access = []
    for i in range(5_000):
        stamp = f"{1 + i % 28:02d}/Feb/2026:10:00:{i % 60:02d} +0100"
        access.append(f'10.0.0.{i % 255} - - [{stamp}] "GET /p{i} HTTP/1.1" {200 + i % 400} {i}'.encode())
    assert _same(tmp_path / "access", access, "access_log") == 0


def test_window_rules_and_custom_formats_match(tmp_path: Path) -> None:
    rules = RulesConfig(max_future=timedelta(days=1), max_age=timedelta(days=400))
    lines = [f"{m} 10 10:00:00 host app: m".encode() for m in ("Feb", "Mar", "Jan", "Jun")] * 20
    _same(tmp_path / "window", lines, "syslog", rules)
    spark_like = CustomFormat(
        name="mine",
        regex=r"(?P<timestamp>\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) (?P<level>\w+) (?P<n>\d+) (?P<message>.*)",
        timestamp_format="%y/%m/%d %H:%M:%S",
    )
    custom = [
        b"17/06/09 20:10:40 INFO 12 started",
        b"69/12/31 23:59:59 warn 0 old century",
        b"68/02/29 00:00:00 ERROR 7 leap",
        b"17/02/29 00:00:00 ERROR 7 not leap",
        b"17/06/09 20:10:40 LOUD 1 bad level",
        b"17/06/09 20:10:40 INFO x not a number",
    ] * 10
    by_rows = _same(tmp_path / "custom", custom, "mine", custom=(spark_like,))
    assert by_rows == 30  # the impossible date, the unknown level, the line the pattern does not match


def test_formats_the_columnar_path_does_not_take() -> None:
    registry = FormatRegistry(
        FormatsConfig(custom=(CustomFormat(name="look", regex=r"(?P<message>a(?=b).*)"),)),
    )
    rules = RuleSet(RulesConfig(), provides_level=False)
    assert TextPlan.for_format(registry.by_name["look"], rules) is None  # look-ahead: not RE2
    assert TextPlan.for_format(registry.by_name["log4j"], rules) is not None  # multi-line records too
    assert TextPlan.for_format(registry.by_name["jsonl"], rules) is None
    assert TextPlan.for_format(registry.by_name["syslog"], rules) is not None
    assert TextPlan.for_format(registry.by_name["access_log"], rules) is not None
    nested = RuleSet(RulesConfig(required=("a.b",)), provides_level=False)
    assert TextPlan.for_format(registry.by_name["syslog"], nested) is None
    assert isinstance(builtin.ACCESS_LOG.timestamp, Strptime)


def test_what_an_empty_group_means() -> None:
    """Arrow gives "" both for a group that matched nothing and for one that took no part; `re` tells them apart."""
    from loglake.columnar.text import _empty_values

    meaning = _empty_values(r"(?P<a>x|(?P<b>y*))(?P<c>z*)+(?P<d>q*)*(?:-(?P<e>\d+))?(?P<f>.*)")
    assert meaning == {"a": "empty", "b": "ask", "c": "empty", "d": "ask", "e": "absent", "f": "empty"}
