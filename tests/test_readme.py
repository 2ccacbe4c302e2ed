"""What the README and the quickstart tell a newcomer to run does what they say."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def command_1() -> list[str]:
    """The JupyterLab part of the README's command 1 (after the install)."""
    (line,) = [ln for ln in README.splitlines() if ln.startswith("pip install . jupyterlab && ")]
    return shlex.split(line.split("&& ", 1)[1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.process  # starts JupyterLab
def test_command_1_prints_a_url_that_opens_the_quickstart(tmp_path):
    argv = command_1()
    assert argv[:2] == ["jupyter", "lab"]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", *argv[2:], "--no-browser",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)},
    )  # fmt: skip
    seen: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 90
        url = None
        while url is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break  # the server exited
            seen.append(line)
            found = re.search(rf"http://127\.0\.0\.1:{port}/\S+", line)
            url = found.group(0) if found else None
    finally:
        server.terminate()
        server.wait(timeout=30)
    # The URL people copy opens the notebook, not the Launcher, from the checkout's root.
    assert url is not None, "".join(seen)
    path = url.split("?", 1)[0].split(f":{port}/", 1)[1]
    assert path == "lab/tree/notebooks/01-quickstart.ipynb", url
    assert (REPO / "notebooks" / "01-quickstart.ipynb").is_file()


def test_the_quickstart_signs_in_with_the_widget_and_watches_a_reply_as_it_is():
    nb = nbformat.read(REPO / "notebooks" / "01-quickstart.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in nb.cells)
    assert "get_authorizer" not in text  # globus-sdk's own login prompt
    assert "stw.login_app(" in text
    assert "stw.sign_in(app)" in text
    assert "stw.watch(search_client.ingest(index_id, document))" in text


def test_the_readme_leads_with_the_zero_configuration_example():
    first_block = README.split("```python\n", 1)[1].split("```", 1)[0]
    assert "stw.watch(search_client.ingest(index_id, document))" in first_block
    assert "auth=" not in first_block
