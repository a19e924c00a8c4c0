"""The columnar paths: whole batches of lines through Arrow, the row path only for lines they cannot do exactly.

`jsonl` serves JSON Lines, `text` the regex line formats (syslog, access logs, …). Both hand the
row path every line whose outcome they cannot reproduce exactly — the row path is the reference —
and run each batch's Arrow work on a second thread while the next batch is read (`drive`).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from loglake.records import TIMESTAMP

if TYPE_CHECKING:
    from collections.abc import Iterator

    from loglake.formats.reader import Batch
    from loglake.pipeline import ObjectRun, Pipeline


class Result:
    """What the Arrow work made of one batch: tables per partition, and lines left to the row path."""

    __slots__ = ("joined", "parts", "rows", "slow")

    def __init__(self, parts: list[tuple[str, pa.Table]], rows: int, slow: list[int], joined: int = 0) -> None:
        self.parts, self.rows, self.slow = parts, rows, slow
        self.joined = joined
        """Lines joined into one of the rows (multi-line formats' continuation lines)."""


def lineage(now: datetime, uri: str, fmt: str, first: int, keep: list[int]) -> list[pa.Array]:
    """The lineage columns (`LINEAGE`, in order) of rows made of lines `keep` of a batch starting at `first`."""
    n = len(keep)
    return [
        pa.repeat(pa.scalar(now, TIMESTAMP), n),
        pa.repeat(pa.scalar(uri), n),
        pc.add(pa.array(keep, pa.int64()), first),
        pa.repeat(pa.scalar(fmt), n),
    ]


def rows_at(n: int, rows: list[int]) -> pa.Array:
    """A mask of `n` rows, true at `rows` (indices, any order)."""
    return pc.is_in(pc.indices_nonzero(pa.repeat(True, n)), pa.array(rows, pa.uint64()))


def by_day(
    table: pa.Table, times: pa.Array | None, now: datetime, slow: list[int], keep: pa.Array | None = None
) -> Result:
    """A batch's valid rows split into `dt` partitions by event time (processing date when there is none).

    `keep`: which rows are valid, when not all are — dropped in the same pass that splits the days,
    instead of copying the whole table once more before."""
    if keep is not None:
        n = pc.sum(pc.cast(keep, pa.int64())).as_py() or 0
        if n == len(table):
            keep = None
    else:
        n = len(table)
    if n == 0:
        return Result([], 0, slow)
    if times is None or times.null_count == len(times):
        return Result([(now.date().isoformat(), table if keep is None else table.filter(keep))], n, slow)
    days = pc.fill_null(pc.cast(times, pa.date32()), now.date())
    distinct = pc.unique(days if keep is None else days.filter(keep))
    if len(distinct) == 1:
        return Result([(distinct[0].as_py().isoformat(), table if keep is None else table.filter(keep))], n, slow)
    parts = []
    for day in distinct:
        rows = pc.equal(days, day)
        parts.append((day.as_py().isoformat(), table.filter(rows if keep is None else pc.and_(rows, keep))))
    return Result(parts, n, slow)


class Batcher(Protocol):
    depth: int
    """Batches in flight on worker threads: 1 when reading them is itself heavy (the JSON probe), 2 when
    the Arrow work is nearly all of it (regex formats), so that one process keeps both cores busy."""

    def split(self, lines: list[Any]) -> tuple[list[int], list[int]]:
        """On the reading thread: (lines for the Arrow work, lines for the row path), both in order."""

    def columns(self, first: int, lines: list[Any], keep: list[int]) -> Result:
        """On the worker thread; whatever it cannot do exactly comes back in `Result.slow`."""


def land(pipeline: Pipeline, run: ObjectRun, result: Result, first: int, lines: list[Any], rest: list[int]) -> None:
    """A batch's Arrow rows into the run's writers and counts; its other lines through the row path."""
    summary = run.summary
    for dt, table in result.parts:
        run.valid.add_table(dt, table)
    summary.lines += result.rows + result.joined
    summary.processed += result.rows
    summary.joined += result.joined
    slow = sorted(rest + result.slow) if result.slow else rest  # disjoint: the worker only had kept lines
    if slow:
        pipeline.run_rows(run, run.fmt.records((first + i, lines[i]) for i in slow))


def drive(pipeline: Pipeline, run: ObjectRun, batcher: Batcher, batches: Iterator[Batch]) -> None:
    """Adds to the summary's counts, like the row path it calls for the lines the batcher does not take."""
    split, columns = batcher.split, batcher.columns
    if not pipeline.overlap:
        for first, lines in batches:
            keep, rest = split(lines)
            land(pipeline, run, columns(first, lines, keep), first, lines, rest)
        return
    # `depth` worker threads on the batches while the next is read (one more waits its turn); results
    # land in order. The thread count is what keeps one process within its memory budget.
    pending: deque[tuple[Future[Result], int, list[Any], list[int]]] = deque()
    pool = pipeline.worker_threads(batcher.depth)
    try:
        for first, lines in batches:
            keep, rest = split(lines)
            pending.append((pool.submit(columns, first, lines, keep), first, lines, rest))
            if len(pending) > batcher.depth:
                job = pending.popleft()
                land(pipeline, run, job[0].result(), *job[1:])
    finally:
        while pending:
            job = pending.popleft()
            land(pipeline, run, job[0].result(), *job[1:])
