"""Pull CloudWatch Logs into the raw zone: incremental, resumable, no gaps and no duplicates.

Per log stream, events are read with FilterLogEvents (it returns event ids) in windows that end
before `now - 0` and are exclusive at the end, so same-millisecond events at an edge are taken by
exactly one run. Each run re-reads the last `lag` seconds and drops the ids it already has, which
picks up events that arrived late. Before an object is written its key is recorded as `pending`
in the checkpoint; an interrupted run's next run writes its first object under that same key, so
a half-finished object is replaced, never duplicated.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from loglake.aws.logs import raw_key, to_raw_object
from loglake.config import parse_duration
from loglake.errors import ConfigError, ObjectError, Transient
from loglake.storage import Storage

CHECKPOINTS = "checkpoints/cloudwatch"
RETRYABLE = ("ThrottlingException", "ServiceUnavailableException", "LimitExceededException", "RequestLimitExceeded")
_SAFE = re.compile(r"[^A-Za-z0-9._=-]+")


@dataclass
class CollectOptions:
    log_groups: list[str]
    stream_prefix: str | None = None
    since_ms: int = 0
    until_ms: int | None = None
    lag_seconds: float = 120.0
    """Events ingested up to this long after their timestamp are still picked up by the next run."""
    max_rps: float = 5.0
    """Request rate towards the Logs API (DescribeLogStreams allows ~5/s)."""
    events_per_object: int = 10_000
    page_limit: int = 10_000
    exclude_groups: tuple[str, ...] = ()


@dataclass
class CollectStats:
    events: int = 0
    objects: list[str] = field(default_factory=list)
    streams: int = 0
    skipped_groups: list[str] = field(default_factory=list)
    duplicates_dropped: int = 0
    throttled: int = 0


def parse_when(value: str | None, now: datetime | None = None) -> int | None:
    """`2h`, `30m`, `1d` (ago) or an ISO-8601 time → epoch milliseconds."""
    if value is None:
        return None
    now = now or datetime.now(UTC)
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?\s*[smhdw]", text):
        return int((now - parse_duration(text, "--since")).timestamp() * 1000)
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"`{value}` is not a time", hint="use e.g. 2h, 30m, 1d or 2025-07-21T10:00:00Z") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp() * 1000)


class _RateLimiter:
    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self.next:
            time.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class Collector:
    def __init__(
        self,
        logs: Any,
        raw: Storage,
        raw_prefix: str,
        checkpoints: Storage,
        options: CollectOptions,
        progress: Callable[[str, int], None] = lambda stream, n: None,
    ) -> None:
        self.logs, self.raw, self.raw_prefix, self.ckpt = logs, raw, raw_prefix, checkpoints
        self.opts = options
        self.progress = progress
        self.limiter = _RateLimiter(options.max_rps)
        self.stats = CollectStats()

    # -- API calls, rate-limited, with our own backoff beyond botocore's retries ----------------
    def _call(self, name: str, **kwargs: Any) -> Any:
        for attempt in range(8):
            self.limiter.wait()
            try:
                return getattr(self.logs, name)(**kwargs)
            except Exception as exc:
                code = _code(exc)
                group = kwargs.get("logGroupName", "")
                if code == "ResourceNotFoundException":
                    hint = "check the name and the region"
                    raise ConfigError(f"log group `{group}` does not exist", hint=hint) from exc
                if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
                    hint = "allow logs:FilterLogEvents and logs:DescribeLogStreams on it"
                    raise ObjectError(f"log group {group}", f"access denied ({code})", hint=hint) from exc
                if code in RETRYABLE or code.startswith("5"):
                    self.stats.throttled += 1
                    time.sleep(min(0.2 * 2**attempt, 10.0))
                    continue
                raise
        raise Transient(f"CloudWatch Logs kept throttling {name}; try a lower --max-rps")

    def _streams(self, group: str) -> list[str]:
        names: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": group}
        if self.opts.stream_prefix:
            kwargs["logStreamNamePrefix"] = self.opts.stream_prefix
        while True:
            page = self._call("describe_log_streams", **kwargs)
            names.extend(s["logStreamName"] for s in page.get("logStreams", []))
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                return names
            kwargs["nextToken"] = token

    # -- checkpoints -----------------------------------------------------------------------------
    def _ckpt_key(self, group: str) -> str:
        return f"{CHECKPOINTS}/{_SAFE.sub('_', group.strip('/')) or 'group'}.json"

    def _load(self, group: str) -> dict[str, Any]:
        from loglake.errors import ObjectNotFound

        try:
            return orjson.loads(self.ckpt.read_bytes(self._ckpt_key(group)))  # type: ignore[no-any-return]
        except ObjectNotFound:
            return {"log_group": group, "streams": {}}

    def _save_stream(self, group: str, stream: str, state: dict[str, Any]) -> None:
        def change(current: bytes | None) -> bytes:
            doc: dict[str, Any] = orjson.loads(current) if current else {"log_group": group, "streams": {}}
            doc["streams"][stream] = state
            doc["updated"] = datetime.now(UTC).isoformat()
            return orjson.dumps(doc, option=orjson.OPT_INDENT_2)

        self.ckpt.update(self._ckpt_key(group), change)

    # -- the work --------------------------------------------------------------------------------
    def run(self, now_ms: int | None = None) -> CollectStats:
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        end = min(self.opts.until_ms or now_ms, now_ms)
        own = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        for group in self.opts.log_groups:
            if group == own or group in self.opts.exclude_groups:
                self.stats.skipped_groups.append(group)  # loop guard: never collect our own logs
                continue
            doc = self._load(group)
            for stream in self._streams(group):
                self.stats.streams += 1
                self._stream(group, stream, doc["streams"].get(stream), end)
        return self.stats

    def _stream(self, group: str, stream: str, state: dict[str, Any] | None, end: int) -> None:
        lag = int(self.opts.lag_seconds * 1000)
        # committed: what the checkpoint says is safely in the raw zone
        position = state["end"] if state else self.opts.since_ms
        ids: dict[str, int] = {i: position for i in (state or {}).get("recent_ids", [])}
        pending: str | None = (state or {}).get("pending")
        start = max(self.opts.since_ms, position - lag) if state else self.opts.since_ms
        if start >= end:
            return
        buffer: list[dict[str, Any]] = []
        seen: dict[str, int] = dict(ids)  # committed ids plus those buffered in this run

        def commit(final: bool) -> None:
            nonlocal pending, buffer, position, ids
            if buffer:
                buffer.sort(key=lambda e: (e["timestamp"], e["eventId"]))
                key = pending or raw_key(self.raw_prefix, group, stream, buffer[0]["eventId"], buffer)
                # 1. journal the key: a crash from here on makes the next run rewrite this same object
                self._save_stream(group, stream, {"end": position, "recent_ids": sorted(ids), "pending": key})
                data, _ = to_raw_object(group, stream, buffer)
                self.raw.write_bytes(key, data)
                self.stats.objects.append(key)
                self.stats.events += len(buffer)
                self.progress(stream, len(buffer))
                for event in buffer:
                    ids[event["eventId"]] = event["timestamp"]
                new_position = end if final else buffer[-1]["timestamp"]
                pending, buffer = None, []
            elif final:
                new_position = end
            else:
                return
            # 2. advance: keep the ids the next run's overlap (`lag`) will see again
            ids = {i: t for i, t in ids.items() if t >= new_position - lag}
            position = new_position
            self._save_stream(group, stream, {"end": position, "recent_ids": sorted(ids), "pending": None})

        kwargs: dict[str, Any] = {
            "logGroupName": group,
            "logStreamNames": [stream],
            "startTime": start,
            "endTime": end - 1,  # inclusive in the API: the window is [start, end)
            "limit": self.opts.page_limit,
        }
        while True:
            page = self._call("filter_log_events", **kwargs)
            for event in page.get("events", []):
                event_id, ts = event["eventId"], event["timestamp"]
                if ts >= end or ts < start:
                    continue
                if event_id in seen:
                    self.stats.duplicates_dropped += 1
                    continue
                seen[event_id] = ts
                buffer.append(event)
            if len(buffer) >= self.opts.events_per_object:
                commit(final=False)
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):  # no token (or the same one back): the end
                break
            kwargs["nextToken"] = token
        commit(final=True)


def raw_target(settings: Any, lake: Storage) -> tuple[Storage, str]:
    """Where collected objects go: the raw bucket on AWS (`RAW_BUCKET`), else the lake's raw/ zone."""
    bucket = os.environ.get("RAW_BUCKET")
    if bucket:
        from loglake.storage.s3 import S3Storage

        return S3Storage(f"s3://{bucket}"), ""
    return lake, "raw/"
