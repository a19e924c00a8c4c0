"""The parser interface: an object's lines in, one outcome per record out.

Each outcome carries its span — how many physical lines it adds — so accounting holds for
multi-line records too: lines + shared = processed + errors + blank + joined (`shared`: records with
span 0, on a line an earlier record already counted).
"""

from __future__ import annotations

import abc
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from loglake.formats.layouts import STARTS
from loglake.formats.reader import Overlong

SNIFF_LINE_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A line that could not become a record; `code` is machine-readable."""

    code: str
    message: str


Outcome = dict[str, Any] | ParseFailure
Line = tuple[int, bytes | Overlong]
Parsed = tuple[int, bytes | Overlong, Outcome | None, int]
"""(first line number, raw bytes, outcome — None for a blank or framing line —, lines it adds)."""


def decode(line: bytes, fallback: str | None) -> str | ParseFailure:
    """UTF-8, or the configured legacy encoding; NULs are refused either way."""
    nul = line.find(b"\x00")
    if nul >= 0:
        return ParseFailure("nul_byte", f"line contains a NUL byte at offset {nul}")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        if fallback:
            return line.decode(fallback, "replace")
        return ParseFailure("invalid_utf8", f"bytes are not UTF-8 at offset {exc.start}: {exc.reason}")


class Format(abc.ABC):
    """Turns an object's lines into records. Implementations never touch storage."""

    name: str = ""
    description: str = ""
    example: str = ""
    provides_level: bool = True
    """False for formats with no level (flow logs, RFC 3164 without PRI): the level rule is relaxed."""
    multiline: bool = False
    """Lines that do not start a record are joined to the record above (stack traces)."""
    max_record_bytes: int = 1 << 20
    max_record_lines: int = 1000
    """Joining stops at either bound (`[formats] max_record_bytes`, `max_record_lines`): a log whose
    layout the format does not know is never glued into one record."""
    fallback_encoding: str | None = None
    sniff_head: int | None = SNIFF_LINE_BYTES
    """How much of a line sniffing looks at (None: all of it, for formats that cannot judge a head)."""

    @property
    def identity(self) -> Any:
        """What tells formats apart: the name, and for regex formats the pattern too (learned layouts
        share the name `text`)."""
        return self.name

    @property
    def splittable(self) -> bool:
        """Records never span lines and no header is needed: byte ranges of an object parse alone."""
        return not self.multiline and type(self).records is Format.records

    @property
    def splittable_at_records(self) -> bool:
        """Multi-line records: byte ranges parse alone when each begins where a record does."""
        return self.multiline and type(self).records is Format.records and type(self)._multiline is Format._multiline

    def starts_whole_record(self, line: bytes) -> bool:
        """Does this line begin a record, whatever came before it (`_multiline`'s own test)?"""
        return type(self.parse_line(line)) is dict

    @abc.abstractmethod
    def parse_line(self, line: bytes) -> Outcome:
        """One physical line → a record or a failure."""

    def specialise(self, sample: list[bytes]) -> Format:
        """The format to read an object with, given its first lines (the generic format learns a layout)."""
        return self

    def sniff(self, sample: list[bytes], beat: int = 0) -> int:
        """How many of the sample's non-blank lines this format accepts (used by detection).

        Text formats look at the head of long lines only, so sniffing stays cheap. Detection only needs
        to know whether the score is above `beat`: once it cannot be, the lines left are not tried.
        """
        score, left = 0, len(sample)
        parse, head = self.parse_line, self.sniff_head
        for line in sample:
            if score + left <= beat:
                break
            left -= 1
            if type(parse(line[:head])) is dict:
                score += 1
        return score

    def starts_record(self, line: bytes) -> bool:
        """For multi-line formats: does this line begin a new record?"""
        return type(self.parse_line(line)) is dict

    def join(self, record: dict[str, Any], continuation: str) -> None:
        record["message"] = f"{record.get('message', '')}\n{continuation}"

    def records(self, lines: Iterator[Line]) -> Iterator[Parsed]:
        if self.multiline:
            yield from self._multiline(lines)
            return
        parse = self.parse_line
        for lineno, raw in lines:
            if type(raw) is Overlong:
                yield lineno, raw, ParseFailure("line_too_long", f"line is {raw.length} bytes, over the limit"), 1
            elif not raw or raw.isspace():  # type: ignore[union-attr]
                yield lineno, raw, None, 1
            else:
                yield lineno, raw, parse(raw), 1  # type: ignore[arg-type]

    def _multiline(self, lines: Iterator[Line]) -> Iterator[Parsed]:
        current: tuple[int, bytes, dict[str, Any], int] | None = None
        pending_blank = 0  # blank lines inside a trace belong to it; trailing ones are blank
        lineno = 0
        for lineno, raw in lines:
            if type(raw) is Overlong:
                if current:
                    yield current[0], current[1], current[2], current[3]
                    current = None
                for _ in range(pending_blank):
                    yield lineno, b"", None, 1
                pending_blank = 0
                yield lineno, raw, ParseFailure("line_too_long", f"line is {raw.length} bytes, over the limit"), 1
                continue
            data: bytes = raw  # type: ignore[assignment]
            if not data or data.isspace():
                pending_blank += 1
                continue
            outcome = self.parse_line(data)
            if type(outcome) is dict:
                if current:
                    yield current[0], current[1], current[2], current[3]
                for i in range(pending_blank):
                    yield lineno - pending_blank + i, b"", None, 1
                pending_blank = 0
                current = (lineno, data, outcome, 1)
                continue
            if (
                current is not None
                and current[3] < self.max_record_lines
                and len(current[1]) + len(data) < self.max_record_bytes
                and not STARTS.match(data)  # a record of another layout: never part of this one
            ):
                text = decode(data, self.fallback_encoding)
                if type(text) is str:
                    for _ in range(pending_blank):
                        self.join(current[2], "")
                    self.join(current[2], text.rstrip("\r"))
                    sep = b"\n" * (pending_blank + 1)
                    current = (current[0], current[1] + sep + data, current[2], current[3] + pending_blank + 1)
                    pending_blank = 0
                    continue
            if current:
                yield current[0], current[1], current[2], current[3]
                current = None
            for i in range(pending_blank):
                yield lineno - pending_blank + i, b"", None, 1
            pending_blank = 0
            yield lineno, data, outcome, 1
        if current:
            yield current[0], current[1], current[2], current[3]
        for i in range(pending_blank):
            yield lineno - pending_blank + 1 + i, b"", None, 1


class RegexFormat(Format):
    """A line format defined by a regex with named groups; the built-ins and user formats use it."""

    def __init__(
        self,
        name: str,
        pattern: str,
        *,
        timestamp: Any = None,
        level: Any = None,
        ints: tuple[str, ...] = (),
        floats: tuple[str, ...] = (),
        nulls: tuple[str, ...] = ("-",),
        message: str = "message",
        provides_level: bool = True,
        multiline: bool = False,
        record_start: str | None = None,
        description: str = "",
        example: str = "",
        post: Any = None,
        timestamp_hint: str = "",
    ) -> None:
        self.name = name
        self.timestamp_hint = timestamp_hint
        """Appended to a `bad_timestamp` reason (user formats: which setting to change)."""
        self.regex = re.compile(pattern)
        self.start = re.compile(record_start) if record_start else None
        self.timestamp = timestamp
        """Callable(str) → datetime | None, applied to the `timestamp` group."""
        self.level = level
        """Callable(dict) → level | None, when the level is derived (HTTP status, syslog PRI)."""
        self.ints, self.floats, self.nulls = ints, floats, frozenset(nulls)
        self.message_group = message
        self.provides_level = provides_level
        self.multiline = multiline
        self.description, self.example = description, example
        self.post = post

    @property
    def identity(self) -> Any:
        return (self.name, self.regex.pattern)

    def starts_record(self, line: bytes) -> bool:
        if self.start is None:
            return super().starts_record(line)
        text = decode(line, self.fallback_encoding)
        return type(text) is str and self.start.match(text) is not None

    def parse_line(self, line: bytes) -> Outcome:
        text = decode(line, self.fallback_encoding)
        if type(text) is not str:
            return text  # type: ignore[return-value]
        if self.start is not None and not self.start.match(text):
            return ParseFailure("unparsed_line", f"does not start a `{self.name}` record")
        m = self.regex.match(text.rstrip("\r"))
        if m is None:
            return ParseFailure("unparsed_line", f"does not match the `{self.name}` format")
        record: dict[str, Any] = {k: v for k, v in m.groupdict().items() if v is not None and v not in self.nulls}
        for key in self.ints:
            if key in record:
                with contextlib.suppress(ValueError):
                    record[key] = int(record[key])
        for key in self.floats:
            if key in record:
                with contextlib.suppress(ValueError):
                    record[key] = float(record[key])
        if self.message_group != "message" and self.message_group in record:
            record["message"] = record[self.message_group]
        elif "message" not in record:
            record["message"] = text
        if self.timestamp is not None and "timestamp" in record:
            ts = self.timestamp(record["timestamp"])
            if ts is None:
                hint = f"; {self.timestamp_hint}" if self.timestamp_hint else ""
                return ParseFailure("bad_timestamp", f"`{record['timestamp']}` is not a `{self.name}` timestamp{hint}")
            record["timestamp"] = ts
        if self.level is not None:
            level = self.level(record)
            if level:
                record["level"] = level
        if self.post is not None:
            self.post(record)
        return record
