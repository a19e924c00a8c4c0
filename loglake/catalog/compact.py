"""Compaction: many small Parquet files of a partition become a few ~128 MB ones, atomically.

Queries see the catalog's file list, never the folder. A compaction writes the merged file in
staging, journals it in the partition's compaction document, moves it into place and swaps it
for its inputs in one catalog update. The inputs are only *retired*: they stay on disk for a grace
period so a query that loaded the catalog just before the swap can still read them, and the
crawler skips them. A query therefore sees either all inputs or the merged file, never both and
never neither.

The document (`compactions/<zone>/dt=<dt>.json`) also records which sources each merged file
holds, so reprocessing one of them can take its old rows out (`take_out`) instead of doubling them.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loglake.catalog.local import ZONES, LocalCatalog
from loglake.catalog.types import athena_type
from loglake.errors import ObjectNotFound
from loglake.sinks import STAGING, staged_key
from loglake.sinks.commit import COMMIT_LOCK
from loglake.sinks.writers import ParquetFileWriter
from loglake.storage import Storage

COMPACTIONS = "compactions"
_SID = re.compile(r"-([0-9a-f]{16})-\d{4}\.parquet$")


def doc_key(zone: str, dt: str) -> str:
    return f"{COMPACTIONS}/{zone}/dt={dt}.json"


def _load(data: bytes | None) -> dict[str, Any]:
    doc = orjson.loads(data) if data else {}
    doc.setdefault("files", {})
    doc.setdefault("retired", {})
    doc.setdefault("pending", {})
    return doc  # type: ignore[no-any-return]


def _edit_doc(storage: Storage, zone: str, dt: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Atomic read-modify-write of a partition's document (file lock locally, conditional write on S3)."""

    def apply(current: bytes | None) -> bytes:
        doc = _load(current)
        change(doc)
        return orjson.dumps(doc)

    storage.update(doc_key(zone, dt), apply)


def _new_key(zone: str, dt: str) -> str:
    """A fresh name for a merged file: never reused, so no reader of an older one is disturbed."""
    return f"{zone}/dt={dt}/compacted-{int(time.time() * 1000):x}-{uuid.uuid4().hex[:8]}.parquet"


def read_doc(storage: Storage, zone: str, dt: str) -> dict[str, Any]:
    try:
        return _load(storage.read_bytes(doc_key(zone, dt)))
    except ObjectNotFound:
        return _load(None)


def _still_retired(storage: Storage, key: str, retired_at: float) -> bool:
    """False once the key was written again (its source reprocessed under the same output name)."""
    try:
        return storage.stat(key).mtime_ns / 1e9 <= retired_at
    except ObjectNotFound:
        return False


def retired_keys(storage: Storage) -> set[str]:
    """Inputs already merged into another file: on disk for a while, but not data any more."""
    keys: set[str] = set()
    for info in storage.list(COMPACTIONS + "/"):
        if info.key.endswith(".json"):
            retired = _load(storage.read_bytes(info.key))["retired"]
            keys.update(k for k, at in retired.items() if _still_retired(storage, k, at))
    return keys


def _describe(key: str, zone: str, dt: str, table_schema: pa.Schema, rows: int) -> dict[str, Any]:
    return {
        "key": key,
        "zone": zone,
        "dt": dt,
        "rows": rows,
        "columns": [(f.name, athena_type(f.type)) for f in table_schema],
    }


@dataclass
class Merge:
    """One merged file to be: its inputs and the sources they hold."""

    inputs: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    bytes: int = 0
    types: dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    zone: str
    dt: str
    merged_files: int = 0
    into: int = 0
    rows: int = 0
    deleted_retired: int = 0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Compactor:
    def __init__(
        self, storage: Storage, catalog: LocalCatalog, target_bytes: int = 128 << 20, grace_seconds: float = 300.0
    ) -> None:
        self.storage, self.catalog = storage, catalog
        self.target_bytes, self.grace = target_bytes, grace_seconds

    def partitions(self, zone: str | None = None, dt: str | None = None) -> Iterator[tuple[str, str]]:
        doc = self.catalog.load()
        for table in doc["tables"].values():
            if zone is not None and table["zone"] != zone:
                continue
            for part in table["partitions"]:
                if dt is None or part == dt:
                    yield table["zone"], part

    def _listed(self, zone: str) -> dict[str, Any]:
        """The zone's files as the catalog lists them now."""
        return next(t for t in self.catalog.load()["tables"].values() if t["zone"] == zone)["files"]  # type: ignore[no-any-return]

    def compact(self, zone: str, dt: str) -> Report:
        with self.storage.lock(COMMIT_LOCK):  # no commit takes rows out of a file while it is merged
            return self._compact(zone, dt)

    def _compact(self, zone: str, dt: str) -> Report:
        report = Report(zone, dt)
        self.recover(zone, dt, report)
        files = {k: f for k, f in self._listed(zone).items() if f["dt"] == dt and k.endswith(".parquet")}
        doc = read_doc(self.storage, zone, dt)
        for merge in self._plan(files, doc):
            rows = self._merge(zone, dt, merge)
            if rows is not None:
                report.merged_files += len(merge.inputs)
                report.into += 1
                report.rows += rows
        return report

    def _plan(self, files: dict[str, dict[str, Any]], doc: dict[str, Any]) -> list[Merge]:
        """Small files grouped up to the target size; only files whose shared columns agree on type.

        Files with conflicting types are left as they are: merging them would change values' text.
        """
        small = []
        for key in sorted(files):
            try:
                size = self.storage.stat(key).size
            except ObjectNotFound:
                continue
            if size < self.target_bytes // 2:
                small.append((key, size))
        merges: list[Merge] = []
        for key, size in small:
            types = dict(tuple(c) for c in files[key]["columns"])
            home = None
            for merge in merges:
                fits = merge.bytes + size <= self.target_bytes
                if fits and all(merge.types.get(n, t) == t for n, t in types.items()):
                    home = merge
                    break
            if home is None:
                home = Merge()
                merges.append(home)
            home.inputs.append(key)
            home.bytes += size
            home.types.update(types)
            held = doc["files"].get(key)
            if held is not None:
                home.sources.update(held["sources"])
            else:
                match = _SID.search(key)
                if match:
                    home.sources[match.group(1)] = key
        return [m for m in merges if len(m.inputs) > 1]

    def _merge(self, zone: str, dt: str, merge: Merge) -> int | None:
        """Write the merged file, then journal → move → catalog swap → retire inputs."""
        key = _new_key(zone, dt)
        staged = staged_key(f"{STAGING}/compact", key)  # the key is fresh, so is its staged name
        fields: dict[str, pa.Field] = {}
        for input_key in merge.inputs:
            with self._open(input_key) as fh:
                for f in pq.read_schema(fh):
                    fields.setdefault(f.name, f)
        schema = pa.schema(list(fields.values()))
        rows = 0
        with self.storage.open_write(staged) as out:
            writer = ParquetFileWriter(out, schema)  # fills columns an input lacks with nulls
            for input_key in merge.inputs:
                with self._open(input_key) as fh:
                    for batch in pq.ParquetFile(fh).iter_batches(batch_size=65_536):
                        writer.write(pa.Table.from_batches([batch]))
                        rows += len(batch)
            writer.close()
        described = _describe(key, zone, dt, schema, rows)

        # Inputs replaced meanwhile (their source was reprocessed) would come back as doubles: give up on this one.
        listed = self._listed(zone)
        if not all(k in listed for k in merge.inputs):
            self.storage.delete(staged)
            return None
        entry = {"staged": staged, "inputs": merge.inputs, "sources": merge.sources, "file": described}
        _edit_doc(self.storage, zone, dt, lambda doc: doc["pending"].__setitem__(key, entry))
        self._finish(zone, dt, key)
        return rows

    def _open(self, key: str) -> Any:
        fs, base = self.storage.arrow_filesystem()
        return fs.open_input_file(f"{base}/{key}")

    def _finish(self, zone: str, dt: str, key: str) -> None:
        """Roll a journalled merge forward; idempotent, so recovery runs the same code."""
        pending = read_doc(self.storage, zone, dt)["pending"].get(key)
        if pending is None:
            return
        if self.storage.exists(pending["staged"]):
            self.storage.move(pending["staged"], key)
        elif not self.storage.exists(key):
            # The merged file never got written completely: drop the journal entry, inputs stay live.
            self._drop_pending(zone, dt, key)
            return
        self.catalog.apply([pending["file"]], pending["inputs"])
        now = time.time()

        def done(doc: dict[str, Any]) -> None:
            entry = doc["pending"].pop(key, None)
            if entry is not None:
                doc["files"][key] = {"sources": entry["sources"]}
                for old in entry["inputs"]:
                    doc["files"].pop(old, None)
                    doc["retired"][old] = now

        _edit_doc(self.storage, zone, dt, done)

    def _drop_pending(self, zone: str, dt: str, key: str) -> None:
        _edit_doc(self.storage, zone, dt, lambda doc: doc["pending"].pop(key, None))

    def recover(self, zone: str, dt: str, report: Report | None = None) -> None:
        """Finish interrupted merges and delete inputs retired longer ago than the grace period."""
        doc = read_doc(self.storage, zone, dt)
        for key in list(doc["pending"]):
            self._finish(zone, dt, key)
        retired = read_doc(self.storage, zone, dt)["retired"]
        expired = [k for k, at in retired.items() if time.time() - at >= self.grace]
        if not expired:
            return
        for key in expired:
            if _still_retired(self.storage, key, retired[key]):
                self.storage.delete(key)

        def forget(doc: dict[str, Any]) -> None:
            for key in expired:
                doc["retired"].pop(key, None)

        _edit_doc(self.storage, zone, dt, forget)
        if report is not None:
            report.deleted_retired += len(expired)


def recover_all(storage: Storage, catalog: LocalCatalog, grace_seconds: float = 300.0) -> None:
    """What `crawl` runs first: interrupted merges finished, expired inputs deleted."""
    compactor = Compactor(storage, catalog, grace_seconds=grace_seconds)
    with storage.lock(COMMIT_LOCK):
        for zone in ZONES:
            for info in list(storage.list(f"{COMPACTIONS}/{zone}/")):
                name = info.key.rsplit("/", 1)[-1]
                if name.startswith("dt=") and name.endswith(".json"):
                    compactor.recover(zone, name[3:-5])


@dataclass
class Rewrite:
    """A shared file (merged, or a group commit's) that held reprocessed sources' old rows, and its
    replacement without them."""

    zone: str
    dt: str
    old: str
    staged: str
    new: str
    file: dict[str, Any] | None
    """The replacement's catalog entry; None when no rows were left (nothing replaces the old file)."""
    sids: list[str] = field(default_factory=list)
    """The sources taken out."""

    def to_json(self) -> dict[str, Any]:
        """What the commit journal keeps to update the partition's document on recovery too."""
        new = self.new if self.file else None
        return {"zone": self.zone, "dt": self.dt, "old": self.old, "new": new, "sids": self.sids}


def take_out(storage: Storage, sources: dict[str, str], zone: str, dt: str, staging: str) -> list[Rewrite]:
    """For reprocessing: shared files holding these sources' (sid → uri) old rows, rewritten without them (staged)."""
    out = []
    for key, entry in read_doc(storage, zone, dt)["files"].items():
        sids = sorted(s for s in sources if s in entry["sources"])
        if not sids:
            continue
        new_key = _new_key(zone, dt)
        if len(sids) == len(entry["sources"]):  # nothing else in it: goes without a replacement
            out.append(Rewrite(zone, dt, key, staged_key(staging, new_key), new_key, None, sids))
            continue
        uris = pa.array(sorted({sources[s] for s in sids}), pa.string())
        staged = staged_key(staging, new_key)
        rows = 0
        fs, base = storage.arrow_filesystem()
        with fs.open_input_file(f"{base}/{key}") as fh, storage.open_write(staged) as fh_out:
            source = pq.ParquetFile(fh)
            writer = ParquetFileWriter(fh_out, source.schema_arrow)
            for batch in source.iter_batches(batch_size=65_536):
                kept = batch.filter(pc.invert(pc.is_in(batch.column("source_uri"), value_set=uris)))
                if len(kept):
                    writer.write(pa.Table.from_batches([kept]))
                    rows += len(kept)
            writer.close()
        described = _describe(new_key, zone, dt, source.schema_arrow, rows) if rows else None
        if not rows:
            storage.delete(staged)
        out.append(Rewrite(zone, dt, key, staged, new_key, described, sids))
    return out


def record_files(
    storage: Storage,
    zone: str,
    dt: str,
    take_outs: list[dict[str, Any]] = (),  # type: ignore[assignment]
    shared: dict[str, dict[str, str]] | None = None,
) -> None:
    """The partition's document follows a commit, in one edit. Idempotent, so recovery can repeat it.

    `take_outs` (`Rewrite.to_json()`): the new file holds the old one's sources but the ones taken out.
    `shared`: new files holding several sources' rows (file key → {sid: uri}).
    """

    def change(doc: dict[str, Any]) -> None:
        for rw in take_outs:
            entry = doc["files"].pop(rw["old"], None)
            if entry is not None and rw["new"] is not None:
                gone = set(rw["sids"])
                doc["files"][rw["new"]] = {"sources": {s: k for s, k in entry["sources"].items() if s not in gone}}
        for key, sources in (shared or {}).items():
            doc["files"][key] = {"sources": sources}

    _edit_doc(storage, zone, dt, change)
