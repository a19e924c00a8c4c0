"""A local lake's Iceberg catalog: one SQLite file, through Python's own `sqlite3`.

The file has the layout of pyiceberg's `SqlCatalog` (and of Iceberg's JDBC catalog): tables
`iceberg_tables` and `iceberg_namespace_properties`, so `SqlCatalog(uri="sqlite:///…/iceberg.db")`
or any JDBC-catalog reader opens a LogLake lake as it is. It is written with `sqlite3` instead of
`SqlCatalog` because `SqlCatalog` brings SQLAlchemy, resident in every process that commits: 18 MB
of a ~150 MB peak (see the README's performance section). A commit is the same compare-and-swap:
`UPDATE … WHERE metadata_location = <the one this commit started from>`, one row or a conflict.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog, MetastoreCatalog, PropertiesUpdateSummary
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.io import load_file_io
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import CommitTableResponse, Table
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER
from pyiceberg.typedef import EMPTY_DICT

from loglake.tables.locate import TABLE_ROW as _TABLE_ROW

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table.sorting import SortOrder
    from pyiceberg.table.update import TableRequirement, TableUpdate
    from pyiceberg.typedef import Identifier, Properties
    from pyiceberg.view import View

TABLE_TYPE = "TABLE"

DDL = """
CREATE TABLE IF NOT EXISTS iceberg_tables (
    catalog_name VARCHAR(255) NOT NULL,
    table_namespace VARCHAR(255) NOT NULL,
    table_name VARCHAR(255) NOT NULL,
    metadata_location VARCHAR(1000),
    previous_metadata_location VARCHAR(1000),
    iceberg_type VARCHAR(5),
    PRIMARY KEY (catalog_name, table_namespace, table_name)
);
CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
    catalog_name VARCHAR(255) NOT NULL,
    namespace VARCHAR(255) NOT NULL,
    property_key VARCHAR(255) NOT NULL,
    property_value VARCHAR(1000) NOT NULL,
    PRIMARY KEY (catalog_name, namespace, property_key)
);
"""


class SqliteCatalog(MetastoreCatalog):
    """pyiceberg's catalog interface over one SQLite file (views and renames are not needed here)."""

    def __init__(self, name: str, path: str, **properties: str) -> None:
        super().__init__(name, **properties)
        self.path = path
        with self._db() as db:
            present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"iceberg_tables", "iceberg_namespace_properties"} <= present:
                db.executescript(DDL)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A generous busy timeout: several processes commit to one lake (their lock orders them; readers wait).
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    @staticmethod
    def _split(identifier: str | Identifier) -> tuple[str, str]:
        return Catalog.namespace_to_string(Catalog.namespace_from(identifier)), Catalog.table_name_from(identifier)

    def _location(self, namespace: str, name: str) -> str | None:
        with self._db() as db:
            row = db.execute(
                f"SELECT metadata_location FROM iceberg_tables WHERE {_TABLE_ROW}", (self.name, namespace, name)
            ).fetchone()
        return row[0] if row else None

    def load_table(self, identifier: str | Identifier) -> Table:
        namespace, name = self._split(identifier)
        location = self._location(namespace, name)
        if not location:
            raise NoSuchTableError(f"Table does not exist: {namespace}.{name}")
        metadata = FromInputFile.table_metadata(load_file_io(self.properties, location).new_input(location))
        return Table(
            identifier=(*Catalog.identifier_to_tuple(namespace), name),
            metadata=metadata,
            metadata_location=location,
            io=self._load_file_io(metadata.properties, location),
            catalog=self,
        )

    def create_table(
        self,
        identifier: str | Identifier,
        schema: Schema | pa.Schema,
        location: str | None = None,
        partition_spec: PartitionSpec = UNPARTITIONED_PARTITION_SPEC,
        sort_order: SortOrder = UNSORTED_SORT_ORDER,
        properties: Properties = EMPTY_DICT,
    ) -> Table:
        namespace, name = self._split(identifier)
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        staged = self._create_staged_table(identifier, schema, location, partition_spec, sort_order, properties)
        self._write_metadata(staged.metadata, staged.io, staged.metadata_location)
        self._insert(namespace, name, staged.metadata_location)
        return self.load_table(identifier)

    def _insert(self, namespace: str, name: str, location: str) -> None:
        try:
            with self._db() as db:
                db.execute(
                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, "
                    "previous_metadata_location, iceberg_type) VALUES (?, ?, ?, ?, NULL, ?)",
                    (self.name, namespace, name, location, TABLE_TYPE),
                )
        except sqlite3.IntegrityError as exc:
            raise TableAlreadyExistsError(f"Table {namespace}.{name} already exists") from exc

    def register_table(self, identifier: str | Identifier, metadata_location: str, overwrite: bool = False) -> Table:
        if overwrite:
            raise NotImplementedError("`overwrite` isn't supported")
        namespace, name = self._split(identifier)
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        self._insert(namespace, name, metadata_location)
        return self.load_table(identifier)

    def commit_table(
        self, table: Table, requirements: tuple[TableRequirement, ...], updates: tuple[TableUpdate, ...]
    ) -> CommitTableResponse:
        namespace, name = self._split(table.name())
        try:
            current: Table | None = self.load_table(table.name())
        except NoSuchTableError:
            current = None
        staged = self._update_and_stage_table(current, table.name(), requirements, updates)
        if current is not None and staged.metadata == current.metadata:
            return CommitTableResponse(metadata=current.metadata, metadata_location=current.metadata_location)  # type: ignore[call-arg]  # pydantic alias
        self._write_metadata(staged.metadata, staged.io, staged.metadata_location)
        if current is None:
            self._insert(namespace, name, staged.metadata_location)
        else:
            with self._db() as db:
                swapped = db.execute(
                    "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
                    f"WHERE {_TABLE_ROW} AND metadata_location = ?",
                    (
                        staged.metadata_location,
                        current.metadata_location,
                        self.name,
                        namespace,
                        name,
                        current.metadata_location,
                    ),
                ).rowcount
            if swapped < 1:
                raise CommitFailedException(f"Table has been updated by another process: {namespace}.{name}")
        return CommitTableResponse(metadata=staged.metadata, metadata_location=staged.metadata_location)  # type: ignore[call-arg]  # pydantic alias

    def drop_table(self, identifier: str | Identifier) -> None:
        namespace, name = self._split(identifier)
        with self._db() as db:
            if db.execute(f"DELETE FROM iceberg_tables WHERE {_TABLE_ROW}", (self.name, namespace, name)).rowcount < 1:
                raise NoSuchTableError(f"Table does not exist: {namespace}.{name}")

    def list_tables(self, namespace: str | Identifier) -> list[Identifier]:
        if namespace and not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        ns = Catalog.namespace_to_string(namespace)
        with self._db() as db:
            rows = db.execute(
                "SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? "
                "AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)",
                (self.name, ns),
            ).fetchall()
        return [(*Catalog.identifier_to_tuple(ns), r[0]) for r in rows]

    def _namespaces(self) -> set[str]:
        with self._db() as db:
            rows = db.execute(
                "SELECT table_namespace FROM iceberg_tables WHERE catalog_name = ? "
                "UNION SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = ?",
                (self.name, self.name),
            ).fetchall()
        return {r[0] for r in rows}

    def namespace_exists(self, namespace: str | Identifier) -> bool:
        ns = Catalog.namespace_to_string(namespace, NoSuchNamespaceError)
        return any(n == ns or n.startswith(ns + ".") for n in self._namespaces())

    def create_namespace(self, namespace: str | Identifier, properties: Properties = EMPTY_DICT) -> None:
        if self.namespace_exists(namespace):
            raise NamespaceAlreadyExistsError(f"Namespace {namespace} already exists")
        ns = Catalog.namespace_to_string(namespace, NoSuchNamespaceError)
        try:
            with self._db() as db:
                db.executemany(
                    "INSERT INTO iceberg_namespace_properties VALUES (?, ?, ?, ?)",
                    [(self.name, ns, k, v) for k, v in (properties or {"exists": "true"}).items()],
                )
        except sqlite3.IntegrityError as exc:
            raise NamespaceAlreadyExistsError(f"Namespace {namespace} already exists") from exc

    def drop_namespace(self, namespace: str | Identifier) -> None:
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace does not exist: {namespace}")
        if tables := self.list_tables(namespace):
            raise NamespaceNotEmptyError(f"Namespace {namespace} is not empty. {len(tables)} tables exist.")
        with self._db() as db:
            db.execute(
                "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?",
                (self.name, Catalog.namespace_to_string(namespace)),
            )

    def list_namespaces(self, namespace: str | Identifier = ()) -> list[Identifier]:
        parent = Catalog.identifier_to_tuple(namespace)
        level = len(parent) + 1
        found = {Catalog.identifier_to_tuple(n) for n in self._namespaces()}
        return sorted({n[:level] for n in found if len(n) >= level and n[: level - 1] == parent})

    def load_namespace_properties(self, namespace: str | Identifier) -> Properties:
        ns = Catalog.namespace_to_string(namespace)
        if not self.namespace_exists(namespace):
            raise NoSuchNamespaceError(f"Namespace {ns} does not exists")
        with self._db() as db:
            rows = db.execute(
                "SELECT property_key, property_value FROM iceberg_namespace_properties "
                "WHERE catalog_name = ? AND namespace = ?",
                (self.name, ns),
            ).fetchall()
        return dict(rows)

    def update_namespace_properties(
        self, namespace: str | Identifier, removals: set[str] | None = None, updates: Properties = EMPTY_DICT
    ) -> PropertiesUpdateSummary:
        raise NotImplementedError

    def rename_table(self, from_identifier: str | Identifier, to_identifier: str | Identifier) -> Table:
        raise NotImplementedError

    def list_views(self, namespace: str | Identifier) -> list[Identifier]:
        return []

    def view_exists(self, identifier: str | Identifier) -> bool:
        return False

    def load_view(self, identifier: str | Identifier) -> View:
        raise NotImplementedError

    def register_view(self, identifier: str | Identifier, metadata_location: str) -> View:
        raise NotImplementedError

    def drop_view(self, identifier: str | Identifier) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing held open: every call opens and closes its own connection."""
