"""The static front-end harness: one widget module rendered with a fake model, no Jupyter.

``harness.html?module=widget|list`` loads ``js/<module>.js`` and its CSS; tests mount it with
trait values, change them the way ipywidgets would, and assert on the DOM.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect


class HarnessPage:
    """One module rendered in ``page``, with the page's errors collected."""

    module = "widget"

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        page.goto(f"{base_url}/tests/browser/harness.html?module={self.module}")
        expect(page.locator("body")).to_have_attribute("data-ready", "1")

    def mount(self, kernel: dict | None = None, **traits: object) -> HarnessPage:
        """Render the view on ``traits``; ``kernel`` as js/loader.js passes it (e.g.
        ``{"comm_live": False}``: a model rebuilt from saved state, no kernel behind it)."""
        self.page.evaluate("([t, k]) => window.mount(t, k)", [traits, kernel])
        return self

    def set(self, **traits: object) -> None:
        self.page.evaluate("c => window.setModel(c)", traits)

    def timers(self) -> dict:
        return self.page.evaluate("window.liveTimers()")
