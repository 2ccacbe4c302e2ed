"""Drive a real Jupyter kernel through jupyter_client and read what it publishes.

A :class:`KernelHarness` runs cells and keeps every IOPub message it ever read, in the order
the kernel published them (one IOPub socket, so that order is the kernel's own order), with
the local time each one was read. Tests then ask where a message fell relative to a cell's
``busy``/``idle`` status, and wait for messages with deadlines instead of sleeping.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

#: The repository under test: the kernel imports ``search_task_widget`` from here.
REPO_ROOT = Path(__file__).resolve().parents[2]

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Received:
    """One IOPub message and when the test process read it (``time.monotonic()``)."""

    msg: dict[str, Any]
    at: float

    @property
    def msg_type(self) -> str:
        return self.msg["header"]["msg_type"]

    @property
    def content(self) -> dict[str, Any]:
        return self.msg["content"]

    @property
    def parent_id(self) -> str | None:
        return (self.msg.get("parent_header") or {}).get("msg_id")

    def __repr__(self) -> str:  # short, for assertion messages
        return f"<{describe_messages([self]).strip()}>"


@dataclass
class Cell:
    """One executed cell: its shell reply and the IOPub stream around it.

    ``messages`` holds every IOPub message read between the cell's ``busy`` and ``idle``
    status (inclusive), whatever its parent: a background thread's messages that land there
    were published while the cell ran.
    """

    code: str
    msg_id: str
    reply: dict[str, Any]
    messages: list[Received]
    started: int  # index of the cell's busy status in KernelHarness.iopub
    ended: int  # index of the cell's idle status in KernelHarness.iopub

    @property
    def status(self) -> str:
        return self.reply["content"]["status"]

    @property
    def own(self) -> list[Received]:
        """The messages that are this cell's own (parent header is the execute request)."""
        return [r for r in self.messages if r.parent_id == self.msg_id]

    def of_type(self, *types: str) -> list[Received]:
        return [r for r in self.messages if r.msg_type in types]

    @property
    def stdout(self) -> str:
        return "".join(
            r.content["text"]
            for r in self.own
            if r.msg_type == "stream" and r.content["name"] == "stdout"
        )

    @property
    def result(self) -> str | None:
        """The ``text/plain`` of the cell's execute_result, if any."""
        for r in self.own:
            if r.msg_type == "execute_result":
                return r.content["data"].get("text/plain")
        return None

    def describe(self) -> str:
        return describe_messages(self.messages)


@dataclass
class Handled:
    """A message sent to a comm and the IOPub stream around its handling (busy to idle)."""

    msg_id: str
    messages: list[Received]
    started: int  # index of the busy status in KernelHarness.iopub
    ended: int  # index of the idle status in KernelHarness.iopub

    def describe(self) -> str:
        return describe_messages(self.messages)


def describe_messages(messages: Iterable[Received], limit: int = 60) -> str:
    """A readable digest of IOPub messages for assertion failures."""
    lines = []
    for r in messages:
        c = r.content
        if r.msg_type == "status":
            detail = c.get("execution_state")
        elif r.msg_type == "stream":
            detail = f"{c.get('name')}: {c.get('text', '')[:300]!r}"
        elif r.msg_type == "error":
            detail = f"{c.get('ename')}: {c.get('evalue')}\n" + "\n".join(c.get("traceback", []))
        elif r.msg_type == "comm_msg":
            data = c.get("data", {})
            detail = f"{c.get('comm_id', '')[:8]} {data.get('method')} {data.get('state')}"
        elif r.msg_type == "comm_open":
            detail = f"{c.get('comm_id', '')[:8]} {c.get('target_name')}"
        else:
            detail = json.dumps(c, default=str)[:200]
        lines.append(f"  {r.msg_type}: {detail}")
    if len(lines) > limit:
        lines = [
            *lines[: limit // 2],
            f"  ... {len(lines) - limit} more ...",
            *lines[-limit // 2 :],
        ]
    return "\n".join(lines) or "  (no messages)"


class KernelHarness:
    """A started kernel, its client, and every IOPub message read so far."""

    #: Longest pause between two checks of a :meth:`collect_until` condition.
    POLL = 0.05

    def __init__(self, manager: KernelManager, client: BlockingKernelClient) -> None:
        self.manager = manager
        self.client = client
        self.iopub: list[Received] = []

    # -- reading ------------------------------------------------------------------------

    def _read_one(self, deadline: float, slice_: float | None = None) -> Received | None:
        """The next IOPub message, or None if none came by ``deadline`` (or within
        ``slice_`` seconds, so a caller can re-check a condition that is not a message)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            msg = self.client.get_iopub_msg(timeout=min(remaining, slice_ or remaining))
        except queue.Empty:
            return None
        received = Received(msg, time.monotonic())
        self.iopub.append(received)
        return received

    def collect_until(
        self,
        predicate: Callable[[list[Received]], bool],
        timeout: float,
        what: str = "the expected messages",
    ) -> list[Received]:
        """Read IOPub messages until ``predicate(new_messages)`` holds; fail at the deadline.

        The predicate sees every message read by this call. It is checked before reading
        (an already-true condition returns at once) and at least every ``POLL`` seconds,
        so it may also watch something other than messages (e.g. a server's request log).
        """
        deadline = time.monotonic() + timeout
        new: list[Received] = []
        while not predicate(new):
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no {what} within {timeout:g} s; IOPub messages read meanwhile:\n"
                    + describe_messages(new)
                )
            received = self._read_one(deadline, self.POLL)
            if received is not None:
                new.append(received)
        return new

    def collect_for(self, seconds: float) -> list[Received]:
        """Read every IOPub message published in the next ``seconds`` (a fixed window)."""
        deadline = time.monotonic() + seconds
        new = []
        while (received := self._read_one(deadline)) is not None:
            new.append(received)
        return new

    # -- running cells ------------------------------------------------------------------

    def execute(
        self,
        code: str,
        timeout: float = 30.0,
        *,
        allow_error: bool = False,
        on_busy: Callable[[], object] | None = None,
    ) -> Cell:
        """Run ``code``; return once its ``idle`` status arrived and its reply was read.

        ``on_busy`` is called when the kernel says it started the cell (its ``busy``
        status), so a test can change the world while the cell is known to be running.
        Raises AssertionError (with the cell's messages) if the cell fails, unless
        ``allow_error``.
        """
        msg_id = self.client.execute(code)
        deadline = time.monotonic() + timeout
        started, ended = self._until_idle(
            msg_id, deadline, f"cell did not finish within {timeout:g} s:\n{code}", on_busy
        )
        reply = self._shell_reply(msg_id, deadline)
        cell = Cell(code, msg_id, reply, self.iopub[started : ended + 1], started, ended)
        if cell.status != "ok" and not allow_error:
            raise AssertionError(f"cell failed ({cell.status}):\n{code}\nIOPub:\n{cell.describe()}")
        return cell

    def _shell_reply(self, msg_id: str, deadline: float) -> dict[str, Any]:
        while True:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                reply = self.client.get_shell_msg(timeout=remaining)
            except queue.Empty:
                raise AssertionError(f"no execute_reply for {msg_id}") from None
            if (reply.get("parent_header") or {}).get("msg_id") == msg_id:
                return reply

    def send_comm_msg(self, comm_id: str, data: dict[str, Any], timeout: float = 30.0) -> Handled:
        """Send ``data`` to comm ``comm_id`` as a front end does (a ``comm_msg`` on the shell
        channel); return once the kernel's ``idle`` status for it arrived.

        ``comm_msg`` has no reply: the busy/idle status the kernel publishes around
        handling any shell message is what says it was handled.
        """
        msg = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.client.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        deadline = time.monotonic() + timeout
        started, ended = self._until_idle(
            msg_id, deadline, f"comm_msg to {comm_id} not handled within {timeout:g} s"
        )
        return Handled(msg_id, self.iopub[started : ended + 1], started, ended)

    def _until_idle(
        self,
        msg_id: str,
        deadline: float,
        failure: str,
        on_busy: Callable[[], object] | None = None,
    ) -> tuple[int, int]:
        """Read IOPub until the kernel's ``idle`` status for ``msg_id``; return the indexes
        of its ``busy`` and ``idle`` messages in ``self.iopub``."""
        started: int | None = None
        while True:
            received = self._read_one(deadline)
            if received is None:
                raise AssertionError(
                    f"{failure}\nIOPub so far:\n" + describe_messages(self.iopub[started or 0 :])
                )
            if received.parent_id != msg_id or received.msg_type != "status":
                continue
            state = received.content["execution_state"]
            if state == "busy" and started is None:
                started = len(self.iopub) - 1
                if on_busy is not None:
                    on_busy()
            elif state == "idle":
                return started or 0, len(self.iopub) - 1

    def run_and_echo(self, expression: str, timeout: float = 30.0) -> str:
        """Evaluate ``expression`` in the kernel; return its ``repr`` (text/plain)."""
        cell = self.execute(expression, timeout)
        assert cell.result is not None, f"{expression!r} gave no result:\n{cell.describe()}"
        return cell.result

    # -- lifecycle ----------------------------------------------------------------------

    def shutdown(self) -> None:
        try:
            self.client.stop_channels()
        finally:
            if self.manager.has_kernel:
                self.manager.shutdown_kernel(now=False)


def kernel_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment, made deterministic for a kernel under test.

    The checkout under test goes first on ``PYTHONPATH`` so the kernel imports this very
    tree (not some other installed copy), and credentials in the environment (a token,
    JupyterHub's tokens, a sign-in client id) are dropped so the widget sends no
    Authorization header to the loopback services and offers no sign-in unless a test asks.
    """
    env = dict(os.environ)
    paths = [str(REPO_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    for name in ("SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_DATA", "SEARCH_TASK_WIDGET_CLIENT_ID"):
        env.pop(name, None)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # quiets debugpy's frozen-modules warning
    env.update(extra or {})
    return env


@contextmanager
def running_kernel(
    python: str, *, startup_timeout: float = 60.0, env: dict[str, str] | None = None
) -> Iterator[KernelHarness]:
    """Start ``python -m ipykernel_launcher`` as a kernel; always shut it down.

    ``env``: variables set in the kernel's environment on top of :func:`kernel_environment`.

    The kernel spec is written to a temporary folder so the test decides exactly which
    interpreter (and so which ipykernel) runs, whatever kernels the machine has installed.
    IPython's profile directory is temporary too: no user startup files run.
    """
    scratch = Path(tempfile.mkdtemp(prefix="stw-kernel-"))
    name = "stw-test-kernel"
    spec_dir = scratch / "kernels" / name
    spec_dir.mkdir(parents=True)
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": name, "language": "python"})
    )
    specs = KernelSpecManager(kernel_dirs=[str(scratch / "kernels")])
    manager = KernelManager(
        kernel_name=name,
        kernel_spec_manager=specs,
        connection_file=str(scratch / "connection.json"),
    )
    kernel_env = kernel_environment({"IPYTHONDIR": str(scratch / "ipython"), **(env or {})})
    harness: KernelHarness | None = None
    try:
        manager.start_kernel(env=kernel_env)
        client = manager.client()
        client.start_channels()
        harness = KernelHarness(manager, client)
        client.wait_for_ready(timeout=startup_timeout)
        yield harness
    finally:
        try:
            if harness is not None:
                harness.shutdown()
            elif manager.has_kernel:
                manager.shutdown_kernel(now=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


# -- widget messages --------------------------------------------------------------------


@dataclass
class WidgetStream:
    """The comm traffic of one widget model, picked out of a kernel's IOPub messages."""

    comm_id: str
    opened: Received | None = None
    updates: list[Received] = field(default_factory=list)

    @staticmethod
    def is_update(received: Received, comm_id: str) -> bool:
        return (
            received.msg_type == "comm_msg"
            and received.content.get("comm_id") == comm_id
            and received.content.get("data", {}).get("method") == "update"
        )

    @classmethod
    def of(cls, messages: Iterable[Received], comm_id: str) -> WidgetStream:
        stream = cls(comm_id)
        for r in messages:
            if r.msg_type == "comm_open" and r.content.get("comm_id") == comm_id:
                stream.opened = r
            elif cls.is_update(r, comm_id):
                stream.updates.append(r)
        return stream

    @property
    def states(self) -> list[dict[str, Any]]:
        """The ``state`` dict of each update message, in order."""
        return [update_state(r) for r in self.updates]


def shown_view(cell: Cell) -> tuple[Received, str]:
    """The cell's one display of a widget, and the model its live view shows.

    The display goes out in the cell with the static forms only (what executors save); the
    live view is added to it by an ``update_display_data`` with no parent, which live front
    ends apply by display id and executors drop (``search_task_widget/_views/unrecorded.py``).
    """
    shown = cell.of_type("display_data")
    assert len(shown) == 1, f"expected one display_data:\n{cell.describe()}"
    display_id = shown[0].content["transient"]["display_id"]
    assert WIDGET_VIEW_MIME not in shown[0].content["data"], "a view executors would save"
    views = [
        r
        for r in cell.of_type("update_display_data")
        if r.content["transient"]["display_id"] == display_id
        and WIDGET_VIEW_MIME in r.content["data"]
    ]
    assert views, f"no live view added to the display:\n{cell.describe()}"
    assert all(r.parent_id is None for r in views), "a live view with a parent"
    return shown[0], views[0].content["data"][WIDGET_VIEW_MIME]["model_id"]


def update_state(received: Received) -> dict[str, Any]:
    return received.content["data"]["state"]


def widget_comm_id(messages: Iterable[Received], task_id: str) -> str:
    """The comm id of the TaskWidget model opened for ``task_id``."""
    for r in messages:
        if r.msg_type != "comm_open":
            continue
        state = r.content.get("data", {}).get("state", {})
        if state.get("task_id") == task_id:
            return r.content["comm_id"]
    raise AssertionError(f"no comm_open for a widget of task {task_id}")


def problems(messages: Iterable[Received]) -> list[Received]:
    """Error and stream messages: tracebacks, or text printed into some cell."""
    return [r for r in messages if r.msg_type in ("error", "stream")]


def distinct_in_order(values: Iterable[Any]) -> list[Any]:
    """``values`` with consecutive repeats collapsed: [A, A, B, A] -> [A, B, A]."""
    out: list[Any] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out
