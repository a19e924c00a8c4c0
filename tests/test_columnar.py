"""The columnar path must give exactly what the row path gives: same rows, values, types, lines and reasons."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglake.config import FormatsConfig, ProcessingConfig, RulesConfig, Settings
from loglake.lake import Lake
from loglake.pipeline import Pipeline, Summary
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage
from loglake.tables.schema import RESCUED


def _pipeline(
    root: Path,
    columnar: bool,
    rules: RulesConfig | None = None,
    formats: FormatsConfig | None = None,
    max_line_bytes: int = ProcessingConfig.max_line_bytes,
) -> tuple[Pipeline, Path]:
    lake_dir = root / ("columnar" if columnar else "rows")
    settings = Settings(
        lake=str(lake_dir),
        processing=ProcessingConfig(columnar=columnar, fsync=False, max_line_bytes=max_line_bytes),
        rules=rules or RulesConfig(),
        formats=formats or FormatsConfig(),
    )
    lake = Lake.open(settings)
    lake.init()
    return lake.pipeline(), lake_dir


def _process(
    root: Path, data: bytes, columnar: bool, rules: RulesConfig | None = None, overlap: bool = True
) -> tuple[Summary, Path]:
    pipeline, lake_dir = _pipeline(root, columnar, rules)
    src = root / "src"
    src.mkdir(exist_ok=True)
    (src / "app.jsonl").write_bytes(data)
    pipeline.overlap = overlap  # off: each batch's Arrow work inline, as in worker processes filling the cores
    return pipeline.process(ObjectRef(LocalStorage(str(src)), "app.jsonl")), lake_dir


def _zone(lake_dir: Path, zone: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """All rows of a zone's table, sorted by line, values kept in `_rescued_data` put back; and its column types.

    Each path infers types per batch it holds (the row path per partition buffer, the columnar path per
    read), and the first batch's type is the table's: a value one path rescued the other may hold in its
    column. Putting rescued values back shows that neither lost anything.
    """
    from tests.conftest import query

    lake = Lake.open(Settings(lake=str(lake_dir)))
    table = "processed_logs" if zone == "processed" else "errors_logs"
    schema = lake.tables.load(zone, refresh=True).schema().as_arrow()
    rows: list[dict[str, Any]] = []
    for row in query(lake, f'SELECT * FROM "{table}"'):
        row.pop("processed_timestamp")
        rescued = row.pop(RESCUED, None)
        row = {k: v for k, v in row.items() if v is not None}
        if rescued:
            row.update(orjson.loads(rescued))
        rows.append(row)
    rows.sort(key=lambda r: r["source_line"])
    return rows, {f.name: str(f.type) for f in schema if f.name != RESCUED}


def _same(tmp: Path, data: bytes, rules: RulesConfig | None = None, overlap: bool = True) -> Summary:
    fast, fast_dir = _process(tmp, data, True, rules, overlap)
    slow, slow_dir = _process(tmp, data, False, rules)
    assert_same_output(fast, fast_dir, slow, slow_dir)
    return fast


def assert_same_output(fast: Summary, fast_dir: Path, slow: Summary, slow_dir: Path) -> None:
    """Same counts and reasons, same columns, and the same values as a query through the catalog sees them."""
    keys = ("status", "lines", "processed", "errors", "blank", "joined", "errors_by_reason", "error")
    assert {k: getattr(fast, k) for k in keys} == {k: getattr(slow, k) for k in keys}
    for zone in ("processed", "errors"):
        fast_rows, fast_cols = _zone(fast_dir, zone)
        slow_rows, slow_cols = _zone(slow_dir, zone)
        assert set(fast_cols) == set(slow_cols), zone
        differ = {n for n in fast_cols if fast_cols[n] != slow_cols[n]}
        assert _as_text(fast_rows, differ) == _as_text(slow_rows, differ), zone


def _as_text(rows: list[dict[str, Any]], names: set[str]) -> list[dict[str, Any]]:
    """Columns whose type the two paths' first batches chose differently, compared as text."""
    return [{k: _text(v) if k in names else v for k, v in row.items()} for row in rows]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


KEYS = st.sampled_from(["a", "b", "A", "http", "Http Status", "x.y", "source_uri", "dt", "é", "list"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)
TIMES = st.sampled_from(
    [
        "2025-07-21T10:00:00Z",
        "2025-07-22T10:00:00.123Z",
        "2025-07-21T23:30:00-02:00",
        "2025-07-21 10:00:00",
        "2025-07-21T10:00:00.1234567Z",
        "2025-02-30T10:00:00Z",
        "2025-07-21",
        "1753092000",
        " 2025-07-21T10:00:00Z",
        "never",
        1753092000,
        1753092000123,
        None,
    ]
)
LEVELS = st.sampled_from(["INFO", "info", "Warning", "ERROR", "SHOUT", "", " ", None, 3])
BAD = st.sampled_from(
    [
        b'{"level": "INFO", "message": "cut',
        b"[1, 2]",
        b'"text"',
        b"",
        b"   ",
        b'{"level": "INFO", "message": "caf\xe9"}',
        b'{"level": "INFO", "message": "a\x00b"}',
        b'{"level": "INFO", "message": "x", "level": "WARN"}',
        b'{"level": "INFO", "message": "big", "n": 1e400}',
        b'{"level": "INFO", "message": "huge", "n": 123456789012345678901234567890}',
    ]
)


@st.composite
def records(draw: st.DrawFn) -> bytes:
    record: dict[str, Any] = {}
    if draw(st.booleans()):
        record["timestamp"] = draw(TIMES)
    if draw(st.integers(0, 9)):
        record["level"] = draw(LEVELS)
    if draw(st.integers(0, 9)):
        record["message"] = draw(st.one_of(st.text(max_size=6), st.integers(-(2**63), 2**63 - 1)))
    record.update(draw(st.dictionaries(KEYS, VALUES, max_size=4)))
    return orjson.dumps(record)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(records(), records(), records(), BAD), min_size=1, max_size=25))
def test_columnar_output_equals_row_output(tmp_path_factory: Any, lines: list[bytes]) -> None:
    _same(tmp_path_factory.mktemp("eq"), b"\n".join(lines) + b"\n")


@st.composite
def uniform_records(draw: st.DrawFn) -> bytes:
    """One shape with optional fields, as real logs have: most batches take the columnar path."""
    fields: dict[str, Any] = {
        "timestamp": TIMES.filter(lambda t: isinstance(t, str) and t[:1] == "2"),
        "level": st.sampled_from(["INFO", "info", "WARN", "Warning", "NOPE", "", " "]),
        "message": st.text(max_size=5),
        "n": st.integers(-(2**63), 2**63 - 1),
        "f": st.floats(allow_nan=False, allow_infinity=False),
        "ok": st.booleans(),
        "http": st.fixed_dictionaries({}, optional={"status": st.integers(100, 599), "path": st.text(max_size=4)}),
        "tags": st.lists(st.text(max_size=3), max_size=3),
        "note": st.none(),
    }
    record = {k: draw(v) for k, v in fields.items() if draw(st.integers(0, 4))}
    return orjson.dumps(record)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.one_of(uniform_records(), uniform_records(), uniform_records(), BAD), min_size=1, max_size=25),
    overlap=st.booleans(),
)
def test_columnar_output_equals_row_output_on_one_shape(
    tmp_path_factory: Any, lines: list[bytes], overlap: bool
) -> None:
    _same(tmp_path_factory.mktemp("eq"), b"\n".join(lines) + b"\n", overlap=overlap)


@pytest.mark.parametrize("overlap", [True, False])
def test_uniform_records_take_the_columnar_path_and_match(tmp_path: Path, overlap: bool) -> None:
    """Records of one shape (the case the columnar path exists for), with a type change mid-object."""
    rng = random.Random(5)
    lines = []
    for i in range(30_000):
        record = {
            "timestamp": f"2025-07-{21 + i % 3}T10:00:{i % 60:02d}.{i % 1000:03d}Z",
            "level": rng.choice(["INFO", "WARN", "warning"]),
            "message": "served",
            "http": {"status": rng.choice([200, 500]), "ms": rng.random(), "tags": ["a", "b"]},
            "seq": i,
        }
        lines.append(orjson.dumps(record))
        if i % 97 == 0:
            lines.append(b'{"level": "LOUD", "message": "x"}')
    summary = _same(tmp_path, b"\n".join(lines) + b"\n", overlap=overlap)
    assert summary.processed == 30_000 and summary.errors == len(lines) - 30_000
    assert summary.errors_by_reason == {"not_allowed:level": len(lines) - 30_000}


def test_a_type_change_between_batches_loses_nothing(tmp_path: Path) -> None:
    """An int column turning into text after the first batches: the later values are rescued, none lost."""
    from tests.conftest import query

    data = b"".join(
        orjson.dumps({"level": "INFO", "message": "m", "code": i if i < 10_000 else f"c{i}"}) + b"\n"
        for i in range(30_000)
    )
    summary, lake_dir = _process(tmp_path, data, True)
    assert summary.processed == 30_000
    lake = Lake.open(Settings(lake=str(lake_dir)))
    rows = query(lake, 'SELECT * FROM "processed_logs" ORDER BY source_line')
    got = [str(r["code"]) if r["code"] is not None else orjson.loads(r[RESCUED])["code"] for r in rows]
    assert got == [str(i) if i < 10_000 else f"c{i}" for i in range(30_000)]
    assert summary.rescued == sum(1 for r in rows if r.get(RESCUED))


def test_time_window_rules_match(tmp_path: Path) -> None:
    rules = RulesConfig(max_future=timedelta(days=1), max_age=timedelta(days=3650))
    lines = [
        orjson.dumps({"timestamp": t, "level": "INFO", "message": "m"})
        for t in ("2025-07-21T10:00:00Z", "2999-01-01T00:00:00Z", "1990-01-01T00:00:00Z", "2025-07-21T12:00:00")
    ]
    summary = _same(tmp_path, b"\n".join(lines * 50) + b"\n", rules)
    assert summary.errors_by_reason == {"timestamp_out_of_window": 100}


def test_extra_field_rules_still_validate(tmp_path: Path) -> None:
    """Rule sets the probe cannot decide exactly go row by row; the result is the same either way."""
    from loglake.config import FieldRule

    rules = RulesConfig(fields=(FieldRule(name="http.status", type="integer", min=100, max=599),))
    lines = [orjson.dumps({"level": "INFO", "message": "m", "http": {"status": s}}) for s in (200, 700, "x")]
    summary = _same(tmp_path, b"\n".join(lines) + b"\n", rules)
    assert summary.errors == 2  # "x" fails both the type and the range check
    assert summary.errors_by_reason == {"out_of_range:http.status": 1, "wrong_type:http.status": 2}


def test_lineage_types_are_the_catalogs(tmp_path: Path) -> None:
    _, lake_dir = _process(tmp_path, orjson.dumps({"level": "INFO", "message": "m"}) + b"\n", True)
    (path,) = (lake_dir / "processed").glob("dt=*/*.parquet")
    schema = pq.read_schema(path)
    assert schema.field("source_line").type == pa.int64()
    assert schema.field("processed_timestamp").type == pa.timestamp("us")
