"""JSON Lines: probe each line in C, read the valid ones with Arrow, row path for the rest.

Per batch of lines (one read of the stream), the main thread runs the probe while a worker thread
does the previous batch's Arrow work (JSON reading, flattening, time parsing, partitioning; all of
it releases the GIL), so one process keeps two cores busy. The output is the row path's: same
columns, values, line numbers and reasons; a batch the columnar path cannot reproduce exactly is
handed whole to the row path.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from loglake.columnar import Result, by_day, drive, rows_at
from loglake.formats.jsonl import ArrowJson
from loglake.formats.reader import Batch
from loglake.records import TIMESTAMP, NotColumnar
from loglake.rules import RuleSet
from loglake.rules.probe import Probe, event_times, levels
from loglake.transform import LINEAGE
from loglake.transform.columnar import flatten_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from loglake.pipeline import ObjectRun, Pipeline


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
        slow: list[int] = []
        good = [lines[i] for i in keep]
        if not all(map(bytes.isascii, good)):
            keep, slow = _utf8_lines(lines, keep)
            good = [lines[i] for i in keep]
        if not keep:
            return Result([], 0, slow)
        table = self.reader.read(good)
        names, arrays = flatten_table(table, self.separator, self.max_depth)
        times: pa.Array | None = None
        rejected: list[int] = []
        at = -1
        # The probe let only text or null through for these two top-level fields: flattened, they are text.
        if self.ts_field in table.schema.names:
            at = names.index(self.ts_field)
            times, rejected = event_times(arrays[at], self.now, self.rules)
            arrays[at] = times
        if self.level_field in table.schema.names:
            where = names.index(self.level_field)
            arrays[where], bad_levels = levels(arrays[where], self.levels)
            rejected = sorted(set(rejected).union(bad_levels)) if bad_levels else rejected
        n = len(keep)
        line_numbers = pc.add(pa.array(keep, pa.int64()), first)
        lineage = [
            pa.repeat(pa.scalar(self.now, TIMESTAMP), n),
            pa.repeat(pa.scalar(self.uri), n),
            line_numbers,
            pa.repeat(pa.scalar(self.fmt), n),
        ]
        out = pa.Table.from_arrays([*arrays, *lineage], names=[*names, *LINEAGE])
        valid = None
        if rejected:
            slow.extend(keep[r] for r in rejected)
            valid = pc.invert(rows_at(n, rejected))
        return by_day(out, times, self.now, slow, valid)


def run(pipeline: Pipeline, probe: Probe, run: ObjectRun, batches: Iterator[Batch]) -> None:
    """Adds to the summary's counts, like the row path it calls for the lines it does not take."""
    batcher = _Batcher(pipeline, pipeline.rules_for(run.fmt), probe, run.uri, run.fmt.name, run.now)
    drive(pipeline, run, batcher, batches)
    if batcher.reader.schema is not None:
        pipeline.json_schemas[run.fmt.name] = batcher.reader.schema
