"""Athena `CREATE EXTERNAL TABLE` statements matching the catalog."""

from __future__ import annotations

from typing import Any

SERDES = {
    "parquet": (
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n"
        "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'"
    ),
    "jsonl": (
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n"
        "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'"
    ),
}


def table_ddl(database: str, name: str, table: dict[str, Any], location: str, fmt: str) -> str:
    cols = ",\n".join(f"  `{col}` {kind}" for col, kind in table["columns"]) or "  `message` string"
    props = "'parquet.compression'='ZSTD'" if fmt == "parquet" else "'ignore.malformed.json'='false'"
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{name}` (\n{cols}\n)\n"
        f"PARTITIONED BY (`dt` string)\n{SERDES[fmt]}\n"
        f"LOCATION '{location}'\n"
        f"TBLPROPERTIES ({props}, 'projection.enabled'='false');"
    )


def catalog_ddl(doc: dict[str, Any], formats: dict[str, str]) -> str:
    """DDL for every table; `formats` maps zone → output format when a table has no files yet."""
    db = doc["database"]
    parts = [f"CREATE DATABASE IF NOT EXISTS `{db}`;"]
    for name, table in doc["tables"].items():
        fmt = table["formats"][0] if len(table["formats"]) == 1 else formats[table["zone"]]
        location = table["location"]
        if "://" not in location:
            location = "file://" + location
        parts.append(table_ddl(db, name, table, location, fmt))
        if table["partitions"]:
            adds = "\n".join(f"  PARTITION (`dt`='{dt}')" for dt in table["partitions"])
            parts.append(f"ALTER TABLE `{db}`.`{name}` ADD IF NOT EXISTS\n{adds};")
    return "\n\n".join(parts)
