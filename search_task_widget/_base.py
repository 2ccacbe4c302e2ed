"""What TaskWidget and TaskListWidget share: settings, the pooled connection, closing."""

from __future__ import annotations

import threading

import anywidget
import ipywidgets

from ._auth import credential_key, resolve_auth
from ._client import TaskClient, host_of, is_loopback, resolve_base_url, shared_clients
from ._poller import Poller, default_poller
from ._schedule import polling_bounds


def polling_settings(
    base_url: str | None, poll_interval: object, max_poll_interval: object
) -> tuple[str, float, float]:
    """The service URL and the (starting, largest) polling interval, validated."""
    url = resolve_base_url(base_url)
    host = host_of(url)
    low, high = polling_bounds(
        poll_interval, max_poll_interval, loopback=is_loopback(host), host=host
    )
    return url, low, high


class PolledWidget(anywidget.AnyWidget):
    """A widget fed by the poller: subclasses call :meth:`_connect` and define ``stop``."""

    _lock: threading.RLock
    _poller: Poller
    _client: TaskClient | None
    _closed: bool

    def _connect(self, url: str, auth: object, poller: Poller | None) -> None:
        """Take a pooled client for ``url`` and the credentials in ``auth``."""
        self._lock = threading.RLock()  # one writer at a time for synced traits
        self._poller = poller or default_poller()
        self._client = shared_clients.acquire(url, resolve_auth(auth), credential_key(auth))
        self._closed = False

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop polling, release the connection and close the widget's views."""
        if hasattr(self, "_lock"):  # else __init__ refused its arguments: nothing to undo
            self.stop()
            with self._lock:
                if not self._closed:
                    self._closed = True
                    if self._client is not None and shared_clients.release(self._client):
                        self._poller.retire(self._client)  # closed between its requests
                    self._client = None
        # A DOMWidget's layout is a widget of its own: left open, every closed widget
        # would leave one registered (and in saved widget state).
        layout = self._trait_values.get("layout")
        super().close()
        if isinstance(layout, ipywidgets.Widget):
            layout.close()
