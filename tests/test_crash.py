"""A process killed mid-object leaves nothing visible; re-running gives the complete result once."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest

from loglake.config import Settings
from loglake.lake import Lake
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage
from loglake.tables import commit as commit_mod
from loglake.tables import journal
from tests.conftest import jl, loglake_proc, query, rec, visible_files

N = 200_000


@pytest.fixture
def big_source(tmp_path: Path) -> Path:
    src = tmp_path / "big.log"
    src.write_bytes(jl(*[rec(n=i, timestamp=f"2025-07-{21 + i % 3}T10:00:00Z") for i in range(N)], b"broken"))
    return src


@pytest.mark.slow
def test_killed_mid_write_then_rerun(tmp_path: Path, lake_dir: Path, big_source: Path) -> None:
    lake_dir.mkdir()
    (lake_dir / "loglake.toml").write_text("[processing]\nbatch_rows = 2000\n")
    proc = loglake_proc("--lake", str(lake_dir), "process", str(big_source), stdout=subprocess.DEVNULL)
    data = lake_dir / "processed"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.is_file() for p in data.glob("dt=*/*")):
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    lake = Lake.open(Settings(lake=str(lake_dir)))
    assert visible_files(lake_dir, "processed") == [] and visible_files(lake_dir, "errors") == []
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 0}]

    rerun = loglake_proc("--lake", str(lake_dir), "process", str(big_source), "--json", stdout=subprocess.PIPE)
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 1  # one broken line
    totals = orjson.loads(out)["totals"]
    assert (totals["processed"], totals["errors"]) == (N, 1)
    got = query(lake, "SELECT count(*) AS n, count(DISTINCT source_line) AS lines FROM processed_logs")
    assert got == [{"n": N, "lines": N}]
    # the table holds the rerun's files only: one attempt's names
    attempts = {p.name.rsplit("-", 1)[0] for p in visible_files(lake_dir, "processed")}
    assert len(attempts) == 1


def test_a_crash_between_the_two_tables_is_rolled_forward(tmp_path: Path, lake: Lake, monkeypatch) -> None:
    """Power lost after the processed table committed and before the errors table did."""
    src = tmp_path / "src"
    src.mkdir()
    data = jl(*[rec(timestamp=f"2025-07-{21 + i % 3}T10:00:00Z", i=i) for i in range(30)], b"bad")
    (src / "a.log").write_bytes(data)
    ref = ObjectRef(LocalStorage(str(src)), "a.log")
    real = commit_mod._apply

    def cut(table, commit, change, replace):  # type: ignore[no-untyped-def]
        if table.name()[-1] == "errors_logs":
            raise KeyboardInterrupt("power cut")
        return real(table, commit, change, replace)

    monkeypatch.setattr(commit_mod, "_apply", cut)
    with pytest.raises(KeyboardInterrupt):
        lake.pipeline().process(ref)
    monkeypatch.undo()

    manifest = journal.read_manifest(lake.storage, journal.source_id(ref.uri))
    assert manifest is not None and manifest["state"] == "committing"
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 30}]
    assert query(lake, "SELECT count(*) AS n FROM errors_logs") == [{"n": 0}]

    summary = lake.pipeline().process(ref)  # recovers the interrupted commit first, then replaces it
    assert (summary.processed, summary.errors) == (30, 1)
    assert query(lake, "SELECT count(*) AS n FROM processed_logs") == [{"n": 30}]
    assert query(lake, "SELECT count(*) AS n FROM errors_logs") == [{"n": 1}]
    assert len(visible_files(Path(lake.storage.uri("")), "processed")) == 3
    assert not list((Path(lake.storage.uri("")) / "commits").glob("*.json"))
