"""Reading the lake: query, shell, tables, schema, errors."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from loglake.cli.output import (
    OK,
    command,
    err,
    friendly,
    json_option,
    open_lake,
    out,
    print_json,
    print_table,
    say,
    visible,
)
from loglake.cli.render import FORMATS, show
from loglake.config import parse_duration
from loglake.errors import ConfigError


def read_sql(sql: str) -> str:
    """`-` reads the statement from stdin, `@file.sql` from a file; anything else is the statement."""
    if sql == "-":
        text = sys.stdin.read()
    elif sql.startswith("@"):
        try:
            with open(sql[1:], encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise ConfigError(f"cannot read {sql[1:]}: {exc.strerror or exc}") from exc
    else:
        text = sql
    if not text.strip():
        raise ConfigError("no SQL given", hint="pass a statement, `-` to read stdin, or @file.sql")
    return text


def _format(fmt: str | None, as_json: bool) -> str:
    return "json" if as_json else fmt or "table"


output_format = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="table (default; vertical when too wide), line (one column per line), csv, json (an array), jsonl.",
)
max_rows_option = click.option(
    "--max-rows",
    type=click.IntRange(1),
    default=None,
    help="Rows a table or line layout shows (first and last halves); default [query] max_rows, 40.",
)


@command()
@click.argument("sql")
@output_format
@json_option
@max_rows_option
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
def query(
    ctx: click.Context,
    sql: str,
    fmt: str | None,
    as_json: bool,
    max_rows: int | None,
    no_save: bool,
    engine: str,
    as_of: str | None,
) -> None:
    """Run read-only SQL over the lake's Iceberg tables (DuckDB).

    SQL is the statement, `-` (read from stdin) or @FILE. Tables are "log_analytics_db"."processed_logs"
    and "log_analytics_db"."errors_logs"; the database may be left out. DESCRIBE, SUMMARIZE, SHOW
    TABLES, EXPLAIN and read-only PRAGMAs (table_info, show_tables, …) work; statements that would
    change data, and reads of files outside the lake, are refused. Results stream: CSV and JSON of any
    size in constant memory; a table shows the first and last rows with the total. Each result is
    also saved as CSV under query-results/ (kept [query] results_retention_days, 30), as Athena does.

    \b
    Example:
      loglake query 'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level'
      loglake query 'SELECT * FROM processed_logs' --format csv > all.csv
      loglake query @report.sql --json
      echo 'SELECT COUNT(*) FROM errors_logs' | loglake query -
      loglake query --as-of 2026-12-01T09:00:00Z 'SELECT COUNT(*) FROM processed_logs'
      loglake --lake s3://my-processed-bucket query --engine athena 'SELECT * FROM errors_logs LIMIT 10'
    """
    text = read_sql(sql)
    fmt = _format(fmt, as_json)
    lake = open_lake(ctx, existing=True)
    limit = max_rows or lake.settings.query.max_rows
    if engine == "athena":
        import pyarrow as pa

        from loglake.query.athena import AthenaEngine

        output = lake.settings.aws.athena_output or lake.storage.uri("query-results/")
        athena = AthenaEngine(lake.settings.catalog.database, lake.settings.aws.athena_workgroup, output)
        result = athena.run(text)
        table = pa.Table.from_pylist(result.rows) if result.rows else pa.table({c: [] for c in result.columns})
        show(table.schema, table.to_batches(), fmt, limit, out)
        err.print(
            say(f"Athena query {result.query_id}: {athena.bytes_scanned:,} bytes scanned; results at {result.saved_to}")
        )
        return
    save = lake.settings.query.save_results and not no_save
    stream = lake.engine(as_of).stream(text, save=save)
    show(stream.schema, stream.batches, fmt, limit, out)
    if stream.saved_to:
        err.print(say(("saved to ", "dim"), (stream.saved_to, "dim")))


@command()
@json_option
@click.pass_context
@friendly
def tables(ctx: click.Context, as_json: bool) -> None:
    """List the lake's tables: columns, rows, files and where their Iceberg metadata is.

    \b
    Example:
      loglake tables
      loglake tables --json | jq '.[].rows'
    """
    from loglake.query.snapshot import describe

    lake = open_lake(ctx, existing=True)
    items = []
    for zone in ("processed", "errors"):
        d = describe(lake.tables.load(zone, refresh=True))
        items.append(
            {
                "name": d["name"],
                "columns": len(d["columns"]),
                "rows": d["rows"],
                "files": d["files"],
                "snapshots": d["snapshots"],
                "location": d["location"],
                "metadata_location": d["metadata_location"],
            }
        )
    if as_json:
        print_json(items)
        return
    table = Table("table", "columns", "rows", "files", "snapshots", "location")
    for col in table.columns[1:5]:
        col.justify = "right"
    table.columns[5].overflow = "fold"
    for i in items:
        table.add_row(
            visible(i["name"], False),
            str(i["columns"]),
            f"{i['rows']:,}",
            str(i["files"]),
            str(i["snapshots"]),
            visible(i["location"], False),
        )
    print_table(table)
    out.print(Text("`loglake schema TABLE` lists a table's columns", style="dim"))


@command()
@click.argument("table_name", metavar="TABLE")
@json_option
@click.pass_context
@friendly
def schema(ctx: click.Context, table_name: str, as_json: bool) -> None:
    """Show a table's columns and their SQL types (as DuckDB and Athena see them).

    \b
    Example:
      loglake schema processed_logs
      loglake schema errors_logs --json
    """
    lake = open_lake(ctx, existing=True)
    columns = lake.engine().columns(table_name)
    if as_json:
        print_json([{"name": n, "type": t} for n, t in columns])
        return
    table = Table("column", "type")
    for name, kind in columns:
        table.add_row(visible(name, False), kind)
    print_table(table)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.now(UTC).replace(tzinfo=None) - parse_duration(value, "--since")
    except ConfigError:
        pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"--since: `{value}` is neither a duration nor a time", hint="e.g. 1h, 30m, 2d or 2026-12-01T09:00"
        ) from exc
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _error_line(row: dict[str, Any]) -> Text:
    raw = row["raw_line"]
    shown = visible(raw, False) if raw is not None else "base64:" + str(row["raw_line_b64"] or "")
    return say(
        (f"{row['source_uri']}:{row['source_line']}", "cyan"),
        " ",
        (str(row["error_code"]), "red"),
        " ",
        (str(row["error_message"] or ""), "dim"),
        "\n    ",
        shown,
    )


@command("errors")
@click.option("--since", help="Only errors processed within this (1h, 30m, 2d) or since this time (ISO-8601).")
@click.option("--reason", help="Only this reason, e.g. missing_field:level or invalid_json.")
@click.option("--source", help="Only sources matching this glob (a bare name matches the end: app.log).")
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1), help="The latest N errors.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new errors as objects are processed (Ctrl-C).")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.1), help="Seconds between polls.")
@json_option
@click.pass_context
@friendly
def errors_command(
    ctx: click.Context,
    since: str | None,
    reason: str | None,
    source: str | None,
    limit: int,
    follow: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Tail and search the errors table: the failing lines with their reason, source and line number.

    The raw line is shown exactly (control characters as escapes such as \\x1b; a line that is not
    UTF-8 as its base64). With --json each error is one JSON line.

    \b
    Example:
      loglake errors --since 1h
      loglake errors --reason missing_field:level --source 'raw/app/*'
      loglake errors --follow
    """
    import orjson

    from loglake.query.explore import errors_where, latest_errors_sql

    lake = open_lake(ctx, existing=True)
    start = _since(since)
    seen: set[tuple[Any, ...]] = set()
    last: datetime | None = None
    while True:
        where = errors_where(reason, source, last if last is not None else start)
        sql = latest_errors_sql(where, limit if last is None else 1 << 30)
        rows = lake.engine().run(sql, save=False).rows
        fresh = [r for r in rows if (r["processed_timestamp"], r["source_uri"], r["source_line"]) not in seen]
        for row in fresh:
            if as_json:
                sys.stdout.buffer.write(orjson.dumps(row, option=orjson.OPT_NAIVE_UTC) + b"\n")
            else:
                out.print(_error_line(row))
        sys.stdout.flush()
        if rows:
            last = max(r["processed_timestamp"] for r in rows)
            seen = {
                (r["processed_timestamp"], r["source_uri"], r["source_line"])
                for r in rows
                if r["processed_timestamp"] == last
            }
        if not follow:
            if not rows and not as_json:
                err.print("no errors match")
            ctx.exit(OK)
        time.sleep(interval)


@command()
@click.option("--history", "history_file", default=None, metavar="FILE", help="History file (default: per user).")
@click.pass_context
@friendly
def shell(ctx: click.Context, history_file: str | None) -> None:
    """An interactive SQL prompt over the lake: history, completion of table and column names.

    End a statement with `;` (it may span lines). Commands: .tables, .schema TABLE,
    .mode table|line|csv|json|jsonl, .maxrows N, .help, .quit (or Ctrl-D).

    \b
    Example:
      loglake shell
      loglake --lake s3://my-processed-bucket shell
    """
    from loglake.cli.shell import run_shell

    lake = open_lake(ctx, existing=True)
    run_shell(lake, history_file)
