"""The browser-test harness of the staff pages, shared by every ``tests/web`` module.

Fixtures
--------
``web_server`` (session): the whole platform (``build_app``, embedded SQLite store, the demo
    loaded, its consumers settled) served by a real uvicorn on a free port in a thread;
    a ``Served`` with ``base`` (the URL), ``platform`` and ``settings``.
``browser`` (session): Debian's Chromium (``/usr/bin/chromium``) driven by Playwright, no
    browser download. Without it the test skips with the reason; under ``CI=true`` it fails.
``web_page`` (per test): a fresh context (own cookies) and page on the server. Every
    request to another host is aborted and recorded; the test fails if there was one.
    Yields a ``Pages`` helper:

    - ``pages.page``: the Playwright page; ``pages.goto(path)``;
    - ``pages.sign_in(role, tenant, position=None)``: the development sign-in page
      (``position``: a part of the position's title, e.g. ``"Case Management"``);
    - ``pages.check(name)``: axe-core (vendored, ``tests/web/vendor/axe.min.js``) on the
      current page, asserting no serious or critical violation, and a full-page
      screenshot ``<name>.png`` into the run's screenshot folder (``KIM_SCREENSHOT_DIR``,
      default ``<pytest's base temp>/screenshots``); ``pages.shot(name)``: the screenshot
      alone (axe takes 1-2 s a page: check each distinct page once);
    - ``pages.tab_to(text)``: keyboard only: presses Tab until the focused element's text
      (or label, or value) contains ``text``, asserting every focused element shows a
      visible focus indicator; returns the number of Tab presses.

One browser per worker process, one context per test: the pages' tests of all modules
share them (the budget: about 45 s for the case manager's browser tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pytest

from kim.assembly import build_app
from kim.demo import load_demo
from runtime.keyring import create_key_file
from runtime.platform import Platform
from runtime.settings import Settings
from tests.conftest import IN_CI, TEST_SECRET, settle
from tests.support import served_in_thread

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Request, Route

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SERIOUS = {"serious", "critical"}


@dataclass(frozen=True)
class Served:
    base: str
    platform: Platform
    settings: Settings


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The platform with the demo, served by uvicorn on a free port (see the module doc)."""
    folder = tmp_path_factory.mktemp("web")
    settings = Settings(
        event_store=f"sqlite:///{folder / 'kim-data'}",
        bus="memory",
        jwt_secret=TEST_SECRET,
        relay_poll_interval=0.02,
        key_file=str(create_key_file(folder / "kim-keys" / "kek.json")),
        rate_limit="100000/second",
        address_rate_limit="100000/second",
        auth_failure_limit="100000/minute",
    )
    platform = Platform(settings)
    load_demo(platform)
    try:
        with served_in_thread(build_app(settings, platform=platform)) as base:
            settle(platform)
            yield Served(base, platform, settings)
    finally:
        platform.close_read()


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if IN_CI:
        pytest.fail(f"{message}; under CI=true the browser tests must run")
    pytest.skip(f"{message}; the browser tests skip")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright (skips without it; fails under CI=true).

    Per module, not per session: Playwright's sync API keeps an event loop running in the
    worker's thread while it is started, and an asyncio test that the worker runs next
    would find it ("Runner.run() cannot be called from a running event loop")."""
    _require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a dev dependency
        if IN_CI:
            pytest.fail("playwright is not installed; under CI=true the browser tests must run")
        pytest.skip("playwright is not installed")
    driver: Playwright = sync_playwright().start()
    launched = driver.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
    )
    try:
        yield launched
    finally:
        launched.close()
        driver.stop()


def screenshot_dir(factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("KIM_SCREENSHOT_DIR")
    folder = Path(chosen) if chosen else factory.getbasetemp() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: 'body', visible: false, text: ''};
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  // A date field's own picker button (inside the field): the browser draws its focus ring.
  const picker = el.type === 'date' && !el.matches(':focus') && el.matches(':focus-within');
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  const text = (el.innerText || '') + ' ' + label + ' ' + (el.value || '') + ' '
    + (el.getAttribute('aria-label') || '');
  return {tag: el.tagName.toLowerCase(), visible: outline || shadow || picker, text: text.trim()};
}"""


@dataclass
class Pages:
    page: Page
    base: str
    shots: Path
    blocked: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def sign_in(self, role: str, tenant: str, position: str | None = None) -> None:
        """The development sign-in page, filled in; ends on the start page."""
        self.goto(f"/anmelden?rolle={role}&mandant={tenant}")
        if position is not None:
            option = self.page.locator("#f-position option", has_text=position).first
            self.page.select_option("#f-position", value=option.get_attribute("value"))
        self.page.get_by_role("button", name="Anmelden").click()
        self.page.wait_for_url(self.base + "/")

    def check(self, name: str) -> None:
        """axe-core: no serious or critical violation; and a screenshot of the page."""
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in result["violations"]
            if v.get("impact") in SERIOUS
        ]
        assert not bad, f"axe on {name} ({self.page.url}): " + "; ".join(bad)
        self.shot(name)
        self.checked.append(name)

    def shot(self, name: str) -> None:
        """A full-page screenshot ``<name>.png`` (for a page axe checked already)."""
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def focused(self) -> dict[str, Any]:
        found: dict[str, Any] = self.page.evaluate(FOCUS_VISIBLE)
        return found

    def tab_to(self, text: str, most: int = 80) -> int:
        """Tab until the focused element shows ``text``; every stop has a visible focus."""
        for presses in range(1, most + 1):
            self.page.keyboard.press("Tab")
            now = self.focused()
            assert now["visible"], f"no visible focus on <{now['tag']}> {now['text'][:60]!r}"
            if text.lower() in now["text"].lower():
                return presses
        raise AssertionError(f"{text!r} not reachable with Tab in {most} presses")


@pytest.fixture
def web_page(
    browser: Browser, web_server: Served, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pages]:
    """A fresh browser context on the server; requests to other hosts fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    own = urlparse(web_server.base).netloc
    pages = Pages(context.new_page(), web_server.base, screenshot_dir(tmp_path_factory))

    def guard(route: Route, request: Request) -> None:
        if urlparse(request.url).netloc == own or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            pages.blocked.append(request.url)
            route.abort()

    context.route("**/*", guard)
    # Generous waits: beside the suite's other workers a page can take seconds to answer;
    # what the tests assert is what the page shows, not how fast (bench/pages.py measures).
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    pages.page.set_default_timeout(30_000)
    try:
        yield pages
    finally:
        context.close()
    assert not pages.blocked, f"requests to other hosts: {pages.blocked}"
