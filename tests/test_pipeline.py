"""The pipeline against real files and Parquet on disk: bad input, accounting, idempotency, commits."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loglake.config import ProcessingConfig, Settings
from loglake.lake import Lake
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage
from tests.conftest import jl, query, rec, visible_files


def rows(lake: Lake, table: str = "processed_logs", order: str = "source_line") -> list[dict]:
    return query(lake, f"SELECT * FROM {table} ORDER BY {order}")


def test_valid_records_are_enriched_and_partitioned(process_bytes, lake, lake_dir) -> None:
    summary = process_bytes(
        jl(rec(http={"status": 200, "path": "/a"}, tags=["x"]), rec(timestamp="2025-07-22T01:00:00+03:00"))
    )
    assert (summary.lines, summary.processed, summary.errors, summary.status) == (2, 2, 0, "ok")
    got = rows(lake)
    assert [r["dt"] for r in got] == ["2025-07-21", "2025-07-21"]  # +03:00 → 2025-07-21T22:00Z
    first = got[0]
    assert first["http_status"] == 200 and first["http_path"] == "/a" and first["tags"] == '["x"]'
    assert first["source_line"] == 1 and first["source_uri"].endswith("app.log")
    assert first["processed_timestamp"] is not None
    files = visible_files(lake_dir, "processed")
    # Two rows: written uncompressed (zstd gains nothing on a few rows; see tests/sinks/test_writers.py).
    assert files and all(pq.ParquetFile(f).metadata.row_group(0).column(0).compression == "UNCOMPRESSED" for f in files)


def test_record_without_timestamp_lands_in_processing_date(process_bytes, lake) -> None:
    process_bytes(jl({"level": "info", "message": "no time"}))
    (row,) = rows(lake)
    assert row["dt"] == row["processed_timestamp"].date().isoformat()
    assert row["level"] == "INFO"


BAD_INPUTS = [
    (b'{"level": "INFO", "message": "x"', "invalid_json"),
    (b'["an", "array"]', "not_an_object"),
    (b"42", "not_an_object"),
    (b'{"level": "INFO", "message": "caf\xe9"}', "invalid_utf8"),
    (b'{"level": "INFO", "message": "a\x00b"}', "nul_byte"),
    (b'{"message": "x"}', "missing_field:level"),
    (b'{"level": "INFO", "message": ""}', "empty_field:message"),
    (b'{"level": "SHOUT", "message": "x"}', "not_allowed:level"),
    (b'{"level": "INFO", "message": "x", "timestamp": "tuesday"}', "bad_timestamp"),
]


@pytest.mark.parametrize(("line", "code"), BAD_INPUTS, ids=[c for _, c in BAD_INPUTS])
def test_each_bad_input_goes_to_errors_with_reason_and_exact_raw_line(process_bytes, lake, line, code) -> None:
    summary = process_bytes(jl(rec(), line, rec(message="after")))
    assert (summary.lines, summary.processed, summary.errors) == (3, 2, 1)
    assert summary.errors_by_reason == {code: 1}
    (err,) = rows(lake, "errors_logs")
    assert err["error_code"] == code and err["error_codes"] == [code]
    assert err["source_line"] == 2 and err["error_message"]
    exact = base64.b64decode(err["raw_line_b64"]) if err["raw_line_b64"] else err["raw_line"].encode()
    assert exact == line
    assert err["raw_length"] == len(line)


def test_multi_megabyte_line_is_processed_and_too_long_line_is_an_error(tmp_path, process_bytes, lake_dir) -> None:
    big = "x" * (3 * 1024 * 1024)
    lake = Lake.open(Settings(lake=str(lake_dir), processing=ProcessingConfig(max_line_bytes=5 * 1024 * 1024)))
    summary = process_bytes(jl(rec(message=big), rec(message="y" * (6 * 1024 * 1024)), rec()), target=lake)
    assert (summary.processed, summary.errors) == (2, 1)
    assert summary.errors_by_reason == {"line_too_long": 1}
    got = query(lake, "SELECT length(message) AS n FROM processed_logs ORDER BY source_line")
    assert [r["n"] for r in got] == [len(big), 5]
    (err,) = query(lake, "SELECT raw_length, length(raw_line) AS kept, source_line FROM errors_logs")
    assert err["raw_length"] > 6 * 1024 * 1024 and err["kept"] == 1024 and err["source_line"] == 2


def test_empty_object_is_ok_with_nothing_written(process_bytes, lake_dir) -> None:
    summary = process_bytes(b"")
    assert (summary.status, summary.lines, summary.outputs) == ("ok", 0, 0)
    assert visible_files(lake_dir, "processed") == []


def test_bom_crlf_and_blank_lines(process_bytes, lake) -> None:
    data = (
        b"\xef\xbb\xbf"
        + jl(rec()).replace(b"\n", b"\r\n")
        + b"\r\n   \r\n"
        + jl(rec(message="two")).replace(b"\n", b"\r\n")
    )
    summary = process_bytes(data)
    assert (summary.lines, summary.processed, summary.blank, summary.errors) == (4, 2, 2, 0)
    assert [r["message"] for r in rows(lake)] == ["hello", "two"]


def test_case_colliding_keys_become_distinct_columns(process_bytes, lake) -> None:
    process_bytes(jl(rec(Service="A", service="b", SERVICE="c")))
    (row,) = rows(lake)
    assert (row["service"], row["service_2"], row["service_3"]) == ("b", "c", "A")


def test_odd_keys_are_safe_columns(process_bytes, lake) -> None:
    process_bytes(jl(rec(**{"user name": "a", "naïve": 1, "a+b%c": 2, "1st": 3})))
    (row,) = rows(lake)
    assert (row["user_name"], row["na_ve"], row["a_b_c"], row["col_1st"]) == ("a", 1, 2, 3)


def test_gzip_object(process_bytes, lake) -> None:
    summary = process_bytes(gzip.compress(jl(rec(), rec())), name="app.log.gz")
    assert (summary.compression, summary.processed) == ("gzip", 2)


def test_truncated_gzip_keeps_lines_before_damage_and_fails_the_object(process_bytes, lake) -> None:
    data = gzip.compress(jl(*[rec(n=i) for i in range(50_000)]))
    summary = process_bytes(data[: len(data) // 2], name="cut.log.gz")
    assert summary.status == "failed" and "damaged" in (summary.error or "")
    assert 0 < summary.processed < 50_000
    assert query(lake, "SELECT count(*) AS n FROM processed_logs")[0]["n"] == summary.processed


def test_reprocessing_replaces_instead_of_duplicating(process_bytes, lake, lake_dir) -> None:
    process_bytes(jl(rec(), rec(timestamp="2025-07-25T00:00:00Z"), b"bad"))
    first = visible_files(lake_dir, "processed") + visible_files(lake_dir, "errors")
    process_bytes(jl(rec(), rec(timestamp="2025-07-25T00:00:00Z"), b"bad"))
    again = visible_files(lake_dir, "processed") + visible_files(lake_dir, "errors")
    assert len(again) == len(first) == 3 and not set(again) & set(first)  # the new attempt's files instead
    assert query(lake, "SELECT count(*) AS n FROM processed_logs")[0]["n"] == 2
    # a changed source replaces its old output, including partitions it no longer touches
    process_bytes(jl(rec()))
    assert query(lake, "SELECT count(*) AS n, min(dt) AS lo, max(dt) AS hi FROM processed_logs") == [
        {"n": 1, "lo": "2025-07-21", "hi": "2025-07-21"}
    ]
    assert query(lake, "SELECT count(*) AS n FROM errors_logs")[0]["n"] == 0
    assert not [p for p in visible_files(lake_dir, "processed") if "dt=2025-07-25" in str(p)]


def test_types_widen_within_an_object_and_across_files(tmp_path, process_bytes, lake) -> None:
    process_bytes(jl(rec(code=1, ratio=1), rec(code="E42", ratio=1.5)), name="a.log")
    process_bytes(jl(rec(code=7, extra=True)), name="b.log")
    schema = lake.tables.load("processed", refresh=True).schema()
    columns = {f.name: str(f.field_type) for f in schema.fields}
    assert columns["code"] == "string" and columns["ratio"] == "double" and columns["extra"] == "boolean"
    got = query(lake, "SELECT code, ratio, extra FROM processed_logs ORDER BY source_uri, source_line")
    assert got == [
        {"code": "1", "ratio": 1.0, "extra": None},
        {"code": "E42", "ratio": 1.5, "extra": None},
        {"code": "7", "ratio": None, "extra": True},
    ]


def test_a_type_change_within_an_object_keeps_every_value(process_bytes, lake_dir) -> None:
    """The first batch makes `v` a long column; later text values are kept in `_rescued_data`, rows valid."""
    lake = Lake.open(Settings(lake=str(lake_dir), processing=ProcessingConfig(batch_rows=2)))
    summary = process_bytes(jl(rec(v=1), rec(v=2), rec(v="text"), rec(v="more")), target=lake)
    assert (summary.processed, summary.rescued) == (4, 2)
    got = query(lake, "SELECT v, _rescued_data FROM processed_logs ORDER BY source_line")
    assert got == [
        {"v": 1, "_rescued_data": None},
        {"v": 2, "_rescued_data": None},
        {"v": None, "_rescued_data": '{"v":"text"}'},
        {"v": None, "_rescued_data": '{"v":"more"}'},
    ]


def test_jsonl_output_is_refused_with_what_to_do(lake_dir) -> None:
    from loglake.config import settings_from_toml
    from loglake.errors import ConfigError

    with pytest.raises(ConfigError, match="Iceberg tables of Parquet files"):
        settings_from_toml({"processing": {"processed_format": "jsonl"}}, str(lake_dir))


def test_whole_object_failures_are_recorded_and_others_still_processed(tmp_path, lake) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.log").write_bytes(jl(rec()))
    (src / "garbage.log").write_bytes(bytes(range(256)) * 64)
    (src / "folder.log").mkdir()
    storage = LocalStorage(str(src))
    pipeline = lake.pipeline()
    results = {
        name: pipeline.process(ObjectRef(storage, name))
        for name in ("garbage.log", "folder.log", "gone.log", "good.log")
    }
    assert results["good.log"].status == "ok" and results["good.log"].processed == 1
    for name, cause in (("garbage.log", "binary"), ("folder.log", "directory"), ("gone.log", "no such object")):
        assert results[name].status == "failed" and cause in (results[name].error or ""), results[name]
        assert name in results[name].source_uri
    from loglake.tables.journal import iter_manifests

    failed = {m["source_uri"].rsplit("/", 1)[-1]: m for m in iter_manifests(lake.storage) if "failure" in m}
    assert set(failed) == {"garbage.log", "folder.log", "gone.log"}


def test_a_full_disk_fails_that_object_and_the_run_goes_on(tmp_path, lake, lake_dir, monkeypatch) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.log", "b.log", "c.log"):
        (src / name).write_bytes(jl(rec(), rec(n=2)))
    real = LocalStorage.open_write

    def full(self: LocalStorage, key: str):  # type: ignore[no-untyped-def]
        if "/b-" in key and key.startswith("processed/"):  # b.log's data files
            raise OSError(28, "No space left on device")
        return real(self, key)

    monkeypatch.setattr(LocalStorage, "open_write", full)
    storage = LocalStorage(str(src))
    pipeline = lake.pipeline()
    results = [pipeline.process(ObjectRef(storage, name)) for name in ("a.log", "b.log", "c.log")]
    monkeypatch.undo()
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert "could not be written" in (results[1].error or "") and "No space left" in (results[1].error or "")
    assert not list(lake_dir.glob("*/dt=*/b-*"))  # nothing of b.log left behind
    assert {r["source_uri"].rsplit("/", 1)[-1] for r in rows(lake)} == {"a.log", "c.log"}


def test_a_commit_failing_after_its_journal_is_finished_by_the_next_run(tmp_path, lake, monkeypatch) -> None:
    """The processed table committed, then the errors table's commit failed: the next run completes it once."""
    from loglake.tables import commit as commit_mod

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.log").write_bytes(jl(rec(), rec(n=2), b"broken"))
    ref = ObjectRef(LocalStorage(str(src)), "a.log")
    real = commit_mod._apply

    def broken(table, commit, change, replace):  # type: ignore[no-untyped-def]
        if table.name()[-1] == "errors_logs":
            raise OSError(5, "Input/output error")
        return real(table, commit, change, replace)

    monkeypatch.setattr(commit_mod, "_apply", broken)
    summary = lake.pipeline().process(ref)
    monkeypatch.undo()
    assert summary.status == "failed" and "next `loglake process`" in (summary.error or ""), summary.error
    assert [r["source_line"] for r in rows(lake)] == [1, 2] and rows(lake, "errors_logs") == []
    other = tmp_path / "in" / "b.log"
    other.write_bytes(jl(rec()))
    assert lake.pipeline().process(ObjectRef(LocalStorage(str(src)), "b.log")).status == "ok"  # recovers first
    assert [r["source_line"] for r in rows(lake, "errors_logs")] == [3]
    assert len(rows(lake)) == 3
    from loglake.tables.journal import iter_manifests

    assert {m["state"] for m in iter_manifests(lake.storage)} == {"committed"}


def test_files_of_a_crashed_attempt_are_no_rows_and_go_with_orphan_cleanup(tmp_path, lake, lake_dir) -> None:
    from datetime import timedelta

    from loglake.tables.compact import remove_orphans

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.log").write_bytes(jl(rec()))
    crashed = lake_dir / "processed" / "dt=2025-07-21" / "a-0123456789abcdef-dead-0000.parquet"
    crashed.parent.mkdir(parents=True, exist_ok=True)
    crashed.write_bytes(b"PAR1 half written")
    assert lake.pipeline().process(ObjectRef(LocalStorage(str(src)), "a.log")).status == "ok"
    assert len(rows(lake)) == 1 and crashed not in visible_files(lake_dir, "processed")
    assert remove_orphans(lake.tables, lake.storage, timedelta(0))["processed"] >= 1
    assert not crashed.exists() and len(rows(lake)) == 1


@st.composite
def mixed_objects(draw) -> bytes:
    good = st.builds(
        lambda lv, msg, extra: json.dumps({"level": lv, "message": msg, **extra}).encode(),
        st.sampled_from(["INFO", "warn", "Error", "debug", "LOUD", "", None]),
        st.text(max_size=20),
        st.dictionaries(
            st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()), max_size=3
        ),
    )
    bad = st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"", b"   ", b"[1]", b"{", b'{"level": "INFO"}', b"\xff\xfe", b"null", b"\x00"]),
    )
    lines = draw(st.lists(st.one_of(good, bad), max_size=40))
    sep = draw(st.sampled_from([b"\n", b"\r\n"]))
    return sep.join(line.replace(b"\n", b" ") for line in lines) + draw(st.sampled_from([b"", sep]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mixed_objects())
@example(data=b"\xef\xbb\xbf")  # a BOM alone: an empty object, found by this test in CI
def test_accounting_invariant(process_bytes, lake, data: bytes) -> None:
    """Every line lands in exactly one of processed/errors, or is counted blank — and the tables agree."""
    summary = process_bytes(data)
    if summary.status == "failed":
        # whole-object failures (binary data; bytes that open like a compressed stream) are named
        assert any(w in (summary.error or "") for w in ("binary", "damaged", "truncated")), summary
        assert summary.lines + summary.shared == summary.processed + summary.errors + summary.blank + summary.joined
        return
    # A leading BOM is an encoding mark, not text: the reader drops it (a BOM alone is an empty object).
    physical = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if physical[-1] == b"":
        physical.pop()
    assert summary.lines == len(physical)
    assert summary.lines + summary.shared == summary.processed + summary.errors + summary.blank + summary.joined
    # a record may fail several rules, so reasons count at least once per error line
    assert sum(summary.errors_by_reason.values()) >= summary.errors
    assert (summary.errors == 0) == (not summary.errors_by_reason)
    lines_p = [r["source_line"] for r in query(lake, "SELECT source_line FROM processed_logs")]
    lines_e = [r["source_line"] for r in query(lake, "SELECT source_line FROM errors_logs")]
    assert len(lines_p) == summary.processed and len(lines_e) == summary.errors
    if not summary.shared:  # records sharing a line (a JSON array on one line) may go to both zones
        assert not set(lines_p) & set(lines_e)
    assert all(1 <= n <= summary.lines for n in lines_p + lines_e)


def test_summary_is_kept_in_the_manifest(process_bytes, lake) -> None:
    summary = process_bytes(jl(rec(), b"x"))
    from loglake.tables.journal import iter_manifests

    (manifest,) = iter_manifests(lake.storage)
    assert manifest["state"] == "committed"
    assert manifest["summary"]["lines"] == 2 and manifest["summary"]["errors_by_reason"] == {"invalid_json": 1}
    assert manifest["source_uri"] == summary.source_uri
    assert {o["zone"] for o in manifest["outputs"]} == {"processed", "errors"}
    live = {str(p) for zone in ("processed", "errors") for p in visible_files(Path(lake.storage.uri("")), zone)}
    assert {lake.storage.uri(out["key"]) for out in manifest["outputs"]} == live
