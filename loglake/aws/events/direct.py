"""A Lambda invocation by the event itself (S3 → Lambda, SNS → Lambda, EventBridge → Lambda, a
subscription filter → Lambda): one `Item` for the whole event, which Lambda retries as a whole."""

from __future__ import annotations

from typing import Any

from loglake.aws.events import Item, NotAnEvent, Skip, describe, eventbridge, logs, s3, sns, sqs


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
        try:
            doc = logs.payload((event.get("awslogs") or {}).get("data", ""))
        except NotAnEvent as exc:  # a subscription whose payload is damaged: reported, not a crash
            return Item("", error=str(exc))
        batch = logs.batch(doc)
        if batch is None:
            return Item("", skipped=[Skip(doc.get("logGroup", ""), str(doc.get("messageType")))])
        return Item("", logs=[batch])
    raise NotAnEvent(f"not an event LogLake knows: {describe(event)}")
