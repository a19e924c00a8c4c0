"""CloudWatch Logs subscription payloads: base64 of compressed JSON.

Compression is told by magic bytes: gzip (`1f 8b`, what subscriptions send) or zlib (`78 01`,
`78 5e`, `78 9c`, `78 da`; seen in deliveries with `policyLevel`). Anything else is refused with a
message saying what the bytes were.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from typing import Any

import orjson

from loglake.aws.events import Item, LogsBatch, NotAnEvent, Skip

_ZLIB = {b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"}


def decompress(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:2] in _ZLIB:
        return zlib.decompress(data)
    if data[:1] in (b"{", b"["):
        return data  # uncompressed JSON (a producer that did not compress)
    raise NotAnEvent(f"subscription data is neither gzip nor zlib nor JSON (starts with {data[:4].hex(' ')})")


def payload(data: str | bytes) -> dict[str, Any]:
    """The subscription document from its base64 form."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NotAnEvent(f"subscription data is not base64: {exc}") from exc
    try:
        doc = orjson.loads(decompress(raw))
    except (OSError, EOFError, zlib.error) as exc:
        raise NotAnEvent(f"subscription data is damaged: {exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise NotAnEvent(f"subscription data is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or "messageType" not in doc:
        raise NotAnEvent("subscription data has no messageType")
    return doc  # type: ignore[no-any-return]


def batch(doc: dict[str, Any]) -> LogsBatch | None:
    """A DATA_MESSAGE's events; CONTROL_MESSAGE reachability checks come back as None."""
    if doc.get("messageType") != "DATA_MESSAGE":
        return None
    return LogsBatch(doc.get("owner", ""), doc["logGroup"], doc["logStream"], doc.get("logEvents", []))


def item(item_id: str, data: str | bytes) -> Item:
    """One delivery of subscription data as an `Item`: its events, a skipped control message, or why
    it cannot be read (direct, in an SQS body, or in a Kinesis record alike)."""
    try:
        doc = payload(data)
    except NotAnEvent as exc:
        return Item(item_id, error=str(exc))
    found = batch(doc)
    if found is None:
        return Item(item_id, skipped=[Skip(doc.get("logGroup", ""), str(doc.get("messageType")))])
    return Item(item_id, logs=[found])
