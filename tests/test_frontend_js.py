"""The front end's own checks, under Node: the type check (``npm run check``: tsc with
``checkJs`` and ``strict`` over the JSDoc types) and the unit tests of the pure helpers
(``npm test``: ``node --test js/test/``: dates, durations, stages, filtering, sign-in links).

Skipped without Node and npm on a laptop; required in CI (``CI`` or
``SEARCH_TASK_WIDGET_REQUIRE_NODE`` set), like the browser tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import built_front_end
import pytest

pytestmark = pytest.mark.process  # runs npm, tsc and node

JS = built_front_end.ROOT / "js"


@pytest.fixture(scope="module")
def npm() -> str:
    """npm, with the locked dev dependencies installed (once: ``npm ci`` is skipped while
    js/node_modules is newer than the lock file)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        reason = "node and npm are needed for the front end's type check and unit tests"
        if built_front_end.REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    built_front_end.hatch_build_module().install_dependencies()
    return npm


def run(npm: str, script: str) -> str:
    done = subprocess.run(
        [npm, "run", "--silent", script], cwd=JS, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"npm run {script}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_modules_type_check(npm):
    run(npm, "check")


def test_the_helpers_pass_their_unit_tests(npm):
    out = run(npm, "test")
    passed = int(re.search(r"^# pass (\d+)$", out, re.M).group(1))  # type: ignore[union-attr]
    assert passed >= 20, out
    assert re.search(r"^# fail 0$", out, re.M), out
