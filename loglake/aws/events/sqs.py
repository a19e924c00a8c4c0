"""SQS messages: each body is an S3 notification, an SNS notification wrapping one (raw delivery
off), an EventBridge S3 event, or a CloudWatch Logs subscription payload. Each message is one
`Item`; a body that is none of these is an error for that message alone."""

from __future__ import annotations

from typing import Any

import orjson

from loglake.aws.events import Item, NotAnEvent, describe, eventbridge, logs, s3, sns


def is_batch(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and isinstance(records, list) and records[0].get("eventSource") == "aws:sqs"


def records(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(message id, body) of each record of a Lambda SQS event."""
    return [(r.get("messageId", ""), r.get("body", "")) for r in event["Records"]]


def body(message_id: str, text: str, *, inside_sns: bool = False) -> Item:
    """One message body, whatever wraps it (`inside_sns`: the `Message` of an SNS notification)."""
    try:
        return _decode(message_id, orjson.loads(text), depth=1 if inside_sns else 0)
    except orjson.JSONDecodeError:
        return Item(message_id, error=f"message body is not JSON (starts with {text[:40]!r})")
    except NotAnEvent as exc:
        return Item(message_id, error=str(exc))


def _decode(message_id: str, payload: Any, depth: int) -> Item:
    if s3.is_notification(payload):
        return s3.notification(payload, message_id, source="sqs" if depth == 0 else "sns")
    if eventbridge.is_s3_event(payload):
        return eventbridge.s3_event(payload, message_id)
    if sns.is_notification(payload) and depth == 0:
        try:
            inner = orjson.loads(sns.message(payload))
        except orjson.JSONDecodeError:
            raise NotAnEvent("SNS notification whose Message is not JSON") from None
        return _decode(message_id, inner, depth + 1)
    if isinstance(payload, dict) and "awslogs" in payload:
        return logs.item(message_id, (payload["awslogs"] or {}).get("data", ""))
    raise NotAnEvent(f"not an event LogLake knows: {describe(payload)}")
