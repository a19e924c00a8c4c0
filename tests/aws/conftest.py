"""AWS fixtures shared by the handler tests (the rest live in tests/conftest.py so storage contract
tests can use them too)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from loglake.aws import handler as handler_mod

RAW, LAKE = "loglake-raw", "loglake-processed"


@pytest.fixture
def buckets(aws: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A raw bucket and a lake bucket, the lake as the handler's."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=RAW)
    s3.create_bucket(Bucket=LAKE)
    monkeypatch.setenv("LOGLAKE_LAKE", f"s3://{LAKE}")
    handler_mod.reset()
    return s3
