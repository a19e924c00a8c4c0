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


class FormatRegistry:
    """All formats by name (user formats first), overrides, and detection by sniffing."""

    def __init__(self, config: FormatsConfig) -> None:
        from loglake.formats import builtin, custom, generic

        self.config = config
        users = [custom.build(spec, i) for i, spec in enumerate(config.custom)]
        builtins = [*builtin.BUILTIN, builtin.GENERIC]
        names = {f.name for f in builtins}
        for name in config.disabled:
            if name not in names:
                raise ConfigError(
                    f"loglake.toml [formats] disabled: unknown built-in format `{name}`",
                    hint=f"built-in formats: {', '.join(sorted(names))}",
                )
        builtins = [f for f in builtins if f.name not in config.disabled]
        for fmt in (*users, *builtins):
            fmt.fallback_encoding = config.fallback_encoding
            fmt.max_record_lines, fmt.max_record_bytes = config.max_record_lines, config.max_record_bytes
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
        head: list[Batch] = []
        sample: list[bytes] = []
        wanted = self.config.sniff_lines
        for batch in batches:
            head.append(batch)
            for raw in batch[1]:
                if type(raw) is not Overlong and raw.strip():  # type: ignore[union-attr]
                    sample.append(raw)  # type: ignore[arg-type]
                    if len(sample) >= wanted:
                        break
            if len(sample) >= wanted:
                break
        chosen = self._configured(forced.specialise(sample)) if forced is not None else self.detect(sample)
        return chosen, itertools.chain(head, batches)

    def _configured(self, fmt: Format) -> Format:
        """A format made for one object (a learned layout) gets the settings every format has."""
        fmt.fallback_encoding = self.config.fallback_encoding
        fmt.max_record_lines, fmt.max_record_bytes = self.config.max_record_lines, self.config.max_record_bytes
        return fmt
