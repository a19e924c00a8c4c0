"""Query results on a terminal or a pipe, a record batch at a time.

CSV, JSON Lines and JSON arrays stream every row in constant memory. Tables and the vertical `line`
layout keep only the first and last rows (`max_rows`, as DuckDB's CLI does) and count the rest, fit the
terminal (a table too wide for it turns vertical), mark NULL, right-align numbers and show times with
their zone. Every value is escaped: data never becomes markup or terminal control.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import deque
from collections.abc import Iterable
from typing import Any

import orjson
import pyarrow as pa
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loglake.cli.output import console, visible
from loglake.query.results import CsvOut, json_default

FORMATS = ("table", "line", "csv", "json", "jsonl")
NULL = Text("NULL", style="dim italic")
MIN_CELL = 10
"""Narrowest a column may become before a table is shown vertically instead."""


def cell(value: Any, breaks: bool = False) -> str:
    """A value as text for people: times with their zone, nested values as JSON, control characters escaped."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") + ("Z" if value.tzinfo is None else "")
    if isinstance(value, str):
        return visible(value, breaks)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict | tuple | bytes | pa.MonthDayNano):
        return visible(orjson.dumps(value, default=json_default).decode(), breaks)
    return visible(str(value), breaks)


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


class Sample:
    """The first and last rows of a stream and how many there were."""

    def __init__(self, schema: pa.Schema, max_rows: int) -> None:
        self.schema = schema
        self.head_rows = (max_rows + 1) // 2
        self.tail_rows = max_rows - self.head_rows
        self.max_rows = max_rows
        self.head: list[pa.RecordBatch] = []
        self.tail: deque[pa.RecordBatch] = deque()
        self.kept_head = self.kept_tail = self.total = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.total += batch.num_rows
        if self.kept_head < self.head_rows:
            take = min(self.head_rows - self.kept_head, batch.num_rows)
            self.head.append(batch.slice(0, take))
            self.kept_head += take
            batch = batch.slice(take)
        if self.tail_rows and batch.num_rows:
            part = batch.slice(max(0, batch.num_rows - self.tail_rows))
            self.tail.append(part)
            self.kept_tail += part.num_rows
            while self.tail and self.kept_tail - self.tail[0].num_rows >= self.tail_rows:
                self.kept_tail -= self.tail.popleft().num_rows

    def rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The rows to show: the head, and the tail when rows were skipped between them."""
        head = [r for b in self.head for r in b.to_pylist()]
        tail = [r for b in self.tail for r in b.to_pylist()]
        if self.total <= self.max_rows:
            return head + tail, []
        return head, tail[len(tail) - self.tail_rows :] if self.tail_rows else []


def footer(sample: Sample) -> str:
    n = sample.total
    shown = sample.kept_head + min(sample.kept_tail, sample.tail_rows)
    if n > sample.max_rows:
        return f"({n:,} rows, {shown:,} shown; --max-rows to see more)"
    return f"({n:,} row{'s' if n != 1 else ''})"


def _fits(schema: pa.Schema, rows: list[dict[str, Any]], width: int) -> bool:
    need = 1
    for name in schema.names:
        longest = max([len(name)] + [len(cell(r[name])) for r in rows[:50]])
        need += min(longest, MIN_CELL) + 3
    return need <= width


def table_of(schema: pa.Schema, rows: list[dict[str, Any]], tail: list[dict[str, Any]]) -> Table:
    table = Table(show_lines=False, header_style="bold")
    for field in schema:
        table.add_column(
            visible(field.name, False),
            justify="right" if _numeric(field.type) else "left",
            no_wrap=True,
            overflow="ellipsis",
            min_width=min(len(field.name), MIN_CELL),
        )
    for row in rows:
        table.add_row(*(NULL if row[n] is None else Text(cell(row[n])) for n in schema.names))
    if tail:
        table.add_row(*(Text("⋮", style="dim") for _ in schema.names))
        for row in tail:
            table.add_row(*(NULL if row[n] is None else Text(cell(row[n])) for n in schema.names))
    return table


def print_lines(target: Console, schema: pa.Schema, rows: list[dict[str, Any]], first: int = 1) -> None:
    """The vertical layout: one `name │ value` line per column, rows one after another (psql's \\x)."""
    names = [visible(n, False) for n in schema.names]
    pad = max((len(n) for n in names), default=0)
    for i, row in enumerate(rows, start=first):
        target.print(Text(f"-[ row {i:,} ]" + "-" * max(0, 40 - len(str(i))), style="dim"))
        for name, key in zip(names, schema.names, strict=True):
            value = NULL if row[key] is None else Text(cell(row[key], breaks=True))
            target.print(Text.assemble((name.ljust(pad), "bold"), " │ ", value))


def show(schema: pa.Schema, batches: Iterable[pa.RecordBatch], fmt: str, max_rows: int, out: Console) -> int:
    """Write a result in `fmt`; returns the number of rows."""
    if fmt in ("csv", "json", "jsonl"):
        return stream_rows(schema, batches, fmt)
    sample = Sample(schema, max_rows)
    for batch in batches:
        sample.add(batch)
    rows, tail = sample.rows()
    width = out.width if out.is_terminal else 1 << 16
    if fmt == "line" or (rows and not _fits(schema, rows + tail, width)):
        print_lines(out, schema, rows)
        if tail:
            out.print(Text("⋮", style="dim"))
            print_lines(out, schema, tail, first=sample.total - len(tail) + 1)
    elif out.is_terminal:
        out.print(table_of(schema, rows, tail))
    else:  # a pipe: no width to fit, so nothing is cut or wrapped
        console(width=1 << 16).print(table_of(schema, rows, tail), crop=False)
    out.print(Text(footer(sample), style="dim"))
    return sample.total


JSON_ROWS = 4096
"""Rows turned into Python objects at a time for JSON: a batch's worth at once would hold ~100 MB."""


def _row_chunks(batches: Iterable[pa.RecordBatch]) -> Iterable[list[dict[str, Any]]]:
    for batch in batches:
        for start in range(0, batch.num_rows, JSON_ROWS):
            yield batch.slice(start, JSON_ROWS).to_pylist()


def stream_rows(schema: pa.Schema, batches: Iterable[pa.RecordBatch], fmt: str) -> int:
    """CSV, JSON Lines or a JSON array on stdout, batch by batch."""
    sink = sys.stdout.buffer
    total = 0
    if fmt == "csv":
        writer = CsvOut(sink, schema)
        for batch in batches:
            writer.write(batch)
            total += batch.num_rows
        writer.close()
        sink.flush()
        return total
    opts = orjson.OPT_NAIVE_UTC
    if fmt == "json":
        sink.write(b"[")
    for rows in _row_chunks(batches):
        if fmt == "jsonl":
            sink.write(b"".join(orjson.dumps(r, default=json_default, option=opts) + b"\n" for r in rows))
        else:
            lead = b"\n" if total == 0 else b",\n"
            sink.write(lead + b",\n".join(orjson.dumps(r, default=json_default, option=opts) for r in rows))
        total += len(rows)
    if fmt == "json":
        sink.write(b"\n]\n" if total else b"]\n")
    sink.flush()
    return total
