"""Browser tests: Playwright drives Debian's Chromium (no browser download) against pytest-django's live server.

- ``browser`` (package): one Chromium for all the browser tests, launched from Debian's package
  (``/usr/bin/chromium``); no ``playwright install``.
- ``page`` (per test): a fresh context (cookies, storage) at 1440×900 with ``base_url`` = the live server, so
  ``page.goto("/iam/users")`` works. ``new_page`` makes more pages when a test needs two people signed in.
- Every page fails its test on any error in the browser's console (a JavaScript exception, a refused resource, an
  invalid ``pattern`` attribute…). A test that provokes an error on purpose says so first:
  ``allow_console_errors(page, r"regex")`` lets the errors that match it through.
- ``shot(page, name)`` saves a full-page PNG under ``artifacts/screenshots/`` (gitignored; CI keeps it as an
  artifact). A failing test also leaves ``FAILED-<test>.png`` of each of its pages there.

The live server needs the transactional database: pytest-django flushes every table after each test, so the AWS
managed catalog is loaded again for each test (``managed_policies``). pytest-django runs transactional tests after
all the transaction-wrapped ones, so no later test finds the catalog gone.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's Chromium: ``/usr/bin/chromium`` is a wrapper script, which Playwright launches happily."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return os.path.realpath(candidate)
    raise RuntimeError("Debian's chromium is not installed: apt-get install chromium (make test does it)")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


@pytest.fixture(scope="package")
def browser():
    """One Chromium for every browser test. Package scope, not session: Playwright's sync API keeps an asyncio loop
    running in the main thread while it is alive, and Django refuses ORM calls from a thread with a running loop
    unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set. Both last only as long as the browser tests, so the rest of the
    suite keeps Django's async-safety check."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the test's own fixtures (account, root_ctx) use the ORM
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(request, browser, live_server, managed_policies, settings):
    settings.AUDIT_ENQUEUE_DELIVERY = False  # no Celery worker here: events are recorded, delivery is not queued
    contexts, pages = [], []

    def make():
        # The laptop size by default (the tighter of the two a classroom has); the tests of layout, the top bar,
        # sign-in and the S3 and EC2 consoles also run at the projector's 1920×1080.
        context = browser.new_context(
            viewport={"width": 1280, "height": 720}, base_url=live_server.url, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.console_errors = errors  # type: ignore[attr-defined]
        page.allowed_console_errors = []  # type: ignore[attr-defined]
        pages.append(page)
        return page

    yield make
    report = request.node.stash.get(CALL_REPORT, None)
    if report is not None and report.failed:
        for i, page in enumerate(pages):
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            shot(page, f"FAILED-{name}" + (f"-{i}" if i else ""))
    unexpected = [
        (i, error)
        for i, page in enumerate(pages)
        for error in page.console_errors
        if not any(allowed.search(error) for allowed in page.allowed_console_errors)
    ]
    for context in contexts:
        context.close()
    if unexpected and not (report is not None and report.failed):
        pytest.fail(f"errors in the browser console (page number, message): {unexpected}")


def allow_console_errors(page, pattern: str) -> None:
    """Let console errors that match ``pattern`` through the per-page check (for a test that provokes them)."""
    page.allowed_console_errors.append(re.compile(pattern))


@pytest.fixture
def page(new_page):
    return new_page()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as ``artifacts/screenshots/<name>.png`` and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # caret="initial": hiding the caret leaves style="" on inputs, which htmx then copies in a swap (a CSP error).
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path


def htmx_settled(page) -> None:
    """Wait until no htmx request is in flight and no swap is settling: typing into a field that an in-flight
    response is about to replace loses the keystrokes' request (a real user is never that fast)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
