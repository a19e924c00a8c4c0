"""File writers, one per output format: Parquet (zstd) and JSON Lines. A plain registry."""

from __future__ import annotations

import abc
from typing import BinaryIO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq


class FileWriter(abc.ABC):
    """Writes Arrow tables into one open file object."""

    extension: str = ""

    def __init__(self, fh: BinaryIO, schema: pa.Schema) -> None:
        self.fh = fh
        self.schema = schema

    def accepts(self, schema: pa.Schema) -> bool:
        """Can a batch of this schema go into the same file?"""
        return True

    @abc.abstractmethod
    def write(self, table: pa.Table) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class ParquetFileWriter(FileWriter):
    extension = "parquet"

    def __init__(self, fh: BinaryIO, schema: pa.Schema) -> None:
        super().__init__(fh, schema)
        self._writer = pq.ParquetWriter(fh, schema, compression="zstd", use_dictionary=True)

    def accepts(self, schema: pa.Schema) -> bool:
        """Same columns and types, or a subset (missing columns are written as nulls)."""
        mine = {f.name: f.type for f in self.schema}
        return all(mine.get(f.name) == f.type or f.type == pa.null() for f in schema)

    def write(self, table: pa.Table) -> None:
        if table.schema != self.schema:
            cols = [
                table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
                for f in self.schema
            ]
            table = pa.Table.from_arrays(cols, schema=self.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


class JsonLinesFileWriter(FileWriter):
    extension = "jsonl"
    _OPTS = orjson.OPT_NAIVE_UTC | orjson.OPT_APPEND_NEWLINE

    def write(self, table: pa.Table) -> None:
        dumps, opts = orjson.dumps, self._OPTS
        self.fh.write(
            b"".join(dumps({k: v for k, v in row.items() if v is not None}, option=opts) for row in table.to_pylist())
        )

    def close(self) -> None:
        pass


WRITERS: dict[str, type[FileWriter]] = {"parquet": ParquetFileWriter, "jsonl": JsonLinesFileWriter}
