"""Raw bucket → S3 notification → SQS → worker → processed bucket → Glue → DuckDB over S3."""

from __future__ import annotations

import time

import boto3
import orjson
import pytest

from loglake.aws.runtime import Runtime
from loglake.aws.worker import run_worker
from loglake.config import load_settings
from loglake.lake import Lake
from loglake.query.duckdb_engine import DuckDBEngine
from tests.conftest import jl, rec

RAW, LAKE = "loglake-raw", "loglake-processed"
KEYS = ["app one.log", "team+a/b%20c.log", "ünïcödé/日志.log"]


def setup_pipeline(max_receive: int = 2) -> tuple[str, str]:
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    s3.create_bucket(Bucket=RAW)
    s3.create_bucket(Bucket=LAKE)
    dlq = sqs.create_queue(QueueName="loglake-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="loglake-events",
        Attributes={
            "RedrivePolicy": orjson.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}).decode()
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=RAW,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".log"}]}},
                }
            ]
        },
    )
    return queue, dlq


def drain(queue: str, runtime: Runtime, **kw) -> object:
    return run_worker(queue, runtime, until_empty=True, wait_seconds=1, visibility=30, retry_delay=0, **kw)


def lake_counts(lake: Lake) -> dict[str, int]:
    engine = DuckDBEngine(lake.storage, lake.tables)
    p = engine.run("SELECT count(*) AS n FROM processed_logs", save=False).rows[0]["n"]
    e = engine.run("SELECT count(*) AS n FROM errors_logs", save=False).rows[0]["n"]
    return {"processed": p, "errors": e}


@pytest.mark.slow
def test_end_to_end_on_s3_sqs_glue(aws, monkeypatch) -> None:
    monkeypatch.setenv("PROCESSED_BUCKET", LAKE)  # as in the tutorial; LOGLAKE_LAKE unset
    queue, dlq = setup_pipeline()
    s3 = boto3.client("s3")
    body = jl(rec(http={"status": 200}), rec(level="warn", timestamp="2025-07-22T00:00:00Z"), b"not json")
    for key in KEYS:
        s3.put_object(Bucket=RAW, Key=key, Body=body)
    s3.put_object(Bucket=RAW, Key="poison.log", Body=bytes(range(256)) * 64)
    s3.put_object(Bucket=RAW, Key="empty.log", Body=b"")

    runtime = Runtime.create(load_settings())
    assert runtime.settings.lake == f"s3://{LAKE}"
    stats = drain(queue, runtime)
    assert stats.failed >= 2  # the poison object, once per receive
    processed_sources = sorted(o["source_uri"] for o in stats.objects if o["status"] == "ok")
    assert processed_sources == sorted(f"s3://{RAW}/{k}" for k in KEYS)

    # outputs in the processed bucket, no folder markers, no commit left in flight
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=LAKE).get("Contents", [])]
    assert any(k.startswith("processed/dt=2025-07-21/") and k.endswith(".parquet") for k in keys)
    assert any(k.startswith("errors/dt=") for k in keys)
    assert any(k.startswith("processed/metadata/") and k.endswith(".metadata.json") for k in keys)
    assert not any(k.endswith("/") or k.startswith("commits/") for k in keys)

    # Glue: database and both tables, as Iceberg tables: no partitions to register, no crawler
    glue = boto3.client("glue")
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="log_analytics_db")["TableList"]}
    assert set(tables) == {"processed_logs", "errors_logs"}
    assert {t["Parameters"]["table_type"] for t in tables.values()} == {"ICEBERG"}
    cols = {c["Name"]: c["Type"] for c in tables["processed_logs"]["StorageDescriptor"]["Columns"]}
    assert cols["http_status"] == "bigint" and cols["level"] == "string" and cols["dt"] == "string"
    assert tables["processed_logs"]["StorageDescriptor"]["Location"].rstrip("/") == f"s3://{LAKE}/processed"
    assert glue.get_partitions(DatabaseName="log_analytics_db", TableName="processed_logs")["Partitions"] == []

    # DuckDB over the S3 lake
    lake = Lake.open(load_settings())
    assert lake_counts(lake) == {"processed": 6, "errors": 3}
    engine = DuckDBEngine(lake.storage, lake.tables)
    by_level = engine.run(
        'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level ORDER BY level',
        save=False,
    ).rows
    assert by_level == [{"level": "INFO", "log_count": 3}, {"level": "WARN", "log_count": 3}]

    # the poison object ended in the DLQ after maxReceiveCount
    sqs = boto3.client("sqs")
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(dead) == 1 and "poison.log" in dead[0]["Body"]

    # a duplicated event and a re-upload do not double rows
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": RAW}, "object": {"key": "app+one.log", "size": len(body)}},
            }
        ]
    }
    sqs.send_message(QueueUrl=queue, MessageBody=orjson.dumps(event).decode())
    sqs.send_message(QueueUrl=queue, MessageBody=orjson.dumps(event).decode())
    s3.put_object(Bucket=RAW, Key=KEYS[1], Body=body)
    time.sleep(0.1)
    stats = drain(queue, runtime)
    assert stats.failed == 0 and len(stats.objects) == 3
    assert lake_counts(Lake.open(load_settings())) == {"processed": 6, "errors": 3}


def test_crawl_rebuilds_the_glue_tables_of_an_s3_lake(aws, tmp_path) -> None:
    from click.testing import CliRunner

    from loglake.cli import main

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=LAKE)
    src = tmp_path / "a.log"
    src.write_bytes(jl(rec(http={"status": 500}), b"oops"))
    runner = CliRunner()
    lake = ["--lake", f"s3://{LAKE}"]
    assert runner.invoke(main, [*lake, "process", str(src)], catch_exceptions=False).exit_code == 1
    glue = boto3.client("glue")
    glue.delete_table(DatabaseName="log_analytics_db", Name="processed_logs")  # lost from the catalog
    result = runner.invoke(main, [*lake, "crawl", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert [(t["name"], t["rows"]) for t in doc["tables"]] == [
        ("log_analytics_db.processed_logs", 1),
        ("log_analytics_db.errors_logs", 1),
    ]
    table = glue.get_table(DatabaseName="log_analytics_db", Name="processed_logs")["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG"
    got = runner.invoke(main, [*lake, "query", "SELECT http_status FROM processed_logs", "--format", "json"])
    assert got.exit_code == 0, got.output
    assert orjson.loads(got.stdout) == [{"http_status": 500}]
    results = [o["Key"] for o in s3.list_objects_v2(Bucket=LAKE, Prefix="query-results/")["Contents"]]
    assert len(results) == 1 and results[0].endswith(".csv")


def test_group_commit_on_an_s3_lake(aws, tmp_path) -> None:
    """Small objects processed into a bucket share files; one reprocessed member is replaced exactly."""
    from click.testing import CliRunner

    from loglake.cli import main

    boto3.client("s3").create_bucket(Bucket=LAKE)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"o{i}.log").write_bytes(jl(rec(n=i), rec(n=i, timestamp="2025-07-22T00:00:00Z"), b"oops"))
    lake = ["--lake", f"s3://{LAKE}"]
    runner = CliRunner()
    assert runner.invoke(main, [*lake, "process", str(src)], catch_exceptions=False).exit_code == 1
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=LAKE, Prefix="processed/dt=")["Contents"]]
    assert len(keys) == 2 and all("/group-" in k for k in keys)  # two dates, one shared file each
    (src / "o3.log").write_bytes(jl(rec(n=33)))
    assert runner.invoke(main, [*lake, "process", str(src / "o3.log")], catch_exceptions=False).exit_code == 0
    got = runner.invoke(main, [*lake, "query", "SELECT n FROM processed_logs ORDER BY n", "--format", "json"])
    assert [r["n"] for r in orjson.loads(got.stdout)] == [0, 0, 1, 1, 2, 2, 4, 4, 5, 5, 33]
    assert lake_counts(Lake.open(load_settings(f"s3://{LAKE}"))) == {"processed": 11, "errors": 5}
