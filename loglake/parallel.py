"""Process objects on several cores: one pipeline per worker process, the catalog written once by the parent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from loglake.config import Settings
from loglake.pipeline import Pipeline, Summary
from loglake.sources import ObjectRef
from loglake.storage import open_storage

_PIPELINE: Pipeline | None = None


def _init(settings: Settings) -> None:
    global _PIPELINE
    from loglake.lake import Lake

    lake = Lake.open(settings)
    _PIPELINE = lake.pipeline()
    _PIPELINE.defer_catalog = True


def _one(root: str, key: str) -> tuple[Summary, list[dict[str, Any]], list[str]]:
    assert _PIPELINE is not None
    summary = _PIPELINE.process(ObjectRef(open_storage(root), key))
    added, removed = _PIPELINE.take_catalog_changes()
    return summary, added, removed


def storage_root(ref: ObjectRef) -> str:
    """A picklable description of where an object lives (clients are rebuilt in the worker)."""
    uri = ref.storage.uri("")
    return uri if "://" in uri else uri or "."


def process_parallel(
    settings: Settings, refs: list[ObjectRef], jobs: int
) -> Iterator[tuple[Summary, list[Any], list[str]]]:
    """Yield each object's summary and catalog changes as workers finish (in input order)."""
    jobs = jobs or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(settings,)) as pool:
        futures = [pool.submit(_one, storage_root(ref), ref.key) for ref in refs]
        for future in futures:
            yield future.result()
