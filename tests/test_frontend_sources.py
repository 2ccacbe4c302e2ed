"""The two front-end modules stay in step where they share helpers.

Each anywidget module must stand alone (no imports: nothing may come from a CDN, and there
is no build step), so js/list.js carries copies of a few of js/widget.js's helpers. This
test keeps the copies identical, so a fix to one reaches the other.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent.parent / "js"
SHARED = ["h", "setText", "setAttr", "parseUtc", "fmtDuration", "toneOf"]


def functions(path: Path) -> dict[str, str]:
    source = path.read_text(encoding="utf-8")
    found = re.finditer(r"^function (\w+)\(.*?^}\n", source, re.S | re.M)
    return {match.group(1): match.group(0) for match in found}


@pytest.mark.parametrize("name", SHARED)
def test_shared_helpers_are_identical(name):
    single, many = functions(JS / "widget.js"), functions(JS / "list.js")
    assert name in single, f"widget.js lost {name}()"
    assert name in many, f"list.js lost {name}()"
    assert single[name] == many[name], f"{name}() differs between widget.js and list.js"


@pytest.mark.parametrize("module", ["widget.js", "list.js", "signin.js", "signin_widget.js"])
def test_modules_import_nothing(module):
    source = (JS / module).read_text(encoding="utf-8")
    assert not re.search(r"^\s*import\b|\bimport\(", source, re.M)
