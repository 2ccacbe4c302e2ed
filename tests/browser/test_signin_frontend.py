"""The "Sign in with Globus" panel (js/signin.js + js/signin.css) in Chromium.

No kernel: the static harness loads the widget module, which imports js/signin.js, and the
tests drive the three sign-in traits on the fake model and read what the panel sent back
(``window.stw.model.sent``, the custom messages). Which URLs may become a link is a pure
function, tested under Node (js/test/signin.test.js); here, that the panel uses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright")
from axe import format_violations, run_axe
from harness import HarnessPage
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

AUTHORIZE_URL = (
    "https://auth.globus.org/v2/oauth2/authorize?client_id=0c4b6f7e-3d0a-4a53-9d6c-7f1b0d2e9a11"
    "&redirect_uri=https%3A%2F%2Fauth.globus.org%2Fv2%2Fweb%2Fauth-code"
    "&scope=urn%3Aglobus%3Aauth%3Ascope%3Asearch.api.globus.org%3Aingest"
    "&state=_default&response_type=code&code_challenge=abc&code_challenge_method=S256"
)
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
ROOTS = {"widget": ".stw-root", "list": ".stw-list-root", "signin_widget": ".stw-signin-root"}
TITLE = "Sign in with Globus"


class Panel(HarnessPage):
    """One widget module in the harness, with its sign-in panel's parts."""

    def __init__(self, page: Page, base_url: str, module: str):
        self.module = module
        super().__init__(page, base_url)
        self.root = page.locator(ROOTS[module])
        self.panel = self.root.locator("section.stw-signin")
        self.region = page.get_by_role("region", name=TITLE)
        self.text = self.panel.locator(".stw-signin-text")
        self.offer = self.panel.locator("button.stw-signin-button[type=button]")
        self.link = self.panel.locator("a.stw-signin-link")
        self.code = self.panel.get_by_label("Paste the code it shows")
        self.submit = self.panel.get_by_role("button", name="Sign in", exact=True)
        self.busy_submit = self.panel.locator("button[type=submit]")

    def mount(self, **traits: object) -> Panel:
        super().mount(**traits)
        expect(self.root).to_have_count(1)
        expect(self.panel).to_have_count(1)
        return self

    def sent(self) -> list[dict]:
        return self.page.evaluate("() => window.stw.model.sent")

    def wait_sent(self, count: int) -> list[dict]:
        """The messages sent, once there are at least ``count`` of them."""
        self.page.wait_for_function("(n) => window.stw.model.sent.length >= n", arg=count)
        return self.sent()

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.page.evaluate("() => window.__pwned") is None


@pytest.fixture
def view(page, base_url, request) -> Panel:
    """The panel in the single-task widget, or in ``module`` when parametrized."""
    return Panel(page, base_url, getattr(request, "param", "widget"))


both = pytest.mark.parametrize("view", ["widget", "list"], indirect=True)


# --------------------------------------------------------------------------- states


@both
def test_hidden_until_the_kernel_asks(view):
    view.mount()
    expect(view.panel).to_be_hidden()
    expect(view.panel).to_have_attribute("data-status", "")
    expect(view.region).to_have_count(0)  # hidden: not in the accessibility tree either
    view.set(sign_in="code", sign_in_url=AUTHORIZE_URL)
    expect(view.region).to_be_visible()
    expect(view.panel.locator(".stw-signin-title")).to_have_text(TITLE)
    # Under the header, inside the widget's own root.
    position = view.panel.evaluate("p => Array.from(p.parentElement.children).indexOf(p)")
    assert position == 1
    view.set(sign_in="")
    expect(view.panel).to_be_hidden()
    view.assert_clean()


@both
def test_code_step_shows_the_link_the_box_and_the_button(view):
    view.mount(sign_in="code", sign_in_url=AUTHORIZE_URL)
    expect(view.panel).to_have_attribute("data-status", "code")
    link = view.panel.get_by_role("link", name="Open the Globus sign-in page")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", AUTHORIZE_URL)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(view.code).to_be_visible()
    expect(view.code).to_be_enabled()
    expect(view.code).to_have_value("")
    expect(view.code).to_have_attribute("autocomplete", "off")
    expect(view.submit).to_be_visible()
    expect(view.submit).to_be_enabled()
    expect(view.offer).to_be_hidden()
    expect(view.text).to_be_hidden()  # no message yet
    # A refused code comes back as a message next to a fresh link.
    view.set(sign_in_message="Globus Auth refused the code (400 Error).")
    expect(view.panel.get_by_role("status")).to_have_text(
        "Globus Auth refused the code (400 Error)."
    )
    expect(view.code).to_be_visible()
    view.assert_clean()


@both
def test_submitting_a_code_sends_it_once_trimmed_and_clears_the_box(view):
    view.mount(sign_in="code", sign_in_url=AUTHORIZE_URL)
    view.code.fill("  abc \t")
    view.submit.click()
    assert view.wait_sent(1) == [{"event": "sign-in-code", "code": "abc"}]
    expect(view.code).to_have_value("")
    # The code reached the kernel as a message only: no trait holds it.
    values = view.page.evaluate(
        "() => ['sign_in', 'sign_in_url', 'sign_in_message'].map((k) => window.stw.model.get(k))"
    )
    assert values == ["code", AUTHORIZE_URL, ""]
    assert view.sent() == [{"event": "sign-in-code", "code": "abc"}]
    view.assert_clean()


def test_an_empty_code_sends_nothing(view):
    view.mount(sign_in="code", sign_in_url=AUTHORIZE_URL)
    view.submit.click()
    expect(view.code).to_be_focused()  # back to the box to type one
    view.code.fill("   ")
    view.code.press("Enter")
    expect(view.code).to_be_focused()
    # A real code afterwards is the first and only message: the empty tries sent nothing.
    view.code.fill("xyz")
    view.submit.click()
    assert view.wait_sent(1) == [{"event": "sign-in-code", "code": "xyz"}]
    view.assert_clean()


def test_enter_in_the_box_submits_without_leaving_the_page(view):
    view.mount(sign_in="code", sign_in_url=AUTHORIZE_URL)
    url = view.page.url
    view.code.fill("abc")
    view.code.press("Enter")
    assert view.wait_sent(1) == [{"event": "sign-in-code", "code": "abc"}]
    expect(view.code).to_have_value("")
    assert view.page.url == url
    # Still the same document (a form submission would have reloaded it).
    assert view.page.evaluate("() => window.stw.model.sent.length") == 1
    view.assert_clean()


@both
def test_offer_button_asks_the_kernel_to_start(view):
    view.mount(sign_in="offer")
    expect(view.offer).to_be_visible()
    expect(view.offer).to_have_text("Sign in with Globus")
    expect(view.panel.locator("form")).to_be_hidden()
    expect(view.link).to_be_hidden()
    view.offer.click()
    assert view.wait_sent(1) == [{"event": "sign-in"}]
    # After an expiry the kernel says why, and the button says what it does now.
    view.set(sign_in_message="The credentials from notebook sign-in were refused.")
    expect(view.offer).to_have_text("Sign in again")
    expect(view.panel.get_by_role("button", name="Sign in again")).to_be_visible()
    expect(view.text).to_have_text("The credentials from notebook sign-in were refused.")
    expect(view.text).to_have_attribute("role", "status")
    view.offer.click()
    assert view.wait_sent(2) == [{"event": "sign-in"}, {"event": "sign-in"}]
    view.set(sign_in_message="")
    expect(view.offer).to_have_text("Sign in with Globus")
    view.assert_clean()


def test_busy_disables_the_box_and_the_button(view):
    view.mount(sign_in="code", sign_in_url=AUTHORIZE_URL)
    view.code.fill("abc")
    view.submit.click()
    view.wait_sent(1)
    view.set(sign_in="busy")
    expect(view.panel).to_have_attribute("data-status", "busy")
    expect(view.code).to_be_disabled()
    expect(view.busy_submit).to_be_disabled()
    expect(view.busy_submit).to_have_text("Signing in…")
    expect(view.link).to_be_visible()
    # A disabled form cannot send a second code.
    view.busy_submit.click(force=True)
    view.code.press("Enter")
    # The kernel refused it: a new link, the box usable again.
    view.set(sign_in="code", sign_in_message="Globus Auth refused the code.")
    expect(view.code).to_be_enabled()
    expect(view.submit).to_be_enabled()
    expect(view.submit).to_have_text("Sign in")
    assert view.sent() == [{"event": "sign-in-code", "code": "abc"}]
    view.assert_clean()


def test_unavailable_shows_only_the_message(view):
    message = "notebook sign-in needs the client id of a Globus native app"
    view.mount(sign_in="unavailable", sign_in_message=message, sign_in_url=AUTHORIZE_URL)
    expect(view.panel).to_be_visible()
    expect(view.panel).to_have_attribute("data-status", "unavailable")
    expect(view.text).to_have_text(message)
    expect(view.panel.locator(".stw-signin-title")).to_be_visible()
    visible = view.panel.locator("button:visible, input:visible, a:visible, form:visible")
    expect(visible).to_have_count(0)
    view.assert_clean()


# --------------------------------------------------------------------------- hostile values


def test_only_an_https_url_becomes_a_link(view):
    url = "javascript:window.__pwned=1"  # the other URLs refused: js/test/signin.test.js
    view.mount(sign_in="code", sign_in_url=url)
    expect(view.link).to_be_visible()
    expect(view.panel.locator("a[href]")).to_have_count(0)
    # A good link, then a bad one: the old href does not linger.
    view.set(sign_in_url=AUTHORIZE_URL)
    expect(view.link).to_have_attribute("href", AUTHORIZE_URL)
    view.set(sign_in_url=url)
    expect(view.panel.locator("a[href]")).to_have_count(0)
    view.link.click()  # nothing to follow
    assert view.page.url.endswith("harness.html?module=widget")
    view.assert_clean()


@both
def test_model_text_is_never_html(view):
    view.mount(sign_in="unavailable", sign_in_message=XSS)
    expect(view.text).to_have_text(XSS)
    view.set(sign_in="code", sign_in_url='https://auth.globus.org/"><img src=x onerror=alert(1)>')
    expect(view.text).to_have_text(XSS)
    expect(view.link).to_have_attribute(
        "href", "https://auth.globus.org/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E"
    )
    view.set(sign_in="offer", sign_in_message=XSS)
    expect(view.text).to_have_text(XSS)
    expect(view.page.locator("img")).to_have_count(0)
    expect(view.panel.locator("script")).to_have_count(0)
    view.assert_clean()


# --------------------------------------------------------------------------- accessibility


@both
def test_one_polite_live_region_whatever_the_panel_does(view):
    view.mount(sign_in="code", sign_in_url=AUTHORIZE_URL, sign_in_message="Sign in to watch.")
    live = view.root.locator("[aria-live=polite]")
    expect(live).to_have_count(1)
    expect(view.panel.locator("[aria-live]")).to_have_count(0)
    for status in ("busy", "offer", "unavailable", ""):
        view.set(sign_in=status, sign_in_message=f"now {status or 'signed in'}")
        expect(view.panel).to_have_attribute("data-status", status)
        expect(live).to_have_count(1)
    # The panel's words never go through the widget's live region.
    expect(live).not_to_contain_text("now ")
    view.assert_clean()


#: JupyterLab's own theme stylesheets (they hold only variables and use no url()).
THEMES = {
    "light": "theme-light-extension",
    "dark": "theme-dark-extension",
}


def _theme_css(theme: str) -> Path:
    jupyterlab = pytest.importorskip("jupyterlab")
    path = Path(jupyterlab.__file__).parent / "themes/@jupyterlab" / THEMES[theme] / "index.css"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.mark.parametrize(
    ("view", "theme"),
    [("widget", "fallbacks"), ("widget", "light"), ("widget", "dark"), ("list", "dark")],
    indirect=["view"],
)
def test_axe_finds_no_accessibility_violations(view, theme):
    if theme != "fallbacks":
        view.page.add_style_tag(path=str(_theme_css(theme)))
    view.mount(
        sign_in="code",
        sign_in_url=AUTHORIZE_URL,
        sign_in_message="Globus Auth refused the code (400 Error): try again.",
    )
    states = [
        ("code", {}),
        ("offer", {"sign_in": "offer", "sign_in_url": ""}),
        ("unavailable", {"sign_in": "unavailable"}),
    ]
    for status, changes in states:
        if changes:
            view.set(**changes)
        expect(view.panel).to_have_attribute("data-status", status)
        view.panel.scroll_into_view_if_needed()
        results = run_axe(view.panel)
        assert results["violations"] == [], (status, format_violations(results["violations"]))
        assert "color-contrast" in results["passes"], (status, results["inapplicable"])
    view.assert_clean()


# ------------------------------------------------------------------ SignInWidget


standalone = pytest.mark.parametrize("view", ["signin_widget"], indirect=True)


@standalone
def test_the_standalone_panel_signs_in_then_says_so(view):
    status = view.root.locator(".stw-signin-status")
    view.mount(sign_in="code", sign_in_url=AUTHORIZE_URL)
    expect(view.region).to_be_visible()
    expect(status).to_be_hidden()
    view.code.fill("abc")
    view.submit.click()
    assert view.wait_sent(1) == [{"event": "sign-in-code", "code": "abc"}]
    view.set(sign_in="", sign_in_url="", source="notebook sign-in")
    expect(view.panel).to_be_hidden()
    expect(status).to_have_text("Signed in to Globus (notebook sign-in).")
    view.set(source=XSS)
    expect(status).to_have_text(f"Signed in to Globus ({XSS}).")
    expect(view.root.locator("img, script")).to_have_count(0)
    view.assert_clean()


@standalone
def test_the_standalone_panel_passes_axe(view):
    view.mount(sign_in="code", sign_in_url=AUTHORIZE_URL)
    for changes in ({}, {"sign_in": "", "source": "JupyterHub ($GLOBUS_DATA)"}):
        view.set(**changes)
        view.root.scroll_into_view_if_needed()
        results = run_axe(view.root)
        assert results["violations"] == [], format_violations(results["violations"])
        assert "color-contrast" in results["passes"], results["inapplicable"]
    view.assert_clean()
