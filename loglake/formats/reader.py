"""Bytes → lines: decompression by magic bytes, BOM and CRLF handling, bounded line length."""

from __future__ import annotations

import bz2
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from loglake.errors import ObjectError

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
TEXT_CONTROL_OK = frozenset(b"\t\n\r\f\v\b\x1b")


@dataclass(frozen=True)
class Overlong:
    """A line longer than the limit: only its head is kept so memory stays bounded."""

    head: bytes
    length: int


class _Counting(io.RawIOBase):
    """Counts compressed bytes consumed, so the expansion ratio can be watched."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner, self.count = inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


class _ZstdReader(io.RawIOBase):
    """Zstandard frames, concatenated ones included; a stream cut mid-frame is an error, not a quiet EOF."""

    def __init__(self, inner: BinaryIO) -> None:
        import zstandard

        self.zstd = zstandard
        self.inner = inner
        self.dobj = zstandard.ZstdDecompressor().decompressobj()
        self.pending = b""
        self.pos = 0
        self.in_frame = False

    def readable(self) -> bool:
        return True

    FEED = 1024
    """Compressed bytes per step: even at zstd's extreme ratios one step yields tens of MiB, not GiB."""

    def readinto(self, buffer: Any) -> int:
        while self.pos >= len(self.pending):
            chunk = self.inner.read(self.FEED)
            if not chunk:
                if self.in_frame:
                    raise EOFError("zstd stream ended in the middle of a frame (truncated)")
                return 0
            out = []
            while chunk:
                self.in_frame = True
                out.append(self.dobj.decompress(chunk))
                if self.dobj.eof:
                    chunk = self.dobj.unused_data
                    self.dobj = self.zstd.ZstdDecompressor().decompressobj()
                    self.in_frame = False
                else:
                    chunk = b""
            self.pending, self.pos = b"".join(out), 0
        n = min(len(buffer), len(self.pending) - self.pos)
        buffer[:n] = self.pending[self.pos : self.pos + n]
        self.pos += n
        return n


class _BombGuard(io.RawIOBase):
    """Stops a decompression bomb: too many output bytes, or too many per compressed byte."""

    RATIO_AFTER = 64 * 1024 * 1024

    def __init__(self, inner: Any, counter: _Counting, uri: str, max_bytes: int, max_ratio: int) -> None:
        self.inner, self.counter, self.uri = inner, counter, uri
        self.max_bytes, self.max_ratio, self.out = max_bytes, max_ratio, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read1(len(buffer)) if hasattr(self.inner, "read1") else self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.out += n
        if self.out > self.max_bytes:
            raise ObjectError(
                self.uri,
                f"decompression bomb: more than {self.max_bytes:,} bytes after decompression",
                hint="raise processing.max_decompressed_bytes if this object is genuine",
            )
        if self.out > self.RATIO_AFTER and self.out > self.max_ratio * max(self.counter.count, 1):
            raise ObjectError(
                self.uri,
                f"decompression bomb: {self.out:,} bytes from {self.counter.count:,} compressed "
                f"(over {self.max_ratio}x)",
                hint="raise processing.max_compression_ratio if this object is genuine",
            )
        return n

    def read1(self, size: int = -1) -> bytes:
        return self.read(size if size > 0 else CHUNK) or b""


def _compression(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(BZIP2_MAGIC) and len(head) == 4 and head[3:4].isdigit():
        return "bzip2"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def open_decompressed(
    raw: BinaryIO, uri: str, max_bytes: int = 64 * 1024**3, max_ratio: int = 1000
) -> tuple[BinaryIO, str]:
    """Wrap `raw` in a decompressor chosen by magic bytes (names and headers lie)."""
    if isinstance(raw, io.BufferedReader):
        head = raw.peek(4)[:4]
        if len(head) == 4 and _compression(head) == "none":
            return raw, "none"  # the common case: no counting layer copying every byte in Python
    counter = _Counting(raw)
    buffered = io.BufferedReader(counter, CHUNK)
    inner: Any
    kind = _compression(buffered.peek(4)[:4])
    if kind == "gzip":
        inner = gzip.GzipFile(fileobj=buffered, mode="rb")
    elif kind == "bzip2":
        inner = bz2.BZ2File(buffered)
    elif kind == "zstd":
        inner = _ZstdReader(buffered)
    else:
        return buffered, "none"  # type: ignore[return-value]
    return _BombGuard(inner, counter, uri, max_bytes, max_ratio), kind  # type: ignore[return-value]


def _codec_errors() -> tuple[type[Exception], ...]:
    try:
        import zstandard
    except ImportError:  # pragma: no cover - a declared dependency
        return ()
    return (zstandard.ZstdError,)


_CONTROL = bytes(b for b in range(0x20) if b not in TEXT_CONTROL_OK)


BINARY_SAMPLE = 4096
"""Bytes at an object's head judged by `looks_binary`."""


def looks_binary(sample: bytes) -> bool:
    """True for data that is clearly not text: NULs or control bytes well beyond a stray one.

    Short samples are never judged: a tiny object with a NUL is a bad line, not a binary file.
    """
    if len(sample) < 256:
        return False
    nul = sample.count(0)
    control = len(sample) - len(sample.translate(None, _CONTROL))  # counted in C: this runs per object
    return nul / len(sample) > 0.01 or control / len(sample) > 0.05


def _fill(read: Any, size: int) -> tuple[bytes, Exception | None]:
    """Up to `size` bytes (fewer only at the end), reading on while the stream hands over less: a
    file's first read gives only what a peek left in its buffer, gzip one block at a time. A read
    error is returned with the bytes read before it, so their lines are still processed."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        try:
            data = read(size - got)
        except ObjectError as exc:
            return b"".join(parts), exc
        except (EOFError, OSError, zlib.error, ValueError, *_codec_errors()) as exc:  # type: ignore[misc]
            return b"".join(parts), exc
        if not data:
            break
        parts.append(data)
        got += len(data)
    return (parts[0] if len(parts) == 1 else b"".join(parts)), None


Batch = tuple[int, list[bytes | Overlong]]
"""(line number of the first line, the lines): what one read of the stream yields."""


def _finish(lines: list[bytes], max_line_bytes: int, has_cr: bool) -> list[bytes | Overlong]:
    """CRLF endings dropped and overlong lines cut to their head; the common case is checked in C."""
    out: list[bytes | Overlong] = lines  # type: ignore[assignment]
    if lines and max(map(len, lines)) > max_line_bytes:
        out = [Overlong(line[:1024], len(line)) if len(line) > max_line_bytes else line for line in lines]
    if has_cr:
        out = [line[:-1] if type(line) is bytes and line.endswith(b"\r") else line for line in out]
    return out


def iter_line_batches(
    stream: BinaryIO, uri: str, max_line_bytes: int, first_line: int = 1, head: bool = True
) -> Iterator[Batch]:
    """Lines without their LF/CRLF, a read's worth at a time, in constant memory.

    A byte range of an object starting at a line boundary is read with `first_line` set and
    `head` off (the BOM and binary checks belong to the object's start).
    """
    lineno = first_line - 1
    carry = b""
    carry_len = 0  # true length of the current partial line when it is overlong
    first = head
    # read1 hands over what was decompressed before a damaged tail, instead of dropping it.
    read = getattr(stream, "read1", stream.read)
    while True:
        chunk, error = _fill(read, CHUNK)
        if not chunk and error is None:
            break
        at_end = len(chunk) < CHUNK
        if first:
            first = False
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            if looks_binary(chunk[:BINARY_SAMPLE]):
                raise ObjectError(uri, "binary data, not a text log", hint="check the object is a log file")
        parts = chunk.split(b"\n")
        last = parts.pop()
        if parts:
            lead: list[bytes | Overlong] = []
            if carry_len:
                lead.append(Overlong(carry, carry_len + len(parts[0])))
                carry, carry_len = b"", 0
                del parts[0]
            elif carry:
                parts[0] = carry + parts[0]
                carry = b""
            has_cr = b"\r" in chunk or (bool(parts) and parts[0].endswith(b"\r"))
            batch = _finish(parts, max_line_bytes, has_cr)
            if lead:
                batch = lead + batch
            if batch:
                yield lineno + 1, batch
                lineno += len(batch)
        if carry_len:
            carry_len += len(last)
        else:
            carry += last
            if len(carry) > max_line_bytes:
                carry_len = len(carry)
                carry = carry[:1024]
        if error is not None:  # after the lines read before it
            if isinstance(error, ObjectError):
                raise error
            raise ObjectError(uri, f"compressed stream is damaged after line {lineno}: {error}") from error
        if at_end:
            break
    if carry_len:
        yield lineno + 1, [Overlong(carry, carry_len)]
    elif carry:
        yield lineno + 1, [carry[:-1] if carry.endswith(b"\r") else carry]


def lines_of(batches: Iterator[Batch]) -> Iterator[tuple[int, bytes | Overlong]]:
    """Batches as (line number, line) pairs, for formats that go line by line."""
    for first, batch in batches:
        yield from enumerate(batch, first)


def iter_lines(stream: BinaryIO, uri: str, max_line_bytes: int) -> Iterator[tuple[int, bytes | Overlong]]:
    """Yield (1-based line number, line without its LF/CRLF) in constant memory."""
    return lines_of(iter_line_batches(stream, uri, max_line_bytes))


class Window:
    """At most `length` bytes of a stream from where it stands: one byte range of a split object.

    Only `read`, handing the inner stream's bytes over without a copy."""

    def __init__(self, inner: BinaryIO, length: int) -> None:
        self.inner, self.left = inner, length

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(data)
        return data


def count_lines(stream: BinaryIO, length: int) -> int:
    """Line feeds in the next `length` bytes: where a byte range's line numbers start."""
    buffer = bytearray(4 * CHUNK)
    view = memoryview(buffer)
    count = 0
    while length > 0:
        n = stream.readinto(view[: min(len(buffer), length)])  # type: ignore[attr-defined]
        if not n:
            break
        count += buffer.count(b"\n", 0, n)
        length -= n
    return count


def line_boundaries(stream: BinaryIO, size: int, parts: int) -> list[int]:
    """Offsets cutting a seekable stream into about `parts` byte ranges, each starting a line."""
    cuts = [0]
    for i in range(1, parts):
        at = max(size * i // parts, cuts[-1] + 1)
        if at >= size:
            break
        stream.seek(at - 1)  # a cut right after a line feed is already a boundary
        while True:
            chunk = stream.read(64 * 1024)
            if not chunk:
                at = size
                break
            nl = chunk.find(b"\n")
            if nl >= 0:
                at += nl
                break
            at += len(chunk)
        if at >= size:
            break
        cuts.append(at)
    return cuts if cuts[-1] == size else [*cuts, size]


def record_boundaries(
    stream: BinaryIO, size: int, parts: int, starts: Callable[[bytes], bool], max_line_bytes: int, scan: int = 8 << 20
) -> list[int]:
    """`line_boundaries` moved on to the next line that begins a record (multi-line formats), so that no
    record spans two ranges; a cut with no record start in the `scan` bytes after it is dropped."""
    cuts = [0]
    for at in line_boundaries(stream, size, parts)[1:-1]:
        stream.seek(at)
        pos, whole = at, True  # whole: `pos` is where a line begins
        while pos < size and pos - at <= scan:
            line = stream.readline(max_line_bytes + 2)
            if not line:
                break
            ends = line.endswith(b"\n")
            if whole and ends and starts(line[:-2] if line.endswith(b"\r\n") else line[:-1]):
                if pos > cuts[-1]:
                    cuts.append(pos)
                break
            pos += len(line)
            whole = ends
    return [*cuts, size]
