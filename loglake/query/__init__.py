"""Query engines: DuckDB over the embedded catalog (Athena arrives with the AWS edge)."""
