"""Manifests and journals: the record behind `status` and the accounting, and of commits in flight.

- `manifests/<sid>.json`, one per source object: what its last attempt did (summary, files, state).
  It is written once, as `committing` with its commit's attempt id, *before* the table commit. A
  manifest's mere existence tells a later writer that the source may have rows in the tables, so
  that writer replaces them (see `commit`): that ordering is what keeps a duplicate delivery's rows
  once. It reads as `committed` once its commit's journal is gone (not rewritten: a second fsync'd
  write per object halved the rate of small objects).
- `commits/<attempt>.json`, one per commit in flight: the commit itself (sources, files per table),
  deleted when done. A crash leaves it behind; `recover` finishes it (each table's part applied
  once, found by the attempt id in the snapshot summaries) and marks its manifests committed.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import orjson

from loglake.errors import ObjectNotFound
from loglake.storage import LocalStorage, ObjectInfo, Storage
from loglake.tables.catalog import Tables
from loglake.tables.commit import Change, Commit, apply, finish, source_id

MANIFESTS = "manifests"
COMMITS = "commits"
COMMIT_LOCK = "commit"
"""Held locally around each table transaction: SQLite's optimistic commits alone lose appends under
several writer processes. S3 lakes use Glue's compare-and-swap and our retry instead."""
STALE_SECONDS = 15 * 60
"""A remote commit journal older than this is an interrupted one (a Lambda runs 15 minutes at most)."""


def manifest_key(sid: str) -> str:
    return f"{MANIFESTS}/{sid}.json"


def read_manifest(storage: Storage, sid: str, journals: set[str] | None = None) -> dict[str, Any] | None:
    """The source's manifest, its state resolved (`journals`: the attempts with a journal, if known)."""
    try:
        manifest: dict[str, Any] = orjson.loads(storage.read_bytes(manifest_key(sid)))
    except ObjectNotFound:
        return None
    except orjson.JSONDecodeError:
        return None  # written atomically: unreadable means foreign litter (`seen` still counts it)
    if manifest.get("state") == "committing":
        attempt = manifest.get("commit", "")
        pending = attempt in journals if journals is not None else storage.exists(_journal_key(attempt))
        if not pending:
            manifest["state"] = "committed"
    return manifest


def _journal_key(attempt: str) -> str:
    return f"{COMMITS}/{attempt}.json"


def _journals(storage: Storage) -> set[str]:
    """Attempts whose commit journal exists (in flight, or interrupted and not yet recovered)."""
    names = (info.key.rsplit("/", 1)[-1] for info in storage.list(COMMITS + "/"))
    return {n[: -len(".json")] for n in names if n.endswith(".json") and not n.startswith(".")}


def seen(storage: Storage, sid: str) -> bool:
    """Any manifest at all, readable or not: the source may have rows in the tables."""
    return storage.exists(manifest_key(sid))


def unchanged(storage: Storage, uri: str, info: ObjectInfo) -> bool:
    """Was this version of the object processed and committed already? (By its ETag where the store
    has one, else by size and modification time.) What lets a backfill's re-run do only what changed."""
    manifest = read_manifest(storage, source_id(uri))
    if manifest is None or manifest.get("state") != "committed" or "failure" in manifest:
        return False
    if (manifest.get("summary") or {}).get("status") != "ok":
        return False
    before = manifest.get("fingerprint") or {}
    if info.etag and before.get("etag"):
        return bool(before["etag"] == info.etag and before.get("size") == info.size)
    return bool(before.get("size") == info.size and before.get("mtime_ns") == info.mtime_ns)


def split_unchanged(storage: Storage, listed: list[tuple[Any, ObjectInfo]]) -> tuple[list[Any], list[str]]:
    """Listed (object ref, info) pairs → the refs still to process, and the URIs of those `unchanged`
    (one manifest read each, several at once on a remote lake)."""
    same = each(storage, listed, lambda s, pair: unchanged(s, pair[0].uri, pair[1]))
    pending = [ref for (ref, _), done in zip(listed, same, strict=True) if not done]
    return pending, [ref.uri for (ref, _), done in zip(listed, same, strict=True) if done]


def write_manifest(storage: Storage, manifest: dict[str, Any]) -> None:
    storage.write_bytes(manifest_key(manifest["source_id"]), orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def iter_manifests(storage: Storage) -> list[dict[str, Any]]:
    out = []
    journals = _journals(storage)
    for info in storage.list(MANIFESTS + "/"):
        name = info.key.rsplit("/", 1)[-1]
        if name.endswith(".json") and not name.startswith("."):
            m = read_manifest(storage, name[: -len(".json")], journals)
            if m is not None:
                out.append(m)
    return out


def attempt_id() -> str:
    """`<start ms>-<random>-<pid>`, all hex: recovery can tell an attempt's age, and locally whether the
    process making it still runs."""
    return f"{int(time.time() * 1000):x}-{uuid.uuid4().hex[:8]}-{os.getpid():x}"


def _running(attempt: str) -> bool:
    """The local process that started this attempt is still alive."""
    parts = attempt.split("-")
    if len(parts) != 3:
        return False
    try:
        os.kill(int(parts[2], 16), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _age_seconds(attempt: str) -> float:
    try:
        return time.time() - int(attempt.split("-", 1)[0], 16) / 1000
    except ValueError:
        return float("inf")


_LIVE: set[str] = set()
"""Commits this process is making now (another thread's run on the same lake must leave them alone)."""


def in_flight(storage: Storage, attempt: str) -> bool:
    """Is this attempt's writer possibly still at it? (Then its journal is not ours to finish.)"""
    if attempt in _LIVE:
        return True
    if attempt.endswith(f"-{os.getpid():x}"):
        return False  # this process's, and not live: a commit of ours that failed part-way
    if isinstance(storage, LocalStorage):
        return _running(attempt) and _age_seconds(attempt) < 24 * 3600
    return _age_seconds(attempt) < STALE_SECONDS


def _journal(commit: Commit, storage: Storage) -> bytes:
    return orjson.dumps(
        {
            "attempt": commit.attempt,
            "sources": commit.sources,
            "seen": sorted(commit.seen),
            "files": {zone: change.files for zone, change in commit.changes.items()},
            "manifests": [source_id(uri) for uri in commit.sources],
        }
    )


def _commit_of(doc: dict[str, Any]) -> Commit:
    changes = {zone: Change(files) for zone, files in doc["files"].items()}
    return Commit(doc["attempt"], doc["sources"], set(doc["seen"]), changes)


def commit(
    storage: Storage,
    tables: Tables,
    commit: Commit,
    manifests: list[dict[str, Any]],
    lock: Callable[[], AbstractContextManager[Any]],
    bases: dict[str, Any],
) -> None:
    """Journal, manifests (as `committing`), both tables, journal gone (the manifests now read `committed`).

    `bases`: the tables as loaded before `commit.seen` was decided (see `commit.apply`).
    """
    key = _journal_key(commit.attempt)
    _LIVE.add(commit.attempt)
    try:
        storage.write_bytes(key, _journal(commit, storage))
        each(storage, [{**m, "state": "committing", "commit": commit.attempt} for m in manifests], write_manifest)
        apply(tables, commit, lock, bases=bases)
        storage.delete(key)
    finally:
        _LIVE.discard(commit.attempt)


def each(storage: Storage, items: list[Any], fn: Callable[[Storage, Any], Any]) -> list[Any]:
    """`fn(storage, item)` for every item; on a remote lake several at once (each is a request, and a batch
    of 50 objects is 100 manifest writes), in order of the items either way."""
    if len(items) < 2 or isinstance(storage, LocalStorage):
        return [fn(storage, item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(16, len(items)), thread_name_prefix="loglake-manifests") as pool:
        return list(pool.map(lambda item: fn(storage, item), items))


def recover(storage: Storage, tables: Tables, lock: Callable[[], AbstractContextManager[Any]]) -> list[str]:
    """Finish every interrupted commit (not one in flight elsewhere); returns their attempt ids."""
    done = []
    for attempt in sorted(_journals(storage)):
        if in_flight(storage, attempt):
            continue
        try:
            doc = orjson.loads(storage.read_bytes(_journal_key(attempt)))
        except ObjectNotFound:
            continue  # finished meanwhile
        finish(tables, _commit_of(doc), lock)
        storage.delete(_journal_key(attempt))  # its manifests read `committed` from now on
        done.append(attempt)
    return done
