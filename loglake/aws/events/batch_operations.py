"""S3 Batch Operations invocations (schema 1.0 and 2.0): a backfill of objects already in a bucket.

Each task is one `Item` named by its task id; the response gives each task `Succeeded`,
`TemporaryFailure` (Batch Operations retries it) or `PermanentFailure` (reported in the job's
completion report). Keys arrive URL-encoded, as in S3 notifications.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from loglake.aws.events import Item, ObjectEvent


def is_invocation(event: Any) -> bool:
    return isinstance(event, dict) and "invocationSchemaVersion" in event and isinstance(event.get("tasks"), list)


def items(event: dict[str, Any]) -> list[Item]:
    out = []
    for task in event["tasks"]:
        item = Item(str(task.get("taskId", "")))
        bucket = task.get("s3Bucket") or str(task.get("s3BucketArn", "")).rsplit(":", 1)[-1]
        key = unquote_plus(task.get("s3Key", ""))
        if not bucket or not key:
            item.error = f"task {item.id} names no bucket or key"
        else:
            item.objects.append(ObjectEvent(bucket, key, None, "batch-operations"))
        out.append(item)
    return out


def response(event: dict[str, Any], results: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The document Batch Operations expects back: (task id, result code, message) per task."""
    return {
        "invocationSchemaVersion": event["invocationSchemaVersion"],
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": event.get("invocationId", ""),
        "results": [{"taskId": t, "resultCode": code, "resultString": text[:1000]} for t, code, text in results],
    }
