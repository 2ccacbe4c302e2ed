"""What TaskWidget and TaskListWidget share: settings, the pooled connection, closing."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import ipywidgets

from ._auth import Credentials, resolve_auth
from ._client import TaskClient, host_of, is_loopback, resolve_base_url, shared_clients
from ._poller import Poller, default_poller
from ._schedule import check_interval, polling_bounds, wait_slice
from ._sign_in import SignInPanel

log = logging.getLogger("search_task_widget")


def connection_settings(
    auth: object,
    base_url: str | None,
    poll_interval: object,
    max_poll_interval: object,
    client_id: str | None = None,
    poller: object = None,
) -> tuple[Credentials, str, float, float]:
    """Credentials, service URL and (starting, largest) polling interval, all validated
    (and ``poller``, which must be None or a :class:`Poller`).

    The URL is ``base_url`` if given, else that of a ``SearchClient`` passed as ``auth``
    (or of a ``GlobusApp``'s environment), else globus-sdk's default.
    """
    if poller is not None and not isinstance(poller, Poller):
        raise TypeError(
            f"poller must be a search_task_widget.Poller or None, not {type(poller).__name__}"
        )
    url = resolve_base_url(base_url) if base_url is not None else None
    if url is None and auth is None:  # "no token on loopback" needs the URL first
        url = resolve_base_url(None)
    loopback = url is not None and is_loopback(host_of(url))
    credentials = resolve_auth(auth, loopback=loopback, client_id=client_id)
    url = url or resolve_base_url(credentials.base_url)
    host = host_of(url)
    low, high = polling_bounds(
        poll_interval, max_poll_interval, loopback=is_loopback(host), host=host
    )
    return credentials, url, low, high


class PolledWidget(SignInPanel):
    """A widget fed by the poller: subclasses call :meth:`_connect` and define ``start``
    and ``stop``. It shows the sign-in panel (see :mod:`._sign_in`) when it has no usable
    credentials, and resumes polling once signed in.
    """

    _lock: threading.RLock
    _poller: Poller
    _client: TaskClient | None
    _closed: bool

    def _connect(
        self,
        url: str,
        credentials: Credentials,
        poller: Poller | None,
        client_id: str | None = None,
    ) -> None:
        """Take a pooled client for ``url`` with ``credentials`` (none until signed in)."""
        self._client_id = client_id
        self._lock = threading.RLock()  # one writer at a time for synced traits
        self._poller = poller or default_poller()
        self._url = url
        self._client = self._acquire(credentials)
        self._closed = False
        self._display_ids: list[str] = []
        self._init_sign_in(credentials)

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

    # -- credentials (main thread only) ------------------------------------------------

    def start(self) -> None:
        raise NotImplementedError

    def _signed_in(self) -> None:
        self.start()

    def _loopback(self) -> bool:
        return is_loopback(host_of(self._url))

    def _use(self, credentials: Credentials) -> None:
        """Poll with ``credentials`` from now on (or ask to sign in), keeping all else."""
        if self._closed:
            return
        self.stop()
        with self._lock:
            old, self._client = self._client, self._acquire(credentials)
            self._release(old)
        super()._use(credentials)

    # -- display: a live view plus static text that is brought up to date at the end ----

    def _snapshot_html(self) -> str:
        """An escaped HTML summary of the current state, for widget-less viewers."""
        raise NotImplementedError

    def _ipython_display_(self) -> None:
        # Every display gets a display id, so that when the watching ends the static parts
        # of the output (text/plain, text/html) can be replaced by the final state: a saved
        # notebook opened where widgets don't run then shows how it ended, not PENDING.
        from IPython.display import display

        if self._shown_just_now():
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


def checked_timeout(timeout: object) -> float | None:
    """A ``wait()`` timeout: None (forever), 0 (just look) or a positive number of seconds."""
    if timeout is None:
        return None
    if timeout == 0 and not isinstance(timeout, bool):
        return 0.0
    return check_interval("timeout", timeout, maximum=1e9)
