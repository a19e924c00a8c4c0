"""What a warm Lambda or a `loglake worker` keeps between deliveries, and the one batch processor
both use: decoded `Item`s in, each item's outcome out.

Logs are JSON lines (CloudWatch Logs Insights filters on every field); counts go out in CloudWatch
Embedded Metric Format.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from loglake.aws.events import Item, LogsBatch, ObjectEvent, Skip
from loglake.config import Settings, load_settings
from loglake.lake import ZONES, Lake
from loglake.pipeline import Summary
from loglake.sources import ObjectRef, is_hidden, matches
from loglake.storage.s3 import S3Storage, s3_client, split_uri

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


@dataclass
class Outcome:
    """What became of a batch of items."""

    failures: dict[str, str] = field(default_factory=dict)
    """Item id → why it failed (it must come back: retried, then dead-lettered)."""
    summaries: list[Summary] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    """Raw objects written from CloudWatch Logs batches."""

    def report(self) -> dict[str, Any]:
        """Counts for a handler's result and the worker's summary."""
        return {
            "processed": sum(1 for s in self.summaries if s.status == "ok"),
            "failed": len(self.failures),
            "skipped": [{"what": s.what, "reason": s.reason} for s in self.skipped],
            **({"written": self.written} if self.written else {}),
        }


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

    def skip_reason(self, event: ObjectEvent) -> str | None:
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

    def process_items(self, items: list[Item]) -> Outcome:
        """Every item's objects through one pipeline: small objects share files and one commit (one
        transaction per table for the batch, not per object — what keeps the commit rate within what
        one Iceberg table takes). An item fails when it cannot be read, when one of its objects fails,
        or when the batch's commit does; skipped work is logged, never retried."""
        out = Outcome()
        refs: list[ObjectRef] = []
        owners: dict[str, list[str]] = {}
        for item in items:
            if item.error:
                out.failures[item.id] = item.error
                log("ERROR", "not processed", item=item.id, error=item.error)
                continue
            for skip in item.skipped:
                out.skipped.append(skip)
                log("INFO", "skipped", what=skip.what, reason=skip.reason, item=item.id)
            for event in item.objects:
                reason = self.skip_reason(event)
                if reason:
                    out.skipped.append(Skip(f"s3://{event.bucket}/{event.key}", reason))
                    log("INFO", "skipped", bucket=event.bucket, key=event.key, reason=reason, item=item.id)
                    continue
                ref = ObjectRef(S3Storage(f"s3://{event.bucket}", client=s3_client()), event.key, event.size or None)
                refs.append(ref)
                owners.setdefault(ref.uri, []).append(item.id)
            for batch in item.logs:
                try:
                    stored = self._store_logs(batch, out)
                except Exception as exc:  # the raw write: this item comes back
                    out.failures[item.id] = f"writing {batch.log_group} events to the raw zone: {exc}"
                    continue
                if stored is not None:
                    refs.append(stored)
                    owners.setdefault(stored.uri, []).append(item.id)
        try:
            out.summaries = list(self.lake.pipeline().process_many(refs)) if refs else []
        except Exception as exc:  # the batch's commit itself: every item with objects comes back
            for ids in owners.values():
                for item_id in ids:
                    out.failures.setdefault(item_id, str(exc))
        for summary in out.summaries:
            emit_metrics(summary)
            log("INFO" if summary.status == "ok" else "ERROR", "processed", **summary.to_json())
            if summary.status != "ok":
                for item_id in owners.get(summary.source_uri, []):
                    out.failures.setdefault(item_id, f"{summary.source_uri}: {summary.error}")
        for item_id, error in out.failures.items():
            log("ERROR", "item failed", item=item_id, error=error)
        return out

    def _store_logs(self, batch: LogsBatch, out: Outcome) -> ObjectRef | None:
        """A subscription delivery becomes one raw object (gzip JSON Lines), exactly like the collector's;
        returned for processing when the raw zone is the lake's own (a separate raw bucket's
        notification does it otherwise)."""
        from loglake.aws.collector import raw_target
        from loglake.aws.logs import raw_key, to_raw_object

        raw, prefix = raw_target(self.settings, self.lake.storage)
        data, first = to_raw_object(batch.log_group, batch.log_stream, batch.events, owner=batch.owner)
        key = raw_key(prefix, batch.log_group, batch.log_stream, first, batch.events)
        raw.write_bytes(key, data)
        out.written.append(raw.uri(key))
        log("INFO", "subscription batch written", key=key, events=len(batch.events), log_group=batch.log_group)
        if self.settings.aws.process_subscriptions and raw is self.lake.storage:
            return ObjectRef(raw, key)
        return None

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
