"""JSON Lines: one JSON object per line."""

from __future__ import annotations

import orjson

from loglake.formats.base import Format, Outcome, ParseFailure, decode


def _why(line: bytes, exc: Exception) -> ParseFailure:
    """Name the real cause, since a NUL or a bad byte reads as 'invalid JSON' otherwise."""
    text = decode(line, None)
    return text if type(text) is ParseFailure else ParseFailure("invalid_json", f"not valid JSON: {exc}")


class JsonLines(Format):
    name = "jsonl"
    description = "JSON Lines: one JSON object per line"
    example = (
        '{"timestamp": "2025-07-21T10:00:00Z", "level": "info", "message": "user logged in", "http": {"status": 200}}'
    )

    def sniff(self, sample: list[bytes]) -> int:
        return sum(1 for line in sample if type(self.parse_line(line)) is dict)

    def parse_line(self, line: bytes) -> Outcome:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return _why(line, exc)
        if type(value) is dict:
            return value
        kind = "null" if value is None else type(value).__name__
        kind = {"list": "array", "str": "string", "int": "number", "float": "number", "bool": "boolean"}.get(kind, kind)
        return ParseFailure("not_an_object", f"a JSON {kind}, not an object")
