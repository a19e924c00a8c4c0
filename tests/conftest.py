"""Shared fixtures: a real lake folder on disk, and helpers to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from loglake.cli import main
from loglake.config import Settings
from loglake.lake import Lake
from loglake.pipeline import Summary
from loglake.sources import ObjectRef
from loglake.storage import LocalStorage


def jl(*records: Any) -> bytes:
    """JSON Lines bytes from records (dicts) and raw byte lines."""
    return b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records)


def rec(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"timestamp": "2025-07-21T10:00:00Z", "level": "INFO", "message": "hello"}
    base.update(extra)
    return base


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def lake(lake_dir: Path) -> Lake:
    lake = Lake.open(Settings(lake=str(lake_dir)))
    lake.init()
    return lake


@pytest.fixture
def process_bytes(tmp_path: Path, lake: Lake) -> Callable[..., Summary]:
    """Write `data` to a source file and process it through the real pipeline."""

    def run(data: bytes, name: str = "app.log", target: Lake | None = None) -> Summary:
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        (src / name).write_bytes(data)
        return (target or lake).pipeline().process(ObjectRef(LocalStorage(str(src)), name))

    return run


@pytest.fixture
def cli(lake_dir: Path) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, ["--lake", str(lake_dir), *args], input=input, catch_exceptions=False)

    return run


def loglake_proc(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    """The installed console entry point, as a real separate process."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "loglake", *args], env=env, **kwargs)


def query(lake: Lake, sql: str) -> list[dict[str, Any]]:
    from loglake.query.duckdb_engine import DuckDBEngine

    return DuckDBEngine(lake.storage, lake.catalog.load()).run(sql, save=False).rows


def visible_files(root: Path, zone: str) -> list[Path]:
    return sorted(p for p in (root / zone).rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
