"""Ingest benchmark: a generated JSONL catalogue through ``stw.ingest`` and the usual way.

Two ways of loading the same catalogue into the simulator on ``127.0.0.1``, side by side:

- **ingest**: ``stw.ingest(index, path)``: validated, batched under the request limit,
  sent within the poller's budget (5 requests/s for sends and polls together), tasks
  watched through one ``task_list`` request per round.
- **naive**: what Globus's searchable-files demo does: one request per batch of entries,
  then each task id polled on its own, one after the other, once a second until it ends.

The service runs in a process of its own and counts every request it gets (so the rates
are what it saw); each way runs in a fresh process that reports its wall time and peak RSS.

    python bench/bench_ingest.py [--entries 200000] [--entry-bytes 1500]
                                 [--batch-entries 1000] [--speed 10] [--modes ingest,naive]

The default catalogue is about 300 MB of JSONL, written once to a temporary folder.
``--json`` prints the rows as JSON (the smoke test reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

INDEX_ID = "85a76897-0d62-4677-a00b-06f5ed2acb0c"
HERE = Path(__file__).resolve()


# -- the catalogue --------------------------------------------------------------------------


def write_catalogue(path: Path, entries: int, entry_bytes: int) -> Path:
    """``entries`` entries of about ``entry_bytes`` bytes each, one a line (kept if present)."""
    if path.exists() and path.stat().st_size > 0:
        return path
    pad = max(0, entry_bytes - 120)
    with path.open("w", encoding="utf-8") as out:
        for n in range(entries):
            entry = {
                "subject": f"https://example.org/bench/{n}",
                "visible_to": ["public"],
                "content": {"n": n, "text": "x" * pad},
            }
            out.write(json.dumps(entry) + "\n")
    return path


# -- the service (its own process) ----------------------------------------------------------


def serve(speed: float) -> None:
    """Serve the simulator, counting requests; print the URL, then run until stdin closes."""
    from search_task_widget.simulator import Simulator
    from search_task_widget.simulator.loopback import Request, Response
    from search_task_widget.simulator.scenarios import serve as serve_handler

    simulator = Simulator(speed=speed)
    stamps: list[float] = []
    lock = threading.Lock()

    def handle(request: Request) -> Response:
        if request.path == "/bench/stats":
            with lock:
                found, stamps[:] = list(stamps), []
            return Response.json({"stamps": found})
        with lock:
            stamps.append(time.monotonic())
        return simulator.handle(request)

    server = serve_handler(handle).start()
    print(server.base_url, flush=True)
    sys.stdin.read()  # until the parent closes it
    server.stop()


def stats(url: str) -> list[float]:
    import httpx

    return httpx.get(f"{url}bench/stats", timeout=30).json()["stamps"]


# -- the two ways (each in its own process) -------------------------------------------------


def run_ingest(url: str, path: Path, batch_entries: int) -> dict[str, Any]:
    import search_task_widget as stw

    job = stw.ingest(INDEX_ID, path, base_url=url, limits=stw.Limits(batch_entries=batch_entries))
    summary = job.wait()
    return {"indexed": summary["entries"]["indexed"], "failed": summary["entries"]["failed"]}


def run_naive(url: str, path: Path, batch_entries: int) -> dict[str, Any]:
    """One request per batch of lines, then every task polled once a second, in turn."""
    import httpx

    client = httpx.Client(base_url=url, timeout=60)
    task_ids = []
    with path.open(encoding="utf-8") as lines:
        batch: list[Any] = []
        for line in lines:
            batch.append(json.loads(line))
            if len(batch) == batch_entries:
                task_ids.append(_send(client, batch))
                batch = []
        if batch:
            task_ids.append(_send(client, batch))
    indexed = failed = 0
    for task_id in task_ids:
        while True:
            state = client.get(f"v1/task/{task_id}").json()["state"]
            if state in ("SUCCESS", "FAILED"):
                break
            time.sleep(1.0)
        if state == "SUCCESS":
            indexed += 1
        else:
            failed += 1  # "failed or did not complete": the batch, not its entries
    return {"indexed_batches": indexed, "failed_batches": failed}


def _send(client: Any, batch: list[Any]) -> str:
    body = {"ingest_type": "GMetaList", "ingest_data": {"gmeta": batch}}
    return str(client.post(f"v1/index/{INDEX_ID}/ingest", json=body).json()["task_id"])


def client_main(mode: str, url: str, path: Path, batch_entries: int) -> None:
    started = time.monotonic()
    result = (run_ingest if mode == "ingest" else run_naive)(url, path, batch_entries)
    result["wall_s"] = round(time.monotonic() - started, 2)
    # ru_maxrss is in KiB on Linux.
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result), flush=True)


# -- the comparison -------------------------------------------------------------------------


def rates(stamps: list[float]) -> tuple[float, int]:
    """(mean requests per second, most requests in any one-second window)."""
    if not stamps:
        return 0.0, 0
    stamps = sorted(stamps)
    span = max(stamps[-1] - stamps[0], 1.0)
    peak, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 1.0:
            start += 1
        peak = max(peak, end - start + 1)
    return len(stamps) / span, peak


def compare(args: argparse.Namespace) -> list[dict[str, Any]]:
    folder = Path(args.folder or tempfile.mkdtemp(prefix="stw-bench-ingest-"))
    name = f"catalogue-{args.entries}x{args.entry_bytes}.jsonl"
    path = write_catalogue(folder / name, args.entries, args.entry_bytes)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE.parent.parent), os.environ.get("PYTHONPATH", "")]),
    }
    server = subprocess.Popen(
        [sys.executable, str(HERE), "--serve", "--speed", str(args.speed)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert server.stdout is not None
    assert server.stdin is not None
    url = server.stdout.readline().strip()
    rows = []
    try:
        for mode in args.modes.split(","):
            stats(url)  # start from zero
            done = subprocess.run(
                [sys.executable, str(HERE), "--client", mode, "--url", url, "--file", str(path),
                 "--batch-entries", str(args.batch_entries)],
                capture_output=True, text=True, env=env, check=True, timeout=args.timeout,
            )  # fmt: skip
            row = {"mode": mode, **json.loads(done.stdout.strip().splitlines()[-1])}
            seen = stats(url)
            mean, peak = rates(seen)
            row |= {"requests": len(seen), "req_s_mean": round(mean, 2), "req_s_peak": peak}
            rows.append(row)
    finally:
        server.stdin.close()
        server.wait(30)
    row_bytes = path.stat().st_size
    for row in rows:
        row["catalogue_mb"] = round(row_bytes / 1e6, 1)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--entry-bytes", type=int, default=1500)
    parser.add_argument("--batch-entries", type=int, default=1000)
    parser.add_argument(
        "--speed", type=float, default=10.0, help="simulated tasks run this much faster"
    )
    parser.add_argument("--modes", default="ingest,naive")
    parser.add_argument(
        "--folder", help="where the catalogue is written (default: a temporary one)"
    )
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.speed)
    elif args.client:
        client_main(args.client, args.url, Path(args.file), args.batch_entries)
    else:
        rows = compare(args)
        if args.json:
            print(json.dumps(rows))
            return
        columns = ("mode", "wall_s", "requests", "req_s_mean", "req_s_peak", "peak_rss_mb")
        print(f"{rows[0]['catalogue_mb'] if rows else 0} MB catalogue, {args.entries} entries")
        print("  ".join(f"{c:>12}" for c in columns))
        for row in rows:
            print("  ".join(f"{row[c]!s:>12}" for c in columns))


if __name__ == "__main__":
    main()
