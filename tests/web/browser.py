"""Chromium for the browser tests: Debian's build, driven by Playwright's sync API.

Playwright downloads no browser here. It starts `/usr/bin/chromium`, which
`scripts/install-system-packages` installs, headless and with a profile of its own
that it deletes again, and with the browser's calls home switched off: the tests
talk to servers on 127.0.0.1 and to nothing else.

While Playwright's sync API is started, its event loop counts as the running loop
of the thread, also between two calls: the loop runs in a greenlet that is only
paused, and the running-loop mark belongs to the thread. Any `asyncio.run()`, and
every async test of pytest-asyncio, then fails with "cannot be called from a running
event loop" (https://github.com/microsoft/playwright-pytest/issues/167). Taking the
mark away is not enough: Playwright loses its connection when the mark is missing
at its next call. So the mark is set aside while no browser is used and given back
before Playwright runs again: `conftest.py` does so around every test that uses
the browser, and `without_running_loop()` inside such a test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-default-browser-check",
    # With all of the above, Debian's Chromium still looks up accounts.google.com
    # and update.googleapis.com at start. Only this machine's addresses may resolve
    # (the rule also applies to IP literals, hence the loopback address).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for as long as the block runs."""
    if not CHROMIUM.is_file():
        raise RuntimeError(
            f"The browser tests need Debian's Chromium at {str(CHROMIUM)!r}, which "
            "is missing: run scripts/install-system-packages."
        )
    with sync_playwright() as playwright:
        playwright_loop = asyncio.get_running_loop()
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            chromium_sandbox=False,
            args=list(CHROMIUM_ARGS),
        )
        try:
            yield browser
        finally:
            # The block may end while the mark is set aside, e.g. when pytest ends
            # the session after a test without a browser.
            restore_running_loop(playwright_loop)
            browser.close()


def set_aside_running_loop() -> asyncio.AbstractEventLoop | None:
    """Takes the running-loop mark off this thread and returns the loop it named."""
    loop = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    return loop


def restore_running_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Marks `loop` as this thread's running loop again, or none when it is None."""
    asyncio._set_running_loop(loop)


@contextmanager
def without_running_loop() -> Iterator[None]:
    """Lets a browser test call `asyncio.run()`; no Playwright call in the block."""
    loop = set_aside_running_loop()
    try:
        yield
    finally:
        restore_running_loop(loop)


def screenshot(page: Page, name: str) -> Path:
    """Writes the whole page to `var/screenshots/<name>.png` and returns that path."""
    if not name or Path(name).name != name:
        raise ValueError(
            f"A screenshot name is a plain file name without '.png', not {name!r}."
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
