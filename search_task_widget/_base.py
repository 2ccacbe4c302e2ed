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

from ._auth import credential_key, resolve_auth
from ._client import TaskClient, host_of, is_loopback, resolve_base_url, shared_clients
from ._poller import Poller, default_poller
from ._schedule import check_interval, polling_bounds, wait_slice

log = logging.getLogger("search_task_widget")


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
        self._display_ids: list[str] = []
        self._shown_in_cell: int | None = None

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
                    if self._client is not None and shared_clients.release(self._client):
                        self._poller.retire(self._client)  # closed between its requests
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
