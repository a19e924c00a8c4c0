"""Event envelopes → objects to process. One function per AWS event source, as AWS documents them.

S3 notification keys are URL-encoded (`unquote_plus`); EventBridge keys are not. CloudWatch Logs
subscription payloads are base64 of gzip of JSON.
"""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import orjson


@dataclass(frozen=True)
class ObjectEvent:
    bucket: str
    key: str
    size: int | None
    source: str
    """`s3`, `sqs`, `eventbridge`."""


@dataclass(frozen=True)
class LogsBatch:
    """A CloudWatch Logs subscription delivery (DATA_MESSAGE)."""

    owner: str
    log_group: str
    log_stream: str
    events: list[dict[str, Any]]


def s3_records(payload: dict[str, Any], source: str = "s3") -> list[ObjectEvent]:
    """A direct S3 notification (also the body of an SQS message)."""
    out = []
    for record in payload.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated") or "s3" not in record:
            continue
        s3 = record["s3"]
        out.append(
            ObjectEvent(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                size=s3["object"].get("size"),
                source=source,
            )
        )
    return out


def eventbridge_object(event: dict[str, Any]) -> list[ObjectEvent]:
    detail = event.get("detail", {})
    return [
        ObjectEvent(
            bucket=detail["bucket"]["name"],
            key=detail["object"]["key"],  # EventBridge keys are not URL-encoded
            size=detail["object"].get("size"),
            source="eventbridge",
        )
    ]


def logs_batch(event: dict[str, Any]) -> LogsBatch | None:
    """Decode `awslogs.data`; CONTROL_MESSAGE reachability checks come back as None."""
    payload = orjson.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload.get("messageType") != "DATA_MESSAGE":
        return None
    return LogsBatch(payload.get("owner", ""), payload["logGroup"], payload["logStream"], payload.get("logEvents", []))


def is_test_event(payload: dict[str, Any]) -> bool:
    return payload.get("Event") == "s3:TestEvent"


def kind(event: dict[str, Any]) -> str:
    """Which documented shape this is: `sqs`, `s3`, `eventbridge`, `logs`, `scheduled`, or `unknown`."""
    if "awslogs" in event:
        return "logs"
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return "scheduled"
    if event.get("source") == "aws.s3" and event.get("detail-type") == "Object Created":
        return "eventbridge"
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:sqs":
        return "sqs"
    if records and records[0].get("eventSource") == "aws:s3":
        return "s3"
    if is_test_event(event):
        return "s3"
    return "unknown"


def sqs_body_events(body: str) -> list[ObjectEvent] | None:
    """An SQS message body: an S3 notification, an EventBridge event, or a TestEvent (None)."""
    payload = orjson.loads(body)
    if is_test_event(payload):
        return None
    if payload.get("source") == "aws.s3":
        return eventbridge_object(payload)
    return s3_records(payload, source="sqs")
