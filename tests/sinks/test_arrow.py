"""Rows → Arrow: every key of every row becomes a column, whatever row it first appears in."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from loglake.sinks.arrow import rows_to_table

VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), st.text())


def test_a_key_first_seen_in_a_later_row_is_kept() -> None:
    table = rows_to_table([{"a": 1}, {"a": 2, "b": "x"}, {"c": None}])
    assert table.column_names == ["a", "b", "c"]
    assert table.to_pylist() == [
        {"a": 1, "b": None, "c": None},
        {"a": 2, "b": "x", "c": None},
        {"a": None, "b": None, "c": None},
    ]
    assert table.schema.field("c").type == pa.string()


def test_mixed_types_widen() -> None:
    table = rows_to_table([{"n": 1, "t": datetime(2025, 1, 1)}, {"n": 2.5, "t": "later"}])
    assert table.schema.field("n").type == pa.float64()
    assert table.column("t").to_pylist() == ['"2025-01-01T00:00:00+00:00"', "later"]


@given(st.lists(st.dictionaries(st.sampled_from("abcde"), VALUES, min_size=1, max_size=4), min_size=1, max_size=12))
def test_no_value_is_lost(rows: list[dict[str, object]]) -> None:
    table = rows_to_table(rows)
    keys = {k for row in rows for k in row}
    assert set(table.column_names) == keys
    out = table.to_pylist()
    for row, got in zip(rows, out, strict=True):
        for key, value in row.items():
            if value is None or got[key] is None:
                assert value is None and got[key] is None
            elif isinstance(got[key], str) and not isinstance(value, str):
                continue  # widened to text: checked by the widening test
            elif isinstance(got[key], float) and type(value) is int:
                assert got[key] == float(value)  # widened to double, as JSON readers do
            else:
                assert got[key] == value
