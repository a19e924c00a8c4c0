from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loglake.config import FieldRule, RulesConfig, settings_from_toml
from loglake.errors import ConfigError
from loglake.rules import RuleSet
from loglake.rules.levels import normalise_level
from loglake.rules.timestamps import parse_timestamp

NOW = datetime(2025, 7, 21, 12, 0, 0)


def codes(record: dict, config: RulesConfig | None = None) -> list[str]:
    return [f.code for f in RuleSet(config or RulesConfig()).validate(record, NOW)]


def test_tutorial_rule_level_and_message_present_and_non_empty() -> None:
    assert codes({"level": "INFO", "message": "ok"}) == []
    assert codes({"message": "x"}) == ["missing_field:level"]
    assert codes({"level": "INFO"}) == ["missing_field:message"]
    assert codes({"level": "INFO", "message": "   "}) == ["empty_field:message"]
    assert codes({"level": None, "message": "x"}) == ["empty_field:level"]
    assert codes({}) == ["missing_field:level", "missing_field:message"]


@pytest.mark.parametrize(
    ("raw", "canon"),
    [
        ("warn", "WARN"),
        ("Warning", "WARN"),
        (" info ", "INFO"),
        ("err", "ERROR"),
        ("crit", "CRITICAL"),
        ("fatal", "FATAL"),
    ],
)
def test_levels_are_normalised_in_place(raw: str, canon: str) -> None:
    record = {"level": raw, "message": "m"}
    assert codes(record) == []
    assert record["level"] == canon


def test_unknown_or_non_string_level_is_rejected() -> None:
    assert codes({"level": "LOUD", "message": "m"}) == ["not_allowed:level"]
    assert codes({"level": 3, "message": "m"}) == ["wrong_type:level"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-07-21T10:00:00Z", datetime(2025, 7, 21, 10)),
        ("2025-07-21T12:00:00+02:00", datetime(2025, 7, 21, 10)),
        ("2025-07-21 10:00:00", datetime(2025, 7, 21, 10)),  # no zone: taken as UTC
        ("2025-07-21T10:00:00.250Z", datetime(2025, 7, 21, 10, 0, 0, 250000)),
        (1753092000, datetime(2025, 7, 21, 10)),  # epoch seconds
        (1753092000000, datetime(2025, 7, 21, 10)),  # epoch milliseconds
        ("1753092000", datetime(2025, 7, 21, 10)),
        (1753092000.5, datetime(2025, 7, 21, 10, 0, 0, 500000)),
    ],
)
def test_timestamps_parse_to_utc(value, expected) -> None:
    assert parse_timestamp(value) == expected
    record = {"level": "INFO", "message": "m", "timestamp": value}
    assert codes(record) == []
    assert record["timestamp"] == expected


@pytest.mark.parametrize("value", ["yesterday", "", "2025-13-45", True, [1], {"a": 1}, "2025-07-21T25:00"])
def test_bad_timestamps(value) -> None:
    assert codes({"level": "INFO", "message": "m", "timestamp": value}) == ["bad_timestamp"]


def test_record_without_timestamp_is_valid() -> None:
    assert codes({"level": "INFO", "message": "m"}) == []


def test_timestamp_window() -> None:
    config = RulesConfig(max_future=timedelta(days=1), max_age=timedelta(days=30))
    ok = {"level": "INFO", "message": "m", "timestamp": (NOW + timedelta(hours=23)).isoformat()}
    future = {"level": "INFO", "message": "m", "timestamp": (NOW + timedelta(days=2)).isoformat()}
    old = {"level": "INFO", "message": "m", "timestamp": (NOW - timedelta(days=31)).isoformat()}
    assert codes(ok, config) == []
    assert codes(future, config) == ["timestamp_out_of_window"]
    assert codes(old, config) == ["timestamp_out_of_window"]


def _one(**spec) -> RulesConfig:
    return RulesConfig(fields=(FieldRule(**spec),))


def test_required_field_rule_on_nested_path() -> None:
    config = _one(name="http.status", required=True)
    assert codes({"level": "INFO", "message": "m", "http": {"status": 200}}, config) == []
    assert codes({"level": "INFO", "message": "m", "http": {}}, config) == ["missing_field:http.status"]


def test_type_rule() -> None:
    config = _one(name="n", type="integer")
    assert codes({"level": "INFO", "message": "m", "n": 3}, config) == []
    assert codes({"level": "INFO", "message": "m", "n": "3"}, config) == ["wrong_type:n"]
    assert codes({"level": "INFO", "message": "m"}, config) == []  # absent is fine unless required


def test_enum_rule() -> None:
    config = _one(name="env", enum=("prod", "dev"))
    assert codes({"level": "INFO", "message": "m", "env": "prod"}, config) == []
    assert codes({"level": "INFO", "message": "m", "env": "qa"}, config) == ["not_allowed:env"]
    assert codes({"level": "INFO", "message": "m", "env": ["prod"]}, config) == ["not_allowed:env"]


def test_regex_rule() -> None:
    config = _one(name="id", regex=r"^req-\d+$")
    assert codes({"level": "INFO", "message": "m", "id": "req-42"}, config) == []
    assert codes({"level": "INFO", "message": "m", "id": "x-42"}, config) == ["pattern_mismatch:id"]
    assert codes({"level": "INFO", "message": "m", "id": 42}, config) == ["pattern_mismatch:id"]


def test_range_rule() -> None:
    config = _one(name="http.status", min=100, max=599)
    assert codes({"level": "INFO", "message": "m", "http": {"status": 599}}, config) == []
    assert codes({"level": "INFO", "message": "m", "http": {"status": 600}}, config) == ["out_of_range:http.status"]
    assert codes({"level": "INFO", "message": "m", "http": {"status": "x"}}, config) == ["wrong_type:http.status"]


def test_secondary_timestamp_field_and_window() -> None:
    config = _one(name="sent_at", timestamp=True, max_future=timedelta(minutes=5))
    record = {"level": "INFO", "message": "m", "sent_at": "2025-07-21T12:01:00Z"}
    assert codes(record, config) == []
    assert record["sent_at"] == datetime(2025, 7, 21, 12, 1)
    assert codes({"level": "INFO", "message": "m", "sent_at": "nope"}, config) == ["bad_timestamp:sent_at"]
    late = {"level": "INFO", "message": "m", "sent_at": "2025-07-21T13:00:00Z"}
    assert codes(late, config) == ["timestamp_out_of_window:sent_at"]


def test_all_failures_are_reported_not_just_the_first() -> None:
    assert codes({"level": "LOUD", "timestamp": "never"}) == [
        "missing_field:message",
        "not_allowed:level",
        "bad_timestamp",
    ]


def test_rules_from_toml() -> None:
    doc = {
        "rules": {
            "required": ["message"],
            "max_future": "1d",
            "field": [{"name": "status", "type": "integer", "min": 100, "max": 599}],
        }
    }
    settings = settings_from_toml(doc, "./lake")
    assert settings.rules.max_future == timedelta(days=1)
    assert codes({"message": "m", "level": "INFO", "status": 700}, settings.rules) == ["out_of_range:status"]
    assert codes({"message": "m"}, settings.rules) == []  # level no longer required


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"rulez": {}}, "[rulez]"),
        ({"rules": {"requird": []}}, "`requird`"),
        ({"rules": {"field": [{"name": "x", "type": "float"}]}}, "`float`"),
        ({"rules": {"field": [{"name": "x", "regex": "("}]}}, "not a valid pattern"),
        ({"rules": {"max_future": "soon"}}, "not a duration"),
        ({"processing": {"processed_format": "csv"}}, "not an output format"),
    ],
)
def test_config_mistakes_name_the_key(doc: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=__import__("re").escape(needle)):
        settings_from_toml(doc, "./lake")


@given(st.text(max_size=20))
def test_normalise_level_is_idempotent(text: str) -> None:
    once = normalise_level(text)
    assert normalise_level(once) == once
