"""One error hierarchy. `Terminal` errors will fail again on retry; `Transient` ones may not."""

from __future__ import annotations


class LogLakeError(Exception):
    """Base of every error LogLake raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg}\n  hint: {self.hint}" if self.hint else msg


class Terminal(LogLakeError):
    """Retrying will not help: fix the input or the configuration."""


class Transient(LogLakeError):
    """A retry may succeed (throttling, a passing I/O fault)."""


class ConfigError(Terminal):
    """`loglake.toml`, a flag or an environment variable is wrong."""


class StorageError(LogLakeError):
    """Reading or writing the lake failed."""


class ObjectNotFound(StorageError, Terminal):
    """The object does not exist (or vanished before it was read)."""


class ObjectError(Terminal):
    """A whole object cannot be processed: unreadable, a directory, binary data, a broken stream."""

    def __init__(self, uri: str, cause: str, *, hint: str = "") -> None:
        super().__init__(f"{uri}: {cause}", hint=hint)
        self.uri = uri
        self.cause = cause


class QueryError(Terminal):
    """A SQL statement was refused or failed."""


def internal_error(exc: BaseException) -> str:
    """What a summary says of a bug met on one object (never bad input), with the trace to report."""
    import traceback

    return (
        f"internal error: {exc!r}; please report it with this trace: "
        + "".join(traceback.format_exception(exc)[-3:]).strip()
    )
