"""The lake: one root holding the zones, the tables' catalog, manifests and query results.

`Lake` is the library: the command line (and any program) opens one and asks it to ingest, process,
query, crawl, compact and report. Orchestration and policy live here, the CLI only presents them.

    >>> lake = Lake.open("./lake")
    >>> for summary in lake.process(["app.log"]): ...
    >>> lake.query("SELECT level, COUNT(*) FROM processed_logs GROUP BY level")   # a pyarrow.Table
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from loglake.config import EXAMPLE_TOML, Settings, load_settings
from loglake.errors import ConfigError
from loglake.storage import LocalStorage, Storage, open_storage
from loglake.tables.catalog import Tables, open_tables
from loglake.tables.journal import read_manifest, source_id

if TYPE_CHECKING:
    import pyarrow as pa

    from loglake.pipeline import Pipeline, Summary
    from loglake.query.duckdb_engine import DuckDBEngine
    from loglake.sources import ObjectRef
    from loglake.tables.adopt import Adopted
    from loglake.tables.compact import Compaction

ZONES = ("raw", "processed", "errors", "catalog", "manifests", "commits", "query-results")


@dataclass
class Ingested:
    """One file copied into raw/: where it went and whether anything was written."""

    source: str
    uri: str
    action: str
    """`copied`, `replaced` (--overwrite) or `unchanged` (the same content was already there)."""


@dataclass
class ObjectStatus:
    """One object as its manifest (or, waiting, raw/) knows it: what `status` lists."""

    source_uri: str
    status: str
    """ok, failed, or waiting (in raw/, not processed at its current version)."""
    state: str | None = None
    format: str | None = None
    lines: int | None = None
    processed: int | None = None
    errors: int | None = None
    bytes: int | None = None
    processed_at: str | None = None
    error: str | None = None
    outputs: int = 0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Compacted:
    """What `compact` did: merges, expired snapshots, deleted orphans, and what the grace kept."""

    merges: list[Compaction]
    expired_snapshots: dict[str, int]
    orphans_deleted: dict[str, int]
    grace_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "compacted": [m.to_json() for m in self.merges],
            "expired_snapshots": self.expired_snapshots,
            "orphans_deleted": self.orphans_deleted,
            "grace_seconds": self.grace_seconds,
        }


@dataclass
class Lake:
    settings: Settings
    storage: Storage
    _tables: Tables | None = field(default=None, repr=False)

    @classmethod
    def open(cls, where: Settings | str | os.PathLike[str] | None = None, *, config: str | None = None) -> Lake:
        """A lake by its settings, or by its root (a folder or `s3://bucket/prefix`, whose `loglake.toml`
        is read); None: `LOGLAKE_LAKE` or ./lake. A local root that is a file is refused."""
        settings = where if isinstance(where, Settings) else load_settings(_root(where), config)
        storage = open_storage(settings.lake)
        if isinstance(storage, LocalStorage):
            root = storage.path("")
            if os.path.exists(root) and not os.path.isdir(root):
                raise ConfigError(
                    f"the lake `{settings.lake}` is a file, not a folder", hint="point --lake at a folder"
                )
            storage.fsync = settings.processing.fsync
        return cls(settings, storage)

    @property
    def uri(self) -> str:
        return self.storage.uri("")

    @property
    def local_root(self) -> str | None:
        return self.storage.path("") if isinstance(self.storage, LocalStorage) else None

    @property
    def tables(self) -> Tables:
        """The two Iceberg tables (opened on first use: commands that never touch them pay nothing)."""
        if self._tables is None:
            local = self.local_root
            base = "file://" + os.path.abspath(local) if local is not None else self.storage.uri("").rstrip("/")
            self._tables = open_tables(base, self.settings.catalog, local)
        return self._tables

    def pipeline(self) -> Pipeline:
        """The stages for this lake (imported on first use: reading commands never load them)."""
        from loglake.pipeline import Pipeline

        return Pipeline(self.settings, self.storage, self.tables)

    def exists(self) -> bool:
        """Is there a lake here? A local root must hold its catalog or settings; an S3 lake is taken as given
        (its bucket is checked by the first request)."""
        local = self.local_root
        if local is None:
            return True
        return any(os.path.exists(os.path.join(local, p)) for p in ("catalog", "loglake.toml", "manifests"))

    def require(self) -> Lake:
        """Read commands on a path that is not a lake say so, and create nothing there."""
        if not self.exists():
            raise ConfigError(
                f"no lake at {self.uri}",
                hint="check --lake (or LOGLAKE_LAKE), or create one with `loglake init`",
            )
        return self

    def init(self) -> list[str]:
        """Create the zones, the tables and a commented `loglake.toml`; never overwrites an existing one."""
        created = []
        local = self.local_root
        if local is not None:
            for zone in ZONES:
                path = os.path.join(local, zone)
                if not os.path.isdir(path):
                    os.makedirs(path, exist_ok=True)
                    created.append(zone + "/")
        if not self.storage.exists("loglake.toml"):
            self.storage.write_bytes("loglake.toml", EXAMPLE_TOML.encode())
            created.append("loglake.toml")
        self.tables.ensure()
        return created

    def is_current(self, uri: str, size: int, mtime_ns: int) -> bool:
        """Already committed at this exact version? (watch skips such files at start-up)"""
        manifest = read_manifest(self.storage, source_id(uri))
        return bool(
            manifest
            and manifest.get("state") == "committed"
            and "failure" not in manifest
            and manifest.get("fingerprint") == {"size": size, "mtime_ns": mtime_ns}
        )

    # -- the pipeline's stages ------------------------------------------------------------------------

    def ingest(
        self, paths: Sequence[str], *, prefix: str = "", overwrite: bool = False, keep_paths: bool = False
    ) -> list[Ingested]:
        """Copy files into raw/ (the local upload). A raw object with other content is never replaced
        without `overwrite`; with `keep_paths` a file keeps its folders below the inputs' common folder
        (the current one when they are all under it: `hostA/app.log`), so same-named files from different
        folders stay apart. Two inputs aiming at one key are refused before any copy."""
        targets: dict[str, str] = {}
        base = _common_folder(paths) if keep_paths else ""
        for path in paths:
            rel = os.path.relpath(os.path.abspath(path), base) if keep_paths else os.path.basename(path)
            rel = "/".join(p for p in rel.split(os.sep) if p not in ("", ".", ".."))
            key = "/".join(p for p in ("raw", prefix.strip("/"), rel) if p)
            if key in targets:
                raise ConfigError(
                    f"`{targets[key]}` and `{path}` would both become {self.storage.uri(key)}",
                    hint="use --keep-paths to keep their folders apart, or ingest them with different --prefix",
                )
            targets[key] = path
        done: list[Ingested] = []
        for key, path in targets.items():
            action = "copied"
            if self.storage.exists(key):
                if _same_content(path, self.storage, key):
                    done.append(Ingested(path, self.storage.uri(key), "unchanged"))
                    continue
                if not overwrite:
                    raise ConfigError(
                        f"{self.storage.uri(key)} already exists with other content (from `{path}`)",
                        hint="--overwrite replaces it (it is then reprocessed); --keep-paths or --prefix keeps both",
                    )
                action = "replaced"
            with open(path, "rb") as src, self.storage.open_write(key) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            done.append(Ingested(path, self.storage.uri(key), action))
        return done

    def refs(self, paths: Iterable[str], *, force: bool = False) -> tuple[list[ObjectRef], list[str], list[str]]:
        """What `process` would do with `paths`: objects to process, local paths that do not exist, and bucket
        objects already processed at the same version (skipped unless `force`)."""
        from loglake.sources import refs_for_paths, refs_for_prefix
        from loglake.tables.journal import split_unchanged

        paths = list(paths)
        local = [p for p in paths if "://" not in p]
        missing = [p for p in local if not os.path.exists(p)]
        suffixes = self.settings.processing.suffixes
        refs = list(refs_for_paths([p for p in local if os.path.exists(p)], suffixes))
        unchanged: list[str] = []
        for uri in (p for p in paths if "://" in p):
            if not uri.startswith("s3://") or not uri[len("s3://") :].split("/", 1)[0]:
                raise ConfigError(
                    f"`{uri}`: only s3://bucket/prefix is supported", hint="or give a local file or folder"
                )
            listed = list(refs_for_prefix(uri, suffixes))
            if force or not listed:
                refs += [ref for ref, _ in listed]
                continue
            pending, done = split_unchanged(self.storage, listed)
            refs += pending
            unchanged += done
        return refs, missing, unchanged

    def process(self, objects: Iterable[str | ObjectRef], *, jobs: int = 1) -> Iterator[Summary]:
        """Process objects (files, or `ObjectRef`s from `refs`), yielding each one's summary once it is
        committed; `jobs` != 1 runs worker processes (0: one per core) and splits big objects among them."""
        from loglake.sources import ObjectRef

        if jobs < 0:
            raise ConfigError(f"jobs must be 0 (one per core) or more, not {jobs}")
        given = list(objects)
        refs = [o for o in given if isinstance(o, ObjectRef)]
        named = [o for o in given if not isinstance(o, ObjectRef)]
        if named:
            more, missing, _ = self.refs(named, force=True)
            if missing:
                raise ConfigError(f"no such file or folder: {', '.join(missing)}")
            refs += more
        if not refs:
            return iter(())
        if jobs != 1:
            from loglake.parallel import process_parallel

            return process_parallel(self.settings, refs, jobs)
        return self.pipeline().process_many(refs)

    def engine(self, as_of: str | None = None) -> DuckDBEngine:
        """The read-only SQL engine over both tables (at a snapshot or time with `as_of`)."""
        from loglake.query.duckdb_engine import DuckDBEngine

        self.require()
        return DuckDBEngine(self.storage, self.tables, as_of, self.settings.query)

    def query(self, sql: str, *, as_of: str | None = None) -> pa.Table:
        """Run read-only SQL; the result as an Arrow table (use `engine().stream` for results of any size)."""
        return self.engine(as_of).stream(sql).table()

    def crawl(self) -> Adopted:
        """Adopt or repair the tables: rebuild both from the zones and the manifests."""
        from loglake.tables.adopt import adopt

        pipeline = self.pipeline()
        return adopt(self.storage, self.tables, pipeline.uri_of, pipeline.lock)

    def compact(
        self,
        zones: Sequence[str] = ("processed", "errors"),
        *,
        dt: str | None = None,
        target_bytes: int = 128 << 20,
        retain: timedelta = timedelta(hours=24),
        grace: timedelta = timedelta(hours=1),
    ) -> Compacted:
        """Merge small files (one snapshot each), expire snapshots older than `retain`, delete files no
        snapshot references once older than `grace`."""
        from loglake.tables.compact import compact, expire, remove_orphans

        self.require()
        merges = compact(self.tables, tuple(zones), dt, target_bytes)
        expired = expire(self.tables, retain)
        orphans = remove_orphans(self.tables, self.storage, grace)
        return Compacted(merges, expired, orphans, grace.total_seconds())

    def status(self, *, waiting: bool = True) -> list[ObjectStatus]:
        """Every object the lake knows: failed first, then by source; with `waiting`, the files in raw/ that
        were not processed at their current version."""
        from loglake.tables.journal import iter_manifests

        self.require()
        known: dict[str, ObjectStatus] = {}
        for m in iter_manifests(self.storage):
            s = m.get("summary", {})
            uri = str(m.get("source_uri"))
            known[uri] = ObjectStatus(
                source_uri=uri,
                status=str(s.get("status") or "unknown"),
                state=m.get("state"),
                format=s.get("format"),
                lines=s.get("lines"),
                processed=s.get("processed"),
                errors=s.get("errors"),
                bytes=s.get("bytes"),
                processed_at=_when(m),
                error=s.get("error") or (m.get("failure") or {}).get("error"),
                outputs=len(m.get("outputs", [])),
            )
        if waiting:
            from loglake.sources import is_hidden, matches

            for info in self.storage.list("raw/"):
                if is_hidden(info.key) or not matches(info.key, self.settings.processing.suffixes):
                    continue
                uri = self.storage.uri(info.key)  # as a source's manifest names it
                entry = known.get(uri)
                if entry is None or (entry.bytes is not None and entry.bytes != info.size):
                    known[uri] = ObjectStatus(source_uri=uri, status="waiting", bytes=info.size)
        order = {"failed": 0, "waiting": 1}
        return sorted(known.values(), key=lambda e: (order.get(e.status, 2), e.source_uri))


def _root(where: str | os.PathLike[str] | None) -> str | None:
    return None if where is None else os.fspath(where)


def _common_folder(paths: Sequence[str]) -> str:
    """The folder `keep_paths` keys are relative to: the current one when every file is below it (paths as
    typed), else the deepest folder holding them all."""
    folders = [os.path.dirname(os.path.abspath(p)) for p in paths]
    cwd = os.getcwd()
    if all(f == cwd or f.startswith(cwd + os.sep) for f in folders):
        return cwd
    return os.path.commonpath(folders)


def _same_content(path: str, storage: Storage, key: str) -> bool:
    if os.path.getsize(path) != storage.stat(key).size:
        return False
    with open(path, "rb") as mine, storage.open_read(key) as theirs:
        return _digest(mine) == _digest(theirs)


def _digest(fh: Any) -> bytes:
    h = hashlib.sha256()
    while chunk := fh.read(1 << 20):
        h.update(chunk)
    return h.digest()


def _when(manifest: dict[str, Any]) -> str | None:
    """When the object was last processed (or last failed)."""
    failure = manifest.get("failure") or {}
    stamp = failure.get("at") if failure else manifest.get("processed_at")
    return str(stamp) if stamp else None
