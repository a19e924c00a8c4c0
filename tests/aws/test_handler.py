"""The Lambda handler with each event shape as AWS documents it (tests/events/), against moto's server."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from loglake.aws import handler as handler_mod
from loglake.aws.handler import handler
from loglake.config import load_settings
from loglake.lake import Lake
from loglake.query.duckdb_engine import DuckDBEngine
from tests.aws.conftest import LAKE, RAW
from tests.conftest import jl, rec

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load(name: str) -> dict[str, Any]:
    return orjson.loads((EVENTS / name).read_bytes())


def sqs_event(*bodies: dict[str, Any]) -> dict[str, Any]:
    template = load("sqs-template.json")
    records = []
    for i, body in enumerate(bodies):
        record = copy.deepcopy(template["Records"][0])
        record["messageId"] = f"msg-{i}"
        record["body"] = orjson.dumps(body).decode()
        records.append(record)
    return {"Records": records}


def rows(table: str = "processed_logs") -> list[dict[str, Any]]:
    lake = Lake.open(load_settings())
    return (
        DuckDBEngine(lake.storage, lake.tables)
        .run(f"SELECT * FROM {table} ORDER BY source_uri, source_line", save=False)
        .rows
    )


def test_direct_s3_notification_with_encoded_key(buckets, capsys) -> None:
    buckets.put_object(Bucket=RAW, Key="incoming/my app été.log", Body=jl(rec(), rec()))
    assert handler(load("s3-put.json"), None) == {"processed": 1, "failed": 0, "skipped": []}
    got = rows()
    assert len(got) == 2 and {r["source_uri"] for r in got} == {f"s3://{RAW}/incoming/my app été.log"}
    lines = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    emf = [line for line in lines if "_aws" in line]
    assert emf and emf[0]["processed"] == 2 and emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LogLake"
    assert any(line.get("message") == "processed" and line.get("level") == "INFO" for line in lines)


def test_sqs_batch_reports_only_the_failed_message(buckets) -> None:
    s3_event = load("s3-put.json")
    buckets.put_object(Bucket=RAW, Key="incoming/my app été.log", Body=jl(rec()))
    buckets.put_object(Bucket=RAW, Key="incoming/poison.log", Body=bytes(range(256)) * 64)
    poison = copy.deepcopy(s3_event)
    poison["Records"][0]["s3"]["object"]["key"] = "incoming/poison.log"
    result = handler(sqs_event(s3_event, poison, load("s3-test-event.json")), None)
    assert result["batchItemFailures"] == [{"itemIdentifier": "msg-1"}]
    assert (result["processed"], result["failed"]) == (1, 1)
    assert len(rows()) == 1


def test_eventbridge_object_created_keys_are_not_url_encoded(buckets) -> None:
    buckets.put_object(Bucket=RAW, Key="incoming/event bridge é.log", Body=jl(rec()))
    assert handler(load("eventbridge-object-created.json"), None)["processed"] == 1
    assert rows()[0]["source_uri"] == f"s3://{RAW}/incoming/event bridge é.log"


def test_eventbridge_wrapped_in_sqs(buckets) -> None:
    buckets.put_object(Bucket=RAW, Key="incoming/event bridge é.log", Body=jl(rec()))
    result = handler(sqs_event(load("eventbridge-object-created.json")), None)
    assert result["batchItemFailures"] == [] and result["processed"] == 1
    assert len(rows()) == 1


def test_s3_test_event_is_skipped(buckets) -> None:
    direct = handler(load("s3-test-event.json"), None)
    assert direct["processed"] == 0 and [s["reason"] for s in direct["skipped"]] == ["s3:TestEvent"]
    queued = handler(sqs_event(load("s3-test-event.json")), None)
    assert queued["batchItemFailures"] == [] and [s["reason"] for s in queued["skipped"]] == ["s3:TestEvent"]


def test_cloudwatch_logs_subscription_is_written_to_raw_and_processed(buckets) -> None:
    result = handler(load("cloudwatch-logs-subscription.json"), None)
    [written] = result["written"]
    assert written.startswith(f"s3://{LAKE}/raw/cloudwatch/aws_lambda_checkout/dt=2025-07-21/")
    raw = [o["Key"] for o in buckets.list_objects_v2(Bucket=LAKE, Prefix="raw/")["Contents"]]
    assert [f"s3://{LAKE}/{k}" for k in raw] == [written]
    got = rows()
    assert [(r["level"], r["message"]) for r in got] == [("ERROR", "payment declined"), ("WARN", "retry budget low")]
    assert got[0]["order_id"] == 42 and got[0]["log_group"] == "/aws/lambda/checkout"
    assert got[0]["event_id"] == "37941504212426215112221428402244010810230930633215262720"
    errors = rows("errors_logs")
    assert [e["error_code"] for e in errors] == ["missing_field:level"]  # plain text without a level


def test_cloudwatch_control_message_is_dropped(buckets) -> None:
    result = handler(load("cloudwatch-logs-control.json"), None)
    assert [s["reason"] for s in result["skipped"]] == ["CONTROL_MESSAGE"] and result["processed"] == 0
    assert "Contents" not in buckets.list_objects_v2(Bucket=LAKE)


def test_duplicate_delivery_yields_records_once(buckets) -> None:
    buckets.put_object(Bucket=RAW, Key="incoming/my app été.log", Body=jl(rec(), rec(), rec()))
    event = load("s3-put.json")
    handler(event, None)
    handler(sqs_event(event, event), None)
    assert len(rows()) == 3


@pytest.mark.parametrize(
    ("bucket", "key", "body", "reason"),
    [
        (RAW, "incoming/empty.log", b"", "empty object"),
        (LAKE, "processed/dt=2025-07-21/x-0000.parquet", b"x", "loop guard"),
        (LAKE, "errors/dt=2025-07-21/x-0000.parquet", b"x", "loop guard"),
        (RAW, "incoming/notes.txt", b"x", "suffix"),
    ],
)
def test_objects_that_are_not_ours_are_skipped_with_a_log_line(buckets, capsys, bucket, key, body, reason) -> None:
    buckets.put_object(Bucket=bucket, Key=key, Body=body)
    event = load("s3-put.json")
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["object"]["key"] = key
    event["Records"][0]["s3"]["object"]["size"] = len(body)
    handler(event, None)
    skipped = [orjson.loads(line) for line in capsys.readouterr().out.splitlines() if '"skipped"' in line]
    assert skipped and reason in skipped[0]["reason"]
    assert rows() == []


def test_raw_prefix_filter(buckets, monkeypatch) -> None:
    buckets.put_object(Bucket=LAKE, Key="loglake.toml", Body=b'[aws]\nraw_prefix = "raw/"\n')
    handler_mod.reset()
    buckets.put_object(Bucket=RAW, Key="incoming/my app été.log", Body=jl(rec()))
    handler(load("s3-put.json"), None)
    assert rows() == []  # outside raw/


def test_missing_object_fails_with_bucket_and_key(buckets) -> None:
    with pytest.raises(handler_mod.ObjectFailed, match=re.escape("s3://loglake-raw/incoming/my app été.log")):
        handler(load("s3-put.json"), None)
