"""pyiceberg's file IO for S3 lakes, over the boto3 client the rest of LogLake already holds.

pyiceberg's default IO for `s3://` is PyArrow's S3 filesystem, which starts the AWS C++ SDK beside
boto3: in the Lambda handler that was ~50 MB of a one-line object's 182 MB peak. Table commits only
read and write small metadata, manifest and Parquet-footer bytes, which ranged GETs and single PUTs
serve as well. Set as the Glue catalog's `py-io-impl` (see `tables.catalog.open_tables`).
"""

from __future__ import annotations

import io
import tempfile
from types import TracebackType
from typing import Any

from pyiceberg.io import FileIO, InputFile, InputStream, OutputFile, OutputStream

from loglake.storage.s3 import SPOOL_BYTES, s3_client, split_uri, translate

READ_BUFFER = 1 << 20
"""Ranged GETs of at least this: a Parquet footer or a manifest is read in one or two requests."""


def _missing(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("404", "NoSuchKey", "NotFound")


class _Ranged(io.RawIOBase):
    """A seekable reader of one S3 object by ranged GETs (its size from one HEAD)."""

    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        self._client, self._bucket, self._key, self._size, self._pos = client, bucket, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-{self._pos + want - 1}"
            )
        except Exception as exc:
            raise translate(exc, self._bucket, self._key) from exc
        data = response["Body"].read()
        view = memoryview(buffer).cast("B")
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


class S3InputFile(InputFile):
    def __init__(self, location: str, client: Any) -> None:
        super().__init__(location)
        self._client = client
        self._bucket, self._key = split_uri(location)
        self._size: int | None = None

    def _head(self) -> int:
        if self._size is None:
            try:
                meta = self._client.head_object(Bucket=self._bucket, Key=self._key)
            except Exception as exc:
                if _missing(exc):
                    raise FileNotFoundError(f"no such object: {self.location}") from exc
                raise translate(exc, self._bucket, self._key) from exc
            self._size = int(meta["ContentLength"])
        return self._size

    def __len__(self) -> int:
        return self._head()

    def exists(self) -> bool:
        try:
            self._head()
        except FileNotFoundError:
            return False
        return True

    def open(self, seekable: bool = True) -> InputStream:
        raw = _Ranged(self._client, self._bucket, self._key, self._head())
        return io.BufferedReader(raw, READ_BUFFER)  # type: ignore[return-value]


class _Upload:
    """Spooled locally (memory up to `SPOOL_BYTES`, then a temp file), put in one request on close."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by close()
        self.closed = False

    def write(self, b: bytes) -> int:
        return self._spool.write(b)

    def tell(self) -> int:
        return self._spool.tell()

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._spool.seek(0)
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=self._spool)
        except Exception as exc:
            raise translate(exc, self._bucket, self._key) from exc
        finally:
            self._spool.close()

    def __enter__(self) -> _Upload:
        return self

    def __exit__(
        self, exctype: type[BaseException] | None, excinst: BaseException | None, exctb: TracebackType | None
    ) -> None:
        if exctype is None:
            self.close()
        else:  # nothing half-written is put
            self.closed = True
            self._spool.close()


class S3OutputFile(OutputFile):
    def __init__(self, location: str, client: Any) -> None:
        super().__init__(location)
        self._client = client
        self._bucket, self._key = split_uri(location)

    def __len__(self) -> int:
        return len(self.to_input_file())

    def exists(self) -> bool:
        return self.to_input_file().exists()

    def to_input_file(self) -> S3InputFile:
        return S3InputFile(self.location, self._client)

    def create(self, overwrite: bool = False) -> OutputStream:
        if not overwrite and self.exists():
            raise FileExistsError(f"cannot create {self.location}: it exists")
        return _Upload(self._client, self._bucket, self._key)  # type: ignore[return-value]


class S3FileIO(FileIO):
    """`s3://` locations through `loglake.storage.s3.s3_client()` (endpoint, region and retries as
    everywhere else in LogLake)."""

    def __init__(self, properties: Any = None) -> None:
        super().__init__(properties or {})
        self._client = s3_client()

    def new_input(self, location: str) -> S3InputFile:
        return S3InputFile(location, self._client)

    def new_output(self, location: str) -> S3OutputFile:
        return S3OutputFile(location, self._client)

    def delete(self, location: str | InputFile | OutputFile) -> None:
        uri = location if isinstance(location, str) else location.location
        bucket, key = split_uri(uri)
        try:
            self._client.delete_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if not _missing(exc):
                raise translate(exc, bucket, key) from exc
