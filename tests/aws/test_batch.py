"""An SQS batch of S3 notifications becomes one commit: small objects share files and one transaction."""

from __future__ import annotations

import boto3
import orjson

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
    assert result == {"batchItemFailures": [{"itemIdentifier": "m7"}]}
    lake = Lake.open(Settings(lake=f"s3://{LAKE}"))
    for zone in ("processed", "errors"):
        table = lake.tables.load(zone, refresh=True)
        assert len(table.metadata.snapshots) == 1, zone  # 49 objects, one commit
        assert int(table.current_snapshot().summary["total-records"]) == 49
