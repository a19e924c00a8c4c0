"""`loglake shell`: an interactive SQL prompt (prompt_toolkit) over the lake's read-only engine."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from loglake.cli.output import err, out, say, visible
from loglake.cli.render import FORMATS, show
from loglake.errors import LogLakeError

if TYPE_CHECKING:
    from loglake.lake import Lake
    from loglake.query.duckdb_engine import DuckDBEngine

KEYWORDS = (
    *("SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "OFFSET", "AS", "AND", "OR", "NOT"),
    *("IN", "IS", "NULL", "LIKE", "ILIKE", "GLOB", "BETWEEN", "COUNT", "SUM", "AVG", "MIN", "MAX", "DISTINCT"),
    *("CASE", "WHEN", "THEN", "ELSE", "END", "JOIN", "LEFT", "RIGHT", "INNER", "ON", "USING", "WITH", "UNION"),
    *("ALL", "DESCRIBE", "SUMMARIZE", "SHOW", "TABLES", "EXPLAIN", "PRAGMA", "DESC", "ASC", "date_trunc"),
    *("strftime", "regexp_matches"),
)
HELP = (
    "End a statement with ; (it may span lines).\n"
    ".tables               the lake's tables\n"
    ".schema TABLE         a table's columns\n"
    ".mode FORMAT          table, line, csv, json or jsonl\n"
    ".maxrows N            rows a table shows\n"
    ".quit                 leave (or Ctrl-D)"
)


def history_path(given: str | None) -> str:
    if given:
        return given
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    os.makedirs(os.path.join(base, "loglake"), exist_ok=True)
    return os.path.join(base, "loglake", "shell_history")


def completions(engine: DuckDBEngine) -> list[str]:
    """Keywords, the tables (bare and with their database) and every column name."""
    words = set(KEYWORDS)
    for table, _ in engine.tables():
        words.update({table, f"{engine.database}.{table}"})
        words.update(name for name, _ in engine.columns(table))
    return sorted(words, key=str.lower)


def run_shell(lake: Lake, history_file: str | None) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter
    from prompt_toolkit.history import FileHistory

    engine = lake.engine()
    session: PromptSession[str] = PromptSession(
        history=FileHistory(history_path(history_file)),
        completer=WordCompleter(completions(engine), ignore_case=True),
        complete_while_typing=True,
    )
    mode, max_rows = "table", lake.settings.query.max_rows
    out.print(say(f"LogLake shell on {lake.uri}; .help for help, .quit or Ctrl-D to leave"))
    buffer: list[str] = []
    while True:
        try:
            line = session.prompt("loglake> " if not buffer else "    ...> ")
        except KeyboardInterrupt:
            buffer = []
            continue
        except EOFError:
            break
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            command, _, arg = stripped.partition(" ")
            if command in (".quit", ".exit"):
                break
            if command == ".help":
                out.print(HELP)
            elif command == ".tables":
                for table, columns in engine.tables():
                    out.print(say(f"{table}  ({columns} columns)"))
            elif command == ".schema" and arg:
                _run(_schema, engine, arg)
            elif command == ".mode" and arg in FORMATS:
                mode = arg
            elif command == ".maxrows" and arg.isdigit() and int(arg) > 0:
                max_rows = int(arg)
            else:
                err.print(say(f"unknown command {stripped}; .help lists them"))
            continue
        if not stripped and not buffer:
            continue
        buffer.append(line)
        text = "\n".join(buffer)
        if not re.search(r";\s*$", text):
            continue
        buffer = []
        engine = lake.engine()  # each statement sees the tables as they are now
        _run(_statement, engine, text.rstrip().rstrip(";"), mode, max_rows)


def _statement(engine: DuckDBEngine, sql: str, mode: str, max_rows: int) -> None:
    stream = engine.stream(sql)
    show(stream.schema, stream.batches, mode, max_rows, out)


def _schema(engine: DuckDBEngine, table: str) -> None:
    for name, kind in engine.columns(table):
        out.print(Text.assemble((visible(name, False), "bold"), "  ", kind))


def _run(action: Callable[..., None], *args: Any) -> None:
    """One statement; its mistake is printed and the prompt goes on."""
    try:
        action(*args)
    except LogLakeError as exc:
        err.print(say(("error: ", "bold red"), str(exc)))
