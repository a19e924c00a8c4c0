"""JSON Lines: probe each line in C, read the valid ones with Arrow, row path for the rest.

Per batch of lines (one read of the stream), the main thread runs the probe while a worker thread
does the previous batch's Arrow work (JSON reading, flattening, time parsing, partitioning; all of
it releases the GIL), so one process keeps two cores busy. The output is the row path's: same
columns, values, line numbers and reasons; a batch the columnar path cannot reproduce exactly is
handed whole to the row path.
"""

from __future__ import annotations

import contextlib
import functools
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from loglake.columnar import Result, by_day, drive, land, lineage, rows_at
from loglake.errors import internal_error
from loglake.formats.jsonl import ArrowJson
from loglake.formats.reader import Batch
from loglake.records import NotColumnar
from loglake.rules import RuleSet
from loglake.rules.probe import Probe, event_times, levels
from loglake.transform import LINEAGE
from loglake.transform.columnar import flatten_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from loglake.pipeline import ObjectRun, Pipeline, Summary


def _utf8_lines(lines: list[bytes], keep: list[int]) -> tuple[list[int], list[int]]:
    """Arrow's reader accepts invalid UTF-8 in strings; the row path names it. Split the kept lines."""
    good, bad = [], []
    for i in keep:
        line = lines[i]
        if line.isascii():
            good.append(i)
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
        else:
            good.append(i)
    return good, bad


class _Batcher:
    depth = 1

    def __init__(self, pipeline: Pipeline, rules: RuleSet, probe: Probe, uri: str, fmt: str, now: datetime) -> None:
        proc = pipeline.settings.processing
        self.separator, self.max_depth = proc.flatten_separator, proc.flatten_max_depth
        self.reader = ArrowJson(pipeline.json_schemas.get(fmt))
        self.rules, self.ts_field = rules, probe.timestamp
        self.level_field, self.levels = probe.level, probe.levels
        self.uri, self.fmt, self.now = uri, fmt, now
        self.split = probe.passing

    def columns(self, first: int, lines: list[Any], keep: list[int]) -> Result:
        """Runs on the worker thread. A batch it cannot do exactly goes whole to the row path."""
        try:
            return self._columns(first, lines, keep)
        except (NotColumnar, pa.ArrowException):
            # ArrowException: Arrow itself failing on a shape (e.g. `[null, null]` arrays); rows are the reference.
            return Result([], 0, keep)

    def _columns(self, first: int, lines: list[bytes], keep: list[int]) -> Result:
        keep, slow, good = self.readable(lines, keep)
        if not keep:
            return Result([], 0, slow)
        out, times, rejected = self.table(self.reader, good, lineage(self.now, self.uri, self.fmt, first, keep))
        valid = None
        if rejected:
            slow.extend(keep[r] for r in rejected)
            valid = pc.invert(rows_at(len(keep), rejected))
        return by_day(out, times, self.now, slow, valid)

    @staticmethod
    def readable(lines: list[bytes], keep: list[int]) -> tuple[list[int], list[int], list[bytes]]:
        """The kept lines Arrow may read, those with bad UTF-8 (the row path names it), and the readable
        lines themselves."""
        good = [lines[i] for i in keep]
        if all(map(bytes.isascii, good)):
            return keep, [], good
        keep, bad = _utf8_lines(lines, keep)
        return keep, bad, [lines[i] for i in keep]

    def table(
        self, reader: ArrowJson, good: list[bytes], origin: list[pa.Array]
    ) -> tuple[pa.Table, pa.Array | None, list[int]]:
        """Lines → the output table with its lineage columns, its event times, and the rows (positions) that
        the row path must judge after all (an unusual time or level)."""
        table = reader.read(good)
        names, arrays = flatten_table(table, self.separator, self.max_depth)
        times: pa.Array | None = None
        rejected: list[int] = []
        # The probe let only text or null through for these two top-level fields: flattened, they are text.
        if self.ts_field in table.schema.names:
            at = names.index(self.ts_field)
            # Each row's window from its own processing time: rows of several objects may be read together.
            times, rejected = event_times(arrays[at], origin[0], self.rules)
            arrays[at] = times
        if self.level_field in table.schema.names:
            where = names.index(self.level_field)
            arrays[where], bad_levels = levels(arrays[where], self.levels)
            rejected = sorted(set(rejected).union(bad_levels)) if bad_levels else rejected
        return pa.Table.from_arrays([*arrays, *origin], names=[*names, *LINEAGE]), times, rejected


@dataclass
class _Pending:
    run: ObjectRun
    batcher: _Batcher
    first: int
    lines: list[bytes]
    keep: list[int]


MEMBER = "__member"


class SharedRead:
    """The probed lines of a group's small objects, read by Arrow together (group commit).

    Per small object Arrow's reader, flattening and the time and level kernels cost about a millisecond
    whatever its size; read together, a group's objects pay it once per `LIMIT` bytes. Rows stay each
    object's own (its lineage, its counts, its reasons); the group's shared files learn whose rows they
    hold. Where the objects cannot be read as one (types that conflict, a group spanning midnight,
    whose rows without a time take their own processing date), each is read alone, as without a group.
    """

    LIMIT = 1 << 20

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.pending: list[_Pending] = []
        self.bytes = 0

    def add(self, run: ObjectRun, batcher: _Batcher, first: int, lines: list[Any], keep: list[int]) -> None:
        self.pending.append(_Pending(run, batcher, first, lines, keep))
        self.bytes += sum(len(lines[i]) for i in keep)

    def full(self) -> bool:
        return self.bytes >= self.LIMIT

    def discard(self, summary: Summary) -> None:
        """An object that failed (known by its summary): nothing of it is kept."""
        self.pending = [p for p in self.pending if p.run.summary is not summary]

    def flush(self, place: Callable[[str, pa.Table, list[tuple[ObjectRun, int]]], None]) -> list[ObjectRun]:
        """The Arrow work for everything pending. Rows read together go to `place(dt, table, owners)`, owners
        being (object, rows) in the table's order; the rest lands in each object's own writers.

        Returns the objects that hit an internal error (their summary says which): none of their rows were
        placed, and the caller drops what their own writers hold — as when an object fails alone."""
        pending, self.pending, self.bytes = self.pending, [], 0
        failed: list[ObjectRun] = []

        def guarded(p: _Pending, result: Callable[[], Result], slow: list[int]) -> bool:
            try:
                land(self.pipeline, p.run, result(), p.first, p.lines, slow)
            except Exception as exc:  # a bug, never bad input: this object fails, the others go on
                p.run.summary.status, p.run.summary.error = "failed", internal_error(exc)
                failed.append(p.run)
                return False
            return True

        together = None
        alike = len({(p.run.now.date(), p.batcher.fmt) for p in pending}) == 1  # one date, one format's rules
        if alike and len(pending) > 1:
            with contextlib.suppress(Exception):  # anything unforeseen: each object read alone decides
                together = self._together(pending)
        if together is None:
            for p in pending:
                guarded(p, functools.partial(p.batcher.columns, p.first, p.lines, p.keep), [])
            return failed
        parts, counts, slow = together
        lost = [i for i, p in enumerate(pending) if not guarded(p, lambda: Result([], 0, []), sorted(slow[i]))]
        for dt, table, owners in parts:
            if lost:
                table = table.filter(pc.invert(pc.is_in(table.column(MEMBER), pa.array(lost, pa.int32()))))
                owners = [(i, rows) for i, rows in owners if i not in lost]
            place(dt, table.drop_columns([MEMBER]), [(pending[i].run, rows) for i, rows in owners])
        for i, (p, rows) in enumerate(zip(pending, counts, strict=True)):
            if i not in lost:
                p.run.summary.lines += rows
                p.run.summary.processed += rows
        return failed

    def _together(
        self, pending: list[_Pending]
    ) -> tuple[list[tuple[str, pa.Table, list[tuple[int, int]]]], list[int], list[list[int]]]:
        """(dt, table, [(pending index, rows)]) per partition, rows read per object, lines for the row path."""
        good: list[bytes] = []
        kept: list[list[int]] = []
        slow: list[list[int]] = []
        columns: list[list[pa.Array]] = [[], [], [], [], []]  # the lineage columns, then MEMBER
        for index, p in enumerate(pending):
            keep, bad, readable = _Batcher.readable(p.lines, p.keep)
            kept.append(keep)
            slow.append(bad)
            good += readable
            own = [
                *lineage(p.run.now, p.run.uri, p.batcher.fmt, p.first, keep),
                pa.repeat(pa.scalar(index, pa.int32()), len(keep)),
            ]
            for parts, column in zip(columns, own, strict=True):
                parts.append(column)
        if not good:
            return [], [0] * len(pending), slow
        batcher = pending[0].batcher
        reader = ArrowJson(self.pipeline.json_schemas.get(batcher.fmt))
        joined = [pa.concat_arrays(parts) for parts in columns]
        out, times, rejected = batcher.table(reader, good, joined[:4])
        out = out.append_column(MEMBER, joined[4])
        valid = None
        if rejected:
            starts = list(accumulate((len(k) for k in kept), initial=0))
            for r in rejected:
                index = bisect_right(starts, r) - 1
                slow[index].append(kept[index][r - starts[index]])
            valid = pc.invert(rows_at(len(good), rejected))
        result = by_day(out, times, batcher.now, [], valid)
        counts = [0] * len(pending)
        parts = []
        for dt, table in result.parts:
            owners = []
            runs = pc.value_counts(table.column(MEMBER).combine_chunks())  # in order of the rows: members are sorted
            for index, rows in zip(runs.field("values").to_pylist(), runs.field("counts").to_pylist(), strict=True):
                owners.append((index, rows))
                counts[index] += rows
            parts.append((dt, table, owners))
        self.pipeline.json_schemas[batcher.fmt] = reader.schema  # type: ignore[assignment]
        return parts, counts, slow


def run(pipeline: Pipeline, probe: Probe, run: ObjectRun, batches: Iterator[Batch]) -> None:
    """Adds to the summary's counts, like the row path it calls for the lines it does not take."""
    batcher = _Batcher(pipeline, pipeline.rules_for(run.fmt), probe, run.uri, run.fmt.name, run.now)
    if run.shared is not None:  # a group's small object: its Arrow work waits for the group's others
        for first, lines in batches:
            keep, rest = batcher.split(lines)
            if keep:
                run.shared.add(run, batcher, first, lines, keep)
            land(pipeline, run, Result([], 0, []), first, lines, rest)
        return
    drive(pipeline, run, batcher, batches)
    if batcher.reader.schema is not None:
        pipeline.json_schemas[run.fmt.name] = batcher.reader.schema
