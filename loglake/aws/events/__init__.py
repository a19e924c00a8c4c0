"""AWS deliveries → what to do. One module per transport; each only decodes, nothing here does I/O.

Every delivery becomes `Item`s: the units AWS retries on their own (an SQS message, a Kinesis record,
a Batch Operations task, or a whole direct invocation). An item carries the objects to process, the
CloudWatch Logs batches to store, what was skipped and why, or the reason it cannot be read. An
item that is no event LogLake knows is an error, never an empty success: it comes back to the
queue and on to its dead-letter queue, where someone will see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ObjectEvent:
    bucket: str
    key: str
    size: int | None
    source: str
    """`s3`, `sqs`, `sns`, `eventbridge`, `batch-operations`."""
    etag: str | None = None


@dataclass(frozen=True)
class LogsBatch:
    """A CloudWatch Logs subscription delivery (DATA_MESSAGE)."""

    owner: str
    log_group: str
    log_stream: str
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class Skip:
    """Something delivered that is not work: a deletion, a restore, a test event, a control message."""

    what: str
    reason: str


@dataclass
class Item:
    """One unit of delivery that succeeds or fails as a whole."""

    id: str
    objects: list[ObjectEvent] = field(default_factory=list)
    logs: list[LogsBatch] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    error: str | None = None
    """Why the item cannot be read (not an event LogLake knows, a damaged payload)."""

    def add(self, other: Item) -> None:
        self.objects += other.objects
        self.logs += other.logs
        self.skipped += other.skipped
        self.error = self.error or other.error


class NotAnEvent(ValueError):
    """A payload that is none of the event shapes LogLake knows."""


def describe(payload: Any) -> str:
    """A short, safe description of an unknown payload for a log line (its keys, not its content)."""
    if isinstance(payload, dict):
        return "a JSON object with keys " + ", ".join(sorted(map(str, payload))[:10])
    return f"a JSON {type(payload).__name__}"
