"""Scale of an S3 lake's Iceberg tables, on moto's server on loopback: what each object costs in requests
and commits, objects/s with 1 and 16 concurrent workers, and COUNT(*) as the table grows.

Objects arrive as SQS batches of 50 S3 notifications, handled by the Lambda handler in worker processes
(one batch = one commit). moto answers on this machine, so seconds say more about CPU than about AWS;
the request and commit counts carry over. `BENCH_SCALE_OBJECTS` (default 1000) sets the total.
Writes `bench/scale.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.run import MotoServer

RAW, LAKE, BATCH = "scale-raw", "scale-lake", 50
HERE = Path(__file__).resolve().parent


def _env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "LOGLAKE_LAKE": f"s3://{LAKE}",
    }


def _batch(keys: list[str]) -> dict[str, Any]:
    records = []
    for i, key in enumerate(keys):
        body = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                             "s3": {"bucket": {"name": RAW}, "object": {"key": key, "size": 2048}}}]}  # fmt: skip
        records.append({"messageId": f"{key}-{i}", "body": json.dumps(body), "eventSource": "aws:sqs"})
    return {"Records": records}


class _Failures:
    """The handler's log stream in a worker: keeps why items failed, drops the rest."""

    def __init__(self) -> None:
        self.reasons: dict[str, int] = {}

    def write(self, text: str) -> None:
        if '"item failed"' in text:
            reason = json.loads(text).get("error", "")
            reason = reason.split(": ", 1)[-1][:300]  # without the object's URI: the same cause counts once
            self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def flush(self) -> None:
        pass


def _work(endpoint: str, batches: list[list[str]]) -> tuple[int, dict[str, int]]:
    """One worker process: its batches through the Lambda handler; returns failed messages and why."""
    os.environ.update(_env(endpoint))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "PROCESSED_BUCKET"):
        os.environ.pop(name, None)
    from loglake.aws import handler, runtime

    stream = _Failures()
    runtime.LOG_STREAM = stream
    failed = 0
    for keys in batches:
        failed += len(handler.handler(_batch(keys))["batchItemFailures"])
    return failed, stream.reasons


def _requests(log: Path) -> int:
    return sum(1 for line in log.read_bytes().splitlines() if b'HTTP/1.1" ' in line)


def _count_star(endpoint: str) -> tuple[float, int]:
    """`loglake query 'SELECT count(*)'` as a user runs it: a new process, planning from the table metadata."""
    env = {**os.environ, **_env(endpoint)}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "loglake", "query", "SELECT count(*) AS n FROM processed_logs", "--json", "--no-save"],
        env=env, capture_output=True, check=True, timeout=600,
    )  # fmt: skip
    return time.perf_counter() - started, json.loads(out.stdout)[0]["n"]


def _count_star_best(endpoint: str, objects: int) -> dict[str, Any]:
    """COUNT(*) three times in new processes: the fastest and slowest (this machine's load varies)."""
    runs = [_count_star(endpoint) for _ in range(3)]
    rows = {n for _, n in runs}
    return {"objects": objects, "seconds_min": round(min(s for s, _ in runs), 2),
            "seconds_max": round(max(s for s, _ in runs), 2), "rows": sorted(rows), "expected": objects * 22}  # fmt: skip


def run(total: int) -> dict[str, Any]:
    import boto3

    results: dict[str, Any] = {"objects": total, "batch": BATCH}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "moto.log"
        with MotoServer(log) as endpoint:
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
            s3.create_bucket(Bucket=RAW)
            s3.create_bucket(Bucket=LAKE)
            line = b'{"timestamp": "2025-07-21T10:00:00Z", "level": "INFO", "message": "request served", "n": 1}\n'
            keys = [f"app/{i:06d}.log" for i in range(total)]
            for key in keys:
                s3.put_object(Bucket=RAW, Key=key, Body=line * 22)
            batches = [keys[i : i + BATCH] for i in range(0, total, BATCH)]
            half = len(batches) // 2
            first = min(half, 1000 // BATCH)  # COUNT(*) is measured at 1,000 objects on the way
            phases = ((1, batches[:first]), (1, batches[first:half]), (16, batches[half:]))
            for n, (workers, part) in enumerate(phases):
                before = _requests(log)
                started = time.perf_counter()
                with ProcessPoolExecutor(workers) as pool:
                    chunks = [part[w::workers] for w in range(workers)]
                    outcomes = list(pool.map(_work, [endpoint] * workers, chunks))
                failed = sum(n for n, _ in outcomes)
                for _, reasons in outcomes:
                    for reason, count in reasons.items():
                        why = results.setdefault("failure_reasons", {})
                        why[reason] = why.get(reason, 0) + count
                seconds = time.perf_counter() - started
                objects = sum(len(b) for b in part)
                key = f"workers_{workers}"
                prev = results.get(key, {"objects": 0, "seconds": 0.0, "requests": 0, "failed_messages": 0})
                merged = {
                    "objects": prev["objects"] + objects,
                    "seconds": prev["seconds"] + seconds,
                    "requests": prev["requests"] + _requests(log) - before,
                    "failed_messages": prev["failed_messages"] + failed,
                }
                results[key] = merged
                if n == 0:
                    results["count_star_at_1000"] = _count_star_best(endpoint, first * BATCH)
            for key in ("workers_1", "workers_16"):
                r = results[key]
                r["objects_per_s"] = round(r["objects"] / r["seconds"], 1)
                r["requests_per_object"] = round(r["requests"] / r["objects"], 1)
                r["seconds"] = round(r["seconds"], 1)
            # every commit of a table writes one new metadata file (snapshot trims included)
            commits = sum(
                1
                for line in log.read_bytes().splitlines()
                if f"PUT /{LAKE}/processed/metadata/".encode() in line and b".metadata.json" in line
            )
            results["processed_table_commits_per_1000_objects"] = round(commits * 1000 / total, 1)
            results["count_star"] = _count_star_best(endpoint, total)
            # One more batch of 50 new objects into the grown tables: what a commit costs at this size.
            extra = [f"extra/{i:06d}.log" for i in range(BATCH)]
            for key in extra:
                s3.put_object(Bucket=RAW, Key=key, Body=line * 22)
            before = _requests(log)
            with ProcessPoolExecutor(1) as pool:
                pool.submit(_work, endpoint, [extra[:1]]).result()  # warm the process (imports, clients)
                before = _requests(log)
                started = time.perf_counter()
                pool.submit(_work, endpoint, [extra[1:]]).result()
                results["one_batch_at_end"] = {
                    "objects": BATCH - 1,
                    "seconds": round(time.perf_counter() - started, 2),
                    "requests": _requests(log) - before,
                }
    return results


def main() -> None:
    total = int(os.environ.get("BENCH_SCALE_OBJECTS", "1000"))
    results = run(total)
    print(json.dumps(results, indent=2))
    (HERE / "scale.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
