"""A simulated Globus Search task service, for tutorials and demos with no account.

The simulator plays the part of ``https://search.api.globus.org/`` for the three calls this
package cares about, over real HTTP on ``127.0.0.1`` (so the real client code runs unchanged):

* ``POST /v1/index/<index_id>/ingest`` accepts any valid JSON body and answers
  ``{"acknowledged": true, "task_id": "...", "success": true}``. The new task follows the
  "success" scenario unless the request carries an ``X-Simulator-Scenario: <name>`` header.
* ``GET /v1/task/<task_id>`` answers the task's current Task document (404 GError
  ``NotFound.Generic`` for an unknown id, 400 GError ``BadRequest.ValidationError`` for an
  id that is not a UUID).
* ``GET /v1/task_list/<index_id>`` answers ``{"index_id": ..., "tasks": [...]}`` with that
  index's tasks, newest first, at most 1000.

Quick start::

    from search_task_widget.simulator import shared_simulator

    sim = shared_simulator()              # started once per process, on 127.0.0.1
    reply = sim.submit("failure")         # or POST to f"{sim.base_url}v1/index/.../ingest"
    sim.task_document(reply["task_id"])   # or GET f"{sim.base_url}v1/task/<task_id>"

Tasks live in memory only and every task belongs to an index; without ``index_id`` they go
to the tutorial index, :data:`TUTORIAL_INDEX_ID` (``85a76897-0d62-4677-a00b-06f5ed2acb0c``).
Any other UUID works as an index id too: the simulator has no list of indexes.

Authentication: requests are accepted with or without an ``Authorization: Bearer ...``
header, so a tutorial can use a real client with a dummy token. ``Simulator(required_token=
"...")`` instead answers 401 (GError ``AuthenticationFailed.MissingToken`` or
``AuthenticationFailed.Expired``) unless the header is exactly ``Bearer <that token>``, to
demonstrate an expired login. The token is never written into an answer or a log.

Dates look exactly like the service's: ISO 8601 in UTC with microseconds and *no* timezone
suffix (``2018-12-13T18:08:42.746911``). ``creation_date`` is the submit time and
``completion_date`` stays ``null`` until the task ends.

Scenarios (times are seconds after submit at ``speed=1.0``; ``Simulator(speed=10)`` makes
everything ten times faster; each state's ``state_description`` is the service's usual
text, e.g. "Task is waiting to start"):

``success``
    CREATING for 0.5 s, PENDING until 2 s, PROGRESS until 5 s, then SUCCESS ("Task
    succeeded"). The student sees the task move through each state and finish green.
``failure``
    Like "success" until PROGRESS, then FAILED at 4 s with the message "1 of 3 ingest
    documents failed: 'subject' is required" and ``additional_details`` listing the failed
    document. The student sees a red ending and the reason, as with a real bad ingest
    (whose HTTP answer was a happy 200: failures only show up in the task).
``slow-queue``
    PENDING for 30 s (a busy service), then PROGRESS for 3 s and SUCCESS. The student sees
    a long wait that is not an error, and that the notebook stays usable meanwhile.
``outage``
    The task itself succeeds at 6 s, but from 1.5 s to 5 s every request for it (and for
    its index's task list) answers 503 with ``Retry-After: 2`` and a GError
    ``ServiceUnavailable``. The student sees the watcher report the outage, wait, recover
    and then show the success.
``proxy-error``
    From 1 s to 3 s requests for the task (and its index's task list) answer 502 with an
    nginx "502 Bad Gateway" HTML page instead of JSON, then everything is normal and the
    task succeeds at 5 s. The student sees a non-JSON error handled gracefully.
``cancelled``
    PENDING, then at 3 s the state ``CANCELLED`` ("Task cancelled because its index was
    deleted"), which is outside the documented states, with ``completion_date`` set. The
    student sees an unexpected state shown as it is rather than a crash.

``Retry-After`` is scaled with ``speed`` (rounded up, at least 1 s). ``latency`` delays
every HTTP answer by that many real seconds, to show a slow network.
"""

from __future__ import annotations

import copy
import hmac
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType, TracebackType
from typing import Any, Literal

from search_task_widget._loopback import LoopbackServer, Request, Response

__all__ = [
    "SCENARIOS",
    "TASK_TYPES",
    "TUTORIAL_INDEX_ID",
    "Fault",
    "Phase",
    "Scenario",
    "Simulator",
    "format_search_date",
    "shared_simulator",
]

logger = logging.getLogger("search_task_widget")

#: The index tasks go to when no ``index_id`` is given (a fixed id, so tutorials can print it).
TUTORIAL_INDEX_ID = "85a76897-0d62-4677-a00b-06f5ed2acb0c"

#: The task types Search creates; the simulator refuses others to catch typos in demos.
TASK_TYPES = ("ingest", "delete-by-subject", "delete-by-query", "delete-by-entry-id")

# The service answers at most this many tasks from task_list.
_TASK_LIST_LIMIT = 1000

_DESCRIPTIONS = {
    "CREATING": "Task is being created",
    "PENDING": "Task is waiting to start",
    "PROGRESS": "Task is running",
    "SUCCESS": "Task succeeded",
    "FAILED": "Task failed",
}

# States after which a task never changes; they are the ones with a completion_date.
_ENDED = frozenset({"SUCCESS", "FAILED", "CANCELLED"})

_BAD_GATEWAY_PAGE = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


@dataclass(frozen=True)
class Phase:
    """From ``at`` seconds after submit (at speed 1.0) the task shows this state."""

    at: float
    state: str
    description: str = ""
    message: str | None = None
    additional_details: Mapping[str, Any] | None = None

    @property
    def ended(self) -> bool:
        return self.state in _ENDED


@dataclass(frozen=True)
class Fault:
    """From ``start`` to ``end`` seconds after submit, GETs for the task fail this way."""

    start: float
    end: float
    kind: Literal["unavailable", "bad-gateway"]


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
        for phase in self.phases:
            if phase.at <= elapsed:
                current = phase
        return current

    def fault_at(self, elapsed: float) -> Fault | None:
        for fault in self.faults:
            if fault.start <= elapsed < fault.end:
                return fault
        return None


def _phase(at: float, state: str, description: str | None = None, **extra: Any) -> Phase:
    return Phase(at, state, description or _DESCRIPTIONS[state], **extra)


def _lifecycle(*, queued_until: float = 2.0, done_at: float = 5.0) -> tuple[Phase, ...]:
    return (
        _phase(0.0, "CREATING"),
        _phase(0.5, "PENDING"),
        _phase(queued_until, "PROGRESS"),
        _phase(done_at, "SUCCESS"),
    )


_FAILURE_DETAILS = MappingProxyType(
    {
        "failed_document_count": 1,
        "total_document_count": 3,
        "errors": [
            {
                "subject": None,
                "error_type": "ValidationError",
                "message": "'subject' is a required property",
            }
        ],
    }
)

_SCENARIO_LIST = (
    Scenario(
        "success",
        "The task goes CREATING, PENDING, PROGRESS and ends in SUCCESS after 5 s.",
        _lifecycle(),
    ),
    Scenario(
        "failure",
        "The task runs, then ends FAILED at 4 s with a message and error details.",
        (
            *_lifecycle()[:3],
            _phase(
                4.0,
                "FAILED",
                message="1 of 3 ingest documents failed: 'subject' is required",
                additional_details=_FAILURE_DETAILS,
            ),
        ),
    ),
    Scenario(
        "slow-queue",
        "The task waits PENDING for 30 s, then runs and succeeds.",
        _lifecycle(queued_until=30.0, done_at=33.0),
    ),
    Scenario(
        "outage",
        "The service answers 503 (Retry-After: 2) from 1.5 s to 5 s; the task succeeds at 6 s.",
        _lifecycle(done_at=6.0),
        (Fault(1.5, 5.0, "unavailable"),),
    ),
    Scenario(
        "proxy-error",
        "A proxy answers 502 with an HTML page from 1 s to 3 s; the task succeeds at 5 s.",
        _lifecycle(),
        (Fault(1.0, 3.0, "bad-gateway"),),
    ),
    Scenario(
        "cancelled",
        "The task waits PENDING, then at 3 s turns CANCELLED, a state outside the docs.",
        (
            _phase(0.0, "CREATING"),
            _phase(0.5, "PENDING"),
            _phase(3.0, "CANCELLED", "Task cancelled because its index was deleted"),
        ),
    ),
)

#: Every scenario by name; the module docstring describes what each one shows.
SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in _SCENARIO_LIST})


def format_search_date(timestamp: float) -> str:
    """Format a POSIX timestamp the way Search does: UTC, microseconds, no zone suffix."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _canonical_uuid(value: str) -> str | None:
    """The lower-case hyphenated form of a UUID string, or None if it isn't one."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {known}") from None


@dataclass
class _Task:
    task_id: str
    index_id: str
    task_type: str
    scenario: Scenario
    created: float  # clock() at submit
    seq: int = field(default=0)  # submit order, to break creation-time ties in task_list


class Simulator:
    """An in-memory Search task service whose tasks follow :data:`SCENARIOS`.

    ``clock`` returns POSIX seconds (inject a fake one to step through a timeline without
    sleeping); ``speed`` divides every scenario time; ``latency`` delays each HTTP answer.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        speed: float = 1.0,
        latency: float = 0.0,
        required_token: str | None = None,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        if not (math.isfinite(latency) and latency >= 0):
            raise ValueError(f"latency must be zero or more seconds, not {latency!r}")
        if required_token is not None and not required_token:
            raise ValueError("required_token must be a non-empty string or None")
        self._clock = clock
        self._speed = speed
        self._latency = latency
        self._required_token = required_token
        self._tasks: dict[str, _Task] = {}
        self._lock = threading.Lock()  # guards _tasks
        self._server: LoopbackServer | None = None
        self._server_lock = threading.Lock()

    # -- the Python API ---------------------------------------------------------------------

    def submit(
        self,
        scenario: str = "success",
        *,
        index_id: str | None = None,
        task_type: str = "ingest",
    ) -> dict[str, Any]:
        """Create a task following ``scenario``; answer like Search's ingest call."""
        chosen = _scenario(scenario)
        index = _canonical_uuid(index_id) if index_id is not None else TUTORIAL_INDEX_ID
        if index is None:
            raise ValueError(f"index_id must be a UUID, not {index_id!r}")
        if task_type not in TASK_TYPES:
            raise ValueError(f"task_type must be one of {', '.join(TASK_TYPES)}")
        task_id = str(uuid.uuid4())
        with self._lock:
            self._tasks[task_id] = _Task(
                task_id, index, task_type, chosen, self._clock(), seq=len(self._tasks)
            )
        logger.debug("simulator: new %s task %s (%s)", task_type, task_id, chosen.name)
        return {"acknowledged": True, "task_id": task_id, "success": True}

    def task_document(self, task_id: str) -> dict[str, Any]:
        """The task's Task document right now; KeyError if there is no such task."""
        key = _canonical_uuid(task_id)
        with self._lock:
            task = self._tasks.get(key) if key is not None else None
        if task is None:
            raise KeyError(task_id)
        return self._document(task)

    def task_list(self, index_id: str) -> dict[str, Any]:
        """The body of ``GET /v1/task_list/<index_id>``: newest first, at most 1000."""
        index = _canonical_uuid(index_id)
        if index is None:
            raise ValueError(f"index_id must be a UUID, not {index_id!r}")
        return self._list_body(index, self._tasks_of(index))

    def _list_body(self, index_id: str, tasks: list[_Task]) -> dict[str, Any]:
        newest = tasks[:_TASK_LIST_LIMIT]
        return {"index_id": index_id, "tasks": [self._document(task) for task in newest]}

    # -- timelines --------------------------------------------------------------------------

    def _elapsed(self, task: _Task) -> float:
        """Scenario-seconds since submit; a clock that steps back counts as no time."""
        return max(0.0, (self._clock() - task.created) * self._speed)

    def _document(self, task: _Task) -> dict[str, Any]:
        phase = task.scenario.phase_at(self._elapsed(task))
        completion = None
        if phase.ended:
            # Report the moment the phase began, not "now", so the date stays put.
            completion = format_search_date(task.created + phase.at / self._speed)
        details = phase.additional_details
        return {
            "task_id": task.task_id,
            "state": phase.state,
            "task_type": task.task_type,
            "state_description": phase.description,
            "index_id": task.index_id,
            "message": phase.message,
            # A deep copy, so a caller editing its document can't change the scenario.
            "additional_details": copy.deepcopy(dict(details)) if details else None,
            "creation_date": format_search_date(task.created),
            "completion_date": completion,
        }

    def _tasks_of(self, index_id: str) -> list[_Task]:
        with self._lock:
            tasks = [task for task in self._tasks.values() if task.index_id == index_id]
        tasks.sort(key=lambda task: (task.created, task.seq), reverse=True)
        return tasks

    def _fault_response(self, tasks: list[_Task]) -> Response | None:
        for task in tasks:
            fault = task.scenario.fault_at(self._elapsed(task))
            if fault is None:
                continue
            if fault.kind == "bad-gateway":
                return Response.html(502, _BAD_GATEWAY_PAGE)
            # Keep the advice proportional when the timeline runs faster than real time.
            retry_after = max(1, math.ceil(2 / self._speed))
            return Response.gerror(
                503,
                "ServiceUnavailable",
                "The service is temporarily unavailable; please try again later",
                headers={"Retry-After": str(retry_after)},
            )
        return None

    # -- HTTP -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one HTTP request the way the Search API would."""
        response = self._route(request)
        response.delay = max(response.delay, self._latency)
        # Only method, path and status: headers may carry a token.
        logger.debug("simulator: %s %s -> %d", request.method, request.path, response.status)
        return response

    def _route(self, request: Request) -> Response:
        refusal = self._check_token(request)
        if refusal is not None:
            return refusal
        parts = request.path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["v1", "task"]:
            return self._only("GET", request) or self._get_task(parts[2])
        if len(parts) == 3 and parts[:2] == ["v1", "task_list"]:
            return self._only("GET", request) or self._get_task_list(parts[2])
        if len(parts) == 4 and parts[:2] == ["v1", "index"] and parts[3] == "ingest":
            return self._only("POST", request) or self._ingest(parts[2], request)
        return Response.gerror(404, "NotFound.Generic", f"No such resource: {request.path}")

    def _check_token(self, request: Request) -> Response | None:
        if self._required_token is None:
            return None
        header = request.headers.get("authorization")
        if header is None:
            return Response.gerror(
                401, "AuthenticationFailed.MissingToken", "No Authorization header was provided"
            )
        expected = f"Bearer {self._required_token}"
        # Constant-time compare: the simulator should not teach timing leaks by example.
        if not hmac.compare_digest(header.encode(), expected.encode()):
            return Response.gerror(
                401, "AuthenticationFailed.Expired", "The access token is expired or invalid"
            )
        return None

    @staticmethod
    def _only(method: str, request: Request) -> Response | None:
        if request.method == method:
            return None
        return Response.gerror(
            405,
            "MethodNotAllowed",
            f"{request.method} is not allowed here",
            headers={"Allow": method},
        )

    def _get_task(self, raw_id: str) -> Response:
        task_id = _canonical_uuid(raw_id)
        if task_id is None:
            return _invalid_uuid("task_id", raw_id)
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None:
            return Response.gerror(404, "NotFound.Generic", f"No task with id {task_id}")
        return self._fault_response([task]) or Response.json(self._document(task))

    def _get_task_list(self, raw_id: str) -> Response:
        index_id = _canonical_uuid(raw_id)
        if index_id is None:
            return _invalid_uuid("index_id", raw_id)
        tasks = self._tasks_of(index_id)
        # An outage is service-wide, so a list covering a faulted task fails the same way.
        fault = self._fault_response(tasks)
        return fault or Response.json(self._list_body(index_id, tasks))

    def _ingest(self, raw_id: str, request: Request) -> Response:
        index_id = _canonical_uuid(raw_id)
        if index_id is None:
            return _invalid_uuid("index_id", raw_id)
        try:
            json.loads(request.body)
        except ValueError:
            return Response.gerror(
                400, "BadRequest.ValidationError", "The request body is not valid JSON"
            )
        name = request.headers.get("x-simulator-scenario", "success")
        try:
            reply = self.submit(name, index_id=index_id)
        except ValueError as exc:
            return Response.gerror(400, "BadRequest.ValidationError", str(exc))
        return Response.json(reply)

    # -- serving ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` of the running server (RuntimeError if stopped)."""
        server = self._server
        if server is None:
            raise RuntimeError("the simulator is not serving; call start() first")
        return server.base_url

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Simulator:
        """Serve :meth:`handle` on a loopback port; does nothing if already serving."""
        with self._server_lock:
            if self._server is None:
                self._server = LoopbackServer(self.handle).start()
        return self

    def stop(self) -> None:
        """Stop serving (tasks are kept); safe to call twice."""
        with self._server_lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _invalid_uuid(name: str, value: str) -> Response:
    return Response.gerror(
        400,
        "BadRequest.ValidationError",
        f"{name} must be a UUID",
        error_data={"field": name, "value": value[:100]},
    )


_shared: dict[float, Simulator] = {}
_shared_lock = threading.Lock()


def shared_simulator(speed: float = 1.0) -> Simulator:
    """The process-wide simulator for ``speed``, started on first use (and again if stopped)."""
    with _shared_lock:
        if speed not in _shared:
            _shared[speed] = Simulator(speed=speed)
        # start() is a no-op when already serving, so repeat calls are cheap.
        return _shared[speed].start()
