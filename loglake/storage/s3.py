"""S3 (or any S3-compatible endpoint) as the lake. AWS specifics stay in this file.

Reads stream (the body is never held whole), writes spool to a temp file past 1 MiB and go up in one
PutObject (multipart past 512 MiB, a part at a time), S3 errors become LogLake errors in
one place, and botocore's adaptive retry mode handles throttling and 5xx with backoff. Memory counts:
this runs in 128 MB Lambdas.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from loglake.errors import ObjectError, ObjectNotFound, StorageError, Transient
from loglake.storage.base import ObjectInfo, Storage

RETRY_CONFIG = {"retries": {"mode": "adaptive", "max_attempts": 10}}
SPOOL_BYTES = 1 << 20
"""An output file is held in memory up to this, then on local disk: a processor writes several at once
(one per partition and zone), 8 MiB each cost a 135 MB object's Lambda 14 MB more at its peak."""
SINGLE_PUT_BYTES = 512 << 20
"""Outputs up to this go up in one PutObject, streamed from the spool. Larger ones use a multipart upload
in this thread, one 8 MiB part at a time: boto3's managed transfer with its default ten threads held
44 MB more at a 1 GB object's peak (each thread's malloc arena and part buffers). Outputs are about a
tenth of the input's size, so uploading is never what a processor waits on."""

_SESSION_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    """One botocore session for every client: each session loads its own copy of the endpoint and
    partition data (~7 MB). `AWS_REGION` (what Lambda and the AWS SDKs set) wins over `AWS_DEFAULT_REGION`,
    which is all botocore reads by itself."""
    import boto3

    return boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)


@functools.lru_cache(maxsize=8)
def s3_client(service: str = "s3") -> Any:
    """A boto3 client (cached: warm Lambdas reuse it) honouring region, profile and AWS_ENDPOINT_URL[_S3]."""
    from botocore.config import Config

    with _SESSION_LOCK:  # creating clients from one session is not thread-safe; using them is
        return _session().client(service, config=Config(**RETRY_CONFIG))


def reset_clients() -> None:
    """Forget cached clients and their session (after the environment's endpoint or credentials change)."""
    s3_client.cache_clear()
    _session.cache_clear()


@functools.lru_cache(maxsize=1)
def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(use_threads=False)


def _mtime_ns(meta: dict[str, Any]) -> int:
    return int(meta["LastModified"].timestamp() * 1e9)


def _etag(meta: dict[str, Any]) -> str | None:
    """A listing entry's or a HEAD's ETag, without the quotes S3 puts around it."""
    return str(meta.get("ETag", "")).strip('"') or None


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` → (`bucket`, `some/prefix`)."""
    rest = uri[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/")


def translate(exc: Exception, bucket: str, key: str) -> Exception:
    """S3 error codes → LogLake errors naming bucket and key, with what to do."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    where = f"s3://{bucket}/{key}"
    if code in ("NoSuchKey", "404", "NotFound"):
        return ObjectNotFound(f"{where}: no such object")
    if code == "NoSuchBucket":
        return ObjectError(where, f"bucket `{bucket}` does not exist", hint="check the bucket name and region")
    if code in ("AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return ObjectError(where, f"access denied ({code})", hint="check the IAM policy allows this call on the bucket")
    if code in ("SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "503", "500"):
        return Transient(f"{where}: S3 is throttling or failing ({code}); retry later")
    return StorageError(f"{where}: {code or type(exc).__name__}: {exc}")


class _Body(io.RawIOBase):
    """A botocore StreamingBody as a raw binary stream (so it can be buffered and decompressed)."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        self.body.close()
        super().close()


class S3Storage(Storage):
    def __init__(self, uri: str, client: Any = None) -> None:
        self.bucket, self.prefix = split_uri(uri)
        self.client = client or s3_client()

    def __repr__(self) -> str:
        return f"S3Storage(s3://{self.bucket}/{self.prefix})"

    def _key(self, key: str) -> str:
        key = key.lstrip("/")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _rel(self, full: str) -> str:
        return full[len(self.prefix) + 1 :] if self.prefix else full

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def open_read(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise translate(exc, self.bucket, self._key(key)) from exc
        return io.BufferedReader(_Body(response["Body"]), 1 << 20)  # type: ignore[return-value]

    @contextmanager
    def open_write(self, key: str) -> Iterator[BinaryIO]:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            yield spool  # type: ignore[misc]
            size = spool.tell()
            spool.seek(0)
            try:
                if size <= SINGLE_PUT_BYTES:  # streamed from the spool, never held whole
                    self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=spool)
                else:
                    self.client.upload_fileobj(spool, self.bucket, self._key(key), Config=_transfer_config())
            except Exception as exc:
                raise translate(exc, self.bucket, self._key(key)) from exc

    def write_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except Exception as exc:
            raise translate(exc, self.bucket, self._key(key)) from exc

    def move(self, src: str, dst: str) -> None:
        try:
            self.client.copy({"Bucket": self.bucket, "Key": self._key(src)}, self.bucket, self._key(dst))
        except Exception as exc:
            raise translate(exc, self.bucket, self._key(src)) from exc
        self.delete(src)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            err = translate(exc, self.bucket, self._key(key))
            if not isinstance(err, ObjectNotFound):
                raise err from exc

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix=self._key(prefix) if prefix else (self.prefix + "/" if self.prefix else "")
            ):
                for obj in page.get("Contents", []):
                    if obj["Key"].endswith("/"):
                        continue  # folder markers are not objects
                    yield ObjectInfo(self._rel(obj["Key"]), obj["Size"], _mtime_ns(obj), _etag(obj))
        except Exception as exc:
            raise translate(exc, self.bucket, self._key(prefix)) from exc

    def stat(self, key: str) -> ObjectInfo:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise translate(exc, self.bucket, self._key(key)) from exc
        return ObjectInfo(key, head["ContentLength"], _mtime_ns(head), _etag(head))

    def update(self, key: str, change: Callable[[bytes | None], bytes]) -> bytes:
        """Optimistic concurrency with S3 conditional writes: If-Match the ETag we read, or If-None-Match."""
        full = self._key(key)
        for attempt in range(50):
            try:
                got = self.client.get_object(Bucket=self.bucket, Key=full)
                current, etag = got["Body"].read(), got["ETag"]
            except Exception as exc:
                if not isinstance(translate(exc, self.bucket, full), ObjectNotFound):
                    raise translate(exc, self.bucket, full) from exc
                current, etag = None, None
            data = change(current)
            condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            try:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=data, **condition)
                return data
            except Exception as exc:
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
                if code not in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
                    raise translate(exc, self.bucket, full) from exc
                time.sleep(min(0.05 * 2**attempt, 1.0))
        raise Transient(f"s3://{self.bucket}/{full}: too many concurrent updates; retry later")

    def arrow_filesystem(self) -> tuple[Any, str]:
        import pyarrow.fs as pafs

        endpoint = self.client.meta.endpoint_url
        creds = self.client._request_signer._credentials
        frozen = creds.get_frozen_credentials() if creds else None
        kwargs: dict[str, Any] = {"region": self.client.meta.region_name or "us-east-1"}
        if frozen is not None:
            kwargs.update(access_key=frozen.access_key, secret_key=frozen.secret_key, session_token=frozen.token)
        if endpoint and "amazonaws.com" not in endpoint:
            scheme, _, host = endpoint.partition("://")
            kwargs.update(endpoint_override=host, scheme=scheme)
        return pafs.S3FileSystem(**kwargs), f"{self.bucket}/{self.prefix}".rstrip("/")
