"""Sphinx configuration: the docs site of search_task_widget.

Build it with ``python -m sphinx -W -b html docs docs/_build/html``. It runs offline: the
tutorials in ``notebooks/`` are executed at build time on the built-in simulator, and no
page loads anything from a CDN.
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent

# Document (and execute the tutorials with) this checkout, not some installed copy. The
# kernels that run the tutorials inherit PYTHONPATH from this process.
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
# The tutorials always run offline here, sped up, and wait for their tasks so that every
# widget's output shows how its task ended. No credentials may leak into a page.
os.environ["STW_TUTORIAL_OFFLINE"] = "1"
os.environ.setdefault("STW_SIMULATOR_SPEED", "4")
os.environ.setdefault("SEARCH_TASK_WIDGET_DEMO_SPEED", "4")  # the quickstart's stw.demo()
os.environ["STW_WAIT_AT_END"] = "1"
for _name in (
    "SEARCH_TASK_WIDGET_TOKEN",
    "SEARCH_TASK_WIDGET_CLIENT_ID",
    "GLOBUS_DATA",
    "GLOBUS_SDK_ENVIRONMENT",
    "GLOBUS_SDK_SERVICE_URL_SEARCH",
    "STW_INDEX_ID",
    "STW_CLIENT_ID",
):
    os.environ.pop(_name, None)

import search_task_widget  # noqa: E402  (after sys.path is set)

project = "search_task_widget"
author = "search_task_widget developers"
copyright = "search_task_widget developers"
release = search_task_widget.__version__
version = release

extensions = [
    "myst_nb",  # also registers myst_parser for the Markdown pages
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "nblink",  # docs/_ext/nblink.py: the tutorials are read from notebooks/, not copied
]

# _generated: tables the benchmarks write, included by the pages
exclude_patterns = ["_build", "_ext", "_generated", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# -- Markdown (MyST) ------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3  # README-style #section links work across pages

# -- API reference -------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_default_options: dict[str, Any] = {"members": True}
autosummary_generate = False  # the reference page lists its entries itself
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# -- Notebooks (myst-nb) -------------------------------------------------------------------
# Executed on every build: outputs depend on the package, which a cache keyed on the
# notebook's source would not notice.
nb_execution_mode = os.environ.get("STW_DOCS_EXECUTE", "force")
nb_execution_in_temp = True
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_custom_formats = {".nblink": ["nblink.read_nblink", {"root": str(REPO)}, False]}
# A page has no kernel, so a live widget view cannot run on it. Every widget output also
# carries a text/html snapshot of the task (brought up to date when the task ends): show
# that instead of the widget view, and load no widget manager from a CDN.
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
nb_mime_priority_overrides = [
    (builder, _WIDGET_VIEW, None) for builder in ("html", "dirhtml", "singlehtml", "epub")
]
nb_ipywidgets_js: dict[str, dict[str, str]] = {}

# -- HTML ----------------------------------------------------------------------------------
html_theme = "furo"
html_title = "search_task_widget"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_show_sourcelink = False


def _init_signature(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: str | None, annotation: Any
) -> tuple[str, Any] | None:
    """A widget's signature is its ``__init__``'s, not traitlets' ``__new__(*args, **kwargs)``."""
    if what != "class" or signature != "(*args, **kwargs)" or "__init__" not in vars(obj):
        return None
    init = inspect.signature(obj.__init__)
    # Without self, and without annotations, like the other signatures (autodoc_typehints).
    parameters = [p.replace(annotation=p.empty) for p in list(init.parameters.values())[1:]]
    return str(init.replace(parameters=parameters, return_annotation=init.empty)), annotation


def setup(app: Any) -> None:
    """Hooks of this site's own."""
    app.connect("autodoc-process-signature", _init_signature)
