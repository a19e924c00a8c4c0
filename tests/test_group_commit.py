"""Small objects committed in groups: rows share one file per partition, yet each object is kept,
counted, replaced and recovered exactly as if it had been committed alone."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglake.cli import main
from loglake.config import ProcessingConfig, Settings
from loglake.lake import Lake
from loglake.pipeline import Pipeline, Summary
from loglake.sinks import SharedWriter
from loglake.sources import ObjectRef, refs_for_paths
from loglake.storage import LocalStorage
from loglake.tables import commit as table_commit
from loglake.tables import journal as commit_mod
from tests.conftest import jl, query, rec, visible_files
from tests.test_columnar import BAD, _as_text, _zone, records

SUFFIXES = ProcessingConfig().suffixes


def _lake(root: Path, **processing: Any) -> Lake:
    lake = Lake.open(Settings(lake=str(root), processing=ProcessingConfig(fsync=False, **processing)))
    lake.init()
    return lake


def _objects(src: Path, count: int = 12) -> None:
    """Small objects over three event dates, with bad lines, one gzip and one that cannot be read."""
    src.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        lines = [rec(n=i, k=j, timestamp=f"2025-07-{21 + (i + j) % 3}T10:00:00Z") for j in range(5)]
        lines += [b"not json", rec(level="SHOUT")] if i % 3 == 0 else []
        (src / f"obj {i:02d}+%.jsonl").write_bytes(jl(*lines))
    (src / "zipped.log.gz").write_bytes(gzip.compress(jl(rec(n=99), rec(n=100))))
    (src / "broken.log.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)


def _setup(tmp_path: Path, count: int = 12, **processing: Any) -> tuple[Path, Path, Lake]:
    """Source objects, and an empty lake to process them into."""
    _objects(tmp_path / "src", count)
    return tmp_path / "src", tmp_path / "lake", _lake(tmp_path / "lake", **processing)


def _run(lake: Lake, src: Path) -> list[Summary]:
    pipeline = lake.pipeline()
    return list(pipeline.process_many(refs_for_paths([str(src)], SUFFIXES)))


def _table(lake: Lake, zone: str = "processed") -> list[dict[str, Any]]:
    table = "processed_logs" if zone == "processed" else "errors_logs"
    rows = query(lake, f"SELECT * EXCLUDE (processed_timestamp) FROM {table} ORDER BY source_uri, source_line")
    return [{k: v for k, v in r.items() if v is not None} for r in rows]


def _files(root: Path, zone: str = "processed") -> list[str]:
    return [str(p.relative_to(root / zone)) for p in visible_files(root, zone)]


def _break_errors_table(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """The errors table's transaction raises `error` (a kill, an I/O error): the processed one has committed."""
    real = table_commit._apply

    def cut(table: Any, commit: Any, change: Any, replace: Any) -> None:
        if table.name()[-1] == "errors_logs":
            raise error
        real(table, commit, change, replace)

    monkeypatch.setattr(table_commit, "_apply", cut)


def test_small_objects_share_one_file_per_partition_and_match_separate_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SharedWriter, "MERGE_EVERY", 3)  # held tables merged on the way, as with many objects
    src = tmp_path / "src"
    _objects(src)
    grouped, alone = _lake(tmp_path / "grouped"), _lake(tmp_path / "alone", group_object_bytes=0)
    got, want = _run(grouped, src), _run(alone, src)

    keys = ("source_uri", "status", "lines", "processed", "errors", "blank", "errors_by_reason", "error")
    assert [{k: getattr(s, k) for k in keys} for s in got] == [{k: getattr(s, k) for k in keys} for s in want]
    assert [s.status for s in got].count("failed") == 1
    for zone in ("processed", "errors"):
        assert _table(grouped, zone) == _table(alone, zone)
    # One file per partition and zone instead of one per object and partition.
    assert sorted(p.split("/")[0] for p in _files(tmp_path / "grouped")) == [
        "dt=2025-07-21",
        "dt=2025-07-22",
        "dt=2025-07-23",
    ]
    assert len(_files(tmp_path / "alone")) > 3 * len(_files(tmp_path / "grouped"))
    # Each object still has its own manifest, naming the shared files that hold its rows.
    for summary in got:
        manifest = commit_mod.read_manifest(grouped.storage, commit_mod.source_id(summary.source_uri))
        assert manifest is not None
        if summary.status == "ok":
            assert manifest["state"] == "committed"
            assert all(o["shared"] for o in manifest["outputs"])
        else:
            assert manifest["failure"]["error"] == summary.error
    assert not list((tmp_path / "grouped" / "commits").glob("*.json"))


def test_reprocessing_replaces_group_members_exactly(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _objects(src)
    lake = _lake(tmp_path / "lake")
    _run(lake, src)
    before = _table(lake)

    _run(lake, src)  # the whole folder again: the old shared files go, nothing doubles
    assert _table(lake) == before
    assert len(_files(tmp_path / "lake")) == 3

    # One member changed and reprocessed alone: its old rows leave the shared files, the others stay.
    changed = src / "obj 04+%.jsonl"
    changed.write_bytes(jl(rec(n=444, k=0, timestamp="2025-07-21T11:00:00Z")))
    pipeline = lake.pipeline()
    [summary] = pipeline.process_many([ObjectRef(LocalStorage(str(src)), changed.name)])
    assert summary.processed == 1
    uri = str(changed)
    after = _table(lake)
    assert [r["n"] for r in after if r["source_uri"] == uri] == [444]
    assert [r for r in after if r["source_uri"] != uri] == [r for r in before if r["source_uri"] != uri]


def test_member_reprocessed_alone_after_compaction(tmp_path: Path) -> None:
    from click.testing import CliRunner

    src = tmp_path / "src"
    _objects(src)
    root = tmp_path / "lake"
    lake = _lake(root, group_objects=4)  # several groups: several files per partition to merge
    _run(lake, src)
    before = _table(lake)
    assert len(_files(root)) > 3
    runner = CliRunner()
    for _ in range(2):  # the second deletes the merged inputs
        assert runner.invoke(main, ["--lake", str(root), "compact", "--grace", "0", "--json"]).exit_code == 0
    assert all(p.startswith(f"dt=2025-07-2{d}/compacted-") for d, p in zip("123", sorted(_files(root)), strict=True))
    # Reprocessed through the whole-object path (groups off): its rows leave the merged file.
    target = src / "obj 01+%.jsonl"
    alone = Lake.open(Settings(lake=str(root), processing=ProcessingConfig(fsync=False, group_object_bytes=0)))
    summary = alone.pipeline().process(ObjectRef(LocalStorage(str(src)), target.name))
    assert summary.processed == 5
    assert _table(lake) == before


def test_a_crash_inside_a_group_commit_is_rolled_forward_before_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between the two tables' commits: the next run finishes the commit first."""
    src = tmp_path / "src"
    _objects(src)
    root = tmp_path / "lake"
    lake = _lake(root)
    _break_errors_table(monkeypatch, KeyboardInterrupt("killed"))  # not an Exception: nothing catches it
    with pytest.raises(KeyboardInterrupt):
        _run(lake, src)
    monkeypatch.undo()
    assert list((root / "commits").glob("*.json"))
    assert len(_files(root)) == 3 and _files(root, "errors") == []  # processed committed, errors not

    # Reprocessing one member first: recovery runs before it, so its rows are not doubled.
    pipeline = lake.pipeline()
    list(pipeline.process_many([ObjectRef(LocalStorage(str(src)), "obj 00+%.jsonl")]))
    assert not list((root / "commits").glob("*.json"))
    alone = _lake(tmp_path / "alone", group_object_bytes=0)
    _run(alone, src)
    assert _table(lake) == _table(alone)
    assert _table(lake, "errors") == _table(alone, "errors")


def test_crawl_finishes_an_interrupted_group_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    src, root, lake = _setup(tmp_path, 4)
    monkeypatch.setattr(commit_mod, "apply", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        _run(lake, src)
    monkeypatch.undo()
    assert _files(root) == []
    assert CliRunner().invoke(main, ["--lake", str(root), "crawl"]).exit_code == 0
    assert len(_table(lake)) == 4 * 5 + 2


def test_a_failed_group_commit_fails_its_members_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, root, lake = _setup(tmp_path, 4)

    real_write = LocalStorage.write_bytes

    def full_disk(self: LocalStorage, key: str, data: bytes) -> None:
        if key.startswith("commits/"):
            raise OSError(28, "No space left on device")
        real_write(self, key, data)

    monkeypatch.setattr(LocalStorage, "write_bytes", full_disk)
    summaries = _run(lake, src)
    monkeypatch.undo()
    assert {s.status for s in summaries} == {"failed"}
    assert all("No space left" in (s.error or "") for s in summaries if "broken" not in s.source_uri)
    assert _files(root) == [] and _files(root, "errors") == []
    assert not list(root.glob("*/dt=*/group-*"))  # the group's written files went with it
    assert not list((root / "commits").glob("*.json"))


def test_jobs_two_gives_the_same_rows(tmp_path: Path) -> None:
    from click.testing import CliRunner

    src = tmp_path / "src"
    _objects(src, 30)
    out = {}
    for jobs in ("1", "2"):
        root = tmp_path / f"lake{jobs}"
        root.mkdir()
        (root / "loglake.toml").write_text("[processing]\nfsync = false\n")
        result = CliRunner().invoke(main, ["--lake", str(root), "process", str(src), "--jobs", jobs, "--json"])
        assert result.exit_code == 1, result.output  # bad lines and one broken object
        out[jobs] = json.loads(result.output)["totals"]
        assert len(_files(root)) <= 3 * int(jobs)
    assert out["1"] == {**out["2"], "seconds": out["1"]["seconds"]}, (out["1"], out["2"])
    lake1, lake2 = Lake.open(Settings(lake=str(tmp_path / "lake1"))), Lake.open(Settings(lake=str(tmp_path / "lake2")))
    assert _table(lake1) == _table(lake2)


@pytest.mark.parametrize("second", ["a group", "one object at a time"])
def test_two_runs_committing_the_same_objects_at_once_keep_one_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second: str
) -> None:
    """`watch` and `process` on one lake, say: both read the objects, then both commit. The second to commit
    must take the first one's rows out, so it must not decide what to replace while the first is applying."""
    import threading

    src, _, lake = _setup(tmp_path, 4)
    real, inside, release = commit_mod.apply, threading.Event(), threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        if not inside.is_set():  # the first run's commit pauses half-way, its journal and manifests written
            inside.set()
            release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(commit_mod, "apply", held)
    first = threading.Thread(target=_run, args=(lake, src))
    first.start()
    assert inside.wait(10)
    if second == "a group":
        other = threading.Thread(target=_run, args=(lake, src))
    else:
        refs = refs_for_paths([str(src)], SUFFIXES)
        other = threading.Thread(target=lambda: [lake.pipeline().process(ref) for ref in refs])
    other.start()
    other.join(0.5)  # it gets as far as its commit
    release.set()
    first.join()
    other.join()
    rows = _table(lake)
    assert len(rows) == 4 * 5 + 2
    assert len({(r["source_uri"], r["source_line"]) for r in rows}) == len(rows)


@pytest.mark.slow
def test_three_processes_on_one_lake_keep_every_row_once(tmp_path: Path) -> None:
    """The real thing: separate `loglake process` runs (one with `--jobs 2`) over the same objects, at once."""
    import subprocess

    from tests.conftest import loglake_proc

    src = tmp_path / "src"
    _objects(src, 30)
    root = tmp_path / "lake"
    root.mkdir()
    (root / "loglake.toml").write_text("[processing]\nfsync = false\n")
    runs = [
        loglake_proc("--lake", str(root), "process", str(src), "--json", *extra, stdout=subprocess.PIPE)
        for extra in ((), (), ("--jobs", "2"))
    ]
    totals = [json.loads(run.communicate(timeout=120)[0])["totals"] for run in runs]
    assert [t["failed_objects"] for t in totals] == [1, 1, 1], totals  # the broken gzip only
    lake = Lake.open(Settings(lake=str(root)))
    rows = _table(lake)
    assert len({(r["source_uri"], r["source_line"]) for r in rows}) == len(rows) == totals[0]["processed"]


def test_two_runs_one_after_the_other_keep_every_row_once(tmp_path: Path) -> None:
    src, _, lake = _setup(tmp_path, 4)
    refs = list(refs_for_paths([str(src)], SUFFIXES))
    list(lake.pipeline().process_many(refs))
    list(lake.pipeline().process_many(refs))
    rows = _table(lake)
    assert len(rows) == 4 * 5 + 2
    assert len({(r["source_uri"], r["source_line"]) for r in rows}) == len(rows)


def test_the_same_object_twice_in_one_run_is_not_doubled(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_bytes(jl(rec(n=1), rec(n=2)))
    lake = _lake(tmp_path / "lake")
    ref = ObjectRef(LocalStorage(str(src)), "a.jsonl")
    pipeline = lake.pipeline()
    assert [s.processed for s in pipeline.process_many([ref, ref, ref])] == [2, 2, 2]
    assert len(_table(lake)) == 2


# --- property: grouped and columnar equals one object at a time, row by row ---


OBJECTS = st.lists(
    st.lists(st.one_of(records(), records(), records(), BAD), min_size=0, max_size=8), min_size=1, max_size=6
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objects=OBJECTS, read_limit=st.sampled_from([150, 1 << 20]))
def test_grouped_output_equals_objects_one_by_one(
    tmp_path_factory: Any, objects: list[list[bytes]], read_limit: int
) -> None:
    root = tmp_path_factory.mktemp("grp")
    src = root / "src"
    src.mkdir()
    for i, lines in enumerate(objects):
        (src / f"o{i}.jsonl").write_bytes(b"\n".join(lines) + (b"\n" if lines else b""))
    refs = list(refs_for_paths([str(src)], SUFFIXES))
    from loglake.columnar.jsonl import SharedRead

    merge_every, SharedWriter.MERGE_EVERY = (
        SharedWriter.MERGE_EVERY,
        2,
    )  # merging held tables (types may conflict) is part of what is compared
    limit, SharedRead.LIMIT = SharedRead.LIMIT, read_limit  # Arrow reads of a few objects, or of all of them
    fast = _lake(root / "fast").pipeline()
    slow = _lake(root / "slow", columnar=False, group_object_bytes=0).pipeline()
    try:
        got = list(fast.process_many(refs))
    finally:
        SharedWriter.MERGE_EVERY = merge_every
        SharedRead.LIMIT = limit
    want = [slow.process(ref) for ref in refs]
    keys = ("status", "lines", "processed", "errors", "blank", "joined", "shared", "errors_by_reason", "error")
    assert [{k: getattr(s, k) for k in keys} for s in got] == [{k: getattr(s, k) for k in keys} for s in want]
    for s in got:  # the accounting invariant, per object
        assert s.lines + s.shared == s.processed + s.errors + s.blank + s.joined
    for zone in ("processed", "errors"):
        fast_rows, fast_cols = _zone(root / "fast", zone)
        slow_rows, slow_cols = _zone(root / "slow", zone)
        assert set(fast_cols) == set(slow_cols), zone
        differ = {n for n in fast_cols if fast_cols[n] != slow_cols[n]}
        key = lambda r: (r["source_uri"], r["source_line"])  # noqa: E731
        assert sorted(_as_text(fast_rows, differ), key=key) == sorted(_as_text(slow_rows, differ), key=key), zone
    manifests = [orjson.loads(p.read_bytes()) for p in (root / "fast" / "manifests").glob("*.json")]
    assert len(manifests) == len(refs)


def test_a_commit_of_the_same_object_by_another_run_meanwhile_is_replaced(tmp_path: Path) -> None:
    """Last commit wins, as for objects committed alone: no rows twice when two runs race on one object."""
    from loglake.pipeline import Group

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_bytes(jl(rec(n=1), rec(n=2)))
    root = tmp_path / "lake"
    lake = _lake(root)
    ref = ObjectRef(LocalStorage(str(src)), "a.jsonl")
    group = Group(lake.pipeline())
    group.add(ref)
    other = Lake.open(Settings(lake=str(root), processing=ProcessingConfig(fsync=False, group_object_bytes=0)))
    other.pipeline().process(ref)  # commits its own file while the group is still open
    assert any("a-" in f for f in _files(root))
    group.commit()
    assert [r["n"] for r in _table(lake)] == [1, 2]
    assert all("/group-" in f"/{f.split('/')[-1]}" for f in _files(root))


def test_an_io_error_after_the_journal_leaves_the_commit_to_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit is decided once journalled: the next run (or `crawl`) finishes it."""
    from click.testing import CliRunner

    src, root, lake = _setup(tmp_path, 4)
    _break_errors_table(monkeypatch, OSError(5, "Input/output error"))
    summaries = _run(lake, src)
    monkeypatch.undo()
    members = [s for s in summaries if "broken" not in s.source_uri]
    assert members and all(s.status == "failed" and "next `loglake process`" in (s.error or "") for s in members)
    assert list((root / "commits").glob("*.json"))

    assert CliRunner().invoke(main, ["--lake", str(root), "crawl"]).exit_code == 0
    alone = _lake(tmp_path / "alone", group_object_bytes=0)
    _run(alone, src)
    assert _table(lake) == _table(alone)
    for summary in members:
        manifest = commit_mod.read_manifest(lake.storage, commit_mod.source_id(summary.source_uri))
        assert manifest is not None and manifest["state"] == "committed" and "failure" not in manifest


def _alone_and_grouped(tmp_path: Path, src: Path) -> tuple[Lake, Lake, list[Summary], list[Summary]]:
    grouped, alone = _lake(tmp_path / "grouped"), _lake(tmp_path / "alone", group_object_bytes=0)
    got, want = _run(grouped, src), _run(alone, src)
    keys = ("source_uri", "status", "lines", "processed", "errors", "blank", "errors_by_reason", "error")
    assert [{k: getattr(s, k) for k in keys} for s in got] == [{k: getattr(s, k) for k in keys} for s in want]
    for zone in ("processed", "errors"):
        assert _table(grouped, zone) == _table(alone, zone)
    return grouped, alone, got, want


def test_a_groups_json_lines_are_read_by_arrow_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What makes small objects cheap: one Arrow read for many objects (~1 MiB of lines), not one each."""
    from loglake.formats.jsonl import ArrowJson

    src = tmp_path / "src"
    src.mkdir()
    for i in range(40):
        lines = [rec(n=i, k=j, timestamp=f"2025-07-{21 + (i + j) % 3}T10:00:00Z") for j in range(5)]
        # An epoch time (the row path's, after the read), a lower-case level (normalised in Arrow), bad JSON.
        lines += [rec(timestamp="1753084800"), rec(level="info"), b"not json"]
        (src / f"o{i:02d}.jsonl").write_bytes(jl(*lines))
    reads = 0
    real_read = ArrowJson.read

    def counting(self: ArrowJson, lines: list[bytes]) -> Any:
        nonlocal reads
        reads += 1
        return real_read(self, lines)

    monkeypatch.setattr(ArrowJson, "read", counting)
    _, _, got, _ = _alone_and_grouped(tmp_path, src)
    grouped_reads = reads - 40  # the objects processed alone: one read each
    assert grouped_reads == 1
    assert all(s.processed == 7 and s.errors == 1 for s in got)


def test_objects_arrow_cannot_read_together_are_read_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A field that is a number in one object and text in the next; and small reads (several per group)."""
    from loglake.columnar.jsonl import SharedRead

    monkeypatch.setattr(SharedRead, "LIMIT", 300)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(9):
        value: Any = i if i % 2 else f"v{i}"
        (src / f"o{i}.jsonl").write_bytes(jl(*(rec(v=value, n=j) for j in range(4)), rec(v={"nested": i})))
    _, _, got, _ = _alone_and_grouped(tmp_path, src)
    assert [s.processed for s in got] == [5] * 9


def test_a_group_spanning_midnight_dates_timeless_rows_by_each_objects_own_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows without an event time are partitioned by their object's processing date, read together or not."""
    from datetime import datetime

    real_begin = Pipeline.begin
    started = 0

    def begin(self: Pipeline, ref: ObjectRef) -> Any:
        nonlocal started
        att = real_begin(self, ref)
        att.now = datetime(2026, 3, 1, 23, 59, 59) if started % 2 == 0 else datetime(2026, 3, 2, 0, 0, 1)
        started += 1
        return att

    monkeypatch.setattr(Pipeline, "begin", begin)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"o{i}.jsonl").write_bytes(jl({"level": "INFO", "message": f"no time {i}"}, rec(n=i)))
    lake = _lake(tmp_path / "lake")
    got = _run(lake, src)
    assert [s.processed for s in got] == [2] * 4
    rows = query(lake, "SELECT source_uri, dt FROM processed_logs WHERE timestamp IS NULL ORDER BY source_uri")
    assert [r["dt"] for r in rows] == ["2026-03-01", "2026-03-02", "2026-03-01", "2026-03-02"]


@pytest.mark.parametrize("together", [True, False])
def test_an_internal_error_in_a_groups_shared_read_fails_that_object_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, together: bool
) -> None:
    """A bug met on one object's rows (never bad input) fails that object, with nothing of it kept; the group's
    other objects are committed."""
    from loglake.columnar import jsonl as columnar_jsonl

    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"o{i}.jsonl").write_bytes(jl(rec(n=i), rec(n=i, timestamp="1753084800")))
    flushing = False
    real_flush, real_land = columnar_jsonl.SharedRead.flush, columnar_jsonl.land

    def flush(self: Any, place: Any) -> Any:
        nonlocal flushing
        flushing = True
        try:
            return real_flush(self, place)
        finally:
            flushing = False

    def land(pipeline: Any, run: Any, *args: Any) -> None:
        if flushing and run.uri.endswith("o2.jsonl"):
            raise RuntimeError("a bug")
        real_land(pipeline, run, *args)

    monkeypatch.setattr(columnar_jsonl.SharedRead, "flush", flush)
    monkeypatch.setattr(columnar_jsonl, "land", land)
    if not together:
        monkeypatch.setattr(columnar_jsonl.SharedRead, "_together", lambda self, pending: None)
    lake = _lake(tmp_path / "lake")
    got = _run(lake, src)
    assert [s.status for s in got] == ["ok", "ok", "failed", "ok", "ok"]
    assert "internal error" in (got[2].error or "") and "a bug" in (got[2].error or "")
    rows = query(lake, "SELECT source_uri, n FROM processed_logs ORDER BY source_uri, source_line")
    assert [(Path(r["source_uri"]).name, r["n"]) for r in rows] == [
        (f"o{i}.jsonl", i) for i in (0, 0, 1, 1, 3, 3, 4, 4)
    ]
    manifest = commit_mod.read_manifest(lake.storage, commit_mod.source_id(got[2].source_uri))
    assert manifest is not None and "a bug" in manifest["failure"]["error"]


def test_time_windows_are_judged_from_each_objects_own_processing_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read together, two objects processed 30 s apart still judge `max_age` each from its own time."""
    from datetime import datetime, timedelta

    from loglake.config import RulesConfig

    real_begin = Pipeline.begin

    def begin(self: Pipeline, ref: ObjectRef) -> Any:
        att = real_begin(self, ref)
        att.now = datetime(2026, 3, 1, 12, 0, 30) if ref.key.endswith("late.jsonl") else datetime(2026, 3, 1, 12)
        return att

    monkeypatch.setattr(Pipeline, "begin", begin)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("early.jsonl", "late.jsonl"):
        (src / name).write_bytes(jl(*(rec(n=i, timestamp="2026-03-01T11:00:15Z") for i in range(3))))
    lake = Lake.open(
        Settings(
            lake=str(tmp_path / "lake"),
            processing=ProcessingConfig(fsync=False),
            rules=RulesConfig(max_age=timedelta(hours=1)),
        )
    )
    lake.init()
    early, late = _run(lake, src)
    assert (early.processed, early.errors) == (3, 0)  # 59:45 old when processed
    assert (late.processed, late.errors) == (0, 3)  # 60:15 old
