"""Storage backends behind one interface, chosen by the lake URI's scheme."""

from __future__ import annotations

from loglake.errors import ConfigError
from loglake.storage.base import ObjectInfo, Storage
from loglake.storage.local import LocalStorage

__all__ = ["LocalStorage", "ObjectInfo", "Storage", "open_storage"]


def open_storage(root: str) -> Storage:
    """`./lake`, `/abs/path`, `file:///abs/path`, or `s3://bucket[/prefix]` (boto3 imported only then)."""
    if root.startswith("file://"):
        return LocalStorage(root[len("file://") :])
    if root.startswith("s3://"):
        try:
            from loglake.storage.s3 import S3Storage
        except ImportError as exc:  # pragma: no cover - boto3 is a dependency, but keep the hint
            raise ConfigError(f"lake `{root}` needs boto3", hint="pip install boto3") from exc
        return S3Storage(root)
    if "://" in root:
        scheme = root.split("://", 1)[0]
        raise ConfigError(
            f"lake `{root}`: the `{scheme}://` scheme is not supported yet",
            hint="use a local folder or s3://bucket/prefix",
        )
    return LocalStorage(root)
