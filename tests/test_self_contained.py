"""The suite reads nothing outside the repository: a user's clone has nothing beside it.

Two checks: the test sources name no path that climbs out of the repository, and (in conftest) an
audit hook fails any test that opens a file next to the repository (a sibling checkout, a data
folder), which a user's fresh clone does not have.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import _SYSTEM, reads_outside

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# `parents[N]` climbing past the repository root, and `..` path segments.
CLIMBS = re.compile(r"""parents\[(\d+)\]|["'/]\.\.(?:/|["'])""")


def _offences(name: str, text: str, depth: int) -> list[str]:
    """Lines of a test file at `depth` folders below the root (its `parents[depth]`) that climb out."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for m in CLIMBS.finditer(line):
            if m.group(1) is not None and int(m.group(1)) <= depth:
                continue
            found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_no_test_source_names_a_path_outside_the_repository() -> None:
    sources = [p for p in TESTS.rglob("*.py") if p != Path(__file__).resolve()]
    assert sources
    offences = [
        o
        for p in sources
        for o in _offences(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"), len(p.relative_to(ROOT).parts) - 1)
    ]
    assert not offences, "tests must only read files inside the repository:\n" + "\n".join(offences)


@pytest.mark.parametrize(
    "line",
    [
        'CORPORA = Path(__file__).resolve().parents[3] / "sibling" / "corpora"',
        'open("../elsewhere/HDFS_2k.log")',
        'Path("..") / "data"',
    ],
)
def test_the_source_check_catches_a_climbing_path(line: str) -> None:
    assert _offences("tests/formats/probe.py", line, depth=2)


def test_the_source_check_allows_the_root_itself() -> None:
    assert not _offences("tests/formats/probe.py", 'Path(__file__).resolve().parents[2] / "README.md"', depth=2)


def test_the_guard_tells_the_repository_from_what_is_beside_it(tmp_path: Path) -> None:
    root = tmp_path / "work" / "loglake"
    system = ("/usr/",)
    assert not reads_outside(str(root / "tests" / "corpora" / "x.log"), root, system)
    assert not reads_outside("/usr/lib/python3/x.py", root, system)
    assert reads_outside(str(tmp_path / "work" / "sibling" / "corpora" / "HDFS_2k.log"), root, system)
    assert reads_outside(str(root / ".." / "sibling" / "NOTES.md"), root, system)
    assert reads_outside("/srv/data/HDFS_2k.log", root, system)
    # cloned straight into a temporary folder: what is beside it is other temporary files
    assert not reads_outside(str(tmp_path / "pytest-of-root" / "x"), tmp_path / "loglake", (str(tmp_path) + "/",))


def test_the_audit_hook_records_a_read_beside_the_repository(outside_reads: list[str]) -> None:
    """The hook itself, fed an open event for a path beside the repository (nothing is opened)."""
    from tests.conftest import _audit

    sibling = ROOT.parent / "a-sibling-checkout" / "NOTES.md"
    if not reads_outside(str(sibling), ROOT, _SYSTEM):
        pytest.skip(f"the repository's parent {ROOT.parent} is a temporary or system folder")
    _audit("open", (str(sibling), "rb", 0))
    assert outside_reads == [str(sibling)]
    outside_reads.clear()  # recorded on purpose
