"""DuckDB's unvalidated conversion as a reference: read_json → Parquet (zstd), no per-record reasons."""

import sys

import duckdb

src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(
    f"COPY (SELECT * FROM read_json('{src}', format='newline_delimited', ignore_errors=true)) "
    f"TO '{out}.parquet' (FORMAT parquet, COMPRESSION zstd)"
)
print(con.execute(f"SELECT count(*) FROM '{out}.parquet'").fetchone()[0])
