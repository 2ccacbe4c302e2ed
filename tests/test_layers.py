"""The package's layers, read from the source: every import points down, each folder stays
small, and importing the package or the terminal loads no widget library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "search_task_widget"

#: Each layer and the layers it may import (itself included). Top-level modules
#: (``__init__``, ``__main__``, ``_version``) sit outside the layers; ``_version`` is free to all.
ALLOWED: dict[str, set[str]] = {
    "_model": {"_model"},
    "_service": {"_service", "_model"},
    "simulator": {"simulator", "_model"},
    "_documents": {"_documents", "_model"},
    "_tracking": {"_tracking", "_service", "_model"},
    "_ingest": {"_ingest", "_tracking", "_service", "_model"},
    "_terminal": {"_terminal", "_ingest", "_tracking", "_service", "_model", "simulator"},
    "_views": {"_views", "_ingest", "_tracking", "_documents", "_service", "_model", "simulator"},
}
FREE = {"_version"}
WIDGET_STACK = {"anywidget", "ipywidgets", "traitlets", "IPython", "comm", "ipykernel"}


def _layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def _package_imports(path: Path) -> list[tuple[int, str]]:
    """(line, first package component) of every import of the package in ``path``, relative
    or absolute, at the top or inside a function."""
    package_parts = path.relative_to(PACKAGE).parent.parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package_parts[: len(package_parts) - (node.level - 1)])
            target = [*base, *(node.module.split(".") if node.module else [])]
            if not target:  # `from . import x` at the top: x itself is the layer
                target = [alias.name for alias in node.names][:1]
            found.append((node.lineno, target[0]))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "search_task_widget."
        ):
            found.append((node.lineno, node.module.split(".")[1]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("search_task_widget."):
                    found.append((node.lineno, alias.name.split(".")[1]))
    return found


LAYERED = sorted(p for p in PACKAGE.rglob("*.py") if _layer(p) is not None)


def test_every_folder_is_a_known_layer_with_a_docstring_that_says_what_it_may_import():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == set(ALLOWED)
    for folder in folders:
        doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
        assert doc, folder
        assert "import" in doc.lower(), f"{folder}/__init__.py should say what it may import"


@pytest.mark.parametrize("path", LAYERED, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_point_down_a_layer_never_up(path: Path):
    layer = _layer(path)
    wrong = [
        f"line {line}: {target}"
        for line, target in _package_imports(path)
        if target not in ALLOWED[layer] | FREE
    ]
    assert wrong == [], f"{layer} may import only {sorted(ALLOWED[layer])}"


def test_no_folder_holds_more_than_a_dozen_modules():
    for folder in [PACKAGE, *(PACKAGE / name for name in ALLOWED)]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 12, folder


def test_only_the_views_import_the_widget_stack():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if _layer(path) == "_views":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in WIDGET_STACK]
    # The cells module reads IPython's hooks lazily, only when IPython already runs.
    assert [o for o in offenders if not o.startswith("cells.py: IPython")] == []


_LOADED = """
import json, sys
import search_task_widget
{extra}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


@pytest.mark.parametrize(
    "extra",
    [
        "",
        "import search_task_widget._terminal.cli",
        "search_task_widget.Poller; search_task_widget.SearchTaskError",
        "import search_task_widget.simulator",
    ],
    ids=["package", "terminal", "core", "simulator"],
)
def test_importing_the_package_the_terminal_or_the_core_loads_no_widget_library(extra: str):
    out = subprocess.run(
        [sys.executable, "-c", _LOADED.format(extra=extra)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert set(json.loads(out)) & WIDGET_STACK == set()


def test_a_widget_name_loads_the_widget_stack_when_first_used():
    out = subprocess.run(
        [sys.executable, "-c", _LOADED.format(extra="search_task_widget.TaskWidget")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {"anywidget", "ipywidgets"} <= set(json.loads(out))


def test_every_public_name_resolves_and_dir_lists_it():
    import search_task_widget as stw

    for name in stw.__all__:
        assert getattr(stw, name) is not None, name
    assert set(stw.__all__) <= set(dir(stw))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        stw.nope  # noqa: B018
