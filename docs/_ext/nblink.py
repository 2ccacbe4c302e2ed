"""Tutorials from ``notebooks/`` on the docs site, without copying them into ``docs/``.

A ``docs/tutorials/NAME.nblink`` file holds ``{"notebook": "notebooks/NAME.ipynb"}`` (a path
from the repository root). myst-nb reads it through :func:`read_nblink` (registered in
``conf.py`` as a custom notebook format) and executes the notebook it names. Sphinx is told
that the page depends on that notebook and on the package, so an incremental build re-runs
the tutorial when either changes.

The executed notebooks also carry the widgets' saved state. A page has no kernel and loads
no widget manager (``nb_ipywidgets_js`` is empty), so that state would be dead weight (every
anywidget model holds its whole front end): :func:`_drop_widget_state` leaves it out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from sphinx.application import Sphinx

REPO = Path(__file__).resolve().parents[2]
SUFFIX = ".nblink"


def notebook_path(text: str, root: str | Path = REPO) -> Path:
    """The notebook a ``.nblink`` file names, as an absolute path."""
    link = json.loads(text)
    return (Path(root) / link["notebook"]).resolve()


def read_nblink(text: str, root: str = str(REPO)) -> nbformat.NotebookNode:
    """myst-nb reader: the notebook named by the ``.nblink`` file ``text``."""
    return nbformat.read(notebook_path(text, root), as_version=4)


def _note_dependencies(app: Sphinx, docname: str, source: list[str]) -> None:
    if not app.env.doc2path(docname).name.endswith(SUFFIX):
        return
    app.env.note_dependency(str(notebook_path(source[0])))
    for path in sorted((REPO / "search_task_widget").rglob("*.py")):
        app.env.note_dependency(str(path))
    for path in sorted((REPO / "js").glob("*.*")):
        app.env.note_dependency(str(path))


def _drop_widget_state(app: Sphinx, doctree: Any) -> None:
    # myst-nb keeps the scripts a page needs in env.nb_metadata[docname]["js_files"].
    metadata = getattr(app.env, "nb_metadata", {}).get(app.env.docname, {})
    metadata.get("js_files", {}).pop("ipywidgets_state", None)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the event handlers (the reader itself is configured in ``conf.py``)."""
    app.connect("source-read", _note_dependencies)
    app.connect("doctree-read", _drop_widget_state)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
