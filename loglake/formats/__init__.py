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
        from loglake.formats import builtin, custom

        self.config = config
        users = [custom.build(spec, i) for i, spec in enumerate(config.custom)]
        for fmt in (*users, *builtin.BUILTIN):
            fmt.fallback_encoding = config.fallback_encoding
        self.ordered: list[Format] = [builtin.BUILTIN[0], builtin.BUILTIN[1], *users, *builtin.BUILTIN[2:]]
        self.by_name = {f.name: f for f in self.ordered}
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

    def detect(self, sample: list[bytes]) -> Format:
        """The format accepting the most sample lines; ties go to the more specific (earlier) one."""
        best, best_score = self.by_name["jsonl"], 0
        for fmt in self.ordered:
            score = fmt.sniff(sample, best_score)
            if score > best_score:
                best, best_score = fmt, score
        return best

    def choose(self, key: str, batches: Iterator[Batch]) -> tuple[Format, Iterator[Batch]]:
        """Pick the object's format, peeking at its first lines without losing them."""
        forced = self.forced(key)
        if forced is not None:
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
        return self.detect(sample), itertools.chain(head, batches)
