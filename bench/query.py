"""Queries at log scale: `SELECT *` over BENCH_QUERY_ROWS (default 1,000,000) rows, to a terminal and as CSV,
against DuckDB's own Python client on the same Parquet files (its box renderer also shows 40 rows; its COPY
writes CSV). Each run is a separate process; wall time and peak RSS (ru_maxrss) per run, best of three.

Writes `bench/query.json`.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


def build(lake: Path, rows: int) -> list[str]:
    """A processed table of `rows` rows shaped like real ones (written vectorised, committed as one change)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from loglake.config import Settings
    from loglake.lake import Lake
    from loglake.tables.commit import Change, Commit, apply

    lk = Lake.open(Settings(lake=str(lake)))
    lk.init()
    levels = pa.array(["INFO", "DEBUG", "WARN", "ERROR"])
    messages = pa.array([f"GET /api/items/{i} served in {i % 97} ms for user u-{i:05d}" for i in range(1000)])
    folder = lake / "processed" / "dt=2025-07-21"
    folder.mkdir(parents=True, exist_ok=True)
    per_file, files = 250_000, []
    base = pa.scalar(1_753_088_400_000_000, pa.timestamp("us"))
    for i in range(0, rows, per_file):
        n = min(per_file, rows - i)
        idx = pc.cast(pc.floor(pc.multiply(pc.random(n), 4)), pa.int32())
        at = pc.add(pa.array(range(i, i + n), pa.int64()).cast(pa.duration("us")), base)
        table = pa.table(
            {
                "timestamp": at,
                "level": levels.take(idx),
                "message": messages.take(pa.array([j % 1000 for j in range(i, i + n)])),
                "processed_timestamp": pa.array([base.as_py()] * n, pa.timestamp("us")),
                "source_uri": pa.array([f"file://{lake}/raw/app-{i // per_file}.log"] * n),
                "source_line": pa.array(range(i + 1, i + n + 1), pa.int64()),
                "source_format": pa.array(["jsonl"] * n),
                "http_status": pc.add(pc.multiply(idx, 100), 200),
                "dt": pa.array(["2025-07-21"] * n),
            }
        )
        path = folder / f"part-{i // per_file:04d}.parquet"
        pq.write_table(table, path, compression="zstd")
        files.append(f"file://{path}")
    apply(lk.tables, Commit("bench", [], set(), {"processed": Change(files, pq.read_schema(files[0][7:]))}))
    return [f[len("file://") :] for f in files]


def _timed(cmd: list[str]) -> tuple[list[str], Path]:
    """`cmd` under /usr/bin/time, which reports the command's own peak RSS (a child forked from this process
    would count this process's memory at the fork as its own peak)."""
    report = Path(tempfile.mktemp(prefix="loglake-rss-"))
    return ["/usr/bin/time", "-o", str(report), "-f", "%M", *cmd], report


def _rss(report: Path) -> float:
    value = float(report.read_text().split()[-1]) / 1024
    report.unlink()
    return value


def on_terminal(cmd: list[str], columns: int = 200) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of `cmd` writing to a pseudo-terminal of `columns` columns."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm-256color"}
    cmd, report = _timed(cmd)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    while True:
        try:
            if not os.read(master, 1 << 16):
                break
        except OSError:
            break
    status = proc.wait()
    seconds = time.perf_counter() - start
    os.close(master)
    if status != 0:
        raise RuntimeError(f"{cmd} exited with {status}")
    return seconds, _rss(report)


def to_devnull(cmd: list[str]) -> tuple[float, float]:
    cmd, report = _timed(cmd)
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        done = subprocess.run(cmd, stdout=sink, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {done.stderr.decode()}")
    return seconds, _rss(report)


def best(runs: int, fn, *args) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    results = [fn(*args) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def console(rows: int) -> dict[str, object]:
    """The web console: the explorer's histogram query over `rows` rows (best of five, warm), and the
    explorer's first complete render (HTML, script, the three API calls, the chart) on the demo lake in
    headless Chromium, best of five."""
    from loglake.config import Settings
    from loglake.lake import Lake
    from loglake.query.explore import Explorer, Search

    work = Path(tempfile.mkdtemp(prefix="loglake-bench-console-"))
    out: dict[str, object] = {}
    try:
        print(f"building a table of {rows:,} rows for the histogram …", flush=True)
        build(work / "big", rows)
        explorer = Explorer(Lake.open(Settings(lake=str(work / "big"))).engine())
        explorer.histogram(Search(), None, None)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            result = explorer.histogram(Search(), None, None)
            times.append(time.perf_counter() - start)
        assert result["total"] == rows
        out["histogram"] = {"rows": rows, "seconds": round(min(times), 3), "buckets": len(result["times"])}
        print(f"{'explorer histogram (stacked by level), all time':<70} {min(times):6.3f} s over {rows:,} rows")
        chromium = shutil.which("chromium")
        if chromium is None:
            print("first paint: skipped (Chromium is not installed: sudo apt-get install chromium)")
            return out
        demo = work / "demo"
        subprocess.run([PY, "-m", "loglake", "--lake", str(demo), "demo"], check=True, capture_output=True)
        proc = subprocess.Popen(
            [PY, "-m", "loglake", "--lake", str(demo), "ui", "--port", "0"], stderr=subprocess.PIPE, text=True
        )
        assert proc.stderr is not None
        url = proc.stderr.readline().split(" at ", 1)[1].split()[0]
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
                paints = []
                for _ in range(5):
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    start = time.perf_counter()
                    page.goto(url)
                    page.wait_for_selector("body[data-ready]", state="attached")
                    paints.append(time.perf_counter() - start)
                    page.close()
                browser.close()
        finally:
            proc.terminate()
        out["explorer_first_render"] = {"seconds": round(min(paints), 3), "worst": round(max(paints), 3)}
        print(f"{'explorer first complete render, demo lake (headless Chromium)':<70} {min(paints):6.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    rows = int(os.environ.get("BENCH_QUERY_ROWS", "1000000"))
    work = Path(tempfile.mkdtemp(prefix="loglake-bench-query-"))
    try:
        lake = work / "lake"
        print(f"building a table of {rows:,} rows …", flush=True)
        files = build(lake, rows)
        listed = "[" + ", ".join(f"'{f}'" for f in files) + "]"
        loglake = [PY, "-m", "loglake", "--lake", str(lake), "query"]
        duck = [PY, "-c"]
        runs = {
            "loglake query, SELECT * to a terminal (40 rows shown, CSV saved)": (
                on_terminal,
                [*loglake, "SELECT * FROM processed_logs"],
            ),
            "loglake query --no-save, SELECT * to a terminal": (
                on_terminal,
                [*loglake, "SELECT * FROM processed_logs", "--no-save"],
            ),
            "DuckDB .show(), SELECT * to a terminal": (
                on_terminal,
                [*duck, f'import duckdb; duckdb.sql("SELECT * FROM read_parquet({listed})").show()'],
            ),
            "loglake query --format csv, every row": (
                to_devnull,
                [*loglake, "SELECT * FROM processed_logs", "--format", "csv", "--no-save"],
            ),
            "DuckDB COPY … TO '/dev/stdout' (CSV), every row": (
                to_devnull,
                [
                    *duck,
                    f"import duckdb; duckdb.sql(\"COPY (SELECT * FROM read_parquet({listed})) TO '/dev/stdout' (HEADER)\")",
                ],
            ),
            "loglake query --format jsonl, every row": (
                to_devnull,
                [*loglake, "SELECT * FROM processed_logs", "--format", "jsonl", "--no-save"],
            ),
        }
        results: dict[str, object] = {"rows": rows}
        for name, (fn, cmd) in runs.items():
            seconds, rss = best(3, fn, cmd)
            results[name] = {"seconds": round(seconds, 2), "peak_rss_MB": round(rss, 1)}
            print(f"{name:<70} {seconds:6.2f} s {rss:7.1f} MB", flush=True)
        keys = list(runs)
        results["ratios"] = {
            "terminal_loglake_vs_duckdb": round(results[keys[0]]["seconds"] / results[keys[2]]["seconds"], 2),  # type: ignore[index]
            "csv_loglake_vs_duckdb": round(results[keys[3]]["seconds"] / results[keys[4]]["seconds"], 2),  # type: ignore[index]
        }
        print("ratios (time, LogLake / DuckDB):", results["ratios"])
        results["console"] = console(int(os.environ.get("BENCH_CONSOLE_ROWS", "10000000")))
        (HERE / "query.json").write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
