"""LogLake: an event-driven log pipeline — raw zone → validate → processed/errors → catalog → SQL."""

import os

# Arrow's default allocator (mimalloc) keeps freed batches mapped: a large object peaked at ~200 MB RSS
# with it and ~115 MB with the system allocator, at the same speed. Must be set before pyarrow loads.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`loglake.Lake`, the library's entry point, imported on first use (the Lambda handler never pays for it)."""
    if name == "Lake":
        from loglake.lake import Lake

        return Lake
    raise AttributeError(f"module 'loglake' has no attribute {name!r}")
