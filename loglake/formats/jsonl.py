"""JSON Lines: one JSON object per line."""

from __future__ import annotations

import io

import orjson
import pyarrow as pa
import pyarrow.json as pj

from loglake.formats.base import Format, Outcome, ParseFailure, decode
from loglake.records import NotColumnar


def _why(line: bytes, exc: Exception) -> ParseFailure:
    """Name the real cause, since a NUL or a bad byte reads as 'invalid JSON' otherwise."""
    text = decode(line, None)
    return text if type(text) is ParseFailure else ParseFailure("invalid_json", f"not valid JSON: {exc}")


class JsonLines(Format):
    name = "jsonl"
    description = "JSON Lines: one JSON object per line"
    sniff_head = None  # the head of a JSON line is not JSON
    example = (
        '{"timestamp": "2025-07-21T10:00:00Z", "level": "info", "message": "user logged in", "http": {"status": 200}}'
    )

    def parse_line(self, line: bytes) -> Outcome:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return _why(line, exc)
        if type(value) is dict:
            return value
        kind = "null" if value is None else type(value).__name__
        kind = {"list": "array", "str": "string", "int": "number", "float": "number", "bool": "boolean"}.get(kind, kind)
        return ParseFailure("not_an_object", f"a JSON {kind}, not an object")


def _is_time(kind: pa.DataType) -> bool:
    return pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_time(kind)


def _settle(kind: pa.DataType) -> pa.DataType | None:
    """The type to hold a field at from now on: times stay text (as in the row path), nulls stay open."""
    if pa.types.is_null(kind):
        return None
    if _is_time(kind):
        return pa.string()
    if pa.types.is_struct(kind):
        fields = [f.with_type(t) for f in kind if (t := _settle(f.type)) is not None]
        return pa.struct(fields) if fields else None
    if pa.types.is_list(kind):
        item = _settle(kind.value_type)
        return pa.list_(item) if item is not None else None
    return kind


def _settled(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_type(t) for f in schema if (t := _settle(f.type)) is not None])


def _has_time(kind: pa.DataType) -> bool:
    if pa.types.is_struct(kind):
        return any(_has_time(f.type) for f in kind)
    if pa.types.is_list(kind):
        return _has_time(kind.value_type)
    return _is_time(kind)


class ArrowJson:
    """Lines already known to be valid JSON objects → one Arrow table, by Arrow's multi-threaded reader.

    The schema seen so far is passed on as the explicit schema of the next batch, so a field keeps
    its type; a field that changes type makes the batch start over with fresh inference, and a batch
    whose types conflict inside itself raises `NotColumnar`. The schema can be handed on to the next
    object of the same kind (small objects: one read instead of two, and types that agree in a shared
    file); only fields that held a value are kept, so it stays as wide as the data.
    """

    def __init__(self, schema: pa.Schema | None = None) -> None:
        self.schema = schema

    def read(self, lines: list[bytes]) -> pa.Table:
        buf = b"\n".join(lines)
        longest = max(map(len, lines))
        block = max(256 << 10, len(buf) // 4 + 1, longest + 2)  # a few blocks: Arrow parses them in parallel
        # Arrow's thread pool pays off on big batches only; small objects would spend more on waking it.
        options = pj.ReadOptions(block_size=block, use_threads=len(buf) > (1 << 20))
        table = None
        if self.schema is not None:
            table = self._read(buf, options, self.schema)
        if table is None:
            table = self._read(buf, options, None)
            if table is None:
                raise NotColumnar("types conflict inside the batch")
        if any(_has_time(f.type) for f in table.schema):
            table = self._read(buf, options, _settled(table.schema))
            if table is None:
                raise NotColumnar("types conflict inside the batch")
        held = [f for f, c in zip(table.schema, table.columns, strict=True) if c.null_count < len(c)]
        self.schema = _settled(pa.schema(held))
        return table

    @staticmethod
    def _read(buf: bytes, options: pj.ReadOptions, schema: pa.Schema | None) -> pa.Table | None:
        parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        try:
            return pj.read_json(io.BytesIO(buf), read_options=options, parse_options=parse)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
