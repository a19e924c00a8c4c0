"""The web console in a real headless Chromium (Debian's, driven by Playwright): every page, with the demo
lake and hostile log lines; and the console's guards (loopback, token, CSP) over real HTTP."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from loglake import Lake
from tests.conftest import jl, rec

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = [
    "<script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    '"><svg onload="document.title=\'pwned\'">',
]
pytestmark = pytest.mark.slow


def _browser_missing() -> str | None:
    if os.path.exists(CHROMIUM):
        return None
    message = (
        "Chromium is not installed, so the web console's browser tests cannot run: "
        "install it with `sudo apt-get install chromium` (Debian/Ubuntu; .ci/run does this)"
    )
    if os.environ.get("LOGLAKE_REQUIRE_BROWSER"):
        pytest.fail(message)
    return message


def start(lake: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`loglake ui` on a free port; its process and the URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "loglake", "--lake", str(lake), "ui", "--port", "0", *args],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"(http://\S+)", line)
    assert found, line + proc.stderr.read()
    return proc, found.group(1)


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("console") / "lake"
    subprocess.run([sys.executable, "-m", "loglake", "--lake", str(root), "demo", "--lines", "900"], check=True,
                   capture_output=True)  # fmt: skip
    src = root.parent / "hostile.log"
    src.write_bytes(jl(*(rec(message=m, level="WARN") for m in HOSTILE), HOSTILE[0].encode()))
    Lake.open(root).process([str(src)]).__next__()
    return root


@pytest.fixture(scope="module")
def console(lake: Path) -> Iterator[str]:
    proc, url = start(lake)
    yield url.rstrip("/")
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    yield page
    context.close()


def ready(page: Any) -> None:
    page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)


def navigate(page: Any, url: str) -> None:
    page.goto(url)
    ready(page)


def rerun(page: Any, action: Any) -> None:
    """Do something that re-renders the page, and wait until it has."""
    before = page.get_attribute("body", "data-ready")
    action()
    # A selector, not a JavaScript predicate: the console's CSP forbids evaluating strings, tests included.
    page.wait_for_selector(f"body[data-ready]:not([data-ready='{before}'])", state="attached", timeout=30_000)


def counts(lake: Path, sql: str) -> dict[Any, Any]:
    pairs = (tuple(r.values()) for r in Lake.open(lake).query(sql).to_pylist())
    return {key: value for key, value, *_ in pairs}


def test_explorer_histogram_search_and_field_filter(page: Any, console: str, lake: Path) -> None:
    navigate(page, console + "/")
    levels = set(page.get_attribute("#histogram", "data-levels").split(","))
    assert levels == set(counts(lake, "SELECT level, count(*) FROM processed_logs GROUP BY 1"))
    assert page.locator("#histogram canvas").count() == 1
    total = Lake.open(lake).query("SELECT count(*) AS n FROM processed_logs").column("n")[0].as_py()
    assert page.text_content("#summary").startswith(f"{total:,} events")

    page.fill("#q", '"order placed"')
    rerun(page, lambda: page.click("#search button[type=submit]"))
    messages = page.locator("#events tbody td.msg").all_text_contents()
    placed = Lake.open(lake).query("SELECT count(*) AS n FROM processed_logs WHERE message ILIKE '%order placed%'")
    assert page.text_content("#summary").startswith(f"{placed.column('n')[0].as_py():,} events")
    assert messages and all("order placed" in m for m in messages)
    assert "order+placed" in page.url or "order%20placed" in page.url

    navigate(page, console + "/")
    error_link = page.locator('aside a[data-field="level"]', has_text="ERROR").first
    rerun(page, error_link.click)
    assert "level%3AERROR" in page.url or "level:ERROR" in urllib.parse.unquote(page.url)
    shown = page.locator("#events tbody td.level").all_text_contents()
    assert shown and set(shown) == {"ERROR"}
    rows = page.locator("#events tbody tr.event")
    rows.first.click()
    assert page.locator("#events tr.detail dt", has_text="source_uri").count() == 1
    assert not page.errors  # type: ignore[attr-defined]


def test_dragging_across_the_histogram_zooms_into_that_time(page: Any, console: str) -> None:
    navigate(page, console + "/")
    before = int(page.text_content("#summary").split()[0].replace(",", ""))
    box = page.locator("#histogram .u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=8)
    rerun(page, page.mouse.up)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    start, end = int(query["from"][0]), int(query["to"][0])
    after = int(page.text_content("#summary").split()[0].replace(",", ""))
    assert 0 < after < before and end > start
    hist = orjson.loads(urllib.request.urlopen(f"{console}/api/histogram?from={start}&to={end}").read())
    assert hist["total"] == after and hist["start"] == start
    rerun(page, lambda: page.click("#reset"))
    assert int(page.text_content("#summary").split()[0].replace(",", "")) == before


def test_sql_page_shows_the_tutorial_group_by_as_table_and_chart(page: Any, console: str, lake: Path) -> None:
    sql = 'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level;'
    navigate(page, console + "/sql")
    assert page.input_value("#sqltext") == sql  # the tutorial's query is there to run
    rerun(page, lambda: page.click("#sqlform button[type=submit]"))
    expected = counts(lake, sql)
    cells = page.locator("#result tbody tr").all()
    shown = {r.locator("td").nth(0).text_content(): int(r.locator("td").nth(1).text_content()) for r in cells}
    assert shown == expected
    assert page.locator("#chart canvas").count() == 1
    assert page.get_attribute("#chart", "data-points") == str(len(expected))
    assert re.search(r"\d+ rows · \d+\.\d{3} s", page.text_content("#status"))
    link = page.get_attribute("#download", "href")
    with urllib.request.urlopen(console + link) as response:
        assert response.read().decode().splitlines()[0] == '"level","log_count"'
    linked = console + "/sql?q=" + urllib.parse.quote("SELECT 40 + 2 AS answer")
    navigate(page, linked)
    assert page.locator("#result tbody td").first.text_content() == "42"
    navigate(page, console + "/sql?q=" + urllib.parse.quote("DROP TABLE processed_logs"))
    assert "read-only" in page.text_content("#problem")
    navigate(page, console + "/sql?q=" + urllib.parse.quote("SELECT * FROM read_csv('/etc/passwd')"))
    assert "outside the lake" in page.text_content("#problem")


def test_errors_page_shows_failing_lines_with_their_raw_text(page: Any, console: str) -> None:
    navigate(page, console + "/errors?reason=invalid_json")
    rows = page.locator("#errors tbody tr").all()
    assert rows and all(r.locator("td").nth(2).text_content() == "invalid_json" for r in rows)
    raws = [r.locator("td.raw").text_content() for r in rows]
    assert '{"timestamp": "2025-07-21T10:00:00Z", "level": "INFO", "message": "truncated' in raws
    assert HOSTILE[0] in raws  # a hostile line is shown as text
    assert page.locator("#errchart canvas").count() == 1
    navigate(page, console + "/errors")
    page.fill("#source", "hostile.log")
    rerun(page, lambda: page.click("#errform button[type=submit]"))
    sources = page.locator("#errors tbody tr td:nth-child(1)").all_text_contents()
    assert sources and all(s.endswith("hostile.log") for s in sources)
    navigate(page, console + "/errors?reason=invalid_utf8")
    assert any(t.startswith("base64: ") or "\\xe9" in t for t in page.locator("#errors td.raw").all_text_contents())


def test_objects_page_lists_what_was_processed(page: Any, console: str, lake: Path) -> None:
    navigate(page, console + "/objects")
    sources = page.locator("#objects tbody tr td:nth-child(2)").all_text_contents()
    assert {Path(s).name for s in sources} >= {
        "app-checkout.log",
        "app-payments.log",
        "app-search.log.gz",
        "hostile.log",
    }
    assert page.text_content("#status").startswith(f"{len(sources)} objects: 0 failed")


def test_hostile_lines_are_inert_on_every_page(page: Any, console: str) -> None:
    navigate(page, console + "/?q=" + urllib.parse.quote("level:WARN pwned"))
    messages = page.locator("#events tbody td.msg").all_text_contents()
    assert set(messages) == set(HOSTILE)
    assert page.title() == "LogLake · Explorer"
    assert page.locator("#events img, #events script, #events svg").count() == 0
    for url in ("/sql?q=" + urllib.parse.quote("SELECT message FROM processed_logs WHERE message LIKE '%pwned%'"),
                "/errors"):  # fmt: skip
        navigate(page, console + url)
        assert "pwned" not in page.title()
        assert page.locator("main img, main script, main svg").count() == 0
    assert not page.dialogs and not page.errors  # type: ignore[attr-defined]


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def test_headers_forbid_inline_scripts_and_foreign_hosts(console: str) -> None:
    status, headers, body = _get(console + "/")
    csp = headers["content-security-policy"]
    assert status == 200 and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert b"<script>" not in body.replace(b'<script src="/static/', b"")  # no inline script in the page
    assert _get(console + "/", Host="evil.example")[0] == 400  # DNS rebinding: a foreign Host is refused
    status, _, body = _get(console + "/static/vendor/uPlot.iife.min.js")
    assert status == 200 and b"uPlot" in body  # vendored, nothing from a CDN


def test_another_host_needs_a_token_checked_on_every_request(lake: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "loglake", "--lake", str(lake), "ui", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "a token is required" in refused.stderr and "Traceback" not in refused.stderr
    proc, url = start(lake, "--host", "0.0.0.0", "--token", "auto")
    try:
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]
        base = url.split("?")[0].rstrip("/")
        assert _get(base + "/api/objects")[0] == 401
        assert _get(base + "/api/objects", Authorization="Bearer wrong")[0] == 401
        status, _, body = _get(base + "/api/objects", Authorization=f"Bearer {token}")
        assert status == 200 and orjson.loads(body)
        status, headers, _ = _get(url)
        assert status == 303 and f"loglake_token={token}" in headers["set-cookie"]
        assert "httponly" in headers["set-cookie"].lower()
        assert _get(base + "/", Cookie=f"loglake_token={token}")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_sql_page_caps_rows_and_says_how_many_there_were(console: str, lake: Path) -> None:
    sql = urllib.parse.quote("SELECT * FROM processed_logs, range(3)")
    doc = orjson.loads(urllib.request.urlopen(f"{console}/api/sql?q={sql}").read())
    total = Lake.open(lake).query("SELECT count(*) * 3 AS n FROM processed_logs").column("n")[0].as_py()
    assert len(doc["rows"]) == 1000 and doc["total"] == total > 1000


def test_console_queries_stop_at_the_time_limit(lake: Path) -> None:
    import threading

    from loglake.errors import QueryError
    from loglake.query.explore import capped

    engine = Lake.open(lake).engine()
    slow = "SELECT count(*) FROM range(100000000000) a WHERE hash(a.range) % 7 = 1"
    with pytest.raises(QueryError, match=r"took longer than 0\.3 s and was stopped"):
        capped(engine, slow, 10, 0.3, threading.RLock())
    assert capped(engine, "SELECT 1 AS one", 10, 5, threading.RLock())["rows"] == [{"one": 1}]
