"""The simulated service: :class:`Simulator`, its scenarios by name, and the process-wide
:func:`shared_simulator`. The package's docstring (``search_task_widget.simulator``) is its
user guide; this module may import the other simulator modules and the model only."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from search_task_widget._model.limits import DEFAULT_LIMITS, Limits
from search_task_widget._model.vocabulary import CANCELLED, CREATING, FAILED, PENDING
from search_task_widget.simulator import scenarios as engine
from search_task_widget.simulator.documents import (
    FieldTypes,
    Invalid,
    delete_query,
    delete_subjects,
    ingest_entries,
    scenario_in,
    shown,
)
from search_task_widget.simulator.loopback import LoopbackServer, Request, Response, Serving
from search_task_widget.simulator.scenarios import (
    Failure,
    Fault,
    Scenario,
    TaskBook,
    http_error,
    lifecycle,
    phase,
    route_of,
    serve,
)

logger = logging.getLogger("search_task_widget")

#: The index tasks go to when no ``index_id`` is given (a fixed id, so tutorials can print it).
TUTORIAL_INDEX_ID = "85a76897-0d62-4677-a00b-06f5ed2acb0c"

#: The task types Search creates; the simulator refuses others to catch typos in demos.
TASK_TYPES = engine.TASK_TYPES

_SCENARIO_LIST = (
    Scenario(
        "success",
        "The task goes CREATING, PENDING, PROGRESS and ends in SUCCESS after 5 s.",
        lifecycle(),
    ),
    Scenario(
        "failure",
        "The task runs, then ends FAILED at 4 s with a message and error details.",
        # The message and details are derived from what each task was sent.
        lifecycle(done_at=4.0, end=FAILED),
    ),
    Scenario(
        "slow-queue",
        "The task waits PENDING for 30 s, then runs and succeeds.",
        lifecycle(queued_until=30.0, done_at=33.0),
    ),
    Scenario(
        "outage",
        "The service answers 503 (Retry-After: 2) from 1.5 s to 5 s; the task succeeds at 6 s.",
        lifecycle(done_at=6.0),
        (Fault(1.5, 5.0, "unavailable", retry_after=2.0),),
    ),
    Scenario(
        "proxy-error",
        "A proxy answers 502 with an HTML page from 1 s to 3 s; the task succeeds at 5 s.",
        lifecycle(),
        (Fault(1.0, 3.0, "bad-gateway"),),
    ),
    Scenario(
        "cancelled",
        "The task waits PENDING, then at 3 s turns CANCELLED, a state outside the docs.",
        (
            phase(0.0, CREATING),
            phase(0.5, PENDING),
            phase(3.0, CANCELLED),
        ),
    ),
)

#: Every scenario by name; the module docstring describes what each one shows.
SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in _SCENARIO_LIST})


def _canonical_uuid(value: str) -> str | None:
    """The lower-case hyphenated form of a UUID string, or None if it isn't one."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _scenario(scenario: str | Scenario) -> Scenario:
    """``scenario`` itself, or the one of :data:`SCENARIOS` it names."""
    if isinstance(scenario, Scenario):
        return scenario
    try:
        return SCENARIOS[scenario]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {scenario!r}; known scenarios: {known}") from None


# A task's errors list is cut here, like a service that doesn't echo a whole batch back.
_ERRORS_SHOWN = 10
# What submit() pretends was sent when given no entries: the demo's three records, the
# last of which has text where the index holds numbers.
_SAMPLE_SUBJECTS = tuple(f"https://example.org/tutorial/sample-{n}" for n in (1, 2, 3))
_SAMPLE_REASON = "field 'temperature_c' holds integer values in this index; 'warm' is a string"


def _ingest_failure(total: int, errors: list[tuple[str, str, str]]) -> Failure:
    """``errors``: (subject, error_type, reason) of each failed entry, in batch order."""
    first_subject, _kind, first_reason = errors[0]
    return Failure(
        f"{len(errors)} of {total} ingest documents failed: {first_subject}: {first_reason}",
        {
            "failed_document_count": len(errors),
            "total_document_count": total,
            "errors": [
                {"subject": subject, "error_type": kind, "message": reason}
                for subject, kind, reason in errors[:_ERRORS_SHOWN]
            ],
        },
    )


def _simulated(name: str) -> str:
    return f"simulated error (scenario {name!r})"


class Simulator(Serving):
    """An in-memory Search task service whose tasks follow :data:`SCENARIOS`.

    ``clock`` returns POSIX seconds (inject a fake one to step through a timeline without
    sleeping); ``speed`` divides every scenario time; ``latency`` delays each HTTP answer;
    ``scenario`` (a :class:`Scenario`, or the name of one of :data:`SCENARIOS`) is what new
    tasks follow unless their index (:meth:`set_scenario`) or their request names another;
    ``required_token`` makes every request need that bearer token; ``limits`` are Search's
    limits, which its ingest route enforces (a request too large is answered 413, an entry
    breaking one 400, a field too many fails its entry in the task); ``rate_limit``
    (requests per second per client, None: no limit) makes it answer 429 with
    ``Retry-After`` past that rate, as a loaded service would. Serve it with :meth:`start`
    (or a ``with`` block); reading :attr:`base_url` starts it too.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        speed: float = 1.0,
        latency: float = 0.0,
        required_token: str | None = None,
        scenario: str | Scenario = "success",
        limits: Limits = DEFAULT_LIMITS,
        rate_limit: float | None = None,
    ) -> None:
        self._scenario = _scenario(scenario)  # refuse an unknown name at once
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        if not (math.isfinite(latency) and latency >= 0):
            raise ValueError(f"latency must be zero or more seconds, not {latency!r}")
        if required_token is not None and not required_token:
            raise ValueError("required_token must be a non-empty string or None")
        if rate_limit is not None and not (math.isfinite(rate_limit) and rate_limit > 0):
            raise ValueError(f"rate_limit must be a positive number or None, not {rate_limit!r}")
        self._latency = latency
        self._required_token = required_token
        self._limits = limits
        self._rate = _RateLimit(rate_limit, clock) if rate_limit is not None else None
        self._book = TaskBook(clock, speed)
        self._index_scenarios: dict[str, Scenario] = {}
        self._field_types: dict[str, FieldTypes] = {}  # per index, like Search's schemas
        # Per index, the ids stored under each subject that was sent entries with an id.
        self._subject_ids: dict[str, dict[str, set[str]]] = {}
        # guards _index_scenarios, _field_types and _subject_ids
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None
        self._stopped = False  # stop() was called: base_url no longer starts serving
        self._server_lock = threading.Lock()

    # -- the Python API ---------------------------------------------------------------------

    def set_scenario(self, index_id: str, scenario: str | Scenario | None) -> None:
        """Make every new task of ``index_id`` follow ``scenario`` (a :class:`Scenario` or
        a name; None: the simulator's).

        A scenario named in a request (a ``simulate:<scenario>:`` subject or query, or the
        ``X-Simulator-Scenario`` header) still wins for that request.
        """
        index = _canonical_uuid(index_id)
        if index is None:
            raise ValueError(f"index_id must be a UUID, not {index_id!r}")
        with self._lock:
            if scenario is None:
                self._index_scenarios.pop(index, None)
            else:
                self._index_scenarios[index] = _scenario(scenario)

    def scenario_for(self, index_id: str) -> str:
        """The name of the scenario new tasks of ``index_id`` follow unless a request names
        one."""
        return self._scenario_of(index_id).name

    def _scenario_of(self, index_id: str) -> Scenario:
        index = _canonical_uuid(index_id) or index_id
        with self._lock:
            return self._index_scenarios.get(index, self._scenario)

    def submit(
        self,
        scenario: str | Scenario | None = None,
        *,
        index_id: str | None = None,
        task_type: str = "ingest",
    ) -> dict[str, Any]:
        """Create a task following ``scenario`` (a :class:`Scenario` or a name; default: the
        index's, see :meth:`set_scenario`, else the simulator's); answer like Search's
        ingest call.

        No documents are sent this way, so a failing ingest reports the demo's three
        sample records, the last of which failed on a field type.
        """
        index = _canonical_uuid(index_id) if index_id is not None else TUTORIAL_INDEX_ID
        if index is None:
            raise ValueError(f"index_id must be a UUID, not {index_id!r}")
        chosen = _scenario(scenario) if scenario else self._scenario_of(index)
        if task_type not in TASK_TYPES:
            raise ValueError(f"task_type must be one of {', '.join(TASK_TYPES)}")
        failure = None
        if chosen.ends_failed:
            failure = (
                _ingest_failure(3, [(_SAMPLE_SUBJECTS[-1], "FieldTypeConflict", _SAMPLE_REASON)])
                if task_type == "ingest"
                else Failure(f"Task failed: {_simulated(chosen.name)}", {})
            )
        task_id = self._add(index, task_type, chosen, failure)
        return {"acknowledged": True, "task_id": task_id, "success": True}

    def _add(
        self, index_id: str, task_type: str, scenario: Scenario, failure: Failure | None
    ) -> str:
        task_id = self._book.add(index_id, scenario, task_type=task_type, failure=failure).task_id
        logger.debug("simulator: new %s task %s (%s)", task_type, task_id, scenario.name)
        return task_id

    def task_document(self, task_id: str) -> dict[str, Any]:
        """The task's Task document right now; KeyError if there is no such task."""
        key = _canonical_uuid(task_id)
        task = self._book.get(key) if key is not None else None
        if task is None:
            raise KeyError(task_id)
        return self._book.document(task)

    def task_list(self, index_id: str) -> dict[str, Any]:
        """The body of ``GET /v1/task_list/<index_id>``: newest first, at most 1000."""
        index = _canonical_uuid(index_id)
        if index is None:
            raise ValueError(f"index_id must be a UUID, not {index_id!r}")
        return self._book.task_list(index)

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
        if self._rate is not None and not self._rate.allows(request.headers.get("authorization")):
            return http_error(429, "TooManyRequests", "Too many requests: slow down", retry_after=1)
        route = route_of(request.path)
        if route is not None and route.kind == "task":
            return self._only("GET", request) or self._get_task(route.key)
        if route is not None and route.kind == "task_list":
            return self._only("GET", request) or self._get_task_list(route.key)
        if route is not None and route.action in _TASK_ROUTES:
            method, handler = _TASK_ROUTES[route.action]
            return self._only(method, request) or self._create(route.key, request, handler)
        return http_error(404, "NotFound.Generic", f"No such resource: {request.path}")

    def _check_token(self, request: Request) -> Response | None:
        if self._required_token is None:
            return None
        header = request.headers.get("authorization")
        if header is None:
            return http_error(
                401, "AuthenticationFailed.MissingToken", "No Authorization header was provided"
            )
        expected = f"Bearer {self._required_token}"
        # Constant-time compare: the simulator should not teach timing leaks by example.
        if not hmac.compare_digest(header.encode(), expected.encode()):
            return http_error(
                401, "AuthenticationFailed.Expired", "The access token is expired or invalid"
            )
        return None

    @staticmethod
    def _only(method: str, request: Request) -> Response | None:
        if request.method == method:
            return None
        return http_error(
            405,
            "MethodNotAllowed",
            f"{request.method} is not allowed here",
            headers={"Allow": method},
        )

    def _get_task(self, raw_id: str) -> Response:
        task_id = _canonical_uuid(raw_id)
        if task_id is None:
            return _invalid_uuid("task_id", raw_id)
        return self._book.answer_task(task_id)

    def _get_task_list(self, raw_id: str) -> Response:
        index_id = _canonical_uuid(raw_id)
        if index_id is None:
            return _invalid_uuid("index_id", raw_id)
        # An outage is service-wide, so a list covering a faulted task fails the same way.
        return self._book.answer_list(index_id)

    def _create(self, raw_id: str, request: Request, handler: _TaskHandler) -> Response:
        """The calls that create a task: check the index id and the body, then ``handler``."""
        index_id = _canonical_uuid(raw_id)
        if index_id is None:
            return _invalid_uuid("index_id", raw_id)
        body: object = None
        if request.method == "POST" and len(request.body) > self._limits.request_bytes:
            return http_error(
                413, "RequestTooLarge",
                f"The request is larger than {self._limits.request_bytes} bytes",
            )  # fmt: skip
        if request.method == "POST":
            try:
                body = json.loads(request.body)
            except ValueError:
                return http_error(
                    400, "BadRequest.Generic",
                    f"{request.path} requires a JSON payload",
                    error_data={"cause": "the request body is not valid JSON"},
                )  # fmt: skip
        try:
            return Response.json(handler(self, index_id, request, body))
        except Invalid as invalid:
            return http_error(
                400, "BadRequest.ValidationError", str(invalid),
                error_data={"location": invalid.location, "problems": invalid.problems[:20]},
            )  # fmt: skip

    def _chosen(self, index_id: str, request: Request, named: list[tuple[str, str]]) -> Scenario:
        """The scenario of one request: the header, else a ``simulate:<name>:`` subject or
        query (``named``: (location, text) pairs), else the index's, else the simulator's."""
        header = request.headers.get("x-simulator-scenario")
        if header is not None:
            try:
                return _scenario(header)
            except ValueError as exc:
                raise Invalid([("X-Simulator-Scenario", str(exc))]) from None
        for location, text in named:
            name = scenario_in(text)
            if name is not None:
                try:
                    return _scenario(name)
                except ValueError as exc:
                    raise Invalid([(location, str(exc))]) from None
        return self._scenario_of(index_id)

    def _ingest(self, index_id: str, request: Request, body: object) -> dict[str, Any]:
        entries = ingest_entries(body, self._limits)
        listed = isinstance(body, dict) and body.get("ingest_type") == "GMetaList"
        where = "ingest_data.gmeta[{}].subject" if listed else "ingest_data.subject"
        subjects = [str(entry["subject"]) for entry in entries]
        chosen = self._chosen(
            index_id, request, [(where.format(n), s) for n, s in enumerate(subjects)]
        )
        failure = self._ingest_outcome(index_id, chosen, entries)
        task_id = self._add(index_id, "ingest", chosen, failure)
        return {
            "acknowledged": True, "task_id": task_id, "success": True,
            "num_documents_ingested": len(entries),
        }  # fmt: skip

    def _ingest_outcome(
        self, index_id: str, chosen: Scenario, entries: list[dict[str, Any]]
    ) -> Failure | None:
        """Which entries fail, and why: those the scenario fails on purpose (the ones that
        named it, else the last), and those whose values the index's types can't store."""
        if not chosen.ends_processed:
            return None  # e.g. cancelled: the entries are never indexed
        if not entries:  # an empty GMetaList: nothing to count, nothing to store
            failed = chosen.ends_failed
            return Failure(f"Task failed: {_simulated(chosen.name)}", {}) if failed else None
        named = [n for n, e in enumerate(entries) if scenario_in(e["subject"]) == chosen.name]
        on_purpose = set(named or [len(entries) - 1]) if chosen.ends_failed else set()
        errors: list[tuple[str, str, str]] = []
        with self._lock:
            types = self._field_types.setdefault(index_id, FieldTypes())
            for number, entry in enumerate(entries):
                if number in on_purpose:
                    errors.append((entry["subject"], "SimulatedError", _simulated(chosen.name)))
                    continue
                conflict = types.conflict(entry["content"], self._limits.fields_per_index)
                if conflict is not None:
                    errors.append((entry["subject"], "FieldTypeConflict", conflict))
                elif (too_many := self._too_many_ids(index_id, entry)) is not None:
                    errors.append((entry["subject"], "TooManyEntries", too_many))
        return _ingest_failure(len(entries), errors) if errors else None

    def _too_many_ids(self, index_id: str, entry: dict[str, Any]) -> str | None:
        """Why ``entry`` would be one entry too many under its subject, or None (then it is
        counted). Called under the lock."""
        entry_id = entry.get("id")
        if not isinstance(entry_id, str):
            return None
        ids = self._subject_ids.setdefault(index_id, {}).setdefault(entry["subject"], set())
        if entry_id not in ids and len(ids) >= self._limits.ids_per_subject:
            return (
                f"the subject already holds {len(ids)} entries; "
                f"a subject holds at most {self._limits.ids_per_subject}"
            )
        ids.add(entry_id)
        return None

    def _delete_by_subjects(self, index_id: str, request: Request, body: object) -> dict[str, Any]:
        if request.method == "DELETE":  # DELETE .../subject?subject=...
            subjects = [_query_param(request, "subject")]
        else:
            subjects = delete_subjects(body)
        chosen = self._chosen(
            index_id, request, [(f"subjects[{n}]", s) for n, s in enumerate(subjects)]
        )
        failure = None
        if chosen.ends_failed:
            named = [s for s in subjects if scenario_in(s) == chosen.name] or subjects[-1:]
            failure = Failure(
                f"{len(named)} of {len(subjects)} subjects could not be deleted: "
                f"{named[0]}: {_simulated(chosen.name)}",
                {"failed_subjects": named[:_ERRORS_SHOWN], "total_subject_count": len(subjects)},
            )
        return {"task_id": self._add(index_id, "delete-by-subject", chosen, failure)}

    def _delete_by_query(self, index_id: str, request: Request, body: object) -> dict[str, Any]:
        query = delete_query(body)
        chosen = self._chosen(index_id, request, [("q", query)])
        failure = None
        if chosen.ends_failed:
            failure = Failure(
                f"The delete by query {shown(query)} failed: {_simulated(chosen.name)}",
                {"q": query},
            )
        return {"task_id": self._add(index_id, "delete-by-query", chosen, failure)}

    def _delete_entry(self, index_id: str, request: Request, body: object) -> dict[str, Any]:
        subject = _query_param(request, "subject")
        chosen = self._chosen(index_id, request, [("subject", subject)])
        failure = None
        if chosen.ends_failed:
            failure = Failure(
                f"The entry of {subject} could not be deleted: {_simulated(chosen.name)}",
                {"subject": subject, "entry_id": request.query.get("entry_id")},
            )
        return {"task_id": self._add(index_id, "delete-by-entry-id", chosen, failure)}

    # -- serving ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` of the server, which starts serving on first use.

        Raises:
            RuntimeError: after :meth:`stop` (call :meth:`start` to serve again).
        """
        server = self._server
        if server is None:
            if self._stopped:
                raise RuntimeError("the simulator was stopped; call start() to serve again")
            server = self.start()._server
            assert server is not None  # start() just set it
        return server.base_url

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Simulator:
        """Serve :meth:`handle` on a loopback port; does nothing if already serving."""
        with self._server_lock:
            if self._server is None:
                self._server = serve(self.handle).start()
            self._stopped = False
        return self

    def stop(self) -> None:
        """Stop serving (tasks are kept); safe to call twice."""
        with self._server_lock:
            server, self._server = self._server, None
            self._stopped = True
        if server is not None:
            server.stop()


class _RateLimit:
    """At most ``rate`` requests in any second per client (its Authorization header)."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._clock = clock
        self._seen: dict[str | None, deque[float]] = {}
        self._lock = threading.Lock()

    def allows(self, authorization: str | None) -> bool:
        # Clients are told apart by a digest: the simulator keeps no token.
        client = hashlib.sha256(authorization.encode()).hexdigest() if authorization else None
        now = self._clock()
        with self._lock:
            recent = self._seen.setdefault(client, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= self._rate:
                return False
            recent.append(now)
            return True


def _invalid_uuid(name: str, value: str) -> Response:
    return http_error(
        400,
        "BadRequest.ValidationError",
        f"{name} must be a UUID",
        error_data={"field": name, "value": value[:100]},
    )


def _query_param(request: Request, name: str) -> str:
    value = request.query.get(name, "")
    if not value:
        raise Invalid([(name, "is a required query parameter")])
    return value


_TaskHandler = Callable[[Simulator, str, Request, object], dict[str, Any]]

# What plays each task type; the calls that create them (and their methods) are TASK_CALLS.
_HANDLERS: dict[str, _TaskHandler] = {
    "ingest": Simulator._ingest,
    "delete-by-query": Simulator._delete_by_query,
    "delete-by-subject": Simulator._delete_by_subjects,
    "delete-by-entry-id": Simulator._delete_entry,
}
_TASK_ROUTES = {
    action: (method, _HANDLERS[task_type])
    for action, (method, task_type) in engine.TASK_CALLS.items()
}


_shared: dict[float, Simulator] = {}
_shared_lock = threading.Lock()


def shared_simulator(speed: float = 1.0) -> Simulator:
    """The process-wide simulator for ``speed``, started on first use (and again if stopped)."""
    with _shared_lock:
        if speed not in _shared:
            _shared[speed] = Simulator(speed=speed)
        # start() is a no-op when already serving, so repeat calls are cheap.
        return _shared[speed].start()
