"""The front end's sources are ES modules; each widget ships as one bundle that loads alone.

``js/*.js`` import each other (``import { h } from "./dom.js"``); ``npm run build``
(esbuild, run by ``hatch_build.py``) bundles each widget's module and stylesheet into
``search_task_widget/static/``. The type check and the unit tests of the helpers run under
Node: tests/test_frontend_js.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from search_task_widget._views import front_end as _front_end
from search_task_widget._views.assets import STATIC, front_end, loader
from search_task_widget._views.front_end import module_with_style, shared_front_end

JS = Path(__file__).resolve().parent.parent / "js"
WIDGETS = ["widget", "list", "signin_widget"]
MODULES = sorted(p.name for p in JS.glob("*.js") if p.name not in ("build.js", "loader.js"))
IMPORT = re.compile(r"""^import\s[^;]*?\sfrom\s+"([^"]+)";""", re.M)


@pytest.mark.parametrize("name", WIDGETS)
def test_each_widget_ships_as_one_module_that_imports_nothing(name):
    source = front_end(name, "js")
    # anywidget imports it from a blob: URL, where a relative import cannot resolve, and
    # offline gateways have no CDN: everything it uses is inside.
    assert not re.search(r"^\s*import\b|\bimport\(", source, re.M)
    assert re.search(r"export\s*\{\s*\w+ as default\s*\};?\s*$", source)
    assert "render" in source


@pytest.mark.parametrize("name", WIDGETS)
def test_each_stylesheet_has_its_shared_parts_inside(name):
    css = front_end(name, "css")
    assert "@import" not in css
    for rule in (".stw-sr-only", ".stw-signin"):  # common.css, signin.css
        assert rule in css


@pytest.mark.parametrize("module", MODULES)
def test_sources_import_only_each_other(module):
    source = (JS / module).read_text(encoding="utf-8")
    assert source.startswith("// @ts-check\n")
    for target in IMPORT.findall(source):
        assert re.fullmatch(r"\./\w+\.js", target), target
        assert (JS / target).is_file(), target
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)  # JSDoc may import("./model.js") types
    assert not re.search(r"\bimport\(", code)


def test_loader_sent_to_every_widget_stays_tiny():
    compact = loader()
    assert len(compact) < 500, len(compact)
    assert "// " not in compact
    assert "/**" not in compact
    assert len(re.findall(r"export\s*(?:default\b|\{\s*\w+ as default\s*\})", compact)) == 1
    assert len(re.findall(r"\bimport\(\w+\)", compact)) == 1  # the shared module, by blob


def test_a_rebuilt_front_end_reaches_the_next_widget(monkeypatch):
    """``npm run watch`` rewrites the bundle: the shared model takes the new code (and the
    loader imports it for the next view), the kernel need not restart."""
    first = shared_front_end("widget")
    assert first.esm == module_with_style("widget")
    monkeypatch.setattr(_front_end, "built_at", lambda name: 4e9)  # a later build
    monkeypatch.setattr(_front_end, "module_with_style", lambda name: f"// rebuilt {name}")
    assert shared_front_end("widget") is first
    assert first.esm == "// rebuilt widget"
    monkeypatch.undo()  # the real bundle again, for the tests that follow
    assert shared_front_end("widget").esm == module_with_style("widget")


#: What the wheel may carry of JavaScript, all bundles and the loader together (minified by
#: js/build.js; a notebook saved with live widgets keeps each front end once).
MAX_SHIPPED_JS = 45 * 1024


def test_the_shipped_javascript_stays_small():
    shipped = sum(path.stat().st_size for path in STATIC.glob("*.js"))
    assert 0 < shipped <= MAX_SHIPPED_JS, f"{shipped} bytes of JS in search_task_widget/static/"
