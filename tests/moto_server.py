"""moto's server, with Glue's UpdateTable `VersionId` enforced as AWS documents it.

moto 5.2 ignores `VersionId`, so every concurrent Iceberg commit through Glue "succeeds" and the
last one silently overwrites the others — no real Glue behaves so. Here an update naming a version
that is no longer current fails with `ConcurrentModificationException`, checked and applied under
one lock (the server handles requests on threads). Everything else is moto's own.

Run as `python -m tests.moto_server -H 127.0.0.1 -p PORT` (the same arguments as `moto.server`).
"""

from __future__ import annotations

import threading
from typing import Any

from moto.glue import responses
from moto.glue.exceptions import GlueClientError
from moto.server import main

_LOCK = threading.Lock()
_original = responses.GlueResponse.update_table


class ConcurrentModificationException(GlueClientError):
    def __init__(self, message: str) -> None:
        super().__init__("ConcurrentModificationException", message)


def update_table(self: Any) -> Any:
    version = self.parameters.get("VersionId")
    with _LOCK:
        if version is not None:
            name = self.parameters["TableInput"]["Name"]
            current = self.glue_backend.get_table(self.parameters["DatabaseName"], name)._current_version
            if str(current) != str(version):
                raise ConcurrentModificationException(
                    f"Update table failed due to concurrent modifications: version {version}, current {current}"
                )
        return _original(self)


responses.GlueResponse.update_table = update_table  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
