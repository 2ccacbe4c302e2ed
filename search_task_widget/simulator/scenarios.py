"""The scenario engine: what a fake Globus Search task service knows, written once.

Three fakes play the Search Task API over loopback HTTP: the public simulator
(:mod:`search_task_widget.simulator`, timelines for tutorials), the test suite's
``FakeSearch`` (scripted per-request answers, recorded requests) and the benchmark's
service (many planned tasks, a fault mix). Each is a thin layer over this module, which
holds, once:

* the service's vocabulary: each state's usual ``state_description``, its date format
  (:func:`format_search_date`), the Task document (:func:`task_document`) and GError
  bodies (:func:`http_error`); the states themselves come from :mod:`.vocabulary`;
* timelines: a :class:`Scenario` is a list of :class:`Phase` over scenario-seconds plus
  :class:`Fault` windows, and a :class:`TaskBook` answers with the document (or fault) of
  each of its tasks at the moment its injectable clock says, so unit tests step a fake
  clock and need no socket;
* faults as data: a :class:`Fault` names a misbehaviour of the service or a proxy in
  front of it (:data:`FAULT_KINDS`), and :meth:`Fault.answer` turns it into the
  :class:`~.loopback.Response` that produces it; the builders below (``dropped()``,
  ``trickle()``, ``gzip_bomb()``...) take the parameters a test needs;
* the Task API's routes (:func:`route_of`) and the ``task_list`` body (:func:`list_body`).

Only :func:`serve` touches the network: a :class:`~.loopback.Response` is plain data,
which :class:`~.loopback.LoopbackServer` sends.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import json
import math
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

from .._model.task import FIELDS
from .._model.vocabulary import (
    CREATING,
    FAILED,
    PENDING,
    PROGRESS,
    STATE_DESCRIPTIONS,
    SUCCESS,
    TASK_CALLS,
    TERMINAL_STATES,
)
from .loopback import Handler, LoopbackServer, Response

#: The ``@version`` Globus Search puts in every GError body.
GERROR_VERSION = "2017-09-01"

#: The most tasks the service answers from ``task_list``.
TASK_LIST_LIMIT = 1000

# Search's usual GError code for each status, so http_error(503) looks real by default.
_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed.Expired",
    403: "Forbidden.Generic",
    404: "NotFound.Generic",
    405: "MethodNotAllowed",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

_JSON = "application/json"
# The endings of a task whose documents were processed, well or not.
_PROCESSED = (SUCCESS, FAILED)


# -- vocabulary ------------------------------------------------------------------------------


def describe(state: str) -> str:
    """The service's usual ``state_description`` of ``state``."""
    return STATE_DESCRIPTIONS.get(state, f"Task is {state.lower()}")


def format_search_date(timestamp: float) -> str:
    """Format a POSIX timestamp the way Search does: UTC, microseconds, no zone suffix."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


# Documents are answered again and again with the same few dates: format each once.
_cached_date = functools.lru_cache(maxsize=4096)(format_search_date)


def task_document(
    task_id: str,
    state: str,
    *,
    index_id: str,
    created: float,
    completed: float | None = None,
    task_type: str = "ingest",
    description: str | None = None,
    message: str | None = None,
    additional_details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete Task document, its fields in the service's order; dates are POSIX times."""
    values = {
        "task_id": task_id,
        "state": state,
        "task_type": task_type,
        "state_description": describe(state) if description is None else description,
        "index_id": index_id,
        "message": message,
        # A deep copy, so a caller editing its document can't change a scenario.
        "additional_details": copy.deepcopy(dict(additional_details))
        if additional_details
        else None,
        "creation_date": _cached_date(created),
        "completion_date": None if completed is None else _cached_date(completed),
    }
    return {name: values[name] for name in FIELDS}


def list_body(index_id: str, documents: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The body of ``GET /v1/task_list/<index_id>``; ``documents`` newest first."""
    return {"index_id": index_id, "tasks": list(itertools.islice(documents, TASK_LIST_LIMIT))}


#: The task types Search creates.
TASK_TYPES = tuple(dict.fromkeys(task_type for _method, task_type in TASK_CALLS.values()))


@dataclass(frozen=True)
class Route:
    """Which Task API call a path names: ``kind`` is ``"task"`` (``key`` a task id),
    ``"task_list"`` (``key`` an index id) or ``"index"`` (``key`` an index id and
    ``action`` the last part: ``ingest``, ``delete_by_query``...)."""

    kind: str
    key: str
    action: str | None = None


def route_of(path: str) -> Route | None:
    """The :class:`Route` of ``path``, or None for a path the Task API doesn't have."""
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "v1" and parts[1] in ("task", "task_list"):
        return Route(parts[1], parts[2])
    if len(parts) == 4 and parts[:2] == ["v1", "index"]:
        return Route("index", parts[2], parts[3])
    return None


# -- answers ---------------------------------------------------------------------------------


def http_error(
    status: int,
    code: str | None = None,
    message: str | None = None,
    retry_after: float | str | None = None,
    *,
    request_id: str | None = None,
    error_data: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A GError answer, shaped exactly like Search's; ``retry_after`` may be seconds or an
    HTTP-date string. ``code`` and ``message`` default to the status's usual ones."""
    merged = dict(headers or {})
    if retry_after is not None:
        merged["Retry-After"] = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
    body = {
        "@datatype": "GError",
        "@version": GERROR_VERSION,
        "status": status,
        "code": code or _CODES.get(status, "Error"),
        "message": message or HTTPStatus(status).phrase,
        # Real request ids are 32 hex digits; clients show them in bug reports.
        "request_id": request_id if request_id is not None else uuid.uuid4().hex,
        "error_data": error_data,
    }
    return Response.json(body, status=status, headers=merged)


def proxy_html(status: int = 502) -> Response:
    """The HTML page nginx sends when the service behind it fails."""
    title = f"{status} {HTTPStatus(status).phrase}"
    page = (
        f"<html>\n<head><title>{title}</title></head>\n<body>\n"
        f"<center><h1>{title}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
    )
    return Response(status, page.encode(), {"Content-Type": "text/html; charset=utf-8"})


def dropped() -> Response:
    """The connection is reset with no answer at all."""
    return Response(drop_connection=True)


def silent(seconds: float = 3600.0) -> Response:
    """The connection is accepted, then nothing is said for ``seconds``."""
    return Response(delay=seconds)


def slow(seconds: float, then: Response) -> Response:
    """``then``, answered ``seconds`` late (a busy service, a congested network)."""
    return dataclasses.replace(then, delay=seconds)


def truncated_json() -> Response:
    """A 200 whose JSON body stops half-way (a complete HTTP answer, broken JSON)."""
    body = b'{"task_id": "05c1ec1b-2400-44e2-9797-922c29199042", "state": "PROG'
    return Response(200, body, {"Content-Type": _JSON})


def not_json() -> Response:
    """A 200 with a plain-text body, as a captive portal or misrouted proxy gives."""
    return Response(200, b"OK", {"Content-Type": "text/plain"})


def missing_fields(index_id: str) -> Response:
    """A 200 JSON object that is not a usable Task document (no task_id, no state)."""
    return Response.json({"index_id": index_id, "state_description": describe(PROGRESS)})


def trickle(body: bytes | None = None, pace: float = 1.0) -> Response:
    """A JSON answer sent one byte every ``pace`` seconds (a stuck proxy, a slowloris);
    without ``body``, spaces for ever."""
    pieces = itertools.repeat(b" ") if body is None else (body[i : i + 1] for i in range(len(body)))
    return Response(200, headers={"Content-Type": _JSON}, chunks=pieces, pace=pace)


def endless_body(pace: float = 0.0) -> Response:
    """A chunked JSON body that never ends (``[0,0,0,...`` for ever)."""
    pieces = itertools.chain([b"["], itertools.repeat(b"0," * 4096))
    return Response(200, headers={"Content-Type": _JSON}, chunks=pieces, pace=pace)


@functools.lru_cache(maxsize=2)
def _bomb(inflated: int) -> bytes:
    squeezer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b" " * (1 << 20)
    out = [squeezer.compress(block) for _ in range(inflated >> 20)]
    out.append(squeezer.flush())
    return b"".join(out)


def gzip_bomb(inflated: int = 64 << 20) -> Response:
    """A small gzip body (``inflated`` bytes of JSON whitespace once decompressed)."""
    headers = {"Content-Type": _JSON, "Content-Encoding": "gzip"}
    return Response(200, _bomb(inflated), headers)


def deep_json(depth: int = 100_000) -> Response:
    """A JSON body nested ``depth`` levels deep (``[[[[...]]]]``)."""
    return Response(200, b"[" * depth + b"]" * depth, {"Content-Type": _JSON})


def huge_details(task_id: str, size: int = 20 << 20) -> Response:
    """A valid Task document whose ``additional_details`` hold ``size`` characters."""
    document = task_document(
        task_id, PROGRESS, index_id=str(uuid.uuid4()), created=time.time(),
        additional_details={"blob": "x" * size},
    )  # fmt: skip
    return Response(200, json.dumps(document).encode(), {"Content-Type": _JSON})


# -- faults as data --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """From ``start`` to ``end`` seconds after submit, requests for the task fail this way.

    ``kind`` is one of :data:`FAULT_KINDS`; ``retry_after`` is what a 503 or 429 advises
    (seconds, scaled with the simulator's speed, or a literal header value); ``seconds`` is
    how late a ``slow`` answer comes (default 2 s) or how long a ``silent`` one says
    nothing (default an hour).
    """

    start: float = 0.0
    end: float = math.inf
    kind: str = "unavailable"
    retry_after: float | str = 2.0
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {', '.join(FAULT_KINDS)}")

    def covers(self, elapsed: float) -> bool:
        """Whether the fault is in force ``elapsed`` scenario-seconds after submit."""
        return self.start <= elapsed < self.end

    def answer(
        self, *, speed: float = 1.0, task_id: str = "", then: Response | None = None
    ) -> Response:
        """The answer that produces this fault: ``speed`` shortens a numeric Retry-After,
        ``task_id`` names the task a document is about, ``then`` is the answer a ``slow``
        fault delays (default an empty JSON object)."""
        asked = _Asked(speed, task_id, then if then is not None else Response.json({}))
        return FAULT_KINDS[self.kind](self, asked)

    def retry_after_header(self, speed: float) -> str:
        if isinstance(self.retry_after, str):
            return self.retry_after
        # Keep the advice proportional when the timeline runs faster than real time.
        return str(max(1, math.ceil(self.retry_after / speed)))


@dataclass(frozen=True)
class _Asked:
    """What a fault's answer may depend on besides the fault."""

    speed: float
    task_id: str
    then: Response


_FaultAnswer = Callable[[Fault, _Asked], Response]

#: Every fault by name: what the service (or a proxy in front of it) does instead of
#: answering. ``unavailable``: 503 GError with Retry-After; ``too-many-requests``: 429
#: with Retry-After; ``server-error``: 500 GError; ``bad-gateway``: nginx's 502 HTML page;
#: ``dropped``: the connection reset; ``slow``: the right answer, late; ``silent``:
#: nothing said for an hour; ``trickle``: a
#: byte a second, never done; ``endless``: a chunked body that never ends; ``gzip-bomb``:
#: 64 KB inflating to 64 MB; ``deep-json``: 100,000 nested arrays; ``truncated-json``,
#: ``not-json``, ``missing-fields``: a 200 that is no Task document; ``huge-details``: a
#: valid document with 20 MB of ``additional_details``.
FAULT_KINDS: Mapping[str, _FaultAnswer] = MappingProxyType(
    {
        "unavailable": lambda f, asked: http_error(
            503,
            message="The service is temporarily unavailable; please try again later",
            retry_after=f.retry_after_header(asked.speed),
        ),
        "too-many-requests": lambda f, asked: http_error(
            429, message="slow down", retry_after=f.retry_after_header(asked.speed)
        ),
        "server-error": lambda f, asked: http_error(500),
        "bad-gateway": lambda f, asked: proxy_html(502),
        "dropped": lambda f, asked: dropped(),
        "slow": lambda f, asked: slow(2.0 if f.seconds is None else f.seconds, asked.then),
        "silent": lambda f, asked: silent(3600.0 if f.seconds is None else f.seconds),
        "trickle": lambda f, asked: trickle(),
        "endless": lambda f, asked: endless_body(),
        "gzip-bomb": lambda f, asked: gzip_bomb(),
        "deep-json": lambda f, asked: deep_json(),
        "truncated-json": lambda f, asked: truncated_json(),
        "not-json": lambda f, asked: not_json(),
        "missing-fields": lambda f, asked: missing_fields(str(uuid.uuid4())),
        "huge-details": lambda f, asked: huge_details(asked.task_id or str(uuid.uuid4())),
    }
)


# -- timelines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """From ``at`` seconds after submit (at speed 1.0) the task shows this state, with
    ``description`` as its ``state_description`` (default: the service's usual one)."""

    at: float
    state: str
    description: str = ""
    message: str | None = None
    additional_details: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.description:
            object.__setattr__(self, "description", describe(self.state))

    @property
    def ended(self) -> bool:
        """Whether the task never changes after this phase."""
        return self.state in TERMINAL_STATES


def phase(at: float, state: str, description: str | None = None, **extra: Any) -> Phase:
    """A :class:`Phase` with the service's usual description of ``state`` by default."""
    return Phase(at, state, describe(state) if description is None else description, **extra)


@dataclass(frozen=True)
class Scenario:
    """A scripted task life: its states over time and any service faults on the way."""

    name: str
    summary: str  # what a student watching the task sees
    phases: tuple[Phase, ...]
    faults: tuple[Fault, ...] = ()

    def phase_at(self, elapsed: float) -> Phase:
        """The phase in force ``elapsed`` scenario-seconds after submit."""
        current = self.phases[0]
        for candidate in self.phases:
            if candidate.at <= elapsed:
                current = candidate
        return current

    def fault_at(self, elapsed: float) -> Fault | None:
        """The fault in force ``elapsed`` scenario-seconds after submit, if any."""
        return next((fault for fault in self.faults if fault.covers(elapsed)), None)

    @property
    def ends_failed(self) -> bool:
        """Whether the task ends FAILED."""
        return self.phases[-1].state == FAILED

    @property
    def ends_processed(self) -> bool:
        """Whether the task ends SUCCESS or FAILED, its documents processed (not, for
        example, CANCELLED before it ran)."""
        return self.phases[-1].state in _PROCESSED


def lifecycle(
    *, queued_until: float = 2.0, done_at: float = 5.0, end: str = SUCCESS
) -> tuple[Phase, ...]:
    """CREATING, PENDING from 0.5 s, PROGRESS from ``queued_until``, ``end`` at ``done_at``."""
    return (
        phase(0.0, CREATING),
        phase(0.5, PENDING),
        phase(queued_until, PROGRESS),
        phase(done_at, end),
    )


def planned(progress_at: float, success_at: float, name: str = "planned") -> Scenario:
    """PENDING from submit, PROGRESS at ``progress_at``, SUCCESS at ``success_at``: the
    benchmark's and the polling-policy tests' many tasks."""
    phases = (phase(0.0, PENDING), phase(progress_at, PROGRESS), phase(success_at, SUCCESS))
    return Scenario(name, "PENDING, PROGRESS, then SUCCESS", phases)


@dataclass(frozen=True)
class Failure:
    """Why a task ends FAILED whatever its scenario says: its message and details."""

    message: str
    details: Mapping[str, Any]


@dataclass(frozen=True)
class TimedTask:
    """One task on a timeline: created at ``created`` (POSIX seconds) and following
    ``scenario``; ``failure``, when set, turns its ending into FAILED with that message."""

    task_id: str
    index_id: str
    scenario: Scenario
    created: float
    task_type: str = "ingest"
    failure: Failure | None = None
    seq: int = 0  # order of creation, to break ties between equal creation times

    def document(self, elapsed: float, speed: float = 1.0) -> dict[str, Any]:
        """The Task document ``elapsed`` scenario-seconds after submit."""
        current = self.scenario.phase_at(elapsed)
        state, description = current.state, current.description
        message, details = current.message, current.additional_details
        if self.failure is not None and state in _PROCESSED:
            state, description = FAILED, describe(FAILED)
            message, details = self.failure.message, self.failure.details
        return task_document(
            self.task_id, state, index_id=self.index_id, task_type=self.task_type,
            created=self.created,
            # The moment the phase began, not "now", so the date stays put.
            completed=self.created + current.at / speed if current.ended else None,
            description=description, message=message, additional_details=details,
        )  # fmt: skip


class TaskBook:
    """The tasks of a fake service and the answers they give at the time ``clock`` says.

    ``clock`` returns POSIX seconds (inject a fake one to step through timelines);
    ``speed`` divides every scenario time. Thread-safe: the loopback server answers from
    many threads.
    """

    def __init__(self, clock: Callable[[], float] = time.time, speed: float = 1.0) -> None:
        self.clock = clock
        self.speed = speed
        self._tasks: dict[str, TimedTask] = {}
        self._by_index: dict[str, list[TimedTask]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._tasks)

    def add(
        self,
        index_id: str,
        scenario: Scenario,
        *,
        task_type: str = "ingest",
        failure: Failure | None = None,
        task_id: str | None = None,
        created: float | None = None,
    ) -> TimedTask:
        """A new task of ``index_id`` following ``scenario`` from ``created`` (default:
        now, as the clock says)."""
        start = self.clock() if created is None else created
        with self._lock:
            task = TimedTask(
                task_id or str(uuid.uuid4()), index_id, scenario, start,
                task_type=task_type, failure=failure, seq=len(self._tasks),
            )  # fmt: skip
            self._tasks[task.task_id] = task
            self._by_index.setdefault(index_id, []).append(task)
        return task

    def get(self, task_id: str) -> TimedTask | None:
        with self._lock:
            return self._tasks.get(task_id)

    def of_index(self, index_id: str) -> list[TimedTask]:
        """The tasks of ``index_id``, newest first."""
        with self._lock:
            tasks = list(self._by_index.get(index_id, ()))
        tasks.sort(key=lambda task: (task.created, task.seq), reverse=True)
        return tasks

    def elapsed(self, task: TimedTask) -> float:
        """Scenario-seconds since submit; a clock that steps back counts as no time."""
        return max(0.0, (self.clock() - task.created) * self.speed)

    def document(self, task: TimedTask) -> dict[str, Any]:
        """The task's Task document now."""
        return task.document(self.elapsed(task), self.speed)

    def task_list(self, index_id: str) -> dict[str, Any]:
        """The body of ``GET /v1/task_list/<index_id>`` now."""
        return list_body(index_id, (self.document(t) for t in self.of_index(index_id)))

    def answer_task(self, task_id: str) -> Response:
        """``GET /v1/task/<task_id>``: the document, a fault, or 404."""
        task = self.get(task_id)
        if task is None:
            return http_error(404, "NotFound.Generic", f"No task with id {task_id}")
        return self._answer([task], Response.json(self.document(task)))

    def answer_list(self, index_id: str) -> Response:
        """``GET /v1/task_list/<index_id>``: the list, or a fault of a task on it (an
        outage is service-wide: a list covering a faulted task fails the same way)."""
        tasks = self.of_index(index_id)
        body = list_body(index_id, (self.document(task) for task in tasks))
        return self._answer(tasks, Response.json(body))

    def _answer(self, tasks: Iterable[TimedTask], normal: Response) -> Response:
        """``normal``, unless a fault is in force for one of ``tasks``."""
        for task in tasks:
            fault = task.scenario.fault_at(self.elapsed(task))
            if fault is not None:
                return fault.answer(speed=self.speed, task_id=task.task_id, then=normal)
        return normal


def serve(handler: Handler) -> LoopbackServer:
    """A loopback server for ``handler`` whose own errors are GError answers too."""
    return LoopbackServer(handler, on_error=http_error)
