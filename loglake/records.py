"""Shapes shared by all stages: lineage columns and the errors table's fixed schema."""

from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("us")
"""Event and processing times: naive UTC, microseconds (Athena's TIMESTAMP)."""

LINEAGE_COLUMNS: list[tuple[str, str]] = [
    ("processed_timestamp", "timestamp"),
    ("source_uri", "string"),
    ("source_line", "bigint"),
    ("source_format", "string"),
]

ERROR_SCHEMA: dict[str, pa.DataType] = {
    "source_uri": pa.string(),
    "source_line": pa.int64(),
    "error_code": pa.string(),
    "error_codes": pa.list_(pa.string()),
    "error_message": pa.string(),
    "raw_line": pa.string(),
    "raw_line_b64": pa.string(),
    "raw_length": pa.int64(),
    "processed_timestamp": TIMESTAMP,
    "source_format": pa.string(),
}


class NotColumnar(Exception):
    """A batch the columnar path cannot reproduce exactly as the row path would; the row path takes it."""
