"""The "Sign in with Globus" panel: the kernel side of its steps, as a component.

Both task widgets and the standalone :class:`SignInWidget` hold a :class:`SignIn` and show
its state in three synced traits of their own (``sign_in``, ``sign_in_url``,
``sign_in_message``). The panel's front end is ``js/signin.js``; the button click and the
pasted code come back as custom messages, never as traits, so a code is never saved with the
notebook. Everything here runs on the kernel's main thread (widget messages arrive there;
GlobusApp and the login are not thread safe), except :meth:`SignIn.expired`, which the
poller thread may call and which only sets traits.
"""

from __future__ import annotations

import logging
import weakref
from contextlib import AbstractContextManager
from typing import Any, Protocol

import anywidget
import traitlets

from .._model.errors import SearchTaskError, SignInRequiredError, expired_advice
from .._service.auth import Credentials, resolve_auth
from .._service.client import Authorizer
from .._service.login import SignInError
from .assets import bundle
from .display import ShownOnce

log = logging.getLogger("search_task_widget")

#: "" (signed in), "offer" (a button), "code" (link and code box), "busy" (checking the
#: code) or "unavailable" (no way to sign in here: ``sign_in_message`` says why).
SIGN_IN_STATES = ("", "offer", "code", "busy", "unavailable")


class SignInHost(Protocol):
    """A widget that shows the panel: its three traits, and what it does about new
    credentials."""

    sign_in: str
    sign_in_url: str
    sign_in_message: str

    def hold_sync(self) -> AbstractContextManager[Any]: ...

    def _credentials_changed(self, credentials: Credentials) -> None:
        """Before the panel changes: e.g. stop polling and take a client for them."""

    def _signed_in(self) -> None:
        """Usable credentials are in place (e.g. start polling)."""


class SignIn:
    """The sign-in panel's kernel side: the credentials in use and the steps of a notebook
    sign-in. A widget holds one and shows its state in the widget's own three traits
    (see :func:`sign_in_traits`).

    Main thread only, except :meth:`expired`, which the poller thread may call and which
    only sets traits.
    """

    def __init__(
        self,
        host: SignInHost,
        credentials: Credentials,
        *,
        client_id: str | None = None,
        loopback: bool = False,
    ) -> None:
        self._host = weakref.ref(host)  # the host holds this; the login holds it weakly
        self.credentials = credentials
        self.client_id = client_id
        self.loopback = loopback  # the service is on this machine: no token for auth=None
        if credentials.needs_sign_in:
            self._ask(credentials.missing)

    def _surface(self) -> SignInHost:
        host = self._host()
        if host is None:  # only while the widget is being collected
            raise SignInRequiredError("this widget is gone")
        return host

    # -- steps (the widgets' public methods call these) ----------------------------------

    def start(self) -> str:
        """Show the link and code box; return the link (see the widgets' start_sign_in)."""
        login = self.credentials.login
        if login is None:
            raise SignInRequiredError(self.credentials.missing or self._expired_advice())
        login.subscribe(self)
        url = login.start()
        host = self._surface()
        with host.hold_sync():
            host.sign_in_url, host.sign_in = url, "code"
        return url

    def finish(self, code: str) -> None:
        """Complete the sign-in with ``code`` (see the widgets' finish_sign_in)."""
        login = self.credentials.login
        if login is None or login.authorize_url is None:
            raise SignInRequiredError("no sign-in is in progress: call start_sign_in() first")
        login.subscribe(self)  # another widget may have started the flow
        host = self._surface()
        host.sign_in = "busy"
        try:
            login.finish(code)  # calls on_signed_in() of every subscribed panel
        except SignInError as error:
            with host.hold_sync():
                host.sign_in_message = f"{error}."
                host.sign_in_url, host.sign_in = login.start(), "code"
            raise SignInRequiredError(str(error)) from None
        except BaseException:
            host.sign_in = "code"  # never leave the panel spinning
            raise

    def set_auth(self, auth: object) -> None:
        """Use new credentials (any form ``auth=`` takes) and resume."""
        self.use(resolve_auth(auth, loopback=self.loopback, client_id=self.client_id))

    def on_signed_in(self, authorizer: Authorizer) -> None:
        """The shared login succeeded: use its tokens (the login calls this)."""
        login = self.credentials.login
        self.use(
            Credentials(authorizer, ("object", id(authorizer)), "notebook sign-in", login=login)
        )

    # -- state -----------------------------------------------------------------------------

    @property
    def needed(self) -> bool:
        """Whether there are no usable credentials yet."""
        return self.credentials.needs_sign_in

    def blocker(self) -> SignInRequiredError | None:
        """Why nothing can be fetched now, or None when the credentials are usable."""
        if not self.credentials.needs_sign_in:
            return None
        return SignInRequiredError(
            self.credentials.missing
            or "sign in first: use this widget's 'Sign in with Globus' panel (or "
            "start_sign_in() and finish_sign_in(code)), then call wait() again"
        )

    def use(self, credentials: Credentials) -> None:
        """Go on with ``credentials`` from now on (or ask to sign in)."""
        host = self._surface()
        host._credentials_changed(credentials)
        previous = self.credentials.login
        if previous is not None and previous is not credentials.login:
            previous.unsubscribe(self)
        self.credentials = credentials
        if credentials.needs_sign_in:
            self._ask(credentials.missing)
            return
        with host.hold_sync():
            host.sign_in, host.sign_in_url, host.sign_in_message = "", "", ""
        host._signed_in()

    def _ask(self, missing: str, offer: bool = False) -> None:
        """Show the panel: a link and code box (or a button when ``offer``), or why not."""
        login = self.credentials.login
        host = self._surface()
        with host.hold_sync():
            host.sign_in_message = missing
            if login is None:
                host.sign_in = "unavailable"
            elif offer:
                host.sign_in, host.sign_in_url = "offer", ""
            else:
                login.subscribe(self)
                host.sign_in_url, host.sign_in = login.start(), "code"

    def expired(self, error: SearchTaskError) -> str:
        """After a 401 nothing could fix: offer to sign in again; return the error text.

        May run on the poller thread: it only sets traits (no login, no app).
        """
        refused = (
            f"The credentials from {self.credentials.source} were refused ({error.message}): "
            "they expired or were revoked."
        )
        text = f"{refused} {self._expired_advice()}"
        # With a way to sign in, the panel's button says what to do.
        self._ask(refused if self.credentials.login else text, offer=True)
        return text

    def _expired_advice(self) -> str:
        credentials = self.credentials
        return expired_advice(credentials.source, can_sign_in=credentials.login is not None)

    def handle(self, content: object) -> None:
        """A message of the panel's front end (the host registers it with ``on_msg``)."""
        # Nothing may escape: the front end cannot show a Python traceback, so failures
        # go to the panel.
        if not isinstance(content, dict):
            return
        try:
            if content.get("event") == "sign-in":
                self.start()
            elif content.get("event") == "sign-in-code":
                self.finish(str(content.get("code") or ""))
        except SearchTaskError as error:
            self._surface().sign_in_message = error.message
        except Exception as error:  # a bug must not leave the panel spinning
            # The type only: a traceback could quote a token.
            log.debug("sign-in step failed: %s", type(error).__name__)
            host = self._surface()
            with host.hold_sync():
                host.sign_in_message = f"Sign-in failed ({type(error).__name__})."
                host.sign_in = "offer" if self.credentials.login else "unavailable"


class SignInMethods:
    """What a widget with a sign-in panel (its ``_sign_in``) offers for signing in."""

    _sign_in: SignIn

    def start_sign_in(self) -> str:
        """Show the sign-in link and code box; return the link (to open in a browser).

        Raises:
            SignInRequiredError: no notebook sign-in is possible here (the message says
                what to configure).
        """
        return self._sign_in.start()

    def finish_sign_in(self, code: str) -> None:
        """Complete the sign-in with the code Globus showed (a widget that polls starts
        polling at once).

        Raises:
            SignInRequiredError: no sign-in in progress, or Globus Auth refused the code
                (the panel then offers a fresh link).
        """
        self._sign_in.finish(code)

    def set_auth(self, auth: object) -> None:
        """Use new credentials (any form ``auth=`` takes); a widget that polls resumes.

        For a token that expired mid-session: the timings observed so far are kept. The
        service stays the one the widget was created for.
        """
        self._sign_in.set_auth(auth)

    def _on_front_end_message(self, widget: object, content: Any, buffers: object) -> None:
        self._sign_in.handle(content)


class SignInWidget(SignInMethods, ShownOnce, anywidget.AnyWidget):
    """Just the sign-in panel, for signing in before anything is watched.

    For example before the first ``SearchClient.ingest`` of a tutorial whose client uses
    :func:`~search_task_widget.login_app`: that app never starts a login by itself.
    Shows "Signed in" once the credentials are usable. See :func:`sign_in`.
    """

    _esm = bundle("signin_widget", "js")  # a Path: anywidget reloads it with ANYWIDGET_HMR=1
    _css = bundle("signin_widget", "css")

    # Synced, and never a token, a code or a header (the #: comments are their
    # documentation in the API reference).
    #: What the panel shows: ``""`` (signed in), ``"offer"``, ``"code"``, ``"busy"`` or
    #: ``"unavailable"`` (see :attr:`TaskWidget.sign_in`). Synced.
    sign_in = traitlets.Enum(SIGN_IN_STATES, default_value="").tag(sync=True)
    #: The Globus Auth link of the sign-in in progress (native app, PKCE), or ``""``.
    #: Synced.
    sign_in_url = traitlets.Unicode("").tag(sync=True)
    #: Why a sign-in is needed or failed, and what to do, or ``""``. Synced.
    sign_in_message = traitlets.Unicode("").tag(sync=True)
    #: Where the credentials in use come from ("" while signed out), for people.
    source = traitlets.Unicode("").tag(sync=True)

    def __init__(self, auth: object = None, *, client_id: str | None = None) -> None:
        # Refuse a bad auth before any widget state exists.
        credentials = resolve_auth(auth, client_id=client_id)
        super().__init__()
        self._sign_in = SignIn(self, credentials, client_id=client_id)
        self.on_msg(self._on_front_end_message)
        self._signed_in()

    @property
    def signed_in(self) -> bool:
        """True once there are usable credentials."""
        return not self._sign_in.needed

    def _credentials_changed(self, credentials: Credentials) -> None:
        pass  # nothing polls here

    def _signed_in(self) -> None:
        credentials = self._sign_in.credentials
        self.source = "" if credentials.needs_sign_in else credentials.source

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
