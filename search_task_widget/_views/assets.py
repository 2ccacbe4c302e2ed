"""Where the front end's files are: the bundles in ``search_task_widget/static/``.

The sources are ES modules in the top-level ``js/`` folder; ``npm run build`` there
(``hatch_build.py`` runs it when the package is built or installed, ``npm run watch`` while
editing) bundles each widget's module and stylesheet, with everything they import, into one
file each: anywidget loads one module per widget, and nothing may come from a CDN.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
#: The sources, in a checkout (an installed wheel has none).
SOURCES = STATIC.parent.parent / "js"
_HOW = "run `npm ci && npm run build` in js/ (or `pip install -e .`): see README, Development"


def asset(name: str) -> Path:
    """The built front-end file ``name`` (e.g. ``widget.js``), which may be missing in a
    checkout where the front end was never built."""
    return STATIC / name


def front_end(name: str, kind: str) -> str:
    """The bundled module (``kind="js"``) or stylesheet (``"css"``) of widget ``name``
    ("widget", "list" or "signin_widget").

    In a checkout where it was never built, a module that says so in the page (and an
    empty stylesheet), so Python-only work needs no Node.
    """
    path = bundle(name, kind)
    if isinstance(path, Path):
        return path.read_text(encoding="utf-8")
    return path


def bundle(name: str, kind: str) -> Path | str:
    """The file of :func:`front_end` as a ``Path`` (anywidget reloads it on change when
    ``ANYWIDGET_HMR=1``), or, when it was never built, the text that stands in for it."""
    path = asset(f"{name}.{kind}")
    if path.is_file():
        _warn_if_stale()
        return path
    log.warning("search_task_widget's front end is not built: %s", _HOW)
    return _NOT_BUILT if kind == "js" else ""


def built_at(name: str) -> float:
    """When the bundle of widget ``name`` was last written (0 if never): a change means
    ``npm run watch`` rebuilt it."""
    try:
        return max(asset(f"{name}.{kind}").stat().st_mtime for kind in ("js", "css"))
    except OSError:
        return 0.0


def loader() -> str:
    """``js/loader.js`` without comment lines and indentation: every widget carries it
    (and a saved notebook keeps it once per widget), so every byte counts. The file keeps
    one statement or brace per line, so dropping indentation changes no meaning."""
    path = asset("loader.js")
    text = (path if path.is_file() else SOURCES / "loader.js").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not _comment(line))


def _comment(line: str) -> bool:
    return line.startswith("//") or (line.startswith("/*") and line.endswith("*/"))


@functools.cache
def _warn_if_stale() -> None:
    """Once per process: say so when a source in ``js/`` is newer than the bundles (a
    contributor edited the front end and did not rebuild)."""
    if not (SOURCES / "build.js").is_file():
        return
    built = min((p.stat().st_mtime for p in STATIC.iterdir()), default=0.0)
    # What the bundles are built from, as hatch_build._newest_source counts it (types and
    # tests are not: editing js/model.d.ts changes no bundle).
    inputs = [p for p in SOURCES.iterdir() if p.suffix in (".js", ".css", ".json")]
    changed = [p.name for p in inputs if p.stat().st_mtime > built]
    if changed:
        log.warning("the front end in %s is older than %s: %s", STATIC, ", ".join(changed), _HOW)


_NOT_BUILT = f"""export default {{
  render({{ el }}) {{
    el.textContent = "search_task_widget: the front end is not built; {_HOW.replace("`", "")}.";
  }},
}};
"""
