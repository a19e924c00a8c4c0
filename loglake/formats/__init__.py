"""Parsers: bytes → records. Built-ins plus user formats from config, chosen per object."""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Iterator

from loglake.config import FormatsConfig
from loglake.errors import ConfigError
from loglake.formats.base import Format, Outcome, ParseFailure
from loglake.formats.reader import Batch, Overlong, iter_line_batches, iter_lines, lines_of, open_decompressed

__all__ = [
    "Format",
    "FormatRegistry",
    "Outcome",
    "Overlong",
    "ParseFailure",
    "iter_line_batches",
    "iter_lines",
    "lines_of",
    "open_decompressed",
]


def first_lines(batches: Iterator[Batch], wanted: int) -> tuple[list[Batch], list[tuple[int, bytes]]]:
    """The batches read to find an object's first `wanted` non-blank lines, and those lines with their numbers."""
    head: list[Batch] = []
    numbered: list[tuple[int, bytes]] = []
    for batch in batches:
        head.append(batch)
        first, lines = batch
        for offset, raw in enumerate(lines):
            if type(raw) is not Overlong and raw.strip():  # type: ignore[union-attr]
                numbered.append((first + offset, raw))  # type: ignore[arg-type]
                if len(numbered) >= wanted:
                    return head, numbered
    return head, numbered


TAIL_LINES = 8
"""How many of a batch's last non-blank lines must all fail its format before the layout counts as changed."""


class _Segments:
    def __init__(self, registry: FormatRegistry, fmt: Format, batches: Iterator[Batch]) -> None:
        self.registry, self.batches = registry, batches
        self.pending: Batch | None = None
        self.upcoming: Format | None = fmt

    def __iter__(self) -> Iterator[tuple[Format, Iterator[Batch]]]:
        while self.upcoming is not None:
            fmt, self.upcoming = self.upcoming, None
            yield fmt, self._until_change(fmt)

    def _until_change(self, fmt: Format) -> Iterator[Batch]:
        head = [self.pending] if self.pending is not None else []
        self.pending = None
        fresh = bool(head)  # a run's first batch was chosen for it: no change at its start
        for first, lines in itertools.chain(head, self.batches):
            cut, other = self.registry.change_in(fmt, lines)
            if other is None or (cut == 0 and fresh):
                fresh = False
                yield first, lines
                continue
            if cut:
                yield first, lines[:cut]
            self.pending, self.upcoming = (first + cut, lines[cut:]), other
            return


class FormatRegistry:
    """All formats by name (user formats first), overrides, and detection by sniffing."""

    def __init__(self, config: FormatsConfig) -> None:
        from loglake.formats import builtin, custom, generic

        self.config = config
        builtins = [*builtin.BUILTIN, builtin.GENERIC]
        names = {f.name for f in builtins}
        seen: dict[str, int] = {}
        for i, spec in enumerate(config.custom):
            where = custom.location(spec, i)
            if spec.name in names or spec.name in ("auto", generic.Unrecognised.name):
                raise ConfigError(
                    f"{where}: `{spec.name}` is the name of a built-in format", hint="give it another name"
                )
            if spec.name in seen:
                raise ConfigError(
                    f"{where}: [[formats.custom]] #{seen[spec.name] + 1} has the same name",
                    hint="every format needs a name of its own",
                )
            seen[spec.name] = i
        users = [custom.build(spec, i) for i, spec in enumerate(config.custom)]
        for name in config.disabled:
            if name not in names:
                raise ConfigError(
                    f"loglake.toml [formats] disabled: unknown built-in format `{name}`",
                    hint=f"built-in formats: {', '.join(sorted(names))}",
                )
        builtins = [f for f in builtins if f.name not in config.disabled]
        for fmt in (*users, *builtins):
            self._configured(fmt)
        head = [f for f in builtins if f.name in ("jsonl", "json_document")]
        rest = [f for f in builtins if f.name not in ("jsonl", "json_document") and f is not builtin.GENERIC]
        self.ordered: list[Format] = [*head, *users, *rest]
        """The specific formats in detection order; the generic text format is tried after them."""
        self.generic = builtin.GENERIC if builtin.GENERIC in builtins else None
        self.fallback = builtin.BUILTIN[0]
        every = [*self.ordered, *([self.generic] if self.generic else [])]
        self.unrecognised = generic.Unrecognised([f.name for f in every])
        self.by_name = {f.name: f for f in every}
        for name in [config.default, *(o.format for o in config.override)]:
            if name != "auto" and name not in self.by_name:
                raise ConfigError(
                    f"loglake.toml [formats]: unknown format `{name}`",
                    hint=f"known formats: auto, {', '.join(self.by_name)}",
                )

    def forced(self, key: str) -> Format | None:
        """The format an override or the default names for this object, if any."""
        name = key.rsplit("/", 1)[-1]
        for rule in self.config.override:
            if fnmatch.fnmatchcase(key, rule.match) or fnmatch.fnmatchcase(name, rule.match):
                return self.by_name[rule.format]
        return None if self.config.default == "auto" else self.by_name[self.config.default]

    def detect(self, sample: list[bytes], exclude: Format | None = None) -> Format:
        """The specific format accepting the most sample lines (ties go to the earlier, more specific one).
        Where none takes at least half of them, the generic text format's learned layout if it takes more;
        where nothing takes any line, JSON Lines for lines that look like JSON, else `unrecognised`."""
        best, best_score = self.fallback, 0
        for fmt in self.ordered:
            if fmt is exclude:
                continue
            score = fmt.sniff(sample, best_score)
            if score > best_score:
                best, best_score = fmt, score
        if self.generic is not None and best_score * 2 < len(sample):
            learned = self.generic.specialise(sample)
            # Where nothing else reads a line, the learned layout's own failures (`invalid_utf8`, …) say most.
            if learned is not self.generic and (best_score == 0 or learned.sniff(sample, best_score) > best_score):
                return self._configured(learned)
        if best_score == 0 and sample and not any(line.lstrip()[:1] in (b"{", b"[") for line in sample):
            return self.unrecognised
        return best

    def choose(self, key: str, batches: Iterator[Batch]) -> tuple[Format, Iterator[Batch]]:
        """Pick the object's format, peeking at its first lines without losing them."""
        forced = self.forced(key)
        if forced is not None and forced is not self.generic:
            return forced, batches
        head, numbered = first_lines(batches, self.config.sniff_lines)
        sample = [raw for _, raw in numbered]
        chosen = self._configured(forced.specialise(sample)) if forced is not None else self.detect(sample)
        return chosen, itertools.chain(head, batches)

    def segments(self, fmt: Format, batches: Iterator[Batch]) -> Iterator[tuple[Format, Iterator[Batch]]]:
        """The object as runs of one format each: where its layout changes part-way (two logs in one file),
        the rest is detected again instead of glued to the last record or failed line by line. Each run's
        batches must be read to the end before the next run is asked for."""
        return iter(_Segments(self, fmt, batches))

    def change_in(self, fmt: Format, lines: list[bytes | Overlong]) -> tuple[int, Format | None]:
        """Where in a batch another format takes over, and which; (0, None) where `fmt` still reads it.

        Cheap where nothing changes: the batch's last lines are tried until one starts a `fmt` record
        (usually the last). Only a tail of which none does is detected again."""
        tail: list[bytes] = []
        for raw in reversed(lines):
            if type(raw) is bytes and raw.strip():
                if fmt.starts_record(raw):
                    return 0, None
                tail.append(raw)
                if len(tail) >= TAIL_LINES:
                    break
        if len(tail) < TAIL_LINES:
            return 0, None
        tail.reverse()
        other = self.detect(tail, exclude=fmt)
        if other is self.unrecognised or other.identity == fmt.identity or other.sniff(tail) * 2 < len(tail):
            return 0, None  # continuation lines (a long trace), or nothing that reads them either
        last_own = -1
        for i in range(len(lines) - 1, -1, -1):
            raw = lines[i]
            if type(raw) is bytes and raw.strip() and fmt.starts_record(raw):
                last_own = i
                break
        for i in range(last_own + 1, len(lines)):
            raw = lines[i]
            if type(raw) is bytes and other.starts_record(raw):
                return i, other
        return 0, None

    def _configured(self, fmt: Format) -> Format:
        """Every format gets the settings all formats share; a format made for one object (a learned layout) too."""
        fmt.fallback_encoding = self.config.fallback_encoding
        fmt.max_record_lines, fmt.max_record_bytes = self.config.max_record_lines, self.config.max_record_bytes
        return fmt
