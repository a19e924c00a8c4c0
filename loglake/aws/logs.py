"""CloudWatch Logs events → raw records, shared by the subscription handler and the collector."""

from __future__ import annotations

import functools
import gzip
import re
from datetime import UTC, datetime
from typing import Any

import orjson

_SAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def to_record(log_group: str, log_stream: str, event: dict[str, Any], owner: str = "") -> dict[str, Any]:
    """A message that is itself a JSON object is kept as an object, so the pipeline flattens it."""
    ts = (
        datetime.fromtimestamp(event["timestamp"] / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    record: dict[str, Any] = {
        "log_group": log_group,
        "log_stream": log_stream,
        "event_id": event.get("id") or event.get("eventId"),
        "timestamp": ts,
    }
    if "ingestionTime" in event:
        record["ingestion_time"] = event["ingestionTime"]
    if owner:
        record["owner"] = owner
    message = event.get("message", "")
    parsed: Any = None
    if message.lstrip().startswith("{"):
        try:
            parsed = orjson.loads(message)
        except orjson.JSONDecodeError:
            parsed = None
    if type(parsed) is dict:
        # The application's own fields (its `timestamp` included) win over CloudWatch's.
        record.update({k: v for k, v in parsed.items() if k not in ("log_group", "log_stream", "event_id")})
        record.setdefault("message", message)
    else:
        record.update(_plain(message, lambda_group=log_group.startswith("/aws/lambda/")))
    return record


def _plain(message: str, lambda_group: bool = False) -> dict[str, Any]:
    """Plain text goes through format detection: `2025-… ERROR boom` gives a level and a message. A
    Lambda function's group is read as Lambda's own lines first (START/END/REPORT, the runtimes')."""
    line = message.rstrip("\n").encode()
    registry = _registry()
    fmt = registry.by_name["lambda"]
    outcome = fmt.parse_line(line) if lambda_group else None
    if type(outcome) is not dict:
        fmt = registry.detect([line])
        if fmt.name in ("jsonl", "json_document"):
            return {"message": message.rstrip("\n")}
        outcome = fmt.parse_line(line)
        if type(outcome) is not dict:
            return {"message": message.rstrip("\n")}
    fields = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in outcome.items() if k != "timestamp"}
    fields["message_format"] = fmt.name
    return fields


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    from loglake.config import FormatsConfig
    from loglake.formats import FormatRegistry

    return FormatRegistry(FormatsConfig())


def to_raw_object(log_group: str, log_stream: str, events: list[dict[str, Any]], owner: str = "") -> tuple[bytes, str]:
    lines = b"".join(orjson.dumps(to_record(log_group, log_stream, e, owner)) + b"\n" for e in events)
    first = str(events[0].get("id") or events[0].get("eventId") or "empty") if events else "empty"
    return gzip.compress(lines, mtime=0), first


def raw_key(prefix: str, log_group: str, log_stream: str, first_id: str, events: list[dict[str, Any]]) -> str:
    """`raw/cloudwatch/<group>/dt=YYYY-MM-DD/<stream>-<first event id>.jsonl.gz`: names are stable per batch."""
    day = datetime.fromtimestamp(events[0]["timestamp"] / 1000, UTC).date().isoformat() if events else "unknown"
    group = _SAFE.sub("_", log_group.strip("/")) or "group"
    stream = _SAFE.sub("_", log_stream)[:100] or "stream"
    base = prefix.strip("/") + "/" if prefix.strip("/") else ""
    return f"{base}cloudwatch/{group}/dt={day}/{stream}-{first_id}.jsonl.gz"
