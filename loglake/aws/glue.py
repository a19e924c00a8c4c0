"""Mirror the catalog into the Glue Data Catalog, so Athena sees the same tables and partitions.

No Glue crawler: tables are created and evolved with `update_table`, partitions registered in batches.
"""

from __future__ import annotations

from typing import Any

from loglake.catalog.local import LocalCatalog
from loglake.config import CatalogConfig
from loglake.errors import StorageError
from loglake.storage import Storage

SERDE = {
    "parquet": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    },
    "jsonl": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
    },
}


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class GlueCatalog(LocalCatalog):
    """The embedded catalog (the file list DuckDB reads) plus its Glue mirror (what Athena reads)."""

    def __init__(self, storage: Storage, config: CatalogConfig, formats: dict[str, str], client: Any = None) -> None:
        super().__init__(storage, config)
        self.formats = formats
        if client is None:
            from loglake.storage.s3 import s3_client

            client = s3_client("glue")
        self.glue = client

    def apply(self, added: Any, removed: Any) -> None:
        added = list(added)
        super().apply(added, removed)
        self.sync(self.load())

    def replace_all(self, files: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        doc = super().replace_all(files)
        self.sync(doc)
        return doc

    def table_input(self, name: str, table: dict[str, Any]) -> dict[str, Any]:
        fmt = table["formats"][0] if len(table["formats"]) == 1 else self.formats[table["zone"]]
        location = table["location"].rstrip("/") + "/"
        return {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet" if fmt == "parquet" else "json", "EXTERNAL": "TRUE"},
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": c, "Type": t} for c, t in table["columns"]],
                "Location": location,
                **SERDE[fmt],
            },
        }

    def sync(self, doc: dict[str, Any]) -> None:
        db = doc["database"]
        try:
            self.glue.create_database(DatabaseInput={"Name": db, "Description": "LogLake tables"})
        except Exception as exc:
            if _code(exc) != "AlreadyExistsException":
                raise StorageError(f"Glue database `{db}`: {exc}") from exc
        for name, table in doc["tables"].items():
            wanted = self.table_input(name, table)
            try:
                current = self.glue.get_table(DatabaseName=db, Name=name)["Table"]
            except Exception as exc:
                if _code(exc) != "EntityNotFoundException":
                    raise StorageError(f"Glue table `{db}.{name}`: {exc}") from exc
                self.glue.create_table(DatabaseName=db, TableInput=wanted)
            else:
                if current["StorageDescriptor"].get("Columns") != wanted["StorageDescriptor"]["Columns"]:
                    self.glue.update_table(DatabaseName=db, TableInput=wanted)
            self._partitions(db, name, table, wanted["StorageDescriptor"])

    def _partitions(self, db: str, name: str, table: dict[str, Any], descriptor: dict[str, Any]) -> None:
        existing: set[str] = set()
        for page in self.glue.get_paginator("get_partitions").paginate(DatabaseName=db, TableName=name):
            existing.update(p["Values"][0] for p in page.get("Partitions", []))
        missing = [dt for dt in table["partitions"] if dt not in existing]
        for i in range(0, len(missing), 100):
            batch = [
                {"Values": [dt], "StorageDescriptor": {**descriptor, "Location": f"{descriptor['Location']}dt={dt}/"}}
                for dt in missing[i : i + 100]
            ]
            response = self.glue.batch_create_partition(DatabaseName=db, TableName=name, PartitionInputList=batch)
            for error in response.get("Errors", []):
                if error.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException":
                    raise StorageError(f"Glue partition of `{db}.{name}`: {error}")
