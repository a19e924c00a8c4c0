"""A Lambda invocation by the event itself (S3 → Lambda, EventBridge → Lambda, a subscription
filter → Lambda, a schedule): one `Item` for the whole event, which Lambda retries as a whole."""

from __future__ import annotations

from typing import Any

from loglake.aws.events import Item, NotAnEvent, Skip, describe, eventbridge, logs, s3


def item(event: dict[str, Any]) -> Item:
    if s3.is_notification(event):
        return s3.notification(event)
    if eventbridge.is_s3_event(event):
        return eventbridge.s3_event(event)
    if "awslogs" in event:
        doc = logs.payload((event.get("awslogs") or {}).get("data", ""))
        batch = logs.batch(doc)
        if batch is None:
            return Item("", skipped=[Skip(doc.get("logGroup", ""), str(doc.get("messageType")))])
        return Item("", logs=[batch])
    raise NotAnEvent(f"not an event LogLake knows: {describe(event)}")
