"""Runs in the test-only venv (DuckDB 1.5.5 and its iceberg/avro extension wheels), never imports LogLake.

argv: <metadata.json> <sql over view t> → the rows as JSON on stdout.
"""

import json
import sys
from pathlib import Path

import duckdb
import duckdb_extension_avro
import duckdb_extension_iceberg


def _extension(module: object, name: str) -> str:
    found = sorted(Path(module.__file__).parent.glob(f"extensions/*/{name}.duckdb_extension"))  # type: ignore[attr-defined]
    if not found:
        raise SystemExit(f"no {name}.duckdb_extension in {Path(module.__file__).parent}")  # type: ignore[attr-defined]
    return str(found[-1])


con = duckdb.connect()
con.execute(f"LOAD '{_extension(duckdb_extension_avro, 'avro')}'")
con.execute(f"LOAD '{_extension(duckdb_extension_iceberg, 'iceberg')}'")
metadata, sql = sys.argv[1], sys.argv[2]
con.execute("CREATE VIEW t AS SELECT * FROM iceberg_scan('" + metadata.replace("'", "''") + "')")
result = con.sql(sql)
names = [d[0] for d in result.description]
rows = result.fetchall()
print(json.dumps([dict(zip(names, r, strict=True)) for r in rows], default=str))
