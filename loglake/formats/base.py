"""The parser interface: lines in, one outcome per record out."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from loglake.formats.reader import Overlong


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A line that could not become a record; `code` is machine-readable."""

    code: str
    message: str


Outcome = dict[str, Any] | ParseFailure


class Format(abc.ABC):
    """Turns an object's lines into records. Implementations never touch storage."""

    name: str = ""

    @abc.abstractmethod
    def parse_line(self, line: bytes) -> Outcome:
        """One physical line → a record or a failure."""

    def records(
        self, lines: Iterator[tuple[int, bytes | Overlong]]
    ) -> Iterator[tuple[int, bytes | Overlong, Outcome | None]]:
        """(line number, raw, outcome); outcome None marks a blank line. Multi-line formats override this."""
        parse = self.parse_line
        for lineno, raw in lines:
            if type(raw) is Overlong:
                yield lineno, raw, ParseFailure("line_too_long", f"line is {raw.length} bytes, over the limit")
            elif not raw or raw.isspace():  # type: ignore[union-attr]
                yield lineno, raw, None
            else:
                yield lineno, raw, parse(raw)  # type: ignore[arg-type]
