"""The ingest job: read, validate, batch, submit, watch, map failures, resume.

An :class:`IngestJob` runs on one thread of its own (the "feeder"): it reads the catalogue,
checks each entry, makes batches, sends them one after the other (in order, within the
poller's request budget) and hands each batch's task to a
:class:`~.._tracking.group.TaskGroup`, whose watches the shared poller thread serves with
one ``task_list`` request per round for the whole index. When a task ends, the feeder
maps it back to entries: SUCCESS indexes them all; FAILED fails the entries its details
name and sends the others again, or bisects the batch (see :mod:`.failures`).

At most ``window_batches`` batches (and ``window_bytes`` of entries) are open at a time,
so memory stays bounded by a few batches whatever the catalogue's size. Every step is in
the journal before and after it happens (see :mod:`.journal`).
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .._model.errors import SearchTaskError, SignInRequiredError, expired_advice
from .._model.limits import DEFAULT_LIMITS, Limits
from .._model.task import Task, format_duration, normalize_task_id
from .._model.vocabulary import FAILED as TASK_FAILED
from .._model.vocabulary import SUCCESS
from .._service.auth import Credentials, resolve_auth
from .._service.client import host_of, is_loopback, resolve_base_url
from .._tracking.group import News, TaskGroup
from .._tracking.news import PerRound
from .._tracking.poller import Poller, default_poller
from .._tracking.schedule import Clock, SystemClock, polling_bounds, wait_slice
from .batches import SENDING, SENT, Batch, grouped, halves
from .entries import Catalogue, Read
from .failures import named_positions, named_subjects
from .journal import FAILED, INVALID, SUPERSEDED, Journal, JournalBusy
from .submit import Sender, Stopped
from .validate import Invalid, Item, Validator

log = logging.getLogger("search_task_widget")

#: Bytes of entries open (sent or queued, task not ended) at most, by default.
WINDOW_BYTES = 64 * 1000 * 1000
#: Batches open at most, by default.
WINDOW_BATCHES = 32
#: Seconds the feeder sleeps when nothing wakes it (news from the poller does).
IDLE_WAKE = 0.5
#: Seconds between the first checks of a batch's task, by default. Longer than a widget's
#: 1 s: polls and submissions share one budget (5 requests/s), and up to the window's
#: batches may be in flight without holding the sending up, so time spent polling is time
#: not spent sending. (One ``task_list`` request checks every batch at once.)
POLL_INTERVAL = 3.0
#: The most notes a job keeps (the newest).
MAX_NOTES = 100
#: A retry of failed entries is journaled as a batch with this parent (no batch 0 exists).
RETRY_PARENT = 0


class IngestError(SearchTaskError):
    """The job stopped before the end; the journal (if any) resumes it."""

    @property
    def summary(self) -> str:
        return "The ingest stopped"


class IngestJob:
    """Ingest ``entries`` into ``index_id`` (see :func:`ingest`, which makes one).

    Args:
        index_id: the index (a UUID).
        entries: the catalogue (see :mod:`.entries`).
        credentials: resolved credentials (see :func:`~.._service.auth.resolve_auth`).
        url: the Search service.
        journal: the journal's path, or None (in memory: no resume). The job holds it
            from here until it ends or is stopped (see :mod:`.journal`): another job on it
            is refused with :class:`IngestError` ``JournalInUse``.
        limits: Search's limits (default :data:`~.._model.limits.DEFAULT_LIMITS`).
        poller: the poller whose thread watches the tasks and whose budget submissions
            spend (default: the kernel-wide one).
        clock: times retries and throughput (tests pass a fake one).
        poll_interval: seconds between the first checks of a batch's task (default
            :data:`POLL_INTERVAL`).
        give_up_after: seconds of transient trouble before a submission gives up.
        window_bytes, window_batches: the most entries open at once (memory bound).
        start: start the feeder thread now (else :meth:`start`).
    """

    def __init__(
        self,
        index_id: str,
        entries: object,
        *,
        credentials: Credentials,
        url: str,
        journal: object = None,
        limits: Limits | None = None,
        poller: Poller | None = None,
        clock: Clock | None = None,
        poll_interval: float = POLL_INTERVAL,
        give_up_after: float = 300.0,
        window_bytes: int = WINDOW_BYTES,
        window_batches: int = WINDOW_BATCHES,
        start: bool = True,
    ) -> None:
        self.index_id = normalize_task_id(index_id, "index id")
        self.limits = limits or DEFAULT_LIMITS
        self._catalogue = Catalogue(entries)
        if credentials.needs_sign_in:
            raise SignInRequiredError(
                credentials.missing or "sign in first (stw.sign_in()), or pass auth="
            )
        self.url = url
        self._credentials = credentials
        self._clock = clock or SystemClock()
        self._window = (window_bytes, window_batches)
        low, high = polling_bounds(
            poll_interval, None, loopback=is_loopback(host_of(url)), host=host_of(url)
        )
        self.journal = Journal(_path(journal), self.index_id, self._catalogue.describe())
        self._poller = poller or default_poller()
        self.group = TaskGroup(
            url,
            credentials,
            view=self,
            poller=self._poller,
            intervals=(low, high),
            news=PerRound(),
        )
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._done = threading.Event()  # the feeder thread ended, however
        self._complete = False  # ... and every entry was settled
        self._lock = threading.Lock()  # the queue and whether the feeder runs
        self._queue: collections.deque[Batch] = collections.deque()
        self._in_flight: dict[int, Batch] = {}
        self._unwatched: list[Batch] = []  # sent, their tasks not watched yet
        self._next_watches = 0.0  # when (job clock) sent batches are next watched
        self._validator = Validator(self.limits)
        self._read = 0
        self._exhausted = False
        self._error: BaseException | None = None
        self._listeners: list[Callable[[], None]] = []
        self._news = False  # the poller saw something since the views were told
        self.notes: list[str] = []
        self._thread: threading.Thread | None = None
        self._leaving = False  # the feeder decided to end (under _lock): start() anew
        self._started_at = self._clock.monotonic()
        self._ended_at: float | None = None
        self._indexed_at_start = 0
        self._sender = Sender(
            self._client(), self.index_id, self._poller.budget, self._clock, self._stop,
            give_up_after,
        )  # fmt: skip
        # Held from here while the job may send (released when the feeder ends, taken
        # again by start()): the state resumed below is this job's alone.
        try:
            self._generation = _hold(self.journal)
            self._skip_until = self._resume()
            self._indexed_at_start = self.journal.counts()["indexed"]
        except BaseException:
            self.group.close()
            self.journal.close()  # and let go of it
            raise
        self._items: Iterator[Item] = self._valid_items()
        self._batches = grouped(self._items, self.limits)
        if start:
            self.start()

    # -- public API -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the feeder thread (does nothing while it runs)."""
        with self._lock:
            old = self._thread
            if self._feeding():
                return
        if old is not None and old is not threading.current_thread():
            old.join(10.0)  # it decided to end: let it, then start afresh
        with self._lock:
            if self._thread is not old:
                return  # another start() won the race
            self._hold_journal()  # before anything changes: refused, the job stays as it was
            self._leaving = False
            self._stop.clear()
            self._done.clear()
            self._complete = False
            self._error = None
            self._ended_at = None
            self.group.start(tell=False)  # batches whose watching stop() ended
            context = contextvars.copy_context()  # ipykernel 7: see the poller's docstring
            self._thread = threading.Thread(
                target=context.run, args=(self._run,), name="search-task-ingest", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop sending and watching; the journal keeps everything (resume with it)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10.0)
        self.group.stop()

    def close(self) -> None:
        """Stop, give the HTTP client back and close (and let go of) the journal."""
        self.stop()
        self.group.close()
        self.journal.close()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until every entry was indexed, failed or refused; return :meth:`summary`.

        Raises:
            TimeoutError: after ``timeout`` seconds (the job goes on).
            SearchTaskError: the job stopped on an error (401, 403, an outage it gave up
                on, a task that could not be watched: :class:`IngestError`); the journal
                resumes it, and :meth:`start` goes on in this process.
            OSError: a file of the catalogue could not be read.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._done.is_set() and not self._complete and self._error is None:
            self.start()  # stopped with stop(): waiting means going on, as for the widgets
        try:
            while not self._done.wait(wait_slice(deadline)):
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"the ingest is still running after {timeout:g} s: {self.describe()}"
                    )
        except KeyboardInterrupt:
            self.stop()
            raise
        if self._error is not None:
            raise self._error
        return self.summary()

    @property
    def ended(self) -> bool:
        """Whether the job's thread ended: :attr:`done`, stopped, or stopped by an error."""
        return self._done.is_set()

    @property
    def done(self) -> bool:
        """Whether every entry was settled: indexed, failed, invalid or superseded (not
        after :meth:`stop`, nor when an error stopped the job: see :attr:`error`)."""
        return self._complete

    @property
    def error(self) -> BaseException | None:
        """What stopped the job, if anything did."""
        return self._error

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Invalid and failed entries in catalogue order: ``subject``, ``reason`` (which
        starts with the rule broken, or says which task failed), ``task_id`` (None when
        never sent) and ``position`` (the entry's place in the catalogue, from 0)."""
        return self.journal.failed_rows()

    def retry_failed(self, fix: Callable[[dict[str, Any]], object] | None = None) -> int:
        """Send the entries that failed again (not the invalid ones), as new batches;
        return how many. The job runs again; :meth:`wait` for it.

        ``fix``, if given, is called with each failed entry (a dict) and returns the entry
        to send instead (checked again like any entry), or None to leave it failed: a
        field of the wrong type can be corrected on the way.
        """
        with self._holding_journal():  # no write to a journal another job holds
            items = self.journal.failed_items()  # they stay failed until queued (fix may raise)
            if fix is not None:
                items = self._fixed(items, fix)
            later = self.journal.superseded_among(items)
            todo = [item for item in items if item.position not in later]
            parts = list(grouped(todo, self.limits))
            with self._lock:
                superseded = [item for item in items if item.position in later]
                numbers = self.journal.retry(parts, superseded, RETRY_PARENT)
                self._queue.extend(
                    Batch(n, part, RETRY_PARENT) for n, part in zip(numbers, parts, strict=True)
                )
            if todo:
                self.start()
        self._changed()
        return len(todo)

    def _fixed(self, items: list[Item], fix: Callable[[dict[str, Any]], object]) -> list[Item]:
        """``items`` as ``fix`` corrects them (those it leaves out stay failed)."""
        kept = []
        for item in items:
            fixed = fix(json.loads(item.data))
            if fixed is None:
                continue  # stays failed, with the reason it failed for
            checked = self._validator.check(Read(item.position, fixed, "fixed entry"))
            if isinstance(checked, Invalid):
                self.journal.invalid(checked.position, checked.subject, checked.reason)
            else:
                kept.append(checked)
        return kept

    def summary(self) -> dict[str, Any]:
        """Counts of entries and batches, timing, and the error if the job stopped on one."""
        counts = self.journal.counts()
        read = max(counts["read_upto"], self._read)
        indexed = counts["indexed"]
        rate = self._rate(indexed)
        return {
            "entries": {
                "read": read,
                "invalid": counts[INVALID],
                "sent": counts["sent"],
                "indexed": indexed,
                "failed": counts[FAILED],
                "superseded": counts[SUPERSEDED],
            },
            "batches": {
                "submitted": counts["batches_sent"]
                + counts["batches_succeeded"]
                + counts["batches_split"],
                "succeeded": counts["batches_succeeded"],
                "failed": counts["batches_split"],
                "in_flight": counts["batches_sent"] + counts["batches_sending"],
                "queued": counts["batches_pending"],
                "resent_unknown_fate": counts["resent_unknown_fate"],
            },
            "done": self.done,
            "elapsed_seconds": round(self._elapsed(), 3),
            "entries_per_second": None if rate is None else round(rate, 1),
            "seconds_left": self._seconds_left(read, counts, rate),
            "error": None if self._error is None else str(self._error),
        }

    def status_line(self) -> str:
        """One line for people: the entries' counts, throughput and time left."""
        s = self.summary()
        e = s["entries"]
        return (
            f"Ingest ({_state(s)}): {e['read']} read, {e['invalid']} invalid, {e['sent']} sent, "
            f"{e['indexed']} indexed, {e['failed']} failed{_pace(s)}"
        )

    def describe(self) -> str:
        """A few lines for people: counts, batches, throughput, time left, failures."""
        s = self.summary()
        e, b = s["entries"], s["batches"]
        lines = [
            f"Ingest into {self.index_id} ({_state(s)}): {e['read']} read, "
            f"{e['invalid']} invalid, {e['sent']} sent, {e['indexed']} indexed, "
            f"{e['failed']} failed",
            f"batches: {b['submitted']} submitted, {b['succeeded']} succeeded, "
            f"{b['failed']} failed, {b['in_flight']} in flight, {b['queued']} queued; "
            f"elapsed {format_duration(s['elapsed_seconds'])}" + _pace(s),
        ]
        if e["superseded"]:
            lines.append(
                f"{e['superseded']} failed entries not resent: a later entry replaced them"
            )
        if b["resent_unknown_fate"]:
            lines.append(
                f"{b['resent_unknown_fate']} request(s) got no answer and were sent again "
                "(safe: ingest is an upsert)"
            )
        failed = self.journal.failed_rows(limit=5)
        lines += [f"  failed: {_short(f['subject'])}: {f['reason']}" for f in failed]
        if len(failed) < s["entries"]["failed"] + s["entries"]["invalid"]:
            lines.append("  (all of them in .failed)")
        if s["error"]:
            lines.append(f"error: {s['error']}")
        return "\n".join(lines)

    def describe_source(self) -> str:
        """What is being ingested (file names, or the kind of iterable)."""
        return self._catalogue.describe()

    def __repr__(self) -> str:
        return f"<IngestJob\n{self.describe()}\n>"

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when something moved: on the job's own thread (or the
        caller's, for :meth:`retry_failed`), never with a lock of the job held."""
        self._listeners.append(callback)

    # -- GroupView (the poller thread, group lock held) -----------------------------------

    def _render(self, news: News) -> None:
        # Only a flag: views are told on the feeder thread, never under the group's lock
        # (a view taking its own lock, then the group's, would deadlock with this one).
        self._news = True
        self._wake.set()

    def _group_ended(self) -> None:
        self._wake.set()

    def _credentials_expired(self, error: SearchTaskError) -> str:
        credentials = self._credentials
        return expired_advice(credentials.source, can_sign_in=credentials.login is not None)

    # -- the feeder thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.clear()
                self._collect_ends()
                if self._news:
                    self._news = False
                    self._changed()
                batch = self._next_batch() if self._has_room() else None
                self._start_watches(idle=batch is None)
                if batch is not None:
                    self._send(batch)
                    self._changed()
                    continue
                with self._lock:
                    if self._exhausted and not self._queue and not self._in_flight:
                        self._leaving = True  # decided with the queue's lock: see start()
                        self._complete = True
                        break
                self._wake.wait(IDLE_WAKE)
        except Stopped:
            pass
        except BaseException as error:  # reported by wait() and the view, never lost
            self._error = _as_ingest_error(error)
            log.warning("search_task_widget: the ingest stopped: %s", self._error)
            self.group.stop()  # what is in flight is in the journal: resumed, not lost
        finally:
            with self._lock:
                self._leaving = True
                self.journal.release()  # another job may take it up now
            self._ended_at = self._clock.monotonic()
            self._done.set()
            self._changed()

    def _feeding(self) -> bool:
        """Whether the feeder thread runs and has not decided to end (under ``_lock``)."""
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._leaving

    @contextlib.contextmanager
    def _holding_journal(self) -> Iterator[None]:
        """Hold the journal while this thread writes to it; let it go afterwards unless
        the feeder runs (it then keeps it until it ends)."""
        with self._lock:
            self._hold_journal()
        try:
            yield
        finally:
            with self._lock:
                if not self._feeding():
                    self.journal.release()

    def _hold_journal(self) -> None:
        """Hold the journal again (under ``_lock``) before sending or writing after the
        feeder ended; refused when another job holds it or used it meanwhile (this job's
        picture of what is left would be stale)."""
        if self.journal.held:
            return
        generation = _hold(self.journal)
        if generation != self._generation + 1:
            self.journal.release()
            raise IngestError(
                f"another ingest job used the journal {self.journal.path} since this one "
                "stopped: make a new job (stw.ingest with the same journal) to go on from "
                "where that one got to",
                code="JournalInUse",
            )
        self._generation = generation

    def _has_room(self) -> bool:
        most_bytes, most_batches = self._window
        open_bytes = sum(batch.size for batch in self._in_flight.values())
        return len(self._in_flight) < most_batches and open_bytes < most_bytes

    def _next_batch(self) -> Batch | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self._exhausted:
            return None
        items = next(self._batches, None)
        if items is None:
            self.journal.set_read_upto(self._read)
            with self._lock:
                self._exhausted = True
            return None
        number = self.journal.new_batch(items, read_upto=items[-1].position + 1, parent=None)
        return Batch(number, items, state=SENDING)

    def _valid_items(self) -> Iterator[Item]:
        for read in self._catalogue:
            self._read = read.position + 1
            if read.position < self._skip_until:
                continue  # settled before a restart (see the journal)
            checked = self._validator.check(read)
            if isinstance(checked, Invalid):
                self.journal.invalid(checked.position, checked.subject, checked.reason)
                continue
            yield checked

    def _send(self, batch: Batch) -> None:
        if batch.state != SENDING:
            self.journal.sending(batch.number)
            batch.state = SENDING

        def unknown_fate(error: SearchTaskError) -> None:
            self.journal.sending(batch.number, resent=True)
            self._say(f"{batch.describe()}: no answer ({error.message}); sent again (safe: upsert)")

        try:
            task_id = self._sender.send(batch.body, unknown_fate)
        except SearchTaskError as error:
            if error.http_status in (400, 413):
                self._refused(batch, error)
                return
            self._requeue(batch)
            raise
        except BaseException:  # Stopped, among others
            self._requeue(batch)
            raise
        self.journal.sent(batch.number, task_id)
        batch.task_id, batch.state = task_id, SENT
        self._watch(batch)

    def _requeue(self, batch: Batch) -> None:
        """Keep a batch that could not be sent: first to go when the job starts again."""
        with self._lock:
            self._queue.appendleft(batch)

    def _watch(self, batch: Batch) -> None:
        """Watch ``batch``'s task, from the next :meth:`_start_watches` on."""
        assert batch.task_id is not None
        self._in_flight[batch.number] = batch
        self._unwatched.append(batch)

    def _start_watches(self, *, idle: bool) -> None:
        """Start watching the batches sent lately, together: at most every poll interval
        while sending (a new watch is checked at once, so one by one each new batch would
        cost a request of the budget the sending needs), at once when idle."""
        now = self._clock.monotonic()
        if not self._unwatched or not (idle or now >= self._next_watches):
            return
        self._next_watches = now + self.group.min_interval
        added = [self.group.add(b.task_id or "", self.index_id) for b in self._unwatched]
        self._unwatched = []
        self.group.start([entry for entry in added if entry is not None], tell=False)

    def _collect_ends(self) -> None:
        for number, batch in list(self._in_flight.items()):
            entry = self.group.get(batch.task_id or "")
            if entry is None:
                continue
            if entry.ended and entry.task is not None:
                del self._in_flight[number]
                self._settle(batch, entry.task)
            elif entry.fatal is not None:
                raise IngestError(
                    f"watching the task {batch.task_id} of {batch.describe()} stopped: "
                    f"{entry.fatal_text}",
                    code="WatchStopped",
                )

    def _settle(self, batch: Batch, task: Task) -> None:
        if task.state == SUCCESS:
            self.journal.succeeded(batch.number)
            return
        ended = f"task {task.task_id} ended {task.state}"
        reason = f"{ended}: {task.message[:300]}" if task.message else ended
        if task.state != TASK_FAILED:  # e.g. CANCELLED: the index went away; resending is vain
            everything = {i.subject: reason for i in batch.items}
            self._map(batch, everything, reason, bisect=False, task_id=task.task_id)
            return
        named = named_subjects(task.additional_details, {i.subject for i in batch.items})
        detailed = {s: f"{ended}: {why}" if why else reason for s, why in named.items()}
        self._map(batch, detailed, reason, bisect=True, task_id=task.task_id)

    def _refused(self, batch: Batch, error: SearchTaskError) -> None:
        """The service refused the request (400, 413): entries it names failed, the others
        are sent again; a 413 naming none is bisected, a 400 naming none fails them all."""
        reason = f"refused by Search (HTTP {error.http_status} {error.code}): {error.message[:300]}"
        indexes = named_positions(error.message, len(batch.items))
        named = {batch.items[n].subject: reason for n in indexes}
        if not named and error.http_status == 400:
            named = {item.subject: reason for item in batch.items}
        self._map(batch, named, reason, bisect=True, task_id=None)

    def _map(
        self,
        batch: Batch,
        named: dict[str, str],
        reason: str,
        *,
        bisect: bool,
        task_id: str | None,
    ) -> None:
        """Record what failed (``task_id``: the task that failed it, None when refused
        outright), and queue what must be sent again, before any new batch."""
        items = batch.items
        if named:
            failed = [(i, named[i.subject]) for i in items if i.subject in named]
            parts = [[i for i in items if i.subject not in named]]
        elif len(items) == 1 or not bisect:
            failed, parts = [(i, reason) for i in items], []
        else:
            failed, parts = [], halves(items)
        resend = [i for part in parts for i in part]
        superseded = self.journal.superseded_among(resend)
        parts = [[i for i in part if i.position not in superseded] for part in parts]
        parts = [part for part in parts if part]
        numbers = self.journal.split(
            batch.number, parts, failed, [i for i in resend if i.position in superseded],
            task_id,
        )  # fmt: skip
        children = [Batch(n, part, batch.number) for n, part in zip(numbers, parts, strict=True)]
        with self._lock:
            self._queue.extendleft(reversed(children))

    # -- resume ---------------------------------------------------------------------------

    def _resume(self) -> int:
        """Take up what the journal left open; return where reading goes on."""
        resumed = self.journal.resume()
        for batch in resumed.open_batches:
            if batch.state == SENT:
                self._watch(batch)
            else:
                if batch.state == SENDING:
                    self._say(
                        f"{batch.describe()}: its fate is unknown (the process stopped while "
                        "sending it); sending it again (safe: upsert)"
                    )
                self._queue.append(batch)
        described = self._catalogue.describe()
        if resumed.read_upto and self.journal.source != described:
            self._say(
                f"the journal was written for {self.journal.source}, not {described}: "
                "entries are known by their positions, so the catalogue must be the same"
            )
        if resumed.read_upto or resumed.open_batches:
            self._say(
                f"resumed from the journal: {resumed.read_upto} entries settled or in batches, "
                f"{len(resumed.open_batches)} batches open"
            )
        return resumed.read_upto

    # -- helpers --------------------------------------------------------------------------

    def _client(self) -> Any:
        client = self.group.client
        if client is None:
            raise SignInRequiredError("no usable credentials: pass auth=")
        return client

    def _say(self, note: str) -> None:
        log.warning("search_task_widget: ingest: %s", note)
        self.notes.append(note)
        del self.notes[:-MAX_NOTES]  # the log has them all

    def _changed(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                log.exception("search_task_widget: an ingest view failed")

    def _elapsed(self) -> float:
        end = self._ended_at if self._ended_at is not None else self._clock.monotonic()
        return max(0.0, end - self._started_at)

    def _rate(self, indexed: int) -> float | None:
        elapsed = self._elapsed()
        done = indexed - self._indexed_at_start
        return done / elapsed if elapsed > 0 and done > 0 else None

    def _seconds_left(self, read: int, counts: dict[str, int], rate: float | None) -> float | None:
        if self.done:
            return 0.0
        if rate is None:
            return None
        settled = counts["indexed"] + counts[INVALID] + counts[FAILED] + counts[SUPERSEDED]
        if self._exhausted:
            return round(max(0, read - settled) / rate, 1)
        progress = self._catalogue.progress
        if not progress:
            return None
        return round(self._elapsed() * (1 - progress) / progress, 1)


def _state(summary: dict[str, Any]) -> str:
    if summary["error"]:
        return "stopped"
    return "done" if summary["done"] else "running"


def _short(subject: str) -> str:
    """A subject as a line shows it: cut, and said when empty."""
    if not subject:
        return "(no subject)"
    return subject if len(subject) <= 80 else subject[:77] + "..."


def _pace(summary: dict[str, Any]) -> str:
    text = ""
    if summary["entries_per_second"]:
        text += f"; {summary['entries_per_second']:g} entries/s"
    left = summary["seconds_left"]
    if left and not summary["done"]:
        text += f"; about {format_duration(left)} left"
    return text


def _as_ingest_error(error: BaseException) -> BaseException:
    if isinstance(error, SearchTaskError):
        return error
    if isinstance(error, (OSError, ValueError, TypeError)):
        return error  # e.g. a file of the catalogue could not be read: as it is
    return IngestError(f"internal error ({type(error).__name__}) in the ingest", code="Internal")


def _hold(journal: Journal) -> int:
    """:meth:`Journal.hold`, refused as an :class:`IngestError` (code ``JournalInUse``)."""
    try:
        return journal.hold()
    except JournalBusy as busy:
        raise IngestError(str(busy), code="JournalInUse") from None


def _path(journal: object) -> Any:
    if journal is None or isinstance(journal, str) or hasattr(journal, "__fspath__"):
        return journal
    raise TypeError(f"journal must be a path (str or Path) or None, not {type(journal).__name__}")


def ingest(
    index_id: str,
    entries: object,
    auth: object = None,
    base_url: str | None = None,
    journal: object = None,
    **options: Any,
) -> IngestJob:
    """Ingest a catalogue into ``index_id``: validated, batched, sent within the request
    budget, watched, failures mapped to entries; see :class:`IngestJob` for ``options``.

    ``auth`` takes what :class:`~search_task_widget.TaskWidget` takes (a ``SearchClient``
    too, whose service is then used unless ``base_url`` says otherwise).
    """
    credentials, url = connect(auth, base_url)
    return IngestJob(
        index_id, entries, credentials=credentials, url=url, journal=journal, **options
    )


def connect(auth: object, base_url: str | None) -> tuple[Credentials, str]:
    """The credentials and service URL for ``auth`` and ``base_url``."""
    url = resolve_base_url(base_url) if base_url is not None else None
    if url is None and auth is None:
        url = resolve_base_url(None)
    credentials = resolve_auth(auth, loopback=url is not None and is_loopback(host_of(url)))
    return credentials, url or resolve_base_url(credentials.base_url)


__all__ = ["IngestError", "IngestJob", "connect", "ingest"]
