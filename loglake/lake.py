"""The lake: one root holding the zones, the catalog, manifests and query results."""

from __future__ import annotations

from dataclasses import dataclass

from loglake.catalog.local import LocalCatalog
from loglake.config import EXAMPLE_TOML, Settings
from loglake.pipeline import Pipeline
from loglake.sinks.commit import source_id
from loglake.storage import LocalStorage, Storage, open_storage

ZONES = ("raw", "processed", "errors", "catalog", "manifests", "query-results")


@dataclass
class Lake:
    settings: Settings
    storage: Storage
    catalog: LocalCatalog

    @classmethod
    def open(cls, settings: Settings) -> Lake:
        storage = open_storage(settings.lake)
        if isinstance(storage, LocalStorage):
            storage.fsync = settings.processing.fsync
        catalog = LocalCatalog(storage, settings.catalog)
        if settings.lake.startswith("s3://") and settings.aws.glue:
            from loglake.aws.glue import GlueCatalog

            formats = {"processed": settings.processing.processed_format, "errors": settings.processing.errors_format}
            catalog = GlueCatalog(storage, settings.catalog, formats)
        return cls(settings, storage, catalog)

    @property
    def uri(self) -> str:
        return self.storage.uri("")

    def pipeline(self) -> Pipeline:
        return Pipeline(self.settings, self.storage, self.catalog)

    def init(self) -> list[str]:
        """Create the zones and a commented `loglake.toml`; never overwrites an existing one."""
        created = []
        if isinstance(self.storage, LocalStorage):
            import os

            for zone in ZONES:
                path = self.storage.path(zone)
                if not os.path.isdir(path):
                    os.makedirs(path, exist_ok=True)
                    created.append(zone + "/")
        if not self.storage.exists("loglake.toml"):
            self.storage.write_bytes("loglake.toml", EXAMPLE_TOML.encode())
            created.append("loglake.toml")
        return created

    def is_current(self, uri: str, size: int, mtime_ns: int) -> bool:
        """Already committed at this exact version? (watch skips such files at start-up)"""
        from loglake.sinks.commit import read_manifest

        manifest = read_manifest(self.storage, source_id(uri))
        return bool(
            manifest
            and manifest.get("state") == "committed"
            and "failure" not in manifest
            and manifest.get("fingerprint") == {"size": size, "mtime_ns": mtime_ns}
        )
