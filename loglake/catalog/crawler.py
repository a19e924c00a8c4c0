"""The crawler: rebuild the catalog from what is in the zones, as a Glue crawler would."""

from __future__ import annotations

import re
from typing import Any

import pyarrow.parquet as pq

from loglake.catalog.local import ZONES, LocalCatalog
from loglake.catalog.types import athena_type
from loglake.sinks.commit import iter_manifests, recover, recover_groups
from loglake.sources import is_hidden
from loglake.storage import Storage

_DT = re.compile(r"(?:^|/)dt=([^/]+)/")


def _jsonl_columns(storage: Storage, key: str) -> tuple[list[tuple[str, str]], int]:
    """Schema of a JSON Lines file, by the same inference the writers use."""
    import orjson

    from loglake.rules.timestamps import parse_timestamp
    from loglake.sinks.arrow import rows_to_table

    rows = [orjson.loads(line) for line in storage.read_bytes(key).splitlines() if line.strip()]
    for row in rows:
        for name in ("processed_timestamp",):
            if name in row:
                row[name] = parse_timestamp(row[name])
    table = rows_to_table(rows)
    return [(f.name, athena_type(f.type)) for f in table.schema], len(rows)


def describe_file(storage: Storage, key: str) -> dict[str, Any] | None:
    match = _DT.search(key)
    if match is None:
        return None
    if key.endswith(".parquet"):
        # Footers only, through a seekable (ranged-read) file: nothing else of the data is read.
        fs, base = storage.arrow_filesystem()
        with fs.open_input_file(f"{base}/{key}") as fh:
            meta = pq.ParquetFile(fh).metadata
            schema = meta.schema.to_arrow_schema()
            columns = [(f.name, athena_type(f.type)) for f in schema]
            rows = meta.num_rows
    elif key.endswith(".jsonl"):
        columns, rows = _jsonl_columns(storage, key)
    else:
        return None
    return {"key": key, "dt": match.group(1), "rows": rows, "columns": columns}


def crawl(storage: Storage, catalog: LocalCatalog) -> dict[str, Any]:
    """Finish interrupted commits, then list every data file in the zones and union their schemas."""
    from loglake.catalog.compact import recover_all, retired_keys

    recover_groups(storage)
    for manifest in iter_manifests(storage):
        if manifest.get("state") == "committing":
            recover(storage, manifest["source_id"])
    recover_all(storage, catalog)
    retired = retired_keys(storage)
    found: dict[str, list[dict[str, Any]]] = {}
    for zone in ZONES:
        files = []
        for info in storage.list(zone + "/"):
            if is_hidden(info.key) or info.key in retired:
                continue
            described = describe_file(storage, info.key)
            if described is not None:
                files.append(described)
        found[zone] = files
    return catalog.replace_all(found)
