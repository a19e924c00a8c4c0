"""Exploring the processed table the way log tools do (Kibana Discover, Datasette facets): a search of
`message` text and `field:value` filters over a time range, a time histogram stacked by level, the latest
matching events, and each column's top values. Everything is SQL over the read-only engine; values
reach SQL only as quoted literals and column names only when the table has them.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from loglake.errors import QueryError
from loglake.query.duckdb_engine import DuckDBEngine, _lit, _q

TABLE = "processed_logs"
NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
FACET_SKIP = {"message", "processed_timestamp", "timestamp", "source_line", "_rescued_data"}
_TERM = re.compile(r'(?:(?P<field>[A-Za-z_][\w.]*):)?(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))')


@dataclass
class Search:
    """`timeout "db error" level:ERROR service:checkout`: words and phrases must all occur in `message`
    (case-insensitive); `field:value` keeps rows whose column equals the value."""

    text: list[str] = field(default_factory=list)
    filters: list[tuple[str, str]] = field(default_factory=list)


def parse_search(query: str, columns: set[str]) -> Search:
    search = Search()
    for m in _TERM.finditer(query or ""):
        value = m.group("quoted") if m.group("quoted") is not None else m.group("bare")
        name = m.group("field")
        if name is None:
            if value:
                search.text.append(value)
        elif name not in columns:
            known = ", ".join(sorted(columns))
            raise QueryError(f"no column `{name}` to filter on", hint=f"the columns: {known}")
        else:
            search.filters.append((name, value))
    return search


@dataclass
class Explorer:
    """The processed table of one engine (one snapshot), searched over `[start_ms, end_ms)`."""

    engine: DuckDBEngine
    timeout: float = 10.0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        with self.lock:
            self.columns = dict(self.engine.columns(TABLE))
        has_time = "timestamp" in self.columns
        self.time = 'coalesce("timestamp", processed_timestamp)' if has_time else "processed_timestamp"

    def where(self, search: Search, start_ms: int | None, end_ms: int | None) -> str:
        conds = []
        if start_ms is not None:
            conds.append(f"{self.time} >= make_timestamp({int(start_ms) * 1000})")
        if end_ms is not None:
            conds.append(f"{self.time} < make_timestamp({int(end_ms) * 1000})")
        for word in search.text:
            like = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conds.append(f"message ILIKE {_lit('%' + like + '%')} ESCAPE '\\'")
        for name, value in search.filters:
            if value.upper() == "NULL":
                conds.append(f"{_q(name)} IS NULL")
            else:
                conds.append(f"CAST({_q(name)} AS VARCHAR) = {_lit(value)}")
        return " WHERE " + " AND ".join(conds) if conds else ""

    def sql(self, sql: str) -> pa.Table:
        """Run one statement under the time limit."""
        with self.lock, limited(self.engine, self.timeout):
            return self.engine.stream(sql).table()

    def time_range(self) -> tuple[int | None, int | None]:
        row = self.sql(f"SELECT epoch_ms(min({self.time})) AS lo, epoch_ms(max({self.time})) AS hi FROM {TABLE}")
        lo, hi = row.column("lo")[0].as_py(), row.column("hi")[0].as_py()
        return lo, (hi + 1 if hi is not None else None)

    def histogram(self, search: Search, start_ms: int | None, end_ms: int | None, buckets: int = 60) -> dict[str, Any]:
        """Counts per time bucket and level; the bucket a round number of seconds giving ~`buckets` bars."""
        if start_ms is None or end_ms is None:
            lo, hi = self.time_range()
            start_ms, end_ms = start_ms if start_ms is not None else lo, end_ms if end_ms is not None else hi
        if start_ms is None or end_ms is None:
            return {"start": None, "end": None, "bucket_ms": None, "times": [], "levels": {}, "total": 0}
        span = max(1, (end_ms - start_ms) / 1000 / buckets)
        width = next((s for s in NICE_SECONDS if s >= span), int(-(-span // 86400)) * 86400)
        first = start_ms - start_ms % (width * 1000)
        level = "coalesce(level, 'NULL')" if "level" in self.columns else "'ALL'"
        table = self.sql(
            f"SELECT (epoch_ms({self.time}) - {first}) // {width * 1000} AS b, {level} AS level, count(*) AS n "
            f"FROM {TABLE}{self.where(search, start_ms, end_ms)} GROUP BY ALL ORDER BY 1"
        )
        count = int((end_ms - first) // (width * 1000)) + 1
        times = [first + i * width * 1000 for i in range(count)]
        levels: dict[str, list[int]] = {}
        for b, name, n in zip(*(table.column(c).to_pylist() for c in ("b", "level", "n")), strict=True):
            if 0 <= b < count:
                levels.setdefault(str(name), [0] * count)[int(b)] += int(n)
        total = sum(sum(v) for v in levels.values())
        return {
            "start": start_ms,
            "end": end_ms,
            "bucket_ms": width * 1000,
            "times": times,
            "levels": levels,
            "total": total,
        }

    def events(self, search: Search, start_ms: int | None, end_ms: int | None, limit: int = 100) -> dict[str, Any]:
        where = self.where(search, start_ms, end_ms)
        rows = self.sql(f"SELECT * FROM {TABLE}{where} ORDER BY {self.time} DESC, source_line DESC LIMIT {int(limit)}")
        total = self.sql(f"SELECT count(*) AS n FROM {TABLE}{where}").column("n")[0].as_py()
        return {"columns": rows.column_names, "rows": rows.to_pylist(), "total": total}

    def facets(self, search: Search, start_ms: int | None, end_ms: int | None, top: int = 5) -> dict[str, Any]:
        """The top values of each text-like column (the sidebar): one UNION ALL query over the matches."""
        names = [n for n, t in self.columns.items() if n not in FACET_SKIP and t in ("VARCHAR", "BIGINT", "BOOLEAN")]
        names = names[:24]
        if not names:
            return {}
        where = self.where(search, start_ms, end_ms)
        parts = [
            f"SELECT {_lit(n)} AS col, CAST({_q(n)} AS VARCHAR) AS value, count(*) AS n FROM matches "
            f"WHERE {_q(n)} IS NOT NULL GROUP BY 2"
            for n in names
        ]
        table = self.sql(
            f"WITH matches AS (SELECT * FROM {TABLE}{where}), counted AS ({' UNION ALL '.join(parts)}) "
            f"SELECT col, value, n FROM (SELECT *, row_number() OVER (PARTITION BY col ORDER BY n DESC, value) AS r "
            f"FROM counted) WHERE r <= {int(top)} ORDER BY col, n DESC, value"
        )
        out: dict[str, list[tuple[str, int]]] = {n: [] for n in names}
        for col, value, n in zip(*(table.column(c).to_pylist() for c in ("col", "value", "n")), strict=True):
            out[col].append((value, int(n)))
        return {k: v for k, v in out.items() if v}


def errors_where(reason: str | None = None, source: str | None = None, since: datetime | None = None) -> str:
    """The errors table's filter as `loglake errors` and the console's errors page take it: a reason (any of
    a line's reasons), a source glob (a bare text matches anywhere in the URI), processed since a time."""
    conds = []
    if since is not None:
        conds.append(f"processed_timestamp >= TIMESTAMP {_lit(since.isoformat(sep=' '))}")
    if reason:
        conds.append(f"(error_code = {_lit(reason)} OR list_contains(error_codes, {_lit(reason)}))")
    if source:
        pattern = source if any(c in source for c in "*?[") else f"*{source}*"
        conds.append(f"source_uri GLOB {_lit(pattern)}")
    return " WHERE " + " AND ".join(conds) if conds else ""


ERROR_COLUMNS = "processed_timestamp, source_uri, source_line, error_code, error_message, raw_line, raw_line_b64"


def latest_errors_sql(where: str, limit: int) -> str:
    """The latest `limit` errors matching `where`, oldest first (a tail)."""
    return (
        f"SELECT * FROM (SELECT {ERROR_COLUMNS} FROM errors_logs{where} "
        f"ORDER BY processed_timestamp DESC, source_uri DESC, source_line DESC LIMIT {int(limit)}) "
        "ORDER BY processed_timestamp, source_uri, source_line"
    )


@contextlib.contextmanager
def limited(engine: DuckDBEngine, timeout: float) -> Iterator[None]:
    """DuckDB is interrupted once `timeout` seconds have passed; the query then fails saying so."""
    timer = threading.Timer(timeout, engine.con.interrupt)
    timer.start()
    try:
        yield
    except QueryError as exc:
        if "INTERRUPT" in str(exc).upper():
            raise QueryError(f"the query took longer than {timeout:g} s and was stopped") from exc
        raise
    finally:
        timer.cancel()


def capped(engine: DuckDBEngine, sql: str, max_rows: int, timeout: float, lock: threading.RLock) -> dict[str, Any]:
    """A SQL page result: at most `max_rows` rows, the total counted to the end, under the time limit."""
    import time

    with lock, limited(engine, timeout):
        started = time.perf_counter()
        stream = engine.stream(sql)
        kept: list[pa.RecordBatch] = []
        total = 0
        for batch in stream.batches:
            if total < max_rows:
                kept.append(batch.slice(0, max_rows - total))
            total += batch.num_rows
        table = pa.Table.from_batches(kept, schema=stream.schema)
        return {
            "columns": table.column_names,
            "types": [str(f.type) for f in stream.schema],
            "rows": table.to_pylist(),
            "total": total,
            "seconds": round(time.perf_counter() - started, 4),
        }


def csv_chunks(engine: DuckDBEngine, sql: str) -> Iterator[bytes]:
    """A whole result as CSV, chunk by chunk (the SQL page's download)."""
    import io

    from loglake.query.results import CsvOut

    stream = engine.stream(sql)
    buf = io.BytesIO()
    out = CsvOut(buf, stream.schema)
    for batch in stream.batches:
        out.write(batch)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    out.close()
    yield buf.getvalue()
