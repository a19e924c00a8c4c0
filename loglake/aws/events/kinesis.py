"""Kinesis Data Streams records carrying CloudWatch Logs subscription data (subscription filter →
stream → Lambda). Each record is one `Item`, named by its sequence number: the partial batch
response reports failures by sequence number and Lambda retries from the first one."""

from __future__ import annotations

from typing import Any

from loglake.aws.events import Item, logs


def is_batch(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and isinstance(records, list) and records[0].get("eventSource") == "aws:kinesis"


def items(event: dict[str, Any]) -> list[Item]:
    out = []
    for record in event["Records"]:
        kinesis = record.get("kinesis") or {}
        item = logs.item(kinesis.get("sequenceNumber", ""), kinesis.get("data", ""))
        if item.error:
            item.error = f"Kinesis record {item.id}: {item.error}"
        out.append(item)
    return out
