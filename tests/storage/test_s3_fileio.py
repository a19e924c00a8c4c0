"""pyiceberg's file IO over boto3, against moto's S3 server: what table commits and scans rely on."""

from __future__ import annotations

import io

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loglake.storage.s3_fileio import S3FileIO

BUCKET = "fileio"


@pytest.fixture
def fileio(aws: str) -> S3FileIO:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return S3FileIO()


def test_parquet_written_and_read_back_by_pyarrow_through_ranged_reads(fileio: S3FileIO) -> None:
    uri = f"s3://{BUCKET}/t/data/part-0.parquet"
    table = pa.table({"n": list(range(50_000)), "s": [f"line {i}" for i in range(50_000)]})
    with fileio.new_output(uri).create() as out:
        pq.write_table(table, out, row_group_size=10_000)
    source = fileio.new_input(uri)
    head = boto3.client("s3").head_object(Bucket=BUCKET, Key="t/data/part-0.parquet")
    assert source.exists() and len(source) == head["ContentLength"]
    with source.open() as fh:
        assert pq.read_metadata(fh).num_rows == 50_000
    with source.open() as fh:  # random access: the last row group alone
        assert pq.ParquetFile(fh).read_row_group(4).column("n").to_pylist()[-1] == 49_999
    with source.open() as fh:
        assert pq.read_table(fh).equals(table)


def test_seek_and_read_match_the_bytes(fileio: S3FileIO) -> None:
    uri = f"s3://{BUCKET}/blob"
    data = bytes(range(256)) * 10_000
    with fileio.new_output(uri).create() as out:
        out.write(data)
    with fileio.new_input(uri).open() as fh:
        fh.seek(-10, io.SEEK_END)
        assert fh.read() == data[-10:]
        fh.seek(1_234_567)
        assert fh.read(3) == data[1_234_567:1_234_570] and fh.tell() == 1_234_570


def test_missing_file_and_no_overwrite(fileio: S3FileIO) -> None:
    uri = f"s3://{BUCKET}/metadata/00001.metadata.json"
    assert not fileio.new_input(uri).exists()
    with pytest.raises(FileNotFoundError, match=r"00001\.metadata\.json"):
        len(fileio.new_input(uri))
    with fileio.new_output(uri).create() as out:
        out.write(b"{}")
    with pytest.raises(FileExistsError):
        fileio.new_output(uri).create(overwrite=False)
    fileio.delete(uri)
    fileio.delete(uri)  # deleting what is gone is fine (cleanup after cleanup)
    assert not fileio.new_output(uri).exists()


def test_a_write_that_fails_puts_nothing(fileio: S3FileIO) -> None:
    uri = f"s3://{BUCKET}/half.parquet"
    with pytest.raises(RuntimeError), fileio.new_output(uri).create() as out:
        out.write(b"PAR1 half of a file")
        raise RuntimeError("writer died")
    assert not fileio.new_input(uri).exists()


def test_s3_lake_tables_use_it(aws: str) -> None:
    from loglake.config import CatalogConfig
    from loglake.tables.catalog import open_tables

    boto3.client("s3").create_bucket(Bucket="lake")
    tables = open_tables("s3://lake", CatalogConfig(), None)
    tables.ensure()
    assert isinstance(tables.load("processed").io, S3FileIO)
