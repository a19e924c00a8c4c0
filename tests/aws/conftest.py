"""A real HTTP endpoint for AWS APIs: moto's server on 127.0.0.1, reset before every test."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from loglake.aws import handler as handler_mod

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


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


def client(service: str) -> object:
    return boto3.client(service, region_name=REGION)
