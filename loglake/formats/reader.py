"""Bytes → lines: decompression by magic bytes, BOM and CRLF handling, bounded line length."""

from __future__ import annotations

import bz2
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from loglake.errors import ObjectError

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
TEXT_CONTROL_OK = frozenset(b"\t\n\r\f\v\b\x1b")


@dataclass(frozen=True)
class Overlong:
    """A line longer than the limit: only its head is kept so memory stays bounded."""

    head: bytes
    length: int


def open_decompressed(raw: BinaryIO, uri: str) -> tuple[BinaryIO, str]:
    """Wrap `raw` in a decompressor chosen by magic bytes (names and headers lie)."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw, CHUNK)  # type: ignore[arg-type,type-var]
    head = buffered.peek(4)[:4]
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=buffered, mode="rb"), "gzip"  # type: ignore[return-value]
    if head.startswith(BZIP2_MAGIC) and len(head) == 4 and head[3:4].isdigit():
        return bz2.BZ2File(buffered), "bzip2"  # type: ignore[return-value]
    return buffered, "none"


def looks_binary(sample: bytes) -> bool:
    """True for data that is clearly not text: NULs or control bytes well beyond a stray one.

    Short samples are never judged: a tiny object with a NUL is a bad line, not a binary file.
    """
    if len(sample) < 256:
        return False
    nul = sample.count(0)
    control = sum(1 for b in sample if b < 0x20 and b not in TEXT_CONTROL_OK)
    return nul / len(sample) > 0.01 or control / len(sample) > 0.05


def iter_lines(stream: BinaryIO, uri: str, max_line_bytes: int) -> Iterator[tuple[int, bytes | Overlong]]:
    """Yield (1-based line number, line without its LF/CRLF) in constant memory."""
    lineno = 0
    carry = b""
    carry_len = 0  # true length of the current partial line when it is overlong
    first = True
    # read1 hands over what was decompressed before a damaged tail, instead of dropping it.
    read = getattr(stream, "read1", stream.read)
    while True:
        try:
            chunk = read(CHUNK)
        except (EOFError, OSError, zlib.error) as exc:
            raise ObjectError(uri, f"compressed stream is damaged after line {lineno}: {exc}") from exc
        if not chunk:
            break
        if first:
            first = False
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            if looks_binary(chunk[:4096]):
                raise ObjectError(uri, "binary data, not a text log", hint="check the object is a log file")
        parts = chunk.split(b"\n")
        last = parts.pop()
        if parts:
            head = parts[0]
            if carry_len:
                lineno += 1
                yield lineno, Overlong(carry, carry_len + len(head))
                carry, carry_len = b"", 0
                parts = parts[1:]
            elif carry:
                parts[0] = carry + head
                carry = b""
            for line in parts:
                lineno += 1
                if len(line) > max_line_bytes:
                    yield lineno, Overlong(line[:1024], len(line))
                elif line.endswith(b"\r"):
                    yield lineno, line[:-1]
                else:
                    yield lineno, line
        if carry_len:
            carry_len += len(last)
        else:
            carry += last
            if len(carry) > max_line_bytes:
                carry_len = len(carry)
                carry = carry[:1024]
    if carry_len:
        yield lineno + 1, Overlong(carry, carry_len)
    elif carry:
        yield lineno + 1, carry[:-1] if carry.endswith(b"\r") else carry
