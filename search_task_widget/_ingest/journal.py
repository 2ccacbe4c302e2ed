"""The journal: what a job did, in SQLite, so that a new process can go on from there.

Every batch is written before it is sent (its entries, state ``sending``) and again when
the service answered (its task id, ``sent``) and when its task ended (``succeeded``, or
``split``: its entries were mapped to failures and resends, written in the same
transaction). Invalid and failed entries are rows of their own (failed ones with their
JSON, so :meth:`~.job.IngestJob.retry_failed` needs no source). ``read_upto`` is how far the
catalogue was consumed: everything before it is in some batch or row.

So after a crash, at any point: ``sending`` batches are sent again (their fate is unknown;
ingest is an upsert, so that is safe), ``sent`` batches are watched again, ``pending``
ones are sent, and the catalogue is read on from ``read_upto``. Succeeded batches keep no
entries (their rows are small), so the file stays about the size of the batches in flight.

Without a path the journal is an in-memory database: the same logic, no resume.

One job at a time sends from a journal: :meth:`Journal.hold` takes an exclusive ``flock``
on ``<journal>.lock`` (an empty file kept beside it) for as long as the job sends, so a
second job, in this process or another (an overlapping nightly run), is refused instead of
sending the same batches. The operating system drops the lock when a process dies, so a
killed kernel leaves nothing stale. Each hold counts a generation in the journal, so a job
stopped and started again can tell that another job used the journal meanwhile. (Windows
has no ``flock``: there the generation check alone remains.)
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from .batches import PENDING, SENDING, SENT, SPLIT, SUCCEEDED, Batch
from .validate import Item

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    number INTEGER PRIMARY KEY, parent INTEGER, state TEXT NOT NULL, task_id TEXT,
    count INTEGER NOT NULL, fresh INTEGER NOT NULL, resent INTEGER NOT NULL DEFAULT 0,
    items TEXT, data BLOB
);
CREATE TABLE IF NOT EXISTS entries (
    position INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL,
    reason TEXT NOT NULL, task_id TEXT, key INTEGER, data BLOB
);
CREATE TABLE IF NOT EXISTS latest (key INTEGER PRIMARY KEY, position INTEGER NOT NULL);
"""
#: Kinds of entry rows: not sent (broke a rule), failed in a task, or not resent because
#: a later entry of the catalogue with the same subject and id was sent after it.
INVALID, FAILED, SUPERSEDED = "invalid", "failed", "superseded"
_SUPERSEDED_REASON = "a later entry with this subject and id was sent after it"


class JournalBusy(Exception):
    """Another job holds the journal (see :meth:`Journal.hold`)."""


@dataclass(frozen=True)
class Resumed:
    """What a journal says is left to do."""

    read_upto: int
    open_batches: list[Batch]  # pending, sending or sent, in order


class Journal:
    """One job's journal at ``path`` (None: in memory). Thread safe (one lock)."""

    def __init__(self, path: str | os.PathLike[str] | None, index_id: str, source: str) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._held: IO[bytes] | None = None  # the lock file, while this job holds it
        self._hold_lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                str(self.path) if self.path else ":memory:",
                check_same_thread=False,
                isolation_level=None,  # transactions are explicit (BEGIN IMMEDIATE)
            )
            if self.path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")  # survives a killed process
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as error:  # no such folder, not a journal, read-only...
            raise OSError(f"cannot use {self.path} as a journal: {error}") from None
        self._claim(index_id, source)

    def _claim(self, index_id: str, source: str) -> None:
        with self._transaction():
            known = dict(self._db.execute("SELECT key, value FROM meta"))
            if known.get("index_id", index_id) != index_id:
                raise ValueError(
                    f"the journal {self.path} belongs to an ingest into index "
                    f"{known['index_id']}, not {index_id}: use another journal file"
                )
            self._db.executemany(
                "INSERT OR IGNORE INTO meta VALUES (?, ?)",
                [("index_id", index_id), ("source", source), ("read_upto", "0")],
            )
        #: What the journal was first written for (to tell a different catalogue).
        self.source = str(known.get("source", source))

    def close(self) -> None:
        self.release()
        with self._lock:
            self._db.close()

    # -- one sending job at a time ---------------------------------------------------------

    @property
    def held(self) -> bool:
        """Whether this journal object holds its lock (always after :meth:`hold` on
        Windows and in memory, where there is no lock to take)."""
        return self._held is not None

    def hold(self) -> int:
        """Take the journal for a job that will send: the lock, then the next generation
        number (returned). :class:`JournalBusy` when another job holds it."""
        with self._hold_lock:
            if self._held is None:
                self._held = self._lock_file()
            with self._transaction():
                generation = int(self._meta("generation") or 0) + 1
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(generation),)
                )
            return generation

    def release(self) -> None:
        """Let another job take the journal (nothing when not held)."""
        with self._hold_lock:
            held, self._held = self._held, None
        if held is not None:
            if fcntl is not None and self.path is not None:
                fcntl.flock(held, fcntl.LOCK_UN)
            held.close()

    def _lock_file(self) -> IO[bytes]:
        """The lock file, locked; an in-memory stand-in where there is nothing to lock."""
        if self.path is None or fcntl is None:
            return _Unlocked()
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            held = open(lock_path, "ab")  # noqa: SIM115 (kept open while held)
        except OSError as error:
            raise OSError(f"cannot lock the journal with {lock_path}: {error}") from None
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: held elsewhere
            held.close()
            raise JournalBusy(
                f"the journal {self.path} is in use by another ingest job (in this process "
                "or another): wait for that job to end or stop it, then try again"
            ) from None
        return held

    # -- writes ---------------------------------------------------------------------------

    def new_batch(self, items: list[Item], *, read_upto: int | None, parent: int | None) -> int:
        """Record a batch about to be sent (or queued: ``parent`` set); its number."""
        with self._transaction():
            state = SENDING if parent is None else PENDING
            number = self._insert(items, state, parent)
            if read_upto is not None:
                self._set_read_upto(read_upto)
            self._db.executemany(
                "INSERT OR REPLACE INTO latest VALUES (?, ?)", [(i.key, i.position) for i in items]
            )
            return number

    def sending(self, number: int, resent: bool = False) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE batches SET state = ?, resent = resent + ? WHERE number = ?",
                (SENDING, int(resent), number),
            )

    def sent(self, number: int, task_id: str) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE batches SET state = ?, task_id = ? WHERE number = ?",
                (SENT, task_id, number),
            )

    def succeeded(self, number: int) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE batches SET state = ?, items = NULL, data = NULL WHERE number = ?",
                (SUCCEEDED, number),
            )

    def split(
        self,
        number: int,
        children: list[list[Item]],
        failed: Iterable[tuple[Item, str]],
        superseded: Iterable[Item],
        task_id: str | None,
    ) -> list[int]:
        """Batch ``number`` failed: its ``failed`` entries (with reasons) are recorded, the
        ``superseded`` ones too, and ``children`` queued; the children's numbers."""
        with self._transaction():
            self._db.execute(
                "UPDATE batches SET state = ?, items = NULL, data = NULL WHERE number = ?",
                (SPLIT, number),
            )
            rows = [(i, FAILED, reason) for i, reason in failed]
            rows += [
                (i, SUPERSEDED, "a later entry with this subject and id was sent")
                for i in superseded
            ]
            self._db.executemany(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (i.position, kind, i.subject, reason, task_id, i.key, i.data)
                    for i, kind, reason in rows
                ],
            )
            return [self._insert(items, PENDING, number) for items in children]

    def invalid(self, position: int, subject: str, reason: str) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, NULL, NULL, NULL)",
                (position, INVALID, subject, reason),
            )

    def set_read_upto(self, position: int) -> None:
        with self._transaction():
            self._set_read_upto(position)

    def failed_items(self) -> list[Item]:
        """The failed entries (not the invalid ones), in order, as they were sent."""
        with self._lock:
            rows = self._db.execute(
                "SELECT position, subject, key, data FROM entries WHERE kind = ? ORDER BY position",
                (FAILED,),
            ).fetchall()
        return [Item(position, subject, key, bytes(data)) for position, subject, key, data in rows]

    def retry(self, parts: list[list[Item]], superseded: list[Item], parent: int) -> list[int]:
        """Failed entries sent again: ``parts`` become pending batches (their entries leave
        the failed list), ``superseded`` ones are marked so; one transaction."""
        with self._transaction():
            self._db.executemany(
                "DELETE FROM entries WHERE position = ?",
                [(item.position,) for part in parts for item in part],
            )
            self._db.executemany(
                "UPDATE entries SET kind = ?, reason = ? WHERE position = ?",
                [(SUPERSEDED, _SUPERSEDED_REASON, item.position) for item in superseded],
            )
            return [self._insert(part, PENDING, parent) for part in parts]

    def superseded_among(self, items: list[Item]) -> set[int]:
        """Positions of ``items`` that a later entry with the same key was sent after."""
        with self._lock:
            found = set()
            for item in items:
                row = self._db.execute(
                    "SELECT position FROM latest WHERE key = ?", (item.key,)
                ).fetchone()
                if row is not None and row[0] > item.position:
                    found.add(item.position)
            return found

    # -- reads ----------------------------------------------------------------------------

    def resume(self) -> Resumed:
        with self._lock:
            read_upto = int(self._meta("read_upto"))
            rows = self._db.execute(
                "SELECT number, parent, state, task_id, resent, items, data FROM batches "
                "WHERE state IN (?, ?, ?) ORDER BY number",
                (PENDING, SENDING, SENT),
            ).fetchall()
        return Resumed(read_upto, [_batch(*row) for row in rows])

    def counts(self) -> dict[str, int]:
        """Entries and batches by outcome, from the records."""
        with self._lock:
            entries = dict(
                self._db.execute("SELECT kind, COUNT(*) FROM entries GROUP BY kind").fetchall()
            )
            sent, indexed = self._db.execute(
                "SELECT COALESCE(SUM(CASE WHEN fresh AND state != ? AND state != ? "
                "THEN count END), 0), COALESCE(SUM(CASE WHEN state = ? THEN count END), 0) "
                "FROM batches",
                (PENDING, SENDING, SUCCEEDED),
            ).fetchone()
            states = dict(
                self._db.execute("SELECT state, COUNT(*) FROM batches GROUP BY state").fetchall()
            )
            resent = self._db.execute("SELECT COALESCE(SUM(resent), 0) FROM batches").fetchone()
            read_upto = int(self._meta("read_upto"))
        return {
            "read_upto": read_upto,
            INVALID: entries.get(INVALID, 0),
            FAILED: entries.get(FAILED, 0),
            SUPERSEDED: entries.get(SUPERSEDED, 0),
            "sent": sent,
            "indexed": indexed,
            "resent_unknown_fate": resent[0],
            **{f"batches_{state}": states.get(state, 0) for state in _STATES},
        }

    def failed_rows(self, limit: int = -1) -> list[dict[str, Any]]:
        """Invalid and failed entries, in catalogue order, for people (the first
        ``limit``; all when negative)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT position, subject, reason, task_id FROM entries WHERE kind IN (?, ?) "
                "ORDER BY position LIMIT ?",
                (INVALID, FAILED, limit),
            ).fetchall()
        return [
            {"subject": subject, "reason": reason, "task_id": task_id, "position": position}
            for position, subject, reason, task_id in rows
        ]

    # -- internals ------------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    def _insert(self, items: list[Item], state: str, parent: int | None) -> int:
        meta = json.dumps([[i.position, i.subject, i.key] for i in items], ensure_ascii=False)
        cursor = self._db.execute(
            "INSERT INTO batches (parent, state, count, fresh, items, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                parent,
                state,
                len(items),
                int(parent is None),
                meta,
                b"\n".join(i.data for i in items),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _set_read_upto(self, position: int) -> None:
        self._db.execute(
            "UPDATE meta SET value = MAX(CAST(value AS INTEGER), ?) WHERE key = 'read_upto'",
            (position,),
        )

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""


_STATES = (PENDING, SENDING, SENT, SUCCEEDED, SPLIT)


class _Unlocked(io.BytesIO):
    """What :meth:`Journal.hold` keeps where there is no file to lock."""


class _Transaction:
    """``with``: the lock, then BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            self._db.execute("ROLLBACK" if kind is not None else "COMMIT")
        finally:
            self._lock.release()


def _batch(
    number: int, parent: int | None, state: str, task_id: str | None, resent: int,
    items: str, data: bytes,
) -> Batch:  # fmt: skip
    described = json.loads(items)
    blobs = bytes(data).split(b"\n")
    entries = [Item(p, s, k, blob) for (p, s, k), blob in zip(described, blobs, strict=True)]
    return Batch(number, entries, parent, task_id, state, resent)
