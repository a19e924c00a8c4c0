"""A local folder as a bucket. Atomic writes are temp file + fsync + rename."""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO

from loglake.errors import ObjectError, ObjectNotFound, StorageError
from loglake.storage.base import ObjectInfo, Storage

_held_locks = threading.local()
"""The lock files this thread holds."""


class LocalStorage(Storage):
    seekable = True

    def __init__(self, root: str, fsync: bool = True) -> None:
        self.root = os.path.realpath(root)
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    def path(self, key: str) -> str:
        parts = [p for p in key.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise StorageError(f"key `{key}` leaves the storage root {self.root}")
        return os.path.join(self.root, *parts)

    def uri(self, key: str) -> str:
        return self.path(key)

    def open_read(self, key: str) -> BinaryIO:
        path = self.path(key)
        try:
            if os.path.isdir(path):
                raise ObjectError(path, "is a directory, not a log object", hint="pass the files inside it")
            return open(path, "rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{path}: no such object") from exc
        except PermissionError as exc:
            raise ObjectError(path, "permission denied", hint="check the file's owner and mode") from exc
        except OSError as exc:
            raise ObjectError(path, f"cannot be read: {exc.strerror or exc}") from exc

    @contextmanager
    def open_write(self, key: str) -> Iterator[BinaryIO]:
        path = self.path(key)
        folder = os.path.dirname(path)
        # Dot-prefixed temp names are ignored by readers, Hive/Athena-style listers and `watch`.
        for tries in range(1, 4):
            try:
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
                break
            except FileNotFoundError:  # folders are made on demand: a mkdir per write costs more than a miss
                if tries == 3:
                    raise
                # Again if it is gone: a process tidying empty folders may remove it between the two calls.
                with suppress(FileNotFoundError):
                    os.makedirs(folder, exist_ok=True)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def move(self, src: str, dst: str) -> None:
        target = self.path(dst)
        try:
            os.replace(self.path(src), target)
        except FileNotFoundError as exc:
            if not os.path.exists(self.path(src)):
                raise ObjectNotFound(f"{self.path(src)}: no such object to move") from exc
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(self.path(src), target)

    def delete(self, key: str) -> None:
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            pass

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.path(prefix) if prefix else self.root
        if os.path.isfile(base):
            yield self.stat(prefix)
            return
        found: list[ObjectInfo] = []
        for folder, dirs, files in os.walk(base):
            dirs.sort()
            for name in files:
                full = os.path.join(folder, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                rel = os.path.relpath(full, self.root).replace(os.sep, "/")
                found.append(ObjectInfo(rel, st.st_size, st.st_mtime_ns))
        yield from sorted(found, key=lambda o: o.key)

    def stat(self, key: str) -> ObjectInfo:
        try:
            st = os.stat(self.path(key))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise ObjectNotFound(f"{self.path(key)}: no such object") from exc
            raise StorageError(f"{self.path(key)}: {exc.strerror}") from exc
        return ObjectInfo(key, st.st_size, st.st_mtime_ns)

    def update(self, key: str, change: Callable[[bytes | None], bytes]) -> bytes:
        with self.lock(key):
            try:
                with open(self.path(key), "rb") as fh:
                    current: bytes | None = fh.read()
            except FileNotFoundError:
                current = None
            data = change(current)
            self.write_bytes(key, data)
            return data

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive `flock` on `.locks/<name>`: between processes, and between threads (each opens its
        own file). Re-entrant within a thread: a commit may recover an interrupted one while holding it.
        `update` takes one per key."""
        held = _held_locks.__dict__.setdefault("names", set())
        path = self.path(f".locks/{name}")
        if path in held:
            yield
            return
        try:
            fh = open(path, "a+b")  # noqa: SIM115 - closed below, after the lock is released
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fh = open(path, "a+b")  # noqa: SIM115
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            held.add(path)
            try:
                yield
            finally:
                held.discard(path)
                fcntl.flock(fh, fcntl.LOCK_UN)

    def arrow_filesystem(self) -> tuple[Any, str]:
        import pyarrow.fs as pafs

        return pafs.LocalFileSystem(), self.root
