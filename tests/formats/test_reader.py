import bz2
import gzip
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loglake.errors import ObjectError
from loglake.formats.reader import Overlong, iter_lines, open_decompressed


def lines(data: bytes, limit: int = 1 << 20) -> list[tuple[int, bytes | Overlong]]:
    stream, _ = open_decompressed(io.BytesIO(data), "mem://x")
    return list(iter_lines(stream, "mem://x", limit))


def test_lf_crlf_bom_and_missing_final_newline() -> None:
    assert lines(b"\xef\xbb\xbfa\r\nb\n\nc") == [(1, b"a"), (2, b"b"), (3, b""), (4, b"c")]


def test_empty_object_has_no_lines() -> None:
    assert lines(b"") == []


def test_overlong_line_keeps_head_and_true_length_and_next_lines() -> None:
    data = b"short\n" + b"x" * 5000 + b"\nafter\n"
    got = lines(data, limit=100)
    assert got[0] == (1, b"short")
    assert isinstance(got[1][1], Overlong) and got[1][1].length == 5000 and got[1][1].head == b"x" * 1024
    assert got[2] == (3, b"after")


def test_overlong_line_spanning_many_chunks_stays_bounded() -> None:
    data = b"a\n" + b"y" * (3 * (1 << 20) + 17) + b"\nz"
    got = lines(data, limit=1000)
    assert [n for n, _ in got] == [1, 2, 3]
    assert isinstance(got[1][1], Overlong) and got[1][1].length == 3 * (1 << 20) + 17
    assert got[2] == (3, b"z")


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress], ids=["gzip", "bzip2"])
def test_compression_detected_by_magic_bytes(compress) -> None:
    stream, kind = open_decompressed(io.BytesIO(compress(b"a\nb\n")), "mem://x")
    assert kind in ("gzip", "bzip2")
    assert list(iter_lines(stream, "mem://x", 100)) == [(1, b"a"), (2, b"b")]


def test_concatenated_gzip_members_are_all_read() -> None:
    assert lines(gzip.compress(b"a\n") + gzip.compress(b"b\n")) == [(1, b"a"), (2, b"b")]


def test_truncated_gzip_is_an_object_error_naming_the_object() -> None:
    data = gzip.compress(b"".join(b"line %d\n" % i for i in range(100_000)))
    stream, _ = open_decompressed(io.BytesIO(data[: len(data) // 2]), "mem://cut.log.gz")
    seen = []
    with pytest.raises(ObjectError, match=r"mem://cut\.log\.gz") as info:
        for item in iter_lines(stream, "mem://cut.log.gz", 1000):
            seen.append(item)
    assert "damaged" in str(info.value)
    assert len(seen) > 0  # the lines before the damage were delivered


def test_binary_garbage_is_an_object_error() -> None:
    with pytest.raises(ObjectError, match="binary"):
        lines(bytes(range(256)) * 20)


@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=64))
def test_every_line_is_delivered_once_in_order(data: bytes, limit: int) -> None:
    """Property: the reader's lines are exactly the object's LF-separated lines (BOM, CR aside)."""
    if data.startswith(b"\xef\xbb\xbf") or data[:4].startswith((b"\x1f\x8b", b"BZh", b"\x28\xb5\x2f\xfd")):
        return
    stream, _ = open_decompressed(io.BytesIO(data), "mem://x")
    try:
        got = list(iter_lines(stream, "mem://x", limit))
    except ObjectError:
        return  # rejected as binary as a whole: accounted for at object level
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert [n for n, _ in got] == list(range(1, len(expected) + 1))
    for (_, line), want in zip(got, expected, strict=True):
        if isinstance(line, Overlong):
            assert line.length == len(want) and want.startswith(line.head)
        else:
            assert line == (want[:-1] if want.endswith(b"\r") else want)


class _Trickle:
    """A stream handing over fewer bytes than asked, as a buffered file after a peek or gzip does."""

    def __init__(self, data: bytes, steps: list[int]) -> None:
        self.data, self.steps, self.at = data, steps or [1], 0

    def read1(self, size: int) -> bytes:
        step = self.steps[self.at % len(self.steps)] if self.at < len(self.data) else 0
        out = self.data[self.at : self.at + min(size, step)]
        self.at += len(out)
        return out

    read = read1


@given(
    st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=40),
    st.booleans(),
    st.lists(st.integers(1, 90), max_size=5),
)
def test_short_reads_and_chunk_edges_lose_no_line(raw_lines: list[bytes], bom: bool, steps: list[int]) -> None:
    """Property: however the stream hands bytes over and wherever chunks end (a BOM included), every
    line comes out once, in order, numbered."""
    import loglake.formats.reader as reader

    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(line + b"\n" for line in raw_lines)
    chunk, reader.CHUNK = reader.CHUNK, 64
    try:
        got = list(iter_lines(_Trickle(data, steps), "mem://x", 1 << 20))  # type: ignore[arg-type]
    except ObjectError:
        return  # judged binary as a whole
    finally:
        reader.CHUNK = chunk
    if not bom and raw_lines and raw_lines[0].startswith(b"\xef\xbb\xbf"):
        raw_lines[0] = raw_lines[0][3:]  # the object starts with a BOM after all: it is read as one
    want = [line[:-1] if line.endswith(b"\r") else line for line in raw_lines]
    assert got == list(enumerate(want, 1))
