"""An SQS batch of S3 notifications becomes one commit: small objects share files and one transaction."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import boto3
import orjson
import pytest

from loglake.aws import handler as handler_mod
from loglake.config import Settings
from loglake.lake import Lake
from tests.conftest import jl, rec

RAW, LAKE = "raw-bucket", "lake-bucket"


def _record(message_id: str, key: str, size: int) -> dict[str, object]:
    body = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": RAW}, "object": {"key": key, "size": size}},
            }
        ]
    }
    return {"messageId": message_id, "body": orjson.dumps(body).decode(), "eventSource": "aws:sqs"}


def test_a_batch_of_fifty_objects_is_one_snapshot_per_table_and_a_bad_one_comes_back_alone(aws, monkeypatch) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=RAW)
    s3.create_bucket(Bucket=LAKE)
    monkeypatch.setenv("LOGLAKE_LAKE", f"s3://{LAKE}")
    records = []
    for i in range(50):
        body = jl(rec(n=i), b"not json") if i != 7 else bytes(range(256)) * 64  # one binary object
        s3.put_object(Bucket=RAW, Key=f"app/{i:02d}.log", Body=body)
        records.append(_record(f"m{i}", f"app/{i:02d}.log", len(body)))
    result = handler_mod.handler({"Records": records})
    assert result["batchItemFailures"] == [{"itemIdentifier": "m7"}]
    assert (result["processed"], result["failed"]) == (49, 1)
    lake = Lake.open(Settings(lake=f"s3://{LAKE}"))
    for zone in ("processed", "errors"):
        table = lake.tables.load(zone, refresh=True)
        assert len(table.metadata.snapshots) == 1, zone  # 49 objects, one commit
        assert int(table.current_snapshot().summary["total-records"]) == 49


def _worker(batches: list[list[tuple[str, str, int]]]) -> list[object]:
    """One Lambda execution environment: its own process and runtime, several SQS batches in turn."""
    from loglake.aws import handler as fresh

    failures: list[object] = []
    for batch in batches:
        records = [_record(mid, key, size) for mid, key, size in batch]
        failures += fresh.handler({"Records": records})["batchItemFailures"]
    return failures


@pytest.mark.slow
def test_sixteen_concurrent_workers_on_a_fresh_stack_keep_every_row_once(aws, monkeypatch) -> None:
    """16 execution environments start on a stack with no tables yet, each handling one batch, and
    one object is delivered to every worker at the same moment (SQS delivers at least once): 16
    commits race for each table from the start. No message fails and every object's rows are there
    exactly once. (Two batches each took 5 minutes of a 2-core machine and showed nothing more.)"""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=RAW)
    s3.create_bucket(Bucket=LAKE)
    monkeypatch.setenv("LOGLAKE_LAKE", f"s3://{LAKE}")
    body = {}
    for key in [f"w{w}/{i}.log" for w in range(16) for i in range(3)] + ["dup.log"]:
        body[key] = jl(*(rec(n=n, message=f"{key} {n}") for n in range(3)), b"not json")
        s3.put_object(Bucket=RAW, Key=key, Body=body[key])

    def batch(w: int) -> list[tuple[str, str, int]]:
        keys = [f"w{w}/{i}.log" for i in range(3)] + ["dup.log"]
        return [(f"{key}#{w}", key, len(body[key])) for key in keys]

    work = [[batch(w)] for w in range(16)]
    with ProcessPoolExecutor(16, mp_context=multiprocessing.get_context("spawn")) as pool:
        failures = [f for fs in pool.map(_worker, work) for f in fs]
    assert failures == []
    lake = Lake.open(Settings(lake=f"s3://{LAKE}"))
    for zone, per_object in (("processed", 3), ("errors", 1)):
        table = lake.tables.load(zone, refresh=True)
        uris = table.scan(selected_fields=("source_uri",)).to_arrow().column("source_uri").to_pylist()
        assert Counter(uris) == {f"s3://{RAW}/{key}": per_object for key in body}, zone
