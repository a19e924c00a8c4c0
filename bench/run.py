"""`make bench`: LogLake and the reference approaches on the same generated data, in one run, as ratios.

Each approach runs as its own process; wall time and peak RSS are measured from outside (wait4's
ru_maxrss; for runs with several worker processes, the peak of the process tree's summed PSS,
sampled every 50 ms — RSS summed would count the pages forked workers share once per worker). Sizes come from BENCH_MB (JSON Lines, default 256), BENCH_SMALL (small objects,
default 2000) and BENCH_ROWS (rows for the GROUP BY query, default 10,000,000).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import generate

HERE = Path(__file__).resolve().parent
PY = sys.executable


def _tree_pss_mb(pid: int) -> float:
    """Memory of a process and all its descendants, as the sum of their PSS (shared pages split between
    the processes sharing them, so forked workers' common pages are not counted twice)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, StopIteration):
            continue
    return total / 1024


def run(cmd: list[str], cwd: Path | None = None, tree: bool = False) -> tuple[float, float, str]:
    """(seconds, peak memory in MB, stdout) of one child: its RSS, or with `tree` its process tree's PSS sum."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_pss_mb(proc.pid))

    outputs: dict[str, bytes] = {}

    def drain(name: str, pipe: Any) -> None:
        outputs[name] = pipe.read()  # read while the child runs: a full pipe would block it forever

    readers = [
        threading.Thread(target=drain, args=(n, pipe)) for n, pipe in (("out", proc.stdout), ("err", proc.stderr))
    ]
    if tree:
        readers.append(threading.Thread(target=sample, daemon=True))
    for thread in readers:
        thread.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    for thread in readers:
        thread.join()
    out, err = outputs["out"].decode(), outputs["err"].decode()
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return seconds, peak[0] if tree else usage.ru_maxrss / 1024, out


def loglake(args: list[str], lake: Path) -> list[str]:
    return [PY, "-m", "loglake", "--lake", str(lake), *args]


def group_by_table(rows: int, lake: Path) -> float:
    """Build a processed table of `rows` rows (vectorised, no pipeline), then time the tutorial's GROUP BY."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from loglake.config import Settings
    from loglake.lake import Lake
    from loglake.query.duckdb_engine import DuckDBEngine

    levels = pa.array(["INFO", "DEBUG", "WARN", "ERROR", "CRITICAL", "FATAL", "TRACE", "NOTICE"])
    per_file = 1_000_000
    folder = lake / "processed" / "dt=2025-07-21"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(0, rows, per_file):
        n = min(per_file, rows - i)
        idx = pc.cast(pc.floor(pc.multiply(pc.random(n), 8)), pa.int32())
        table = pa.table(
            {
                "level": levels.take(idx),
                "message": pa.array(["request served"] * n),
                "source_line": pa.array(range(i, i + n)),
                "dt": pa.array(["2025-07-21"] * n),
            }
        )
        pq.write_table(table, folder / f"part-{i // per_file:04d}.parquet", compression="zstd")
    lk = Lake.open(Settings(lake=str(lake)))
    from loglake.tables.commit import Change, Commit, apply

    lk.tables.ensure()
    files = [f"file://{p}" for p in sorted(folder.glob("part-*.parquet"))]
    apply(lk.tables, Commit("bench", [], set(), {"processed": Change(files, pq.read_schema(files[0][7:]))}))
    engine = DuckDBEngine(lk.storage, lk.tables)
    sql = 'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level;'
    engine.run(sql, save=False)  # warm
    best = min(_timed(lambda: engine.run(sql, save=False)) for _ in range(5))
    return best


class MotoServer:
    """moto's server on 127.0.0.1 in its own process (with Glue's VersionId check, see tests/moto_server.py):
    the Lambda handler's reads and writes go over HTTP. `log`: a file for its request log (one line each)."""

    def __init__(self, log: Path | None = None) -> None:
        self.log = log

    def __enter__(self) -> str:
        import socket
        import urllib.request

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        sink = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [PY, "-m", "tests.moto_server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=sink,
            stderr=sink,
            cwd=Path(__file__).resolve().parents[1],
        )
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).read()
                return endpoint
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    raise SystemExit(f"moto server did not start on {endpoint}") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def lambda_over_s3(objects: list[Path]) -> list[tuple[Path, float, float]]:
    """The Lambda handler in a process of its own per object (a cold invocation), the object read from and
    the lake written to S3 — moto's server on loopback, so seconds say little about AWS; the memory is
    what a Lambda's limit counts."""
    import boto3

    out = []
    with MotoServer() as endpoint:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "LOGLAKE_LAKE": "s3://bench-lake",
        }
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "PROCESSED_BUCKET"):
            env.pop(name, None)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
        for bucket in ("bench-raw", "bench-lake"):
            s3.create_bucket(Bucket=bucket)
        for path in objects:
            key = f"incoming/{path.name}"
            s3.upload_file(str(path), "bench-raw", key)
            start = time.perf_counter()
            proc = subprocess.Popen(
                [PY, str(HERE / "lambda_handler.py"), "bench-raw", key, str(path.stat().st_size)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                cwd=HERE.parent,
            )
            err = proc.stderr.read() if proc.stderr else b""
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"the Lambda handler failed on {path.name}:\n{err.decode()[-2000:]}")
            out.append((path, seconds, usage.ru_maxrss / 1024))
    return out


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    mb = int(os.environ.get("BENCH_MB", "256"))
    small = int(os.environ.get("BENCH_SMALL", "2000"))
    rows = int(os.environ.get("BENCH_ROWS", "10000000"))
    work = Path(tempfile.mkdtemp(prefix="loglake-bench-"))
    data = HERE / "data"
    results: dict[str, dict[str, float]] = {}
    try:
        jsonl = data / f"app-{mb}MB.jsonl"
        if not jsonl.exists():
            print(f"generating {mb} MB of JSON Lines …", flush=True)
            generate.write(jsonl, "jsonl", mb * 1024 * 1024)
        syslog = data / f"syslog-{mb // 2}MB.log"
        access = data / f"access-{mb // 2}MB.log"
        log4j = data / f"log4j-{mb // 8}MB.log"
        for path, kind, size in ((syslog, "syslog", mb // 2), (access, "access", mb // 2), (log4j, "log4j", mb // 8)):
            if not path.exists():
                generate.write(path, kind, size * 1024 * 1024)
        size_mb = jsonl.stat().st_size / 1e6
        lines = _count_lines(jsonl)

        def record(name: str, seconds: float, rss: float, size: float, count: int) -> None:
            results[name] = {"seconds": round(seconds, 3), "MB_per_s": round(size / seconds, 1),
                             "records_per_s": round(count / seconds), "peak_rss_MB": round(rss, 1)}  # fmt: skip
            print(f"{name:<34} {size / seconds:8.1f} MB/s {count / seconds:12,.0f} rec/s {rss:8.0f} MB RSS", flush=True)

        print(f"\nJSON Lines: {size_mb:.0f} MB, {lines:,} lines (~1% bad)")
        s, r, _ = run(loglake(["process", str(jsonl), "--json"], work / "lake1"))
        record("loglake process (1 process)", s, r, size_mb, lines)
        s, r, _ = run(loglake(["process", str(jsonl), "--jobs", "2", "--json"], work / "lake1-jobs"), tree=True)
        record("loglake process --jobs 2", s, r, size_mb, lines)
        shutil.rmtree(work / "lake1-jobs", ignore_errors=True)
        rows_lake = work / "lake1-rows"
        rows_lake.mkdir()
        (rows_lake / "loglake.toml").write_text("[processing]\ncolumnar = false\n")
        s, r, _ = run(loglake(["process", str(jsonl), "--json"], rows_lake))
        record("loglake process, row path only", s, r, size_mb, lines)
        shutil.rmtree(rows_lake, ignore_errors=True)
        # Memory must not grow with the input: the same run on an eighth of the file.
        eighth = work / "eighth.jsonl"
        with open(jsonl, "rb") as src, open(eighth, "wb") as dst:
            dst.writelines(line for i, line in enumerate(src) if i < lines // 8)
        s, r, _ = run(loglake(["process", str(eighth), "--json"], work / "lake1-eighth"))
        record("loglake process, 1/8 of the file", s, r, eighth.stat().st_size / 1e6, lines // 8)
        shutil.rmtree(work / "lake1-eighth", ignore_errors=True)
        # ... nor with twice the file (its lines twice over, in one object).
        double = work / "double.jsonl"
        with open(double, "wb") as dst:
            for _ in range(2):
                with open(jsonl, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
        s, r, _ = run(loglake(["process", str(double), "--json"], work / "lake1-double"))
        record("loglake process, the file twice over", s, r, double.stat().st_size / 1e6, lines * 2)
        shutil.rmtree(work / "lake1-double", ignore_errors=True)
        double.unlink()
        # The Lambda handler: the same file from S3 into a lake on S3, as a cold invocation would.
        one_line = work / "one-line.jsonl"
        one_line.write_bytes(b'{"level":"INFO","message":"hello"}\n')
        for path, seconds, rss in lambda_over_s3([one_line, eighth, jsonl]):
            label = {one_line: "one-line object", eighth: "1/8 of the file"}.get(path, "the whole file")
            count = {one_line: 1, eighth: lines // 8}.get(path, lines)
            record(f"lambda handler over S3, {label}", seconds, rss, path.stat().st_size / 1e6, count)
        s, r, _ = run([PY, str(HERE / "reference_duckdb.py"), str(jsonl), str(work / "duck")])
        record("duckdb read_json → parquet", s, r, size_mb, lines)
        s, r, _ = run([PY, str(HERE / "reference_tutorial.py"), str(jsonl), str(work / "tutorial")])
        record("tutorial handler (json arrays)", s, r, size_mb, lines)

        # Plain-text formats: the regex formats' columnar path (syslog, access logs, and log4j whose stack traces span lines).
        texts = [
            (syslog, "syslog RFC 3164"),
            (access, "access log (~1% bad)"),
            (log4j, "log4j with stack traces (multi-line, columnar path)"),
        ]
        for path, label in texts:
            text_mb = path.stat().st_size / 1e6
            text_lines = _count_lines(path)
            print(f"\n{label}: {text_mb:.0f} MB, {text_lines:,} lines")
            name = path.stem.split("-")[0]
            s, r, _ = run(loglake(["process", str(path), "--json"], work / f"lake-{name}"))
            record(f"loglake process {name}", s, r, text_mb, text_lines)
            s, r, _ = run(loglake(["process", str(path), "--jobs", "2", "--json"], work / f"lake-{name}-j"), tree=True)
            record(f"loglake process {name} --jobs 2", s, r, text_mb, text_lines)
            shutil.rmtree(work / f"lake-{name}", ignore_errors=True)
            shutil.rmtree(work / f"lake-{name}-j", ignore_errors=True)

        folder = data / f"small-{small}"
        if not folder.exists():
            generate.small_objects(folder, small)
        os.sync()  # otherwise fsync waits behind the writeback of the reference runs' output
        print(f"\n{small} small objects of ~10 KB")
        for jobs, fsync in ((1, True), (2, True), (1, False), (2, False)):
            lake_dir = work / f"lake3-{jobs}-{fsync}"
            lake_dir.mkdir(parents=True)
            (lake_dir / "loglake.toml").write_text(f"[processing]\nfsync = {str(fsync).lower()}\n")
            s, r, _ = run(loglake(["process", str(folder), "--jobs", str(jobs), "--json"], lake_dir), tree=jobs > 1)
            files = len(list((lake_dir / "processed").rglob("*.parquet")))
            results[f"small objects, {jobs} job(s), fsync {fsync}"] = {"objects": small, "seconds": round(s, 2), "objects_per_s": round(small / s, 1),
                                                       "parquet_files": files, "peak_rss_MB": round(r, 1)}  # fmt: skip
            print(
                f"{f'loglake small, {jobs} job(s), fsync {fsync}':<34} {small / s:8.1f} obj/s, {files} Parquet files, {r:.0f} MB RSS"
            )
        s, r, _ = run(loglake(["compact", "--grace", "0", "--json"], lake_dir))
        run(loglake(["compact", "--grace", "0", "--json"], lake_dir))  # deletes the retired inputs
        left = len(list((lake_dir / "processed").rglob("*.parquet")))
        results["compact after small objects"] = {
            "seconds": round(s, 2),
            "parquet_files_after": left,
            "peak_rss_MB": round(r, 1),
        }
        print(f"{'loglake compact':<34} {s:8.2f} s → {left} Parquet files in processed/")

        print(f"\nGROUP BY level over {rows:,} rows")
        best = group_by_table(rows, work / "lake4")
        results["group_by_level"] = {"rows": rows, "seconds": round(best, 4)}
        print(f"{'tutorial GROUP BY level':<34} {best:.3f} s (best of 5)")

        ll1, ll2, dk, tu = (
            results[k]["MB_per_s"]
            for k in (
                "loglake process (1 process)",
                "loglake process --jobs 2",
                "duckdb read_json → parquet",
                "tutorial handler (json arrays)",
            )
        )
        ratios = {
            "loglake_jobs2_vs_duckdb": round(ll2 / dk, 2),
            "loglake_jobs2_vs_tutorial": round(ll2 / tu, 1),
            "loglake_1proc_vs_duckdb": round(ll1 / dk, 2),
            "loglake_1proc_vs_tutorial": round(ll1 / tu, 1),
        }
        results["ratios"] = ratios
        print("\nratios (DuckDB uses both cores; the tutorial one):")
        for name, value in ratios.items():
            print(f"  {name:<28} {value}")
        results["machine"] = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        }
        (HERE / "results.json").write_text(json.dumps(results, indent=2))
        print(f"\nresults written to {HERE / 'results.json'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
