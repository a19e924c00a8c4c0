"""Storage backends behind one interface, chosen by the lake URI's scheme."""

from __future__ import annotations

from loglake.errors import ConfigError
from loglake.storage.base import ObjectInfo, Storage
from loglake.storage.local import LocalStorage

__all__ = ["LocalStorage", "ObjectInfo", "Storage", "open_storage"]


def open_storage(root: str) -> Storage:
    """`./lake`, `/abs/path` or `file:///abs/path` today; `s3://` arrives with the AWS backend."""
    if root.startswith("file://"):
        return LocalStorage(root[len("file://") :])
    if "://" in root:
        scheme = root.split("://", 1)[0]
        raise ConfigError(
            f"lake `{root}`: the `{scheme}://` scheme is not supported yet",
            hint="use a local folder for the lake",
        )
    return LocalStorage(root)
