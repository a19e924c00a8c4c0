"""Realistic sample logs: mixed levels, nested fields, and a few invalid lines of every kind."""

from __future__ import annotations

import gzip
import os
import random
from datetime import UTC, datetime, timedelta

import orjson

SERVICES = ("checkout", "payments", "search", "auth", "inventory")
PATHS = ("/api/cart", "/api/pay", "/api/search", "/login", "/api/items/{id}", "/health")
LEVELS = (
    ("INFO", 70),
    ("info", 5),
    ("DEBUG", 10),
    ("WARN", 6),
    ("warning", 2),
    ("ERROR", 5),
    ("CRITICAL", 1),
    ("FATAL", 1),
)
MESSAGES = {
    "INFO": ("request served", "user logged in", "cache refreshed", "order placed"),
    "DEBUG": ("cache lookup", "query plan chosen", "retrying connection"),
    "WARN": ("slow response", "retry budget low", "deprecated endpoint called"),
    "ERROR": ("upstream timeout", "payment declined by processor", "database deadlock"),
    "CRITICAL": ("disk almost full",),
    "FATAL": ("out of memory, shutting down",),
}

BAD_LINES: list[bytes] = [
    b'{"timestamp": "2025-07-21T10:00:00Z", "level": "INFO", "message": "truncated',  # invalid_json
    b'["not", "an", "object"]',  # not_an_object
    b'{"timestamp": "2025-07-21T10:00:00Z", "message": "no level here"}',  # missing_field:level
    b'{"timestamp": "2025-07-21T10:00:00Z", "level": "ERROR", "message": ""}',  # empty_field:message
    b'{"timestamp": "2025-07-21T10:00:00Z", "level": "LOUD", "message": "unknown level"}',  # not_allowed:level
    b'{"timestamp": "yesterday-ish", "level": "INFO", "message": "bad time"}',  # bad_timestamp
    b'{"timestamp": "2025-07-21T10:00:00Z", "level": "INFO", "message": "caf\xe9 latin-1"}',  # invalid_utf8
    b'{"level": "INFO", "message": "nul\x00byte"}',  # nul_byte
]


def _record(rng: random.Random, ts: datetime) -> dict[str, object]:
    level = rng.choices([lv for lv, _ in LEVELS], weights=[w for _, w in LEVELS])[0]
    canon = {"info": "INFO", "warning": "WARN"}.get(level, level)
    status = 200 if canon in ("INFO", "DEBUG") else rng.choice((429, 500, 502, 503, 504, 400))
    rec: dict[str, object] = {
        "timestamp": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "message": rng.choice(MESSAGES[canon]),
        "service": rng.choice(SERVICES),
        "http": {
            "method": rng.choice(("GET", "POST", "PUT")),
            "path": rng.choice(PATHS),
            "status": status,
            "duration_ms": round(rng.lognormvariate(3.5, 0.8), 2),
        },
        "user": {
            "id": f"u-{rng.randrange(10_000):05d}",
            "geo": {"country": rng.choice(("DE", "US", "IN", "BR", "JP"))},
        },
        "trace_id": f"{rng.getrandbits(64):016x}",
    }
    if rng.random() < 0.1:
        rec["tags"] = rng.sample(("beta", "mobile", "canary", "eu"), 2)
    if rng.random() < 0.05:
        rec["Service"] = "legacy-name"  # case-colliding key: becomes column service_2
    return rec


def generate(folder: str, lines: int = 3000, seed: int = 7, start: datetime | None = None) -> list[str]:
    """Write sample objects into `folder`; the same seed gives byte-identical files."""
    rng = random.Random(seed)
    start = start or datetime(2025, 7, 21, 9, 0, tzinfo=UTC)
    os.makedirs(folder, exist_ok=True)
    plan = [("app-checkout.log", "lf"), ("app-payments.log", "crlf-bom"), ("app-search.log.gz", "gzip")]
    per_file = max(1, lines // len(plan))
    step = timedelta(seconds=172_800 / max(1, lines))  # spread over two days → two partitions
    paths = []
    ts = start
    for index, (name, style) in enumerate(plan):
        out: list[bytes] = []
        bad = list(BAD_LINES)
        rng.shuffle(bad)
        for n in range(per_file):
            ts += step
            if n % max(1, per_file // (len(bad) + 1)) == 0 and bad and n:
                out.append(bad.pop())
            elif n % 97 == 50:
                out.append(b"")
            else:
                out.append(orjson.dumps(_record(rng, ts)))
        newline = b"\r\n" if style.startswith("crlf") else b"\n"
        data = newline.join(out) + newline
        if style.endswith("bom"):
            data = b"\xef\xbb\xbf" + data
        if style == "gzip":
            data = gzip.compress(data, mtime=0)
        path = os.path.join(folder, name)
        with open(path, "wb") as fh:
            fh.write(data)
        paths.append(path)
        del index
    return paths
