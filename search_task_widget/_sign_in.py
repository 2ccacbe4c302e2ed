"""The "Sign in with Globus" panel: its synced traits and the kernel side of its steps.

Both task widgets and the standalone :class:`SignInWidget` show it. The panel's front end is
``js/signin.js``; the button click and the pasted code come back as custom messages, never
as traits, so a code is never saved with the notebook. Everything here runs on the kernel's
main thread (widget messages arrive there; GlobusApp and the login are not thread safe),
except :meth:`SignInPanel._sign_in_expired`, which the poller thread may call and which only
sets traits.
"""

from __future__ import annotations

import logging
from typing import Any

import anywidget
import traitlets

from ._assets import bundle
from ._auth import Credentials, expired_advice, resolve_auth
from ._client import Authorizer
from ._display import ShownOnce
from ._errors import SearchTaskError, SignInRequiredError
from ._login import SignInError

log = logging.getLogger("search_task_widget")

#: "" (signed in), "offer" (a button), "code" (link and code box), "busy" (checking the
#: code) or "unavailable" (no way to sign in here: ``sign_in_message`` says why).
SIGN_IN_STATES = ("", "offer", "code", "busy", "unavailable")


class SignInPanel(ShownOnce, anywidget.AnyWidget):
    """Sign-in traits and steps; subclasses call :meth:`_init_sign_in` once set up."""

    # Synced, and never a token, a code or a header (the #: comments are their
    # documentation in the API reference).
    #: What the sign-in panel shows. ``""`` (signed in, or no sign-in needed), ``"offer"``
    #: (a *Sign in with Globus* / *Sign in again* button), ``"code"`` (the link and a box
    #: for the code), ``"busy"`` (checking the code) or ``"unavailable"`` (no way to sign
    #: in here; :attr:`sign_in_message` says why). Synced.
    sign_in = traitlets.Enum(SIGN_IN_STATES, default_value="").tag(sync=True)
    #: The Globus Auth link of the sign-in in progress (native app, PKCE), or ``""``.
    #: Synced.
    sign_in_url = traitlets.Unicode("").tag(sync=True)
    #: Why a sign-in is needed or failed, and what to do, or ``""``. Synced.
    sign_in_message = traitlets.Unicode("").tag(sync=True)

    _credentials: Credentials
    _client_id: str | None = None  # the native app to sign in with, if given

    def _init_sign_in(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self.on_msg(self._on_front_end_message)
        if credentials.needs_sign_in:
            self._ask_to_sign_in(credentials.missing)

    # -- hooks ---------------------------------------------------------------------------

    def _signed_in(self) -> None:
        """Called once usable credentials are in place (e.g. start polling)."""

    def _loopback(self) -> bool:
        """Whether the service is on this machine (no token needed with ``auth=None``)."""
        return False

    # -- public steps ------------------------------------------------------------------

    def start_sign_in(self) -> str:
        """Show the sign-in link and code box; return the link (to open in a browser).

        Raises:
            SignInRequiredError: no notebook sign-in is possible here (the message says
                what to configure).
        """
        login = self._credentials.login
        if login is None:
            raise SignInRequiredError(
                self._credentials.missing or expired_advice(self._credentials)
            )
        login.subscribe(self)
        url = login.start()
        with self.hold_sync():
            self.sign_in_url, self.sign_in = url, "code"
        return url

    def finish_sign_in(self, code: str) -> None:
        """Complete the sign-in with the code Globus showed; polling starts at once.

        Raises:
            SignInRequiredError: no sign-in in progress, or Globus Auth refused the code
                (the panel then offers a fresh link).
        """
        login = self._credentials.login
        if login is None or login.authorize_url is None:
            raise SignInRequiredError("no sign-in is in progress: call start_sign_in() first")
        login.subscribe(self)  # another widget may have started the flow
        self.sign_in = "busy"
        try:
            login.finish(code)  # calls on_signed_in() of every subscribed widget
        except SignInError as error:
            with self.hold_sync():
                self.sign_in_message = f"{error}."
                self.sign_in_url, self.sign_in = login.start(), "code"
            raise SignInRequiredError(str(error)) from None
        except BaseException:
            self.sign_in = "code"  # never leave the panel spinning
            raise

    def set_auth(self, auth: object) -> None:
        """Use new credentials (any form ``auth=`` takes) and resume.

        For a token that expired mid-session: the timings observed so far are kept. The
        service stays the one the widget was created for.
        """
        self._use(resolve_auth(auth, loopback=self._loopback(), client_id=self._client_id))

    def on_signed_in(self, authorizer: Authorizer) -> None:
        """The shared login succeeded: use its tokens (the login calls this)."""
        login = self._credentials.login
        self._use(
            Credentials(authorizer, ("object", id(authorizer)), "notebook sign-in", login=login)
        )

    # -- internals -------------------------------------------------------------------------

    def _sign_in_error(self) -> SignInRequiredError | None:
        """Why nothing can be fetched now, or None when the credentials are usable."""
        if not self._credentials.needs_sign_in:
            return None
        return SignInRequiredError(
            self._credentials.missing
            or "sign in first: use this widget's 'Sign in with Globus' panel (or "
            "start_sign_in() and finish_sign_in(code)), then call wait() again"
        )

    def _use(self, credentials: Credentials) -> None:
        """Go on with ``credentials`` from now on (or ask to sign in)."""
        previous = self._credentials.login
        if previous is not None and previous is not credentials.login:
            previous.unsubscribe(self)
        self._credentials = credentials
        if credentials.needs_sign_in:
            self._ask_to_sign_in(credentials.missing)
            return
        with self.hold_sync():
            self.sign_in, self.sign_in_url, self.sign_in_message = "", "", ""
        self._signed_in()

    def _ask_to_sign_in(self, missing: str, offer: bool = False) -> None:
        """Show the panel: a link and code box (or a button when ``offer``), or why not."""
        login = self._credentials.login
        with self.hold_sync():
            self.sign_in_message = missing
            if login is None:
                self.sign_in = "unavailable"
            elif offer:
                self.sign_in, self.sign_in_url = "offer", ""
            else:
                login.subscribe(self)
                self.sign_in_url, self.sign_in = login.start(), "code"

    def _sign_in_expired(self, error: SearchTaskError) -> str:
        """After a 401 nothing could fix: offer to sign in again; return the error text.

        May run on the poller thread: it only sets traits (no login, no app).
        """
        refused = (
            f"The credentials from {self._credentials.source} were refused ({error.message}): "
            "they expired or were revoked."
        )
        text = f"{refused} {expired_advice(self._credentials)}"
        # With a way to sign in, the panel's button says what to do.
        self._ask_to_sign_in(refused if self._credentials.login else text, offer=True)
        return text

    def _on_front_end_message(self, widget: object, content: Any, buffers: object) -> None:
        # Nothing may escape: the front end cannot show a Python traceback, so failures
        # go to the panel.
        if not isinstance(content, dict):
            return
        try:
            if content.get("event") == "sign-in":
                self.start_sign_in()
            elif content.get("event") == "sign-in-code":
                self.finish_sign_in(str(content.get("code") or ""))
        except SearchTaskError as error:
            self.sign_in_message = error.message
        except Exception as error:  # a bug must not leave the panel spinning
            # The type only: a traceback could quote a token.
            log.debug("sign-in step failed: %s", type(error).__name__)
            with self.hold_sync():
                self.sign_in_message = f"Sign-in failed ({type(error).__name__})."
                self.sign_in = "offer" if self._credentials.login else "unavailable"


class SignInWidget(SignInPanel):
    """Just the sign-in panel, for signing in before anything is watched.

    For example before the first ``SearchClient.ingest`` of a tutorial whose client uses
    :func:`~search_task_widget.login_app`: that app never starts a login by itself.
    Shows "Signed in" once the credentials are usable. See :func:`sign_in`.
    """

    _esm = bundle("signin_widget", "js")  # a Path: anywidget reloads it with ANYWIDGET_HMR=1
    _css = bundle("signin_widget", "css")

    #: Where the credentials in use come from ("" while signed out), for people.
    source = traitlets.Unicode("").tag(sync=True)

    def __init__(self, auth: object = None, *, client_id: str | None = None) -> None:
        # Refuse a bad auth before any widget state exists.
        credentials = resolve_auth(auth, client_id=client_id)
        super().__init__()
        self._client_id = client_id
        self._init_sign_in(credentials)
        self._signed_in_source()

    @property
    def signed_in(self) -> bool:
        """True once there are usable credentials."""
        return not self._credentials.needs_sign_in

    def _signed_in(self) -> None:
        self._signed_in_source()

    def _signed_in_source(self) -> None:
        self.source = "" if self._credentials.needs_sign_in else self._credentials.source

    def _ipython_display_(self) -> None:
        if self._shown_just_now():
            return
        from IPython.display import display

        bundle = super()._repr_mimebundle_()
        data = dict(bundle[0] if isinstance(bundle, tuple) else bundle or {})
        data["text/plain"] = repr(self)
        display(data, raw=True)

    def __repr__(self) -> str:
        if self.signed_in:
            return f"<SignInWidget: signed in ({self.source})>"
        return "<SignInWidget: sign-in needed>"


def sign_in(auth: object = None, *, client_id: str | None = None) -> SignInWidget:
    """Display the sign-in panel for ``auth`` (default: :func:`login_app` of ``client_id``
    or ``$SEARCH_TASK_WIDGET_CLIENT_ID``, after a token or hub token if any); return it.

    It says "Signed in" at once when the credentials are already usable (stored tokens,
    a hub token...). Never blocks: signing in happens through the panel.
    """
    widget = SignInWidget(auth, client_id=client_id)
    widget.show()
    return widget
