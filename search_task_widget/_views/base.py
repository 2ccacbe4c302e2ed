"""What TaskWidget and TaskListWidget share: settings, the tracking core and the sign-in
they hold (composition: :class:`~.group.TaskGroup`, :class:`~.sign_in.SignIn`), the
document they become, closing."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import anywidget
import ipywidgets
import traitlets

from .._documents.document import snapshot_note, snapshot_words
from .._model.errors import SearchTaskError, SignInRequiredError
from .._service.auth import Credentials, is_search_client, resolve_auth
from .._service.client import TaskClient, host_of, is_loopback, resolve_base_url
from .._tracking.cells import after_next_execution, current_execution, sending_execution
from .._tracking.group import News, NewsPolicy, TaskGroup
from .._tracking.poller import Poller
from .._tracking.schedule import check_interval, polling_bounds
from .assets import loader
from .display import ShownOnce
from .front_end import FrontEnd, hold_shared, is_shared_layout, opening, release_shared
from .host import keeps_live_views
from .sign_in import SIGN_IN_STATES, SignIn, SignInMethods
from .unrecorded import Unrecorded, in_kernel, update_live_display

log = logging.getLogger("search_task_widget")

#: Seconds between a widget's first checks of a task when no ``poll_interval`` is given.
POLL_INTERVAL = 1.0


def connection_settings(
    auth: object,
    base_url: str | None,
    poll_interval: object,
    max_poll_interval: object,
    client_id: str | None = None,
    origin: object = None,
    poller: object = None,
) -> tuple[Credentials, str, float, float]:
    """Credentials, service URL and (starting, largest) polling interval, all validated
    (and ``poller``, which must be None or a :class:`Poller`).

    ``origin`` is the ``SearchClient`` that sent the task's reply, if known: with no
    ``auth`` it is the auth (its sign-in and its service, exactly as ``auth=origin``);
    with another ``auth`` its service is still where the task lives. The URL is
    ``base_url`` if given, else that of a ``SearchClient`` passed as ``auth``, else the
    origin's (or a ``GlobusApp``'s environment), else globus-sdk's default.
    """
    if poller is not None and not isinstance(poller, Poller):
        raise TypeError(
            f"poller must be a search_task_widget.Poller or None, not {type(poller).__name__}"
        )
    if origin is not None:
        if auth is None:
            auth = origin
        elif base_url is None and not is_search_client(auth):
            base_url = origin.base_url  # type: ignore[attr-defined]
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


class PolledWidget(SignInMethods, ShownOnce, Unrecorded, anywidget.AnyWidget):
    """A widget that draws a :class:`~.group.TaskGroup`: subclasses call :meth:`_connect`
    and define ``start``, ``stop`` and ``_render``. It holds a :class:`~.sign_in.SignIn`
    and shows its panel when there are no usable credentials, and resumes polling once
    signed in.

    Its front end is the loader (see :mod:`.front_end`); subclasses pass
    ``front_end_traits(kind)`` to ``__init__``. When what it watches has ended, it becomes
    a document: see :meth:`_become_document`.
    """

    _esm = loader()
    _css = ""
    # The sign-in panel's state. Synced, and never a token, a code or a header (the #:
    # comments are their documentation in the API reference).
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
    _front_end = traitlets.Instance(FrontEnd, allow_none=True).tag(
        sync=True, **ipywidgets.widget_serialization
    )
    _documented = False  # True once the displays show the final document
    _ended_in = 0  # the execution the document was last sent in (see _become_document)
    _keeps_live_views = False  # the host keeps live views at the end (marimo, Voila)
    # ipywidgets' DOMWidget syncs these for styling and view counting, which these widgets
    # never use; unsynced, they stay out of every saved notebook (see _front_end).
    _dom_classes = traitlets.Tuple()
    #: Tell of the end in a browser notification (opt-in): when what this
    #: widget watches ran longer than 30 s and ends while the page is hidden. The bell
    #: button in the widget sets it too. Synced.
    notify = traitlets.Bool(False).tag(sync=True)
    tabbable = traitlets.Bool(None, allow_none=True)
    tooltip = traitlets.Unicode(None, allow_none=True)
    _view_count = traitlets.Int(None, allow_none=True)

    _lock: threading.RLock
    _group: TaskGroup

    def __init__(self, **traits: Any) -> None:
        with opening(traits) as fresh:
            super().__init__(**fresh)
            hold_shared(self)

    def _connect(
        self,
        url: str,
        credentials: Credentials,
        poller: Poller | None,
        client_id: str | None = None,
        *,
        intervals: tuple[float, float],
        news: NewsPolicy,
    ) -> None:
        """Set up the tracking core (a pooled client for ``url`` with ``credentials``,
        none until signed in) that this widget draws, told as ``news`` says."""
        self._group = TaskGroup(
            url,
            credentials,
            view=self,
            poller=poller,
            intervals=intervals,
            news=news,
        )
        self._lock = self._group.lock  # one writer at a time, for the group and the traits
        self._display_ids: list[str] = []
        # Asked here, on the thread that makes the widget: marimo only answers its own.
        self._keeps_live_views = keeps_live_views()
        self._sign_in = SignIn(
            self, credentials, client_id=client_id, loopback=is_loopback(host_of(url))
        )
        self.on_msg(self._on_front_end_message)

    @property
    def base_url(self) -> str:
        """The Search service this widget polls."""
        return self._group.url

    @property
    def _client(self) -> TaskClient | None:
        return self._group.client

    @property
    def _closed(self) -> bool:
        return self._group.closed

    # -- what the core calls (see _group.GroupView) ---------------------------------------

    def _render(self, news: News) -> None:
        """Write the synced traits from the group's state (lock held)."""
        raise NotImplementedError

    def _group_ended(self) -> None:
        """No watch runs: once every task ended the widget becomes a document; otherwise
        (watches stopped on errors) it stays live, for start() or a sign-in."""
        if self._group.all_ended:
            self._become_document()
        else:
            self._refresh_displays()

    def _credentials_expired(self, error: SearchTaskError) -> str:
        return self._sign_in.expired(error)

    # -- sign-in (main thread only; see _sign_in.SignIn) ----------------------------------

    def _sign_in_error(self) -> SignInRequiredError | None:
        """Why nothing can be fetched now, or None when the credentials are usable."""
        return self._sign_in.blocker()

    def start(self) -> None:
        raise NotImplementedError

    def _credentials_changed(self, credentials: Credentials) -> None:
        """Poll with ``credentials`` from now on (the panel then shows them)."""
        if not self._closed:
            self.stop()
            self._group.use(credentials)

    def _signed_in(self) -> None:
        if not self._closed:
            self.start()

    # -- display: a live view plus static text that is brought up to date at the end ----

    @classmethod
    def _view_traits(cls) -> tuple[str, ...]:
        """The synced traits this kind of widget adds to the sign-in panel's and the bell's:
        what its front end reads (``TASK_TRAITS`` / ``LIST_TRAITS`` in js/vocabulary.js;
        tests/test_vocabulary.py checks they agree) and what its documents freeze."""
        shared = set(PolledWidget.class_trait_names(sync=True))
        return tuple(name for name in cls.class_trait_names(sync=True) if name not in shared)

    def _view_state(self) -> dict[str, Any]:
        """The values of :meth:`_view_traits`, as the front end would receive them."""
        return self.get_state(self._view_traits())

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
        # Under the lock the poller thread ends under: an end that came after the bundle
        # was made but before it went out would update a display the page has not got
        # yet, and the live view would stay in the saved output.
        with self._lock:
            self._display_ids.append(display_id)
            display(self._recorded_bundle(), raw=True, display_id=display_id)
            self._show_live_view(display_id)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self._bundle()

    def _live_views_unrecorded(self) -> bool:
        """Whether the live view goes to live front ends only (see :mod:`._unrecorded`):
        in an IPython kernel, while the widget is live, where nothing saves the page's
        live views instead (Voila, marimo)."""
        return not self._documented and not self._keeps_live_views and in_kernel()

    def _recorded_bundle(self) -> dict[str, Any]:
        """What a display sends in its execution (and executors save): the static forms
        only while the live view goes apart, else the whole bundle."""
        if self._live_views_unrecorded():
            return self._snapshot_bundle()
        return self._bundle()

    def _snapshot_bundle(self) -> dict[str, Any]:
        """The static forms of a widget whose tasks have not all ended, saying so and when
        (executors save them; nothing updates them afterwards)."""
        entries = self._group.entries
        unfinished = sum(1 for entry in entries if not entry.ended)
        taken_at = self._group.poller.clock.time()
        words = snapshot_words(taken_at, unfinished, len(entries))
        return {
            "text/plain": f"{self!r}\n{words}",
            "text/html": snapshot_note(taken_at, unfinished, len(entries)) + self._snapshot_html(),
        }

    def _show_live_view(self, display_id: str) -> None:
        """Add the live view to display ``display_id`` in live front ends only."""
        if self._live_views_unrecorded():
            update_live_display(self._bundle(), display_id)

    def _bundle(self) -> dict[str, Any]:
        """The live view (plus the static forms), or only the static forms once the
        widget became a document."""
        data: dict[str, Any] = {}
        if not self._documented:
            bundle = super()._repr_mimebundle_()
            data.update(bundle[0] if isinstance(bundle, tuple) else bundle or {})
        data["text/plain"] = repr(self)
        data["text/html"] = self._snapshot_html()
        return data

    def _become_document(self) -> None:
        """What this widget watches has ended: every display becomes a static document of
        the final state (``text/html`` + ``text/plain``, no widget view), and the live
        model is closed. What outlives the kernel then needs no widget manager, kernel,
        network or setting: saved notebooks, executed tutorials, HTML exports, GitHub.

        The displays change at once (a notebook saved now keeps the document); the model
        is closed at the end of the next execution, or by ``wait()``, whichever comes
        first. Either sends the document again first if the end was sent outside its
        execution (see ``_tracking.cells``: executors would have dropped it); once no open widget
        needs them, the shared front end and layout are closed too. The Python object
        keeps working (traits, ``wait()``, ``to_html()``). marimo and Voila keep the live
        view (see :func:`.host.keeps_live_views`).
        """
        if self._documented or self._keeps_live_views:
            self._refresh_displays()
            return
        self._documented = True
        # The execution this thread's messages name, taken with their context: asked
        # later, a cell that started meanwhile would pass for where the end was sent.
        self._ended_in = sending_execution()
        self._refresh_displays()
        if not after_next_execution(self._settle_document):
            self._settle_document()

    def _settle_document(self) -> None:
        """Make sure the document is in what executors save of this execution (it is sent
        again if the end went out in another one), then close the model of a widget that
        became a document, and the shared models nothing else uses (main thread)."""
        if not self._documented:
            return  # live again (a list got new tasks)
        try:
            if current_execution() != self._ended_in:
                self._refresh_displays()
                self._ended_in = current_execution()
            if self.comm is not None:
                ipywidgets.Widget.close(self)  # the model only: the poller and client stay
                release_shared(self)
        except Exception:  # a closing problem must never reach the poller or the kernel
            log.debug("could not close the model of %r", self, exc_info=True)
        # ipywidgets hides the method on close; a document still has its static bundle.
        self.__dict__.pop("_repr_mimebundle_", None)

    def _become_live(self) -> None:
        """Undo :meth:`_become_document` (a list that got new tasks): a new model, and
        every display shows the live view again."""
        if not self._documented:
            return
        self._documented = False
        self._model_id = None  # a fresh model id: the old one was closed in the browser
        hold_shared(self)  # the shared models may have been released meanwhile
        self.open()
        self._refresh_displays()

    def _refresh_displays(self) -> None:
        """Bring every display of this widget up to date (called when watching ends)."""
        if not self._display_ids:
            return
        try:
            from IPython.display import update_display

            bundle = self._recorded_bundle()
            for display_id in self._display_ids:
                update_display(bundle, raw=True, display_id=display_id)
                self._show_live_view(display_id)
        except Exception:  # a display problem must never reach the poller or the kernel
            log.debug("could not refresh the displays of %r", self, exc_info=True)

    def stop(self) -> None:
        raise NotImplementedError

    def _block_until(self, timeout: float | None) -> None:
        """Wait until no watch runs (see :meth:`TaskGroup.wait_idle`), then close the model
        of a widget that became a document, in the caller's execution: executors keep the
        final state."""
        self._group.wait_idle(timeout)
        self._settle_document()

    def close(self) -> None:
        """Stop polling, release the connection and close the widget's views."""
        if hasattr(self, "_group"):  # else __init__ refused its arguments: nothing to undo
            self.stop()
            self._group.close()
        # A DOMWidget's layout is a widget of its own: left open, every closed widget
        # would leave one registered (and in saved widget state). The shared one stays.
        layout = self._trait_values.get("layout")
        super().close()
        if isinstance(layout, ipywidgets.Widget) and not is_shared_layout(layout):
            layout.close()
        release_shared(self)


def checked_timeout(timeout: object) -> float | None:
    """A ``wait()`` timeout: None (forever), 0 (just look) or a positive number of seconds."""
    if timeout is None:
        return None
    if timeout == 0 and not isinstance(timeout, bool):
        return 0.0
    return check_interval("timeout", timeout, maximum=1e9)
