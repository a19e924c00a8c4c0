"""The pipeline's commands: init, ingest, process, watch, crawl, compact, status, demo."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click
import orjson
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from loglake.cli.output import (
    OK,
    SOME_FAILED,
    command,
    err,
    friendly,
    human_bytes,
    json_option,
    open_lake,
    out,
    print_json,
    print_table,
    quiet_option,
    say,
    visible,
)
from loglake.lake import Lake

if TYPE_CHECKING:
    from loglake.pipeline import Summary

TUTORIAL_QUERIES = (
    'SELECT * FROM "log_analytics_db"."processed_logs" LIMIT 10;',
    'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level;',
    'SELECT * FROM "log_analytics_db"."errors_logs" LIMIT 10;',
)


def summary_line(s: Summary) -> Text:
    reasons = ", ".join(f"{k}={v}" for k, v in s.errors_by_reason.items())
    joined = f", {s.joined} joined" if s.joined else ""
    joined += f", {s.shared} sharing a line" if s.shared else ""
    line = say(
        ("ok", "green") if s.status == "ok" else ("FAILED", "red"),
        f" {s.source_uri} [{s.format or '?'}]: {s.lines} lines → {s.processed} processed, "
        f"{s.errors} errors, {s.blank} blank{joined} ({s.bytes:,} bytes, {s.seconds:.2f}s)",
    )
    if reasons:
        line.append_text(say(f"\n     errors by reason: {reasons}"))
    if s.error:
        line.append_text(say("\n     ", (s.error, "red")))
    return line


def totals(summaries: Iterable[Summary]) -> dict[str, Any]:
    from loglake.pipeline import Summary

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


class _ByteProgress:
    """Bytes read of the object being processed, polled from its stream (one-process runs only)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def __call__(self, uri: str, done: int, size: int) -> None:
        name = visible(uri.rsplit("/", 1)[-1], False)
        count = f"{human_bytes(done)} of {human_bytes(size)}"
        if self.task is None:
            self.task = self.progress.add_task(f"reading {name}", total=size or None, count=count)
        self.progress.update(self.task, completed=done, count=count)

    def finish(self) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None


def run_objects(lake: Lake, refs: list[Any], as_json: bool, quiet: bool = False, jobs: int = 1) -> list[Summary]:
    """Process objects with progress on a terminal (objects, and the bytes of the one being read); each
    commit updates the tables itself. `quiet` prints only objects with problems."""
    summaries: list[Summary] = []
    show = not as_json and err.is_terminal
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=not show) as progress:
        label = "processing" if jobs == 1 else f"processing on {jobs or 'all'} cores"
        task = progress.add_task(label, total=len(refs), count=f"0/{len(refs)}")
        reporter = _ByteProgress(progress)
        if jobs == 1:
            pipeline = lake.pipeline()
            if show:
                pipeline.progress = reporter
            results: Iterator[Summary] = pipeline.process_many(refs)
        else:
            results = lake.process(refs, jobs=jobs)
        for summary in results:
            reporter.finish()
            summaries.append(summary)
            if not as_json and (not quiet or summary.status != "ok"):
                progress.console.print(summary_line(summary))
            progress.update(task, advance=1, count=f"{len(summaries)}/{len(refs)}")
    return summaries


@command()
@json_option
@click.pass_context
@friendly
def init(ctx: click.Context, as_json: bool) -> None:
    """Create the lake's zones and a commented example loglake.toml.

    \b
    Example:
      loglake --lake ./lake init
    """
    lake = open_lake(ctx)
    created = lake.init()
    if as_json:
        print_json({"lake": lake.uri, "created": created})
        return
    out.print(say(f"lake at {lake.uri}"))
    for item in created:
        out.print(say(f"  created {item}"))
    if not created:
        out.print("  already initialised; nothing changed")


@command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--prefix", default="", help="Sub-folder of raw/ to put the files in.")
@click.option("--keep-paths", is_flag=True, help="Keep each file's folders (hostA/app.log), so same names stay apart.")
@click.option("--overwrite", is_flag=True, help="Replace a raw object that has other content (it is reprocessed).")
@json_option
@click.pass_context
@friendly
def ingest(
    ctx: click.Context, files: tuple[str, ...], prefix: str, keep_paths: bool, overwrite: bool, as_json: bool
) -> None:
    """Copy files into raw/ (the local 'upload'); `watch` picks them up.

    Each copy appears atomically, so a watcher never reads a half-copied file. A raw object with the
    same content is left as it is; one with other content is refused unless --overwrite, and two
    inputs with one name are refused unless --keep-paths (or separate --prefix runs) keeps them apart.

    \b
    Example:
      loglake ingest /var/log/app/*.log --prefix app
      loglake ingest hostA/app.log hostB/app.log --keep-paths
    """
    lake = open_lake(ctx)
    done = lake.ingest(files, prefix=prefix, overwrite=overwrite, keep_paths=keep_paths)
    if as_json:
        print_json({"ingested": [d.uri for d in done if d.action != "unchanged"], "items": [d.__dict__ for d in done]})
        return
    for d in done:
        verb = {"copied": "ingested", "replaced": "replaced", "unchanged": "unchanged (same content)"}[d.action]
        out.print(say(f"{verb} {d.uri}"))


@command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    type=click.IntRange(0),
    help="Worker processes (0 = one per core); big objects are split across them.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Bucket prefixes: redo objects already processed at the same ETag (after changing rules).",
)
@json_option(help="Print one JSON document with every object's summary.")
@quiet_option
@click.pass_context
@friendly
def process(ctx: click.Context, paths: tuple[str, ...], jobs: int, force: bool, as_json: bool, quiet: bool) -> None:
    """Validate and transform log objects into processed/ and errors/.

    PATHS are files (always processed), folders (their files matching the configured suffixes) or
    bucket prefixes, `s3://bucket/prefix/`: a backfill of the objects already there, which skips
    those processed before at the same ETag, so a re-run only does what changed (`--force` redoes
    them). Reprocessing an object replaces its earlier output. Exit code 1 when some records or
    objects failed.

    \b
    Example:
      loglake process lake/raw
      loglake process app.log --json | jq .totals
      loglake process lake/raw --jobs 0 --quiet   # one worker process per core, totals only
      loglake process s3://my-raw-bucket/2025/ --jobs 0
    """
    lake = open_lake(ctx)
    if not as_json and any("://" in p for p in paths):
        err.print(say("listing " + ", ".join(p for p in paths if "://" in p) + " …"))
    refs, missing, unchanged = lake.refs(paths, force=force)
    summaries = run_objects(lake, refs, as_json, quiet=quiet, jobs=jobs)
    from loglake.pipeline import Summary

    for path in missing:
        s = Summary(source_uri=os.path.abspath(path), status="failed", error="no such file or folder")
        summaries.append(s)
        if not as_json:
            err.print(summary_line(s))
    total = totals(summaries)
    if as_json:
        doc = {"lake": lake.uri, "objects": [s.to_json() for s in summaries], "totals": total}
        print_json(doc | ({"unchanged": unchanged} if unchanged else {}))
    else:
        out.print(
            say(
                f"{total['objects']} object(s): {total['processed']} processed, {total['errors']} errors, "
                f"{total['blank']} blank, {total['failed_objects']} failed object(s) → {lake.uri}"
            )
        )
        if unchanged:
            out.print(f"{len(unchanged)} object(s) unchanged since they were processed, skipped (--force redoes them)")
        if not refs and not missing and not unchanged:
            err.print(say("nothing to process: no files matched " + ", ".join(lake.settings.processing.suffixes)))
    ctx.exit(SOME_FAILED if total["failed_objects"] or total["errors"] else OK)


@command()
@json_option
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

    lake = open_lake(ctx, existing=True)
    report = lake.crawl()
    described = {zone: describe(lake.tables.load(zone, refresh=True)) for zone in ("processed", "errors")}
    if as_json:
        print_json({"tables": list(described.values()), **report.to_json()})
        return
    for note in report.notes:
        out.print(say(note))
    for d in described.values():
        out.print(
            say(
                f"{d['name']}: {len(d['columns'])} columns, {d['files']} file(s), {d['rows']} rows; "
                f"metadata {d['metadata_location']}"
            )
        )
    if report.rewritten:
        out.print(f"{report.rewritten} older file(s) rewritten to fit the tables' schemas")
    for key in report.missing:
        err.print(say(f"listed but missing (not in the tables): {key}"))


@command()
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
@json_option
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
    lake = open_lake(ctx, existing=True)
    zones = (zone,) if zone else ("processed", "errors")
    with err.status("compacting", spinner="dots") if not as_json and err.is_terminal else contextlib.nullcontext():
        done = lake.compact(
            zones,
            dt=dt,
            target_bytes=target_mb << 20,
            retain=timedelta(hours=retain_hours),
            grace=timedelta(seconds=grace),
        )
    if as_json:
        print_json(done.to_json())
        return
    for r in done.merges:
        line = f"{r.zone}/dt={r.dt}: {r.inputs} files → {r.into} ({r.rows} rows)"
        out.print(say(line + (f"; skipped: {r.skipped}" if r.skipped else "")))
    if not done.merges:
        out.print("nothing to compact")
    out.print(
        f"snapshots expired: {sum(done.expired_snapshots.values())} (older than {retain_hours:g} h); "
        f"unreferenced files deleted: {sum(done.orphans_deleted.values())} (files younger than {grace:g} s, "
        "such as merged inputs still readable from recent snapshots, are kept until a later run)"
    )


@command()
@click.option("--settle", type=click.FloatRange(0), default=None, help="Seconds a file must stay unchanged.")
@json_option(help="Print each object's summary as a JSON line.")
@quiet_option
@click.pass_context
@friendly
def watch(ctx: click.Context, settle: float | None, as_json: bool, quiet: bool) -> None:
    """Process new objects in raw/ as they arrive (file-system events), updating the tables.

    Files already in raw/ that were not processed at their current version are processed first.
    A file is taken once it has stopped changing. Stop with Ctrl-C.

    \b
    Example:
      loglake watch &
      loglake ingest app.log
    """
    from loglake.sources import ObjectRef
    from loglake.sources.watch import Watcher

    lake = open_lake(ctx)
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
            elif not quiet or summary.status != "ok" or summary.errors:
                out.print(summary_line(summary))

    def skip(path: str, st: os.stat_result) -> bool:
        return lake.is_current(os.path.realpath(path), st.st_size, st.st_mtime_ns)

    settle_seconds = lake.settings.watch.settle_seconds if settle is None else settle
    watcher = Watcher(raw_root, lake.settings.processing.suffixes, settle_seconds, handle, skip)
    signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
    if not as_json:
        err.print(say(f"watching {raw_root} for {', '.join(lake.settings.processing.suffixes)} (Ctrl-C to stop)"))
    try:
        watcher.run()
    except KeyboardInterrupt:
        watcher.stop()
    if not as_json:
        err.print("stopped")


@command()
@click.option("--failed", is_flag=True, help="Only objects that failed.")
@click.option("--waiting/--no-waiting", default=True, show_default=True, help="Include files in raw/ not processed.")
@json_option
@click.pass_context
@friendly
def status(ctx: click.Context, failed: bool, waiting: bool, as_json: bool) -> None:
    """What the lake holds: every object with its status, format, size, rows and when it was processed;
    failed objects first (with their cause), then files in raw/ waiting to be processed, then totals.

    Exit code 1 when an object failed.

    \b
    Example:
      loglake status
      loglake status --failed --json | jq '.objects[].error'
    """
    lake = open_lake(ctx, existing=True)
    entries = [e for e in lake.status(waiting=waiting) if not failed or e.status == "failed"]
    sums = {
        "objects": len(entries),
        "failed": sum(e.status == "failed" for e in entries),
        "waiting": sum(e.status == "waiting" for e in entries),
        **{k: sum(getattr(e, k) or 0 for e in entries) for k in ("lines", "processed", "errors", "bytes")},
    }
    if as_json:
        print_json({"objects": [e.to_json() for e in entries], "totals": sums})
    else:
        table = Table("status", "source", "format", "size", "lines", "processed", "errors", "processed at", "problem")
        for col in table.columns[3:7]:
            col.justify = "right"
        table.columns[1].overflow = "fold"
        table.columns[8].overflow = "fold"
        for e in entries:
            style = {"failed": "red", "waiting": "yellow"}.get(e.status, "green")
            table.add_row(
                Text(e.status, style=style),
                Text(visible(e.source_uri, False)),
                Text(visible(e.format or "", False)),
                human_bytes(e.bytes),
                _n(e.lines),
                _n(e.processed),
                _n(e.errors),
                (e.processed_at or "")[:19].replace("T", " "),
                Text(visible(e.error or "", False)),
            )
        print_table(table)
        out.print(
            f"{sums['objects']} object(s): {sums['failed']} failed, {sums['waiting']} waiting in raw/; "
            f"{sums['lines']:,} lines → {sums['processed']:,} processed, {sums['errors']:,} errors; "
            f"{human_bytes(sums['bytes'])}"
        )
    ctx.exit(SOME_FAILED if sums["failed"] else OK)


def _n(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


@command()
@click.option("--lines", default=3000, show_default=True, type=click.IntRange(1), help="Sample lines to generate.")
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
    from loglake.cli.render import show
    from loglake.demo import generate
    from loglake.query.snapshot import describe
    from loglake.sources import ObjectRef

    lake = open_lake(ctx)
    lake.init()
    out.rule("1. generate sample logs")
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(tmp, lines=lines, seed=seed)
        out.rule("2. ingest into raw/")
        done = lake.ingest([str(p) for p in paths], prefix="demo", overwrite=True)
        for item in done:
            out.print(say(f"ingested {item.uri}"))
    keys = ["raw/demo/" + os.path.basename(str(p)) for p in paths]
    out.rule("3. process (validate, transform, write processed/ and errors/)")
    summaries = run_objects(lake, [ObjectRef(lake.storage, k) for k in keys], as_json=False)
    total = totals(summaries)
    counts = f"{total['processed']} processed, {total['errors']} errors, {total['blank']} blank"
    out.print(f"total: {total['lines']} lines → {counts}")
    out.rule("4. the tables (Apache Iceberg: Athena, Spark, Trino and DuckDB read them as they are)")
    for zone in ("processed", "errors"):
        table = describe(lake.tables.load(zone, refresh=True))
        out.print(
            say(f"{table['name']}: {len(table['columns'])} columns, {table['files']} file(s), {table['rows']} rows")
        )
    out.rule("5. the tutorial's queries")
    engine = lake.engine()
    for sql in TUTORIAL_QUERIES:
        out.print(say((sql, "bold")))
        stream = engine.stream(sql)
        show(stream.schema, stream.batches, "table", lake.settings.query.max_rows, out)
    out.rule("done")
    out.print(say(f"lake: {lake.uri}"))
    out.print("try:  .venv/bin/loglake tables")
    out.print(
        "      .venv/bin/loglake query 'SELECT error_code, COUNT(*) AS n FROM errors_logs GROUP BY 1 ORDER BY n DESC'"
    )
    out.print("      .venv/bin/loglake shell")
