"""`loglake watch` as a real process reacting to real file-system events."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import orjson
import pytest

from loglake.config import Settings
from loglake.lake import Lake
from tests.conftest import jl, loglake_proc, query, rec, visible_files


def _reader(proc: subprocess.Popen[bytes]) -> queue.Queue[dict]:
    lines: queue.Queue[dict] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                lines.put(orjson.loads(line))

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _collect(lines: queue.Queue[dict], names: set[str], timeout: float = 30) -> dict[str, dict]:
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while set(seen) != names and time.monotonic() < deadline:
        try:
            summary = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen[Path(summary["source_uri"]).name] = summary
    return seen


@pytest.mark.slow
def test_watch_processes_existing_new_and_slowly_written_files(tmp_path: Path, lake_dir: Path) -> None:
    raw = lake_dir / "raw"
    raw.mkdir(parents=True)
    (raw / "before-start.log").write_bytes(jl(rec(), rec()))
    (raw / "ignored.txt").write_bytes(b"not a log")
    proc = loglake_proc("--lake", str(lake_dir), "watch", "--settle", "0.5", "--json", stdout=subprocess.PIPE)
    try:
        lines = _reader(proc)
        first = _collect(lines, {"before-start.log"})
        assert first["before-start.log"]["processed"] == 2

        # dropped while running, into a sub-folder, with an odd name
        (raw / "team a").mkdir()
        (raw / "team a" / "drop+1 é.log").write_bytes(jl(rec(), b"bad"))
        # written slowly: a line every 0.1 s for ~1.5 s, never read half-way
        slow_lines = 15

        def slow_writer() -> None:
            with open(raw / "slow.log", "wb") as fh:
                for i in range(slow_lines):
                    fh.write(jl(rec(i=i)))
                    fh.flush()
                    time.sleep(0.1)

        writer = threading.Thread(target=slow_writer)
        writer.start()
        # a burst of files arriving while others are being processed
        for i in range(5):
            (raw / f"burst-{i}.jsonl").write_bytes(jl(rec(i=i)))
        writer.join()
        expected = {"drop+1 é.log", "slow.log"} | {f"burst-{i}.jsonl" for i in range(5)}
        seen = _collect(lines, expected)
        assert set(seen) == expected
        assert seen["slow.log"]["processed"] == slow_lines and seen["slow.log"]["lines"] == slow_lines
        assert seen["drop+1 é.log"]["errors"] == 1

        lake = Lake.open(Settings(lake=str(lake_dir)))
        total = query(lake, "SELECT count(*) AS n FROM processed_logs")[0]["n"]
        assert total == 2 + 1 + slow_lines + 5  # the catalog was kept current by watch itself
        # Files that settle together are committed together: the burst shares files.
        assert len(visible_files(lake_dir, "processed")) < len(expected) + 1
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0


@pytest.mark.slow
def test_watch_restart_skips_objects_already_processed(tmp_path: Path, lake_dir: Path) -> None:
    raw = lake_dir / "raw"
    raw.mkdir(parents=True)
    (raw / "a.log").write_bytes(jl(rec()))
    for round_ in range(2):
        proc = loglake_proc("--lake", str(lake_dir), "watch", "--settle", "0.2", "--json", stdout=subprocess.PIPE)
        lines = _reader(proc)
        if round_ == 1:
            (raw / "b.log").write_bytes(jl(rec()))
        seen = _collect(lines, {"a.log"} if round_ == 0 else {"b.log"}, timeout=10)
        time.sleep(1.0)
        while not lines.empty():
            item = lines.get()
            seen[Path(item["source_uri"]).name] = item
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert set(seen) == ({"a.log"} if round_ == 0 else {"b.log"})
