"""The README's Architecture section says only what is true: every file it names as a fact's
home exists, and its table of layers is the one tests/test_layers.py enforces."""

from __future__ import annotations

import re
from pathlib import Path

from test_layers import ALLOWED

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Architecture\n", 1)[1].split("\n## ", 1)[0]


def _table(heading_cell: str) -> list[list[str]]:
    lines = [ln for ln in SECTION.splitlines() if ln.startswith("|")]
    start = next(i for i, ln in enumerate(lines) if ln.startswith(f"| {heading_cell} |"))
    rows = []
    for line in lines[start + 2 :]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != len(lines[start].strip("|").split("|")):
            break
        rows.append(cells)
    return rows


def _named_files(text: str) -> set[str]:
    return {m for m in re.findall(r"`([\w./-]+\.(?:py|js|json|ts))`", text)}


def test_every_home_the_fact_table_names_exists():
    named = {name for row in _table("fact") for cell in row[1:] for name in _named_files(cell)}
    assert named, "the fact table names files"
    missing = [
        name
        for name in named
        if not (ROOT / "search_task_widget" / name).is_file() and not (ROOT / name).is_file()
    ]
    assert missing == []


def test_the_layer_table_is_the_one_the_import_test_enforces():
    told: dict[str, set[str]] = {}
    for layers, may in _table("layer"):
        allowed = set(re.findall(r"`(\w+)`", may))
        for layer in re.findall(r"`(\w+)`", layers):
            told[layer] = allowed | {layer}
    assert told == ALLOWED


def test_the_tree_lists_every_layer_folder():
    tree = SECTION.split("```", 2)[1]
    listed = set(re.findall(r"^  (\w+)/", tree, flags=re.M))
    assert listed == set(ALLOWED)
