"""A simulated Globus Search task service, for tutorials and demos with no account.

The simulator plays the part of ``https://search.api.globus.org/`` for the calls that
create and read tasks, over real HTTP on ``127.0.0.1`` (so the real client code, a
``globus_sdk.SearchClient`` included, runs unchanged):

* ``POST /v1/index/<index_id>/ingest`` checks the body the way Search does: a GIngest
  document, ``{"ingest_type": "GMetaEntry", "ingest_data": {entry}}`` or
  ``{"ingest_type": "GMetaList", "ingest_data": {"gmeta": [entries]}}``, each entry with a
  non-empty string ``subject``, a ``visible_to`` list (``"public"`` or principal URNs such
  as ``urn:globus:auth:identity:<uuid>``), a ``content`` object and an optional string
  ``id``. A body that is not JSON gets 400 ``BadRequest.Generic``; one that is not a valid
  GIngest document gets 400 ``BadRequest.ValidationError`` whose message says where and
  what (``ingest_data.gmeta[4].subject: is a required property``), with every problem in
  ``error_data``. A valid one answers ``{"acknowledged": true, "task_id": "...",
  "success": true, "num_documents_ingested": N}``.
* ``POST /v1/index/<index_id>/delete_by_query`` (``{"q": ...}``) and
  ``POST .../batch_delete_by_subject`` (``{"subjects": [...]}``), ``DELETE .../subject``
  and ``DELETE .../entry`` (``?subject=``) answer ``{"task_id": ...}`` and create tasks of
  type ``delete-by-query``, ``delete-by-subject`` and ``delete-by-entry-id``.
* ``GET /v1/task/<task_id>`` answers the task's current Task document (404 GError
  ``NotFound.Generic`` for an unknown id, 400 GError ``BadRequest.ValidationError`` for an
  id that is not a UUID).
* ``GET /v1/task_list/<index_id>`` answers ``{"index_id": ..., "tasks": [...]}`` with that
  index's tasks, newest first, at most 1000.

Like Search, each index detects the type of a content field from its first value, and an
ingest whose entry holds a value that type can't store (text in a field of integers) is
still accepted with 200; its task then ends FAILED, saying how many documents of the batch
failed, which subjects, and why.

Which scenario a new task follows (see below), first match wins:

1. an ``X-Simulator-Scenario: <name>`` request header (``SearchClient.post(...,
   headers=...)``; ``SearchClient.ingest`` cannot send one);
2. a subject (of an ingest entry or a batch delete) or a delete query starting
   ``simulate:<scenario>:``, e.g. ``"simulate:failure:https://example.org/a"``: the real API
   leaves subjects free, so ``SearchClient.ingest`` can pick a scenario per call. With
   ``failure``, the entries (or subjects) so marked are the ones that fail;
3. the index's scenario, set with ``sim.set_scenario(index_id, "failure")``;
4. the simulator's, ``Simulator(scenario="failure")`` (default ``"success"``).

With ``failure`` chosen by 2-4, the last entry of the batch fails. An unknown scenario
name is a 400 ``BadRequest.ValidationError`` listing the known ones.

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
    Like "success" until PROGRESS, then FAILED at 4 s. The message counts what was sent
    ("1 of 3 ingest documents failed: <subject>: ...") and ``additional_details`` lists
    ``failed_document_count``, ``total_document_count`` and the failed subjects with
    their ``error_type`` and ``message``. ``submit()`` sends no documents: its tasks report
    the demo's three sample records, the last failing on a field type. The student sees a
    red ending and the reason, as with a real bad ingest (whose HTTP answer was a happy
    200: failures only show up in the task).
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

from .documents import SCENARIO_PREFIX
from .scenarios import Fault, Phase, Scenario, format_search_date
from .service import (
    SCENARIOS,
    TASK_TYPES,
    TUTORIAL_INDEX_ID,
    Simulator,
    shared_simulator,
)

__all__ = [
    "SCENARIOS",
    "SCENARIO_PREFIX",
    "TASK_TYPES",
    "TUTORIAL_INDEX_ID",
    "Fault",
    "Phase",
    "Scenario",
    "Simulator",
    "format_search_date",
    "shared_simulator",
]
