"""Parquet output: dictionary encoding and compression only where they pay."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from loglake.sinks.writers import SMALL_FILE_ROWS, ParquetFileWriter
from loglake.tables.catalog import ERRORS_BASE, PROCESSED_BASE
from loglake.tables.schema import Target


def _target(schema: pa.Schema) -> Target:
    return Target(schema)


def _encodings(table: pa.Table, sample: pa.Table | None) -> dict[str, set[str]]:
    buf = io.BytesIO()
    writer = ParquetFileWriter(buf, table.schema, sample)  # type: ignore[arg-type]
    writer.write(table)
    writer.close()
    meta = pq.ParquetFile(io.BytesIO(buf.getvalue())).metadata
    group = meta.row_group(0)
    return {group.column(i).path_in_schema: set(group.column(i).encodings) for i in range(group.num_columns)}


def test_mostly_distinct_columns_are_not_dictionary_encoded() -> None:
    n = 4 * SMALL_FILE_ROWS
    table = pa.table(
        {
            "level": ["INFO", "WARN"] * (n // 2),
            "trace_id": [f"{i:032x}" for i in range(n)],
            "status": [200, 404] * (n // 2),
            "source_line": range(1, n + 1),
            "duration": [i / 7 for i in range(n)],
            "timestamp": pa.array(range(n), pa.timestamp("ms")),
            "minute": pa.array([i // 1000 * 60_000 for i in range(n)], pa.timestamp("ms")),
        }
    )
    enc = _encodings(table, table)
    for repeated in ("level", "status", "minute"):
        assert "RLE_DICTIONARY" in enc[repeated], repeated
    for distinct in ("trace_id", "source_line", "duration", "timestamp"):
        assert not any("DICTIONARY" in e for e in enc[distinct]), distinct
    # Too few rows to judge, or no sample: everything is dictionary encoded, as Parquet writers do by default.
    assert all("RLE_DICTIONARY" in e for e in _encodings(table, table.slice(0, 10)).values())
    assert all("RLE_DICTIONARY" in e for e in _encodings(table, None).values())
    assert pq.read_table(io.BytesIO(_buf(table))).equals(table)


def _buf(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    writer = ParquetFileWriter(buf, table.schema, table)  # type: ignore[arg-type]
    writer.write(table)
    writer.close()
    return buf.getvalue()


def _codecs(table: pa.Table, sample: pa.Table | None) -> set[str]:
    meta = pq.ParquetFile(io.BytesIO(_write(table, sample))).metadata
    group = meta.row_group(0)
    return {group.column(i).compression for i in range(group.num_columns)}


def _write(table: pa.Table, sample: pa.Table | None) -> bytes:
    buf = io.BytesIO()
    writer = ParquetFileWriter(buf, table.schema, sample)  # type: ignore[arg-type]
    writer.write(table)
    writer.close()
    return buf.getvalue()


def test_tiny_files_are_not_compressed_big_ones_are() -> None:
    big = pa.table({"message": ["request served"] * (2 * SMALL_FILE_ROWS)})
    tiny = big.slice(0, 12)
    assert _codecs(big, big) == {"ZSTD"}
    assert _codecs(tiny, tiny) == {"UNCOMPRESSED"}
    assert _codecs(tiny, None) == {"ZSTD"}  # compaction and rewrites: no sample, always compressed
    assert pq.read_table(io.BytesIO(_write(tiny, tiny))).equals(tiny)


def test_fixed_schema_rows_are_held_as_columns_in_order(tmp_path: Path) -> None:
    """errors/ rows become columns every few thousand (memory), yet land whole, in order, in one file."""
    from loglake.records import ERROR_SCHEMA
    from loglake.sinks import FIXED_CHUNK_ROWS, ZoneWriter
    from loglake.storage import LocalStorage

    writer = ZoneWriter(LocalStorage(str(tmp_path)), "errors", "obj", _target(ERRORS_BASE), 16_384, ERROR_SCHEMA)
    count = FIXED_CHUNK_ROWS * 3 + 5
    for i in range(count):
        writer.add("2026-01-01", {"source_uri": "s", "source_line": i, "error_code": "c", "error_codes": ["c"]})
    assert writer.tables and writer.buffers  # three chunks as columns, five rows still as dicts
    (out,) = writer.finish()
    table = pq.read_table(tmp_path / out.key)
    assert table.column("source_line").to_pylist() == list(range(count))
    assert pq.ParquetFile(tmp_path / out.key).metadata.num_row_groups == 1


def test_memory_does_not_grow_with_the_partitions_an_object_spans(tmp_path: Path) -> None:
    """Rows in columns are held up to a byte budget across all partitions (the biggest is written out
    first), not `batch_rows` per partition: an object spanning 60 days holds as much as one spanning 1."""
    from loglake.sinks import ZoneWriter
    from loglake.storage import LocalStorage

    writer = ZoneWriter(LocalStorage(str(tmp_path)), "processed", "obj", _target(PROCESSED_BASE), 16_384)
    writer.max_held = 64 << 10
    days = [f"2025-07-{d:02d}" for d in range(1, 31)]
    held = 0
    for i in range(300):
        dt = days[i * 7 % 30]
        writer.add_table(
            dt, pa.table({"n": pa.array(range(i * 100, i * 100 + 100), pa.int64()), "s": ["x" * 20] * 100})
        )
        held = max(held, writer.held_bytes)
    assert held <= writer.max_held + 100 * 40  # the budget, plus at most the table that crossed it
    outputs = writer.finish()
    assert sorted({o.dt for o in outputs}) == days
    got = sorted(n for o in outputs for n in pq.read_table(tmp_path / o.key).column("n").to_pylist())
    assert got == list(range(30_000))


def test_rows_held_as_dicts_are_bounded_across_partitions_too(tmp_path: Path) -> None:
    """The row path holds `batch_rows` rows in all, not per partition (~1 KB each as dicts)."""
    from loglake.sinks import ZoneWriter
    from loglake.storage import LocalStorage

    writer = ZoneWriter(LocalStorage(str(tmp_path)), "processed", "obj", _target(PROCESSED_BASE), 100)
    days = [f"2025-07-{d:02d}" for d in range(1, 31)]
    most = 0
    for i in range(3000):
        writer.add(days[i * 7 % 30], {"n": i, "level": "INFO"})
        most = max(most, sum(len(rows) for rows in writer.buffers.values()))
    assert most < 100
    outputs = writer.finish()
    assert sorted({o.dt for o in outputs}) == days
    got = sorted(n for o in outputs for n in pq.read_table(tmp_path / o.key).column("n").to_pylist())
    assert got == list(range(3000))


def test_a_partition_goes_on_in_a_new_part_after_max_row_groups(tmp_path: Path, monkeypatch) -> None:
    """Parquet writers hold every row group's metadata until the file closes: a long object's partition is
    written as parts of bounded row groups, every row once, in order."""
    from loglake import sinks
    from loglake.sinks import ZoneWriter
    from loglake.storage import LocalStorage

    monkeypatch.setattr(sinks, "MAX_ROW_GROUPS", 4)
    writer = ZoneWriter(LocalStorage(str(tmp_path)), "processed", "obj", _target(PROCESSED_BASE), 100)
    for i in range(10):  # ten row groups of 100 rows
        writer.add_table("2025-07-21", pa.table({"n": pa.array(range(i * 100, i * 100 + 100), pa.int64())}))
    outputs = writer.finish()
    groups = [pq.ParquetFile(tmp_path / o.key).metadata.num_row_groups for o in outputs]
    assert groups == [4, 4, 2]
    assert [o.key.rsplit("-", 1)[-1] for o in outputs] == ["0000.parquet", "0001.parquet", "0002.parquet"]
    assert [n for o in outputs for n in pq.read_table(tmp_path / o.key).column("n").to_pylist()] == list(range(1000))
    assert [o.rows for o in outputs] == [400, 400, 200]


def test_every_file_carries_its_partition_and_fits_the_table(tmp_path: Path) -> None:
    """A batch whose type differs from the table's column is conformed before it is written: the file agrees
    with its table, the value is rescued, and the partition is a column (Iceberg partitions by it)."""
    from loglake.sinks import ZoneWriter
    from loglake.storage import LocalStorage

    base = pa.schema([*PROCESSED_BASE, ("status", pa.int64())])
    writer = ZoneWriter(LocalStorage(str(tmp_path)), "processed", "obj", Target(base), 100)
    writer.add("2025-07-21", {"level": "INFO", "message": "m", "status": "teapot"})
    (out,) = writer.finish()
    table = pq.read_table(tmp_path / out.key)
    assert table.schema.field("status").type == pa.int64()
    assert table.column("dt").to_pylist() == ["2025-07-21"]
    assert table.column("_rescued_data").to_pylist() == ['{"status":"teapot"}']
    assert writer.rescued == 1 and out.key.startswith("processed/dt=2025-07-21/obj-")
