"""A commit: data files already written become rows of the tables, replacing a source's earlier rows.

Per table, one Iceberg transaction: the schema evolves by the writers' new and widened columns,
the rows of sources processed before are deleted (`source_uri IN (…)`: whole files of one source
are dropped from metadata, files shared with other sources are rewritten without them), and the
new files are added. Readers see the snapshot before or after, never between.

Concurrent writers: pyiceberg's own retry is off for our tables, because a retry must re-decide
what it replaces. A first attempt deletes only for sources the caller knows were seen (so a
first-seen object does no delete scan); after a conflict every source of the commit is deleted
before adding, since the writer that won may have committed one of them. Together with manifests
written before the commit, that keeps each source's rows exactly once (see `pipeline`).

Two tables are two transactions. The snapshot summary carries the attempt id
(`loglake.attempt`), so a commit interrupted between the two is finished by `finish` — each
table's part applied once, whatever ran before.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from loglake.errors import Transient
from loglake.tables.catalog import ZONES, Tables

if TYPE_CHECKING:
    from pyiceberg.table import Table

ATTEMPT = "loglake.attempt"
"""Snapshot summary property: the attempt (or group) whose commit made the snapshot."""
SOURCES = "loglake.sources"
"""Snapshot summary property: the source ids the commit holds rows of (`*` past `MAX_LISTED`), so a writer
that lost a race replaces only the sources the winners committed, not all of its own."""
MAX_LISTED = 100
RETRIES = 30
MAX_SNAPSHOTS = 24
KEEP_SNAPSHOTS = 12
"""pyiceberg copies the whole table metadata dozens of times per commit, so a commit's cost grows with the
snapshots the table keeps (measured locally: a reprocessing commit plus two queries 0.59 s at ~46 snapshots,
0.26 s at ≤ 24). Past `MAX_SNAPSHOTS` a commit expires all but the newest `KEEP_SNAPSHOTS`: expiry drops
references only, never files (orphan cleanup deletes those, after its grace), so a query planned on an older
snapshot still reads. Time travel therefore reaches back at least `KEEP_SNAPSHOTS` commits."""


@dataclass
class Change:
    """What one commit does to one table."""

    files: list[str] = field(default_factory=list)
    """Data files (full URIs), written and closed, in the table's location."""
    schema: pa.Schema | None = None
    """The writers' target schema: the table's plus the columns they added or widened."""

    def to_json(self) -> dict[str, Any]:
        schema = [] if self.schema is None else [[f.name, str(f.type)] for f in self.schema]
        return {"files": self.files, "schema": schema}


@dataclass
class Commit:
    attempt: str
    sources: list[str]
    """Every source URI the commit is for: their earlier rows go."""
    seen: set[str]
    """Sources that may have rows in the tables already (a manifest exists for them)."""
    changes: dict[str, Change]
    """zone → change"""


def _committed(table: Table, attempt: str) -> bool:
    return any(s.summary is not None and s.summary.get(ATTEMPT) == attempt for s in table.metadata.snapshots)


def source_id(uri: str) -> str:
    """A source's short, stable identity (manifest names, snapshot summaries)."""
    return hashlib.sha256(uri.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _listed(sources: list[str]) -> str:
    return "*" if len(sources) > MAX_LISTED else ",".join(sorted(source_id(u) for u in sources))


def _apply(table: Table, commit: Commit, change: Change, replace: list[str]) -> None:
    from pyiceberg.expressions import In

    props = {ATTEMPT: commit.attempt, SOURCES: _listed(commit.sources)}
    with warnings.catch_warnings(), table.transaction() as tx:
        warnings.filterwarnings("ignore", "Delete operation did not match any records")
        if change.schema is not None:
            with tx.update_schema() as update:  # no change, no new schema
                update.union_by_name(change.schema)
        if replace:
            tx.delete(In("source_uri", replace), snapshot_properties=props)  # type: ignore[call-arg,arg-type]
        if change.files:
            tx.add_files(change.files, snapshot_properties=props, check_duplicate_files=False)


def apply(
    tables: Tables,
    commit: Commit,
    lock: Callable[[], AbstractContextManager[Any]] = nullcontext,
    zones: tuple[str, ...] = ZONES,
    bases: dict[str, Table] | None = None,
) -> None:
    """Both tables' parts of `commit`, each in one transaction, retried on conflict.

    `bases`: the tables as loaded before `commit.seen` was decided; the first try commits on them, so a
    commit that landed since (by any writer) makes it conflict and retry with every source replaced."""
    from pyiceberg.exceptions import CommitFailedException

    for zone in zones:
        change = _with_schema(tables.load(zone), commit.changes.get(zone, Change()))
        replace = sorted(commit.seen)
        if not change.files and not replace:
            continue
        for attempt in range(RETRIES + 1):
            try:
                with lock():
                    base = (bases or {}).get(zone)
                    table = base if attempt == 0 and base is not None else tables.load(zone, refresh=attempt > 0)
                    if _committed(table, commit.attempt):
                        break  # an earlier try (or a recovery) landed it already
                    if change.schema is not None and _disagrees(table, change.schema):
                        change = _reconform(table, change)
                    _apply(table, commit, change, replace)
                    _trim(tables.load(zone, refresh=True))
                break
            except CommitFailedException as exc:
                if attempt == RETRIES:
                    raise Transient(
                        f"table `{tables.name(zone)}`: {RETRIES + 1} commits in a row lost to concurrent writers",
                        hint="the message is retried; lower the event source's maximum concurrency if this persists",
                    ) from exc
                # The winners may have committed any of our sources: all are replaced. (Replacing only the
                # sources the winners' snapshot summaries list, tried in ff0f75b, doubled rows in 1 of ~4
                # runs of a test racing two runs; not yet understood, so it was reverted.)
                replace = sorted(commit.sources)
                time.sleep(min(5.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5))


def _disagrees(table: Table, schema: pa.Schema) -> bool:
    """A column the files have in a type the table cannot widen to: another writer added it first, otherwise."""
    from loglake.tables.schema import Target

    probe = Target(table.schema().as_arrow())
    probe.conform(schema.empty_table())
    current = {f.name: f.type for f in table.schema().as_arrow()}
    return any(
        f.name in current and probe.types.get(f.name) == current[f.name] and _plain(f.type) != current[f.name]
        for f in schema
        if not pa.types.is_null(f.type)
    )


def _plain(kind: pa.DataType) -> pa.DataType:
    return pa.string() if pa.types.is_large_string(kind) else kind


def _reconform(table: Table, change: Change) -> Change:
    """The files rewritten to fit the table as it is now (values that do not fit rescued), beside the originals;
    the originals become orphans. Rare: two writers adding one new column in different types at once."""
    import pyarrow.parquet as pq

    from loglake.tables.schema import Target

    target = Target(table.schema().as_arrow())
    files = []
    for uri in change.files:
        with table.io.new_input(uri).open() as fh:
            data = pq.read_table(fh)
        fixed = uri[: -len(".parquet")] + "-refit.parquet"
        with table.io.new_output(fixed).create(overwrite=True) as sink:
            pq.write_table(target.conform(data).table, sink, compression="zstd")
        files.append(fixed)
    return Change(files, target.schema())


def _trim(table: Table) -> None:
    snapshots = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
    if len(snapshots) <= MAX_SNAPSHOTS:
        return
    from pyiceberg.exceptions import CommitFailedException

    old = [s.snapshot_id for s in snapshots[:-KEEP_SNAPSHOTS]]
    with contextlib.suppress(CommitFailedException):  # a concurrent writer moved on: the next commit trims
        table.maintenance.expire_snapshots().by_ids(old).commit()


def finish(tables: Tables, commit: Commit, lock: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
    """Complete a commit that was interrupted: apply each table's part that has not landed."""
    pending = tuple(zone for zone in ZONES if not _committed(tables.load(zone, refresh=True), commit.attempt))
    if pending:
        # The interrupted writer decided what to replace; after a crash any source may already be in.
        again = Commit(commit.attempt, commit.sources, set(commit.sources) | commit.seen, commit.changes)
        apply(tables, again, lock, pending)


def _with_schema(table: Table, change: Change) -> Change:
    """A journalled change names its files only: their columns are read back from their footers."""
    if change.schema is not None or not change.files:
        return change
    import pyarrow.parquet as pq

    schemas = []
    for uri in change.files:
        with table.io.new_input(uri).open() as fh:
            schemas.append(pq.read_schema(fh))
    return Change(change.files, pa.unify_schemas(schemas, promote_options="permissive"))
