"""Athena as the query engine: start, poll, paginate; the same Result as DuckDB's."""

from __future__ import annotations

import re
import time
from typing import Any

from loglake.errors import QueryError
from loglake.query.duckdb_engine import Result

READ_ONLY = re.compile(r"^\s*(\(|select|with|show|describe|explain|values)\b", re.I)


class AthenaEngine:
    def __init__(
        self, database: str, workgroup: str, output: str | None, client: Any = None, poll: float = 0.5
    ) -> None:
        if client is None:
            from loglake.storage.s3 import s3_client

            client = s3_client("athena")
        self.athena, self.database, self.workgroup, self.output, self.poll = client, database, workgroup, output, poll
        self.bytes_scanned = 0

    def run(self, sql: str, save: bool = True, timeout: float = 600) -> Result:
        if not READ_ONLY.match(sql):
            raise QueryError(
                "refused: only SELECT-like statements run here; the query path is read-only",
                hint="use SELECT, WITH, SHOW, DESCRIBE or EXPLAIN",
            )
        kwargs: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
        }
        if self.output:
            kwargs["ResultConfiguration"] = {"OutputLocation": self.output}
        from botocore.exceptions import ClientError

        try:
            qid = self.athena.start_query_execution(**kwargs)["QueryExecutionId"]
        except ClientError as exc:  # the query or workgroup; credentials and network errors pass on as they are
            raise QueryError(f"Athena refused the query: {exc}") from exc
        deadline = time.monotonic() + timeout
        while True:
            execution = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            state = execution["Status"]["State"]
            if state == "SUCCEEDED":
                break
            if state in ("FAILED", "CANCELLED"):
                reason = execution["Status"].get("StateChangeReason", state)
                raise QueryError(f"Athena query {qid} {state.lower()}: {reason}")
            if time.monotonic() > deadline:
                self.athena.stop_query_execution(QueryExecutionId=qid)
                raise QueryError(f"Athena query {qid} took longer than {timeout:.0f}s and was stopped")
            time.sleep(self.poll)
        self.bytes_scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0))
        columns: list[str] = []
        rows: list[dict[str, Any]] = []
        first = True
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            meta = page["ResultSet"].get("ResultSetMetadata", {}).get("ColumnInfo", [])
            if meta and not columns:
                columns = [c["Name"] for c in meta]
            for row in page["ResultSet"].get("Rows", []):
                values = [d.get("VarCharValue") for d in row.get("Data", [])]
                if first:
                    first = False
                    if values == columns:  # Athena repeats the header as the first row of SELECTs
                        continue
                rows.append(dict(zip(columns, values, strict=False)))
        saved = execution.get("ResultConfiguration", {}).get("OutputLocation")
        return Result(columns=columns, rows=rows, query_id=qid, saved_to=saved)
