"""Screenshots of the web console for the README: `python docs/screenshots.py` (needs Chromium).

Builds a demo lake in a temporary folder, serves it with `loglake ui`, and saves one PNG per page in
docs/console/.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent / "console"
GROUP_BY = 'SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level'
PAGES = {
    "explorer": "/?q=" + urllib.parse.quote("level:ERROR"),
    "sql": "/sql?q=" + urllib.parse.quote(GROUP_BY),
    "errors": "/errors",
    "objects": "/objects",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp) / "lake"
        subprocess.run([sys.executable, "-m", "loglake", "--lake", str(lake), "demo"], check=True, capture_output=True)
        serve = [sys.executable, "-m", "loglake", "--lake", str(lake), "ui", "--port", "0"]
        proc = subprocess.Popen(serve, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        url = proc.stderr.readline().split(" at ", 1)[1].split()[0].rstrip("/")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                for name, path in PAGES.items():
                    page.goto(url + path)
                    page.wait_for_selector("body[data-ready]", state="attached")
                    page.screenshot(path=str(HERE / f"{name}.png"))
                browser.close()
        finally:
            proc.terminate()


if __name__ == "__main__":
    main()
