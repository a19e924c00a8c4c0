"""One contract, every backend: the local folder and S3 (through moto's HTTP server)."""

from __future__ import annotations

import threading

import boto3
import pytest

from loglake.errors import ObjectError, ObjectNotFound
from loglake.storage import LocalStorage, Storage
from loglake.storage import s3 as s3_module
from loglake.storage.s3 import S3Storage


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(str(tmp_path / "root"))
    request.getfixturevalue("aws")
    boto3.client("s3").create_bucket(Bucket="contract")
    return S3Storage("s3://contract/some/prefix")


def test_write_read_stat_list_delete(storage: Storage) -> None:
    storage.write_bytes("a/b c+é.txt", b"hello")
    assert storage.read_bytes("a/b c+é.txt") == b"hello"
    assert storage.stat("a/b c+é.txt").size == 5
    storage.write_bytes("a/z.txt", b"")
    storage.write_bytes("b.txt", b"x")
    assert [o.key for o in storage.list("a/")] == ["a/b c+é.txt", "a/z.txt"]
    assert [o.key for o in storage.list()] == ["a/b c+é.txt", "a/z.txt", "b.txt"]
    storage.delete("a/z.txt")
    storage.delete("never-was.txt")
    assert not storage.exists("a/z.txt") and storage.exists("b.txt")


def test_missing_object_names_where_it_looked(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound, match=r"nope\.log"):
        storage.open_read("nope.log")
    with pytest.raises(ObjectNotFound):
        storage.stat("nope.log")


def test_write_is_atomic_and_aborts_cleanly(storage: Storage) -> None:
    storage.write_bytes("k", b"old")
    with pytest.raises(RuntimeError), storage.open_write("k") as fh:
        fh.write(b"half")
        raise RuntimeError("crash mid-write")
    assert storage.read_bytes("k") == b"old"
    assert [o.key for o in storage.list()] == ["k"]  # no temp litter visible


@pytest.mark.parametrize("upload", ["one PutObject", "multipart"])
def test_large_write_and_streamed_read(storage: Storage, upload: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if upload == "multipart":
        monkeypatch.setattr(s3_module, "SINGLE_PUT_BYTES", 1 << 20)
    blob = bytes(range(256)) * (40 * 1024)  # 10 MiB: spooled to disk; on S3 one PUT, or parts of 8 MiB
    with storage.open_write("big.bin") as fh:
        for i in range(0, len(blob), 1 << 20):
            fh.write(blob[i : i + (1 << 20)])
    with storage.open_read("big.bin") as fh:
        first = fh.read(1000)
        rest = fh.read()
    assert first + rest == blob
    if isinstance(storage, S3Storage):
        etag = storage.client.head_object(Bucket=storage.bucket, Key=storage._key("big.bin"))["ETag"]
        assert etag.strip('"').endswith("-2") == (upload == "multipart"), etag  # a multipart ETag counts its parts


def test_move_replaces(storage: Storage) -> None:
    storage.write_bytes("src", b"new")
    storage.write_bytes("dst", b"old")
    storage.move("src", "dst")
    assert storage.read_bytes("dst") == b"new" and not storage.exists("src")


def test_concurrent_updates_lose_nothing(storage: Storage) -> None:
    def bump(current: bytes | None) -> bytes:
        return str(int(current or b"0") + 1).encode()

    def worker() -> None:
        for _ in range(10):
            storage.update("counter", bump)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert storage.read_bytes("counter") == b"40"


def test_s3_missing_bucket_is_a_clear_error(aws) -> None:
    with pytest.raises(ObjectError, match="bucket `no-such-bucket` does not exist"):
        S3Storage("s3://no-such-bucket").open_read("x.log")
