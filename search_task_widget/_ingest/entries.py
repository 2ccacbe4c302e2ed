"""Reading a catalogue's entries, one at a time, each with its position.

A catalogue is what ``stw.ingest`` accepts as ``entries``: an iterable of GMetaEntry dicts,
one GIngest document (``GMetaEntry`` or ``GMetaList``), the path (``str`` or
:class:`~pathlib.Path`) of a ``.json`` file (a GIngest document or a list of entries) or of a
``.jsonl`` file (one entry a line), or an iterable mixing these. Entries are read lazily:
a ``.jsonl`` file of any size costs one line of memory at a time (a ``.json`` file is
parsed whole: use ``.jsonl`` for large catalogues).

Every entry gets a position (0, 1, 2... across the whole catalogue), which is how the
journal and the failure list name it. What cannot be read (a line that is not JSON)
still takes a position and comes out as a :class:`Read` with a ``problem``, so it is
reported, never silently dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The JSON Lines suffixes read line by line; any other file is parsed whole as JSON.
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class Read:
    """One entry as read: ``entry`` (usually a dict), or ``problem`` when it could not
    be read (then ``entry`` is None); ``where`` names its place for people."""

    position: int
    entry: Any
    where: str
    problem: str | None = None


class Catalogue:
    """The entries of ``source``, read once, in order (see the module docstring).

    ``progress`` is the share (0 to 1) of the catalogue's files read so far, when the
    catalogue is only files (else None): a time-left estimate needs it.
    """

    def __init__(self, source: object) -> None:
        check_source(source)
        self._source = source
        self._paths = _paths_only(source)
        for path in self._paths:
            if not path.is_file():
                raise FileNotFoundError(f"no catalogue file at {path}")
        self._total_bytes = sum(_size(p) for p in self._paths) if self._paths else 0
        self._done_bytes = 0

    @property
    def progress(self) -> float | None:
        if not self._paths or not self._total_bytes:
            return None
        return min(1.0, self._done_bytes / self._total_bytes)

    def describe(self) -> str:
        """What the catalogue is, for the journal and people (no content)."""
        if self._paths:
            return ", ".join(str(p) for p in self._paths)
        return f"a {type(self._source).__name__}"

    def __iter__(self) -> Iterator[Read]:
        items = self._items(self._source, "entry")
        for position, (where, entry, problem) in enumerate(items):
            yield Read(position, entry, where, problem)

    def _items(self, source: object, where: str) -> Iterator[tuple[str, Any, str | None]]:
        if isinstance(source, (str, os.PathLike)):
            yield from self._file(Path(source))
        elif isinstance(source, Mapping):
            yield from _document(source, where)
        else:
            assert isinstance(source, Iterable)  # check_source() made sure
            for number, item in enumerate(source):
                if isinstance(item, (str, os.PathLike, Mapping)):
                    yield from self._items(item, f"item {number}")
                else:
                    yield f"item {number}", item, None

    def _file(self, path: Path) -> Iterator[tuple[str, Any, str | None]]:
        if path.suffix.lower() in JSONL_SUFFIXES:
            yield from self._lines(path)
            return
        try:
            with path.open("rb") as stream:
                document = json.load(stream)
        except ValueError as error:
            yield str(path), None, f"json: {path} is not valid JSON ({error})"
            return
        finally:
            self._done_bytes += _size(path)
        if isinstance(document, list):
            for number, entry in enumerate(document):
                yield f"{path} [{number}]", entry, None
        elif isinstance(document, Mapping):
            yield from _document(document, str(path))
        else:
            yield str(path), None, f"json: {path} holds neither a GIngest document nor a list"

    def _lines(self, path: Path) -> Iterator[tuple[str, Any, str | None]]:
        with path.open("rb") as stream:
            for number, line in enumerate(stream, start=1):
                self._done_bytes += len(line)
                if not line.strip():
                    continue
                where = f"{path} line {number}"
                try:
                    yield where, json.loads(line), None
                except ValueError as error:
                    yield where, None, f"json: {where} is not valid JSON ({error.args[0]})"


def _document(document: Mapping[str, Any], where: str) -> Iterator[tuple[str, Any, str | None]]:
    """The entries of one GIngest document, or the document itself as one entry."""
    kind = document.get("ingest_type")
    data = document.get("ingest_data")
    if kind == "GMetaList" and isinstance(data, Mapping):
        gmeta = data.get("gmeta")
        if not isinstance(gmeta, list):
            yield where, None, "shape: a GMetaList's ingest_data.gmeta must be a list of entries"
            return
        for number, entry in enumerate(gmeta):
            yield f"{where} gmeta[{number}]", entry, None
    elif kind == "GMetaEntry":
        yield where, data, None
    else:
        yield where, document, None  # a GMetaEntry itself


def check_source(source: object) -> None:
    """TypeError for what cannot be a catalogue (before anything is read)."""
    if isinstance(source, (str, os.PathLike, Mapping)):
        return
    if isinstance(source, (bytes, bytearray)) or not isinstance(source, Iterable):
        raise TypeError(
            "entries must be an iterable of GMetaEntry dicts, a GIngest dict, or paths of "
            f".json / .jsonl files; got a {type(source).__name__}"
        )


def _paths_only(source: object) -> list[Path]:
    """The files of a catalogue made only of paths (else empty: it cannot be sized)."""
    if isinstance(source, (str, os.PathLike)):
        return [Path(source)]
    listed = isinstance(source, (list, tuple)) and bool(source)
    if listed and all(isinstance(item, (str, os.PathLike)) for item in source):  # type: ignore[attr-defined]
        return [Path(item) for item in source]  # type: ignore[attr-defined]
    return []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
