"""Atomic per-object commit through a manifest journal.

1. Outputs are written under `_staging/` (never read by anyone).
2. The manifest is written with `state = "committing"`: the list of staged → final moves.
3. Files are moved into place; the previous run's outputs that are not replaced are deleted.
4. The manifest is rewritten with `state = "committed"`.
A crash before 2 leaves only staging litter; a crash after 2 is rolled forward by `recover`.
The catalog lists only committed files, so queries never see a half-finished object.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from typing import Any

import orjson

from loglake.errors import ObjectNotFound
from loglake.sinks import STAGING
from loglake.storage import LocalStorage, Storage

MANIFESTS = "manifests"


def source_id(uri: str) -> str:
    """Output names derive from the source's identity, so reprocessing replaces instead of adding."""
    return hashlib.sha256(uri.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def manifest_key(sid: str) -> str:
    return f"{MANIFESTS}/{sid}.json"


def read_manifest(storage: Storage, sid: str) -> dict[str, Any] | None:
    try:
        return orjson.loads(storage.read_bytes(manifest_key(sid)))  # type: ignore[no-any-return]
    except ObjectNotFound:
        return None
    except orjson.JSONDecodeError:
        return None  # a manifest is only ever written atomically; unreadable means foreign litter


def write_manifest(storage: Storage, manifest: dict[str, Any]) -> None:
    storage.write_bytes(manifest_key(manifest["source_id"]), orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def iter_manifests(storage: Storage) -> list[dict[str, Any]]:
    out = []
    for info in storage.list(MANIFESTS + "/"):
        name = info.key.rsplit("/", 1)[-1]
        if name.endswith(".json") and not name.startswith("."):
            m = read_manifest(storage, name[: -len(".json")])
            if m is not None:
                out.append(m)
    return out


def own_outputs(manifest: dict[str, Any] | None) -> list[str]:
    """The files only this object's rows are in (not a group commit's shared files): replaced wholesale."""
    return [o["key"] for o in (manifest or {}).get("outputs", []) if not o.get("shared")]


COMMIT_LOCK = "commit"
"""Held while a commit reads what it replaces and applies itself (one object's, a group's, a compaction's):
two runs on one lake — `watch` and `process`, say — committing the same object would otherwise both see
none of the other's rows and keep both. On S3 it is no lock: there the Lambda and workers commit objects
one at a time, under names derived from the source, so a second commit replaces the first."""


def attempt_id() -> str:
    """`<start ms>-<random>-<pid>`, all hex: cleanup can tell an attempt's age, and locally whether the
    process making it still runs."""
    return f"{int(time.time() * 1000):x}-{uuid.uuid4().hex[:8]}-{os.getpid():x}"


LIVE_ATTEMPT_MS = 24 * 3600 * 1000


def _running(attempt: str) -> bool:
    """The local process that started this attempt is still alive (names without a pid: unknown, so no)."""
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


def clear_staging(storage: Storage, sid: str, attempt: str | None = None, older_than: float | None = None) -> None:
    """Remove staged files of one attempt, or of attempts older than `older_than` seconds (all if 0).

    Attempt names start with their start time in hex milliseconds, so a concurrent attempt on the
    same object (another worker handling a duplicate event) is left alone; locally, so is the attempt
    of any process still running (its pid ends the name).
    """
    now_ms = time.time() * 1000

    def doomed(this: str) -> bool:
        if attempt is not None:
            return this == attempt
        try:
            started = int(this.split("-", 1)[0], 16)
        except ValueError:
            started = 0
        if older_than is None or older_than <= 0 or now_ms - started > older_than * 1000:
            if older_than is not None and isinstance(storage, LocalStorage):
                # Another run on this machine may be mid-attempt on the same object (a day on: its pid reused).
                return now_ms - started > LIVE_ATTEMPT_MS or not _running(this)
            return True
        return False

    cleared: set[str] = set()
    for info in list(storage.list(f"{STAGING}/{sid}/")):
        parts = info.key.split("/")
        this = parts[2] if len(parts) > 2 else ""
        if doomed(this):
            storage.delete(info.key)
            cleared.add(this)
    if isinstance(storage, LocalStorage):
        # Only doomed attempts' folders (emptied now, or left empty by a crash): another process may have
        # just made its own (empty) folder here and be about to write into it — `--jobs` workers commit
        # groups side by side.
        try:
            left = set(os.listdir(storage.path(f"{STAGING}/{sid}")))
        except OSError:
            left = set()
        for name in (cleared | {n for n in left - cleared if doomed(n)}) - {""}:
            storage.remove_empty_dirs(f"{STAGING}/{sid}/{name}", keep_base=False)
        if f"{STAGING}/{sid}" != GROUP_STAGING:  # one object's folder: no other object's attempts inside
            storage.remove_empty_dirs(f"{STAGING}/{sid}", keep_base=False)


def _apply(storage: Storage, manifest: dict[str, Any]) -> list[str]:
    """Steps 3–4; idempotent, so recovery can run it again. Returns the keys it removed."""
    for staged, final in manifest.get("moves", []):
        try:
            storage.move(staged, final)
        except ObjectNotFound:
            if not storage.exists(final):
                raise
    keep = {o["key"] for o in manifest["outputs"]}
    removed = [k for k in manifest.get("replaces", []) if k not in keep]
    for key in removed:
        storage.delete(key)
    if manifest.get("rewrites"):
        from loglake.catalog.compact import record_files

        for rw in manifest["rewrites"]:
            rw.setdefault("sids", [manifest["source_id"]])  # journals written before groups existed
            record_files(storage, rw["zone"], rw["dt"], [rw])
    manifest["state"] = "committed"
    manifest.pop("moves", None)
    manifest.pop("replaces", None)
    manifest.pop("rewrites", None)
    write_manifest(storage, manifest)
    clear_staging(storage, manifest["source_id"], attempt=manifest.get("attempt"))
    return removed


def commit(
    storage: Storage,
    manifest: dict[str, Any],
    moves: list[tuple[str, str]],
    previous: dict[str, Any] | None,
    also_replaces: list[str] = (),  # type: ignore[assignment]
) -> list[str]:
    """Make an object's staged outputs visible together; returns the old keys it removed.

    `also_replaces`: merged files that held this object's old rows (rewritten without them).
    """
    manifest["state"] = "committing"
    manifest["moves"] = [list(m) for m in moves]
    manifest["replaces"] = own_outputs(previous) + list(also_replaces)
    write_manifest(storage, manifest)
    return _apply(storage, manifest)


def recover(storage: Storage, sid: str) -> dict[str, Any] | None:
    """Roll an interrupted commit forward; returns the manifest as it now stands."""
    manifest = read_manifest(storage, sid)
    if manifest is not None and manifest.get("state") == "committing":
        with storage.lock(COMMIT_LOCK):  # it may be another run's commit in progress, not an interrupted one
            manifest = read_manifest(storage, sid)
            if manifest is not None and manifest.get("state") == "committing":
                _apply(storage, manifest)
    return manifest


GROUPS = "commits"
GROUP_STAGING = f"{STAGING}/group"


def group_journal_key(gid: str) -> str:
    return f"{GROUPS}/{gid}.json"


def commit_group(storage: Storage, journal: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Make a group of small objects visible together; returns the catalog's changes (added, removed).

    The journal (`commits/<gid>.json`) holds everything the commit does — moves, the files it
    replaces, the shared files' sources, every member's manifest — so `recover_groups` can finish it.
    """
    storage.write_bytes(group_journal_key(journal["group"]), orjson.dumps(journal))
    return _apply_group(storage, journal)


def _apply_group(storage: Storage, journal: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Idempotent: moves, deletions, partition documents, manifests; then the journal goes."""
    from loglake.catalog.compact import record_files

    for staged, final in journal["moves"]:
        try:
            storage.move(staged, final)
        except ObjectNotFound:
            if not storage.exists(final):
                raise
    kept = {final for _, final in journal["moves"]}
    removed = [k for k in journal["replaces"] if k not in kept]
    for key in removed:
        storage.delete(key)
    partitions: dict[tuple[str, str], tuple[list[dict[str, Any]], dict[str, dict[str, str]]]] = {}
    for rw in journal["rewrites"]:
        partitions.setdefault((rw["zone"], rw["dt"]), ([], {}))[0].append(rw)
    for f in journal["shared"]:
        partitions.setdefault((f["zone"], f["dt"]), ([], {}))[1][f["key"]] = f["sources"]
    for (zone, dt), (take_outs, shared) in sorted(partitions.items()):
        record_files(storage, zone, dt, take_outs, shared)
    for manifest in journal["manifests"]:
        write_manifest(storage, manifest)
    storage.delete(group_journal_key(journal["group"]))
    for manifest in journal["manifests"]:
        if own_outputs(manifest):  # its own files were staged in its own attempt's folder
            clear_staging(storage, manifest["source_id"], attempt=manifest.get("attempt"))
    clear_staging(storage, "group", attempt=journal["group"])
    return journal["added"], removed


def recover_groups(storage: Storage) -> tuple[list[dict[str, Any]], list[str]]:
    """Finish group commits a crash interrupted (run before any object is processed); returns the catalog's
    changes (added, removed).

    Staged group files with no journal (a crash before the commit began) are litter: deleted after an hour.
    """
    with storage.lock(COMMIT_LOCK):  # a journal may be another run's commit in progress
        return _recover_groups(storage)


def _recover_groups(storage: Storage) -> tuple[list[dict[str, Any]], list[str]]:
    added: list[dict[str, Any]] = []
    removed: list[str] = []
    for info in list(storage.list(GROUPS + "/")):
        if not info.key.endswith(".json") or info.key.rsplit("/", 1)[-1].startswith("."):
            continue
        try:
            journal = orjson.loads(storage.read_bytes(info.key))
        except (ObjectNotFound, orjson.JSONDecodeError):
            continue  # written atomically: unreadable means foreign litter
        more_added, more_removed = _apply_group(storage, journal)
        added += more_added
        removed += more_removed
    clear_staging(storage, "group", older_than=3600)
    return added, removed
