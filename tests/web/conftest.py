"""Fixtures of the browser tests: one Chromium per session, a fresh context per test.

Browser tests are sync functions. Playwright's event loop is the thread's running
loop only from the set-up of a test that uses the browser to its teardown, so that
the async tests and the `asyncio.run()` calls of the other tests still work when
they run after a browser test (see `browser.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from .browser import chromium_browser, restore_running_loop, set_aside_running_loop

LOCALE = "nl-BE"
TIMEZONE = "Europe/Brussels"
VIEWPORT = {"width": 1280, "height": 900}

_PLAYWRIGHT_LOOP = pytest.StashKey[asyncio.AbstractEventLoop | None]()


def _uses_browser(item: pytest.Item) -> bool:
    return "browser" in getattr(item, "fixturenames", ())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    if _uses_browser(item):
        restore_running_loop(item.config.stash.get(_PLAYWRIGHT_LOOP, None))
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    try:
        return (yield)
    finally:
        if _uses_browser(item):
            item.config.stash[_PLAYWRIGHT_LOOP] = set_aside_running_loop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a context of its own: no cookies or storage leak between tests."""
    context = browser.new_context(
        locale=LOCALE, timezone_id=TIMEZONE, viewport=VIEWPORT
    )
    try:
        yield context.new_page()
    finally:
        context.close()


# -- the web app, the simulator and a city to check citizens of ----------------

WEB_INHABITANTS = 2_000
WEB_SEED = 11


@pytest.fixture(scope="session")
def web_city(tmp_path_factory):
    """A city generated for this year, so that the desk's "today" falls in it."""
    from datetime import date

    from proactief.city import generate_city, write_city

    folder = tmp_path_factory.mktemp("web-city")
    write_city(generate_city(WEB_INHABITANTS, WEB_SEED, year=date.today().year), folder)
    return folder


@pytest.fixture(scope="session")
def web_registry(web_city):
    from proactief.magda.simulator import running_simulator

    with running_simulator(web_city, latency_ms=5) as url:
        yield url


@pytest.fixture(scope="module")
def database_backend() -> str:
    """The web tests run on SQLite only (see tests/conftest.py): the store they
    use is tested on both databases in tests/store and tests/flows, and the
    pages add nothing that depends on the database."""
    return "sqlite"


@pytest.fixture
def web(web_city, web_registry, database_url):
    """The web app on a fresh store, with one account of each role."""
    from .serving import serving

    with serving(web_city, web_registry, database_url) as running:
        yield running
