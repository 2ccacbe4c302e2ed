"""The test suite's fake Globus Search task service.

Unlike the public simulator (timelines driven by a clock), this fake is scripted: each GET
of a task consumes the next scripted step, so a test says exactly what the client sees on
its 1st, 2nd, 3rd... poll, faults included, and then checks what the client sent. It is a
thin layer over the scenario engine (``search_task_widget.simulator.scenarios``), which writes the
Task documents, GError answers and faults (re-exported here for the tests).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from search_task_widget.simulator import scenarios as engine
from search_task_widget.simulator.loopback import Request, Response, Serving
from search_task_widget.simulator.scenarios import (
    deep_json,
    dropped,
    endless_body,
    gzip_bomb,
    http_error,
    not_json,
    proxy_html,
    truncated_json,
)

__all__ = [
    "FAKE_INDEX_ID",
    "FakeSearch",
    "RecordedRequest",
    "Step",
    "deep_json",
    "dropped",
    "echo_authorization",
    "endless_body",
    "gzip_bomb",
    "http_error",
    "missing_fields",
    "not_json",
    "proxy_html",
    "slow",
    "task_doc",
    "trickle",
    "truncated_json",
]

#: The index of documents made by task_doc() unless told otherwise.
FAKE_INDEX_ID = "696af25c-8c24-469a-b5e0-67d3e4b71df7"

# What a FAILED document made by task_doc() says, unless told otherwise.
_FAILED_MESSAGE = "1 of 3 ingest documents failed: 'subject' is required"
_FAILED_DETAILS = {
    "failed_document_count": 1,
    "errors": [{"subject": None, "error_type": "ValidationError"}],
}


def task_doc(task_id: str | None = None, state: str = "PENDING", **overrides: Any) -> dict:
    """A complete, realistic Task document (all nine fields); ``overrides`` win."""
    created = time.time() - 3
    failed = state == "FAILED"
    doc = engine.task_document(
        task_id or str(uuid.uuid4()),
        state,
        index_id=FAKE_INDEX_ID,
        created=created,
        completed=created + 2 if state in engine.TERMINAL_STATES else None,
        message=_FAILED_MESSAGE if failed else None,
        additional_details=_FAILED_DETAILS if failed else None,
    )
    doc.update(overrides)
    return doc


@dataclass
class _DocResponse(Response):
    """A Response that, once served, also becomes the task's stored document."""

    document: dict | None = None


Step = dict | Response | Callable[[Request], Response]


def slow(seconds: float, then: Step) -> Response:
    """Answer ``then`` after ``seconds``; a dict ``then`` is stored like a dict step."""
    if isinstance(then, dict):
        answer = Response.json(then)
        return _DocResponse(
            answer.status, answer.body, answer.headers, delay=seconds, document=then
        )
    return engine.slow(seconds, then)


def trickle(then: dict, pace: float) -> Response:
    """The JSON of ``then``, one byte every ``pace`` seconds (a stuck proxy, a slowloris)."""
    return engine.trickle(json.dumps(then).encode(), pace)


def echo_authorization(status: int = 502) -> Callable[[Request], Response]:
    """A proxy error page that quotes the request's Authorization header back."""

    def answer(request: Request) -> Response:
        seen = request.headers.get("authorization", "")
        return http_error(
            status, "ProxyError", f"upstream refused the request with headers "
            f"{{'Authorization': '{seen}'}}; echoed: {seen}; token alone: "
            f"{seen.split(' ')[-1]}",
        )  # fmt: skip

    return answer


def missing_fields() -> Response:
    """A 200 JSON object that is not a usable Task document (no task_id, no state)."""
    return engine.missing_fields(FAKE_INDEX_ID)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic() when it arrived
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class FakeSearch(Serving):
    """Scripted, recording fake of the Search task endpoints on a loopback port."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.require_bearer: str | None = None
        self._docs: dict[str, dict] = {}
        self._task_steps: dict[str, deque[Step]] = {}
        self._list_steps: dict[str, deque[Step]] = {}
        self._last_lists: dict[str, dict] = {}  # the last dict list step served, per index
        self._lock = threading.Lock()
        self._server = engine.serve(self._handle)

    # -- setup --------------------------------------------------------------------------

    def put_task(self, doc: dict) -> None:
        with self._lock:
            self._docs[doc["task_id"]] = dict(doc)

    def script(self, task_id: str, steps: list[Step]) -> None:
        with self._lock:
            self._task_steps[task_id] = deque(steps)

    def script_list(self, index_id: str, steps: list[Step]) -> None:
        with self._lock:
            self._list_steps[index_id] = deque(steps)

    def requests_for(self, path_suffix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    # -- serving ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> FakeSearch:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    request.method,
                    request.path,
                    dict(request.headers),
                    time.monotonic(),
                    dict(request.query),
                    request.body,
                )
            )
            expected = self.require_bearer
        if expected is not None and request.headers.get("authorization") != f"Bearer {expected}":
            return http_error(401, message="Missing or invalid access token")
        route = engine.route_of(request.path)
        if request.method == "POST" and route is not None and route.action is not None:
            return self._create_task(route.key, route.action)
        if request.method == "GET" and route is not None and route.kind == "task":
            return _answer(self._answer_task(route.key), request)
        if request.method == "GET" and route is not None and route.kind == "task_list":
            return _answer(self._answer_list(route.key), request)
        return http_error(404, message=f"No such resource: {request.method} {request.path}")

    def _create_task(self, index_id: str, action: str) -> Response:
        """Ingest and the delete calls: a task that has already succeeded, on that index."""
        method, task_type = engine.TASK_CALLS.get(action, ("", ""))
        if method != "POST":
            return http_error(404, message=f"No such resource: POST {action}")
        doc = task_doc(state="SUCCESS", index_id=index_id, task_type=task_type)
        self.put_task(doc)
        return Response.json({"acknowledged": True, "task_id": doc["task_id"]})

    def _answer_task(self, task_id: str) -> Response | Callable[[Request], Response]:
        with self._lock:
            steps = self._task_steps.get(task_id)
            step = steps.popleft() if steps else None
            if isinstance(step, dict):
                self._docs[task_id] = dict(step)
            elif isinstance(step, _DocResponse) and step.document is not None:
                self._docs[task_id] = dict(step.document)
            doc = self._docs.get(task_id)
        if isinstance(step, Response) or callable(step):
            return step
        if doc is None:
            return http_error(404, message=f"No task with id {task_id}")
        return Response.json(doc)

    def _answer_list(self, index_id: str) -> Response | Callable[[Request], Response]:
        with self._lock:
            steps = self._list_steps.get(index_id)
            step = steps.popleft() if steps else None
            if isinstance(step, dict):
                self._last_lists[index_id] = step
            scripted = self._last_lists.get(index_id)
            docs = [d for d in self._docs.values() if d.get("index_id") == index_id]
        if isinstance(step, Response) or callable(step):
            return step
        if scripted is not None:
            # Like task scripts: the last whole body stays in force once steps run out.
            return Response.json(scripted)
        # Newest first, like the service; stable sort keeps put order for equal dates.
        docs.reverse()
        docs.sort(key=lambda d: str(d.get("creation_date", "")), reverse=True)
        return Response.json(engine.list_body(index_id, docs))


def _answer(step: Response | Callable[[Request], Response], request: Request) -> Response:
    return step if isinstance(step, Response) else step(request)
