"""Process objects on several cores: one pipeline per worker process, each committing its own objects."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from typing import Any

from loglake.config import Settings
from loglake.pipeline import Attempt, Piece, Pipeline, Split, Summary
from loglake.sources import ObjectRef
from loglake.storage import open_storage

_PIPELINE: Pipeline | None = None


def _init(settings: Settings, jobs: int) -> None:
    global _PIPELINE
    from loglake.lake import Lake

    lake = Lake.open(settings)
    _PIPELINE = lake.pipeline()
    _PIPELINE.recovery_pending = False  # the parent did it before any worker started
    _PIPELINE.overlap = jobs < (os.cpu_count() or 1)


def _one(root: str, key: str) -> Summary:
    assert _PIPELINE is not None
    return _PIPELINE.process(ObjectRef(open_storage(root), key))


def _many(root: str, keys: list[tuple[str, int | None]]) -> list[Summary]:
    """Small objects, committed in groups by this worker."""
    assert _PIPELINE is not None
    storage = open_storage(root)
    return list(_PIPELINE.process_many(ObjectRef(storage, key, size) for key, size in keys))


def _chunks(parent: Pipeline, refs: list[ObjectRef], jobs: int) -> Iterator[ObjectRef | list[ObjectRef]]:
    """Runs of small objects as chunks for one worker each (about as many per worker, at most a group); others alone."""
    proc = parent.settings.processing
    small = [parent.groupable(ref, below=2 * proc.split_bytes) for ref in refs]  # big enough to split: split
    per = max(1, min(proc.group_objects, -(-sum(small) // jobs)))
    run: list[ObjectRef] = []
    for ref, is_small in zip(refs, small, strict=True):
        if is_small and (not run or (len(run) < per and run[0].storage.uri("") == ref.storage.uri(""))):
            run.append(ref)
            continue
        if run:
            yield run
            run = []
        if is_small:
            run.append(ref)
        else:
            yield ref
    if run:
        yield run


def _range(root: str, key: str, att: Attempt, fmt: str, start: int, end: int, part: int) -> Piece:
    assert _PIPELINE is not None
    return _PIPELINE.process_range(ObjectRef(open_storage(root), key), att, fmt, start, end, part)


def storage_root(ref: ObjectRef) -> str:
    """A picklable description of where an object lives (clients are rebuilt in the worker)."""
    uri = ref.storage.uri("")
    return uri if "://" in uri else uri or "."


def process_parallel(settings: Settings, refs: list[ObjectRef], jobs: int) -> Iterator[Summary]:
    """Yield each object's summary as workers finish (in input order).

    Big objects are split into byte ranges read by several workers; this process commits them.
    """
    from loglake.lake import Lake

    jobs = jobs or os.cpu_count() or 1
    parent = Lake.open(settings).pipeline()
    parent.recover()
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(settings, jobs)) as pool:
        work: list[Future[Any] | tuple[ObjectRef, Split, list[Future[Piece]]]] = []
        for item in _chunks(parent, refs, jobs):
            if isinstance(item, list):
                work.append(pool.submit(_many, storage_root(item[0]), [(r.key, r.size) for r in item]))
                continue
            ref = item
            split = parent.plan_split(ref, jobs)
            root = storage_root(ref)
            if split is None:
                work.append(pool.submit(_one, root, ref.key))
                continue
            ranges = [
                pool.submit(_range, root, ref.key, split.att, split.fmt, start, end, part)
                for part, (start, end) in enumerate(split.ranges)
            ]
            work.append((ref, split, ranges))
        for job in work:
            if isinstance(job, Future):
                result = job.result()
                yield from result if isinstance(result, list) else [result]
                continue
            ref, split, ranges = job
            wait(ranges)  # all of them, so none is still writing files of the attempt if it is dropped
            try:
                pieces: list[Piece] | None = [f.result() for f in ranges]
            except Exception:
                pieces = None
            yield parent.complete_split(ref, split, pieces)
