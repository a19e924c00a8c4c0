"""SNS notifications: an S3 (or EventBridge) event in `Message`, as a topic delivers it to an SQS
queue with raw message delivery off (with raw delivery on, the SQS body is the S3 event itself), or
to a Lambda function directly (`Records[].Sns`)."""

from __future__ import annotations

from typing import Any


def is_notification(payload: Any) -> bool:
    return (
        isinstance(payload, dict) and payload.get("Type") == "Notification" and isinstance(payload.get("Message"), str)
    )


def message(payload: dict[str, Any]) -> str:
    return payload["Message"]  # type: ignore[no-any-return]


def is_batch(event: Any) -> bool:
    """A topic invoking Lambda directly."""
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and isinstance(records, list) and records[0].get("EventSource") == "aws:sns"


def records(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(message id, message) of each record."""
    return [
        ((r.get("Sns") or {}).get("MessageId", ""), (r.get("Sns") or {}).get("Message", "")) for r in event["Records"]
    ]
