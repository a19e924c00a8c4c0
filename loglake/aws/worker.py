"""SQS workers: long-poll up to ten messages, process their objects as one batch (small objects in one
commit), delete the messages that succeeded, keep the batch invisible while working.

Failures are left to the queue: the message reappears after `retry_delay` and the queue's redrive
policy moves it to the DLQ after maxReceiveCount. Any number of workers may run together: a message
handled twice replaces its object's rows rather than duplicating them (see `tables.commit`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from loglake.aws.events import sqs as sqs_events
from loglake.aws.runtime import Runtime, log
from loglake.storage.s3 import s3_client


@dataclass
class WorkerStats:
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    objects: list[dict[str, Any]] = field(default_factory=list)


class _Heartbeat:
    """Extends the batch's visibility while its objects are being processed."""

    def __init__(self, sqs: Any, queue_url: str, receipts: list[str], visibility: int) -> None:
        self.sqs, self.queue_url, self.receipts, self.visibility = sqs, queue_url, receipts, visibility
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(max(1.0, self.visibility / 2)):
            try:
                self.sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": self.visibility}
                        for i, r in enumerate(self.receipts)
                    ],
                )
            except Exception as exc:
                log("WARN", "visibility extension failed", error=str(exc))

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def run_worker(
    queue_url: str,
    runtime: Runtime,
    *,
    until_empty: bool = False,
    wait_seconds: int = 20,
    visibility: int = 300,
    retry_delay: int = 30,
    max_messages: int | None = None,
    batch: int = 10,
) -> WorkerStats:
    sqs = s3_client("sqs")
    stats = WorkerStats()
    while max_messages is None or stats.received < max_messages:
        wanted = batch if max_messages is None else max(1, min(batch, max_messages - stats.received))
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=wanted,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        if not messages:
            if until_empty:
                break
            continue
        stats.received += len(messages)
        _handle(sqs, queue_url, runtime, messages, stats, visibility, retry_delay)
    return stats


def _handle(
    sqs: Any,
    queue_url: str,
    runtime: Runtime,
    messages: list[dict[str, Any]],
    stats: WorkerStats,
    visibility: int,
    retry_delay: int,
) -> None:
    """One received batch: decoded, processed together, each message deleted or sent back on its own."""
    items = [sqs_events.body(m["MessageId"], m["Body"]) for m in messages]
    with _Heartbeat(sqs, queue_url, [m["ReceiptHandle"] for m in messages], visibility):
        outcome = runtime.process_items(items)
    failed = outcome.failures
    stats.objects.extend(s.to_json() for s in outcome.summaries)
    stats.skipped += len(outcome.skipped)
    for message in messages:
        receipt = message["ReceiptHandle"]
        error = failed.get(message["MessageId"])
        if error is None:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
            stats.succeeded += 1
            continue
        stats.failed += 1
        count = message.get("Attributes", {}).get("ApproximateReceiveCount")
        log("ERROR", "message failed", message_id=message.get("MessageId"), receive_count=count, error=error)
        try:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=retry_delay)
        except Exception as vis_exc:
            log("WARN", "could not shorten visibility", error=str(vis_exc))
