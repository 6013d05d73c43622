"""Fixtures for the site's browser tests: one Chromium per session, pages that fail on console errors,
the demo sweep run once per session. A missing browser or Playwright skips locally and fails in CI."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.cab_cli.test_cli import cab
from tests.cab_site.browser import CHROMIUM, SHOTS, PageProblems, launch
from tests.conftest import REPO, require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DEMO = REPO / "examples" / "demo.yaml"
DEMO_TIMEOUT_S = 540


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SHOTS:
        terminalreporter.section("cab site screenshots")
        for path in SHOTS:
            terminalreporter.write_line(str(path))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium through Playwright (never a browser Playwright downloads)."""
    require(importlib.util.find_spec("playwright") is not None, "Playwright (pip install playwright)")
    require(os.access(CHROMIUM, os.X_OK), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_problems() -> PageProblems:
    """What went wrong on the test's page so far (console errors, exceptions, dialogs, external requests)."""
    return PageProblems()


@pytest.fixture
def page(browser: Browser, page_problems: PageProblems) -> Iterator[Page]:
    """A fresh page in its own context; the test fails at teardown if the page logged any problem."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    new_page = context.new_page()
    page_problems.watch(new_page)
    try:
        yield new_page
    finally:
        context.close()
    if page_problems.lines:
        pytest.fail("the page reported problems:\n" + "\n".join(page_problems.lines), pytrace=False)


@pytest.fixture(scope="session")
def demo_site(images: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CAB_HOME after ``cab run examples/demo.yaml``, run once per session (about two minutes).

    Tests using it carry ``pytest.mark.docker`` and ``pytest.mark.slow`` (a session fixture cannot check).
    """
    home = tmp_path_factory.mktemp("demo-site") / "home"
    done = cab("run", str(DEMO), home=home, timeout=DEMO_TIMEOUT_S)
    if done.returncode != 0:
        pytest.fail(
            f"the demo sweep failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return home
