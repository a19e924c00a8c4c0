"""The generic text format: logs nobody configured still land with their time and level.

Tried after the specific formats. From an object's first lines it learns one layout — which of the
time spellings of `layouts` the lines carry, after how many leading tokens, and where a level word sits
after it — and compiles it into an ordinary regex format, so each line costs one compiled pattern
(and the columnar path takes it wherever the time has a fixed width). Lines that do not start a
record of the layout are continuation lines (stack traces), joined within the usual bounds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from loglake.formats.base import Format, Outcome, ParseFailure, RegexFormat
from loglake.formats.layouts import FINDERS, SHAPES

NAME = "text"
MAX_PREFIX_TOKENS = 4
"""Tokens a line may carry before its time (`- 1117838570 …`, a file name, a sequence number)."""
MAX_LEVEL_OFFSET = 6
"""Tokens between the time and the level word (a pid, a thread, a host, a component)."""
HEAD = 256


LEVEL_WORDS = (
    "trace|debug|dbg|fine|finer|finest|verbose|info|information|informational|notice|warn|warning|"
    "err|error|severe|crit|critical|alert|fatal|emerg|emergency|panic"
)
_WORDS = frozenset(LEVEL_WORDS.split("|"))
_LETTERS = frozenset("VTDINWECF")
_TOKEN_SPLIT = re.compile(r"[\s|]+")
_SEP = r"[\s,|;:\-]*"
_STRIP = "[]()<>:,|-"


@dataclass(frozen=True)
class Layout:
    shape: int
    prefix: int
    level_at: int | None
    letters: bool

    def pattern(self) -> str:
        shape = SHAPES[self.shape]
        prefix = rf"(?P<prefix>(?:\S+\s+){{{self.prefix - 1}}}\S+)\s+" if self.prefix else ""
        out = rf"^{prefix}[\[(<]?(?P<timestamp>{shape.pattern})[\])>]?(?:{_SEP})"
        if self.level_at is not None:
            words = rf"(?i:{LEVEL_WORDS})"
            level = rf"(?:{words}|[VTDINWECF])" if self.letters else words
            context = rf"(?P<context>(?:[^\s|]+[\s|]+){{{self.level_at - 1}}}[^\s|]+)[\s|]+" if self.level_at else ""
            out += rf"(?:{context}[\[(<]?(?P<level>{level})[\])>]?(?::|\s+-)?(?:[\s|]+|$))?"
        return out + r"(?P<message>.*)$"

    def describe(self) -> str:
        parts = [f"time as `{SHAPES[self.shape].name}`"]
        if self.prefix:
            parts.append(f"after {self.prefix} token(s)")
        if self.level_at is not None:
            parts.append(f"level {self.level_at} token(s) after it" if self.level_at else "level right after it")
        return ", ".join(parts)


def _first_time(text: str) -> tuple[int, int, int] | None:
    """(shape, tokens before it, end offset) of the earliest time in the line's head."""
    head = text[:HEAD]
    best: tuple[int, int, int, int] | None = None  # (start, -length, shape, end)
    for index, finder in enumerate(FINDERS):
        m = finder.search(head)
        if m is None:
            continue
        key = (m.start(), -(m.end() - m.start()), index, m.end())
        if best is None or key < best:
            best = key
    if best is None:
        return None
    start, _, index, end = best
    before = head[:start].rstrip("[(<")
    tokens = len(before.split())
    return (index, tokens, end) if tokens <= MAX_PREFIX_TOKENS else None


def learn(lines: list[str]) -> Layout | None:
    """The layout most of the sample's lines share, or None when no time is found in most of them."""
    found = [(t, _first_time(t)) for t in lines if t.strip()]
    votes = Counter((f[0], f[1]) for _, f in found if f is not None)
    if not votes:
        return None
    (shape, prefix), count = max(votes.items(), key=lambda kv: (kv[1], -kv[0][1], -kv[0][0]))
    if count * 3 < len(found):
        return None  # times in a third of the lines or fewer: a log with times elsewhere, or none
    levels: Counter[tuple[int, bool]] = Counter()
    matched = 0
    for text, f in found:
        if f is None or (f[0], f[1]) != (shape, prefix):
            continue
        matched += 1
        rest = text[f[2] : f[2] + HEAD].lstrip(" \t,|;:-]>)")
        for offset, token in enumerate(_TOKEN_SPLIT.split(rest, MAX_LEVEL_OFFSET + 1)[: MAX_LEVEL_OFFSET + 1]):
            word = token.strip(_STRIP)
            if word.lower() in _WORDS and len(word) > 1:
                levels[(offset, False)] += 1
                break
            if len(word) == 1 and word in _LETTERS and token == word:
                levels[(offset, True)] += 1
                break
    level_at, letters = None, False
    if levels:
        (offset, letter), hits = levels.most_common(1)[0]
        if hits * 2 >= matched and (not letter or hits * 10 >= matched * 7):
            level_at, letters = offset, letter
            if not letter:  # words at this offset: letters there too only if they are as common
                letters = levels.get((offset, True), 0) * 10 >= matched * 7
    return Layout(shape, prefix, level_at, letters)


def compile_layout(layout: Layout) -> RegexFormat:
    """The learned layout as an ordinary regex format (named `text`: the records' `source_format`)."""
    return RegexFormat(
        NAME,
        layout.pattern(),
        timestamp=SHAPES[layout.shape].parse,
        multiline=True,
        provides_level=layout.level_at is not None,
        nulls=(),
        description=f"generic text ({layout.describe()})",
    )


class GenericText(Format):
    """The name under which the generic format is listed, forced or disabled: `specialise` returns the
    layout learned from an object's first lines, compiled; that is what reads (and is scored on) lines."""

    name = NAME
    description = (
        "any text log with a time near the start of each line (ISO, syslog, Apache, compact, dotted, "
        "year-less, epoch …) and a level word near it; learned per object"
    )
    example = "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs"
    multiline = True

    def parse_line(self, line: bytes) -> Outcome:
        return ParseFailure("unparsed_line", "the generic text format reads an object by the layout it learns")

    def specialise(self, sample: list[bytes]) -> Format:
        layout = learn([line.decode("utf-8", "replace") for line in sample])
        return self if layout is None else compile_layout(layout)


class Unrecognised(Format):
    """What an object gets when no format reads its first lines: every line an error that says so."""

    name = "unrecognised"
    description = "no format matched the object's first lines"
    provides_level = False

    def __init__(self, tried: list[str]) -> None:
        self.tried = tried

    def parse_line(self, line: bytes) -> Outcome:
        return ParseFailure(
            "no_format",
            f"no format matched this object's first lines (tried {', '.join(self.tried)}); describe it as "
            "[[formats.custom]] in loglake.toml, and check it with `loglake formats test FILE`",
        )
