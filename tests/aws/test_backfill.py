"""Backfill: `loglake process s3://bucket/prefix/` over objects already in a bucket (moto's server)."""

from __future__ import annotations

import boto3
import orjson

from loglake.config import Settings
from loglake.lake import Lake
from tests.conftest import jl, query, rec

RAW = "old-logs"


def _fill(s3, n: int) -> list[str]:
    keys = [f"2025/07/app-{i:02d}.log" for i in range(n)]
    for i, key in enumerate(keys):
        s3.put_object(Bucket=RAW, Key=key, Body=jl(rec(n=i), rec(n=i, level="warn")))
    s3.put_object(Bucket=RAW, Key="2025/07/notes.txt", Body=b"not a log suffix")
    s3.put_object(Bucket=RAW, Key="2024/12/elsewhere.log", Body=jl(rec()))  # outside the prefix
    return keys


def test_a_prefix_is_processed_once_a_rerun_does_nothing_and_a_change_is_redone(aws, cli, lake_dir) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=RAW)
    keys = _fill(s3, 12)

    first = cli("process", f"s3://{RAW}/2025/", "--jobs", "2", "--json")
    assert first.exit_code == 0, first.output
    doc = orjson.loads(first.stdout)
    assert sorted(o["source_uri"] for o in doc["objects"]) == [f"s3://{RAW}/{k}" for k in keys]
    lake = Lake.open(Settings(lake=str(lake_dir)))
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 24}]

    again = orjson.loads(cli("process", f"s3://{RAW}/2025/", "--json").stdout)
    assert again["objects"] == [] and len(again["unchanged"]) == 12

    s3.put_object(Bucket=RAW, Key=keys[3], Body=jl(rec(n=3, message="rewritten")))
    changed = orjson.loads(cli("process", f"s3://{RAW}/2025/", "--json").stdout)
    assert [o["source_uri"] for o in changed["objects"]] == [f"s3://{RAW}/{keys[3]}"]
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 23}]  # replaced, not added

    forced = cli("process", f"s3://{RAW}/2025/", "--force")
    assert forced.exit_code == 0 and "12 object(s): 23 processed" in forced.stdout
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 23}]
    text = cli("process", f"s3://{RAW}/2025/")
    assert "12 object(s) unchanged since they were processed, skipped" in text.stdout


def test_a_failed_object_is_tried_again_on_the_next_run(aws, cli) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=RAW)
    s3.put_object(Bucket=RAW, Key="2025/poison.log.gz", Body=b"\x1f\x8b\x08\x00 not really gzip")
    assert cli("process", f"s3://{RAW}/2025/").exit_code == 1
    again = orjson.loads(cli("process", f"s3://{RAW}/2025/", "--json").stdout)
    assert [o["status"] for o in again["objects"]] == ["failed"] and "unchanged" not in again


def test_a_missing_bucket_is_one_line_not_a_traceback(aws, cli) -> None:
    result = cli("process", "s3://no-such-bucket-here/logs/")
    assert result.exit_code != 0 and "no-such-bucket-here" in result.output
    assert "Traceback" not in result.output
