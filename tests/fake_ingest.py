"""A loopback fake of Search's ingest, for the ingest job's tests.

It keeps an index (upsert by subject and id), makes a task per accepted request (SUCCESS
at once, or FAILED when the request holds an entry whose subject is in ``failing``), serves
``GET /v1/task`` and ``GET /v1/task_list`` from the scenario engine's documents, and
records every request. ``script`` queues answers for the next ingest requests, in turn:
``"ok"`` (the usual), an HTTP error (429 with Retry-After, 503...), ``"stored-then-dropped"`` (the entries are
stored and the task made, then the connection is reset: the client cannot know) or a
:class:`threading.Event` to wait on before answering (to kill a client mid-request).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter, deque
from typing import Any

from search_task_widget.simulator import scenarios as engine
from search_task_widget.simulator.loopback import Request, Response
from search_task_widget.simulator.scenarios import http_error

INDEX_ID = "0f5a3c2e-5d7e-4b8e-9a55-2d5b7c6a1e01"

Scripted = Response | str | threading.Event


class FakeIngest:
    """See the module docstring. ``name_subjects``: FAILED tasks name their failing
    subjects in ``additional_details`` (else they say only how many failed); ``queued``:
    tasks stay PENDING."""

    def __init__(self, *, name_subjects: bool = True) -> None:
        self.name_subjects = name_subjects
        self.queued = False  # True: new tasks stay PENDING (a service that is behind)
        self.failing: dict[str, str] = {}  # subject -> reason its task fails with
        self.index: dict[tuple[str, str | None], dict[str, Any]] = {}
        self.sent = Counter[str]()  # subject -> times it arrived in an ingest body
        self.posts: list[list[str]] = []  # the subjects of each ingest request, in order
        self.task_subjects: dict[str, list[str]] = {}  # task id -> the subjects it was sent
        self.gets = 0
        self.arrived = threading.Event()  # set when a gated request arrives
        self._script: deque[Scripted] = deque()
        self._tasks: dict[str, dict[str, Any]] = {}
        self._created: dict[str, float] = {}  # task id -> when it was made (POSIX)
        self._lock = threading.Lock()
        self._server = engine.serve(self._handle)

    def script(self, *answers: Scripted) -> None:
        with self._lock:
            self._script.extend(answers)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def __enter__(self) -> FakeIngest:
        self._server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop()

    def finish_queued(self) -> None:
        """The service caught up: every PENDING task ends (SUCCESS), new ones end at once."""
        with self._lock:
            self.queued = False
            now = time.time()
            for task_id, document in self._tasks.items():
                if document["state"] == "PENDING":
                    self._tasks[task_id] = engine.task_document(
                        task_id,
                        "SUCCESS",
                        index_id=document["index_id"],
                        created=self._created[task_id],
                        completed=now,
                    )

    # -- answers ------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        route = engine.route_of(request.path)
        if request.method == "POST" and route is not None and route.action == "ingest":
            return self._ingest(route.key, request.body)
        with self._lock:
            self.gets += 1
        if route is not None and route.kind == "task":
            document = self._tasks.get(route.key)
            if document is None:
                return http_error(404, message=f"No task {route.key}")
            return Response.json(document)
        if route is not None and route.kind == "task_list":
            tasks = [t for t in self._tasks.values() if t["index_id"] == route.key]
            return Response.json(engine.list_body(route.key, reversed(tasks)))
        return http_error(404, message=f"No such resource: {request.path}")

    def _ingest(self, index_id: str, body: bytes) -> Response:
        entries = json.loads(body)["ingest_data"]["gmeta"]
        subjects = [entry["subject"] for entry in entries]
        with self._lock:
            self.posts.append(subjects)
            self.sent.update(subjects)
            special = self._script.popleft() if self._script else None
        if isinstance(special, threading.Event):
            self.arrived.set()
            special.wait(30)
            return http_error(503, retry_after=1)
        if isinstance(special, Response):
            return special
        answer = Response.json({"acknowledged": True, "task_id": self._task(index_id, entries)})
        if special == "stored-then-dropped":
            return Response(drop_connection=True)
        return answer

    def _task(self, index_id: str, entries: list[dict[str, Any]]) -> str:
        failed = [e["subject"] for e in entries if e["subject"] in self.failing]
        with self._lock:
            for entry in entries:
                if entry["subject"] not in self.failing:
                    self.index[(entry["subject"], entry.get("id"))] = entry["content"]
            task_id = str(uuid.uuid4())
            self.task_subjects[task_id] = [entry["subject"] for entry in entries]
            now = self._created[task_id] = time.time()
            details = None
            if failed:
                details = {"failed_document_count": len(failed)}
                if self.name_subjects:
                    details["errors"] = [
                        {"subject": s, "error_type": "Rejected", "message": self.failing[s]}
                        for s in failed
                    ]
            state = "PENDING" if self.queued else "FAILED" if failed else "SUCCESS"
            self._tasks[task_id] = engine.task_document(
                task_id,
                state,
                index_id=index_id,
                created=now,
                completed=None if self.queued else now,
                message=f"{len(failed)} of {len(entries)} documents failed" if failed else None,
                additional_details=details,
            )
        return task_id
