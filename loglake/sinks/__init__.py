"""Sinks: route rows into per-partition Parquet files of one zone's table, invisible until committed.

Files are written where they stay (`<zone>/dt=…/<name>-NNNN.parquet`, names unique per attempt) and
become rows only when a commit adds them to the table; until then no reader knows them, and a crash
leaves files that orphan cleanup removes by age. Every batch is conformed to the table's schema
first (`tables.schema.Target`), with the `dt` partition column, so no file disagrees with its table.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa

from loglake.sinks.arrow import rows_to_table
from loglake.sinks.writers import FileWriter, ParquetFileWriter
from loglake.storage import Storage
from loglake.tables.catalog import PARTITION
from loglake.tables.schema import RESCUED, Target

FIXED_CHUNK_ROWS = 2048
HELD_BYTES = 4 << 20
"""Rows in columns held by one writer across all its partitions; past this the biggest partition is
written out, so memory does not grow with the number of event dates an object spans. 4 MiB rather
than 8: 4-6 MB less at the peak of one process (access logs 131 -> 125 MiB), no slower."""
MAX_ROW_GROUPS = 64
"""A part file is closed after this many row groups and the partition goes on in the next part. Parquet
writers keep every row group's metadata (each column's statistics) until the file closes, ~5 KB per
row group here. One file per partition grew a 2 GB object's peak 11 MB past 1 GB; parts of 64 row groups (~15 MB
of Parquet) keep it within 1 MB, and `loglake compact` merges parts into ~128 MB files later."""


@dataclass
class OutputFile:
    """One data file: where it is, what it holds."""

    key: str
    zone: str
    dt: str
    rows: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "zone": self.zone, "dt": self.dt, "rows": self.rows}


@dataclass
class _Open:
    out: OutputFile
    ctx: AbstractContextManager[BinaryIO]
    writer: FileWriter
    writes: int = 0
    """Row groups written (one per `write`)."""


class ZoneWriter:
    """Buffers rows per `dt` and writes them as row groups; a schema change starts a new part file."""

    writer_cls: type[FileWriter] = ParquetFileWriter

    def __init__(
        self,
        storage: Storage,
        zone: str,
        name: str,
        target: Target,
        batch_rows: int,
        fixed: dict[str, pa.DataType] | None = None,
    ) -> None:
        self.storage, self.zone, self.name, self.target = storage, zone, name, target
        self.batch_rows = batch_rows
        self.rescued = 0
        """Rows with a value kept in `_rescued_data` (its type did not fit the column)."""
        self.fixed = fixed
        self.buffers: dict[str, list[dict[str, Any]]] = {}
        self.tables: dict[str, list[pa.Table]] = {}
        self.table_rows: dict[str, int] = {}
        self.table_bytes: dict[str, int] = {}
        self.held_bytes = 0
        self.buffered = 0
        """Rows held as dicts, all partitions together."""
        self.max_held = HELD_BYTES
        self.open: dict[str, _Open] = {}
        self.parts: dict[str, int] = {}
        self.outputs: list[OutputFile] = []

    def add(self, dt: str, row: dict[str, Any]) -> None:
        buf = self.buffers.get(dt)
        if buf is None:
            buf = self.buffers[dt] = []
        buf.append(row)
        self.buffered += 1
        if self.fixed is not None and len(buf) >= FIXED_CHUNK_ROWS:
            # A fixed schema (errors/) needs no inference over the whole buffer: hold columns, not ~1 KB dicts.
            del self.buffers[dt]
            self.buffered -= len(buf)
            self.add_table(dt, rows_to_table(buf, self.fixed))
        elif self.buffered >= self.batch_rows:
            # `batch_rows` rows held in all, whatever the number of partitions: the biggest is written out.
            self._flush(dt if len(buf) >= self.batch_rows else max(self.buffers, key=lambda d: len(self.buffers[d])))

    def add_table(self, dt: str, table: pa.Table) -> None:
        """Rows already in columns (the columnar path); buffered like rows, written in row groups."""
        self.tables.setdefault(dt, []).append(table)
        rows = self.table_rows[dt] = self.table_rows.get(dt, 0) + len(table)
        size = table.get_total_buffer_size()  # nbytes walks every buffer of a slice: ~0.2 ms per small table
        self.table_bytes[dt] = self.table_bytes.get(dt, 0) + size
        self.held_bytes += size
        if rows >= self.batch_rows:
            self._flush_tables(dt)
        elif self.held_bytes > self.max_held:
            self._flush_tables(max(self.table_bytes, key=self.table_bytes.__getitem__))

    def _flush_tables(self, dt: str) -> None:
        tables = self.tables.pop(dt, None)
        self.table_rows.pop(dt, None)
        self.held_bytes -= self.table_bytes.pop(dt, 0)
        if not tables:
            return
        try:
            merged = [pa.concat_tables(tables, promote_options="default")] if len(tables) > 1 else tables
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            merged = tables  # a type changed between batches: the writer starts a new part where needed
        for table in merged:
            self._write(dt, table)

    def _flush(self, dt: str) -> None:
        rows = self.buffers.pop(dt, None)
        if not rows:
            return
        self.buffered -= len(rows)
        self._write(dt, rows_to_table(rows, self.fixed))

    def conform(self, dt: str, table: pa.Table) -> pa.Table:
        """The batch in the table's schema, with its partition column; rescued rows counted."""
        if PARTITION not in table.column_names:
            table = table.append_column(PARTITION, pa.repeat(pa.scalar(dt, pa.string()), len(table)))
        out = self.target.conform(table)
        self.rescued += out.rescued_rows
        return out.table

    def _drop_all_null(self, table: pa.Table) -> pa.Table:
        """A key that only ever held null has no type to give; its column starts with its first value.
        (Both paths agree this way: Arrow's reader cannot tell a null from an absent key.)"""
        if self.fixed is None and any(c.null_count == len(c) for c in table.columns):
            table = table.select([i for i, c in enumerate(table.columns) if c.null_count < len(c)])
        return table

    def _write(self, dt: str, table: pa.Table) -> None:
        table = self.conform(dt, self._drop_all_null(table))
        current = self.open.get(dt)
        if current is not None and (current.writes >= MAX_ROW_GROUPS or not current.writer.accepts(table.schema)):
            self._close(dt)
            current = None
        if current is None:
            current = self._start(dt, table)
        current.writer.write(table)
        current.writes += 1
        current.out.rows += len(table)

    def _start(self, dt: str, first: pa.Table) -> _Open:
        part = self.parts.get(dt, 0)
        self.parts[dt] = part + 1
        key = f"{self.zone}/{PARTITION}={dt}/{self.name}-{part:04d}.{self.writer_cls.extension}"
        out = OutputFile(key=key, zone=self.zone, dt=dt)
        ctx = self.storage.open_write(out.key)
        fh = ctx.__enter__()
        opened = _Open(out, ctx, self.writer_cls(fh, first.schema, first))
        self.open[dt] = opened
        return opened

    def _close(self, dt: str) -> None:
        opened = self.open.pop(dt)
        opened.writer.close()
        opened.ctx.__exit__(None, None, None)
        self.outputs.append(opened.out)

    def finish(self) -> list[OutputFile]:
        """Flush and close everything; the files are no table's rows until committed."""
        if self.fixed is not None:  # the last rows join the columns before them, in one row group
            for dt, rows in self.buffers.items():
                self.tables.setdefault(dt, []).append(rows_to_table(rows, self.fixed))
            self.buffers.clear()
            self.buffered = 0
        for dt in list(self.tables):
            self._flush_tables(dt)
        for dt in list(self.buffers):
            self._flush(dt)
        for dt in list(self.open):
            self._close(dt)
        return self.outputs

    def drain(self) -> tuple[dict[str, list[pa.Table]], list[OutputFile]]:
        """For a group commit: the rows still in memory as tables per `dt`, and the files already written."""
        tables, self.tables, self.table_rows, self.table_bytes, self.held_bytes = self.tables, {}, {}, {}, 0
        for dt, rows in self.buffers.items():
            tables.setdefault(dt, []).append(rows_to_table(rows, self.fixed))
        self.buffers, self.buffered = {}, 0
        for dt in list(self.open):
            self._close(dt)
        return tables, self.outputs

    def abort(self) -> None:
        """Nothing of this writer is kept: open files abandoned, closed ones deleted."""
        for out in self.outputs:
            with suppress(Exception):
                self.storage.delete(out.key)
        self.outputs = []
        for opened in self.open.values():
            with suppress(Exception):
                opened.writer.close()  # else it closes when collected, onto a closed file, and says so
            with suppress(Exception):
                opened.ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)
        self.open.clear()
        self.buffers.clear()
        self.tables.clear()


class SharedWriter(ZoneWriter):
    """Many small objects' rows in the same files (a group commit).

    Everything is held until `finish`, so each partition becomes one file (more only where two objects
    disagree on a column's type): the group's size bounds the memory. Every `MERGE_EVERY` tables of a
    partition are merged into one, since thousands of tiny tables cost far more than their rows.
    Rows are conformed as they arrive, so each member's rescued rows are its own.
    """

    MERGE_EVERY = 64

    def __init__(
        self, storage: Storage, zone: str, name: str, target: Target, fixed: dict[str, pa.DataType] | None = None
    ) -> None:
        super().__init__(storage, zone, name, target, 1 << 62, fixed)
        self.max_held = 1 << 62  # the group's size is the bound
        self.rescued_by: dict[str, int] = {}
        """owner → rows rescued"""
        self._merging: dict[str, int] = {}

    def add_shared(self, dt: str, table: pa.Table, owners: list[tuple[str, int]]) -> None:
        """Rows of several owners, each owner's together, in `owners`' order."""
        if not len(table):
            return
        before = self.rescued
        table = self.conform(dt, self._drop_all_null(table))
        if self.rescued != before:
            start = 0
            for owner, rows in owners:
                hit = rows - table.column(RESCUED).slice(start, rows).null_count
                self.rescued_by[owner] = self.rescued_by.get(owner, 0) + hit
                start += rows
        self.add_table(dt, table)
        self._merging[dt] = self._merging.get(dt, 0) + 1
        tables = self.tables.get(dt, [])
        if self._merging[dt] >= self.MERGE_EVERY and len(tables) >= self.MERGE_EVERY:
            try:
                merged = pa.concat_tables(tables[-self.MERGE_EVERY :], promote_options="default").combine_chunks()
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return  # a type conflict: kept apart, written to another part
            del tables[-self.MERGE_EVERY :]
            tables.append(merged)
            self._merging[dt] = 0

    def add_owned(self, dt: str, table: pa.Table, owner: str) -> None:
        self.add_shared(dt, table, [(owner, len(table))])

    def _write(self, dt: str, table: pa.Table) -> None:
        super()._write(dt, table.combine_chunks())
