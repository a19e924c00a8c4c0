"""Query results as they leave the engine: JSON for every type, CSV of any size, and the saved copies under
query-results/ with their retention window.

Everything here works a record batch at a time, so a result of any size passes in constant memory.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from loglake.storage import Storage

RESULTS = "query-results"


def json_default(value: Any) -> Any:
    """What orjson cannot write itself: DuckDB's DECIMAL/HUGEINT, INTERVAL, BLOB, big integers, maps."""
    if isinstance(value, decimal.Decimal):
        if value == value.to_integral_value() and abs(value) < 2**63:
            return int(value)
        as_float = float(value)
        return as_float if decimal.Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, int):  # beyond 64 bits (HUGEINT, UBIGINT sums): exact, as text
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, pa.MonthDayNano):
        return {"months": value.months, "days": value.days, "nanoseconds": value.nanoseconds}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def _is_nested(kind: pa.DataType) -> bool:
    return pa.types.is_nested(kind) or pa.types.is_dictionary(kind) or pa.types.is_interval(kind)


def _as_text(column: pa.Array) -> pa.Array:
    import orjson

    return pa.array(
        [None if v is None else orjson.dumps(v, default=json_default).decode() for v in column.to_pylist()],
        pa.string(),
    )


def csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch Arrow's CSV writer accepts: lists, structs, maps and intervals as JSON text, binary as base64."""
    columns, changed = [], False
    for column in batch.columns:
        if _is_nested(column.type):
            column, changed = _as_text(column), True
        elif pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            column, changed = (
                pa.array([None if v is None else base64.b64encode(v).decode() for v in column.to_pylist()]),
                True,
            )
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names) if changed else batch


class CsvOut:
    """Writes batches as CSV (header first), converting what CSV cannot hold."""

    def __init__(self, sink: BinaryIO, schema: pa.Schema) -> None:
        self.sink = sink
        self.schema = schema
        self._writer: pacsv.CSVWriter | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        ready = csv_ready(batch)
        if self._writer is None:
            self._writer = pacsv.CSVWriter(self.sink, ready.schema)
        self._writer.write_batch(ready)

    def close(self) -> None:
        if self._writer is None:  # no rows: the header alone
            self.write(pa.RecordBatch.from_pylist([], schema=self.schema))
        assert self._writer is not None
        self._writer.close()


def saved_key(query_id: str, now: dt.datetime | None = None) -> str:
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y/%m/%d")
    return f"{RESULTS}/{stamp}/{query_id}.csv"


def tee_to_results(
    storage: Storage, key: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Pass batches through while writing them as CSV to `key`; the file appears (atomically) only when the
    result was read to its end."""
    with storage.open_write(key) as fh:
        out = CsvOut(fh, schema)
        for batch in batches:
            out.write(batch)
            yield batch
        out.close()


def expire_results(storage: Storage, days: float, now: dt.datetime | None = None) -> int:
    """Delete saved results older than `days` (0 keeps all), as a result bucket's lifecycle rule would."""
    if days <= 0:
        return 0
    cutoff = ((now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)).timestamp() * 1e9
    deleted = 0
    for info in storage.list(RESULTS + "/"):
        if info.mtime_ns and info.mtime_ns < cutoff:
            storage.delete(info.key)
            deleted += 1
    return deleted
