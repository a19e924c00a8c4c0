"""The CloudWatch Logs collector against moto's server: every event in the raw zone exactly once, by event id."""

from __future__ import annotations

import gzip
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from loglake.aws.collector import CollectOptions, Collector
from loglake.config import Settings
from loglake.errors import ConfigError
from loglake.lake import Lake
from loglake.storage import LocalStorage

GROUP = "/app/checkout"
STREAMS = ("web-1", "web-2", "worker-1")


def logs_client(**config: Any) -> Any:
    return boto3.client("logs", config=Config(retries={"mode": "standard", "max_attempts": 2}, **config))


def put(logs: Any, stream: str, messages: list[str], base_ms: int) -> None:
    """Batches of ≤10,000 events, several sharing a millisecond (window edges)."""
    events = [{"timestamp": base_ms + i // 3, "message": m} for i, m in enumerate(messages)]
    for i in range(0, len(events), 10_000):
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events[i : i + 10_000])


def all_event_ids(logs: Any) -> set[str]:
    ids: set[str] = set()
    for stream in STREAMS:
        kwargs: dict[str, Any] = {"logGroupName": GROUP, "logStreamNames": [stream]}
        while True:
            page = logs.filter_log_events(**kwargs)
            ids.update(e["eventId"] for e in page["events"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return ids


def raw_event_ids(root: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in (root / "raw" / "cloudwatch").rglob("*.jsonl.gz"):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            found[orjson.loads(line)["event_id"]] += 1
    return found


@pytest.fixture
def setup(aws, tmp_path) -> tuple[Any, LocalStorage, Path, int]:
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    for stream in STREAMS:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    base = int(time.time() * 1000) - 3_600_000
    json_msgs = [
        orjson.dumps({"level": "info", "message": f"req {i}", "http": {"status": 200}}).decode() for i in range(10_500)
    ]
    put(logs, "web-1", json_msgs, base)
    put(logs, "web-2", [f"2025-07-21T10:00:00Z WARN plain message {i}" for i in range(10_200)], base)
    put(logs, "worker-1", ["job done"] * 50, base)
    lake_root = tmp_path / "lake"
    return logs, LocalStorage(str(lake_root)), lake_root, base


def collector(storage: LocalStorage, since: int, client: Any = None, **opts: Any) -> Collector:
    options = CollectOptions(
        log_groups=[GROUP], since_ms=since, max_rps=0, page_limit=1000, events_per_object=2500, **opts
    )
    return Collector(client or logs_client(), storage, "raw/", storage, options)


@pytest.mark.slow
def test_many_pages_interrupted_rerun_new_events_and_nothing_new(setup) -> None:
    logs, storage, root, base = setup
    expected = all_event_ids(logs)
    assert len(expected) == 10_500 + 10_200 + 50

    # 1. a run interrupted after some pages: the Logs API fails for good on the 7th call
    broken = logs_client()
    calls = {"n": 0}

    def cut(request: Any, **_: Any) -> None:
        calls["n"] += 1
        if calls["n"] >= 7:
            raise ConnectionError("network cut")

    broken.meta.events.register("before-send.cloudwatch-logs.FilterLogEvents", cut)
    with pytest.raises(ConnectionError):
        collector(storage, base - 1000, broken).run()
    partial = raw_event_ids(root)
    assert 0 < sum(partial.values()) < len(expected) and max(partial.values()) == 1

    # 2. the re-run completes: every event exactly once
    stats = collector(storage, base - 1000).run()
    assert stats.events == len(expected) - sum(partial.values())
    found = raw_event_ids(root)
    assert set(found) == expected and max(found.values()) == 1

    # 3. new events arrive (one of them late, stamped inside the previous window)
    put(logs, "web-1", ["late " + str(i) for i in range(5)], int(time.time() * 1000) - 30_000)
    put(logs, "worker-1", ["new one"], int(time.time() * 1000) - 1000)
    time.sleep(0.01)
    collector(storage, base - 1000).run()
    expected = all_event_ids(logs)
    found = raw_event_ids(root)
    assert set(found) == expected and max(found.values()) == 1

    # 4. nothing new: nothing added
    before = sorted(p.name for p in (root / "raw").rglob("*.gz"))
    stats = collector(storage, base - 1000).run()
    assert stats.events == 0 and stats.objects == []
    assert sorted(p.name for p in (root / "raw").rglob("*.gz")) == before


@pytest.mark.slow
def test_crash_between_object_and_checkpoint_rewrites_the_same_object(setup, monkeypatch) -> None:
    logs, storage, root, base = setup
    real_save = Collector._save_stream
    saves = {"n": 0}

    def crash_after_first_object(self, group, stream, state):
        real_save(self, group, stream, state)
        if state.get("pending") is None:
            saves["n"] += 1
            if saves["n"] == 2:  # the second object is written but its checkpoint never advances
                raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(Collector, "_save_stream", crash_after_first_object)
    with pytest.raises(KeyboardInterrupt):
        collector(storage, base - 1000).run()
    monkeypatch.setattr(Collector, "_save_stream", real_save)
    collector(storage, base - 1000).run()
    found = raw_event_ids(root)
    assert set(found) == all_event_ids(logs) and max(found.values()) == 1


@pytest.mark.slow
def test_throttling_is_retried_with_backoff(setup) -> None:
    logs, storage, root, base = setup
    client = logs_client()
    calls = {"n": 0, "throttled": 0}

    class Body:
        def stream(self, **_: Any):
            yield b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        calls["n"] += 1
        if calls["n"] % 7 in (0, 1, 2):  # three in a row outlast botocore's retries, so the collector backs off too
            calls["throttled"] += 1
            headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/x-amz-json-1.1"}
            return AWSResponse(request.url, 400, headers, Body())
        return None

    client.meta.events.register("before-send.cloudwatch-logs", throttle)
    stats = collector(storage, base - 1000, client).run()
    assert calls["throttled"] >= 5  # the faults really happened…
    assert stats.throttled >= 1  # …some even past botocore's retries, and the collector backed off itself
    found = raw_event_ids(root)
    assert set(found) == all_event_ids(logs) and max(found.values()) == 1


def test_records_keep_json_as_objects_and_parse_plain_text(setup) -> None:
    _logs, storage, root, base = setup
    collector(storage, base - 1000).run()
    lake = Lake.open(Settings(lake=str(root)))
    from loglake.sources import ObjectRef

    pipeline = lake.pipeline()
    summaries = [pipeline.process(ObjectRef(storage, i.key)) for i in storage.list("raw/cloudwatch/")]
    assert sum(s.processed for s in summaries) == 10_500 + 10_200
    assert sum(s.errors for s in summaries) == 50  # "job done": no level, as the default rule wants
    from loglake.query.duckdb_engine import DuckDBEngine

    engine = DuckDBEngine(lake.storage, lake.tables)
    rows = engine.run("SELECT log_stream, level, count(*) AS n, count(DISTINCT event_id) AS ids, max(http_status) AS s "
                      "FROM processed_logs GROUP BY 1, 2 ORDER BY 1", save=False).rows  # fmt: skip
    assert rows == [
        {"log_stream": "web-1", "level": "INFO", "n": 10_500, "ids": 10_500, "s": 200},
        {"log_stream": "web-2", "level": "WARN", "n": 10_200, "ids": 10_200, "s": None},
    ]
    one = engine.run("SELECT * FROM processed_logs WHERE log_stream = 'web-1' LIMIT 1", save=False).rows[0]
    assert one["log_group"] == GROUP and one["ingestion_time"] > 0 and one["event_id"]


def test_missing_log_group_is_a_clear_error(aws, tmp_path) -> None:
    storage = LocalStorage(str(tmp_path / "lake"))
    with pytest.raises(ConfigError, match="log group `/nope` does not exist"):
        Collector(logs_client(), storage, "raw/", storage, CollectOptions(log_groups=["/nope"], max_rps=0)).run()


def test_own_log_group_is_never_collected(setup, monkeypatch) -> None:
    _logs, storage, _root, base = setup
    monkeypatch.setenv("AWS_LAMBDA_LOG_GROUP_NAME", GROUP)
    stats = collector(storage, base - 1000).run()
    assert stats.skipped_groups == [GROUP] and stats.events == 0


def test_collect_cli_with_process(setup, tmp_path) -> None:
    from click.testing import CliRunner

    from loglake.cli import main

    _logs, _storage, root, _base = setup
    result = CliRunner().invoke(
        main,
        ["--lake", str(root), "collect", "--log-group", GROUP, "--stream-prefix", "worker", "--since", "2h",
         "--max-rps", "0", "--process", "--json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["events"] == 50 and doc["streams"] == 1 and doc["processed"]["lines"] == 50


def test_scheduled_lambda_collects_into_the_raw_bucket_with_checkpoints_in_the_lake(setup, monkeypatch) -> None:
    from loglake.aws import handler as handler_mod

    _logs, _storage, _root, _base = setup
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="raw-b")
    s3.create_bucket(Bucket="lake-b")
    s3.put_object(Bucket="lake-b", Key="loglake.toml", Body=b'[aws]\ncollect_since = "2h"\n')
    monkeypatch.setenv("LOGLAKE_LAKE", "s3://lake-b")
    monkeypatch.setenv("RAW_BUCKET", "raw-b")
    monkeypatch.setenv("LOGLAKE_COLLECT_LOG_GROUPS", f"{GROUP}, /aws/lambda/loglake-processor")
    monkeypatch.setenv("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/loglake-processor")
    handler_mod.reset()
    event = orjson.loads((Path(__file__).resolve().parents[1] / "events" / "eventbridge-scheduled.json").read_bytes())
    first = handler_mod.handler(event, None)
    assert first["events"] == 10_500 + 10_200 + 50
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="raw-b")
        for o in page.get("Contents", [])
    ]
    assert keys and all(k.startswith("cloudwatch/app_checkout/dt=") and k.endswith(".jsonl.gz") for k in keys)
    checkpoints = s3.list_objects_v2(Bucket="lake-b", Prefix="checkpoints/cloudwatch/")["Contents"]
    assert [c["Key"] for c in checkpoints] == ["checkpoints/cloudwatch/app_checkout.json"]
    assert handler_mod.handler(event, None)["events"] == 0  # the next tick has nothing new


def test_subscription_into_a_separate_raw_bucket_is_left_to_the_notification(aws, monkeypatch) -> None:
    from loglake.aws import handler as handler_mod

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="raw-b")
    s3.create_bucket(Bucket="lake-b")
    monkeypatch.setenv("LOGLAKE_LAKE", "s3://lake-b")
    monkeypatch.setenv("RAW_BUCKET", "raw-b")
    handler_mod.reset()
    event = orjson.loads(
        (Path(__file__).resolve().parents[1] / "events" / "cloudwatch-logs-subscription.json").read_bytes()
    )
    [written] = handler_mod.handler(event, None)["written"]
    assert written.startswith("s3://raw-b/cloudwatch/aws_lambda_checkout/")
    key = written.removeprefix("s3://raw-b/")
    assert s3.head_object(Bucket="raw-b", Key=key)["ContentLength"] > 0
    assert "Contents" not in s3.list_objects_v2(Bucket="lake-b", Prefix="processed/")
    # …and the record shape is the collector's: same fields for the same event
    from loglake.aws.logs import to_record

    line = orjson.loads(gzip.decompress(s3.get_object(Bucket="raw-b", Key=key)["Body"].read()).splitlines()[0])
    assert set(line) >= {"log_group", "log_stream", "event_id", "timestamp", "message"}
    assert set(to_record("/g", "s", {"id": "1", "timestamp": 0, "message": "x"})) >= {
        "log_group",
        "log_stream",
        "event_id",
        "timestamp",
    }
