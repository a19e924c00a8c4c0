"""Real logs from loghub (Zhu et al., ISSRE 2023; github.com/logpai/loghub) against their authors' parses.

Each corpus must be auto-detected, every one of its 2000 lines processed, and timestamp, level
and content must agree with `*_structured.csv` line by line.
"""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path

import pytest

from loglake.config import Settings
from loglake.lake import Lake
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage
from tests.conftest import query

# Copies of the corpora ship with the tests (tests/corpora/loghub, with loghub's LICENSE); LOGLAKE_LOGHUB
# points the test at another copy of the same layout.
CORPORA = Path(os.environ.get("LOGLAKE_LOGHUB", Path(__file__).resolve().parents[1] / "corpora" / "loghub"))


def ground_truth(name: str) -> list[dict[str, str]]:
    with open(CORPORA / name / f"{name}_2k.log_structured.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def expected_time(name: str, g: dict[str, str]) -> tuple:
    """What the ground truth says the time is, in the parts it gives (syslog has no year)."""
    if name == "Apache":
        return (datetime.strptime(g["Time"], "%a %b %d %H:%M:%S %Y"),)
    if name == "HDFS":
        return (datetime.strptime(g["Date"] + g["Time"], "%y%m%d%H%M%S"),)
    if name == "Spark":
        return (datetime.strptime(f"{g['Date']} {g['Time']}", "%y/%m/%d %H:%M:%S"),)
    if name == "Zookeeper":
        return (datetime.strptime(f"{g['Date']} {g['Time']}", "%Y-%m-%d %H:%M:%S,%f"),)
    month, day = (g["Month"], g["Date"]) if name == "Linux" else (g["Date"], g["Day"])
    return (month, int(day), g["Time"])


def actual_time(name: str, ts: datetime) -> tuple:
    if name in ("Linux", "OpenSSH"):
        return (ts.strftime("%b"), ts.day, ts.strftime("%H:%M:%S"))
    return (ts,)


FORMATS = {
    "Apache": "apache_error",
    "HDFS": "hdfs",
    "Linux": "syslog",
    "OpenSSH": "syslog",
    "Spark": "spark",
    "Zookeeper": "log4j",
}


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> dict[str, tuple]:
    assert CORPORA.is_dir(), (
        f"loghub corpora not found at {CORPORA}: set LOGLAKE_LOGHUB to the folder holding Apache/, HDFS/, …"
    )
    return {name: _process(Settings(lake=str(tmp_path_factory.mktemp(name))), name) for name in FORMATS}


def _process(settings: Settings, name: str) -> tuple:
    """A corpus processed into a fresh lake: its summary and its rows by line number."""
    lake = Lake.open(settings)
    lake.init()
    summary = lake.pipeline().process(ObjectRef(LocalStorage(str(CORPORA / name)), f"{name}_2k.log"))
    return summary, {r["source_line"]: r for r in query(lake, "SELECT * FROM processed_logs")}


@pytest.mark.parametrize("name", list(FORMATS))
def test_corpus_is_detected_and_every_line_processed(processed, name: str) -> None:
    summary, rows = processed[name]
    assert summary.format == FORMATS[name]
    assert (summary.lines, summary.processed, summary.errors, summary.joined) == (2000, 2000, 0, 0)
    assert sorted(rows) == list(range(1, 2001))
    assert {r["source_format"] for r in rows.values()} == {FORMATS[name]}


@pytest.mark.parametrize("name", list(FORMATS))
def test_timestamp_level_and_content_agree_with_ground_truth(processed, name: str) -> None:
    _, rows = processed[name]
    for g in ground_truth(name):
        row = rows[int(g["LineId"])]
        where = f"{name} line {g['LineId']}"
        assert actual_time(name, row["timestamp"]) == expected_time(name, g), where
        # The ground truth trims blanks at both ends (Linux line 1 ends in a space, line 1913 has two
        # after `kernel:`); we keep the message exactly, so compare trimmed.
        assert row["message"].strip() == g["Content"], where
        if name in ("Apache", "HDFS", "Spark", "Zookeeper"):
            assert row["level"] == g["Level"].upper().replace("WARNING", "WARN"), where


def test_ground_truth_level_of_linux_is_the_host_name(processed) -> None:
    """Where the ground truth is wrong: its Linux `Level` column holds the host (`combo`).

    Line 1: `Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; …` — RFC 3164
    has no level without a PRI, so `level` stays empty and `combo` is the `host` column.
    """
    _, rows = processed["Linux"]
    truth = ground_truth("Linux")
    assert {g["Level"] for g in truth} == {"combo"}
    assert all(rows[int(g["LineId"])]["host"] == g["Level"] for g in truth)
    assert {r["level"] for r in rows.values()} == {None}
    assert rows[1]["app"] == "sshd(pam_unix)" and rows[1]["pid"] == 19939


def test_blanks_the_ground_truth_trims_are_kept_exactly(processed) -> None:
    _, rows = processed["Linux"]
    raw = (CORPORA / "Linux" / "Linux_2k.log").read_bytes().decode().split("\n")
    first, kernel = raw[0].rstrip("\r"), raw[1912].rstrip("\r")
    assert first.endswith("rhost=218.188.2.4 ") and rows[1]["message"].endswith("rhost=218.188.2.4 ")
    assert kernel.endswith("kernel:  BIOS-e820: 0000000000000000 - 00000000000a0000 (usable)")
    assert (
        rows[1913]["app"] == "kernel"
        and rows[1913]["message"] == " BIOS-e820: 0000000000000000 - 00000000000a0000 (usable)"
    )


# --- The same corpora with their own formats disabled: the generic text format reads them ----------------


@pytest.fixture(scope="module")
def generic(tmp_path_factory) -> dict[str, tuple]:
    from loglake.config import FormatsConfig

    return {
        name: _process(
            Settings(lake=str(tmp_path_factory.mktemp(f"{name}-generic")), formats=FormatsConfig(disabled=(fmt,))),
            name,
        )
        for name, fmt in FORMATS.items()
    }


@pytest.mark.parametrize("name", list(FORMATS))
def test_generic_format_reads_every_line_with_its_time_and_level(generic, name: str) -> None:
    summary, rows = generic[name]
    assert summary.format == "text"
    assert (summary.lines, summary.processed + summary.joined, summary.errors) == (2000, 2000, 0)
    truth = ground_truth(name)
    times = sum(
        1 for g in truth if int(g["LineId"]) in rows
        and actual_time(name, rows[int(g["LineId"])]["timestamp"]) == expected_time(name, g)
    )  # fmt: skip
    assert times >= 0.95 * len(truth), f"{name}: {times} of {len(truth)} times agree"
    if name in ("Apache", "HDFS", "Spark", "Zookeeper"):
        levels = sum(
            1 for g in truth if int(g["LineId"]) in rows
            and rows[int(g["LineId"])]["level"] == g["Level"].upper().replace("WARNING", "WARN")
        )  # fmt: skip
        assert levels >= 0.95 * len(truth), f"{name}: {levels} of {len(truth)} levels agree"
