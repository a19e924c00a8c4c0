"""The command line. Library errors become friendly messages here and only here."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from loglake import __version__
from loglake.config import load_settings, with_overrides
from loglake.errors import ConfigError, LogLakeError
from loglake.lake import Lake
from loglake.pipeline import Summary

OK, SOME_FAILED, USAGE = 0, 1, 2
TUTORIAL_QUERIES = (
    'SELECT * FROM "log_analytics_db"."processed_logs" LIMIT 10;',
    'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level;',
    'SELECT * FROM "log_analytics_db"."errors_logs" LIMIT 10;',
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn LogLake errors into a one-line message plus hint, exit code 2 for config mistakes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LogLakeError as exc:
            from loglake.errors import ConfigError, QueryError

            err.print(f"[bold red]error:[/] {exc}", markup=True)
            sys.exit(USAGE if isinstance(exc, (ConfigError, QueryError)) else SOME_FAILED)

    return wrapper  # type: ignore[return-value]


def _lake(ctx: click.Context, **overrides: Any) -> Lake:
    settings = load_settings(ctx.obj["lake"], ctx.obj["config"])
    return Lake.open(with_overrides(settings, **overrides))


def _progress(total: int, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not enabled or total < 2 or not err.is_terminal,
    )


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC).decode() + "\n")


def _summary_line(s: Summary) -> str:
    reasons = ", ".join(f"{k}={v}" for k, v in s.errors_by_reason.items())
    head = "[green]ok[/]" if s.status == "ok" else "[red]FAILED[/]"
    joined = f", {s.joined} joined" if s.joined else ""
    joined += f", {s.shared} sharing a line" if s.shared else ""
    text = (
        f"{head} {escape(s.source_uri)} \\[{s.format or '?'}]: {s.lines} lines → {s.processed} processed, "
        f"{s.errors} errors, {s.blank} blank{joined} ({s.bytes:,} bytes, {s.seconds:.2f}s)"
    )
    if reasons:
        text += f"\n     errors by reason: {escape(reasons)}"
    if s.error:
        text += f"\n     [red]{escape(s.error)}[/]"
    return text


def _totals(summaries: Iterable[Summary]) -> dict[str, Any]:
    items = list(summaries)
    total = Summary(source_uri="")
    for s in items:
        total.add(s)
    return {
        "objects": len(items),
        "failed_objects": sum(1 for s in items if s.status != "ok"),
        **{name: getattr(total, name) for name in Summary.COUNTS},
        "errors_by_reason": dict(sorted(total.errors_by_reason.items())),
        "bytes": sum(s.bytes for s in items),
        "seconds": round(sum(s.seconds for s in items), 6),
    }


def _run_objects(lake: Lake, refs: list[Any], as_json: bool, quiet: bool = False, jobs: int = 1) -> list[Summary]:
    """Process objects (in worker processes when `jobs` != 1); each commit updates the tables itself."""
    if jobs != 1 and refs:
        from loglake.parallel import process_parallel

        results = process_parallel(lake.settings, refs, jobs)
    else:
        results = lake.pipeline().process_many(refs)
    summaries: list[Summary] = []
    with _progress(len(refs), not as_json) as progress:
        task = progress.add_task("processing" if jobs == 1 else f"processing on {jobs or 'all'} cores", total=len(refs))
        for summary in results:
            summaries.append(summary)
            if not as_json and not quiet:
                progress.console.print(_summary_line(summary))
            progress.advance(task)
    return summaries


def _backfill(lake: Lake, uri: str, force: bool, as_json: bool) -> tuple[list[Any], list[str]]:
    """A bucket prefix's objects to process, and those already processed at the same version."""
    from loglake.sources import refs_for_prefix
    from loglake.tables.journal import split_unchanged

    if not uri.startswith("s3://") or not uri[len("s3://") :].split("/", 1)[0]:
        raise ConfigError(f"`{uri}`: only s3://bucket/prefix is supported", hint="or give a local file or folder")
    if not as_json:
        err.print(f"listing {uri} …", markup=False)
    listed = list(refs_for_prefix(uri, lake.settings.processing.suffixes))
    if force or not listed:
        return [ref for ref, _ in listed], []
    return split_unchanged(lake.storage, listed)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--lake",
    envvar="LOGLAKE_LAKE",
    default=None,
    metavar="PATH",
    help="Lake root (env LOGLAKE_LAKE, default ./lake).",
)
@click.option("--config", "config", default=None, metavar="FILE", help="Settings file (default: <lake>/loglake.toml).")
@click.version_option(__version__, prog_name="loglake")
@click.pass_context
def main(ctx: click.Context, lake: str | None, config: str | None) -> None:
    """LogLake: raw logs in, validated Parquet and SQL out.

    \b
    Zones:  raw/ → processed/ (valid records) + errors/ (invalid, with reasons)
    Tables: "log_analytics_db"."processed_logs" and "log_analytics_db"."errors_logs"

    \b
    Example:
      loglake init
      loglake ingest app.log && loglake process lake/raw
      loglake query 'SELECT level, COUNT(*) AS log_count FROM processed_logs GROUP BY level'
    """
    ctx.ensure_object(dict)
    ctx.obj.update(lake=lake, config=config)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def init(ctx: click.Context, as_json: bool) -> None:
    """Create the lake's zones and a commented example loglake.toml.

    \b
    Example:
      loglake --lake ./lake init
    """
    lake = _lake(ctx)
    created = lake.init()
    if as_json:
        _print_json({"lake": lake.uri, "created": created})
        return
    out.print(f"lake at {lake.uri}")
    for item in created:
        out.print(f"  created {item}")
    if not created:
        out.print("  already initialised; nothing changed")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--prefix", default="", help="Sub-folder of raw/ to put the files in.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def ingest(ctx: click.Context, files: tuple[str, ...], prefix: str, as_json: bool) -> None:
    """Copy files into raw/ (the local 'upload'); `watch` picks them up.

    Each copy appears atomically, so a watcher never reads a half-copied file.

    \b
    Example:
      loglake ingest /var/log/app/*.log --prefix app
    """
    lake = _lake(ctx)
    keys = []
    for path in files:
        key = "/".join(p for p in ("raw", prefix.strip("/"), os.path.basename(path)) if p)
        with open(path, "rb") as src, lake.storage.open_write(key) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        keys.append(lake.storage.uri(key))
    if as_json:
        _print_json({"ingested": keys})
    else:
        for key in keys:
            out.print(f"ingested {key}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    help="Worker processes (0 = one per core); big objects are split across them.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Bucket prefixes: redo objects already processed at the same ETag (after changing rules).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document with every object's summary.")
@click.pass_context
@friendly
def process(
    ctx: click.Context,
    paths: tuple[str, ...],
    jobs: int,
    force: bool,
    as_json: bool,
) -> None:
    """Validate and transform log objects into processed/ and errors/.

    PATHS are files (always processed), folders (their files matching the configured suffixes) or
    bucket prefixes, `s3://bucket/prefix/`: a backfill of the objects already there, which skips
    those processed before at the same ETag, so a re-run only does what changed (`--force` redoes
    them). Reprocessing an object replaces its earlier output. Exit code 0: all good; 1: some
    records or objects failed; 2: usage error.

    \b
    Example:
      loglake process lake/raw
      loglake process app.log --json | jq .totals
      loglake process lake/raw --jobs 0        # one worker process per core
      loglake process s3://my-raw-bucket/2025/ --jobs 0
    """
    from loglake.sources import refs_for_paths

    lake = _lake(ctx)
    local = [p for p in paths if "://" not in p]
    missing = [p for p in local if not os.path.exists(p)]
    refs = list(refs_for_paths([p for p in local if os.path.exists(p)], lake.settings.processing.suffixes))
    unchanged: list[str] = []
    for uri in (p for p in paths if "://" in p):
        pending, done = _backfill(lake, uri, force, as_json)
        refs += pending
        unchanged += done
    summaries = _run_objects(lake, refs, as_json, jobs=jobs)
    for path in missing:
        s = Summary(source_uri=os.path.abspath(path), status="failed", error="no such file or folder")
        summaries.append(s)
        if not as_json:
            err.print(_summary_line(s))
    totals = _totals(summaries)
    if as_json:
        doc = {"lake": lake.uri, "objects": [s.to_json() for s in summaries], "totals": totals}
        _print_json(doc | ({"unchanged": unchanged} if unchanged else {}))
    else:
        out.print(
            f"{totals['objects']} object(s): {totals['processed']} processed, {totals['errors']} errors, "
            f"{totals['blank']} blank, {totals['failed_objects']} failed object(s) → {lake.uri}"
        )
        if unchanged:
            out.print(f"{len(unchanged)} object(s) unchanged since they were processed, skipped (--force redoes them)")
        if not refs and not missing and not unchanged:
            err.print("nothing to process: no files matched " + ", ".join(lake.settings.processing.suffixes))
    ctx.exit(SOME_FAILED if totals["failed_objects"] or totals["errors"] else OK)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def crawl(ctx: click.Context, as_json: bool) -> None:
    """Adopt or repair the tables: rebuild both Iceberg tables from the zones and the manifests.

    Processing keeps the tables current by itself. Crawl finishes interrupted commits, then makes
    each table anew from the data files the manifests (and a 0.1 lake's catalog document) list as
    current: a lake written by an earlier version migrates with this one command. Files that do not
    fit the table's schema are rewritten beside the original. Glue registration (S3 lakes) happens by itself.

    \b
    Example:
      loglake crawl
      loglake crawl --json
    """
    from loglake.query.snapshot import describe
    from loglake.tables.adopt import adopt

    lake = _lake(ctx)
    pipeline = lake.pipeline()
    report = adopt(lake.storage, lake.tables, pipeline.uri_of, pipeline.lock)
    described = {zone: describe(lake.tables.load(zone, refresh=True)) for zone in ("processed", "errors")}
    if as_json:
        _print_json({"tables": list(described.values()), **report.to_json()})
        return
    for note in report.notes:
        out.print(note, markup=False)
    for d in described.values():
        out.print(
            f"{d['name']}: {len(d['columns'])} columns, {d['files']} file(s), {d['rows']} rows; "
            f"metadata {d['metadata_location']}",
            markup=False,
        )
    if report.rewritten:
        out.print(f"{report.rewritten} older file(s) rewritten to fit the tables' schemas")
    for key in report.missing:
        err.print(f"listed but missing (not in the tables): {key}", markup=False)


@main.command()
@click.option("--zone", type=click.Choice(["processed", "errors"]), help="Only this zone (default: both).")
@click.option("--dt", help="Only this partition, e.g. 2025-07-21 (default: all).")
@click.option("--target-mb", type=click.IntRange(1), default=128, show_default=True, help="Size of merged files.")
@click.option(
    "--retain-hours",
    type=click.FloatRange(0),
    default=24.0,
    show_default=True,
    help="Snapshots younger than this stay readable (time travel, queries already running).",
)
@click.option(
    "--grace",
    type=click.FloatRange(0),
    default=3600.0,
    show_default=True,
    help="Seconds an unreferenced file must be old before it is deleted (a commit may be about to add it).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def compact(
    ctx: click.Context,
    zone: str | None,
    dt: str | None,
    target_mb: int,
    retain_hours: float,
    grace: float,
    as_json: bool,
) -> None:
    """Merge small files of each partition into ~128 MB files, expire old snapshots, delete orphans.

    Each merge is one Iceberg snapshot: every engine sees the small files or the merged one, never
    both or neither. Snapshots older than --retain-hours are then expired, and files no remaining
    snapshot references are deleted once older than --grace. On AWS, Athena's
    `OPTIMIZE … REWRITE DATA USING BIN_PACK` and `VACUUM` do the same on the same tables.

    \b
    Example:
      loglake compact
      loglake compact --zone processed --dt 2025-07-21 --json
    """
    from datetime import timedelta

    from loglake.tables.compact import compact as run_compact
    from loglake.tables.compact import expire, remove_orphans

    lake = _lake(ctx)
    zones = (zone,) if zone else ("processed", "errors")
    with _progress(1, not as_json) as progress:
        task = progress.add_task("compacting", total=1)
        reports = run_compact(lake.tables, zones, dt, target_mb << 20)
        expired = expire(lake.tables, timedelta(hours=retain_hours))
        orphans = remove_orphans(lake.tables, lake.storage, timedelta(seconds=grace))
        progress.advance(task)
    if as_json:
        _print_json(
            {"compacted": [r.to_json() for r in reports], "expired_snapshots": expired, "orphans_deleted": orphans}
        )
        return
    for r in reports:
        line = f"{r.zone}/dt={r.dt}: {r.inputs} files → {r.into} ({r.rows} rows)"
        out.print(line + (f"; skipped: {r.skipped}" if r.skipped else ""), markup=False)
    if not reports:
        out.print("nothing to compact")
    out.print(
        f"snapshots expired: {sum(expired.values())}; unreferenced files deleted: {sum(orphans.values())}", markup=False
    )


def _clip(text: str, limit: int = 48) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _print_result(result: Any, fmt: str) -> None:
    if fmt == "json":
        _print_json(result.rows)
    elif fmt == "csv":
        sys.stdout.write(result.to_csv())
    else:
        from loglake.query.duckdb_engine import _cell

        cells = [[_clip(str(_cell(row[c]))) for c in result.columns] for row in result.rows]
        table = Table(show_lines=False)
        needed = 1
        for i, col in enumerate(result.columns):
            width = max([len(col)] + [len(r[i]) for r in cells])
            needed += width + 3
            table.add_column(col, no_wrap=True)
        for row_cells in cells:
            table.add_row(*row_cells)
        # Wide results scroll sideways rather than folding every cell into fragments.
        Console(width=max(out.width, needed), highlight=False).print(table, crop=False)
        out.print(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")


@main.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (the same as --format json).")
@click.option("--no-save", is_flag=True, help="Do not save the result as CSV under query-results/.")
@click.option(
    "--engine", type=click.Choice(["duckdb", "athena"]), default="duckdb", show_default=True, help="Where the SQL runs."
)
@click.option(
    "--as-of",
    metavar="TIME|SNAPSHOT",
    help="Read the tables as they were: an ISO time (e.g. 2026-12-01T10:00:00Z) or a snapshot id.",
)
@click.pass_context
@friendly
def query(ctx: click.Context, sql: str, fmt: str, as_json: bool, no_save: bool, engine: str, as_of: str | None) -> None:
    """Run read-only SQL over the lake's Iceberg tables (DuckDB).

    Tables are "log_analytics_db"."processed_logs" and "log_analytics_db"."errors_logs"; the
    database may be left out. Each result is also saved as CSV under query-results/, as Athena does.
    Statements that would change data are refused (exit code 2). --as-of reads an earlier snapshot.

    \b
    Example:
      loglake query 'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level'
      loglake query 'SELECT error_code, COUNT(*) FROM errors_logs GROUP BY 1' --json
      loglake query --as-of 2026-12-01T09:00:00Z 'SELECT COUNT(*) FROM processed_logs'
      loglake --lake s3://my-processed-bucket query --engine athena 'SELECT * FROM errors_logs LIMIT 10'
    """
    from loglake.query.duckdb_engine import DuckDBEngine

    if as_json:
        fmt = "json"

    lake = _lake(ctx)
    if engine == "athena":
        from loglake.query.athena import AthenaEngine

        output = lake.settings.aws.athena_output or lake.storage.uri("query-results/")
        athena = AthenaEngine(lake.settings.catalog.database, lake.settings.aws.athena_workgroup, output)
        result = athena.run(sql)
        _print_result(result, fmt)
        err.print(
            f"Athena query {result.query_id}: {athena.bytes_scanned:,} bytes scanned; results at {result.saved_to}"
        )
        return
    result = DuckDBEngine(lake.storage, lake.tables, as_of).run(sql, save=not no_save)
    _print_result(result, fmt)
    if result.saved_to:
        err.print(f"saved to {result.saved_to}")


@main.command()
@click.option("--settle", type=float, default=None, help="Seconds a file must stay unchanged before it is processed.")
@click.option("--json", "as_json", is_flag=True, help="Print each object's summary as a JSON line.")
@click.pass_context
@friendly
def watch(ctx: click.Context, settle: float | None, as_json: bool) -> None:
    """Process new objects in raw/ as they arrive (file-system events), updating the catalog.

    Files already in raw/ that were not processed at their current version are processed first.
    A file is taken once it has stopped changing. Stop with Ctrl-C.

    \b
    Example:
      loglake watch &
      loglake ingest app.log
    """
    from loglake.sources import ObjectRef
    from loglake.sources.watch import Watcher

    lake = _lake(ctx)
    lake.init()
    storage = lake.storage
    raw_root = storage.uri("raw")

    pipeline = lake.pipeline()

    def handle(paths: list[str]) -> None:
        refs = [ObjectRef(storage, "raw/" + os.path.relpath(path, raw_root).replace(os.sep, "/")) for path in paths]
        for summary in pipeline.process_many(refs):
            if as_json:
                sys.stdout.write(orjson.dumps(summary.to_json()).decode() + "\n")
                sys.stdout.flush()
            else:
                out.print(_summary_line(summary))

    def skip(path: str, st: os.stat_result) -> bool:
        return lake.is_current(os.path.realpath(path), st.st_size, st.st_mtime_ns)

    watcher = Watcher(
        raw_root, lake.settings.processing.suffixes, settle or lake.settings.watch.settle_seconds, handle, skip
    )
    signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
    if not as_json:
        err.print(f"watching {raw_root} for {', '.join(lake.settings.processing.suffixes)} (Ctrl-C to stop)")
    try:
        watcher.run()
    except KeyboardInterrupt:
        watcher.stop()
    if not as_json:
        err.print("stopped")


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def formats(ctx: click.Context, as_json: bool) -> None:
    """List the formats LogLake can parse (built-in and from loglake.toml), in detection order.

    \b
    Example:
      loglake formats
      loglake formats --json | jq '.[].name'
      loglake formats test app.log        # which format reads it, and why
    """
    if ctx.invoked_subcommand is not None:
        return
    from loglake.formats import FormatRegistry

    lake = _lake(ctx)
    registry = FormatRegistry(lake.settings.formats)
    listed = [*registry.ordered, *([registry.generic] if registry.generic else [])]
    items = [
        {"name": f.name, "description": f.description, "example": f.example, "multiline": f.multiline} for f in listed
    ]
    if as_json:
        _print_json(items)
        return
    table = Table("format", "description", "example")
    for item in items:
        table.add_row(Text(str(item["name"])), Text(str(item["description"])), Text(str(item["example"])))
    out.print(table)


@formats.command("test")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--lines", "count", default=None, type=click.IntRange(1), help="Lines to try (default: sniff_lines).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def formats_test(ctx: click.Context, file: str, count: int | None, as_json: bool) -> None:
    """Try every format on a file's first lines: how many each reads, the winner and why, and for each
    of your [[formats.custom]] formats the first line it did not read, with the reason.

    \b
    Example:
      loglake formats test app.log
      loglake formats test app.log.gz --lines 200 --json
    """
    from loglake.formats import FormatRegistry
    from loglake.formats.explain import explain, sample_of

    lake = _lake(ctx)
    settings = lake.settings.formats
    registry = FormatRegistry(settings)
    try:
        with open(file, "rb") as fh:
            numbered = sample_of(fh, file, count or settings.sniff_lines)
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror or exc}") from exc
    report = explain(registry, numbered, lake.settings.rules)
    if as_json:
        _print_json(report.to_json())
        return
    table = Table("format", "lines read", "first line not read (yours only)")
    for trial in report.trials:
        miss = trial.first_miss
        note = "" if miss is None else f"line {miss['line']}: {miss['reason']}\n  {miss['text']}"
        table.add_row(
            Text(trial.name + (" (yours)" if trial.user else "")), f"{trial.matched}/{report.sample}", Text(note)
        )
    out.print(table)
    out.print(Text(f"chosen: {report.winner} — {report.why}"))


@main.command()
@click.option("--log-group", "log_groups", multiple=True, required=True, help="A log group to collect (repeatable).")
@click.option("--stream-prefix", default=None, help="Only streams whose name starts with this.")
@click.option("--since", default="1d", show_default=True, help="Where a first run starts: 2h, 30m, 1d ago or ISO-8601.")
@click.option("--until", default=None, help="End of the window (default: now).")
@click.option("--lag", default="2m", show_default=True, help="How late events may arrive and still be picked up.")
@click.option("--max-rps", default=5.0, show_default=True, help="Requests per second towards CloudWatch Logs.")
@click.option("--process", "process_now", is_flag=True, help="Process the collected objects at once.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def collect(
    ctx: click.Context,
    log_groups: tuple[str, ...],
    stream_prefix: str | None,
    since: str,
    until: str | None,
    lag: str,
    max_rps: float,
    process_now: bool,
    as_json: bool,
) -> None:
    """Pull CloudWatch Logs events into raw/cloudwatch/<group>/dt=.../ as gzip JSON Lines.

    Incremental and resumable: checkpoints per log group and stream live in the lake, so a re-run
    continues where the last one stopped, an interrupted run leaves no gaps or duplicates, and
    events arriving up to --lag late are still picked up.

    \b
    Example:
      loglake collect --log-group /aws/lambda/checkout --since 2h --process
      loglake --lake s3://my-processed-bucket collect --log-group /ecs/api --log-group /ecs/web --json
    """
    from loglake.aws.collector import CollectOptions, Collector, parse_when, raw_target
    from loglake.config import parse_duration
    from loglake.sources import ObjectRef
    from loglake.storage.s3 import s3_client

    lake = _lake(ctx)
    raw, prefix = raw_target(lake.settings, lake.storage)
    options = CollectOptions(
        log_groups=list(log_groups),
        stream_prefix=stream_prefix,
        since_ms=parse_when(since) or 0,
        until_ms=parse_when(until),
        lag_seconds=parse_duration(lag, "--lag").total_seconds(),
        max_rps=max_rps,
    )
    columns = (TextColumn("{task.description}"), TextColumn("{task.completed} events"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=as_json or not err.is_terminal) as progress:
        task = progress.add_task("collecting", total=None)

        def tick(stream: str, n: int) -> None:
            progress.update(task, description=f"collecting {stream}", advance=n)

        stats = Collector(s3_client("logs"), raw, prefix, lake.storage, options, tick).run()
    summaries = []
    if process_now and stats.objects:
        summaries = _run_objects(lake, [ObjectRef(raw, k) for k in stats.objects], as_json)
    doc = {
        "events": stats.events,
        "objects": stats.objects,
        "streams": stats.streams,
        "duplicates_dropped": stats.duplicates_dropped,
        "throttled": stats.throttled,
        "skipped_groups": stats.skipped_groups,
        "processed": _totals(summaries) if summaries else None,
    }
    if as_json:
        _print_json(doc)
    else:
        out.print(f"collected {stats.events} events from {stats.streams} stream(s) into {len(stats.objects)} object(s)")
        for group in stats.skipped_groups:
            err.print(f"skipped {group}: LogLake's own log group (loop guard)")


@main.command()
@click.option(
    "--queue-url", required=True, envvar="LOGLAKE_QUEUE_URL", help="The SQS queue receiving S3 notifications."
)
@click.option("--until-empty", is_flag=True, help="Exit once the queue has no visible messages (batch jobs, tests).")
@click.option("--wait", default=20, show_default=True, help="Long-poll seconds per receive.")
@click.option(
    "--visibility",
    default=300,
    show_default=True,
    help="Seconds a message stays hidden while processed (extended as needed).",
)
@click.option("--retry-delay", default=30, show_default=True, help="Seconds before a failed message is retried.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's counts as JSON at the end.")
@click.pass_context
@friendly
def worker(
    ctx: click.Context, queue_url: str, until_empty: bool, wait: int, visibility: int, retry_delay: int, as_json: bool
) -> None:
    """Process S3 notifications from an SQS queue; run as many workers as you like, anywhere.

    Each message is deleted once its object is committed; failures return to the queue and, after
    the queue's maxReceiveCount, go to its dead-letter queue. Exit code 1 when some failed.

    \b
    Example:
      loglake --lake s3://my-processed-bucket worker --queue-url https://sqs.us-east-1.amazonaws.com/123456789012/loglake-events
      loglake worker --queue-url "$QUEUE" --until-empty --json
    """
    from loglake.aws import runtime as rt_mod
    from loglake.aws.runtime import Runtime
    from loglake.aws.worker import run_worker

    settings = load_settings(ctx.obj["lake"], ctx.obj["config"])
    rt_mod.LOG_STREAM = sys.stderr  # stdout stays machine-readable
    try:
        stats = run_worker(
            queue_url,
            Runtime.create(settings),
            until_empty=until_empty,
            wait_seconds=wait,
            visibility=visibility,
            retry_delay=retry_delay,
        )
    finally:
        rt_mod.LOG_STREAM = None
    counts = {k: getattr(stats, k) for k in ("received", "succeeded", "failed", "skipped")}
    if as_json:
        _print_json({**counts, "objects": stats.objects})
    else:
        out.print(", ".join(f"{k} {v}" for k, v in counts.items()))
    ctx.exit(SOME_FAILED if stats.failed else OK)


@main.command()
@click.option("--output", default="dist/loglake-lambda.zip", show_default=True, help="Where to write the zip.")
@click.option("--arch", type=click.Choice(["arm64", "x86_64"]), default="arm64", show_default=True)
@click.option("--python", "python_version", default="3.12", show_default=True, help="Lambda runtime's Python version.")
@click.pass_context
@friendly
def package(ctx: click.Context, output: str, arch: str, python_version: str) -> None:
    """Build the Lambda deployment zip from manylinux wheels (arm64 by default).

    \b
    Example:
      loglake package --output dist/loglake-lambda.zip
    """
    from loglake.aws.deploy import build_zip

    with err.status(f"installing wheels for {arch} / Python {python_version}"):
        path = build_zip(output, arch=arch, python=python_version)
    out.print(f"built {path} ({path.stat().st_size / 1e6:.1f} MB)")


@main.command()
@click.option("--stack-name", default="loglake", show_default=True)
@click.option(
    "--zip",
    "zip_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A zip from `loglake package` (built now if omitted).",
)
@click.option("--memory", default=512, show_default=True, help="Lambda memory in MB.")
@click.option("--timeout", default=300, show_default=True, help="Lambda timeout in seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the stack's outputs as JSON.")
@click.pass_context
@friendly
def deploy(ctx: click.Context, stack_name: str, zip_path: str | None, memory: int, timeout: int, as_json: bool) -> None:
    """Create (or update) the CloudFormation stack and upload the processor's code.

    Builds the raw and processed buckets, the S3 → SQS notification with its DLQ, the Lambda with
    partial batch responses, least-privilege IAM, the Glue database, an Athena workgroup and alarms.

    \b
    Example:
      loglake deploy --stack-name loglake
      aws s3 cp app.log s3://$(loglake deploy --json | jq -r .RawBucketName)/
    """
    from pathlib import Path

    from loglake.aws.deploy import build_zip
    from loglake.aws.deploy import deploy as run_deploy

    zip_file = Path(zip_path) if zip_path else None
    if zip_file is None:
        with err.status("building the Lambda zip"):
            zip_file = build_zip("dist/loglake-lambda.zip")
    params = {
        "LambdaMemory": str(memory),
        "LambdaTimeout": str(timeout),
        "QueueVisibilityTimeout": str(max(6 * timeout, 30)),
    }
    outputs = run_deploy(stack_name, zip_file, params, progress=lambda m: err.print(m))
    if as_json:
        _print_json(outputs)
    else:
        for key, value in outputs.items():
            out.print(f"{key}: {value}")


@main.command()
@click.option("--stack-name", default="loglake", show_default=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def destroy(ctx: click.Context, stack_name: str, yes: bool, as_json: bool) -> None:
    """Empty the stack's buckets and delete the stack: back to nothing.

    Only buckets the stack created are emptied; no other bucket is touched.

    \b
    Example:
      loglake destroy --stack-name loglake --yes
    """
    from loglake.aws.deploy import destroy as run_destroy

    if not yes:
        click.confirm(f"Delete stack {stack_name} and everything in its buckets?", abort=True)
    emptied = run_destroy(stack_name, progress=lambda m: err.print(m))
    if as_json:
        _print_json({"stack": stack_name, "emptied": emptied})
    else:
        buckets = ", ".join(f"{b} ({n} objects)" for b, n in emptied.items()) or "no buckets"
        out.print(f"deleted stack {stack_name}; emptied {buckets}")


@main.command()
@click.option("--failed", is_flag=True, help="Only objects that failed.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def status(ctx: click.Context, failed: bool, as_json: bool) -> None:
    """List processed objects from their manifests, with whole-object failures.

    \b
    Example:
      loglake status --failed
    """
    from loglake.tables.journal import iter_manifests

    lake = _lake(ctx)
    rows = []
    for m in iter_manifests(lake.storage):
        s = m.get("summary", {})
        entry = {
            "source_uri": m.get("source_uri"),
            "state": m.get("state"),
            "status": s.get("status"),
            "lines": s.get("lines"),
            "processed": s.get("processed"),
            "errors": s.get("errors"),
            "error": s.get("error"),
            "outputs": len(m.get("outputs", [])),
        }
        if not failed or entry["status"] != "ok":
            rows.append(entry)
    if as_json:
        _print_json(rows)
    else:
        table = Table("source", "status", "lines", "processed", "errors", "problem")
        for r in rows:
            table.add_row(
                str(r["source_uri"]),
                str(r["status"]),
                str(r["lines"]),
                str(r["processed"]),
                str(r["errors"]),
                r["error"] or "",
            )
        out.print(table)
    ctx.exit(SOME_FAILED if any(r["status"] != "ok" for r in rows) else OK)


@main.command()
@click.option("--lines", default=3000, show_default=True, help="How many sample lines to generate.")
@click.option("--seed", default=7, show_default=True, help="Random seed: the same seed gives the same logs.")
@click.pass_context
@friendly
def demo(ctx: click.Context, lines: int, seed: int) -> None:
    """Generate sample logs, then ingest → process → the tables → the tutorial's three queries.

    Re-running is safe: the same objects are reprocessed and replace their earlier output.

    \b
    Example:
      loglake --lake ./lake demo
    """
    from loglake.demo import generate
    from loglake.query.duckdb_engine import DuckDBEngine
    from loglake.query.snapshot import describe
    from loglake.sources import ObjectRef

    lake = _lake(ctx)
    lake.init()
    out.rule("1. generate sample logs")
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(tmp, lines=lines, seed=seed)
        out.rule("2. ingest into raw/")
        keys = []
        for path in paths:
            key = "raw/demo/" + os.path.basename(path)
            with open(path, "rb") as src, lake.storage.open_write(key) as dst:
                shutil.copyfileobj(src, dst)
            keys.append(key)
            out.print(f"ingested {lake.storage.uri(key)}")
    out.rule("3. process (validate, transform, write processed/ and errors/)")
    summaries = _run_objects(lake, [ObjectRef(lake.storage, k) for k in keys], as_json=False)
    totals = _totals(summaries)
    out.print(
        f"total: {totals['lines']} lines → {totals['processed']} processed, "
        f"{totals['errors']} errors, {totals['blank']} blank"
    )
    out.rule("4. the tables (Apache Iceberg: Athena, Spark, Trino and DuckDB read them as they are)")
    for zone in ("processed", "errors"):
        d = describe(lake.tables.load(zone, refresh=True))
        out.print(f"{d['name']}: {len(d['columns'])} columns, {d['files']} file(s), {d['rows']} rows", markup=False)
    out.rule("5. the tutorial's queries")
    engine = DuckDBEngine(lake.storage, lake.tables)
    for sql in TUTORIAL_QUERIES:
        out.print(f"[bold]{sql}[/]")
        _print_result(engine.run(sql), "table")
    out.rule("done")
    out.print(f"lake: {lake.uri}")
    out.print(
        "try:  .venv/bin/loglake query 'SELECT error_code, COUNT(*) AS n FROM errors_logs GROUP BY 1 ORDER BY n DESC'"
    )
