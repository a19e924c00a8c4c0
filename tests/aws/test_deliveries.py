"""Every way AWS delivers work, each in the shape AWS publishes (tests/events/), against moto's server:
rows land once, or the failure is reported where AWS retries it. Nothing is consumed silently."""

from __future__ import annotations

import base64
import copy
import gzip
import zlib
from typing import Any

import boto3
import orjson
import pytest

from loglake.aws.handler import ObjectFailed, handler
from loglake.aws.runtime import Runtime
from loglake.aws.worker import run_worker
from loglake.config import load_settings
from tests.aws.conftest import RAW
from tests.aws.test_handler import load, rows, sqs_event
from tests.conftest import jl, rec

KEY = "incoming/my app été.log"


def s3_notification(key: str = KEY) -> dict[str, Any]:
    event = load("s3-put.json")
    event["Records"][0]["s3"]["object"]["key"] = key.replace(" ", "+")
    return event


def sns_wrapped(inner: dict[str, Any]) -> dict[str, Any]:
    note = load("sns-notification.json")
    note["Message"] = orjson.dumps(inner).decode()
    return note


def subscription(compress: Any, event_id: str = "1", group: str = "/aws/lambda/checkout", **extra: Any) -> str:
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": group,
        "logStream": "2025/07/21/[$LATEST]0123456789abcdef",
        "subscriptionFilters": ["loglake"],
        "logEvents": [
            {
                "id": f"3794150421242621511222142840224401081023093063321526272{event_id}",
                "timestamp": 1753092000000,
                "message": orjson.dumps({"level": "ERROR", "message": f"declined via {compress.__module__}"}).decode(),
            }
        ],
        **extra,
    }
    return base64.b64encode(compress(orjson.dumps(doc))).decode()


def kinesis_event(*datas: str) -> dict[str, Any]:
    template = load("kinesis-template.json")["Records"][0]
    records = []
    for i, data in enumerate(datas):
        record = copy.deepcopy(template)
        seq = f"4959033827149025660855969253836157109592157598913658{i:04d}"
        record["kinesis"]["sequenceNumber"] = seq
        record["kinesis"]["data"] = data
        record["eventID"] = f"shardId-000000000006:{seq}"
        records.append(record)
    return {"Records": records}


@pytest.fixture
def buckets(buckets) -> Any:
    """The shared buckets, with one object waiting in the raw bucket."""
    buckets.put_object(Bucket=RAW, Key=KEY, Body=jl(rec(), rec(level="warn")))
    return buckets


def test_sns_fan_out_in_sqs_with_raw_delivery_off_and_on(buckets) -> None:
    off = handler(sqs_event(sns_wrapped(s3_notification())), None)
    assert off["batchItemFailures"] == [] and off["processed"] == 1
    on = handler(sqs_event(s3_notification()), None)  # raw delivery on: the body is the S3 event
    assert on["batchItemFailures"] == [] and on["processed"] == 1
    assert [r["level"] for r in rows()] == ["INFO", "WARN"]  # once, though delivered twice


def test_sns_invoking_lambda_directly(buckets) -> None:
    event = load("sns-lambda.json")
    event["Records"][0]["Sns"]["Message"] = orjson.dumps(s3_notification()).decode()
    assert handler(event, None)["processed"] == 1
    assert len(rows()) == 2


def test_sns_topic_to_a_real_queue_then_the_worker(buckets) -> None:
    """The fan-out as deployed: a topic, two subscribed queues (raw delivery off and on), one worker each."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="loglake-fanout")["TopicArn"]
    queues = {}
    for raw in ("false", "true"):
        url = sqs.create_queue(QueueName=f"loglake-raw-{raw}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": raw})
        queues[raw] = url
    sns.publish(TopicArn=topic, Subject="Amazon S3 Notification", Message=orjson.dumps(s3_notification()).decode())
    runtime = Runtime.create(load_settings())
    for url in queues.values():
        stats = run_worker(url, runtime, until_empty=True, wait_seconds=1, visibility=30, retry_delay=0)
        assert (stats.received, stats.succeeded, stats.failed) == (1, 1, 0)
        assert [o["status"] for o in stats.objects] == ["ok"]
    assert len(rows()) == 2


@pytest.mark.parametrize(
    "name",
    ["eventbridge-object-deleted.json", "eventbridge-object-expired.json", "eventbridge-object-restore-completed.json"],
)
def test_deletions_expirations_and_restores_are_skipped_never_retried(buckets, capsys, name) -> None:
    event = load(name)
    direct = handler(event, None)
    queued = handler(sqs_event(event), None)
    assert queued["batchItemFailures"] == [] and direct["processed"] == queued["processed"] == 0
    reasons = [s["reason"] for s in direct["skipped"] + queued["skipped"]]
    assert len(reasons) == 2 and all(event["detail-type"] in r for r in reasons)
    logged = [orjson.loads(line) for line in capsys.readouterr().out.splitlines() if '"skipped"' in line]
    assert len(logged) == 2 and event["detail"]["object"]["key"] in logged[0]["what"]
    assert rows() == []


def test_s3_object_removed_is_skipped(buckets) -> None:
    event = load("s3-object-removed.json")
    for result in (handler(event, None), handler(sqs_event(event), None)):
        assert result.get("batchItemFailures", []) == [] and result["processed"] == 0
        assert ["ObjectRemoved:Delete" in s["reason"] for s in result["skipped"]] == [True]


def test_a_message_that_is_no_event_is_a_failure_with_its_id_and_reaches_the_dlq(buckets, capsys) -> None:
    result = handler(sqs_event({"hello": "world"}, s3_notification()), None)
    assert result["batchItemFailures"] == [{"itemIdentifier": "msg-0"}] and result["processed"] == 1
    logged = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    failed = [line for line in logged if line.get("message") == "not processed"]
    assert failed and failed[0]["item"] == "msg-0" and "not an event LogLake knows" in failed[0]["error"]

    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = orjson.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}).decode()
    queue = sqs.create_queue(QueueName="events", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="not even JSON")
    stats = run_worker(queue, Runtime.create(load_settings()), until_empty=True, wait_seconds=1, retry_delay=0)
    assert (stats.succeeded, stats.failed) == (0, 1)
    dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in dead] == ["not even JSON"]


def test_kinesis_batch_of_subscription_data_reports_only_the_bad_record(buckets) -> None:
    damaged = base64.b64encode(b"\x1f\x8b\x08\x00 cut short").decode()
    event = kinesis_event(subscription(gzip.compress, "1"), damaged, subscription(zlib.compress, "2"))
    result = handler(event, None)
    assert result["batchItemFailures"] == [{"itemIdentifier": event["Records"][1]["kinesis"]["sequenceNumber"]}]
    assert len(result["written"]) == 2
    assert sorted(r["message"] for r in rows()) == ["declined via gzip", "declined via zlib"]
    assert {r["log_group"] for r in rows()} == {"/aws/lambda/checkout"}


def test_zlib_subscription_payload_with_policy_level(buckets) -> None:
    event = {"awslogs": {"data": subscription(zlib.compress, policyLevel="ACCOUNT_LEVEL_POLICY")}}
    assert len(handler(event, None)["written"]) == 1
    assert [r["level"] for r in rows()] == ["ERROR"]


def test_unreadable_subscription_payload_raises_so_lambda_retries(buckets) -> None:
    with pytest.raises(ObjectFailed, match="neither gzip nor zlib"):
        handler({"awslogs": {"data": base64.b64encode(b"\x00\x01 nope").decode()}}, None)


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_batch_operations_backfill_reports_a_result_per_task(buckets, version) -> None:
    buckets.put_object(Bucket=RAW, Key="backfill/app one.log", Body=jl(rec(), rec(), rec()))
    event = load(f"batch-operations-{version}.json")
    result = handler(event, None)
    assert result["invocationSchemaVersion"] == version and result["invocationId"] == event["invocationId"]
    codes = {r["taskId"]: r["resultCode"] for r in result["results"]}
    assert codes["dGFza2lkZ29lc2hlcmUK"] == "Succeeded"
    if version == "2.0":
        assert codes["bWlzc2luZ3Rhc2sK"] == "PermanentFailure"  # the key is gone: retrying will not mend it
        assert "no such object" in result["results"][1]["resultString"]
    assert [r["source_uri"] for r in rows()] == [f"s3://{RAW}/backfill/app one.log"] * 3
    handler(event, None)  # a job run again replaces, never duplicates
    assert len(rows()) == 3


LAMBDA_LINES = [
    "INIT_START Runtime Version: python:3.12.v18\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:0a25e3e7\n",
    "START RequestId: 8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1 Version: $LATEST\n",
    "[ERROR]\t2025-07-21T10:00:00.123Z\t8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1\tpayment declined\n",
    "2025-07-21T10:00:00.456Z\t8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1\tWARN\tretry budget low\n",
    "END RequestId: 8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1\n",
    "REPORT RequestId: 8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1\tDuration: 9.14 ms\tBilled Duration: 10 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 150.22 ms\t\n",
]


def _lambda_rows(found: list[dict[str, Any]]) -> None:
    assert [r["level"] for r in found] == ["INFO", "INFO", "ERROR", "WARN", "INFO", "INFO"]
    assert {r["request_id"] for r in found[1:]} == {"8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1"}
    report = found[-1]
    assert (report["duration_ms"], report["billed_duration_ms"], report["memory_size_mb"]) == (9.14, 10, 128)
    assert (report["max_memory_used_mb"], report["init_duration_ms"]) == (70, 150.22)


def test_lambda_lines_through_a_subscription_land_as_records(buckets) -> None:
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/checkout",
        "logStream": "2025/07/21/[$LATEST]0123456789abcdef",
        "subscriptionFilters": ["loglake"],
        "logEvents": [
            {
                "id": f"3794150421242621511222142840224401081023093063321526272{i}",
                "timestamp": 1753092000000 + i,
                "message": m,
            }
            for i, m in enumerate(LAMBDA_LINES)
        ],
    }
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(orjson.dumps(doc))).decode()}}
    handler(event, None)
    assert rows("errors_logs") == []
    _lambda_rows(sorted(rows(), key=lambda r: r["source_line"]))


def test_lambda_lines_through_loglake_collect_land_as_records(aws, cli, lake_dir) -> None:
    import time

    from loglake.config import Settings
    from loglake.lake import Lake
    from tests.conftest import query

    logs = boto3.client("logs")
    group, stream = "/aws/lambda/checkout", "2025/07/21/[$LATEST]0123456789abcdef"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    base = int(time.time() * 1000) - 600_000
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": base + i, "message": m} for i, m in enumerate(LAMBDA_LINES)],
    )
    result = cli("collect", "--log-group", group, "--since", "1h", "--process")
    assert result.exit_code == 0, result.output
    lake = Lake.open(Settings(lake=str(lake_dir)))
    assert query(lake, "SELECT count(*) AS n FROM errors_logs") == [{"n": 0}]
    _lambda_rows(query(lake, "SELECT * FROM processed_logs ORDER BY source_line"))
