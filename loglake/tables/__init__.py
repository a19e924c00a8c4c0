"""The lake's tables and how data reaches them: Apache Iceberg, through pyiceberg.

The two tables, `processed_logs` and `errors_logs`, are Iceberg tables whose locations are the
zones, so every engine that reads Iceberg (Athena, Spark, Trino, DuckDB's `iceberg_scan`) reads
exactly what LogLake's own queries read. This package is the commit protocol in one place:

- `catalog`: where the tables are registered (SQLite inside a local lake, Glue for S3), their shapes;
- `schema`: the table as the one schema authority — batches widened, converted or rescued to fit;
- `commit`: data files becoming rows in one transaction per table, replacing a source's earlier rows;
- `compact`: small files merged in one snapshot; snapshot expiry and orphan-file cleanup.
"""
