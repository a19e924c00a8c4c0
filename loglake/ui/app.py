"""The web console: a read-only Starlette app over one lake.

Pages are static HTML shells; their script fetches JSON from `/api/…` and puts every value into the page
with `textContent`, so data is text by construction. A Content-Security-Policy forbids inline scripts,
other origins and framing; requests must name a loopback host (no DNS rebinding) unless the console was
started for another host, and then they must carry the token.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.responses import StreamingResponse as Streaming
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from loglake.errors import LogLakeError
from loglake.lake import Lake
from loglake.query.duckdb_engine import DuckDBEngine
from loglake.query.explore import ERROR_COLUMNS, Explorer, capped, csv_chunks, errors_where, parse_search
from loglake.query.results import json_default

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGES = {"/": "explorer", "/sql": "sql", "/errors": "errors", "/objects": "objects"}
TUTORIAL = (
    'SELECT * FROM "log_analytics_db"."processed_logs" LIMIT 10;',
    'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level;',
    'SELECT * FROM "log_analytics_db"."errors_logs" LIMIT 10;',
)
COOKIE = "loglake_token"


class Console:
    """One lake's read side, shared by requests: an engine (a snapshot) reused for a second or two, and one
    lock around it, as a DuckDB connection runs one statement at a time."""

    def __init__(self, lake: Lake, timeout: float = 10.0, max_rows: int = 1000, fresh_seconds: float = 2.0) -> None:
        self.lake, self.timeout, self.max_rows, self.fresh_seconds = lake, timeout, max_rows, fresh_seconds
        self.lock = threading.RLock()
        self._engine: tuple[float, DuckDBEngine] | None = None

    def engine(self) -> DuckDBEngine:
        with self.lock:
            now = time.monotonic()
            if self._engine is None or now - self._engine[0] > self.fresh_seconds:
                self._engine = (now, self.lake.engine())
            return self._engine[1]

    def explorer(self) -> Explorer:
        with self.lock:
            return Explorer(self.engine(), self.timeout, self.lock)


def _json(value: Any, status: int = 200) -> Response:
    body = orjson.dumps(value, default=json_default, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS)
    return Response(body, status_code=status, media_type="application/json")


def _int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _page(name: str) -> Response:
    html = resources.files("loglake.ui").joinpath("static", f"{name}.html").read_text(encoding="utf-8")
    return HTMLResponse(html)


def build(console: Console, token: str | None = None, hosts: list[str] | None = None) -> Starlette:
    """The app. `token`: required on every request (bearer header, `?token=` once, then a cookie);
    `hosts`: the Host names accepted (loopback names by default)."""

    def page(request: Request) -> Response:
        return _page(PAGES[request.url.path])

    def failure(exc: LogLakeError) -> Response:
        return _json({"error": super(LogLakeError, exc).__str__(), "hint": exc.hint}, 400)

    def exploring(view: Callable[[Explorer, Request, Any, int | None, int | None], Any]) -> Callable[..., Response]:
        """An explorer endpoint: the search and time range from the query string, errors as JSON."""

        def endpoint(request: Request) -> Response:
            try:
                ex = console.explorer()
                search = parse_search(request.query_params.get("q", ""), set(ex.columns))
                return _json(view(ex, request, search, _int(request, "from"), _int(request, "to")))
            except LogLakeError as exc:
                return failure(exc)

        return endpoint

    histogram = exploring(lambda ex, r, q, a, b: ex.histogram(q, a, b, buckets=min(_int(r, "buckets") or 60, 400)))
    events = exploring(lambda ex, r, q, a, b: ex.events(q, a, b, limit=min(_int(r, "limit") or 100, 1000)))
    fields = exploring(lambda ex, r, q, a, b: ex.facets(q, a, b))

    def sql(request: Request) -> Response:
        text = request.query_params.get("q", "").strip().rstrip(";")
        if not text:
            return _json({"examples": TUTORIAL})
        try:
            return _json(capped(console.engine(), text, console.max_rows, console.timeout, console.lock))
        except LogLakeError as exc:
            return failure(exc)

    def sql_csv(request: Request) -> Response:
        text = request.query_params.get("q", "").strip().rstrip(";")
        engine = console.engine()
        try:
            with console.lock:
                engine.check(text)
        except LogLakeError as exc:
            return failure(exc)

        def body() -> Any:
            with console.lock:
                yield from csv_chunks(engine, text)

        headers = {"Content-Disposition": 'attachment; filename="result.csv"'}
        return Streaming(body(), media_type="text/csv", headers=headers)

    def errors(request: Request) -> Response:
        where = errors_where(request.query_params.get("reason"), request.query_params.get("source"))
        try:
            ex = console.explorer()
            by_reason = ex.sql(
                "SELECT epoch_ms(date_trunc('hour', processed_timestamp)) AS t, error_code, count(*) AS n "
                f"FROM errors_logs{where} GROUP BY ALL ORDER BY 1, 2"
            ).to_pylist()
            reasons = ex.sql("SELECT error_code, count(*) AS n FROM errors_logs GROUP BY 1 ORDER BY 2 DESC").to_pylist()
            rows = ex.sql(
                f"SELECT {ERROR_COLUMNS} FROM errors_logs{where} "
                "ORDER BY processed_timestamp DESC, source_uri, source_line LIMIT 500"
            ).to_pylist()
            total = ex.sql(f"SELECT count(*) AS n FROM errors_logs{where}").column("n")[0].as_py()
        except LogLakeError as exc:
            return failure(exc)
        return _json({"over_time": by_reason, "reasons": reasons, "rows": rows, "total": total})

    def objects(request: Request) -> Response:
        try:
            return _json([e.to_json() for e in console.lake.status()])
        except LogLakeError as exc:
            return failure(exc)

    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    static = StaticFiles(packages=[("loglake.ui", "static")])
    routes = [
        *(Route(path, page) for path in PAGES),
        Route("/api/histogram", histogram),
        Route("/api/events", events),
        Route("/api/fields", fields),
        Route("/api/sql", sql),
        Route("/api/sql.csv", sql_csv),
        Route("/api/errors", errors),
        Route("/api/objects", objects),
        Route("/health", health),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Mount("/static", static),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts or ["127.0.0.1", "localhost", "::1", "[::1]"]),
        Middleware(_Headers),
    ]
    if token:
        middleware.append(Middleware(_TokenCheck, token=token))
    return Starlette(routes=routes, middleware=middleware)


class _Headers(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response


class _TokenCheck(BaseHTTPMiddleware):
    """Every request carries the token: `Authorization: Bearer …`, or the cookie a first `?token=` link set."""

    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self.token = token

    def _ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given), self.token)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        header = request.headers.get("authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else None
        if self._ok(bearer) or self._ok(request.cookies.get(COOKIE)):
            return await call_next(request)
        if self._ok(request.query_params.get("token")):
            target = request.url.remove_query_params("token")
            response = RedirectResponse(str(target.path) + (f"?{target.query}" if target.query else ""), 303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        return PlainTextResponse("a token is required: open the link `loglake ui` printed", status_code=401)
