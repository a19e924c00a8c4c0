"""One object through the stages: read → parse → validate → transform → sinks → commit.

Accounting is the invariant this module owns, for every object: lines + shared = processed + errors + blank + joined.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import itertools
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from loglake.columnar import jsonl as columnar_jsonl
from loglake.columnar import text as columnar_text
from loglake.columnar.jsonl import SharedRead
from loglake.columnar.text import TextPlan
from loglake.config import Settings
from loglake.errors import LogLakeError, ObjectError, ObjectNotFound, internal_error
from loglake.formats import (
    Format,
    FormatRegistry,
    Overlong,
    ParseFailure,
    iter_line_batches,
    lines_of,
    open_decompressed,
)
from loglake.formats.base import Parsed
from loglake.formats.jsonl import JsonLines
from loglake.formats.reader import BINARY_SAMPLE, Batch, Window, count_lines, line_boundaries, record_boundaries
from loglake.records import ERROR_SCHEMA
from loglake.rules import RuleSet, get_field
from loglake.rules.probe import Probe
from loglake.sinks import OutputFile, SharedWriter, ZoneWriter
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage, ObjectInfo, Storage
from loglake.tables import journal
from loglake.tables.catalog import Tables
from loglake.tables.commit import Change, Commit
from loglake.tables.journal import COMMIT_LOCK, attempt_id, read_manifest, source_id, write_manifest
from loglake.tables.schema import Target
from loglake.transform import Flattener, partition_of

if TYPE_CHECKING:
    import pyarrow as pa

_STEM_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Summary:
    """What happened to one object; printed, returned as JSON and kept in its manifest."""

    source_uri: str
    status: str = "ok"
    """ok: everything committed; failed: the object (or part of it) could not be read."""
    lines: int = 0
    processed: int = 0
    errors: int = 0
    blank: int = 0
    """Blank lines, and framing lines with no record (a JSON document's brackets, a flow log header)."""
    joined: int = 0
    """Lines joined into a record that started above (stack traces, pretty-printed JSON)."""
    shared: int = 0
    """Records on a line an earlier record already counted (a JSON array or CloudTrail file on one line):
    lines + shared = processed + errors + blank + joined."""
    errors_by_reason: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0
    compression: str = "none"
    format: str = "jsonl"
    error: str | None = None
    outputs: int = 0
    rescued: int = 0
    """Valid rows with a value kept in `_rescued_data`, its type not fitting its column (the row is kept)."""

    COUNTS: ClassVar[tuple[str, ...]] = ("lines", "processed", "errors", "blank", "joined", "shared")
    """The counts the accounting invariant is about; what `add` sums and totals report."""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def add(self, other: Summary) -> None:
        """Another part's counts and reasons added to these (byte ranges, objects of a run)."""
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for code, count in other.errors_by_reason.items():
            self.errors_by_reason[code] = self.errors_by_reason.get(code, 0) + count


@dataclass
class Attempt:
    """One try at one object: its names and what it replaces."""

    uri: str
    sid: str
    attempt: str
    name: str
    now: datetime
    previous: dict[str, Any] | None
    summary: Summary
    started: float
    fingerprint: dict[str, Any] = field(default_factory=dict)


@dataclass
class Split:
    """An object cut at line boundaries into byte ranges, each read by its own process."""

    att: Attempt
    fmt: str
    ranges: list[tuple[int, int]]


@dataclass
class Piece:
    """What one byte range produced: its counts and its (uncommitted) files."""

    summary: Summary
    outputs: list[OutputFile]
    rescued: int = 0


@dataclass
class ObjectRun:
    """One object in flight: its format, where its rows go, what is counted. Shared by both paths."""

    fmt: Format
    uri: str
    now: datetime
    summary: Summary
    valid: ZoneWriter
    invalid: ZoneWriter
    shared: SharedRead | None = None
    """A group's small object: JSON Lines read by Arrow together with the group's others."""


FINISHED_LATER = "the next `loglake process` or `loglake crawl` completes it"


def _write_error(exc: BaseException) -> str:
    """Why an object's output could not be written or committed: storage trouble said plainly, a bug as one."""
    if isinstance(exc, LogLakeError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"its output could not be written: {exc}"
    return internal_error(exc)


def _fingerprint(info: ObjectInfo) -> dict[str, Any]:
    """The object version a manifest was made from (size and mtime, and the ETag where there is one)."""
    out: dict[str, Any] = {"size": info.size, "mtime_ns": info.mtime_ns}
    if info.etag:
        out["etag"] = info.etag
    return out


def _stem(name: str) -> str:
    base = name
    for ext in (".gz", ".bz2", ".zst", ".log", ".jsonl", ".ndjson", ".json", ".txt"):
        if base.endswith(ext) and len(base) > len(ext):
            base = base[: -len(ext)]
    return (_STEM_UNSAFE.sub("_", base).strip("._") or "object")[:40]


def _raw_columns(raw: bytes | Overlong) -> tuple[str, str | None, int]:
    """The raw line kept exactly: text when it is UTF-8, base64 of the bytes otherwise."""
    if type(raw) is Overlong:
        head = raw.head.decode("utf-8", "backslashreplace")
        return head, base64.b64encode(raw.head).decode(), raw.length
    data: bytes = raw  # type: ignore[assignment]
    try:
        return data.decode("utf-8"), None, len(data)
    except UnicodeDecodeError:
        return data.decode("utf-8", "backslashreplace"), base64.b64encode(data).decode(), len(data)


PROGRESS_FROM_BYTES = 8 << 20
"""Smaller objects are read too fast for a byte count to help."""
PROGRESS_EVERY = 0.25
"""Seconds between reports of how far an object's read has come."""


@contextlib.contextmanager
def _reporting(report: Callable[[str, int, int], None] | None, uri: str, raw: Any, size: int) -> Iterator[None]:
    """Tell `report` how far the read of `raw` has come, from a thread polling its position (the read
    itself pays nothing)."""
    tell = getattr(raw, "tell", None)
    if report is None or tell is None or size < PROGRESS_FROM_BYTES:
        yield
        return
    done = threading.Event()

    def poll() -> None:
        while not done.wait(PROGRESS_EVERY):
            try:
                report(uri, min(int(tell()), size), size)
            except (OSError, ValueError, RuntimeError):
                return

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


class Pipeline:
    """Processes objects into a lake. Storage-agnostic: the lake and the sources are `Storage`s."""

    def __init__(self, settings: Settings, lake: Storage, tables: Tables) -> None:
        self.settings = settings
        self.lake = lake
        self.tables = tables
        self.formats = FormatRegistry(settings.formats)
        self._rules: dict[Any, RuleSet] = {}
        self._columnar: dict[Any, Callable[[ObjectRun, Iterator[Batch]], None] | None] = {}
        self._pools: dict[int, ThreadPoolExecutor] = {}
        proc = settings.processing
        self.flattener = Flattener(proc.flatten_separator, proc.flatten_max_depth)
        self.overlap = True
        """The columnar path works on one batch on a second thread while the next is probed; worker
        processes that already keep every core busy turn this off (the hand-off then only costs)."""
        self.recovery_pending = True
        self.json_schemas: dict[str, Any] = {}
        """The last JSON Lines object's column types per format, the next one's first guess (`ArrowJson`)."""
        self.progress: Callable[[str, int, int], None] | None = None
        """Told (uri, bytes read, size) a few times a second while an object is read (a terminal's bar)."""

    def lock(self) -> Any:
        """The local commit lock around one table transaction (nothing on S3: Glue compares and swaps)."""
        return self.lake.lock(COMMIT_LOCK) if isinstance(self.lake, LocalStorage) else contextlib.nullcontext()

    def recover(self) -> None:
        """Finish commits a crash interrupted, once per pipeline, before any object is processed."""
        if self.recovery_pending:
            self.recovery_pending = False
            journal.recover(self.lake, self.tables, self.lock)

    def uri_of(self, key: str) -> str:
        """A lake key as the tables name files (`file:///…` locally)."""
        uri = self.lake.uri(key)
        return uri if "://" in uri else "file://" + uri

    def target(self, zone: str) -> Target:
        return Target(self.tables.schema(zone))

    def commit(
        self,
        attempt: str,
        members: list[tuple[Attempt, list[OutputFile]]],
        shared: list[OutputFile] = (),  # type: ignore[assignment]
        schemas: dict[str, pa.Schema] | None = None,
    ) -> None:
        """Commit members' files (and a group's shared files) in place of their sources' earlier rows.

        `schemas`: the writers' target schemas per zone; without them the files' footers say."""
        shared = list(shared)
        files: dict[str, list[str]] = {"processed": [], "errors": []}
        for out in shared + [o for _, outs in members for o in outs]:
            files[out.zone].append(self.uri_of(out.key))
        bases = {zone: self.tables.load(zone, refresh=True) for zone in files}  # before `seen`: see tables.journal
        known = journal.each(self.lake, [att.sid for att, _ in members], journal.seen)
        seen = {att.uri for (att, _), was in zip(members, known, strict=True) if was}
        changes = {zone: Change(f, (schemas or {}).get(zone)) for zone, f in files.items()}
        manifests = [self._manifest(att, outs, shared) for att, outs in members]
        job = Commit(attempt, [a.uri for a, _ in members], seen, changes)
        journal.commit(self.lake, self.tables, job, manifests, self.lock, bases)

    def _manifest(self, att: Attempt, outputs: list[OutputFile], shared: list[OutputFile]) -> dict[str, Any]:
        summary = att.summary
        summary.outputs = len(outputs) + len(shared)
        summary.errors_by_reason = dict(sorted(summary.errors_by_reason.items()))
        return {
            "source_id": att.sid,
            "source_uri": att.uri,
            "fingerprint": att.fingerprint,
            "attempt": att.attempt,
            "processed_at": att.now.isoformat() + "Z",
            "summary": summary.to_json(),
            "outputs": [o.to_json() for o in outputs] + [o.to_json() | {"shared": True} for o in shared],
        }

    def rules_for(self, fmt: Format) -> RuleSet:
        rules = self._rules.get(fmt.identity)
        if rules is None:
            rules = self._rules[fmt.identity] = RuleSet(self.settings.rules, fmt.provides_level)
        return rules

    def worker_threads(self, count: int) -> ThreadPoolExecutor:
        """The columnar paths' Arrow threads, kept for the pipeline's life (small objects come by thousands).

        One pool per thread count: a thread that is not needed still costs a malloc arena (~6 MB).
        """
        pool = self._pools.get(count)
        if pool is None:
            pool = self._pools[count] = ThreadPoolExecutor(count, thread_name_prefix="loglake-columnar")
        return pool

    def columnar_for(self, fmt: Format) -> Callable[[ObjectRun, Iterator[Batch]], None] | None:
        """The batch path for this format under these rules — JSON Lines, or a regex line format — where it
        can reproduce the row path exactly; None: row by row."""
        if not self.settings.processing.columnar:
            return None
        key = fmt.identity
        if key not in self._columnar:
            rules = self.rules_for(fmt)
            path: Callable[[ObjectRun, Iterator[Batch]], None] | None = None
            if type(fmt) is JsonLines:
                probe = Probe.for_rules(rules)
                if probe is not None:
                    path = functools.partial(columnar_jsonl.run, self, probe)
            else:
                plan = TextPlan.for_format(fmt, rules)
                if plan is not None:
                    path = functools.partial(columnar_text.run, self, plan)
            self._columnar[key] = path
        return self._columnar[key]

    def begin(self, ref: ObjectRef) -> Attempt:
        """Finish interrupted commits and open a fresh attempt at this object."""
        self.recover()
        uri = ref.uri
        sid = source_id(uri)
        summary = Summary(source_uri=uri, format="")
        attempt = attempt_id()
        return Attempt(
            uri=uri,
            sid=sid,
            attempt=attempt,
            name=f"{_stem(ref.name)}-{sid}-{attempt}",
            now=datetime.now(UTC).replace(tzinfo=None),
            previous=read_manifest(self.lake, sid),
            summary=summary,
            started=time.perf_counter(),
        )

    def writers(self, att: Attempt, part: int | None = None) -> tuple[ZoneWriter, ZoneWriter]:
        """The processed and errors writers of an attempt; a byte range of a split object gets its own names."""
        name = att.name if part is None else f"{att.name}-r{part}"
        proc = self.settings.processing
        return (
            ZoneWriter(self.lake, "processed", name, self.target("processed"), proc.batch_rows),
            ZoneWriter(self.lake, "errors", name, self.target("errors"), proc.batch_rows, ERROR_SCHEMA),
        )

    def process(self, ref: ObjectRef) -> Summary:
        """Never raises for bad input: the summary says what failed, the manifest records it."""
        att = self.begin(ref)
        valid, invalid = self.writers(att)
        if not self._read_whole(ref, att, valid, invalid):
            return self.fail(att)
        try:
            outputs = valid.finish() + invalid.finish()
        except Exception as exc:  # the disk, not the input: this object fails, the run goes on
            valid.abort()
            invalid.abort()
            att.summary.status, att.summary.error = "failed", _write_error(exc)
            return self.fail(att)
        att.summary.rescued = valid.rescued
        return self.complete(att, outputs, {"processed": valid.target.schema(), "errors": invalid.target.schema()})

    def _read_whole(
        self, ref: ObjectRef, att: Attempt, valid: ZoneWriter, invalid: ZoneWriter, shared: SharedRead | None = None
    ) -> bool:
        """The whole object into the writers. False: nothing of it can be kept (the writers are aborted)."""
        summary, uri, proc = att.summary, att.uri, self.settings.processing
        try:
            info = ref.storage.stat(ref.key)
            att.fingerprint = _fingerprint(info)
            with ref.storage.open_read(ref.key) as raw, _reporting(self.progress, uri, raw, info.size):
                stream, summary.compression = open_decompressed(
                    raw, uri, proc.max_decompressed_bytes, proc.max_compression_ratio
                )
                batches = iter_line_batches(stream, uri, proc.max_line_bytes)
                fmt, batches = self.formats.choose(ref.key, batches)
                self.read(ObjectRun(fmt, uri, att.now, summary, valid, invalid, shared), batches)
            summary.bytes = info.size
        except (ObjectError, ObjectNotFound) as exc:
            summary.status = "failed"
            summary.error = exc.cause if isinstance(exc, ObjectError) else str(exc)
        except Exception as exc:
            summary.status, summary.error = "failed", internal_error(exc)
            valid.abort()
            invalid.abort()
            return False  # nothing of an object that hit an internal error is kept
        if summary.status == "failed" and summary.lines == 0:
            valid.abort()
            invalid.abort()
            return False
        return True

    def process_many(self, refs: Iterable[ObjectRef]) -> Iterator[Summary]:
        """Objects in order. Small ones are committed in groups that share files (`group_object_bytes`):
        a few files per partition instead of one per object, one commit journal instead of one each."""
        group: Group | None = None
        for ref in refs:
            if self.groupable(ref):
                if group is not None and not group.fits(ref):
                    yield from group.commit()
                    group = None
                if group is None:
                    group = Group(self)
                group.add(ref)
                continue
            if group is not None:
                yield from group.commit()
                group = None
            yield self.process(ref)
        if group is not None:
            yield from group.commit()

    def groupable(self, ref: ObjectRef, below: int | None = None) -> bool:
        """Small enough to share files with other objects (and, if given, smaller than `below`)?"""
        proc = self.settings.processing
        limit = proc.group_object_bytes
        if below is not None:
            limit = min(limit, below - 1)
        if not limit:
            return False
        size = ref.size
        if size is None:
            try:
                size = ref.storage.stat(ref.key).size
            except LogLakeError:
                return False  # the whole-object path reports it
        return size <= limit

    def read(self, run: ObjectRun, batches: Iterator[Batch]) -> None:
        """Lines → rows in the run's writers, by the columnar path where it applies. Adds to the run's counts."""
        run.summary.format = run.fmt.name
        names: list[str] = []
        try:
            for fmt, part in self.formats.segments(run.fmt, batches):
                names.append(fmt.name)
                this = run if fmt is run.fmt else dataclasses.replace(run, fmt=fmt)
                columnar = self.columnar_for(fmt)
                if columnar is not None:
                    columnar(this, part)
                else:
                    self.run_rows(this, fmt.records(lines_of(part)))
        except ObjectError as exc:
            run.summary.status, run.summary.error = "failed", exc.cause
        # An object whose layout changed part-way names each format it was read with, in order.
        run.summary.format = "+".join(dict.fromkeys(names)) or run.fmt.name

    def complete(self, att: Attempt, outputs: list[OutputFile], schemas: dict[str, pa.Schema] | None = None) -> Summary:
        """Commit the attempt's files in place of the object's earlier rows. A commit that fails fails this
        object alone; one that failed after its journal was written is finished by the next run."""
        att.summary.seconds = round(time.perf_counter() - att.started, 6)
        try:
            self.commit(att.attempt, [(att, outputs)], schemas=schemas)
        except Exception as exc:
            summary = att.summary
            summary.status = "failed"
            if self.lake.exists(f"{journal.COMMITS}/{att.attempt}.json"):
                summary.error = f"commit interrupted ({_write_error(exc)}); {FINISHED_LATER}"
                return summary
            summary.error = _write_error(exc)
            return self.fail(att)
        return att.summary

    def plan_split(self, ref: ObjectRef, jobs: int) -> Split | None:
        """Byte ranges for an object big enough to share across `jobs` processes; None: process it whole.

        Only uncompressed objects whose format reads line by line are split; anything unusual
        (unreadable, binary, a header) is left to the whole-object path, which reports it.
        """
        proc = self.settings.processing
        if jobs < 2 or not ref.storage.seekable:
            return None
        try:
            info = ref.storage.stat(ref.key)
            # Ranges longer than the head the binary check reads: the first then judges what the whole would.
            parts = min(jobs, info.size // max(proc.split_bytes, BINARY_SAMPLE))
            if parts < 2:
                return None
            with ref.storage.open_read(ref.key) as raw:
                stream, compression = open_decompressed(raw, ref.uri)
                if compression != "none":
                    return None
                fmt, _ = self.formats.choose(ref.key, iter_line_batches(stream, ref.uri, proc.max_line_bytes))
                if fmt.splittable:
                    cuts = line_boundaries(raw, info.size, parts)
                elif fmt.splittable_at_records:
                    cuts = record_boundaries(raw, info.size, parts, fmt.starts_whole_record, proc.max_line_bytes)
                else:
                    return None
        except (LogLakeError, OSError):
            return None
        if len(cuts) < 3:
            return None
        att = self.begin(ref)
        att.fingerprint = _fingerprint(info)
        att.summary.format = fmt.name
        return Split(att, fmt.name, list(itertools.pairwise(cuts)))

    def process_range(self, ref: ObjectRef, att: Attempt, fmt_name: str, start: int, end: int, part: int) -> Piece:
        """One byte range of a split object (in a worker process): its files and counts, not committed."""
        fmt = self.formats.by_name[fmt_name]
        summary = Summary(source_uri=att.uri, format=fmt.name)
        valid, invalid = self.writers(att, part)
        max_line = self.settings.processing.max_line_bytes
        try:
            with ref.storage.open_read(ref.key) as raw:
                first = count_lines(raw, start) + 1
                window = Window(raw, end - start)
                batches = iter_line_batches(window, att.uri, max_line, first, head=start == 0)  # type: ignore[arg-type]
                self.read(ObjectRun(fmt, att.uri, att.now, summary, valid, invalid), batches)
        except BaseException:
            valid.abort()
            invalid.abort()
            raise
        if summary.status != "ok":
            valid.abort()
            invalid.abort()
            return Piece(summary, [])
        outputs = valid.finish() + invalid.finish()
        return Piece(summary, outputs, valid.rescued)

    def complete_split(self, ref: ObjectRef, split: Split, pieces: list[Piece] | None) -> Summary:
        """Commit every range of a split object in one manifest, as if it had been read whole.

        A range that failed (or a worker that died: `pieces` None) sends the object through the
        whole-object path, which decides and reports exactly as a single process would.
        """
        att = split.att
        if pieces is None or any(p.summary.status != "ok" for p in pieces):
            for piece in pieces or []:
                self._discard(piece.outputs)  # a dead worker's files are left to orphan cleanup
            return self.process(ref)
        summary = att.summary
        for piece in pieces:
            summary.add(piece.summary)
            summary.rescued += piece.rescued
        summary.bytes = att.fingerprint["size"]
        # The formats the ranges were read with, in order (a layout change inside one range names both).
        summary.format = "+".join(dict.fromkeys(f for p in pieces for f in p.summary.format.split("+")))
        return self.complete(att, [o for piece in pieces for o in piece.outputs])

    def _discard(self, outputs: list[OutputFile]) -> None:
        """Files of an attempt that will not be committed (no table knows them)."""
        for out in outputs:
            with contextlib.suppress(LogLakeError, OSError):
                self.lake.delete(out.key)

    def fail(self, att: Attempt) -> Summary:
        """Nothing of this attempt is kept; the failure is recorded next to any earlier good output."""
        att.summary.seconds = round(time.perf_counter() - att.started, 6)
        self._record_failure(att.sid, att.uri, att.summary, att.fingerprint, att.previous)
        return att.summary

    def _record_failure(
        self, sid: str, uri: str, summary: Summary, fingerprint: dict[str, Any], previous: dict[str, Any] | None
    ) -> None:
        """A whole-object failure is kept in the manifest, next to any earlier good output."""
        manifest = dict(previous or {"source_id": sid, "source_uri": uri, "outputs": []})
        manifest.update(
            state=manifest.get("state", "failed") if previous else "failed",
            failure={"error": summary.error, "at": datetime.now(UTC).isoformat(), "fingerprint": fingerprint},
            summary=summary.to_json(),
        )
        write_manifest(self.lake, manifest)

    def run_rows(self, run: ObjectRun, records: Iterator[Parsed]) -> None:
        """The row path: per record, as little Python as possible. Adds to the summary's counts."""
        fmt, uri, now, summary, valid, invalid = run.fmt, run.uri, run.now, run.summary, run.valid, run.invalid
        rules = self.rules_for(fmt)
        validate, flatten = rules.validate, self.flattener.flatten
        ts_field = rules.timestamp_field
        fmt_name = fmt.name
        nested_ts = "." in ts_field
        reasons: Counter[str] = Counter()
        today = now.date().isoformat()
        add_valid, add_invalid = valid.add, invalid.add
        lines = processed = errors = blank = joined = shared = 0
        try:
            for lineno, raw, outcome, span in records:
                lines += span
                if outcome is None:
                    blank += span
                    continue
                if span:
                    joined += span - 1
                else:
                    shared += 1
                if type(outcome) is ParseFailure:
                    failures = [outcome]
                    record: dict[str, Any] | None = None
                else:
                    record = outcome  # type: ignore[assignment]
                    failures = validate(record, now)  # type: ignore[arg-type,assignment]
                if not failures:
                    assert record is not None
                    event_time = get_field(record, ts_field) if nested_ts else record.get(ts_field)
                    row = flatten(record)
                    row["processed_timestamp"] = now
                    row["source_uri"] = uri
                    row["source_line"] = lineno
                    row["source_format"] = fmt_name
                    add_valid(partition_of(event_time, now), row)
                    processed += 1
                    continue
                errors += 1
                codes = [f.code for f in failures]
                reasons.update(codes)
                text, b64, length = _raw_columns(raw)
                event_time = None
                if record is not None:
                    event_time = get_field(record, ts_field) if nested_ts else record.get(ts_field)
                add_invalid(
                    partition_of(event_time, now) if type(event_time) is datetime else today,
                    {
                        "source_uri": uri,
                        "source_line": lineno,
                        "error_code": codes[0],
                        "error_codes": codes,
                        "error_message": "; ".join(f.message for f in failures),
                        "raw_line": text,
                        "raw_line_b64": b64,
                        "raw_length": length,
                        "processed_timestamp": now,
                        "source_format": fmt_name,
                    },
                )
        finally:
            summary.add(
                Summary(
                    uri,
                    lines=lines,
                    processed=processed,
                    errors=errors,
                    blank=blank,
                    joined=joined,
                    shared=shared,
                    errors_by_reason=dict(reasons),
                )
            )


@dataclass
class _Member:
    att: Attempt
    own: list[OutputFile]
    """Files it wrote by itself (rows beyond `batch_rows` in a partition); usually none."""
    rescued: int = 0
    """Rows rescued in those files."""


class Group:
    """Small objects committed together: their rows share one file per partition, one journal commits them.

    Each object is still read, counted and validated on its own, keeps its own manifest, and is replaced
    exactly when reprocessed (a delete by `source_uri` rewrites the shared files without its rows). An
    object that cannot be read fails alone; the group's summaries come out when the group is committed.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.gid = attempt_id()
        name = f"group-{self.gid}"
        self.valid = SharedWriter(pipeline.lake, "processed", name, pipeline.target("processed"))
        self.invalid = SharedWriter(pipeline.lake, "errors", name, pipeline.target("errors"), ERROR_SCHEMA)
        self.members: list[_Member] = []
        self.summaries: list[Summary] = []
        self.sids: set[str] = set()
        self.bytes = 0
        self.read = SharedRead(pipeline)
        self.waiting: list[tuple[Attempt, ZoneWriter, ZoneWriter]] = []
        """Members read, whose JSON Lines wait for Arrow (`read`) before their rows are handed over."""

    def fits(self, ref: ObjectRef) -> bool:
        """Room for one more? (The same object twice would put its rows in the same files twice.)"""
        proc = self.pipeline.settings.processing
        return (
            len(self.summaries) < proc.group_objects
            and self.bytes < proc.group_bytes
            and source_id(ref.uri) not in self.sids
        )

    def add(self, ref: ObjectRef) -> None:
        pipeline = self.pipeline
        att = pipeline.begin(ref)
        self.sids.add(att.sid)
        valid, invalid = pipeline.writers(att)
        if not pipeline._read_whole(ref, att, valid, invalid, self.read):
            self.read.discard(att.summary)
            self.summaries.append(pipeline.fail(att))
            return
        self.bytes += att.summary.bytes
        att.summary.seconds = time.perf_counter() - att.started  # its share of `_settle` is added there
        self.waiting.append((att, valid, invalid))
        self.summaries.append(att.summary)
        if self.read.full():
            self._settle()

    def _settle(self) -> None:
        """The Arrow work the waiting members' lines wait for, then every waiting member's rows into the
        shared writers, marked as its own."""

        def place(dt: str, table: pa.Table, owners: list[tuple[ObjectRun, int]]) -> None:
            self.valid.add_shared(dt, table, [(source_id(run.uri), rows) for run, rows in owners])

        started = time.perf_counter()
        failed = {id(run.summary) for run in self.read.flush(place)}
        for att, valid, invalid in self.waiting:
            if id(att.summary) in failed:  # an internal error: nothing of it is kept, as for one object alone
                valid.abort()
                invalid.abort()
                self.pipeline.fail(att)
                continue
            own = []
            for writer, shared in ((valid, self.valid), (invalid, self.invalid)):
                tables, files = writer.drain()
                own += files
                for dt, parts in tables.items():
                    for table in parts:
                        shared.add_owned(dt, table, att.sid)
            self.members.append(_Member(att, own, valid.rescued))
        share = (time.perf_counter() - started) / max(len(self.waiting), 1)
        for att, _, _ in self.waiting:
            att.summary.seconds = round(att.summary.seconds + share, 6)
        self.waiting = []

    def commit(self) -> list[Summary]:
        """One commit for every member; a failure here (I/O) fails the members, never half-commits them."""
        pipeline = self.pipeline
        try:
            self._settle()
            if self.members:
                files = self.valid.finish() + self.invalid.finish()
                for member in self.members:
                    summary = member.att.summary
                    summary.rescued = member.rescued + self.valid.rescued_by.get(member.att.sid, 0)
                schemas = {"processed": self.valid.target.schema(), "errors": self.invalid.target.schema()}
                pipeline.commit(self.gid, [(m.att, m.own) for m in self.members], files, schemas)
        except Exception as exc:
            if pipeline.lake.exists(f"{journal.COMMITS}/{self.gid}.json"):
                # Journalled: the commit is decided and the next run finishes it.
                for member in self.members:
                    member.att.summary.status = "failed"
                    member.att.summary.error = f"commit interrupted ({exc}); {FINISHED_LATER}"
                return self.summaries
            self.valid.abort()
            self.invalid.abort()
            for member in self.members:
                pipeline._discard(member.own)
                member.att.summary.status, member.att.summary.error = "failed", internal_error(exc)
                pipeline.fail(member.att)
        return self.summaries
