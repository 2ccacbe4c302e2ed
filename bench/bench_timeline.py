"""The list's front end with its timeline (issue #15) for N tasks, in headless Chromium.

Measures, on the static harness (tests/browser/harness.html, a stand-in model, no Jupyter):

- first render: ``render()`` of the list with N rows, to the next painted frame;
- update: one poll round (5 tasks move on, the clock moved), from the model change to the
  next painted frame; every bar is placed again, since "now" moved the time axis;
- SVG against canvas: the same N bars (two rects each) drawn once as SVG elements and once
  on a canvas, to the next painted frame (why the chart is SVG: see js/timeline.js).

Usage: ``python bench/bench_timeline.py [--tasks 500] [--updates 30] [--renders 5]``.
Needs /usr/bin/chromium and the playwright package (the test extra). Nothing leaves the
machine; about 20 s on 2 cores.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
from datetime import datetime, timedelta, timezone
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# The batch's first submission: 200 s ago, so the page's real clock is "now" in it (a fake
# clock would also stop the animation frames and the timer this measures with).
T0 = datetime.now(timezone.utc) - timedelta(seconds=200)

# Resolves after the next frame is painted (rAF, then a task after it).
NEXT_FRAME = "() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))"
MOUNT_JS = f"""async (traits) => {{
  const t = performance.now();
  window.mount(traits);
  await ({NEXT_FRAME})();
  return performance.now() - t;
}}"""
UPDATE_JS = f"""async (traits) => {{
  const t = performance.now();
  window.setModel(traits);
  await new Promise((r) => queueMicrotask(r));
  await ({NEXT_FRAME})();
  return performance.now() - t;
}}"""
DRAW_JS = f"""async ([kind, n]) => {{
  const host = document.createElement("div");
  host.style.width = "836px";
  document.body.append(host);
  const t = performance.now();
  if (kind === "svg") {{
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 1000 ${{n * 3}}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", String(n * 3));
    for (let i = 0; i < n; i += 1) {{
      const g = document.createElementNS(ns, "g");
      g.setAttribute("tabindex", "-1");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", `Task ${{i}}`);
      for (const [x, w, fill] of [[i, 300, "#9e9e9e"], [i + 300, 200, "#388e3c"]]) {{
        const r = document.createElementNS(ns, "rect");
        r.setAttribute("x", x); r.setAttribute("width", w); r.setAttribute("y", i * 3);
        r.setAttribute("height", 2); r.setAttribute("fill", fill);
        g.append(r);
      }}
      svg.append(g);
    }}
    host.append(svg);
  }} else {{
    const canvas = document.createElement("canvas");
    canvas.width = 836 * devicePixelRatio; canvas.height = n * 3 * devicePixelRatio;
    canvas.style.width = "100%";
    host.append(canvas);
    const ctx = canvas.getContext("2d");
    const sx = canvas.width / 1000;
    for (let i = 0; i < n; i += 1) {{
      const y = i * 3 * devicePixelRatio;
      ctx.fillStyle = "#9e9e9e"; ctx.fillRect(i * sx, y, 300 * sx, 2);
      ctx.fillStyle = "#388e3c"; ctx.fillRect((i + 300) * sx, y, 200 * sx, 2);
    }}
  }}
  await ({NEXT_FRAME})();
  const ms = performance.now() - t;
  host.remove();
  return ms;
}}"""


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def batch(n: int, now: float, seed: int = 1) -> list[dict[str, Any]]:
    """N tasks submitted over 5 minutes and worked through one after another (as an index's
    queue does), seen at ``now`` seconds: the first ones ended, some run, the rest wait."""
    rng = random.Random(seed)
    rows, free = [], 0.0
    for i in range(n):
        created = 300 * i / n
        start = max(created, free) + rng.uniform(0.2, 2)
        end = start + rng.uniform(1, 4)
        free = end
        state = "PENDING" if start > now else "PROGRESS" if end > now else "SUCCESS"
        if state == "SUCCESS" and rng.random() < 0.02:
            state = "FAILED"
        rows.append(
            {
                "task_id": f"{i:08x}-0000-4000-8000-000000000000",
                "state": state,
                "state_description": f"Task is {state.lower()}",
                "task_type": "ingest",
                "message": "1 document rejected" if state == "FAILED" else None,
                "additional_details": None,
                "creation_date": iso(created),
                "completion_date": iso(end) if end <= now else None,
                "started": (T0.timestamp() + start) * 1000 if start <= now else None,
                "error": "",
                "trouble": "",
            }
        )
    return rows


def traits(rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = sum(r["state"] in ("SUCCESS", "FAILED") for r in rows)
    return {
        "rows": rows,
        "total": len(rows),
        "done": done,
        "failed": sum(r["state"] == "FAILED" for r in rows),
        "polling": done < len(rows),
        "first_submitted": rows[0]["creation_date"] if rows else None,
    }


def _serve() -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(REPO)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def measure(n: int, renders: int, updates: int, browser: Any = None) -> dict[str, list[float]]:
    """Milliseconds of each first render, update and SVG/canvas drawing (in ``browser``, a
    Playwright Chromium, or one launched here)."""
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            own = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                return measure(n, renders, updates, own)
            finally:
                own.close()
    server, base = _serve()
    out: dict[str, list[float]] = {"render": [], "update": [], "svg": [], "canvas": []}
    try:
        for i in range(renders):
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.goto(f"{base}/tests/browser/harness.html?module=list")
            page.wait_for_function("document.body.dataset.ready")
            out["render"].append(page.evaluate(MOUNT_JS, traits(batch(n, 200))))
            if i == 0:  # updates: one poll round each, 2 s of the batch later
                for k in range(updates):
                    later = traits(batch(n, 200 + 2 * (k + 1)))
                    out["update"].append(page.evaluate(UPDATE_JS, later))
            for kind in ("svg", "canvas"):
                out[kind].append(page.evaluate(DRAW_JS, [kind, n]))
            page.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def format_table(n: int, results: dict[str, list[float]]) -> str:
    """A Markdown table: median and worst of each measure, in ms."""
    names = {
        "render": f"first render, list + timeline, {n} tasks",
        "update": "update: a poll round, 2 s of the batch later",
        "svg": f"{n} bars as SVG elements, to a painted frame",
        "canvas": f"{n} bars on a canvas, to a painted frame",
    }
    lines = ["| measure | median ms | worst ms | runs |", "|---|---|---|---|"]
    for key, label in names.items():
        values = results[key]
        lines.append(
            f"| {label} | {statistics.median(values):.1f} | {max(values):.1f} | {len(values)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--renders", type=int, default=5)
    parser.add_argument("--updates", type=int, default=30)
    args = parser.parse_args()
    print(format_table(args.tasks, measure(args.tasks, args.renders, args.updates)))


if __name__ == "__main__":
    main()
