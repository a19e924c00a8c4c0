"""Where a table's current metadata file is, asked of its catalog without loading pyiceberg.

Writers start from the table's schema (`Tables.schema`) and load pyiceberg only to commit; these
two lookups are all they need before that.
"""

from __future__ import annotations

import contextlib
import sqlite3

TABLE_ROW = (
    "catalog_name = ? AND table_namespace = ? AND table_name = ? AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)"
)


def sqlite_metadata_location(path: str, catalog: str, name: str) -> str | None:
    """The table's current metadata file, read without pyiceberg (None: no such table, or no catalog yet)."""
    namespace, table = name.rsplit(".", 1)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)) as db:
            row = db.execute(
                f"SELECT metadata_location FROM iceberg_tables WHERE {TABLE_ROW}", (catalog, namespace, table)
            ).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc) or "unable to open" in str(exc):
            return None
        raise
    return row[0] if row else None


def glue_metadata_location(name: str) -> str | None:
    """A Glue Iceberg table's `metadata_location` (None: no such table)."""
    from loglake.storage.s3 import s3_client

    database, table = name.rsplit(".", 1)
    client = s3_client("glue")
    try:
        found = client.get_table(DatabaseName=database, Name=table)["Table"]
    except client.exceptions.EntityNotFoundException:
        return None
    return found.get("Parameters", {}).get("metadata_location")  # type: ignore[no-any-return]
