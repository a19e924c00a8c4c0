"""Seeded generator of realistic logs for benchmarks: JSON with nesting and extra fields, plain text formats, ~1% bad lines.

Data is generated here, never in the test suite. The same seed gives the same bytes.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import orjson

LEVELS = ["INFO"] * 70 + ["DEBUG"] * 12 + ["WARN"] * 8 + ["warning"] * 2 + ["ERROR"] * 6 + ["info"] * 2
BAD = [
    b'{"timestamp": "2025-07-21T10:00:00Z", "level": "INFO", "message": "cut',
    b'["an", "array"]',
    b'{"timestamp": "2025-07-21T10:00:00Z", "message": "no level"}',
    b'{"timestamp": "never", "level": "INFO", "message": "bad time"}',
    b'{"level": "LOUD", "message": "bad level"}',
]


def _json_lines(rng: random.Random, n: int) -> list[bytes]:
    out = []
    base = 1_753_084_800_000
    for i in range(n):
        if rng.random() < 0.01:
            out.append(rng.choice(BAD))
            continue
        rec = {
            "timestamp": f"2025-07-{21 + (i % 3):02d}T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
            "level": rng.choice(LEVELS),
            "message": rng.choice(("request served", "cache refreshed", "upstream timeout", "user logged in")),
            "service": rng.choice(("checkout", "search", "auth", "payments")),
            "http": {
                "method": "GET",
                "path": f"/api/items/{rng.randrange(1000)}",
                "status": rng.choice((200, 200, 200, 404, 500)),
                "duration_ms": round(rng.random() * 300, 2),
            },
            "user": {"id": f"u-{rng.randrange(100_000):06d}", "geo": {"country": rng.choice(("DE", "US", "IN", "BR"))}},
            "trace_id": f"{rng.getrandbits(64):016x}",
            "seq": base + i,
        }
        out.append(orjson.dumps(rec))
    return out


def _syslog_lines(rng: random.Random, n: int) -> list[bytes]:
    apps = ("sshd", "cron", "kernel", "systemd", "nginx")
    return [
        f"Jul {21 + i % 3} {(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d} host{rng.randrange(20)} "
        f"{rng.choice(apps)}[{rng.randrange(1, 30000)}]: session {rng.getrandbits(32):08x} opened for user u{rng.randrange(500)}".encode()
        for i in range(n)
    ]


def write(path: Path, kind: str, size_bytes: int, seed: int = 42) -> Path:
    """Append batches until the file reaches `size_bytes`."""
    rng = random.Random(seed)
    make = _json_lines if kind == "jsonl" else _syslog_lines
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "wb") as fh:
        while written < size_bytes:
            chunk = b"\n".join(make(rng, 20_000)) + b"\n"
            fh.write(chunk)
            written += len(chunk)
    return path


def small_objects(folder: Path, count: int, size: int = 10_000, seed: int = 7) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lines = _json_lines(rng, 200)
    for i in range(count):
        data, n = [], 0
        while n < size:
            line = lines[(i + len(data)) % len(lines)]
            data.append(line)
            n += len(line) + 1
        (folder / f"obj-{i:05d}.jsonl").write_bytes(b"\n".join(data) + b"\n")
    return folder


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/data/app.jsonl")
    mb = int(os.environ.get("BENCH_MB", "256"))
    print(write(target, "jsonl", mb * 1024 * 1024))
