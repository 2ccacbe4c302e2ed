"""The checks an entry must pass before it is sent, one function per rule.

Each rule has a name (:data:`RULES`); an entry that breaks one is not sent and is reported
with a reason that starts with the rule's name (``"subject_bytes: ..."``), so a person can
find the limit in :class:`~.limits.Limits` and the docs. Entries that pass become
:class:`Item`: the entry as the JSON bytes that will be sent (encoded once, kept instead of
the dict: about a fifth of the memory), its subject, and the hash of its (subject, id) key.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from .._model.limits import Limits, content_values
from .entries import Read

#: Every rule, and what it checks.
RULES = {
    "json": "the entry could be read as JSON",
    "shape": "a GMetaEntry: subject (string), visible_to (list), content (object), id",
    "subject_bytes": "the subject's length in UTF-8",
    "visible_to": "how many principals visible_to names, and that each is one",
    "depth": "levels of nested objects in content",
    "field_bytes": "the length of each value in content",
    "entry_bytes": "the entry's size as JSON",
    "request_bytes": "the entry fits in one request on its own",
    "fields_per_index": "distinct field names sent to the index",
    "ids_per_subject": "distinct ids sent under one subject",
}

_PRINCIPAL = re.compile(
    r"^urn:globus:(?:auth:identity|groups:id):[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$"
)
#: The bytes a GMetaList adds around its entries (see :mod:`.batches`).
ENVELOPE = (b'{"ingest_type":"GMetaList","ingest_data":{"gmeta":[', b"]}}")


@dataclass(frozen=True)
class Item:
    """A valid entry, ready to send: ``data`` is its JSON."""

    position: int
    subject: str
    key: int  # hash of (subject, id): two entries with one key are one entry in Search
    data: bytes


@dataclass(frozen=True)
class Invalid:
    """An entry that broke a rule: not sent, reported with ``reason``."""

    position: int
    subject: str
    reason: str


class Validator:
    """Checks entries against ``limits``; remembers the fields seen (one index's count)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._fields: set[str] = set()
        # The hashes of the ids sent under each subject that had one: an int while there is
        # one id (most catalogues), a set from the second on. Subjects without ids cost nothing.
        self._ids: dict[int, int | set[int]] = {}

    def check(self, read: Read) -> Item | Invalid:
        entry = read.entry
        subject = _subject_of(entry)
        if read.problem is not None:
            return Invalid(read.position, subject, read.problem)
        try:
            for rule in (self._shape, self._subject, self._visible_to, self._content):
                rule(entry)
            data = _encoded(entry)
            self._size(data)
            key = entry_key(subject, entry.get("id"))
            self._check_ids(subject, entry.get("id"), key)
            self._fields_of(entry["content"])
        except _Broken as broken:
            return Invalid(read.position, subject, f"{broken.rule}: {broken.text}")
        self._record_id(subject, entry.get("id"), key)
        return Item(read.position, subject, key, data)

    def _shape(self, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise _Broken("shape", f"an entry must be an object, not {type(entry).__name__}")
        missing = [name for name in ("subject", "visible_to", "content") if name not in entry]
        if missing:
            raise _Broken("shape", f"missing {', '.join(missing)}")
        if not isinstance(entry["subject"], str) or not entry["subject"]:
            raise _Broken("shape", "subject must be a non-empty string")
        if not isinstance(entry["content"], dict):
            raise _Broken("shape", "content must be an object")
        if entry.get("id") is not None and not isinstance(entry["id"], str):
            raise _Broken("shape", "id must be a string or null")

    def _subject(self, entry: dict[str, Any]) -> None:
        size = len(entry["subject"].encode("utf-8", "surrogatepass"))
        if size > self.limits.subject_bytes:
            raise _Broken(
                "subject_bytes",
                f"the subject is {size} bytes in UTF-8; the limit is {self.limits.subject_bytes}",
            )

    def _visible_to(self, entry: dict[str, Any]) -> None:
        principals = entry["visible_to"]
        if not isinstance(principals, list) or not principals:
            raise _Broken("visible_to", "must be a non-empty list ('public' or principal URNs)")
        if len(principals) > self.limits.visible_to:
            raise _Broken(
                "visible_to",
                f"names {len(principals)} principals; the limit is {self.limits.visible_to}",
            )
        for principal in principals:
            if principal != "public" and not (
                isinstance(principal, str) and _PRINCIPAL.match(principal)
            ):
                raise _Broken(
                    "visible_to",
                    f"{str(principal)[:80]!r} is not 'public' or a principal URN such as "
                    "'urn:globus:auth:identity:<uuid>'",
                )

    def _content(self, entry: dict[str, Any]) -> None:
        limits = self.limits
        for path, value, depth in content_values(entry["content"]):
            if depth > limits.depth:
                raise _Broken(
                    "depth", f"{path} is nested {depth} levels deep; the limit is {limits.depth}"
                )
            if isinstance(value, str):
                size = len(value.encode("utf-8", "surrogatepass"))
                if size > limits.field_bytes:
                    raise _Broken(
                        "field_bytes",
                        f"{path} is {size} bytes; the limit is {limits.field_bytes}",
                    )

    def _size(self, data: bytes) -> None:
        limits = self.limits
        if len(data) > limits.entry_bytes:
            raise _Broken(
                "entry_bytes", f"the entry is {len(data)} bytes; the limit is {limits.entry_bytes}"
            )
        alone = len(data) + sum(len(part) for part in ENVELOPE)
        if alone > limits.request_bytes:
            raise _Broken(
                "request_bytes",
                f"a request with only this entry is {alone} bytes; the limit is "
                f"{limits.request_bytes}",
            )

    def _fields_of(self, content: dict[str, Any]) -> None:
        new = {path for path, value, _ in content_values(content) if not isinstance(value, dict)}
        new -= self._fields
        if len(self._fields) + len(new) > self.limits.fields_per_index:
            raise _Broken(
                "fields_per_index",
                f"it adds {len(new)} field names to the {len(self._fields)} already sent; "
                f"an index holds at most {self.limits.fields_per_index}",
            )
        self._fields |= new

    def _ids_under(self, subject: str) -> set[int]:
        seen = self._ids.get(entry_key(subject, None), set())
        return {seen} if isinstance(seen, int) else seen

    def _check_ids(self, subject: str, entry_id: object, key: int) -> None:
        if not isinstance(entry_id, str):
            return
        ids = self._ids_under(subject)
        if key not in ids and len(ids) >= self.limits.ids_per_subject:
            raise _Broken(
                "ids_per_subject",
                f"{len(ids)} entries with other ids were already sent under this subject; "
                f"a subject holds at most {self.limits.ids_per_subject}",
            )

    def _record_id(self, subject: str, entry_id: object, key: int) -> None:
        if not isinstance(entry_id, str):
            return
        subject_key = entry_key(subject, None)
        seen = self._ids.get(subject_key)
        if seen is None or seen == key:
            self._ids[subject_key] = key
        elif isinstance(seen, int):
            self._ids[subject_key] = {seen, key}
        else:
            seen.add(key)


class _Broken(Exception):
    def __init__(self, rule: str, text: str) -> None:
        super().__init__(text)
        self.rule = rule
        self.text = text


def _encoded(entry: dict[str, Any]) -> bytes:
    try:
        return json.dumps(entry, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )
    except (TypeError, ValueError) as error:  # a set, a NaN, a circular reference...
        raise _Broken("json", f"the entry cannot be written as JSON ({error})") from None


def _subject_of(entry: object) -> str:
    subject = entry.get("subject") if isinstance(entry, dict) else None
    return subject if isinstance(subject, str) else ""


def entry_key(subject: str, entry_id: object) -> int:
    """The hash of an entry's (subject, id): equal keys are one entry in Search (upsert)."""
    text = f"{subject}\0{entry_id if isinstance(entry_id, str) else ''}"
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
