"""The one storage interface every stage uses: keys are `/`-separated, relative to a root."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, BinaryIO


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    mtime_ns: int
    """Modification time; with the size it fingerprints an object version."""
    etag: str | None = None
    """The content's ETag where the store has one (S3): the fingerprint when known."""


class Storage(abc.ABC):
    """A bucket-like namespace. Writes are atomic: a reader sees a whole object or none."""

    seekable: bool = False
    """`open_read` streams can seek: byte ranges of one object can go to several processes."""

    @abc.abstractmethod
    def uri(self, key: str) -> str:
        """Where the object is, in a form users and query engines understand."""

    @abc.abstractmethod
    def open_read(self, key: str) -> BinaryIO:
        """A streaming binary reader; raises ObjectNotFound or ObjectError."""

    @abc.abstractmethod
    def open_write(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A writer whose object appears only when the block exits without an exception."""

    @abc.abstractmethod
    def move(self, src: str, dst: str) -> None:
        """Replace `dst` by `src` (atomically where the backend can)."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove an object; a missing one is not an error."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects under a key prefix (recursively), in key order."""

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Size and mtime; raises ObjectNotFound."""

    @abc.abstractmethod
    def update(self, key: str, change: Callable[[bytes | None], bytes]) -> bytes:
        """Atomic read-modify-write of a small object shared between processes (the catalog).

        `change` gets the current bytes (None when absent) and may be called again on a conflict.
        """

    def arrow_filesystem(self) -> tuple[Any, str]:
        """A pyarrow filesystem and the path prefix of key "" — how query engines read the lake."""
        raise NotImplementedError

    def lock(self, name: str) -> AbstractContextManager[None]:
        """Held by one process (or thread) at a time, where the backend can; here, no lock at all."""
        return nullcontext()

    def exists(self, key: str) -> bool:
        from loglake.errors import ObjectNotFound

        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as fh:
            return fh.read()

    def write_bytes(self, key: str, data: bytes) -> None:
        with self.open_write(key) as fh:
            fh.write(data)
