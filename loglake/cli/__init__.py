"""The command line: a thin layer over the library (`loglake.Lake`) that parses flags, shows results and
turns mistakes into one line and an exit code (`output.friendly`).

One module per room: the pipeline's commands, reading the lake (SQL, tables, errors, shell), formats,
and AWS at the edge.
"""

from __future__ import annotations

import click

from loglake import __version__
from loglake.cli import aws_commands, format_commands, lake_commands, sql_commands, ui_commands
from loglake.cli.output import Group


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--lake",
    envvar="LOGLAKE_LAKE",
    default=None,
    metavar="PATH",
    help="Lake root: a folder or s3://bucket/prefix (env LOGLAKE_LAKE, default ./lake).",
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
      loglake shell
    """
    ctx.ensure_object(dict)
    ctx.obj.update(lake=lake, config=config)


for _command in (
    lake_commands.init,
    lake_commands.ingest,
    lake_commands.process,
    lake_commands.watch,
    lake_commands.crawl,
    lake_commands.compact,
    lake_commands.status,
    lake_commands.demo,
    sql_commands.query,
    sql_commands.shell,
    sql_commands.tables,
    sql_commands.schema,
    sql_commands.errors_command,
    ui_commands.ui,
    format_commands.formats,
    aws_commands.collect,
    aws_commands.worker,
    aws_commands.package,
    aws_commands.deploy,
    aws_commands.destroy,
):
    main.add_command(_command)
