"""Parsers: bytes → records. A plain registry, so new formats are one entry."""

from __future__ import annotations

from loglake.errors import ConfigError
from loglake.formats.base import Format, Outcome, ParseFailure
from loglake.formats.jsonl import JsonLines
from loglake.formats.reader import Overlong, iter_lines, open_decompressed

FORMATS: dict[str, type[Format]] = {JsonLines.name: JsonLines}

__all__ = ["FORMATS", "Format", "Outcome", "Overlong", "ParseFailure", "get_format", "iter_lines", "open_decompressed"]


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]()
    except KeyError:
        raise ConfigError(f"unknown format `{name}`", hint=f"known formats: {', '.join(sorted(FORMATS))}") from None
