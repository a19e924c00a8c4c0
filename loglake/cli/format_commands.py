"""`loglake formats`: the formats LogLake parses, and `formats test FILE` for writing your own."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from loglake.cli.output import Group, friendly, json_option, open_lake, out, print_json, print_table, visible
from loglake.errors import ConfigError


@click.group(cls=Group, invoke_without_command=True)
@json_option
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

    lake = open_lake(ctx)
    registry = FormatRegistry(lake.settings.formats)
    listed = [*registry.ordered, *([registry.generic] if registry.generic else [])]
    items = [
        {"name": f.name, "description": f.description, "example": f.example, "multiline": f.multiline} for f in listed
    ]
    if as_json:
        print_json(items)
        return
    table = Table("format", "description", "example")
    for item in items:
        table.add_row(*(Text(visible(str(item[k]), False)) for k in ("name", "description", "example")))
    print_table(table)


@formats.command("test")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--lines", "count", default=None, type=click.IntRange(1), help="Lines to try (default: sniff_lines).")
@json_option
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

    lake = open_lake(ctx)
    settings = lake.settings.formats
    registry = FormatRegistry(settings)
    try:
        with open(file, "rb") as fh:
            numbered = sample_of(fh, file, count or settings.sniff_lines)
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror or exc}") from exc
    report = explain(registry, numbered, lake.settings.rules)
    if as_json:
        print_json(report.to_json())
        return
    table = Table("format", "lines read", "first line not read (yours only)")
    for trial in report.trials:
        miss = trial.first_miss
        note = "" if miss is None else f"line {miss['line']}: {miss['reason']}\n  {visible(miss['text'], False)}"
        table.add_row(
            Text(visible(trial.name, False) + (" (yours)" if trial.user else "")),
            f"{trial.matched}/{report.sample}",
            Text(visible(note)),
        )
    print_table(table)
    out.print(Text(visible(f"chosen: {report.winner} — {report.why}")))
