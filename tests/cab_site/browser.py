"""A real browser for the site's tests: Debian's Chromium, driven by Playwright's sync API.

Playwright cannot download its own browser here, so it launches ``/usr/bin/chromium`` through
``executable_path`` (``--no-sandbox``: the tests run as root). Each page records what a reader would
count as breakage, so a test fails on it even when its own assertions pass: console errors, uncaught
exceptions, dialogs (hostile content that got to run ``alert``) and requests to other hosts (the site
bundles every script and stylesheet; a CDN link is a bug). Screenshots land under
``$CAB_ARTIFACTS/screenshots`` (default ``<repo>/.artifacts/screenshots``) and their paths are printed and
listed in pytest's terminal summary.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Playwright, Route

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
"""Hosts a page may fetch from over HTTP(S) (``cab site serve``); anything else is an external request."""
SHOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SHOTS: list[Path] = []
"""Screenshots taken this session, for the terminal summary (``conftest.pytest_terminal_summary``)."""


def launch(playwright: Playwright) -> Browser:
    """Headless Debian Chromium, never a Playwright-downloaded browser."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
    )


@dataclass
class PageProblems:
    """Everything on a page a reader would call broken, one line each."""

    lines: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        """Records console errors, uncaught exceptions, dialogs and non-local requests of ``page``."""
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.lines.append(f"page error: {exc}"))
        page.on("dialog", self._dialog)
        page.route(re.compile(r"^https?://"), self._route)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.lines.append(f"console error: {message.text} ({where})")

    def _dialog(self, dialog: Dialog) -> None:
        self.lines.append(f"dialog ({dialog.type}): {dialog.message}")
        dialog.dismiss()

    def _route(self, route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
            return
        self.lines.append(f"external request: {route.request.url}")
        route.abort()


def artifact_dir() -> Path:
    """``$CAB_ARTIFACTS`` or ``<repo>/.artifacts`` (git-ignored), created."""
    configured = os.environ.get("CAB_ARTIFACTS")
    target = Path(configured) if configured else REPO / ".artifacts"
    target.mkdir(parents=True, exist_ok=True)
    return target


def shot(page: Page, name: str, *, full_page: bool = True, selector: str | None = None) -> Path:
    """A screenshot (the full page, the viewport, or one element) saved as ``screenshots/NAME.png``
    under the artifact folder; prints its path."""
    if not SHOT_NAME.match(name):
        raise ValueError(f"screenshot name {name!r}: letters, digits, '.', '_' and '-' only")
    path = artifact_dir() / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if selector is not None:
        page.locator(selector).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    SHOTS.append(path)
    return path
