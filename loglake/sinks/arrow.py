"""Rows (dicts) → Arrow tables, with per-column type inference that never fails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from loglake.records import TIMESTAMP

_NONE = type(None)


def _as_text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    if type(value) is int:
        return str(value)  # also beyond 64 bits (a 20-digit byte count in a text log), which JSON encoders refuse
    return orjson.dumps(value, option=orjson.OPT_NAIVE_UTC).decode()


def column(values: list[Any], forced: pa.DataType | None = None) -> pa.Array:
    """One Arrow array; mixed types widen to double (int+float) or to text (anything else)."""
    if forced is not None:
        return pa.array(values, type=forced)
    kinds = {type(v) for v in values}
    kinds.discard(_NONE)
    if not kinds or kinds == {str}:
        return pa.array(values, type=pa.string())
    if kinds == {int}:
        try:
            return pa.array(values, type=pa.int64())
        except (OverflowError, pa.ArrowInvalid):
            return pa.array([_as_text(v) for v in values], type=pa.string())
    if kinds <= {int, float}:
        # float() as JSON readers do: ints beyond 2**53 round instead of failing the batch
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if kinds == {bool}:
        return pa.array(values, type=pa.bool_())
    if kinds == {datetime}:
        return pa.array(values, type=TIMESTAMP)
    return pa.array([_as_text(v) for v in values], type=pa.string())


def rows_to_table(rows: list[dict[str, Any]], fixed: dict[str, pa.DataType] | None = None) -> pa.Table:
    """Columns are the union of keys in first-seen order; a missing key is null.

    Arrow's own conversion handles the common case; mixed types in a column fall back to ours.
    (Arrow takes the columns from the first row only, so it is used when every row has those keys.)
    """
    names = _names(rows)
    if not fixed:
        try:
            table = pa.Table.from_pylist(rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
        else:
            if table.num_columns == len(names) and all(_plain(f.type) for f in table.schema):
                return table
    return _rows_to_table(rows, names, fixed)


def _names(rows: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        shape = tuple(row)
        if shape not in seen:
            seen.add(shape)
            names.update(dict.fromkeys(shape))
    return list(names)


def _plain(kind: pa.DataType) -> bool:
    """Types our own inference would also have chosen (nulls become strings, as there)."""
    return kind in (pa.string(), pa.int64(), pa.float64(), pa.bool_(), TIMESTAMP)


def _rows_to_table(rows: list[dict[str, Any]], names: list[str], fixed: dict[str, pa.DataType] | None) -> pa.Table:
    fixed = fixed or {}
    arrays = [column([r.get(n) for r in rows], fixed.get(n)) for n in names]
    return pa.Table.from_arrays(arrays, names=names)
