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


BAD_TEXT = [b"\x00\x00 binary junk", b"truncated line without fields", "caf\xe9 lat\xedn-1".encode("latin-1"), b""]


def _access_lines(rng: random.Random, n: int) -> list[bytes]:
    """Combined log format, ~1% malformed, non-UTF-8 or blank lines."""
    paths = ("/", "/api/orders", "/static/app.js", "/login", "/health")
    agents = ("curl/8.0", "Mozilla/5.0 (X11; Linux x86_64)", "kube-probe/1.29", "Go-http-client/1.1")
    out = []
    for i in range(n):
        if rng.random() < 0.01:
            out.append(rng.choice(BAD_TEXT))
            continue
        status = rng.choice((200, 200, 200, 200, 201, 304, 404, 500))
        out.append(
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)} - - "
            f"[{21 + i % 3:02d}/Jul/2025:{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d} +0000] "
            f'"{rng.choice(("GET", "POST"))} {rng.choice(paths)}?q={rng.getrandbits(24):x} HTTP/1.1" {status} '
            f'{rng.randrange(50_000)} "-" "{rng.choice(agents)}"'.encode()
        )
    return out


def _log4j_lines(rng: random.Random, n: int) -> list[bytes]:
    """log4j layout with a stack trace every ~200 records (continuation lines join the record above)."""
    out = []
    for i in range(n):
        level = rng.choice(("INFO", "INFO", "INFO", "WARN", "DEBUG", "ERROR"))
        stamp = f"2025-07-{21 + i % 3} {(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d},{i % 1000:03d}"
        out.append(
            f"{stamp} {level} [worker-{rng.randrange(8)}] org.app.Service - handled {rng.getrandbits(32):x}".encode()
        )
        if rng.random() < 0.005:
            out += [b"java.lang.IllegalStateException: boom", b"\tat org.app.Service.run(Service.java:42)"]
    return out


GENERATORS = {"jsonl": _json_lines, "syslog": _syslog_lines, "access": _access_lines, "log4j": _log4j_lines}


def write(path: Path, kind: str, size_bytes: int, seed: int = 42) -> Path:
    """Append batches until the file reaches `size_bytes`."""
    rng = random.Random(seed)
    make = GENERATORS[kind]
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
