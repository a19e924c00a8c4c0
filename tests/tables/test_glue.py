"""An S3 lake's tables in the Glue Data Catalog (moto's server on 127.0.0.1), as Athena finds them."""

from __future__ import annotations

import boto3
import pytest

from loglake.config import CatalogConfig
from loglake.tables.catalog import Tables, open_tables
from tests.tables.conftest import at_once, commit_source

BUCKET = "lake-bucket"


@pytest.fixture
def s3_tables(aws: str) -> Tables:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    tables = open_tables(f"s3://{BUCKET}", CatalogConfig(), None)
    tables.ensure()
    return tables


def rows(n: int) -> list[dict[str, object]]:
    return [{"level": "ERROR", "message": f"m{i}", "source_line": i + 1} for i in range(n)]


def test_glue_holds_both_tables_as_iceberg_with_their_metadata_location(s3_tables: Tables) -> None:
    commit_source(s3_tables, {"s3://raw/a.log": [rows(2)]})
    glue = boto3.client("glue")
    for name in ("processed_logs", "errors_logs"):
        table = glue.get_table(DatabaseName="log_analytics_db", Name=name)["Table"]
        assert table["Parameters"]["table_type"] == "ICEBERG"
        assert table["Parameters"]["metadata_location"].startswith(f"s3://{BUCKET}/")
        assert table["StorageDescriptor"]["Location"].rstrip("/").endswith(name.split("_")[0])
    processed = glue.get_table(DatabaseName="log_analytics_db", Name="processed_logs")["Table"]
    assert processed["Parameters"]["metadata_location"] == s3_tables.load("processed", refresh=True).metadata_location


def test_two_writers_creating_the_tables_on_a_fresh_stack_both_go_on(aws: str) -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    assert not at_once(lambda _: open_tables(f"s3://{BUCKET}", CatalogConfig(), None).ensure(), 4)
    assert len(boto3.client("glue").get_tables(DatabaseName="log_analytics_db")["TableList"]) == 2


def test_eight_concurrent_writers_leave_every_row_exactly_once(s3_tables: Tables) -> None:
    """Each writer commits its own objects and one object every writer was handed at the same moment (a duplicate
    delivery in flight everywhere): every overlapping commit conflicts, and its retry replaces what won. (Sixteen
    writers, whole Lambda handlers in their own processes, race in tests/aws/test_batch.py.)"""

    def worker(n: int) -> None:
        mine = open_tables(f"s3://{BUCKET}", CatalogConfig(), None)
        commit_source(mine, {f"s3://raw/w{n}-{i}.log": [rows(2)] for i in range(3)} | {"s3://raw/dup.log": [rows(4)]})

    errors = at_once(worker, 8)
    assert not errors, errors[:1]
    table = s3_tables.load("processed", refresh=True)
    counts: dict[str, int] = {}
    for uri in table.scan(selected_fields=("source_uri",)).to_arrow().column("source_uri").to_pylist():
        counts[uri] = counts.get(uri, 0) + 1
    assert counts == {f"s3://raw/w{n}-{i}.log": 2 for n in range(8) for i in range(3)} | {"s3://raw/dup.log": 4}
