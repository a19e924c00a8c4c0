"""Batches conformed to the table's schema: widened, converted, or rescued — never lost."""

from __future__ import annotations

import orjson
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from loglake.tables.schema import RESCUED, Target

BASE = pa.schema([("level", pa.string()), ("order_id", pa.int64()), ("code", pa.int32()), ("note", pa.string())])


def test_a_new_column_is_added_with_its_first_type_and_later_batches_fit_it() -> None:
    target = Target(BASE)
    first = target.conform(pa.table({"level": ["INFO"], "latency_ms": pa.array([12], pa.int64())}))
    assert [f.name for f in first.added] == ["latency_ms"]
    later = target.conform(pa.table({"latency_ms": ["slow"]}))
    assert later.table.column("latency_ms").to_pylist() == [None]
    assert orjson.loads(later.table.column(RESCUED)[0].as_py()) == {"latency_ms": "slow"}
    assert target.schema().field("latency_ms").type == pa.int64()


def test_int_widens_to_long_and_numbers_convert_into_a_string_column() -> None:
    target = Target(BASE)
    out = target.conform(pa.table({"code": pa.array([2**40], pa.int64()), "note": pa.array([1.5])}))
    assert out.widened == {"code": pa.int64()}
    assert out.table.column("code").to_pylist() == [2**40]
    assert out.table.column("note").to_pylist() == ["1.5"]
    assert out.rescued_rows == 0 and RESCUED not in out.table.column_names


def test_a_value_that_cannot_convert_is_rescued_with_its_row_kept() -> None:
    target = Target(BASE)
    out = target.conform(pa.table({"level": ["INFO", "WARN"], "order_id": ["A-17", None]}))
    assert out.rescued_rows == 1
    assert out.table.column("order_id").to_pylist() == [None, None]
    assert out.table.column(RESCUED).to_pylist() == ['{"order_id":"A-17"}', None]
    assert out.table.column("level").to_pylist() == ["INFO", "WARN"]


def test_a_double_into_a_long_column_is_rescued_not_truncated() -> None:
    out = Target(BASE).conform(pa.table({"order_id": [2.5]}))
    assert out.table.column("order_id").to_pylist() == [None]
    assert orjson.loads(out.table.column(RESCUED)[0].as_py()) == {"order_id": 2.5}


def test_a_column_that_is_only_null_waits_for_a_value() -> None:
    target = Target(BASE)
    out = target.conform(pa.table({"level": ["INFO"], "later": pa.nulls(1)}))
    assert "later" not in out.table.column_names and "later" not in target.types


VALUES = st.one_of(
    st.none(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(
            st.fixed_dictionaries({"level": st.just("INFO")}, optional={k: VALUES for k in "abc"}),
            min_size=1,
            max_size=4,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_every_value_survives_in_its_column_or_in_rescued_data(batches: list[list[dict]]) -> None:
    """Whatever types a field takes across batches, each value is in its column (converted without loss)
    or in `_rescued_data` under its name, and every conformed batch has the target's types."""
    target = Target(pa.schema([("level", pa.string())]))
    for rows in batches:
        names = sorted({k for r in rows for k in r})
        try:
            batch = pa.table({k: pa.array([r.get(k) for r in rows]) for k in names})
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue  # Arrow cannot build one column of mixed types; the writers never hand over such a batch
        out = target.conform(batch)
        types = target.types
        for f in out.table.schema:
            assert f.type == types[f.name], f.name
        got = out.table.to_pylist()
        for original, row in zip(batch.to_pylist(), got, strict=True):  # as the batch holds them: Arrow may unify types
            rescued = orjson.loads(row[RESCUED]) if row.get(RESCUED) else {}
            for name, value in original.items():
                if value is None:
                    continue
                if name in rescued:
                    assert rescued[name] == value or str(rescued[name]) == str(value)
                    assert row[name] is None
                    continue
                kept = row[name]
                if types[name] == pa.string() and not isinstance(value, str):
                    assert kept == str(pa.scalar(value).cast(pa.string()).as_py())
                else:
                    assert kept == value
