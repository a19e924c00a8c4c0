"""Shared fixtures: a real lake folder on disk, and helpers to run the real CLI."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from loglake.aws import handler as handler_mod
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

    return DuckDBEngine(lake.storage, lake.tables).run(sql, save=False).rows


def visible_files(root: Path, zone: str) -> list[Path]:
    """The data files of the zone's table now: what every reader of the current snapshot reads."""
    table = Lake.open(Settings(lake=str(root))).tables.load(zone, refresh=True)
    return sorted(Path(p.removeprefix("file://")) for p in table.inspect.files().column("file_path").to_pylist())


# --- AWS: a real HTTP endpoint (moto's server on 127.0.0.1), reset before every test ---

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory) -> Iterator[str]:
    """moto's server in its own process, so clients that hold the GIL (pyarrow under DuckDB) cannot starve it."""
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).read()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"moto server did not start on {endpoint}") from None
            time.sleep(0.1)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Environment pointing boto3 (and so LogLake) at a freshly reset moto server."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    for name, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "LOGLAKE_LAKE", "PROCESSED_BUCKET", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    handler_mod.reset()
    yield moto_endpoint
    handler_mod.reset()


# --- The suite reads nothing outside the repository (a user's clone has nothing beside it) ---

_ROOT = Path(__file__).resolve().parent.parent
_OUTSIDE: list[str] = []


def _system_places() -> tuple[str, ...]:
    """Where the interpreter, its packages, temporary folders and the system's own files live."""
    import site
    import sysconfig
    import tempfile

    places = {
        tempfile.gettempdir(),
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *site.getsitepackages(),
        site.getusersitepackages(),
        *sysconfig.get_paths().values(),
        *("/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", "/dev", "/run", "/var", "/opt"),
        os.path.expanduser("~"),  # the user's own config (~/.aws, caches)
    }
    return tuple(os.path.realpath(p).rstrip(os.sep) + os.sep for p in places if p)


def reads_outside(path: str, root: Path, system: tuple[str, ...]) -> bool:
    """True for a path beside the repository (a workspace's shared folders) or outside every allowed place.

    Beside means under the repository's parent but not in the repository; that rule is off when the parent
    is itself a system place (a clone straight into /tmp), where everything beside is temporary files.
    """
    full = os.path.realpath(path).rstrip(os.sep) + os.sep
    inside, parent = str(root) + os.sep, str(root.parent).rstrip(os.sep) + os.sep
    if full.startswith(inside):
        return False
    if full.startswith(parent) and full != parent and parent not in system:
        return True
    return not full.startswith(system)


_SYSTEM = _system_places()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event not in ("open", "os.listdir", "os.scandir") or not args:
        return
    path = args[0]
    if isinstance(path, str | bytes | os.PathLike):  # not a file descriptor
        with contextlib.suppress(TypeError, ValueError):
            if reads_outside(os.fsdecode(path), _ROOT, _SYSTEM):
                _OUTSIDE.append(os.fsdecode(path))


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def outside_reads() -> Iterator[list[str]]:
    """Fails a test that opened anything beside the repository or outside the system's own places."""
    _OUTSIDE.clear()
    yield _OUTSIDE
    found, _OUTSIDE[:] = sorted(set(_OUTSIDE)), []
    assert not found, f"the test read outside the repository (a user's clone has nothing there): {found[:5]}"
