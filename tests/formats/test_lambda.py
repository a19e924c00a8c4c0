"""Lambda's own lines: the platform's START/END/REPORT/INIT_START and the Python and Node.js runtimes'."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from loglake.aws.logs import to_record
from loglake.config import FormatsConfig
from loglake.formats import FormatRegistry
from loglake.formats.builtin import LAMBDA
from tests.conftest import query

RID = "8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1"
START = f"START RequestId: {RID} Version: $LATEST"
END = f"END RequestId: {RID}"
REPORT = (
    f"REPORT RequestId: {RID}\tDuration: 9.14 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 70 MB\tInit Duration: 150.22 ms\t\n"
    "XRAY TraceId: 1-5e1b4151-5ac6c58f5a8b4bcd8cdb3e3c\tSegmentId: 6e2b8a1a0e5b4e4e\tSampled: true\t\n"
)
INIT = (
    "INIT_START Runtime Version: python:3.12.v18\tRuntime Version ARN: "
    "arn:aws:lambda:us-east-1::runtime:0a25e3e7a1cc9ce404bc435eeb2ad358d8fa64338e618d0c224fe509403583ca"
)
PYTHON = f"[ERROR]\t2025-07-21T10:00:00.123Z\t{RID}\tpayment declined"
NODE = f"2025-07-21T10:00:00.456Z\t{RID}\tWARN\tretry budget low"


def parse(line: str) -> dict:
    out = LAMBDA.parse_line(line.encode())
    assert type(out) is dict, out
    return out


def test_platform_lines_carry_the_request_id_and_reports_their_numbers() -> None:
    assert parse(START) == {
        "lambda_event": "START",
        "level": "INFO",
        "message": START,
        "request_id": RID,
        "version": "$LATEST",
    }
    assert parse(END)["request_id"] == RID and parse(END)["lambda_event"] == "END"
    report = parse(REPORT)
    assert {k: report[k] for k in report if k.endswith(("_ms", "_mb"))} == {
        "duration_ms": 9.14,
        "billed_duration_ms": 10,
        "memory_size_mb": 128,
        "max_memory_used_mb": 70,
        "init_duration_ms": 150.22,
    }
    assert (report["request_id"], report["xray_trace_id"], report["xray_sampled"]) == (
        RID,
        "1-5e1b4151-5ac6c58f5a8b4bcd8cdb3e3c",
        True,
    )
    assert parse(INIT)["runtime_version"] == "python:3.12.v18"


def test_a_timed_out_invocation_is_an_error() -> None:
    line = f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tStatus: timeout"
    assert (parse(line)["level"], parse(line)["status"], parse(line)["duration_ms"]) == ("ERROR", "timeout", 3000.0)


def test_runtime_lines_give_level_time_and_request_id() -> None:
    py = parse(PYTHON)
    assert (py["level"], py["timestamp"], py["request_id"], py["message"]) == (
        "ERROR",
        datetime(2025, 7, 21, 10, 0, 0, 123000),
        RID,
        "payment declined",
    )
    node = parse(NODE)
    assert (node["level"], node["request_id"], node["message"]) == ("WARN", RID, "retry budget low")
    outside = parse("2025-07-21T10:00:00.456Z\tundefined\tERROR\tUncaught Exception")
    assert "request_id" not in outside and outside["level"] == "ERROR"
    bare = parse("[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'x'")
    assert bare["level"] == "ERROR" and bare["message"].startswith("Runtime.ImportModuleError")


def test_other_lines_are_not_lambda_lines() -> None:
    for line in ("hello", "STARTED the job", '{"level": "info"}', "2025-07-21T10:00:00Z INFO plain"):
        assert type(LAMBDA.parse_line(line.encode())) is not dict, line


@given(
    duration=st.floats(min_value=0, max_value=900_000, allow_nan=False).map(lambda x: round(x, 2)),
    billed=st.integers(min_value=1, max_value=900_000),
    size=st.integers(min_value=128, max_value=10_240),
    used=st.integers(min_value=1, max_value=10_240),
    init=st.none() | st.floats(min_value=0, max_value=10_000, allow_nan=False).map(lambda x: round(x, 2)),
)
def test_report_numbers_come_back_exactly(duration, billed, size, used, init) -> None:
    line = (
        f"REPORT RequestId: {RID}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {size} MB\tMax Memory Used: {used} MB\t"
    )
    if init is not None:
        line += f"Init Duration: {init:.2f} ms\t"
    got = parse(line)
    assert (got["duration_ms"], got["billed_duration_ms"], got["memory_size_mb"], got["max_memory_used_mb"]) == (
        duration,
        billed,
        size,
        used,
    )
    assert got.get("init_duration_ms") == init


def test_a_file_of_lambda_lines_is_detected_and_every_line_is_valid(process_bytes, lake) -> None:
    traceback = '\nTraceback (most recent call last):\n  File "/var/task/app.py", line 3, in handler\nKeyError: x'
    data = "\n".join([INIT, START, PYTHON + traceback, NODE, END, REPORT.rstrip("\n").split("\n")[0]]) + "\n"
    summary = process_bytes(data.encode(), name="function.log")
    assert (summary.format, summary.processed, summary.errors, summary.joined) == ("lambda", 6, 0, 3)
    rows = query(lake, "SELECT lambda_event, level, request_id, duration_ms FROM processed_logs ORDER BY source_line")
    assert [r["lambda_event"] for r in rows] == ["INIT_START", "START", None, None, "END", "REPORT"]
    assert [r["level"] for r in rows] == ["INFO", "INFO", "ERROR", "WARN", "INFO", "INFO"]
    assert rows[-1]["duration_ms"] == 9.14 and rows[1]["request_id"] == RID
    [message] = query(lake, "SELECT message FROM processed_logs WHERE level = 'ERROR'")
    assert message["message"].endswith("KeyError: x")


def test_collected_lambda_events_are_valid_records() -> None:
    """A `/aws/lambda/*` group's events, as the collector and subscriptions store them."""
    for message, level in ((START + "\n", "INFO"), (REPORT, "INFO"), (PYTHON + "\n", "ERROR"), (NODE + "\n", "WARN")):
        record = to_record(
            "/aws/lambda/checkout", "2025/07/21/[$LATEST]abc", {"id": "1", "timestamp": 0, "message": message}
        )
        assert record["level"] == level and record["message_format"] == "lambda"
        assert record["request_id"] == RID
        assert record["timestamp"] == "1970-01-01T00:00:00.000Z"  # CloudWatch's time is the event's


def test_cloudwatch_export_of_a_lambda_group() -> None:
    registry = FormatRegistry(FormatsConfig())
    line = f"2025-07-21T10:00:00.000Z {REPORT.splitlines()[0]}".encode()
    fmt = registry.detect([line])
    record = fmt.parse_line(line)
    assert fmt.name == "cloudwatch_export" and type(record) is dict
    assert (record["lambda_event"], record["billed_duration_ms"], record["level"]) == ("REPORT", 10, "INFO")
