"""The front-end files join into modules that load.

Each anywidget module must be one file that imports nothing (nothing may come from a CDN,
and there is no build step), so Python joins js/common.js (helpers) and js/signin.js (the
sign-in panel) in front of each widget's own file. Joined, a name declared twice at the top
level is a SyntaxError that only a browser would report: these tests catch it first.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from search_task_widget._assets import front_end, loader

JS = Path(__file__).resolve().parent.parent / "js"
WIDGETS = ["widget", "list", "signin_widget"]
SHARED_HELPERS = ["h", "setText", "setAttr", "parseUtc", "fmtDuration", "toneOf", "pad"]
TOP_LEVEL = re.compile(r"^(?:async\s+)?(?:function\*?|const|let|var|class)\s+(\w+)", re.M)


@pytest.mark.parametrize("name", WIDGETS)
def test_joined_module_declares_each_name_once(name):
    source = front_end(name, "js")
    twice = [n for n, count in Counter(TOP_LEVEL.findall(source)).items() if count > 1]
    assert twice == [], f"{name}: declared more than once when joined: {twice}"
    assert source.count("export default") == 1


@pytest.mark.parametrize("helper", SHARED_HELPERS)
def test_shared_helpers_live_only_in_common_js(helper):
    homes = [p.name for p in sorted(JS.glob("*.js")) if helper in TOP_LEVEL.findall(p.read_text())]
    assert homes == ["common.js"]


@pytest.mark.parametrize("module", sorted(p.name for p in JS.glob("*.js")))
def test_modules_import_nothing(module):
    source = (JS / module).read_text(encoding="utf-8")
    if module == "loader.js":  # imports the shared front end from a blob: URL, nothing else
        assert re.findall(r"\bimport\((\w+)\)", source) == ["url"]
        assert "const url = URL.createObjectURL(new Blob(" in source
        source = source.replace("import(url)", "")
    assert not re.search(r"^\s*import\b|\bimport\(", source, re.M)


def test_loader_sent_to_every_widget_stays_tiny():
    compact = loader()
    assert len(compact) < 500, len(compact)
    assert "// " not in compact
    assert "/**" not in compact
    assert compact.count("export default") == 1
