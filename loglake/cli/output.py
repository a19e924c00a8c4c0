"""What every command shares: consoles that never read data as markup, one-line errors with exit codes,
the `--json`/`--quiet` options, and the lake a command works on.

Data is never code: the consoles have markup and emoji codes off, so a log line such as
`[link=https://…]click[/link]` or `:x:` prints as written, and `visible()` turns control characters
(ANSI escapes, bidi overrides) into readable escapes before anything reaches a terminal.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.text import Text

from loglake.errors import ConfigError, LogLakeError, QueryError
from loglake.lake import Lake
from loglake.query.results import json_default

OK, SOME_FAILED, USAGE = 0, 1, 2
EXIT_CODES = "Exit codes: 0 success; 1 some records or objects failed; 2 a usage or configuration mistake."

F = TypeVar("F", bound=Callable[..., Any])


def console(stderr: bool = False, width: int | None = None) -> Console:
    """A console that prints text as text: no markup, no emoji codes, no highlighting, no hard wrapping."""
    return Console(
        stderr=stderr, highlight=False, markup=False, emoji=False, soft_wrap=True, width=width, force_jupyter=False
    )


out = console()
err = console(stderr=True)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_AND_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\x1b": "\\x1b"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def visible(text: str, breaks: bool = True) -> str:
    """`text` with control characters (and, unless `breaks`, newlines and tabs) as escapes such as `\\x1b`:
    what a terminal shows is what the data holds, and the data cannot drive the terminal."""
    return (_CONTROL if breaks else _CONTROL_AND_BREAKS).sub(_escape, text)


def say(*parts: str | tuple[str, str]) -> Text:
    """A line from plain strings and (text, style) pairs; every string is data, escaped."""
    return Text.assemble(*((visible(p[0]), p[1]) if isinstance(p, tuple) else visible(p) for p in parts))


def print_table(table: Any) -> None:
    """A table fitted to the terminal; on a pipe as wide as its cells need, nothing cut or wrapped."""
    if out.is_terminal:
        out.print(table)
    else:
        console(width=1 << 16).print(table, crop=False)


def print_json(value: Any) -> None:
    data = orjson.dumps(value, default=json_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC)
    sys.stdout.buffer.write(data + b"\n")
    sys.stdout.flush()


class Command(click.Command):
    """Every command's help ends with its exit codes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EXIT_CODES)
        super().__init__(*args, **kwargs)


class Group(click.Group):
    command_class = Command

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EXIT_CODES)
        super().__init__(*args, **kwargs)


def command(*args: Any, **kwargs: Any) -> Callable[[F], click.Command]:
    return click.command(*args, cls=Command, **kwargs)  # type: ignore[no-any-return]


def json_option(fn: F | None = None, *, help: str = "Machine-readable output (JSON on stdout).") -> Any:
    """`--json` as every command spells it: `@json_option`, or `@json_option(help=...)` to say what it prints."""

    def apply(f: F) -> F:
        return click.option("--json", "as_json", is_flag=True, help=help)(f)

    return apply(fn) if fn is not None else apply


def quiet_option(fn: F) -> F:
    return click.option("--quiet", "-q", is_flag=True, help="Only the totals and problems; no per-item lines.")(fn)


def fail(message: str, hint: str = "", code: int = USAGE) -> None:
    err.print(say(("error:", "bold red"), " ", message))
    if hint:
        err.print(say("  hint: ", hint))
    sys.exit(code)


def _aws_problem(exc: BaseException) -> tuple[str, str, int] | None:
    """botocore's errors a user meets (no region, no credentials, no network), as message, hint, code."""
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None or not isinstance(exc, exceptions.BotoCoreError | exceptions.ClientError):
        return None
    if isinstance(exc, exceptions.NoRegionError):
        return "no AWS region is set", "set AWS_REGION (or AWS_DEFAULT_REGION), e.g. export AWS_REGION=us-east-1", USAGE
    if isinstance(exc, exceptions.NoCredentialsError | exceptions.PartialCredentialsError):
        return (
            f"AWS credentials are missing: {exc}",
            "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`",
            USAGE,
        )
    if isinstance(exc, exceptions.EndpointConnectionError):
        return f"cannot reach AWS: {exc}", "check the network, AWS_REGION and AWS_ENDPOINT_URL", SOME_FAILED
    return f"AWS refused the request: {exc}", "", SOME_FAILED


def friendly(fn: F) -> F:
    """Mistakes and failures become one line (and a hint), never a traceback: exit 2 for a usage or
    configuration mistake, 1 for a failure. Bugs still show their traceback, so they get reported."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LogLakeError as exc:
            code = USAGE if isinstance(exc, ConfigError | QueryError) else SOME_FAILED
            message = super(LogLakeError, exc).__str__()
            fail(message, exc.hint, code)
        except BrokenPipeError:  # `loglake query … | head`: the reader has all it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(OK)
        except KeyboardInterrupt:
            err.print("interrupted")
            sys.exit(130)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}", "check the path and its permissions")
        except Exception as exc:
            problem = _aws_problem(exc)
            if problem is None:
                raise
            fail(*problem)

    return wrapper  # type: ignore[return-value]


def open_lake(ctx: click.Context, *, existing: bool = False) -> Lake:
    """The lake the command works on; with `existing`, a path that holds no lake is a mistake and nothing
    is created there (read commands)."""
    lake = Lake.open(ctx.obj["lake"], config=ctx.obj["config"])
    return lake.require() if existing else lake


def human_bytes(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover
