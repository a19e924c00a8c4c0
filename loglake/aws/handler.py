"""The Lambda entry point: `loglake.aws.handler.handler(event, context)`.

Accepts direct S3 notifications, SQS messages wrapping them (partial batch responses), EventBridge
"Object Created" events and CloudWatch Logs subscriptions. Logs are JSON lines; counts go out in
CloudWatch Embedded Metric Format.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from loglake.aws import events as ev
from loglake.config import Settings, load_settings
from loglake.lake import ZONES, Lake
from loglake.pipeline import Summary
from loglake.sources import ObjectRef, is_hidden, matches
from loglake.storage.s3 import S3Storage, reset_clients, s3_client, split_uri

LOG_STREAM: Any = None
"""Where structured logs go: stdout in Lambda (CloudWatch reads it); the CLI worker sets stderr."""


def _stream() -> Any:
    return LOG_STREAM or sys.stdout


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON object per line: CloudWatch Logs Insights can filter on every field."""
    record = {"level": level, "message": message, "time": datetime.now(UTC).isoformat(), **fields}
    stream = _stream()
    stream.write(orjson.dumps(record, default=str).decode() + "\n")
    stream.flush()


def emit_metrics(summary: Summary) -> None:
    """CloudWatch Embedded Metric Format: metrics from a log line, no API calls."""
    names = Summary.COUNTS
    doc = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": "LogLake",
                    "Dimensions": [["Format"]],
                    "Metrics": [{"Name": n, "Unit": "Count"} for n in names] + [{"Name": "seconds", "Unit": "Seconds"}],
                }
            ],
        },
        "Format": summary.format or "unknown",
        "source_uri": summary.source_uri,
        "seconds": summary.seconds,
        **{n: getattr(summary, n) for n in names},
    }
    _stream().write(orjson.dumps(doc).decode() + "\n")


class ObjectFailed(Exception):
    """The object could not be processed; its message must come back (retry, then DLQ)."""


@dataclass
class Runtime:
    """What a warm Lambda (or a worker) keeps between events."""

    settings: Settings
    lake: Lake
    lake_bucket: str
    lake_prefix: str

    @classmethod
    def create(cls, settings: Settings | None = None) -> Runtime:
        settings = settings or load_settings()
        lake = Lake.open(settings)
        bucket, prefix = split_uri(settings.lake) if settings.lake.startswith("s3://") else ("", "")
        return cls(settings, lake, bucket, prefix)

    def skip_reason(self, event: ev.ObjectEvent) -> str | None:
        """Why an object is not ours to process; None when it is."""
        if event.size == 0:
            return "empty object"
        key = event.key
        if event.bucket == self.lake_bucket:
            rel = key[len(self.lake_prefix) + 1 :] if self.lake_prefix else key
            if (not self.lake_prefix or key.startswith(self.lake_prefix + "/")) and rel.split("/", 1)[0] in ZONES[1:]:
                return "LogLake's own output (loop guard)"
        if key.endswith("/"):
            return "folder marker"
        prefix = self.settings.aws.raw_prefix
        if prefix and not key.startswith(prefix):
            return f"outside the raw prefix `{prefix}`"
        if not matches(key, self.settings.processing.suffixes):
            return "suffix not configured in processing.suffixes"
        if is_hidden(key):
            return "hidden or temporary name"
        return None

    def process(self, event: ev.ObjectEvent) -> Summary | None:
        failures, summaries = self.process_batch([("", [event])])
        if failures:
            raise ObjectFailed(failures[""])
        return summaries[0] if summaries else None

    def process_batch(self, messages: list[tuple[str, list[ev.ObjectEvent]]]) -> tuple[dict[str, str], list[Summary]]:
        """Every message's objects through one pipeline: small objects share files and one commit (one
        transaction per table for the batch, not per object — what keeps the commit rate within what one
        Iceberg table takes). Returns message id → error for the messages with a failed object, and the summaries."""
        refs: list[ObjectRef] = []
        owners: dict[str, list[str]] = {}
        for message_id, events in messages:
            for event in events:
                reason = self.skip_reason(event)
                if reason:
                    log("INFO", "skipped", bucket=event.bucket, key=event.key, reason=reason, message_id=message_id)
                    continue
                ref = ObjectRef(S3Storage(f"s3://{event.bucket}", client=s3_client()), event.key, event.size or None)
                refs.append(ref)
                owners.setdefault(ref.uri, []).append(message_id)
        failures: dict[str, str] = {}
        summaries = list(self.lake.pipeline().process_many(refs)) if refs else []
        for summary in summaries:
            emit_metrics(summary)
            log("INFO" if summary.status == "ok" else "ERROR", "processed", **summary.to_json())
            if summary.status != "ok":
                for message_id in owners.get(summary.source_uri, []):
                    failures.setdefault(message_id, f"{summary.source_uri}: {summary.error}")
        return failures, summaries

    def write_logs_batch(self, batch: ev.LogsBatch) -> tuple[Any, str]:
        """A subscription delivery becomes one raw object (gzip JSON Lines), exactly like the collector's."""
        from loglake.aws.collector import raw_target
        from loglake.aws.logs import raw_key, to_raw_object

        raw, prefix = raw_target(self.settings, self.lake.storage)
        data, first = to_raw_object(batch.log_group, batch.log_stream, batch.events, owner=batch.owner)
        key = raw_key(prefix, batch.log_group, batch.log_stream, first, batch.events)
        raw.write_bytes(key, data)
        return raw, key

    def collect(self) -> dict[str, Any]:
        """The scheduled collector: pull the configured log groups into the raw zone."""
        import os

        from loglake.aws.collector import CollectOptions, Collector, parse_when, raw_target
        from loglake.config import parse_duration

        env = os.environ.get("LOGLAKE_COLLECT_LOG_GROUPS", "")
        groups = [g.strip() for g in env.split(",") if g.strip()] or list(self.settings.aws.collect_log_groups)
        if not groups:
            log("WARN", "scheduled collection with no log groups configured", hint="set LOGLAKE_COLLECT_LOG_GROUPS")
            return {"events": 0}
        raw, prefix = raw_target(self.settings, self.lake.storage)
        options = CollectOptions(
            log_groups=groups,
            since_ms=parse_when(self.settings.aws.collect_since) or 0,
            lag_seconds=parse_duration(self.settings.aws.collect_lag, "[aws] collect_lag").total_seconds(),
        )
        stats = Collector(s3_client("logs"), raw, prefix, self.lake.storage, options).run()
        log("INFO", "collected", events=stats.events, objects=len(stats.objects), skipped_groups=stats.skipped_groups)
        return {"events": stats.events, "objects": stats.objects}


_RUNTIME: Runtime | None = None


def runtime() -> Runtime:
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = Runtime.create()
    return _RUNTIME


def _each(events: list[ev.ObjectEvent], rt: Runtime) -> None:
    """A direct invocation's objects, committed together; a failure raises, so Lambda retries the event."""
    failures, _ = rt.process_batch([("", events)])
    if failures:
        raise ObjectFailed(failures[""])


def decode_messages(
    messages: list[tuple[str, str]],
) -> tuple[list[tuple[str, list[ev.ObjectEvent]]], dict[str, str], int]:
    """SQS message (id, body) pairs → (id, objects) to process, id → error for undecodable bodies, and how many
    were test events (skipped with a log line). Shared by the Lambda's SQS path and `loglake worker`."""
    work: list[tuple[str, list[ev.ObjectEvent]]] = []
    failed: dict[str, str] = {}
    skipped = 0
    for message_id, body in messages:
        try:
            objects = ev.sqs_body_events(body)
        except Exception as exc:
            failed[message_id] = str(exc)
            continue
        if objects is None:
            log("INFO", "skipped", reason="s3:TestEvent", message_id=message_id)
            skipped += 1
            continue
        work.append((message_id, objects))
    return work, failed, skipped


def handle_sqs(event: dict[str, Any], rt: Runtime) -> dict[str, Any]:
    """The batch's objects are committed together; only the messages whose objects failed come back."""
    batch, failed, _ = decode_messages([(r["messageId"], r["body"]) for r in event["Records"]])
    try:
        failed.update(rt.process_batch(batch)[0])
    except Exception as exc:  # the batch's commit itself: every message in it comes back
        failed.update({message_id: str(exc) for message_id, _ in batch})
    for message_id, error in failed.items():
        log("ERROR", "message failed", message_id=message_id, error=error)
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    rt = runtime()
    kind = ev.kind(event)
    if kind == "sqs":
        return handle_sqs(event, rt)
    if kind == "s3":
        if ev.is_test_event(event):
            log("INFO", "skipped", reason="s3:TestEvent")
            return {"processed": 0}
        objects = ev.s3_records(event)
        _each(objects, rt)
        return {"processed": len(objects)}
    if kind == "eventbridge":
        objects = ev.eventbridge_object(event)
        _each(objects, rt)
        return {"processed": len(objects)}
    if kind == "logs":
        batch = ev.logs_batch(event)
        if batch is None:
            log("INFO", "skipped", reason="CONTROL_MESSAGE")
            return {"written": 0}
        raw, key = rt.write_logs_batch(batch)
        log("INFO", "subscription batch written", key=key, events=len(batch.events), log_group=batch.log_group)
        if rt.settings.aws.process_subscriptions and raw is rt.lake.storage:
            # in a separate raw bucket the S3 notification does it
            rt.lake.pipeline().process(ObjectRef(raw, key))
        return {"written": len(batch.events), "key": key}
    if kind == "scheduled":
        return rt.collect()
    log("WARN", "unrecognised event shape", keys=sorted(event)[:10])
    return {"processed": 0, "error": "unrecognised event"}


def reset() -> None:
    """Forget the warm state (tests, or after changing the environment)."""
    global _RUNTIME, LOG_STREAM
    _RUNTIME = None
    LOG_STREAM = None
    reset_clients()
