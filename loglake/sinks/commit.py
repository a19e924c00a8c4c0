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
import time
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


def clear_staging(storage: Storage, sid: str, attempt: str | None = None, older_than: float | None = None) -> None:
    """Remove staged files of one attempt, or of attempts older than `older_than` seconds (all if 0).

    Attempt names start with their start time in hex milliseconds, so a concurrent attempt on the
    same object (another worker handling a duplicate event) is left alone.
    """
    now_ms = time.time() * 1000
    for info in list(storage.list(f"{STAGING}/{sid}/")):
        parts = info.key.split("/")
        this = parts[2] if len(parts) > 2 else ""
        if attempt is not None:
            doomed = this == attempt
        else:
            try:
                started = int(this.split("-", 1)[0], 16)
            except ValueError:
                started = 0
            doomed = older_than is None or older_than <= 0 or now_ms - started > older_than * 1000
        if doomed:
            storage.delete(info.key)
    if isinstance(storage, LocalStorage):
        storage.remove_empty_dirs(f"{STAGING}/{sid}")


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
        from loglake.catalog.compact import record_take_out

        for rw in manifest["rewrites"]:
            record_take_out(storage, manifest["source_id"], rw["zone"], rw["dt"], rw["old"], rw["new"])
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
    manifest["replaces"] = [o["key"] for o in (previous or {}).get("outputs", [])] + list(also_replaces)
    write_manifest(storage, manifest)
    return _apply(storage, manifest)


def recover(storage: Storage, sid: str) -> dict[str, Any] | None:
    """Roll an interrupted commit forward; returns the manifest as it now stands."""
    manifest = read_manifest(storage, sid)
    if manifest is not None and manifest.get("state") == "committing":
        _apply(storage, manifest)
    return manifest
