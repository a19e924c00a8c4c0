"""The web console over an S3 lake (moto's server): the same pages' data, read through the remote engine."""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
import urllib.request

import boto3
import orjson
import pytest
from click.testing import CliRunner

from loglake.cli import main
from tests.conftest import jl, rec

LAKE = "console-lake"


@pytest.mark.slow
def test_the_console_serves_an_s3_lake(aws, tmp_path) -> None:
    boto3.client("s3").create_bucket(Bucket=LAKE)
    src = tmp_path / "app.log"
    src.write_bytes(jl(rec(), rec(level="WARN", message="disk <b>almost</b> full"), b"not json {"))
    runner = CliRunner()
    assert runner.invoke(main, ["--lake", f"s3://{LAKE}", "process", str(src)], catch_exceptions=False).exit_code == 1
    proc = subprocess.Popen(
        [sys.executable, "-m", "loglake", "--lake", f"s3://{LAKE}", "ui", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        base = line.split(" at ", 1)[1].split()[0].rstrip("/")

        def get(path: str) -> object:
            return orjson.loads(urllib.request.urlopen(base + path, timeout=60).read())

        assert get("/api/histogram")["levels"] == {"INFO": [1], "WARN": [1]}  # type: ignore[index]
        events = get("/api/events?q=" + urllib.parse.quote("level:WARN"))
        assert [r["message"] for r in events["rows"]] == ["disk <b>almost</b> full"]  # type: ignore[index]
        sql = get("/api/sql?q=" + urllib.parse.quote("SELECT count(*) AS n FROM processed_logs"))
        assert sql["rows"] == [{"n": 2}]  # type: ignore[index]
        errors = get("/api/errors")
        assert [r["raw_line"] for r in errors["rows"]] == ["not json {"]  # type: ignore[index]
        assert [o["status"] for o in get("/api/objects")] == ["ok"]  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
