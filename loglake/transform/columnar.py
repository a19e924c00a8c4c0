"""Flattening on Arrow columns: the same names and values the row path's `Flattener` gives, once per batch.

Whatever cannot be reproduced exactly (an empty object next to a filled one, a name that needs
collision resolution, arrays of numbers that may mix 1 and 1.0, objects nested too deep) raises
`NotColumnar` and the batch goes through the row path instead.
"""

from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from loglake.records import NotColumnar
from loglake.transform import resolve_names

_EXACT_LIST_ITEMS = (pa.string(), pa.int64(), pa.bool_(), pa.null())


def _json_text(array: pa.Array) -> pa.Array:
    dumps = orjson.dumps
    return pa.array([None if v is None else dumps(v).decode() for v in array.to_pylist()], pa.string())


def _walk(
    array: pa.Array, path: tuple[str, ...], depth: int, max_depth: int, out: list[tuple[tuple[str, ...], pa.Array]]
) -> None:
    kind = array.type
    if pa.types.is_struct(kind):
        if kind.num_fields == 0:
            out.append((path, pc.if_else(array.is_valid(), pa.scalar("{}"), pa.scalar(None, pa.string()))))
            return
        if depth >= max_depth:
            raise NotColumnar(f"objects nested deeper than {max_depth}")
        children = array.flatten()  # parent nulls pushed into the children
        # `{}` and `{"b": null}` look alike here but not in the row path: let it decide.
        empty = array.is_valid()
        for child in children:
            empty = pc.and_(empty, child.is_null())
        if pc.any(empty).as_py():
            raise NotColumnar("an empty object beside filled ones")
        for field, child in zip(kind, children, strict=True):
            _walk(child, (*path, field.name), depth + 1, max_depth, out)
        return
    if pa.types.is_list(kind):
        if kind.value_type not in _EXACT_LIST_ITEMS:
            raise NotColumnar(f"array of {kind.value_type}")
        out.append((path, _json_text(array)))
        return
    if pa.types.is_null(kind):
        out.append((path, pa.nulls(len(array), pa.string())))
        return
    if pa.types.is_floating(kind):
        if pc.any(pc.is_inf(array)).as_py() or pc.any(pc.is_nan(array)).as_py():
            raise NotColumnar("a number beyond double range")
        out.append((path, array))
        return
    if kind in (pa.string(), pa.int64(), pa.bool_()):
        out.append((path, array))
        return
    raise NotColumnar(f"column type {kind}")


def flatten_table(table: pa.Table, separator: str, max_depth: int) -> tuple[list[str], list[pa.Array]]:
    """Flat column names and arrays of a table read from JSON."""
    leaves: list[tuple[tuple[str, ...], pa.Array]] = []
    for field, column in zip(table.schema, table.columns, strict=True):
        _walk(column.combine_chunks(), (field.name,), 1, max_depth, leaves)
    paths = tuple(p for p, _ in leaves)
    joined = [separator.join(p) for p in paths]
    if list(resolve_names(paths, separator)) != joined:
        raise NotColumnar("column names need collision resolution")
    return joined, [a for _, a in leaves]
