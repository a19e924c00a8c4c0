"""SNS notifications: an S3 (or EventBridge) event in `Message`, as a topic delivers it to an SQS
queue with raw message delivery off. (With raw delivery on, the SQS body is the S3 event itself.)"""

from __future__ import annotations

from typing import Any


def is_notification(payload: Any) -> bool:
    return (
        isinstance(payload, dict) and payload.get("Type") == "Notification" and isinstance(payload.get("Message"), str)
    )


def message(payload: dict[str, Any]) -> str:
    return payload["Message"]  # type: ignore[no-any-return]
