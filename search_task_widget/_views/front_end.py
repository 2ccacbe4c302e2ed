"""The front end's code, sent once per kernel instead of once per widget.

anywidget sends a widget's ``_esm`` and ``_css`` with every instance, and saved widget state
(nbclient's, JupyterLab's) keeps a copy per instance: 30-40 KB each here, most of an
executed tutorial. So each widget carries only ``js/loader.js`` (under 1 KB) and names, in
its ``_front_end`` trait, one shared :class:`FrontEnd` model that holds the real module and
stylesheet. The loader imports that module once per page, from a ``blob:`` URL as
anywidget does.

marimo renders each anywidget on its own, with no widget manager to look another model up
in, and saves no widget state: there the widgets carry their whole front end as usual.

Widgets also share one ``Layout`` model: ipywidgets gives every ``DOMWidget`` a layout
model of its own, which executors save too (about 1 KB per widget), and these widgets
never use it.

Both are released (closed) once no open widget uses them: a notebook whose tasks all ended
keeps no code in any model, and a widget made later opens a new one.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets
import traitlets

from .assets import built_at, front_end
from .host import running_in_marimo
from .unrecorded import Unrecorded

log = logging.getLogger("search_task_widget")
_lock = threading.RLock()
_shared: dict[str, FrontEnd] = {}
_built: dict[str, float] = {}  # when each kind's bundle was built, as its esm was read
_layout: ipywidgets.Layout | None = None
#: The widgets whose open model uses a shared model (held weakly: a forgotten widget
#: releases nothing, but no longer counts).
_users: weakref.WeakSet[ipywidgets.Widget] = weakref.WeakSet()
_opening = 0  # widgets being made now (see opening())


class SharedLayout(Unrecorded, ipywidgets.Layout):
    """The one ``Layout`` of every task widget (its model talks with no parent too)."""


class FrontEnd(Unrecorded, ipywidgets.Widget):
    """The front end of one kind of widget ("widget", "list"), shared by every widget of
    that kind in the kernel. Not shown by itself."""

    name = traitlets.Unicode("").tag(sync=True)
    esm = traitlets.Unicode("").tag(sync=True)


def module_with_style(name: str) -> str:
    """The module of widget kind ``name``, led by a statement that adds its stylesheet to
    the page: the loader imports it once per page, so the style is added once too."""
    css = json.dumps(front_end(name, "css"))  # a JSON string is a JavaScript string literal
    add_style = (
        'document.head.append(Object.assign(document.createElement("style"), '
        f"{{ textContent: {css} }}));"
    )
    return f"{add_style}\n{front_end(name, 'js')}"


def shared_front_end(name: str) -> FrontEnd:
    """The open :class:`FrontEnd` of widget kind ``name``, made on first use (and again
    if something closed it, e.g. ``ipywidgets.Widget.close_all()``). After a rebuild of
    the front end (``npm run watch``), the next widget made gets the new code."""
    with _lock:
        model = _shared.get(name)
        built = built_at(name)
        if model is None or model.comm is None:
            model = FrontEnd(name=name, esm=module_with_style(name))
            _shared[name] = model
        elif _built.get(name, built) != built:
            model.esm = module_with_style(name)
        _built[name] = built
        return model


def shared_layout() -> ipywidgets.Layout:
    """The one ``Layout`` every task widget uses."""
    global _layout
    with _lock:
        if _layout is None or _layout.comm is None:
            _layout = SharedLayout()
        return _layout


def is_shared_layout(layout: object) -> bool:
    """Whether ``layout`` is the one from :func:`shared_layout` (closed only by
    :func:`release_shared`, never with one widget)."""
    return layout is not None and layout is _layout


def front_end_traits(name: str) -> dict[str, Any]:
    """Constructor keywords that give a widget of kind ``name`` its front end."""
    if running_in_marimo():
        return {"_esm": front_end(name, "js"), "_css": front_end(name, "css")}
    return {"_front_end": shared_front_end(name), "layout": shared_layout()}


@contextmanager
def opening(traits: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Constructor keywords ``traits`` with open shared models, kept open until the block
    (which makes the widget and :func:`hold_shared` it) ends: another widget's end, on
    the poller thread, may release them meanwhile."""
    global _opening
    with _lock:
        front = traits.get("_front_end")
        if isinstance(front, FrontEnd):  # the open ones now (made anew if released)
            traits = {**traits, **front_end_traits(front.name)}
        _opening += 1
        try:
            yield traits
        finally:
            _opening -= 1


def hold_shared(widget: ipywidgets.Widget) -> None:
    """Count ``widget`` (its model is open, or about to be) as a user of the shared models,
    and point it at open ones (another thread may have released those it was made with)."""
    front = getattr(widget, "_front_end", None)
    if front is None:  # marimo: the widget carries its own front end
        return
    with _lock:
        _users.add(widget)
        widget._front_end = shared_front_end(front.name)
        widget.layout = shared_layout()


def release_shared(widget: ipywidgets.Widget) -> None:
    """``widget``'s model closed: close each shared model no open widget uses any more."""
    with _lock:
        if widget not in _users:
            return  # released already (closed, then garbage-collected: ipywidgets closes again)
        _users.discard(widget)
        if _opening:
            return  # a widget being made on this thread (a collection ran inside) needs them
        users = [w for w in _users if w.comm is not None]
        for name, model in list(_shared.items()):
            if not any(getattr(w, "_front_end", None) is model for w in users):
                del _shared[name]
                _close(model)
        if _layout is not None and not any(w.layout is _layout for w in users):
            _close(_layout)


def _close(model: ipywidgets.Widget) -> None:
    try:
        model.close()
    except Exception:  # a closing problem must never reach the poller or the kernel
        log.debug("could not close the shared model %r", model, exc_info=True)
