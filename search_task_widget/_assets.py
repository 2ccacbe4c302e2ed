"""Where the front end's files are: inside the installed wheel, or in the source tree."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: Files put in front of each widget's own JS (helpers, then the sign-in panel every widget
#: shows) and CSS. An anywidget module is one file and may import nothing (no CDN on HPC
#: gateways, and there is no build step), so the shared parts are joined, not imported.
_SHARED = {"js": ("common.js", "signin.js"), "css": ("common.css", "signin.css")}
#: Parts of issue #15 joined after the shared files, before the widget's own: the bell
#: (js/notify.js) in both task views, the timeline (js/timeline.js) in the list.
_EXTRA = {
    "widget": ("notify",),
    "list": ("notify", "timeline"),
}


def asset(name: str) -> Path:
    """The front end file ``name`` (e.g. ``widget.js``).

    The wheel carries the top-level ``js/`` folder as ``search_task_widget/static/``; an
    editable install or a plain checkout reads ``js/`` directly (there is no build step).
    """
    packaged = Path(str(resources.files(__package__))) / "static" / name
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "js" / name


def front_end(name: str, kind: str) -> str:
    """The module (``kind="js"``) or stylesheet (``"css"``) of widget ``name``
    ("widget", "list" or "signin_widget"), with the shared files in front."""
    extra = tuple(f"{part}.{kind}" for part in _EXTRA.get(name, ()))
    parts = (*_SHARED[kind], *extra, f"{name}.{kind}")
    return "\n".join(asset(part).read_text(encoding="utf-8") for part in parts)


def loader() -> str:
    """``js/loader.js`` without comment lines and indentation: every widget carries it
    (and a saved notebook keeps it once per widget), so every byte counts. The file keeps
    one statement or brace per line, so dropping indentation changes no meaning."""
    text = asset("loader.js").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not _comment(line))


def _comment(line: str) -> bool:
    return line.startswith("//") or (line.startswith("/*") and line.endswith("*/"))
