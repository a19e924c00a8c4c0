"""Amazon S3 events through EventBridge (direct, or as the body of an SQS message).

Keys are not URL-encoded. "Object Created" is work; "Object Deleted" (deletions and lifecycle
expirations), the "Object Restore …" events and the rest are skipped with their detail-type.
"""

from __future__ import annotations

from typing import Any

from loglake.aws.events import Item, ObjectEvent, Skip


def is_s3_event(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("source") == "aws.s3" and "detail-type" in payload


def is_scheduled(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and payload.get("source") in ("aws.events", "aws.scheduler")
        and payload.get("detail-type") == "Scheduled Event"
    )


def s3_event(payload: dict[str, Any], item_id: str = "") -> Item:
    item = Item(item_id)
    detail = payload.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name", "")
    obj = detail.get("object") or {}
    key = obj.get("key", "")
    kind = payload.get("detail-type", "")
    if not bucket or not key:
        item.error = f"EventBridge `{kind}` event names no bucket or key"
    elif kind == "Object Created":
        item.objects.append(ObjectEvent(bucket, key, obj.get("size"), "eventbridge", obj.get("etag")))
    else:
        why = detail.get("reason") or detail.get("deletion-type")
        item.skipped.append(
            Skip(f"s3://{bucket}/{key}", f"{kind}{f' ({why})' if why else ''}: only Object Created is processed")
        )
    return item
