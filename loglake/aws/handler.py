"""The Lambda entry point: `loglake.aws.handler.handler(event, context)`.

Every way AWS delivers work (see `loglake.aws.events`): S3 notifications direct, through SQS, or
through SNS into SQS (raw delivery on or off); EventBridge S3 events direct or through SQS;
CloudWatch Logs subscriptions direct, through SQS or through a Kinesis data stream; S3 Batch
Operations tasks; the collector's schedule. Queues and streams get partial batch responses (SQS by
message id, Kinesis by sequence number), Batch Operations a result per task; a direct invocation
that fails raises, so Lambda retries it and then hands it to its on-failure destination.
"""

from __future__ import annotations

from typing import Any

from loglake.aws import runtime as rt_mod
from loglake.aws.events import NotAnEvent, batch_operations, direct, eventbridge, kinesis, sqs
from loglake.aws.runtime import Outcome, Runtime, log
from loglake.storage.s3 import reset_clients

_RUNTIME: Runtime | None = None


class ObjectFailed(Exception):
    """A direct invocation's work failed; raised so that Lambda retries the event."""


def runtime() -> Runtime:
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = Runtime.create()
    return _RUNTIME


def _partial(outcome: Outcome) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": i} for i in outcome.failures], **outcome.report()}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    rt = runtime()
    if sqs.is_batch(event):
        return _partial(rt.process_items([sqs.body(mid, body) for mid, body in sqs.records(event)]))
    if kinesis.is_batch(event):
        return _partial(rt.process_items(kinesis.items(event)))
    if batch_operations.is_invocation(event):
        items = batch_operations.items(event)
        outcome = rt.process_items(items)
        results = []
        for item in items:
            error = outcome.failures.get(item.id)
            if error is None:
                results.append((item.id, "Succeeded", "processed"))
            else:  # a missing key or unreadable object will not mend by retrying; the rest may
                permanent = item.error is not None or "no such object" in error
                results.append((item.id, "PermanentFailure" if permanent else "TemporaryFailure", error))
        return batch_operations.response(event, results)
    if eventbridge.is_scheduled(event):
        return rt.collect()
    try:
        item = direct.item(event)
    except NotAnEvent as exc:
        log("ERROR", "unrecognised event", error=str(exc))
        raise
    outcome = rt.process_items([item])
    if outcome.failures:
        raise ObjectFailed("; ".join(outcome.failures.values()))
    return outcome.report()


def reset() -> None:
    """Forget the warm state (tests, or after changing the environment)."""
    global _RUNTIME
    _RUNTIME = None
    rt_mod.LOG_STREAM = None
    reset_clients()
