"""The local catalog: a SQLite file in pyiceberg's SqlCatalog layout, and writers that start without pyiceberg."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loglake.tables.catalog import SQLITE_KEY, TableDamaged, Tables
from loglake.tables.schema import arrow_of

from .conftest import commit_source


def test_pyiceberg_sql_catalog_reads_the_lakes_catalog(tables: Tables) -> None:
    """Any SqlCatalog (or JDBC catalog) user opens a LogLake lake's catalog file as it is."""
    from pyiceberg.catalog.sql import SqlCatalog

    commit_source(
        tables, {"file:///in/a.log": [[{"level": "INFO", "message": "one"}, {"level": "WARN", "message": "two"}]]}
    )
    root = tables.locations["processed"].removeprefix("file://").rsplit("/", 1)[0]
    theirs = SqlCatalog("loglake", uri=f"sqlite:///{root}/{SQLITE_KEY}")
    table = theirs.load_table(tables.name("processed"))
    assert sorted(table.scan().to_arrow().column("message").to_pylist()) == ["one", "two"]
    assert sorted(t[-1] for t in theirs.list_tables(tables.config.database)) == ["errors_logs", "processed_logs"]


def test_a_stale_commit_is_refused(tables: Tables) -> None:
    """The compare-and-swap: a commit from an outdated snapshot of the table conflicts."""
    from pyiceberg.exceptions import CommitFailedException

    stale = tables.load("processed", refresh=True)
    commit_source(tables, {"file:///in/a.log": [[{"level": "INFO", "message": "one"}]]})
    with pytest.raises(CommitFailedException):
        rows = pa.Table.from_pylist([{"level": "INFO", "message": "late", "dt": "2025-07-21"}])
        stale.append(rows.cast(pa.schema([stale.schema().as_arrow().field(n) for n in rows.column_names])))


_PRIMITIVE = st.sampled_from(
    [pa.bool_(), pa.int32(), pa.int64(), pa.float32(), pa.float64(), pa.string(), pa.large_binary(),
     pa.date32(), pa.timestamp("us"), pa.timestamp("us", tz="UTC"), pa.decimal128(12, 3), pa.binary(16)]
)  # fmt: skip
_TYPES = st.recursive(
    _PRIMITIVE,
    lambda inner: st.one_of(
        st.builds(pa.list_, inner),
        st.builds(
            lambda ts: pa.struct([(f"f{i}", t) for i, t in enumerate(ts)]), st.lists(inner, min_size=1, max_size=3)
        ),
        st.builds(pa.map_, st.sampled_from([pa.string(), pa.int64()]), inner),
    ),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_TYPES, min_size=1, max_size=6))
def test_schema_from_metadata_is_pyicebergs(types: list[pa.DataType]) -> None:
    """Writers start from the metadata file's schema read without pyiceberg: it must be the schema
    pyiceberg itself would give, or the first commit would see columns change type."""
    from pyiceberg.io.pyarrow import _pyarrow_to_schema_without_ids, schema_to_pyarrow
    from pyiceberg.schema import assign_fresh_schema_ids

    ice = assign_fresh_schema_ids(
        _pyarrow_to_schema_without_ids(pa.schema([(f"c{i}", t) for i, t in enumerate(types)]))
    )
    theirs = schema_to_pyarrow(ice, include_field_ids=False)
    assert arrow_of(ice.model_dump(by_alias=True)) == theirs


def test_schema_follows_commits_and_reports_damage(tables: Tables) -> None:
    fresh = Tables(tables.opener, tables.config, tables.locations, tables.where, tables.local, tables.locate)
    assert "user_id" not in fresh.schema("processed").names
    commit_source(tables, {"file:///in/a.log": [[{"level": "INFO", "message": "m", "user_id": 7}]]})
    fresh = Tables(tables.opener, tables.config, tables.locations, tables.where, tables.local, tables.locate)
    assert fresh.schema("processed").field("user_id").type == pa.int64()
    location = fresh.locate(fresh.name("processed"))
    assert location is not None
    Path(location.removeprefix("file://")).write_text("{not json")
    with pytest.raises(TableDamaged, match="processed_logs"):
        fresh.schema("processed")


def test_processing_never_loads_sqlalchemy(tmp_path: Path) -> None:
    """SQLAlchemy would be ~18 MB resident in every run; the catalog is written with sqlite3."""
    log = tmp_path / "app.jsonl"
    log.write_text('{"level":"INFO","message":"hello"}\n')
    code = (
        "import sys\nfrom loglake.cli import main\n"
        f"try:\n    main(['--lake', {str(tmp_path / 'lake')!r}, 'process', {str(log)!r}, '--json'])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
    assert (tmp_path / "lake" / SQLITE_KEY).exists()
