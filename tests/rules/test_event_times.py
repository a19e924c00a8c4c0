"""The columnar paths' event times: exactly `parse_timestamp`'s, whatever mix of zones a batch holds."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from loglake.config import RulesConfig
from loglake.rules import RuleSet
from loglake.rules.probe import event_times
from loglake.rules.timestamps import parse_timestamp

NOW = datetime(2026, 3, 1, 12, 0, 0)
TIMES = st.sampled_from(
    [
        "2025-07-21 10:00:00",
        "2025-07-21T10:00:00.123",
        "2025-07-21T10:00:00Z",
        "2025-07-21T10:00:00.5+02:00",
        "2025-07-21 23:30:00-05:30",
        "2025-02-30 10:00:00",
        "2024-02-29T00:00:00Z",
        "1753084800",
        "yesterday",
        " 2025-07-21 10:00:00",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), TIMES), min_size=1, max_size=20))
def test_event_times_are_parse_timestamps(values: list[str | None]) -> None:
    rules = RuleSet(RulesConfig(), provides_level=True)
    times, rejected = event_times(pa.array(values, pa.string()), NOW, rules)
    for i, value in enumerate(values):
        if value is None or i in rejected:
            continue  # the row path judges these
        assert times[i].as_py() == parse_timestamp(value), value
    # Every time `parse_timestamp` reads in the common ISO spellings is taken here.
    for i in rejected:
        value = values[i]
        assert value is not None
        assert parse_timestamp(value) is None or value.strip() != value or value.isdigit()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(TIMES, st.integers(-90, 90)), min_size=1, max_size=12))
def test_a_column_of_processing_times_judges_each_row_by_its_own(rows: list[tuple[str, int]]) -> None:
    """Rows of several objects read together: each row's window is its own object's, as if read alone."""
    from datetime import timedelta

    rules = RuleSet(RulesConfig(max_future=timedelta(0), max_age=timedelta(days=230)), provides_level=True)
    nows = [datetime(2025, 7, 21, 10, 0, 0) + timedelta(seconds=s) for _, s in rows]
    _, together = event_times(pa.array([t for t, _ in rows]), pa.array(nows, pa.timestamp("us")), rules)
    alone = [
        i for i, ((t, _), now) in enumerate(zip(rows, nows, strict=True)) if event_times(pa.array([t]), now, rules)[1]
    ]
    assert together == alone
