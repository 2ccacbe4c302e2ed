"""axe-core for accessibility checks: fetched once with ``npm pack``, injected into a page.

The tarball comes from the npm registry through npm itself and is unpacked into
``~/.cache/search-task-widget-tests/axe-core-<version>/axe.min.js`` (reused on later runs).
Without npm or the registry the caller's test is skipped, except on CI (``$CI`` set), where
it fails instead: a silently skipped accessibility check is no check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

SPEC = "axe-core@4"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "search-task-widget-tests"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _cached() -> Path | None:
    found = sorted(CACHE.glob("axe-core-4.*/axe.min.js"))
    return found[-1] if found else None


def axe_script() -> Path:
    """The path of ``axe.min.js`` (axe-core 4.x), downloading it on first use."""
    cached = _cached()
    if cached is not None:
        return cached
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is not installed: cannot fetch axe-core")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        try:
            done = subprocess.run(
                [npm, "pack", SPEC, "--json", "--pack-destination", tmp],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except subprocess.TimeoutExpired:
            _unavailable(f"`npm pack {SPEC}` timed out (registry unreachable?)")
        if done.returncode != 0:
            _unavailable(f"`npm pack {SPEC}` failed: {done.stderr.strip()[-500:]}")
        info = json.loads(done.stdout)[0]
        version = info["version"]
        with tarfile.open(Path(tmp) / info["filename"]) as tar:
            member = tar.extractfile("package/axe.min.js")
            if member is None:
                _unavailable(f"the {SPEC} tarball has no package/axe.min.js")
            data = member.read()
        target = CACHE / f"axe-core-{version}"
        partial = Path(tmp) / "axe-core"
        partial.mkdir()
        (partial / "axe.min.js").write_bytes(data)
        try:
            partial.rename(target)  # atomic: a concurrent run sees all or nothing
        except OSError:
            if not (target / "axe.min.js").is_file():
                raise
    return target / "axe.min.js"


def run_axe(target, options: dict | None = None, timeout_ms: int = 30_000) -> dict:
    """Check only the elements of ``target`` (a Playwright Locator) with axe-core.

    axe judges colour contrast only for text it can see on screen: scroll the elements into
    view first (``color-contrast`` is then in ``passes`` or ``violations``, not in
    ``inapplicable``). Returns ``version``, ``violations``, ``incomplete`` (each rule with its
    nodes), and the ids of the ``passes`` and ``inapplicable`` rules.
    """
    page = target.page
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(axe_script()))
    return target.evaluate_all(
        """async (nodes, [options, timeoutMs]) => {
            if (!nodes.length) throw new Error('run_axe: the locator matches no element');
            let timer;
            const timeout = new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error('axe.run timed out')), timeoutMs);
            });
            const results = await Promise.race([
                window.axe.run({ include: nodes }, options), timeout,
            ]).finally(() => clearTimeout(timer));
            const slim = (list) => list.map((r) => ({
                id: r.id, impact: r.impact, help: r.help, helpUrl: r.helpUrl,
                nodes: r.nodes.map((n) => ({
                    target: n.target, html: n.html.slice(0, 300), summary: n.failureSummary,
                })),
            }));
            return {
                version: window.axe.version,
                violations: slim(results.violations),
                incomplete: slim(results.incomplete),
                passes: results.passes.map((r) => r.id),
                inapplicable: results.inapplicable.map((r) => r.id),
            };
        }""",
        [options or {}, timeout_ms],
    )


def format_violations(results: list[dict]) -> str:
    """Readable text for a list of axe results (violations or incomplete)."""
    lines = []
    for rule in results:
        lines.append(f"- {rule['id']} ({rule['impact']}): {rule['help']}  <{rule['helpUrl']}>")
        for node in rule["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html']}")
            for line in (node.get("summary") or "").splitlines():
                lines.append(f"       {line}")
    return "\n".join(lines)
