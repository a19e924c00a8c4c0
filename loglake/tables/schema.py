"""One schema authority, the table: every batch is made to fit it before it is written.

Real logs change types between files and within one. A data file may never disagree with its
table (other engines read files by the table's types, and Iceberg's `add_files` refuses them), so
each batch is conformed to the table's current schema as it is written:

- a column the table lacks is added (its first type wins);
- a type Iceberg can widen to is widened (int → long, float → double) by schema evolution;
- a value that converts without loss is converted (a number or boolean into a string column);
- anything else is kept, as it was, in `_rescued_data` — a JSON object of field name → original
  value, the convention Databricks Auto Loader users know — and the column holds null.

The row stays valid and nothing is lost; the count of rescued rows goes into the summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import pyarrow as pa
import pyarrow.compute as pc

RESCUED = "_rescued_data"
"""Values whose type did not fit their column, as a JSON object per row (null when nothing was rescued)."""

_WIDENS = {(pa.int32(), pa.int64()), (pa.float32(), pa.float64())}
"""(column type, batch type) pairs the column is promoted for; Iceberg allows exactly these (and decimals)."""


def _plain(kind: pa.DataType) -> pa.DataType:
    """Arrow's large/view variants are the same logical type to a table."""
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_large_list(kind):
        return pa.list_(_plain(kind.value_type))
    if pa.types.is_list(kind):
        return pa.list_(_plain(kind.value_type))
    return kind


def _lossless_to_string(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


@dataclass
class Conformed:
    """A batch made to fit, and what that changed."""

    table: pa.Table
    rescued_rows: int = 0
    added: list[pa.Field] = field(default_factory=list)
    """Columns the table schema gains (appended, in batch order)."""
    widened: dict[str, pa.DataType] = field(default_factory=dict)
    """Columns promoted to a wider type."""


class Target:
    """The schema a writer conforms batches to: the table's, plus what this writer has added or widened.

    Kept per writer across batches, so the first type a new field shows wins for the whole object
    and later batches fit it, as they will fit the table once the commit evolves it.
    """

    def __init__(self, schema: pa.Schema) -> None:
        self.types: dict[str, pa.DataType] = {f.name: _plain(f.type) for f in schema}
        self.order: list[str] = [f.name for f in schema]
        self.added: dict[str, pa.DataType] = {}
        self.widened: dict[str, pa.DataType] = {}

    def schema(self) -> pa.Schema:
        return pa.schema([(name, self.types[name]) for name in self.order])

    def conform(self, batch: pa.Table) -> Conformed:
        """`batch` with every column of the target's type (or a new column, or rescued into `_rescued_data`)."""
        out = Conformed(batch)
        names, arrays = [], []
        rescued: dict[str, pa.ChunkedArray] = {}
        for name, column in zip(batch.column_names, batch.columns, strict=True):
            kind = _plain(column.type)
            if name == RESCUED and self.types.get(RESCUED, pa.string()) == pa.string() and kind == pa.string():
                names.append(name)  # a batch that carries rescued values already (a re-conformed file)
                arrays.append(column)
                if RESCUED not in self.types:
                    self._add(RESCUED, pa.string(), out)
                continue
            want = self.types.get(name)
            if want is None:
                if pa.types.is_null(kind):
                    continue  # no type to give yet: the column starts with its first value
                self._add(name, kind, out)
                want = kind
            if kind == want:
                arrays.append(column.cast(want) if column.type != want else column)
            elif pa.types.is_null(kind):
                arrays.append(pa.nulls(len(batch), want))
            elif (want, kind) in _WIDENS:
                self.types[name] = self.widened[name] = out.widened[name] = kind
                arrays.append(column)
            elif (
                (kind, want) in _WIDENS
                or (want == pa.string() and _lossless_to_string(kind))
                or (pa.types.is_floating(want) and pa.types.is_integer(kind) and _exact_as_float(column))
            ):
                arrays.append(column.cast(want))
            else:
                rescued[name] = column
                arrays.append(pa.nulls(len(batch), want))
            names.append(name)
        table = pa.Table.from_arrays(arrays, names=names)
        if rescued:
            table, out.rescued_rows = _with_rescued(table, rescued)
            if RESCUED not in self.types:
                self._add(RESCUED, pa.string(), out)
        out.table = table
        return out

    def _add(self, name: str, kind: pa.DataType, out: Conformed) -> None:
        self.types[name] = self.added[name] = kind
        self.order.append(name)
        out.added.append(pa.field(name, kind))


def _exact_as_float(column: pa.ChunkedArray) -> bool:
    """Integers that a double holds exactly (|x| ≤ 2^53) convert without loss."""
    if column.null_count == len(column):
        return True
    bound = 1 << 53
    low, high = pc.min_max(column).values()
    return bool(-bound <= low.as_py() and high.as_py() <= bound)


def _with_rescued(table: pa.Table, rescued: dict[str, pa.ChunkedArray]) -> tuple[pa.Table, int]:
    """Merge the rescued columns' values into `_rescued_data` (JSON per row); returns the rows affected."""
    values = {name: col.to_pylist() for name, col in rescued.items()}
    existing = table.column(RESCUED).to_pylist() if RESCUED in table.column_names else [None] * len(table)
    merged: list[str | None] = []
    count = 0
    for i, before in enumerate(existing):
        row = {name: vals[i] for name, vals in values.items() if vals[i] is not None}
        if not row:
            merged.append(before)
            continue
        count += 1
        if before:
            row = {**orjson.loads(before), **row}
        merged.append(orjson.dumps(row, default=str).decode())
    array = pa.array(merged, pa.string())
    if RESCUED in table.column_names:
        return table.set_column(table.column_names.index(RESCUED), RESCUED, array), count
    return table.append_column(RESCUED, array), count


_PRIMITIVES = {
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
    "timestamp_ns": pa.timestamp("ns"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "timestamptz_ns": pa.timestamp("ns", tz="UTC"),
    "string": pa.large_string(),
    "uuid": pa.uuid(),
    "binary": pa.large_binary(),
}


def arrow_of(schema: dict) -> pa.Schema:  # type: ignore[type-arg]
    """An Iceberg schema as written in table metadata (JSON) → the Arrow schema pyiceberg's `as_arrow()`
    gives (without field ids). Writers need only this to start; pyiceberg loads when they commit."""
    return pa.schema([_field(f) for f in schema["fields"]])


def _field(f: dict) -> pa.Field:  # type: ignore[type-arg]
    return pa.field(f["name"], _type(f["type"]), nullable=not f.get("required", False))


def _type(kind: str | dict) -> pa.DataType:  # type: ignore[type-arg]
    if isinstance(kind, str):
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind.startswith("decimal("):
            precision, scale = kind[len("decimal(") : -1].split(",")
            return pa.decimal128(int(precision), int(scale))
        if kind.startswith("fixed["):
            return pa.binary(int(kind[len("fixed[") : -1]))
        raise ValueError(f"Iceberg type {kind!r} has no Arrow equivalent here")
    if kind["type"] == "struct":
        return pa.struct([_field(f) for f in kind["fields"]])
    if kind["type"] == "list":
        element = pa.field("element", _type(kind["element"]), nullable=not kind.get("element-required", False))
        return pa.large_list(element)
    if kind["type"] == "map":
        key = pa.field("key", _type(kind["key"]), nullable=False)
        value = pa.field("value", _type(kind["value"]), nullable=not kind.get("value-required", False))
        return pa.map_(key, value)
    raise ValueError(f"Iceberg type {kind!r} has no Arrow equivalent here")
