"""The lake: one root holding the zones, the tables' catalog, manifests and query results."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from loglake.config import EXAMPLE_TOML, Settings
from loglake.pipeline import Pipeline
from loglake.storage import LocalStorage, Storage, open_storage
from loglake.tables.catalog import Tables, open_tables
from loglake.tables.journal import read_manifest, source_id

ZONES = ("raw", "processed", "errors", "catalog", "manifests", "commits", "query-results")


@dataclass
class Lake:
    settings: Settings
    storage: Storage
    _tables: Tables | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings) -> Lake:
        storage = open_storage(settings.lake)
        if isinstance(storage, LocalStorage):
            storage.fsync = settings.processing.fsync
        return cls(settings, storage)

    @property
    def uri(self) -> str:
        return self.storage.uri("")

    @property
    def tables(self) -> Tables:
        """The two Iceberg tables (opened on first use: commands that never touch them pay nothing)."""
        if self._tables is None:
            local = self.storage.path("") if isinstance(self.storage, LocalStorage) else None
            base = "file://" + os.path.abspath(local) if local is not None else self.storage.uri("").rstrip("/")
            self._tables = open_tables(base, self.settings.catalog, local)
        return self._tables

    def pipeline(self) -> Pipeline:
        return Pipeline(self.settings, self.storage, self.tables)

    def init(self) -> list[str]:
        """Create the zones, the tables and a commented `loglake.toml`; never overwrites an existing one."""
        created = []
        if isinstance(self.storage, LocalStorage):
            for zone in ZONES:
                path = self.storage.path(zone)
                if not os.path.isdir(path):
                    os.makedirs(path, exist_ok=True)
                    created.append(zone + "/")
        if not self.storage.exists("loglake.toml"):
            self.storage.write_bytes("loglake.toml", EXAMPLE_TOML.encode())
            created.append("loglake.toml")
        self.tables.ensure()
        return created

    def is_current(self, uri: str, size: int, mtime_ns: int) -> bool:
        """Already committed at this exact version? (watch skips such files at start-up)"""
        manifest = read_manifest(self.storage, source_id(uri))
        return bool(
            manifest
            and manifest.get("state") == "committed"
            and "failure" not in manifest
            and manifest.get("fingerprint") == {"size": size, "mtime_ns": mtime_ns}
        )
