"""What TaskWidget and TaskListWidget share: settings, the pooled connection, closing."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets
import traitlets

from ._auth import Credentials, expired_advice, resolve_auth
from ._client import Authorizer, TaskClient, host_of, is_loopback, resolve_base_url, shared_clients
from ._errors import SearchTaskError, SignInRequiredError
from ._login import SignInError
from ._poller import Poller, default_poller
from ._schedule import check_interval, polling_bounds, wait_slice

log = logging.getLogger("search_task_widget")


def connection_settings(
    auth: object, base_url: str | None, poll_interval: object, max_poll_interval: object
) -> tuple[Credentials, str, float, float]:
    """Credentials, service URL and (starting, largest) polling interval, all validated.

    The URL is ``base_url`` if given, else that of a ``SearchClient`` passed as ``auth``
    (or of a ``GlobusApp``'s environment), else globus-sdk's default.
    """
    url = resolve_base_url(base_url) if base_url is not None else None
    if url is None and auth is None:  # "no token on loopback" needs the URL first
        url = resolve_base_url(None)
    credentials = resolve_auth(auth, loopback=url is not None and is_loopback(host_of(url)))
    url = url or resolve_base_url(credentials.base_url)
    host = host_of(url)
    low, high = polling_bounds(
        poll_interval, max_poll_interval, loopback=is_loopback(host), host=host
    )
    return credentials, url, low, high


SIGN_IN_STATES = ("", "offer", "code", "busy", "unavailable")


class PolledWidget(anywidget.AnyWidget):
    """A widget fed by the poller: subclasses call :meth:`_connect` and define ``start``
    and ``stop``.

    It also holds the sign-in panel: the traits below drive it, the front end sends the
    button's click and the pasted code as messages (never as traits: a code must not be
    saved with the notebook).
    """

    #: "" (signed in), "offer" (a button), "code" (link and code box), "busy" (checking
    #: the code) or "unavailable" (no way to sign in here: ``sign_in_message`` says why).
    sign_in = traitlets.Enum(SIGN_IN_STATES, default_value="").tag(sync=True)
    sign_in_url = traitlets.Unicode("").tag(sync=True)
    sign_in_message = traitlets.Unicode("").tag(sync=True)

    _lock: threading.RLock
    _poller: Poller
    _client: TaskClient | None
    _closed: bool
    _credentials: Credentials

    def _connect(self, url: str, credentials: Credentials, poller: Poller | None) -> None:
        """Take a pooled client for ``url`` with ``credentials`` (none until signed in)."""
        self._lock = threading.RLock()  # one writer at a time for synced traits
        self._poller = poller or default_poller()
        self._url = url
        self._credentials = credentials
        self._client = self._acquire(credentials)
        self._closed = False
        self._display_ids: list[str] = []
        self._shown_in_cell: int | None = None
        self.on_msg(self._on_front_end_message)
        if credentials.needs_sign_in:
            self._ask_to_sign_in(credentials.missing)

    @property
    def base_url(self) -> str:
        """The Search service this widget polls."""
        return self._url

    def _acquire(self, credentials: Credentials) -> TaskClient | None:
        if credentials.needs_sign_in:
            return None
        return shared_clients.acquire(self._url, credentials.authorizer, credentials.key)

    def _release(self, client: TaskClient | None) -> None:
        if client is not None and shared_clients.release(client):
            self._poller.retire(client)  # closed between its requests

    # -- signing in (main thread only: the login and GlobusApp are not thread safe) ------

    def start(self) -> None:
        raise NotImplementedError

    def _sign_in_error(self) -> SignInRequiredError | None:
        """Why polling cannot start now, or None when the credentials are usable."""
        if not self._credentials.needs_sign_in:
            return None
        return SignInRequiredError(
            self._credentials.missing
            or "sign in first: use this widget's 'Sign in with Globus' panel (or "
            "start_sign_in() and finish_sign_in(code)), then call wait() again"
        )

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

    def on_signed_in(self, authorizer: Authorizer) -> None:
        """The shared login succeeded: use its tokens and resume (the login calls this)."""
        login = self._credentials.login
        self._use(
            Credentials(authorizer, ("object", id(authorizer)), "notebook sign-in", login=login)
        )

    def set_auth(self, auth: object) -> None:
        """Use new credentials (any form ``auth=`` takes) and resume polling.

        For a token that expired mid-session: the timings observed so far are kept. The
        service stays the one the widget was created for.
        """
        self._use(resolve_auth(auth, loopback=is_loopback(host_of(self._url))))

    def _use(self, credentials: Credentials) -> None:
        """Poll with ``credentials`` from now on (or ask to sign in), keeping all else."""
        if self._closed:
            return
        self.stop()
        with self._lock:
            old, self._client = self._client, self._acquire(credentials)
            previous = self._credentials.login
            if previous is not None and previous is not credentials.login:
                previous.unsubscribe(self)
            self._credentials = credentials
            self._release(old)
        if credentials.needs_sign_in:
            self._ask_to_sign_in(credentials.missing)
            return
        with self.hold_sync():
            self.sign_in, self.sign_in_url, self.sign_in_message = "", "", ""
        self.start()

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
        """After a 401 nothing could fix: offer to sign in again; return the error text."""
        text = (
            f"The credentials from {self._credentials.source} were refused ({error.message}): "
            f"they expired or were revoked. {expired_advice(self._credentials)}"
        )
        self._ask_to_sign_in(text, offer=True)
        return text

    def _on_front_end_message(self, widget: object, content: Any, buffers: object) -> None:
        # Runs on the kernel's main thread. Nothing may escape: the front end cannot show
        # a Python traceback, so failures go to the panel.
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

    # -- display: a live view plus static text that is brought up to date at the end ----

    def _snapshot_html(self) -> str:
        """An escaped HTML summary of the current state, for widget-less viewers."""
        raise NotImplementedError

    def show(self) -> None:
        """Display the widget in the current cell (what :func:`~search_task_widget.watch` does)."""
        from IPython.display import display

        display(self)
        # ``stw.watch(...)`` as a cell's last line would otherwise show a second view of the
        # same widget as the cell's result: remember the cell so that result is skipped.
        self._shown_in_cell = _execution_count()

    def _ipython_display_(self) -> None:
        # Every display gets a display id, so that when the watching ends the static parts
        # of the output (text/plain, text/html) can be replaced by the final state: a saved
        # notebook opened where widgets don't run then shows how it ended, not PENDING.
        from IPython.display import display

        if self._shown_in_cell is not None and self._shown_in_cell == _execution_count():
            self._shown_in_cell = None
            return
        display_id = uuid.uuid4().hex
        self._display_ids.append(display_id)
        display(self._bundle(), raw=True, display_id=display_id)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self._bundle()

    def _bundle(self) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_()
        data = dict(bundle[0] if isinstance(bundle, tuple) else bundle or {})
        data["text/plain"] = repr(self)
        data["text/html"] = self._snapshot_html()
        return data

    def _refresh_displays(self) -> None:
        """Bring every display of this widget up to date (called when watching ends)."""
        if not self._display_ids:
            return
        try:
            from IPython.display import update_display

            bundle = self._bundle()
            for display_id in self._display_ids:
                update_display(bundle, raw=True, display_id=display_id)
        except Exception:  # a display problem must never reach the poller or the kernel
            log.debug("could not refresh the displays of %r", self, exc_info=True)

    def stop(self) -> None:
        raise NotImplementedError

    def _block_until(
        self, ended: threading.Event, timeout: float | None, still: Callable[[float], str]
    ) -> None:
        """Wait for ``ended``; raise TimeoutError(``still(timeout)``) after ``timeout`` s.

        Short waits keep Ctrl-C responsive; Ctrl-C stops polling before it propagates.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not ended.wait(wait_slice(deadline)):
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(still(timeout or 0.0))
        except KeyboardInterrupt:
            self.stop()
            raise

    def close(self) -> None:
        """Stop polling, release the connection and close the widget's views."""
        if hasattr(self, "_lock"):  # else __init__ refused its arguments: nothing to undo
            self.stop()
            with self._lock:
                if not self._closed:
                    self._closed = True
                    self._release(self._client)
                    self._client = None
        # A DOMWidget's layout is a widget of its own: left open, every closed widget
        # would leave one registered (and in saved widget state).
        layout = self._trait_values.get("layout")
        super().close()
        if isinstance(layout, ipywidgets.Widget):
            layout.close()


def _execution_count() -> int | None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None


def checked_timeout(timeout: object) -> float | None:
    """A ``wait()`` timeout: None (forever), 0 (just look) or a positive number of seconds."""
    if timeout is None:
        return None
    if timeout == 0 and not isinstance(timeout, bool):
        return 0.0
    return check_interval("timeout", timeout)
