"""S3 event notifications (direct, or as the body of an SQS or SNS message).

Keys are URL-encoded (`unquote_plus`). Only `ObjectCreated:*` is work; removals, restores,
lifecycle, tagging, ACL and replication events are skipped with their event name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from loglake.aws.events import Item, ObjectEvent, Skip


def is_notification(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    if is_test_event(payload):
        return True
    records = payload.get("Records")
    return (
        bool(records)
        and isinstance(records, list)
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records)
    )


def is_test_event(payload: dict[str, Any]) -> bool:
    """What S3 sends once when a notification is configured."""
    return payload.get("Event") == "s3:TestEvent"


def notification(payload: dict[str, Any], item_id: str = "", source: str = "s3") -> Item:
    item = Item(item_id)
    if is_test_event(payload):
        item.skipped.append(Skip(payload.get("Bucket", ""), "s3:TestEvent"))
        return item
    for record in payload.get("Records", []):
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name", "")
        obj = s3.get("object") or {}
        key = unquote_plus(obj.get("key", ""))
        name = str(record.get("eventName", ""))
        if not bucket or not key:
            item.error = f"S3 record `{name}` names no bucket or key"
        elif name.startswith("ObjectCreated"):
            item.objects.append(ObjectEvent(bucket, key, obj.get("size"), source, obj.get("eTag")))
        else:
            item.skipped.append(
                Skip(f"s3://{bucket}/{key}", f"{name or 'unnamed event'} (only ObjectCreated is processed)")
            )
    return item
