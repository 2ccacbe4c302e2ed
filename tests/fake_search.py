"""The test suite's fake Globus Search task service.

Unlike the public simulator (timelines driven by a clock), this fake is scripted: each GET
of a task consumes the next scripted step, so a test says exactly what the client sees on
its 1st, 2nd, 3rd... poll, faults included, and then checks what the client sent.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from types import TracebackType
from typing import Any

from search_task_widget._loopback import LoopbackServer, Request, Response

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

_DESCRIPTIONS = {
    "CREATING": "Task is being created",
    "PENDING": "Task is waiting to start",
    "PROGRESS": "Task is running",
    "SUCCESS": "Task succeeded",
    "FAILED": "Task failed",
    "CANCELLED": "Task cancelled because its index was deleted",
}
_ENDED = frozenset({"SUCCESS", "FAILED", "CANCELLED"})

# Search's usual GError code for each status, so http_error(503) looks real by default.
_DEFAULT_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed.Expired",
    403: "Forbidden.Generic",
    404: "NotFound.Generic",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def _search_date(moment: datetime) -> str:
    """Search's date format: UTC, microseconds, no timezone suffix."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def task_doc(task_id: str | None = None, state: str = "PENDING", **overrides: Any) -> dict:
    """A complete, realistic Task document (all nine fields); ``overrides`` win."""
    created = datetime.now(timezone.utc) - timedelta(seconds=3)
    failed = state == "FAILED"
    doc: dict[str, Any] = {
        "task_id": task_id or str(uuid.uuid4()),
        "state": state,
        "task_type": "ingest",
        "state_description": _DESCRIPTIONS.get(state, f"Task is {state.lower()}"),
        "index_id": FAKE_INDEX_ID,
        "message": "1 of 3 ingest documents failed: 'subject' is required" if failed else None,
        "additional_details": (
            {
                "failed_document_count": 1,
                "errors": [{"subject": None, "error_type": "ValidationError"}],
            }
            if failed
            else None
        ),
        "creation_date": _search_date(created),
        "completion_date": (
            _search_date(created + timedelta(seconds=2)) if state in _ENDED else None
        ),
    }
    doc.update(overrides)
    return doc


@dataclass
class _DocResponse(Response):
    """A Response that, once served, also becomes the task's stored document."""

    document: dict | None = None


Step = dict | Response | Callable[[Request], Response]


def http_error(
    status: int,
    code: str | None = None,
    message: str | None = None,
    retry_after: float | str | None = None,
) -> Response:
    """A GError answer; ``retry_after`` may be seconds or an HTTP-date string."""
    headers = {}
    if retry_after is not None:
        value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
        headers["Retry-After"] = value
    return Response.gerror(
        status,
        code or _DEFAULT_CODES.get(status, "Error"),
        message or HTTPStatus(status).phrase,
        headers=headers,
    )


def proxy_html(status: int = 502) -> Response:
    """The HTML page nginx sends when the service behind it fails."""
    title = f"{status} {HTTPStatus(status).phrase}"
    page = (
        f"<html>\n<head><title>{title}</title></head>\n<body>\n"
        f"<center><h1>{title}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
    )
    return Response.html(status, page)


def truncated_json() -> Response:
    """A 200 whose JSON body stops half-way (a complete HTTP answer, broken JSON)."""
    return Response(
        200,
        b'{"task_id": "05c1ec1b-2400-44e2-9797-922c29199042", "state": "PROG',
        {"Content-Type": "application/json"},
    )


def not_json() -> Response:
    """A 200 with a plain-text body, as a captive portal or misrouted proxy gives."""
    return Response(200, b"OK", {"Content-Type": "text/plain"})


def dropped() -> Response:
    """The connection is reset with no answer at all."""
    return Response(drop_connection=True)


def slow(seconds: float, then: Step) -> Response:
    """Answer ``then`` after ``seconds``; a dict ``then`` is stored like a dict step."""
    if isinstance(then, dict):
        answer = Response.json(then)
        return _DocResponse(
            answer.status, answer.body, answer.headers, delay=seconds, document=then
        )
    return dataclasses.replace(then, delay=seconds)


def trickle(then: dict, pace: float) -> Response:
    """The JSON of ``then``, one byte every ``pace`` seconds (a stuck proxy, a slowloris)."""
    body = json.dumps(then).encode()
    return Response(
        200, headers={"Content-Type": "application/json"},
        chunks=(body[i : i + 1] for i in range(len(body))), pace=pace,
    )  # fmt: skip


def endless_body(pace: float = 0.0) -> Response:
    """A chunked JSON body that never ends (``[0,0,0,...`` for ever)."""
    pieces = itertools.chain([b"["], itertools.repeat(b"0," * 4096))
    return Response(200, headers={"Content-Type": "application/json"}, chunks=pieces, pace=pace)


@functools.lru_cache(maxsize=2)
def _bomb(inflated: int) -> bytes:
    squeezer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b" " * (1 << 20)
    out = [squeezer.compress(block) for _ in range(inflated >> 20)]
    out.append(squeezer.flush())
    return b"".join(out)


def gzip_bomb(inflated: int = 64 << 20) -> Response:
    """A small gzip body (``inflated`` bytes of JSON whitespace once decompressed)."""
    return Response(
        200, _bomb(inflated), {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )


def deep_json(depth: int = 100_000) -> Response:
    """A JSON body nested ``depth`` levels deep (``[[[[...]]]]``)."""
    return Response(200, b"[" * depth + b"]" * depth, {"Content-Type": "application/json"})


def echo_authorization(status: int = 502) -> Callable[[Request], Response]:
    """A proxy error page that quotes the request's Authorization header back."""

    def answer(request: Request) -> Response:
        seen = request.headers.get("authorization", "")
        return Response.gerror(
            status, "ProxyError", f"upstream refused the request with headers "
            f"{{'Authorization': '{seen}'}}; echoed: {seen}; token alone: "
            f"{seen.split(' ')[-1]}",
        )  # fmt: skip

    return answer


def missing_fields() -> Response:
    """A 200 JSON object that is not a usable Task document (no task_id, no state)."""
    return Response.json({"index_id": FAKE_INDEX_ID, "state_description": "Task is running"})


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic() when it arrived
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class FakeSearch:
    """Scripted, recording fake of the Search task endpoints on a loopback port."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.require_bearer: str | None = None
        self._docs: dict[str, dict] = {}
        self._task_steps: dict[str, deque[Step]] = {}
        self._list_steps: dict[str, deque[Step]] = {}
        self._last_lists: dict[str, dict] = {}  # the last dict list step served, per index
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handle)

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

    def __enter__(self) -> FakeSearch:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

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
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and len(parts) == 4 and parts[:2] == ["v1", "index"]:
            return self._create_task(parts[2], parts[3])
        if request.method == "GET" and len(parts) == 3 and parts[0] == "v1":
            if parts[1] == "task":
                return _answer(self._answer_task(parts[2]), request)
            if parts[1] == "task_list":
                return _answer(self._answer_list(parts[2]), request)
        return http_error(404, message=f"No such resource: {request.method} {request.path}")

    def _create_task(self, index_id: str, action: str) -> Response:
        """Ingest and the delete calls: a task that has already succeeded, on that index."""
        task_types = {
            "ingest": "ingest",
            "delete_by_query": "delete-by-query",
            "batch_delete_by_subject": "delete-by-subject",
        }
        if action not in task_types:
            return http_error(404, message=f"No such resource: POST {action}")
        doc = task_doc(state="SUCCESS", index_id=index_id, task_type=task_types[action])
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
        return Response.json({"index_id": index_id, "tasks": docs[:1000]})


def _answer(step: Response | Callable[[Request], Response], request: Request) -> Response:
    return step if isinstance(step, Response) else step(request)
