"""Browser tests: the real app served on a free localhost port from a thread of the test process,
against the session's database (`app` from tests/conftest.py: SQLite file or `--db=postgres`), and
Debian's Chromium driven by Playwright's sync API — one browser per test session (per xdist worker),
one fresh browser context per user, so three users never share cookies.

    def test_x(live_server, open_as, ctx):
        buyer = open_as(make_user("buyer"))        # logged in through the login form
        buyer.go("/orders")                          # asserts no 5xx
        buyer.shot("orders")                         # tests/artifacts/<test>-<name>.png
        buyer.assert_fits()                          # no sideways scrolling

Chromium missing is a failure, never a skip: `make test` installs it (TEST_APT_PACKAGES)."""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "secret-pass"  # tests/factories.py


@pytest.fixture(scope="session")
def _server(app):
    """The app on 127.0.0.1:<free port> in a background thread (werkzeug, threaded), for the session."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(_server, app):
    """The base URL of the running app, with CSRF checked as in production — for this test only: the
    test client tests that share the session's app post without tokens."""
    saved = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    yield _server
    app.config["WTF_CSRF_ENABLED"] = saved


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session. Missing Chromium or Playwright fails loudly."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium package "
                    "(`make test` installs it; or apt-get install chromium)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra pins playwright
        pytest.fail(f"Playwright for Python is not installed: {exc}", pytrace=False)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Visitor:
    """One user in their own browser context: a page, the base URL, and small helpers."""

    def __init__(self, context, base, name, artifacts, prefix):
        self.context, self.base, self.name = context, base, name
        self.page = context.new_page()
        self.page.set_default_timeout(10_000)
        # the page's Content-Security-Policy refused something it ships (an inline script or style): a
        # feature that silently does nothing in a real browser
        self.csp_refusals = []
        self.page.on("console", lambda message: self.csp_refusals.append(message.text)
                     if "Content Security Policy" in message.text else None)
        self._artifacts, self._prefix = artifacts, prefix

    # navigation -------------------------------------------------------------------------------
    def go(self, path):
        response = self.page.goto(self.base + path if path.startswith("/") else path)
        self.assert_ok(response)
        return self

    def assert_ok(self, response=None):
        status = response.status if response is not None else None
        if status is not None and status >= 500:
            raise AssertionError(f"{self.name}: {self.page.url} answered {status}")
        assert not self.csp_refusals, f"{self.name}: {self.page.url}: {self.csp_refusals}"
        return self

    @property
    def path(self):
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    def login(self, username, password=PASSWORD):
        self.go("/login")
        form = self.page.locator("form:has(input[name=password])")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "/login" not in self.path, f"{username} could not log in: {self.flash_text()}"
        return self

    def set_language(self, code):
        """Through the header's language link (/lang/<code>), as a user would; back to the same page."""
        here = self.path
        self.go(f"/lang/{code}?next={here}")
        expected = "zh-CN" if code == "zh_CN" else "en"
        assert self.page.locator("html").get_attribute("lang") == expected
        return self

    # reading ------------------------------------------------------------------------------------
    def flash_text(self):
        flashes = self.page.locator(".flash")
        return " | ".join(flashes.all_inner_texts()) if flashes.count() else ""

    def text(self):
        return self.page.locator("body").inner_text()

    def sees(self, text):
        return text in self.text()

    # layout -------------------------------------------------------------------------------------
    def overflow(self):
        """How many CSS px the document is wider than the viewport (0 when nothing scrolls sideways)."""
        scroll, inner = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert inner == self.page.viewport_size["width"], "the layout viewport was widened"
        return scroll - inner

    def assert_fits(self):
        extra = self.overflow()
        if extra > 0:
            culprits = self.page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .filter(e => !e.closest('.table-wrap, table, pre, .diagram'))
                .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                                      + ' ' + Math.round(e.getBoundingClientRect().right))""")
            raise AssertionError(f"{self.path} scrolls sideways by {extra}px at {self.page.viewport_size}: {culprits}")
        return self

    def shot(self, name, full_page=True):
        path = self._artifacts / f"{self._prefix}{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def open_as(browser, live_server, artifacts, request):
    """open_as(user, viewport=DESKTOP, lang=None) → a logged-in Visitor in a fresh context."""
    contexts = []
    prefix = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_") + "-"

    def open_visitor(user=None, viewport=DESKTOP, lang=None, password=PASSWORD):
        # not is_mobile: mobile emulation widens window.innerWidth to the content, which would hide the
        # very overflow assert_fits looks for; a 390 px viewport with touch is what the layout sees
        context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=viewport["width"] < 600)
        contexts.append(context)
        visitor = Visitor(context, live_server, getattr(user, "username", "anonymous"), artifacts, prefix)
        visitor.role = getattr(user, "role", None)
        if user is not None:
            visitor.login(user.username, password)
        if lang:
            visitor.set_language(lang)
        return visitor

    yield open_visitor
    for context in contexts:
        context.close()
