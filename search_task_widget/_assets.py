"""Where the front end's files are: inside the installed wheel, or in the source tree."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def asset(name: str) -> Path:
    """The front end file ``name`` (e.g. ``widget.js``).

    The wheel carries the top-level ``js/`` folder as ``search_task_widget/static/``; an
    editable install or a plain checkout reads ``js/`` directly (there is no build step).
    """
    packaged = Path(str(resources.files(__package__))) / "static" / name
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "js" / name
