"""A Lambda invocation by the event itself (S3 → Lambda, SNS → Lambda, EventBridge → Lambda, a
subscription filter → Lambda): one `Item` for the whole event, which Lambda retries as a whole."""

from __future__ import annotations

from typing import Any

from loglake.aws.events import Item, NotAnEvent, describe, eventbridge, logs, s3, sns, sqs


def item(event: dict[str, Any]) -> Item:
    if s3.is_notification(event):
        return s3.notification(event)
    if sns.is_batch(event):
        whole = Item("")
        for message_id, message in sns.records(event):
            whole.add(sqs.body(message_id, message, inside_sns=True))
        return whole
    if eventbridge.is_s3_event(event):
        return eventbridge.s3_event(event)
    if "awslogs" in event:
        return logs.item("", (event.get("awslogs") or {}).get("data", ""))
    raise NotAnEvent(f"not an event LogLake knows: {describe(event)}")
