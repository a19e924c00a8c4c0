"""The generic text format, and objects whose layout no format was told about or whose layout changes.

Layouts below are the published shapes of public logs (loghub: Zhu et al., ISSRE 2023) and of common
loggers; the property test builds objects in each and checks time, level and message line by line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglake.config import FormatsConfig, Settings
from loglake.formats import FormatRegistry
from loglake.formats.generic import compile_layout, learn
from loglake.lake import Lake
from loglake.rules.levels import normalise_level
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage
from tests.conftest import query

CORPORA = Path(__file__).resolve().parents[1] / "corpora" / "loghub"
NOW = datetime.now(UTC).replace(tzinfo=None)


def _ms(dt: datetime) -> str:
    return f"{dt.microsecond // 1000:03d}"


# (layout, text of a time, the time a reader can know from it)
LAYOUTS = {
    "iso_comma": (lambda d: d.strftime("%Y-%m-%d %H:%M:%S,") + _ms(d), lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    "iso_t_z": (lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"), lambda d: d.replace(microsecond=0)),
    "ymd_slash": (lambda d: d.strftime("%Y/%m/%d %H:%M:%S"), lambda d: d.replace(microsecond=0)),
    "compact": (lambda d: d.strftime("%Y%m%d-%H:%M:%S:") + _ms(d), lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    "bgl": (lambda d: d.strftime("%Y-%m-%d-%H.%M.%S.%f"), lambda d: d),
    "clf": (lambda d: d.strftime("%d/%b/%Y:%H:%M:%S +0000"), lambda d: d.replace(microsecond=0)),
    "ctime": (lambda d: d.strftime("%a %b %d %H:%M:%S %Y"), lambda d: d.replace(microsecond=0)),
    "syslog": (lambda d: f"{d:%b} {d.day:>2} {d:%H:%M:%S}", lambda d: d.replace(microsecond=0)),
    "yy_slash": (lambda d: d.strftime("%y/%m/%d %H:%M:%S"), lambda d: d.replace(microsecond=0)),
    "yymmdd": (lambda d: d.strftime("%y%m%d %H%M%S"), lambda d: d.replace(microsecond=0)),
    "dmy_dots": (lambda d: d.strftime("%d.%m.%Y %H:%M:%S"), lambda d: d.replace(microsecond=0)),
    "android": (lambda d: d.strftime("%m-%d %H:%M:%S.") + _ms(d), lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    "proxifier": (lambda d: d.strftime("%m.%d %H:%M:%S"), lambda d: d.replace(microsecond=0)),
    "tomcat": (lambda d: d.strftime("%d-%b-%Y %H:%M:%S.") + _ms(d), lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    "java_util": (lambda d: f"{d:%b} {d.day}, {d:%Y} {int(d.strftime('%I'))}:{d:%M:%S %p}", lambda d: d.replace(microsecond=0)),
    "epoch": (lambda d: str(int(d.replace(tzinfo=UTC).timestamp())), lambda d: d.replace(microsecond=0)),
}  # fmt: skip
YEARLESS = {"syslog", "android", "proxifier"}
WORDS = ["INFO", "info", "Info", "WARN", "warning", "Warning", "ERROR", "error", "DEBUG", "debug", "FATAL", "notice"]
LETTERS = ["I", "W", "E", "D", "V", "F"]
VOCABULARY = ["user", "login", "ok", "cache", "42", "x=1", "GET", "/index.html", "done", "block_7", "took", "3ms"]


@st.composite
def objects(draw: st.DrawFn) -> tuple[list[str], list[tuple[datetime, str | None, str]]]:
    layout = draw(st.sampled_from(sorted(LAYOUTS)))
    spell, known = LAYOUTS[layout]
    yearless = layout in YEARLESS
    low, high = (
        (NOW - timedelta(days=330), NOW - timedelta(days=2))
        if yearless
        else (datetime(2001, 10, 1), datetime(2032, 12, 31))
    )
    bracket = draw(st.booleans()) and layout not in ("epoch",)
    prefix = draw(st.sampled_from(["", "- ", "node-12 ", "seq42 app.log "]))
    level_kind = draw(st.sampled_from(["none", "words", "letters"]))
    context = draw(st.sampled_from(["", "1702 ", "1702  2395 ", "[main] "]))
    wrap = draw(st.sampled_from(["{}", "[{}]", "{}:", "<{}>"])) if level_kind == "words" else "{}"
    separator = draw(st.sampled_from([" ", " - ", ", ", "  "]))
    lines, expected = [], []
    for _ in range(draw(st.integers(6, 16))):
        when = draw(st.datetimes(min_value=low, max_value=high))
        if yearless and when.month == 2 and when.day == 29:
            when = when.replace(day=28)
        stamp = spell(when)
        message = " ".join(draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6)))
        level = None
        if level_kind != "none":
            level = draw(st.sampled_from(WORDS if level_kind == "words" else LETTERS))
        head = f"[{stamp}]" if bracket else stamp
        body = message if level is None else f"{context}{wrap.format(level)} {message}"
        lines.append(f"{prefix}{head}{separator}{body}")
        expected.append((known(when), None if level is None else normalise_level(level), message))
    return lines, expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects())
def test_learned_layout_reads_time_level_and_message(case) -> None:
    lines, expected = case
    layout = learn(lines)
    assert layout is not None, lines
    fmt = compile_layout(layout)
    for line, (when, level, message) in zip(lines, expected, strict=True):
        record = fmt.parse_line(line.encode())
        assert type(record) is dict, (line, record)
        assert record["timestamp"] == when, line
        assert (normalise_level(record["level"]) if "level" in record else None) == level, line
        assert record["message"] == message, line


def test_unknown_layouts_are_read_not_labelled_jsonl() -> None:
    """Lines from public logs the built-in formats do not know (loghub's mobile, supercomputer, desktop,
    proxy, Windows, cloud-controller and cluster samples)."""
    samples = {
        "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs": (datetime(NOW.year, 3, 17, 16, 13, 38, 811000), "DEBUG"),
        "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579": (datetime(2017, 12, 23, 22, 15, 29, 606000), None),
        "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected": (datetime(2005, 6, 3, 22, 42, 50), "INFO"),
        "Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback": (datetime(NOW.year, 7, 1, 9, 0, 55), None),
        "[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS": (datetime(NOW.year, 10, 30, 16, 49, 6), None),
        "2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505 with Core": (datetime(2016, 9, 28, 4, 30, 30), "INFO"),
        "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b] GET": (datetime(2017, 5, 16, 0, 0, 0, 8000), "INFO"),
        "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: Component is unavailable": (datetime(2004, 2, 26, 14, 12, 22), None),
    }  # fmt: skip
    registry = FormatRegistry(FormatsConfig())
    for line, (when, level) in samples.items():
        fmt = registry.detect([line.encode()] * 4)
        assert fmt.name in ("text", "syslog"), line  # the macOS line is BSD syslog
        record = fmt.parse_line(line.encode())
        assert type(record) is dict, line
        if when.year == NOW.year and when > NOW + timedelta(days=1):  # year-less: last year's
            when = when.replace(year=NOW.year - 1)
        assert record["timestamp"] == when, line
        assert (normalise_level(record["level"]) if "level" in record else None) == level, line


def _process(tmp_path: Path, data: bytes, **formats) -> tuple:
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in" / "mixed.log").write_bytes(data)
    lake = Lake.open(Settings(lake=str(tmp_path / "lake"), formats=FormatsConfig(**formats)))
    lake.init()
    summary = lake.pipeline().process(ObjectRef(LocalStorage(str(tmp_path / "in")), "mixed.log"))
    return summary, lake


def _lines(name: str) -> bytes:
    return (CORPORA / name / f"{name}_2k.log").read_bytes().rstrip(b"\n") + b"\n"


ANDROID = b"".join(
    b"03-17 16:%02d:%02d.%03d  1702  2395 %s WindowManager: event %d\n" % (i // 60 % 60, i % 60, i % 1000, b"DIWEV"[i % 5 : i % 5 + 1], i)
    for i in range(2000)
)  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second", "formats"),
    [("HDFS", "android", "hdfs+text"), ("android", "HDFS", "text+hdfs"), ("HDFS", "OpenSSH", "hdfs+syslog"), ("OpenSSH", "HDFS", "syslog+hdfs")],
)  # fmt: skip
def test_a_file_of_two_layouts_keeps_every_record_of_both(
    tmp_path: Path, first: str, second: str, formats: str
) -> None:
    data = b"".join(ANDROID if n == "android" else _lines(n) for n in (first, second))
    summary, lake = _process(tmp_path, data)
    assert summary.format == formats
    assert (summary.lines, summary.processed, summary.joined, summary.errors) == (4000, 4000, 0, 0)
    rows = query(lake, "SELECT source_line, source_format, message FROM processed_logs ORDER BY source_line")
    assert [r["source_line"] for r in rows] == list(range(1, 4001))
    assert max(r["message"].count("\n") for r in rows) == 0


def test_joining_stops_at_the_record_bound(tmp_path: Path) -> None:
    """A log4j record followed by 2,500 lines no format reads: joined up to 100 lines a record, not into one."""
    data = b"2025-07-21 10:00:00,000 INFO [main] org.app.Service - started\n" + b"\tnot a record line\n" * 2500
    summary, lake = _process(tmp_path, data, default="log4j", max_record_lines=100)
    assert summary.lines == 2501
    assert summary.processed + summary.errors + summary.joined == 2501
    rows = query(lake, "SELECT message FROM processed_logs")
    assert len(rows) == 1 and rows[0]["message"].count("\n") == 99
    assert summary.errors == 2501 - 100


def test_a_line_that_starts_with_a_time_is_never_glued_to_a_trace(tmp_path: Path) -> None:
    data = (
        b"2025-07-21 10:00:00,000 ERROR [main] org.app.Service - failed\n"
        b"java.lang.IllegalStateException: boom\n\tat org.app.Service.run(Service.java:42)\n"
        b"Jul 21 10:00:01 host sshd[42]: a syslog line in the middle\n"
        b"2025-07-21 10:00:02,000 INFO [main] org.app.Service - recovered\n"
    )
    _, lake = _process(tmp_path, data, default="log4j")
    rows = query(lake, "SELECT source_line, message FROM processed_logs ORDER BY source_line")
    assert [r["source_line"] for r in rows] == [1, 5]
    assert rows[0]["message"].endswith("Service.java:42)")
    errors = query(lake, "SELECT source_line, raw_line FROM errors_logs")
    assert [(e["source_line"], e["raw_line"]) for e in errors] == [
        (4, "Jul 21 10:00:01 host sshd[42]: a syslog line in the middle")
    ]
