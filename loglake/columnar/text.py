"""Regex line formats (syslog, access logs, …) a batch at a time: RE2 through Arrow instead of `re` per line.

Exactness comes from taking only lines where both engines must agree and checking every
conversion against what the row path would do; everything else goes to the row path:
- only printable-ASCII lines (tabs allowed): there `\\d`, `\\s`, `\\w` and `.` mean the same in RE2 and `re`;
- an empty group value means "not taken" for groups that cannot match the empty string, "matched
  empty" for groups that always take part; otherwise RE2's spans tell (a second pass, only over
  batches where it matters);
- numbers only where `int()`/`float()` and Arrow read the same digits; times only in the layout's
  fixed-width spelling (no single-digit day), with impossible dates (30 February) refused;
- multi-line formats (log4j, spark, …): batches cut where a record starts, continuation lines joined
  only where both the start and every line joined to it are certain (`_Batcher._records`).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import accumulate, chain
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from loglake.columnar import Result, by_day, drive, lineage, rows_at
from loglake.formats import builtin
from loglake.formats import timestamps as ts
from loglake.formats.base import RegexFormat
from loglake.formats.layouts import STARTS_PATTERN, any_time
from loglake.formats.reader import lines_of
from loglake.records import TIMESTAMP
from loglake.rules import RuleSet
from loglake.rules.probe import Probe, event_times, levels
from loglake.transform import LINEAGE, RESERVED, safe_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    from loglake.formats.reader import Batch
    from loglake.pipeline import ObjectRun, Pipeline

Columns = dict[str, pa.Array]
_ODD_BYTES = r"[^\t\x20-\x7e]"  # non-ASCII or control characters
_PRINTABLE = bytes([9, *range(0x20, 0x7F)])
_FLOAT = r"^-?\d{1,15}(\.\d{1,15})?$"
_SYSLOG_TIME = r"^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}$"
CARRY_BYTES = 8 << 20
"""Multi-line formats: how long a stretch without a record start may wait for one (`_Aligned`)."""
_NOT_STARTS = re.compile(rb"[\x00\x02]+")  # runs of lines in `_records` that are not certain record starts


def _re2(pattern: str) -> str:
    """`re` syntax → RE2's, for what the built-in and usual user patterns contain."""
    return "^(?:" + re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern) + ")"


def _empty_values(pattern: str) -> dict[str, str]:
    """What an empty value of each group means: `absent` (the group cannot match the empty string, so it
    did not take part), `empty` (it always takes part and matched nothing), or `ask` (it can match the empty
    string inside an optional part: RE2's spans tell). `ask` for all, where the pattern cannot be read."""
    names = re.compile(pattern).groupindex
    try:
        from re import _constants as c  # type: ignore[attr-defined]
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern)
    except Exception:
        return dict.fromkeys(names, "ask")
    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}
    meaning: dict[int, str] = {}

    def walk(node: Any, optional: bool) -> None:
        for op, av in node.data:
            if op is c.SUBPATTERN:
                if av[0] is not None:
                    meaning[av[0]] = "absent" if av[-1].getwidth()[0] > 0 else "ask" if optional else "empty"
                walk(av[-1], optional)
            elif op in repeats:
                walk(av[2], optional or av[0] == 0)
            elif op is c.BRANCH:
                for alternative in av[1]:
                    walk(alternative, True)
            else:  # anything else holding groups (conditionals, atomic groups): assume the worst
                for item in av if isinstance(av, (list, tuple)) else (av,):
                    if isinstance(item, _parser.SubPattern):
                        walk(item, True)

    walk(parsed, False)
    return {name: meaning.get(index, "ask") for name, index in names.items()}


def _blank(column: pa.Array) -> pa.Array:
    """Empty or only whitespace (on printable ASCII: tabs and spaces), as `str.isspace` and `not text` judge.
    Two simple kernels instead of a regex: 7 times faster."""
    return pc.or_(pc.equal(pc.binary_length(column), 0), pc.ascii_is_space(column))


def _digits(column: pa.Array) -> pa.Array:
    """`\\d{1,18}` on ASCII: a number `int()` and Arrow read alike, without a regex."""
    return pc.and_(pc.ascii_is_decimal(column), pc.less_equal(pc.binary_length(column), 18))


def _null_if(column: pa.Array, mask: pa.Array) -> pa.Array:
    return pc.if_else(mask, pa.scalar(None, column.type), column)


# --- times: (text column) → (times, rows whose time the parser would also give) -----------------------


_MONTHS = pa.array([m.lower() for m in ts.MONTHS])
_MONTH_DAYS = pa.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int64())
_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "y": 2, "b": 3, "z": 5}
_SHAPES = {"b": "[A-Za-z]{3}", "z": "[+-]([01]\\d|2[0-3])[0-5]\\d"}


def _mod(x: Any, k: int) -> Any:
    return pc.subtract(x, pc.multiply(pc.divide(x, k), k))


def _civil_seconds(year: Any, month: Any, day: Any, hms: tuple[Any, Any, Any]) -> tuple[pa.Array, pa.Array]:
    """Seconds since the epoch of naive date-times given as integer columns (or a scalar year),
    and which of them `datetime(...)` accepts. Days from the civil calendar as in Hinnant's
    `days_from_civil`; every value here is positive, where Arrow's integer division floors."""
    hh, mm, ss = hms
    leap = pc.or_(pc.and_(pc.equal(_mod(year, 4), 0), pc.not_equal(_mod(year, 100), 0)), pc.equal(_mod(year, 400), 0))
    last = pc.add(
        _MONTH_DAYS.take(pc.subtract(pc.min_element_wise(pc.max_element_wise(month, 1), 12), 1)),
        pc.cast(pc.and_(leap, pc.equal(month, 2)), pa.int64()),
    )
    valid = pc.and_(pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12)), pc.greater_equal(day, 1))
    valid = pc.and_(valid, pc.less_equal(day, last))
    valid = pc.and_(valid, pc.and_(pc.less(hh, 24), pc.and_(pc.less(mm, 60), pc.less(ss, 60))))
    valid = pc.and_(valid, pc.and_(pc.greater(year, 1), pc.less(year, 9999)))
    early = pc.cast(pc.less_equal(month, 2), pa.int64())
    y = pc.subtract(year, early)
    era = pc.divide(y, 400)
    yoe = pc.subtract(y, pc.multiply(era, 400))
    mp = pc.add(month, pc.subtract(pc.multiply(early, 12), 3))  # March is 0
    doy = pc.add(pc.divide(pc.add(pc.multiply(mp, 153), 2), 5), pc.subtract(day, 1))
    doe = pc.add(pc.add(pc.multiply(yoe, 365), pc.divide(yoe, 4)), pc.subtract(doy, pc.divide(yoe, 100)))
    days = pc.subtract(pc.add(pc.multiply(era, 146097), doe), 719468)
    seconds = pc.add(pc.multiply(days, 86400), pc.add(pc.multiply(hh, 3600), pc.add(pc.multiply(mm, 60), ss)))
    return seconds, pc.fill_null(valid, False)


def _field(text: pa.Array, start: int, width: int) -> pa.Array:
    return pc.cast(pc.utf8_slice_codeunits(text, start, start + width), pa.int64())


def _month(text: pa.Array, start: int) -> pa.Array:
    """`Jan`…`Dec` in any case, as `%b` reads them (C locale); 0 for anything else."""
    found = pc.index_in(pc.utf8_lower(pc.utf8_slice_codeunits(text, start, start + 3)), _MONTHS)
    return pc.fill_null(pc.add(pc.cast(found, pa.int64()), 1), 0)


def _to_time(seconds: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(seconds, pa.timestamp("s")), TIMESTAMP)


def _strptime_times(parser: ts.Strptime) -> Callable[[pa.Array], tuple[pa.Array, pa.Array]] | None:
    """Fixed-width layouts only (two-digit day, three-letter month, `+hhmm` zone): other spellings
    `strptime` also accepts go to the row path."""
    at: dict[str, int] = {}
    shape, pos = "^", 0
    for literal, directive in re.findall(r"((?:[^%]|%%)*)(%.|%$|$)", parser.fmt):
        literal = literal.replace("%%", "%")
        shape += re.escape(literal)
        pos += len(literal)
        directive = directive[1:]
        if not directive:
            if "%" in parser.fmt[-1:] and not parser.fmt.endswith("%%"):
                return None  # a lone `%` at the end: strptime refuses every text
            continue
        if directive not in _WIDTHS or directive in at:
            return None  # %a, %f, %p, … or a field given twice
        at[directive] = pos
        shape += _SHAPES.get(directive, f"\\d{{{_WIDTHS[directive]}}}")
        pos += _WIDTHS[directive]
    shape += "$"
    if not {"d", "H", "M"} <= at.keys() or not {"Y", "y"} & at.keys() or not {"m", "b"} & at.keys():
        return None

    def times(text: pa.Array) -> tuple[pa.Array, pa.Array]:
        shaped = pc.fill_null(pc.match_substring_regex(text, shape), False)
        text = pc.if_else(shaped, text, pa.scalar("0" * pos))  # rows the row path judges parse as zeros here
        if "Y" in at:
            year = _field(text, at["Y"], 4)
        else:
            yy = _field(text, at["y"], 2)
            year = pc.add(yy, pc.if_else(pc.less_equal(yy, 68), 2000, 1900))
        month = _month(text, at["b"]) if "b" in at else _field(text, at["m"], 2)
        second = _field(text, at["S"], 2) if "S" in at else 0
        hms = (_field(text, at["H"], 2), _field(text, at["M"], 2), second)
        seconds, valid = _civil_seconds(year, month, _field(text, at["d"], 2), hms)
        if "z" in at:
            z = at["z"]
            offset = pc.add(pc.multiply(_field(text, z + 1, 2), 3600), pc.multiply(_field(text, z + 3, 2), 60))
            east = pc.equal(pc.utf8_slice_codeunits(text, z, z + 1), "+")
            seconds = pc.subtract(seconds, pc.if_else(east, offset, pc.negate(offset)))
        return _to_time(seconds), pc.and_(shaped, valid)

    return times


def _syslog_times(parser: ts.Syslog3164) -> Callable[[pa.Array], tuple[pa.Array, pa.Array]]:
    def times(text: pa.Array) -> tuple[pa.Array, pa.Array]:
        shaped = pc.fill_null(pc.match_substring_regex(text, _SYSLOG_TIME), False)
        text = pc.if_else(shaped, text, pa.scalar("Jan 01 00:00:00"))
        month = pc.index_in(pc.utf8_slice_codeunits(text, 0, 3), pa.array(list(ts.MONTHS)))  # case as `MONTHS`
        month = pc.fill_null(pc.add(pc.cast(month, pa.int64()), 1), 0)
        day = pc.cast(pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(text, 4, 6)), pa.int64())
        hms = (_field(text, 7, 2), _field(text, 10, 2), _field(text, 13, 2))
        reference = parser.reference()
        latest = (reference + timedelta(days=1) - datetime(1970, 1, 1)) // timedelta(seconds=1)
        result: pa.Array | None = None
        ok = pa.repeat(pa.scalar(False), len(text))
        for year in (reference.year, reference.year - 1):
            seconds, valid = _civil_seconds(pa.scalar(year, pa.int64()), month, day, hms)
            good = pc.and_(pc.and_(valid, shaped), pc.less_equal(seconds, latest))
            result = seconds if result is None else pc.if_else(pc.and_(good, pc.invert(ok)), seconds, result)
            ok = pc.or_(ok, good)
            if pc.all(ok).as_py():
                break  # every time is in the reference year: the year before is not needed
        assert result is not None
        return _to_time(result), ok

    return times


# --- what formats derive from their fields (the row path's `level` and `post` functions) ----------------


def _syslog_level(cols: Columns) -> Columns:
    pri = cols.get("pri")
    if pri is None:
        return {}
    valid = pc.fill_null(pc.less_equal(pri, 191), False)
    pri = _null_if(pri, pc.invert(valid))
    facility = pc.divide(pri, 8)
    severity = pc.subtract(pri, pc.multiply(facility, 8))
    return {
        "facility": facility,
        "severity": severity,
        "level": pa.array(builtin.SYSLOG_SEVERITY).take(severity),
    }


def _http_level(cols: Columns) -> Columns:
    status = cols.get("status")
    if status is None:
        status = cols.get("elb_status_code")
    if status is None or status.type != pa.int64():
        return {}
    level = pc.if_else(
        pc.greater_equal(status, 500), "ERROR", pc.if_else(pc.greater_equal(status, 400), "WARN", "INFO")
    )
    return {"level": level}


def _apache_level(cols: Columns) -> Columns:
    level = cols.get("level")
    return {} if level is None else {"level": pc.utf8_rtrim(level, characters="0123456789")}


def _split_request(cols: Columns) -> Columns:
    request = cols.get("request")
    if request is None:
        return {}
    parts = pc.split_pattern(request, " ")
    three = pc.fill_null(pc.equal(pc.list_value_length(parts), 3), False)
    parts = _null_if(parts, pc.invert(three))
    return {name: pc.list_element(parts, i) for i, name in enumerate(("method", "path", "protocol"))}


LEVELS: dict[Any, Callable[[Columns], Columns]] = {
    builtin._syslog_level: _syslog_level,
    builtin._http_level: _http_level,
    builtin._apache_level: _apache_level,
}


def _merge_alternates(cols: Columns) -> Columns:
    out: Columns = {}
    for alt, name in builtin.ALTERNATES:
        if alt in cols:
            out[name] = pc.coalesce(cols[name], cols[alt]) if name in cols else cols[alt]
            out[alt] = pa.nulls(len(cols[alt]), cols[alt].type)  # an all-null column is not written
    return out


POSTS: dict[Any, Callable[[Columns], Columns]] = {
    builtin._split_request: _split_request,
    builtin.merge_alternates: _merge_alternates,
}


class TextPlan:
    """How one regex format's batches become columns; `for_format` says None when it cannot be done exactly."""

    def __init__(self, fmt: RegexFormat, rules: RuleSet, probe: Probe) -> None:
        self.fmt = fmt
        self.pattern = _re2(fmt.regex.pattern)
        self.groups = list(fmt.regex.groupindex)
        self.empty = _empty_values(fmt.regex.pattern)
        self.ask = [g for g in self.groups if self.empty[g] == "ask"]
        self.rules, self.probe = rules, probe
        self.times: Callable[[pa.Array], tuple[pa.Array, pa.Array]] | None = None
        self.level = LEVELS.get(fmt.level) if fmt.level is not None else None
        self.post = POSTS.get(fmt.post) if fmt.post is not None else None

    @classmethod
    def for_format(cls, fmt: Any, rules: RuleSet) -> TextPlan | None:
        if type(fmt) is not RegexFormat or fmt.start is not None:
            return None
        probe = Probe.for_rules(rules)
        if probe is None or rules.timestamp_field != "timestamp":
            return None
        if (fmt.level is not None and fmt.level not in LEVELS) or (fmt.post is not None and fmt.post not in POSTS):
            return None
        plan = cls(fmt, rules, probe)
        if "timestamp" in plan.groups and fmt.timestamp is not None:
            if type(fmt.timestamp) is ts.Strptime:
                plan.times = _strptime_times(fmt.timestamp)
            elif type(fmt.timestamp) is ts.Syslog3164:
                plan.times = _syslog_times(fmt.timestamp)
            if plan.times is None and fmt.timestamp not in (ts.iso, any_time):  # ISO: the timestamp rule's check
                return None
        derived = {"message", "level", "facility", "severity", "method", "path", "protocol"}
        if any(safe_name(n) != n or n in RESERVED for n in (*plan.groups, *derived)):
            return None
        try:
            pc.extract_regex(pa.array(["", "x"]), plan.pattern)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None  # a pattern RE2 does not take (look-around, back-references, unnamed groups)
        return plan


def _lines_array(lines: list[bytes], data: bytes) -> pa.Array:
    """The lines as one buffer (`data`, their concatenation) and offsets, without a Python object per value."""
    offsets = array("i", [0])
    offsets.extend(accumulate(map(len, lines)))
    return pa.Array.from_buffers(pa.string(), len(lines), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


class _Batcher:
    depth = 2

    def __init__(self, plan: TextPlan, uri: str, now: datetime) -> None:
        self.plan = plan
        self.uri, self.now = uri, now
        self.name = plan.fmt.name

    def split(self, lines: list[Any]) -> tuple[list[int], list[int]]:
        """Everything to the worker thread, which sorts out the lines Arrow cannot take."""
        return list(range(len(lines))), []

    def columns(self, first: int, lines: list[Any], keep: list[int]) -> Result:
        try:
            data: bytes | None = b"".join(lines)
        except TypeError:
            data = None  # an over-long line in the batch
        every = keep
        if data is None or not data.isascii():
            # Printable ASCII only; the rest (and over-long lines) go row by row.
            keep = [i for i, line in enumerate(lines) if type(line) is bytes and line.isascii()]
            data = b"".join(lines[i] for i in keep)
        try:
            return self._columns(first, lines, data, keep)
        except pa.ArrowException:
            return Result([], 0, every)  # Arrow failing on something unforeseen: the row path is the reference

    def _columns(self, first: int, batch: list[Any], data: bytes, keep: list[int]) -> Result:
        """`keep`: the lines Arrow takes (indices in the batch), `data` their concatenation; the batch's
        other lines go to the row path."""
        plan, fmt = self.plan, self.plan.fmt
        if not keep:
            return Result([], 0, list(range(len(batch))))
        lines = batch if len(keep) == len(batch) else [batch[i] for i in keep]
        text = _lines_array(lines, data)
        n = len(text)
        odd = _blank(text)
        if data.translate(None, _PRINTABLE):  # control characters somewhere in the batch
            odd = pc.or_(odd, pc.match_substring_regex(text, _ODD_BYTES))
        found = pc.extract_regex(text, plan.pattern)
        ok = pc.and_(pc.invert(odd), found.is_valid())
        fields = dict(zip(plan.groups, found.flatten(), strict=True))  # type: ignore[attr-defined]
        taken: dict[str, pa.Array] = {}
        if plan.ask and any(pc.any(pc.equal(fields[g], "")).as_py() for g in plan.ask):
            spans = pc.extract_regex_span(text, plan.pattern)
            taken = {g: spans.field(g).is_valid() for g in plan.ask}
        nulls = sorted(fmt.nulls)
        cols: Columns = {}
        for name, col in fields.items():
            if len(nulls) == 1:  # the usual `-`: one comparison instead of a hash lookup per value
                missing = pc.fill_null(pc.equal(col, nulls[0]), False)
            else:
                missing = pc.fill_null(pc.is_in(col, pa.array(nulls, pa.string())), False)
            if name in taken:
                missing = pc.or_(missing, pc.invert(taken[name]))  # empty and taken stays empty, as in `re`
            elif plan.empty[name] == "absent":
                missing = pc.or_(missing, pc.equal(col, ""))
            cols[name] = _null_if(col, missing)
        numbers: list[tuple[tuple[str, ...], Callable[[pa.Array], pa.Array], pa.DataType]] = [
            (fmt.ints, _digits, pa.int64()),
            (fmt.floats, lambda col: pc.match_substring_regex(col, _FLOAT), pa.float64()),
        ]
        for numeric, shaped, kind in numbers:
            for name in numeric:
                if name in cols:
                    col = cols[name]
                    number = pc.fill_null(shaped(col), False)
                    ok = pc.and_(ok, pc.or_(col.is_null(), number))
                    cols[name] = pc.cast(_null_if(col, pc.invert(number)), kind)
        # `message` is the message group's value, else the `message` group's, else the whole line.
        sources = [cols.get(fmt.message_group) if fmt.message_group != "message" else None, cols.get("message")]
        cols["message"] = pc.coalesce(*(c for c in sources if c is not None), text)
        times: pa.Array | None = None
        if "timestamp" in cols:
            if plan.times is not None:
                times, good = plan.times(cols["timestamp"])
                ok = pc.and_(ok, pc.or_(cols["timestamp"].is_null(), good))
                times = _null_if(times, pc.invert(good))
                config = plan.rules.config
                if config.max_future is not None:
                    late = pc.greater(times, pa.scalar(self.now + config.max_future, TIMESTAMP))
                    ok = pc.and_(ok, pc.invert(pc.fill_null(late, False)))
                if config.max_age is not None:
                    early = pc.less(times, pa.scalar(self.now - config.max_age, TIMESTAMP))
                    ok = pc.and_(ok, pc.invert(pc.fill_null(early, False)))
            else:  # an ISO or epoch text the timestamp rule parses: the JSON path's check
                stamps = cols["timestamp"]
                if fmt.timestamp in (ts.iso, any_time):  # log4j's comma before the fraction, as `ts.iso` reads it
                    stamps = pc.replace_substring(stamps, ",", ".", max_replacements=1)
                times, rejected = event_times(stamps, self.now, plan.rules)
                if rejected:
                    ok = pc.and_(ok, pc.invert(rows_at(n, rejected)))
            cols["timestamp"] = times
        if plan.level is not None:
            for name, col in plan.level(cols).items():
                if name == "level" and "level" in cols:  # a derived level replaces the field only when it has one
                    col = pc.if_else(pc.fill_null(pc.not_equal(col, ""), False), col, cols["level"])
                cols[name] = col
        if plan.post is not None:
            cols.update(plan.post(cols))
        ok = self._validate(cols, ok)
        ok = pc.fill_null(ok, False)
        joined = 0
        if fmt.multiline:
            continues = pc.fill_null(pc.and_(pc.invert(found.is_valid()), pc.invert(odd)), False)
            candidates = pc.indices_nonzero(continues)
            if len(candidates):  # a line that begins with a time of any layout is not a continuation
                timed = pc.match_substring_regex(text.take(candidates), STARTS_PATTERN)
                if pc.any(timed).as_py():
                    continues = pc.and_(continues, pc.invert(rows_at(n, candidates.filter(timed).to_pylist())))
            ok, slow, joined = self._records(batch, keep, cols, ok, continues)
            rows = pc.sum(pc.cast(ok, pa.int64())).as_py() or 0
        else:
            bad = pc.indices_nonzero(pc.invert(ok)).to_pylist() if not pc.all(ok).as_py() else []
            slow = [keep[i] for i in bad]
            if n < len(batch):
                kept = set(keep)
                slow = sorted(slow + [i for i in range(len(batch)) if i not in kept])
            rows = n - len(bad)
        if rows == 0:
            return Result([], 0, slow)
        names = list(cols)  # columns that hold only nulls are dropped by the writer, as for the row path
        own = lineage(self.now, self.uri, self.name, first, keep)
        out = pa.Table.from_arrays([*(cols[c] for c in names), *own], names=[*names, *LINEAGE])
        result = by_day(out, cols.get("timestamp"), self.now, slow, ok if rows < n else None)
        result.joined = joined
        return result

    def _records(
        self, batch: list[Any], keep: list[int], cols: Columns, ok: pa.Array, continues: pa.Array
    ) -> tuple[pa.Array, list[int], int]:
        """Multi-line formats: continuation lines joined to the record above, as `Format.records` joins them.

        A line this path parsed and validated certainly starts a record; a printable line the pattern does
        not match certainly continues one. A record is joined here when it starts with the one and goes on
        with the others only; every other stretch of lines, from a certain start to the next, goes to the
        row path whole (the batch begins at a record start: `_aligned`), so it is judged as in one pass.
        Returns the rows kept, the batch's lines for the row path, and how many lines were joined.
        """
        n = len(batch)
        if len(keep) == n and pc.all(ok).as_py():
            return ok, [], 0
        starts = bytearray(n)  # 1: a certain start, 2: a certain continuation, 0: the row path decides
        where = dict(zip(keep, range(len(keep)), strict=True)) if len(keep) < n else None
        for k in pc.indices_nonzero(ok).to_pylist():
            starts[keep[k]] = 1
        for k in pc.indices_nonzero(continues).to_pylist():
            starts[keep[k]] = 2
        limit = self.plan.fmt.max_record_bytes
        slow: list[int] = []
        dropped: list[int] = []
        owners: list[int] = []
        tails: list[list[int]] = []
        for run in _NOT_STARTS.finditer(starts):
            owner = run.start() - 1  # the certain start above the stretch, if any
            stretch = range(run.start(), run.end())
            if (
                owner >= 0
                and b"\0" not in run.group()
                and len(stretch) < self.plan.fmt.max_record_lines
                and len(batch[owner]) + sum(len(batch[x]) + 1 for x in stretch) <= limit
            ):
                owners.append(owner if where is None else where[owner])
                tails.append(list(stretch))
            else:
                if owner >= 0:
                    slow.append(owner)
                    dropped.append(owner if where is None else where[owner])
                slow.extend(stretch)
        if dropped:
            ok = pc.and_(ok, pc.invert(rows_at(len(ok), dropped)))
        if owners:
            heads = cols["message"].take(pa.array(owners)).to_pylist()
            joined_text = [
                "\n".join([head, *(batch[x].decode("ascii") for x in tail)])
                for head, tail in zip(heads, tails, strict=True)
            ]
            mask = rows_at(len(ok), owners)
            cols["message"] = pc.replace_with_mask(cols["message"], mask, pa.array(joined_text, pa.string()))
        return ok, sorted(slow), sum(map(len, tails))

    def _validate(self, cols: Columns, ok: pa.Array) -> pa.Array:
        """The rule set's required fields and level, as `RuleSet.validate` judges them."""
        probe = self.plan.probe
        for name in probe.required:
            col = cols.get(name)
            if col is None:
                return pa.repeat(pa.scalar(False), len(ok))
            present = col.is_valid()
            if col.type == pa.string():
                present = pc.and_(present, pc.invert(_blank(col)))
            ok = pc.and_(ok, present)
        if probe.level and probe.level in cols and cols[probe.level].type == pa.string():
            cols[probe.level], rejected = levels(cols[probe.level], probe.levels)
            if rejected:
                ok = pc.and_(ok, pc.invert(rows_at(len(ok), rejected)))
        return ok


def run(pipeline: Pipeline, plan: TextPlan, run: ObjectRun, batches: Iterator[Batch]) -> None:
    """Adds to the summary's counts, like the row path it calls for the lines it does not take."""
    fmt = plan.fmt
    if not fmt.multiline:
        drive(pipeline, run, _Batcher(plan, run.uri, run.now), _halves(batches) if pipeline.overlap else batches)
        return
    aligned = _Aligned(fmt, batches)
    ranges = _halves(iter(aligned), fmt) if pipeline.overlap else iter(aligned)
    drive(pipeline, run, _Batcher(plan, run.uri, run.now), ranges)
    if aligned.rest is not None:
        pipeline.run_rows(run, fmt.records(aligned.rest))


def _start_before(fmt: RegexFormat, lines: list[Any], end: int, lowest: int) -> int:
    """The last line in `lines[lowest:end]` that certainly begins a record, else -1: the row path's own
    test, from the end, where it usually succeeds at once."""
    starts = fmt.starts_whole_record
    for i in range(end - 1, lowest - 1, -1):
        line = lines[i]
        if type(line) is not bytes or starts(line):  # an over-long line also ends a record
            return i
    return -1


class _Aligned:
    """Batches cut where a record starts, so that none spans two (multi-line formats).

    A batch's tail after its last record start waits for the next batch. A stretch with no record
    start longer than `carry_bytes` (not a log of this format) ends the batches: `rest` then holds
    the object's remaining lines for the row path, which reads them in one pass.
    """

    def __init__(self, fmt: RegexFormat, batches: Iterator[Batch]) -> None:
        self.fmt, self.batches, self.carry_bytes = fmt, batches, CARRY_BYTES
        self.rest: Iterator[tuple[int, Any]] | None = None

    def __iter__(self) -> Iterator[Batch]:
        carry: list[Any] = []
        at = size = 0
        for first, lines in self.batches:
            cut = _start_before(self.fmt, lines, len(lines), 0 if carry else 1)
            if cut < 0:  # no record starts here: all of it continues what came before
                if not carry:
                    at = first
                carry.extend(lines)
                size += sum(len(x) if type(x) is bytes else 0 for x in lines)
                if size > self.carry_bytes:
                    self.rest = chain(enumerate(carry, at), lines_of(self.batches))
                    return
                continue
            if carry or cut:
                yield (at if carry else first), carry + lines[:cut]
            carry, at = lines[cut:], first + cut
            size = sum(len(x) if type(x) is bytes else 0 for x in carry)
        if carry:
            yield at, carry


def _halves(batches: Iterator[Batch], fmt: RegexFormat | None = None) -> Iterator[Batch]:
    """Each read in two: two worker threads on half a read each hold what one thread on a whole read would.
    Multi-line formats are cut where a record starts."""
    for first, lines in batches:
        half = len(lines) // 2
        if fmt is not None and half:
            half = max(_start_before(fmt, lines, half + 1, 1), 0)
        if half:
            yield first, lines[:half]
        yield first + half, lines[half:]
