"""Messages for live front ends only: what headless executors must not save.

nbclient (and so papermill, ``jupyter nbconvert --execute``, jupyter-book) keeps the
messages whose parent is the cell it is executing, saves the state of every widget model
they open, and never forgets one, even after it is closed. A widget that was still running
at the end of one cell and ended in a later one would leave its model, and the shared
front end, in the saved file for good.

So these widgets' models talk with no parent (``{}``): JupyterLab, Notebook 7 and Voila
(tested here in Chromium) handle comm messages whatever their parent; executors ignore them
and save no widget state. VS Code and Colab could not be tried here. Likewise each display
goes out in its cell with the static forms only (what a saved notebook shows, see
``PolledWidget._ipython_display_``), and the live view is added by an ``update_display_data``
with no parent, which live front ends apply by display id and executors ignore. Outside an
IPython kernel (tests, marimo) nothing changes.
"""

from __future__ import annotations

import logging
import sys
import types
import uuid
from typing import Any

import comm
import ipywidgets
from ipywidgets.widgets.widget import _remove_buffers

log = logging.getLogger("search_task_widget")

#: The parent header of a message that belongs to no request (as ipykernel's own at start).
NO_PARENT: dict[str, Any] = {}


def _kernel() -> Any:
    """The running ipykernel, or None (not in a kernel, or a kernel of another kind)."""
    if "ipykernel" not in sys.modules:
        return None
    try:
        from ipykernel.kernelbase import Kernel

        return Kernel.instance() if Kernel.initialized() else None
    except Exception:  # a kernel of another make: send as ipywidgets does
        log.debug("no ipykernel to send through", exc_info=True)
        return None


def in_kernel() -> bool:
    """Whether messages can be sent with no parent (an ipykernel is running)."""
    return _kernel() is not None


def _send(kernel: Any, msg_type: str, content: dict[str, Any], **keys: Any) -> None:
    from ipykernel.jsonutil import json_clean

    kernel.session.send(
        kernel.iopub_socket, msg_type, json_clean(content), parent=NO_PARENT, **keys
    )


def _publish_unrecorded(
    self: Any,
    msg_type: str,
    data: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    buffers: list[bytes] | None = None,
    **keys: Any,
) -> None:
    """A comm's ``publish_msg`` (see ipykernel's ``BaseComm``), with no parent."""
    kernel = _kernel()
    if kernel is None:
        return
    from ipykernel.jsonutil import json_clean

    content = {"data": data or {}, "comm_id": self.comm_id, **keys}
    _send(kernel, msg_type, content, metadata=json_clean(metadata or {}),
          ident=self.topic, buffers=buffers)  # fmt: skip


class Unrecorded(ipywidgets.Widget):
    """A widget whose model talks with no parent: live front ends see it, executors save
    nothing of it (see the module's doc)."""

    @property
    def model_id(self) -> str:
        """The model's id, also once closed: a finished widget's state still names the
        shared front end it was drawn with (``get_state()``, ``to_html()``), though no
        open widget needs that model any more and it was released."""
        channel = getattr(self, "comm", None)
        return channel.comm_id if channel is not None else self._model_id

    def open(self) -> None:
        """Open the model in the front end, if not open yet: in an IPython kernel its
        messages name no request, which live front ends take and executors do not save."""
        if getattr(self, "comm", None) is not None or not in_kernel():
            super().open()
            return
        from ipywidgets._version import __protocol_version__

        state, buffer_paths, buffers = _remove_buffers(self.get_state())
        channel = comm.create_comm(
            target_name="jupyter.widget", comm_id=self._model_id or uuid.uuid4().hex, primary=False
        )
        channel.publish_msg = types.MethodType(_publish_unrecorded, channel)  # type: ignore[method-assign]
        # ipykernel's own publish_msg sets this on first use, and ipywidgets sends nothing
        # through a comm whose kernel is None.
        channel.kernel = _kernel()  # type: ignore[attr-defined]
        comm.get_comm_manager().register_comm(channel)
        channel.publish_msg(
            "comm_open",
            data={"state": state, "buffer_paths": buffer_paths},
            metadata={"version": __protocol_version__},
            buffers=buffers,
            target_name="jupyter.widget",
            target_module=None,
        )
        self.comm = channel


def update_live_display(bundle: dict[str, Any], display_id: str) -> bool:
    """Replace display ``display_id`` by ``bundle`` in live front ends only; False (and
    nothing sent) outside an IPython kernel."""
    kernel = _kernel()
    if kernel is None:
        return False
    content = {"data": bundle, "metadata": {}, "transient": {"display_id": display_id}}
    _send(kernel, "update_display_data", content, ident=b"display_data")
    return True
