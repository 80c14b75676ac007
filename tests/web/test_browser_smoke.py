"""Chromium opens a page of a local server, runs its script and takes a screenshot."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from . import browser as browser_module
from .browser import SCREENSHOTS, screenshot, without_running_loop
from .conftest import LOCALE, TIMEZONE, VIEWPORT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

GREETING_PAGE = """<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><title>Proactief</title></head>
<body>
  <label for="name">Naam</label>
  <input id="name" type="text">
  <button id="greet" type="button">Groet</button>
  <p id="greeting">Nog niemand gegroet.</p>
  <script>
    document.getElementById("greet").addEventListener("click", () => {
      const name = document.getElementById("name").value;
      document.getElementById("greeting").textContent = `Dag ${name}!`;
    });
  </script>
</body>
</html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the site's folder without writing every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def greeting_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a one-page site on a free port of 127.0.0.1."""
    folder = tmp_path_factory.mktemp("greeting_site")
    (folder / "index.html").write_text(GREETING_PAGE, encoding="utf-8")
    handler = partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_browser_smoke_click_changes_the_greeting(page: Page, greeting_site: str):
    shot = SCREENSHOTS / "browser-smoke.png"
    shot.unlink(missing_ok=True)
    page.goto(greeting_site)
    greeting = page.locator("#greeting")
    expect(greeting).to_have_text("Nog niemand gegroet.")

    page.fill("#name", "Mira")
    page.click("#greet")

    expect(greeting).to_have_text("Dag Mira!")
    assert screenshot(page, "browser-smoke") == shot
    content = shot.read_bytes()
    assert content.startswith(PNG_SIGNATURE)
    assert len(content) > 1024


def test_browser_smoke_context_is_flemish(page: Page, greeting_site: str):
    page.goto(greeting_site)

    settings = page.evaluate(
        """() => ({
            language: navigator.language,
            timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
            width: window.innerWidth,
            height: window.innerHeight,
        })"""
    )

    assert settings == {
        "language": LOCALE,
        "timezone": TIMEZONE,
        "width": VIEWPORT["width"],
        "height": VIEWPORT["height"],
    }


def test_browser_smoke_asyncio_run_works_inside_a_browser_test(
    page: Page, greeting_site: str
):
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    page.goto(greeting_site)
    with without_running_loop():
        assert asyncio.run(answer()) == 42
    page.fill("#name", "Jonas")
    page.click("#greet")

    expect(page.locator("#greeting")).to_have_text("Dag Jonas!")


def test_browser_smoke_missing_chromium_names_the_remedy(monkeypatch, tmp_path):
    monkeypatch.setattr(browser_module, "CHROMIUM", tmp_path / "chromium")

    remedy = "run scripts/install-system-packages"
    with pytest.raises(RuntimeError, match=remedy), browser_module.chromium_browser():
        pass


def test_browser_smoke_screenshot_name_is_a_file_name(page: Page):
    with pytest.raises(ValueError, match="plain file name"):
        screenshot(page, "../outside")


# The two tests below run after the browser tests of this module, while the
# session's Chromium still runs: no event loop may seem to run then.


def test_browser_smoke_no_running_loop_after_a_browser_test():
    with pytest.raises(RuntimeError, match="no running event loop"):
        asyncio.get_running_loop()


async def test_browser_smoke_async_test_runs_after_a_browser_test():
    await asyncio.sleep(0)
