"""Every Markdown table in the docs renders as a table.

A table (GitHub's and MyST's pipe tables) is a header row, a separator row of dashes, then
rows: a row with another number of cells is cut or padded, a missing separator leaves the
rows as raw ``| a | b |`` text, and a line of text right after the last row (no blank line
between) becomes one more row. Fenced code blocks are skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "CHANGELOG.md"]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SEPARATOR_CELL = re.compile(r"\s*:?-+:?\s*")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
FENCE = re.compile(r"^\s*(```|~~~)")


def cells(row: str) -> list[str]:
    """A row's cells: split at every unescaped ``|``, the outer ones dropped."""
    inner = row.strip()
    inner = inner.removeprefix("|")
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return UNESCAPED_PIPE.split(inner)


def tables(text: str) -> list[tuple[int, list[str], str | None]]:
    """Each table outside code fences: its first line number, its rows, the line after it."""
    found: list[tuple[int, list[str], str | None]] = []
    lines = text.splitlines()
    in_fence = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if FENCE.match(line):
            in_fence = not in_fence
        if in_fence or not line.lstrip().startswith("|"):
            index += 1
            continue
        start = index
        while index < len(lines) and lines[index].lstrip().startswith("|"):
            index += 1
        after = lines[index] if index < len(lines) else None
        found.append((start + 1, lines[start:index], after))
    return found


def problems(text: str) -> list[str]:
    """What would make a table render wrong, one sentence per problem."""
    found = []
    for line, rows, after in tables(text):
        width = len(cells(rows[0]))
        if len(rows) < 2 or not all(SEPARATOR_CELL.fullmatch(c) for c in cells(rows[1])):
            found.append(f"line {line}: no |---| separator under the header row")
        for offset, row in enumerate(rows[1:], 1):
            if len(cells(row)) != width:
                found.append(
                    f"line {line + offset}: {len(cells(row))} cells, the header has {width}"
                )
        if after is not None and after.strip():
            found.append(f"line {line + len(rows)}: no blank line after the table")
    return found


def markdown_sources() -> list[tuple[str, str]]:
    """(name, text) of every page, and of every Markdown cell of the tutorials."""
    sources = [(str(page.relative_to(ROOT)), page.read_text()) for page in PAGES]
    for notebook in NOTEBOOKS:
        for number, cell in enumerate(json.loads(notebook.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                name = f"{notebook.relative_to(ROOT)} cell {number}"
                sources.append((name, "".join(cell["source"])))
    return sources


@pytest.mark.parametrize(("name", "text"), markdown_sources(), ids=lambda v: v[:60])
def test_every_table_is_well_formed(name, text):
    assert problems(text) == [], name


def test_the_check_finds_each_kind_of_broken_table():
    good = "Text.\n\n| a | b |\n|---|---:|\n| 1 | `x \\| y` |\n\nMore.\n"
    assert problems(good) == []
    assert problems("| a | b |\n|---|---|\n| 1 | 2 |\nText right after.\n") == [
        "line 4: no blank line after the table"
    ]
    assert problems("| 401 | refused |\n| 403 | forbidden |\n") == [
        "line 1: no |---| separator under the header row"
    ]
    assert problems("| a | b |\n|---|---|\n| 1 | 2 | 3 |\n") == [
        "line 3: 3 cells, the header has 2"
    ]
    assert problems("```\n| not | a table\nText\n```\n") == []
