"""SQS workers: long-poll, process, delete on success, keep the message invisible while working.

Failures are left to the queue: the message reappears after `retry_delay` and the queue's redrive
policy moves it to the DLQ after maxReceiveCount. Any number of workers may run together: output
names derive from the source, so a message handled twice replaces rather than duplicates.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from loglake.aws import events as ev
from loglake.aws.handler import Runtime, log
from loglake.storage.s3 import s3_client


@dataclass
class WorkerStats:
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    objects: list[dict[str, Any]] = field(default_factory=list)


class _Heartbeat:
    """Extends a message's visibility while its object is being processed."""

    def __init__(self, sqs: Any, queue_url: str, receipt: str, visibility: int) -> None:
        self.sqs, self.queue_url, self.receipt, self.visibility = sqs, queue_url, receipt, visibility
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(max(1.0, self.visibility / 2)):
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=self.receipt, VisibilityTimeout=self.visibility
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
) -> WorkerStats:
    sqs = s3_client("sqs")
    stats = WorkerStats()
    while max_messages is None or stats.received < max_messages:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        if not messages:
            if until_empty:
                break
            continue
        for message in messages:
            stats.received += 1
            receipt = message["ReceiptHandle"]
            try:
                with _Heartbeat(sqs, queue_url, receipt, visibility):
                    objects = ev.sqs_body_events(message["Body"])
                    if objects is None:
                        stats.skipped += 1
                    for obj in objects or []:
                        summary = runtime.process(obj)
                        if summary is None:
                            stats.skipped += 1
                        else:
                            stats.objects.append(summary.to_json())
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
                stats.succeeded += 1
            except Exception as exc:
                stats.failed += 1
                count = message.get("Attributes", {}).get("ApproximateReceiveCount")
                log("ERROR", "message failed", message_id=message.get("MessageId"), receive_count=count, error=str(exc))
                try:
                    sqs.change_message_visibility(
                        QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=retry_delay
                    )
                except Exception as vis_exc:
                    log("WARN", "could not shorten visibility", error=str(vis_exc))
    return stats
