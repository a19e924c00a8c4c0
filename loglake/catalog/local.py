"""The embedded catalog: one JSON document in the lake, read by the DuckDB query engine.

It lists every committed data file with its columns, so a table's schema is always the union
over its current files (widened), whether it was built incrementally or by `crawl`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from loglake.catalog.types import merge_columns
from loglake.config import CatalogConfig
from loglake.errors import ObjectNotFound
from loglake.records import ERROR_COLUMNS, PROCESSED_BASE_COLUMNS
from loglake.storage import Storage

CATALOG_KEY = "catalog/catalog.json"
ZONES = ("processed", "errors")
BASE_COLUMNS = {"processed": PROCESSED_BASE_COLUMNS, "errors": ERROR_COLUMNS}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _slim(files: dict[str, Any]) -> dict[str, Any]:
    """Each distinct column list once: thousands of small files share a handful of schemas, and the
    document is read and rewritten on every catalog update."""
    schemas: dict[tuple[tuple[str, str], ...], int] = {}
    out = {}
    for key, entry in files.items():
        shape = tuple((name, kind) for name, kind in entry["columns"])
        index = schemas.setdefault(shape, len(schemas))
        out[key] = {"dt": entry["dt"], "rows": entry["rows"], "schema": index}
    return {"schemas": [[list(c) for c in shape] for shape in schemas], "files": out}


class LocalCatalog:
    def __init__(self, storage: Storage, config: CatalogConfig) -> None:
        self.storage = storage
        self.config = config
        self.table_of_zone = {"processed": config.processed_table, "errors": config.errors_table}

    def empty(self) -> dict[str, Any]:
        return {
            "database": self.config.database,
            "tables": {
                self.table_of_zone[zone]: {"zone": zone, "location": self.storage.uri(zone + "/"), "files": {}}
                for zone in ZONES
            },
        }

    def load(self) -> dict[str, Any]:
        """The catalog with derived columns and partitions filled in."""
        try:
            return self._parse(self.storage.read_bytes(CATALOG_KEY))
        except ObjectNotFound:
            return self._parse(None)

    def _derive(self, doc: dict[str, Any]) -> dict[str, Any]:
        base = self.empty()
        base["tables"].update(doc.get("tables", {}))
        doc["tables"] = base["tables"]
        doc["database"] = self.config.database
        for table in doc["tables"].values():
            files = table.setdefault("files", {})
            distinct = {id(f["columns"]): f["columns"] for f in files.values()}  # files share their schema's list
            from_files = merge_columns(*distinct.values())
            table["file_columns"] = [name for name, _ in from_files]
            present = set(table["file_columns"])
            table["columns"] = from_files + [c for c in BASE_COLUMNS[table["zone"]] if c[0] not in present]
            table["partitions"] = sorted({f["dt"] for f in files.values()})
            table["formats"] = sorted({k.rsplit(".", 1)[-1] for k in files})
            table["rows"] = sum(f["rows"] for f in files.values())
        return doc

    def _serialise(self, doc: dict[str, Any]) -> bytes:
        slim = {
            "database": doc["database"],
            "updated": _now(),
            "tables": {
                name: {"zone": t["zone"], "location": t["location"], **_slim(t["files"])}
                for name, t in doc["tables"].items()
            },
        }
        return orjson.dumps(slim, option=orjson.OPT_INDENT_2)

    def _parse(self, data: bytes | None) -> dict[str, Any]:
        try:
            doc = orjson.loads(data) if data else self.empty()
        except orjson.JSONDecodeError:
            doc = self.empty()
        for table in doc.get("tables", {}).values():
            schemas = table.pop("schemas", [])
            for entry in table.get("files", {}).values():
                if "schema" in entry:
                    entry["columns"] = schemas[entry.pop("schema")]  # shared, never changed in place
        return self._derive(doc)

    def apply(self, added: Iterable[dict[str, Any]], removed: Iterable[str]) -> None:
        """Register committed files (`key, zone, dt, rows, columns`) and forget replaced ones."""
        added, removed = list(added), list(removed)
        if not added and not removed:
            return

        def change(current: bytes | None) -> bytes:
            doc = self._parse(current)
            by_zone = {t["zone"]: t for t in doc["tables"].values()}
            for key in removed:
                for table in by_zone.values():
                    table["files"].pop(key, None)
            for out in added:
                if self.storage.cheap_stat and not self.storage.exists(out["key"]):
                    # Runs register commits in batches, after the fact: another run reprocessing the same
                    # objects may have replaced this file since, and told the catalog already.
                    continue
                by_zone[out["zone"]]["files"][out["key"]] = {
                    "dt": out["dt"],
                    "rows": out["rows"],
                    "columns": [list(c) for c in out["columns"]],
                }
            return self._serialise(doc)

        self.storage.update(CATALOG_KEY, change)

    def replace_all(self, files: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        """What `crawl` found, per zone, becomes the whole catalog."""
        doc = self.empty()
        for table in doc["tables"].values():
            for out in files.get(table["zone"], []):
                table["files"][out["key"]] = {"dt": out["dt"], "rows": out["rows"], "columns": out["columns"]}
        self.storage.update(CATALOG_KEY, lambda _current: self._serialise(doc))
        return self._derive(doc)
