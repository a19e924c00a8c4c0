"""Where objects come from: files and folders now; S3 events, SQS and CloudWatch Logs at the edges."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from loglake.storage import LocalStorage, ObjectInfo, Storage, open_storage


@dataclass(frozen=True)
class ObjectRef:
    """An object to process: a key in some storage (the lake's raw zone or anywhere else)."""

    storage: Storage
    key: str
    size: int | None = None
    """Known from a listing; small objects are committed in groups (unknown: asked when it matters)."""

    @property
    def uri(self) -> str:
        return self.storage.uri(self.key)

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


def is_hidden(key: str) -> bool:
    """Temp files, dotfiles and `_`-prefixed names are never inputs (Hive/Athena convention)."""
    return any(part.startswith((".", "_")) for part in key.split("/") if part)


def matches(name: str, suffixes: Sequence[str]) -> bool:
    return name.endswith(tuple(suffixes))


def refs_for_paths(paths: Sequence[str], suffixes: Sequence[str]) -> Iterator[ObjectRef]:
    """A named file is always taken; a folder contributes its files that match `suffixes`."""
    for path in paths:
        if os.path.isdir(path):
            storage = LocalStorage(path)
            for info in storage.list():
                if not is_hidden(info.key) and matches(info.key, suffixes):
                    yield ObjectRef(storage, info.key, info.size)
        else:
            folder, name = os.path.split(os.path.abspath(path))
            yield ObjectRef(LocalStorage(folder), name)


def refs_for_prefix(uri: str, suffixes: Sequence[str]) -> Iterator[tuple[ObjectRef, ObjectInfo]]:
    """The objects already under `s3://bucket/prefix` that match `suffixes`, with what the listing says
    of each (size, ETag): a backfill's work. The prefix is taken as S3 takes it, literally."""
    scheme, _, rest = uri.partition("://")
    bucket, _, prefix = rest.partition("/")
    storage = open_storage(f"{scheme}://{bucket}")
    for info in storage.list(prefix):
        if not is_hidden(info.key) and matches(info.key, suffixes):
            yield ObjectRef(storage, info.key, info.size), info
