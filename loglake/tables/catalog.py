"""Where the lake's two Iceberg tables are registered, and their starting shapes.

- A local lake keeps a SQLite catalog inside the lake (`catalog/iceberg.db`): nothing to run, one
  file, and commits serialised by the lake's commit lock (SQLite's optimistic commits alone lose
  appends under several writer processes).
- An S3 lake registers its tables in the Glue Data Catalog as Iceberg tables (`table_type=ICEBERG`,
  `metadata_location`): Athena, EMR/Spark and Trino find them there with no crawler and no
  partitions to add; Glue's conditional update is the commit's compare-and-swap.

Table locations are the zones (`<lake>/processed/`, `<lake>/errors/`): metadata under `metadata/`,
data files under `dt=YYYY-MM-DD/`, identity-partitioned by `dt`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from loglake.config import CatalogConfig
from loglake.errors import Terminal
from loglake.records import ERROR_SCHEMA, TIMESTAMP
from loglake.tables.locate import glue_metadata_location, sqlite_metadata_location
from loglake.tables.schema import arrow_of

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

ZONES = ("processed", "errors")
SQLITE_KEY = "catalog/iceberg.db"
CATALOG_NAME = "loglake"
PARTITION = "dt"

PROCESSED_BASE = pa.schema(
    [
        ("level", pa.string()),
        ("message", pa.string()),
        ("processed_timestamp", TIMESTAMP),
        ("source_uri", pa.string()),
        ("source_line", pa.int64()),
        ("source_format", pa.string()),
        (PARTITION, pa.string()),
    ]
)
"""Columns every processed table has before data arrives (the tutorial's queries need them)."""

ERRORS_BASE = pa.schema([*ERROR_SCHEMA.items(), (PARTITION, pa.string())])

BASE = {"processed": PROCESSED_BASE, "errors": ERRORS_BASE}

TABLE_PROPERTIES = {
    "format-version": "2",
    "write.parquet.compression-codec": "zstd",
    # Our own loop retries a conflicting commit after re-deciding what it replaces (see commit.py).
    "commit.retry.num-retries": "0",
    # Old metadata files go once they are this many commits behind: the metadata folder stays small.
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
    # Appends merge small manifests once there are 16: a delete by source_uri (reprocessing) reads every
    # manifest, so their number must not grow with the number of commits.
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "16",
    # Full bounds on source_uri: a delete of one source's rows then drops that source's own files from
    # metadata alone and skips every other file, instead of reading all files that share a 16-char prefix.
    "write.metadata.metrics.column.source_uri": "full",
}


class TableDamaged(Terminal):
    """A catalog or a table's metadata is missing or unreadable: never treated as an empty table."""


@dataclass
class Tables:
    """The lake's catalog and its two tables.

    pyiceberg (and its catalog) loads on first use of `catalog`: a writer starts from `schema()`, read
    from the metadata file alone, so pyiceberg's ~30 MB of modules are not resident while an object's
    data streams through, only when it commits (see the README's performance section)."""

    opener: Callable[[], Catalog]
    config: CatalogConfig
    locations: dict[str, str]
    where: str
    """Where the catalog lives, for messages (`<lake>/catalog/iceberg.db`, `Glue Data Catalog (us-east-1)`)."""
    local: bool
    locate: Callable[[str], str | None]
    """A table's current metadata location by name (None: no such table), without pyiceberg."""
    _cache: dict[str, Table] = field(default_factory=dict)
    _catalog: Catalog | None = None
    _arrow: dict[str, tuple[Table, pa.Schema]] = field(default_factory=dict)
    """The Arrow form of a loaded table's schema (every object's writers start from it)."""

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            _give_back_freed_memory()
            self._catalog = self.opener()
        return self._catalog

    def name(self, zone: str) -> str:
        table = self.config.processed_table if zone == "processed" else self.config.errors_table
        return f"{self.config.database}.{table}"

    def load(self, zone: str, refresh: bool = False) -> Table:
        """The zone's table as it stands (cached; `refresh` reads the catalog again)."""
        table = self._cache.get(zone)
        if table is not None and not refresh:
            return table
        table = self._load(zone)
        self._cache[zone] = table
        return table

    def _load(self, zone: str) -> Table:
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        try:
            return self.catalog.load_table(self.name(zone))
        except (NoSuchTableError, NoSuchNamespaceError):
            self.ensure()
            return self.catalog.load_table(self.name(zone))
        except TableDamaged:
            raise
        except Exception as exc:  # unreadable metadata, a broken catalog file, access denied
            raise TableDamaged(
                f"table `{self.name(zone)}` in {self.where} cannot be read: {exc}",
                hint="`loglake crawl` rebuilds the tables from the zones and the manifests",
            ) from exc

    def schema(self, zone: str) -> pa.Schema:
        """The zone's table schema as Arrow (the base columns when the table is not created yet)."""
        table = self._cache.get(zone)
        if table is not None:
            known = self._arrow.get(zone)
            if known is None or known[0] is not table:
                known = self._arrow[zone] = (table, table.schema().as_arrow())
            return known[1]
        try:
            location = self.locate(self.name(zone))
            if location is None:
                return BASE[zone]
            metadata = orjson.loads(_read(location))
            current = metadata.get("current-schema-id", 0)
            return arrow_of(next(s for s in metadata["schemas"] if s["schema-id"] == current))
        except Exception as exc:  # unreadable metadata, a broken catalog file, access denied
            raise TableDamaged(
                f"table `{self.name(zone)}` in {self.where} cannot be read: {exc}",
                hint="`loglake crawl` rebuilds the tables from the zones and the manifests",
            ) from exc

    def ensure(self) -> None:
        """Create the database and both tables where missing; another writer creating them first is fine
        (a fresh stack's first workers, `--jobs` processes on a new lake)."""
        try:
            self.catalog.create_namespace_if_not_exists(self.config.database)
        except Exception:
            if not self._namespace_exists():
                raise
        for zone in ZONES:
            if self.catalog.table_exists(self.name(zone)):
                continue
            schema, spec = _create_args(BASE[zone])
            try:
                self.catalog.create_table(
                    self.name(zone),
                    schema=schema,
                    location=self.locations[zone],
                    partition_spec=spec,
                    # Files pyiceberg rewrites (a delete of part of a shared file) land beside ours.
                    properties={**TABLE_PROPERTIES, "write.data.path": self.locations[zone]},
                )
            except Exception:
                if not self.catalog.table_exists(self.name(zone)):
                    raise  # not a concurrent creator: a real failure

    def _namespace_exists(self) -> bool:
        try:
            self.catalog.load_namespace_properties(self.config.database)
        except Exception:
            return False
        return True

    def drop(self) -> None:
        """Forget both tables (data and metadata files stay: `crawl` rebuilds from them)."""
        from pyiceberg.exceptions import NoSuchTableError

        for zone in ZONES:
            with contextlib.suppress(NoSuchTableError):
                self.catalog.drop_table(self.name(zone))
        self._cache.clear()


def iceberg_schema(schema: pa.Schema) -> Any:
    """An Iceberg schema with fresh field ids for a pyarrow one (every field optional)."""
    from pyiceberg.io.pyarrow import _pyarrow_to_schema_without_ids
    from pyiceberg.schema import assign_fresh_schema_ids

    return assign_fresh_schema_ids(_pyarrow_to_schema_without_ids(schema))


def _create_args(schema: pa.Schema) -> tuple[Any, Any]:
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import IdentityTransform

    ice = iceberg_schema(schema)
    source_id = ice.find_field(PARTITION).field_id
    spec = PartitionSpec(
        PartitionField(source_id=source_id, field_id=1000, transform=IdentityTransform(), name=PARTITION)
    )
    return ice, spec


def open_tables(lake_uri: str, config: CatalogConfig, local_root: str | None) -> Tables:
    """The catalog suited to the lake: SQLite inside a local lake, Glue for an S3 lake."""
    base = lake_uri.rstrip("/")
    locations = {zone: f"{base}/{zone}" for zone in ZONES}
    if local_root is not None:
        path = os.path.join(local_root, SQLITE_KEY)
        if os.path.exists(path) and os.path.getsize(path) and not _is_sqlite(path):
            raise TableDamaged(
                f"the lake's catalog {path} is not a SQLite database",
                hint="move it aside and run `loglake crawl` to rebuild the tables from the zones",
            )
        os.makedirs(os.path.dirname(path), exist_ok=True)

        def sqlite() -> Catalog:
            from loglake.tables.sqlite import SqliteCatalog

            return SqliteCatalog(CATALOG_NAME, path, warehouse=f"file://{local_root}")

        def locate_local(name: str) -> str | None:
            return sqlite_metadata_location(path, CATALOG_NAME, name)

        return Tables(sqlite, config, locations, path, local=True, locate=locate_local)

    # Our boto3-based IO, not PyArrow's S3 filesystem: see `loglake.storage.s3_fileio`.
    props: dict[str, str] = {"py-io-impl": "loglake.storage.s3_fileio.S3FileIO"}
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if endpoint:
        props.update({"glue.endpoint": endpoint, "s3.endpoint": endpoint})
    if region:
        props.update({"glue.region": region, "s3.region": region, "client.region": region})

    def glue() -> Catalog:
        from pyiceberg.catalog.glue import GlueCatalog

        from loglake.storage.s3 import s3_client

        # The client the rest of the run uses: its own would load another session's endpoint data (~8 MB).
        return GlueCatalog(CATALOG_NAME, client=s3_client("glue"), **props)

    where = f"the Glue Data Catalog ({region or 'default region'})"
    return Tables(glue, config, locations, where, local=False, locate=glue_metadata_location)


def _give_back_freed_memory() -> None:
    """Return the heap's free pages to the system before pyiceberg's modules load (glibc's malloc_trim).

    An object's batches were freed in the arena of the thread that built them, where the main thread's
    imports cannot reuse them: without this, pyiceberg's ~30 MB came on top of what a big object had
    left free (an access log's peak 117 -> 148 MB; with it, 119 MB)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to give back this way
        pass


def _read(uri: str) -> bytes:
    """A metadata file's bytes (`file://…` or `s3://…`)."""
    if uri.startswith("s3://"):
        from loglake.storage.s3 import s3_client, split_uri

        bucket, key = split_uri(uri)
        return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]
    with open(uri.removeprefix("file://"), "rb") as fh:
        return fh.read()


def _is_sqlite(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"
