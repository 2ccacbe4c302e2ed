"""A self-contained HTML page that renders the real front end from a widget's state, with
nothing fetched from the network (``to_html``). What widget-less viewers show instead of a
live widget is :mod:`.document`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any


def standalone_html(esm: str, css: str, state: Mapping[str, Any], title: str) -> str:
    """A page that runs the front end on a frozen copy of ``state``: offline, no CDN.

    The front end has no imports, so it is loaded from an inline blob; the model is a
    read-only stand-in that never changes.
    """
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_style_text(css)}</style>
</head>
<body>
<div id="stw-export"></div>
<script type="module">
const state = {_script_json(dict(state))};
const source = {_script_json(esm)};
const model = {{ get: (name) => state[name], on() {{}}, off() {{}} }};
const url = URL.createObjectURL(new Blob([source], {{ type: "text/javascript" }}));
const widget = (await import(url)).default;
const view = typeof widget === "function" ? await widget() : widget;
// A frozen copy: no kernel will ever update it (its clocks stop at the last check).
view.render({{ model, el: document.getElementById("stw-export"), kernel: {{ comm_live: false }} }});
</script>
</body>
</html>
"""


def _style_text(css: str) -> str:
    # A stylesheet must not be able to close its <style> element.
    return css.replace("</", "<\\/")


def _script_json(value: object) -> str:
    # JSON inside <script> must not be able to close the tag or open a comment.
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
