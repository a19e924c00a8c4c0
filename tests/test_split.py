"""Big objects split into byte ranges across processes: the same rows, line numbers and counts as one process."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from loglake.cli import main
from loglake.config import ProcessingConfig, Settings
from loglake.errors import ObjectError
from loglake.formats.reader import (
    BINARY_SAMPLE,
    Window,
    count_lines,
    iter_line_batches,
    line_boundaries,
    record_boundaries,
)
from loglake.lake import Lake
from loglake.parallel import process_parallel
from loglake.query.duckdb_engine import DuckDBEngine
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage
from tests.conftest import visible_files

SPLIT = 64 * 1024


def _lines(data: bytes, max_line: int, ranges: list[tuple[int, int]]) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    for start, end in ranges:
        stream = io.BytesIO(data)
        first = count_lines(stream, start) + 1
        for lineno, batch in iter_line_batches(Window(stream, end - start), "x", max_line, first, head=start == 0):  # type: ignore[arg-type]
            out.extend(enumerate(batch, lineno))
    return out


line = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
    st.sampled_from([b"", b"\r", b'{"a": 1}\r', b"x" * 200, b"\xef\xbb\xbfnot a BOM here"]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(line, max_size=60),
    st.booleans(),
    st.booleans(),
    st.integers(2, 7),
    st.sampled_from([16, 100, 10_000]),
)
def test_ranges_read_exactly_the_lines_of_the_whole(
    body: list[bytes], bom: bool, trailing: bool, parts: int, max_line: int
) -> None:
    """Every line once, in order, with its true number: CRLF, blank and overlong lines, a BOM, no final LF."""
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(body) + (b"\n" if trailing and body else b"")
    cuts = line_boundaries(io.BytesIO(data), len(data), parts)
    assert cuts[0] == 0 and cuts[-1] == len(data) and cuts == sorted(set(cuts))
    assert all(data[c - 1 : c] == b"\n" for c in cuts[1:-1]), "a range starts in the middle of a line"
    try:
        whole = _lines(data, max_line, [(0, len(data))])
    except ObjectError:
        # Binary data, refused at the object's head. Such an object is never split: `plan_split` reads
        # the whole object's head first (a first range shorter than the sample could not judge it).
        return
    if len(cuts) > 1 and cuts[1] < BINARY_SAMPLE:
        # The first range alone may look binary where the whole object's head does not. Never so in use:
        # `plan_split` makes no range shorter than the sample (and by default ranges are megabytes).
        try:
            split = _lines(data, max_line, list(itertools.pairwise(cuts)))
        except ObjectError:
            return
    else:
        split = _lines(data, max_line, list(itertools.pairwise(cuts)))
    assert split == whole


def _json_lines(n: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        kind = rnd.random()
        if kind < 0.01:
            out.append(b'{"level": "info", "message": "cut')  # invalid JSON
        elif kind < 0.02:
            out.append(b"")
        elif kind < 0.03:
            out.append(json.dumps({"message": "no level", "seq": i}).encode() + b"\r")
        else:
            record = {
                "timestamp": f"2025-07-{21 + i % 3}T10:{i % 60:02d}:00Z",
                "level": rnd.choice(["info", "WARN", "error"]),
                "message": "request served " + "x" * rnd.randrange(0, 200),
                "http": {"status": rnd.choice([200, 404, 500]), "ms": rnd.random()},
                "seq": i,
            }
            out.append(json.dumps(record).encode())
    return b"\n".join(out) + b"\n"


def _settings(lake: Path) -> Settings:
    return Settings(lake=str(lake), processing=ProcessingConfig(fsync=False, split_bytes=SPLIT))


def _rows(lake: Path, zone: str) -> list[tuple[Any, ...]]:
    rows = []
    for path in visible_files(lake, zone):
        for row in pq.read_table(path).to_pylist():
            row.pop("processed_timestamp")
            rows.append((path.parent.name, tuple(sorted((k, v) for k, v in row.items() if v is not None))))
    return sorted(rows, key=lambda r: dict(r[1])["source_line"])


def _run(lake_dir: Path, src: Path, jobs: int) -> list[Any]:
    settings = _settings(lake_dir)
    lake = Lake.open(settings)
    lake.init()
    ref = ObjectRef(LocalStorage(str(src.parent)), src.name)
    if jobs == 1:
        return [lake.pipeline().process(ref)]
    return list(process_parallel(settings, [ref], jobs))


def test_split_object_gives_the_whole_objects_rows_and_counts(tmp_path: Path) -> None:
    src = tmp_path / "src" / "app.jsonl"
    src.parent.mkdir()
    src.write_bytes(_json_lines(3000))
    assert src.stat().st_size > 2 * SPLIT
    [whole] = _run(tmp_path / "one", src, 1)
    [split] = _run(tmp_path / "two", src, 2)
    keys = ("status", "lines", "processed", "errors", "blank", "errors_by_reason", "bytes", "compression", "format")
    assert {k: getattr(split, k) for k in keys} == {k: getattr(whole, k) for k in keys}
    assert whole.errors > 0 and whole.blank > 0
    for zone in ("processed", "errors"):
        assert _rows(tmp_path / "two", zone) == _rows(tmp_path / "one", zone)
    # It really was split: each range wrote its own files, all under one manifest.
    names = {p.name for p in (tmp_path / "two" / "processed").rglob("*.parquet")}
    assert any("-r0-" in n for n in names) and any("-r1-" in n for n in names)
    manifests = list((tmp_path / "two" / "manifests").rglob("*.json"))
    assert len(manifests) == 1
    assert len(json.loads(manifests[0].read_text())["outputs"]) == split.outputs


def test_reprocessing_a_split_object_replaces_it(tmp_path: Path) -> None:
    src = tmp_path / "src" / "app.jsonl"
    src.parent.mkdir()
    src.write_bytes(_json_lines(3000))
    _run(tmp_path / "lake", src, 2)
    first = _rows(tmp_path / "lake", "processed")
    [again] = _run(tmp_path / "lake", src, 2)
    assert _rows(tmp_path / "lake", "processed") == first
    lake = Lake.open(_settings(tmp_path / "lake"))
    engine = DuckDBEngine(lake.storage, lake.tables)
    assert engine.run("SELECT count(*) AS n FROM processed_logs", save=False).rows == [{"n": again.processed}]


def test_a_failed_range_sends_the_object_through_one_process(tmp_path: Path) -> None:
    src = tmp_path / "src" / "app.jsonl"
    src.parent.mkdir()
    src.write_bytes(_json_lines(3000))
    lake = Lake.open(_settings(tmp_path / "lake"))
    lake.init()
    pipeline = lake.pipeline()
    ref = ObjectRef(LocalStorage(str(src.parent)), src.name)
    split = pipeline.plan_split(ref, 2)
    assert split is not None and len(split.ranges) == 2
    start, end = split.ranges[0]
    piece = pipeline.process_range(ref, split.att, split.fmt, start, end, 0)
    assert piece.outputs  # written, then dropped: the worker of the other range died (pieces=None)
    summary = pipeline.complete_split(ref, split, None)
    assert summary.status == "ok" and summary.lines == 3000
    assert not any("-r0-" in p.name for p in visible_files(tmp_path / "lake", "processed"))
    from datetime import timedelta

    from loglake.tables.compact import remove_orphans

    remove_orphans(lake.tables, lake.storage, timedelta(0))  # the dropped range's files are no table's
    assert not any("-r0-" in p.name for p in (tmp_path / "lake" / "processed").rglob("*.parquet"))


def test_objects_that_cannot_be_split_are_processed_whole(tmp_path: Path) -> None:
    data = _json_lines(3000)
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "app.jsonl.gz").write_bytes(gzip.compress(data))  # no byte ranges inside gzip
    (folder / "small.jsonl").write_bytes(data[: SPLIT // 2])
    pretty = b"".join(b'{\n  "level": "info",\n  "n": %d\n}\n' % i for i in range(3000))
    (folder / "app.log").write_bytes(pretty)  # pretty-printed JSON: records of many lines, read as a whole
    lake = Lake.open(_settings(tmp_path / "lake"))
    lake.init()
    pipeline = lake.pipeline()
    storage = LocalStorage(str(folder))
    for name in ("app.jsonl.gz", "small.jsonl", "app.log"):
        assert pipeline.plan_split(ObjectRef(storage, name), 2) is None, name
    (folder / "big.jsonl").write_bytes(data)
    assert pipeline.plan_split(ObjectRef(storage, "big.jsonl"), 1) is None
    assert pipeline.plan_split(ObjectRef(storage, "big.jsonl"), 2) is not None


def _log4j(n: int, seed: int = 3) -> bytes:
    """log4j with stack traces, and lines the row path has to place (non-ASCII, blank, an impossible date)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        out.append(f"2025-07-{21 + i % 3} 10:{i % 60:02d}:00,{i % 1000:03d} INFO [main] app.Service - job {i}".encode())
        if rnd.random() < 0.05:
            out += [b"java.lang.IllegalStateException: boom"] + [b"\tat app.Frame.run(Frame.java:42)"] * rnd.randrange(
                9
            )
        if rnd.random() < 0.01:
            out.append(
                rnd.choice([b"", "\tat caf\u00e9.Main(Main.java:1)".encode(), b"2025-02-30 10:00:00,000 INFO x"])
            )
    return b"\n".join(out) + b"\n"


def test_a_multiline_object_is_split_where_records_start(tmp_path: Path) -> None:
    """Stack traces never straddle two ranges: each range begins with a record's first line, so the split run
    joins every trace as the whole-object run does."""
    src = tmp_path / "src" / "app.log"
    src.parent.mkdir()
    src.write_bytes(_log4j(4000))
    lake = Lake.open(_settings(tmp_path / "plan"))
    lake.init()
    split = lake.pipeline().plan_split(ObjectRef(LocalStorage(str(src.parent)), src.name), 4)
    assert split is not None and split.fmt == "log4j" and len(split.ranges) == 4
    data = src.read_bytes()
    for start, _ in split.ranges[1:]:
        assert data[start - 1 : start] == b"\n" and data[start : start + 4] == b"2025"
    [whole] = _run(tmp_path / "one", src, 1)
    [two] = _run(tmp_path / "two", src, 2)
    keys = ("status", "lines", "processed", "errors", "blank", "joined", "errors_by_reason")
    assert {k: getattr(two, k) for k in keys} == {k: getattr(whole, k) for k in keys}
    assert whole.joined > 0 and whole.blank > 0
    for zone in ("processed", "errors"):
        assert _rows(tmp_path / "two", zone) == _rows(tmp_path / "one", zone)
    assert any("-r1-" in p.name for p in (tmp_path / "two" / "processed").rglob("*.parquet"))


def test_record_boundaries_without_a_record_start_keep_fewer_ranges() -> None:
    starts = lambda line: line.startswith(b"START")  # noqa: E731
    body = b"START a\n" + b"  more\n" * 5000 + b"START b\n" + b"x\n" * 10
    cuts = record_boundaries(io.BytesIO(body), len(body), 4, starts, 100, scan=1000)
    assert cuts == [0, len(body)]  # no record starts within 1,000 bytes of any cut
    cuts = record_boundaries(io.BytesIO(body), len(body), 2, starts, 100)
    assert cuts == [0, body.index(b"START b"), len(body)]


def test_cli_jobs_splits_one_big_object(tmp_path: Path) -> None:
    src = tmp_path / "app.jsonl"
    src.write_bytes(_json_lines(3000))
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "loglake.toml").write_text(f"[processing]\nsplit_bytes = {SPLIT}\nfsync = false\n")
    result = CliRunner().invoke(main, ["--lake", str(lake), "process", str(src), "--jobs", "2", "--json"])
    assert result.exit_code == 1, result.output  # 1: some records went to errors/
    totals = json.loads(result.output)["totals"]
    assert totals["lines"] == 3000 == totals["processed"] + totals["errors"] + totals["blank"]
    assert any("-r1-" in p.name for p in (lake / "processed").rglob("*.parquet"))


def test_a_binary_object_is_never_split(tmp_path: Path) -> None:
    """Judged at the object's head, as a whole: a range could not judge it (and must not process it)."""
    src = tmp_path / "blob.log"
    src.write_bytes((b"\x00" * 60 + b"\n") * (3 * SPLIT // 61))
    lake = Lake.open(_settings(tmp_path / "lake"))
    lake.init()
    ref = ObjectRef(LocalStorage(str(tmp_path)), src.name)
    assert lake.pipeline().plan_split(ref, 2) is None
    summary = lake.pipeline().process(ref)
    assert summary.status == "failed" and "binary" in (summary.error or "")


def test_an_object_whose_layout_changes_reads_the_same_split_across_jobs(tmp_path: Path) -> None:
    """HDFS lines, then Spark lines: split into byte ranges, every range detects its layout again, and the
    summary names both formats, as one process does."""
    corpora = Path(__file__).parent / "corpora" / "loghub"
    src = tmp_path / "mixed.log"
    src.write_bytes(
        (corpora / "HDFS" / "HDFS_2k.log").read_bytes() * 3 + (corpora / "Spark" / "Spark_2k.log").read_bytes() * 3
    )
    results = {}
    for jobs in (1, 2):
        root = tmp_path / f"lake{jobs}"
        root.mkdir()
        (root / "loglake.toml").write_text("[processing]\nsplit_bytes = 65536\n")
        out = CliRunner().invoke(main, ["--lake", str(root), "process", str(src), "--jobs", str(jobs), "--json"])
        summary = json.loads(out.stdout)["objects"][0]
        rows = Lake.open(str(root)).query(
            "SELECT source_format, count(*) AS n FROM processed_logs GROUP BY 1 ORDER BY 1"
        )
        results[jobs] = (
            {k: summary[k] for k in ("format", "lines", "processed", "errors", "joined")},
            rows.to_pylist(),
        )
    assert results[1] == results[2]
    assert results[2][0] == {"format": "hdfs+spark", "lines": 12000, "processed": 12000, "errors": 0, "joined": 0}
    assert results[2][1] == [{"source_format": "hdfs", "n": 6000}, {"source_format": "spark", "n": 6000}]
