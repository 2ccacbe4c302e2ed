"""Start and stop JupyterLab, Notebook 7 and Voila for browser tests.

Each server runs on 127.0.0.1 with a fixed token, with every Jupyter directory (config,
data, runtime, lab settings and workspaces, IPython) inside one temporary folder, serving a
temporary *copy* of the test notebooks (autosave rewrites them), in its own process group.
Its kernels run in sessions of their own (jupyter_client starts them so): the server shuts
them down when it gets SIGTERM, and ipykernel exits when its parent dies.

The kernels import ``search_task_widget`` from this checkout (``PYTHONPATH``), so the tests
need no installed copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOKEN = "stw-browser-tests-token"
START_TIMEOUT = 60.0
#: What ``search_task_widget`` reads with ``auth=None``; never inherited by a server.
CREDENTIAL_VARS = ("SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_DATA", "SEARCH_TASK_WIDGET_CLIENT_ID")

#: User settings written before JupyterLab / Notebook 7 start (JUPYTERLAB_SETTINGS_DIR).
BASE_SETTINGS = {
    # A fresh settings dir otherwise pops up "Would you like to get notified about news?".
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Draw every cell, also off-screen ones, so inner_text() and screenshots work.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path, settings: dict[str, dict] | None = None) -> dict[str, str]:
    """An environment whose Jupyter and IPython directories all live under ``home``."""
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    for plugin, values in {**BASE_SETTINGS, **(settings or {})}.items():
        package, name = plugin.rsplit("/", 1)
        target = dirs["JUPYTERLAB_SETTINGS_DIR"] / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    env.update({k: str(v) for k, v in dirs.items()})
    extra = [str(REPO), str(REPO / "tests")]
    if env.get("PYTHONPATH"):
        extra.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(extra)
    env["PYTHONUNBUFFERED"] = "1"
    # No credentials from the developer's shell: a test that wants some passes them.
    for name in CREDENTIAL_VARS:
        env.pop(name, None)
    return env


def copy_notebooks(source: Path | None, root: Path) -> Path:
    """Copy the ``.ipynb`` files of ``source`` (if any) into ``root`` and return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    if source is not None and source.is_dir():
        for nb in source.glob("*.ipynb"):
            shutil.copy2(nb, root / nb.name)
    return root


@dataclass
class Server:
    """One running server process (and its process group)."""

    kind: str
    proc: subprocess.Popen
    port: int
    root: Path
    log_path: Path
    token: str = TOKEN
    _log: object = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, **query: str) -> str:
        """``path`` on this server with the token (and ``query``) appended."""
        params = "&".join(
            [f"token={self.token}", *(f"{k}={v}" if v else k for k, v in query.items())]
        )
        return f"{self.base_url}/{path.lstrip('/')}?{params}"

    def api(self, method: str, path: str) -> object:
        """Call the server's REST API; returns decoded JSON (or None for no body)."""
        request = urllib.request.Request(
            f"{self.base_url}/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        """Shut every kernel session down (frees CPU between tests)."""
        for session in self.api("GET", "api/sessions") or []:
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"api/sessions/{session['id']}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def wait_ready(
        self, probe: str, any_status: bool = False, timeout: float = START_TIMEOUT
    ) -> None:
        """Poll ``probe`` until it answers 200 (or anything at all, with ``any_status``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url(probe), timeout=2) as reply:
                    if reply.status == 200:
                        return
            except urllib.error.HTTPError:
                if any_status:
                    return  # the server answers: it is up
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)  # a server starting up; nothing to wait on but its port
        self.stop()
        raise TimeoutError(f"{self.kind} did not answer within {timeout:g} s:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server's process group (found by the pid we started), then reap it."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        # Whatever of the server's group is left (helpers it spawned) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None


def _launch(kind: str, args: list[str], home: Path, root: Path, env: dict[str, str]) -> Server:
    port = free_port()
    log_path = home / f"{kind}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [*args, f"--port={port}"],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own process group: stop() signals it as a whole
    )
    return Server(kind, proc, port, root, log_path, _log=log)


def _root_flag() -> list[str]:
    """Jupyter refuses to run as root (containers, CI) without --allow-root."""
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def _jupyter_server_args(root: Path) -> list[str]:
    return [
        *_root_flag(),
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        # Kernels end with their sessions; nothing is left behind between tests.
        "--MappingKernelManager.cull_idle_timeout=0",
    ]


def start_lab(home: Path, notebooks: Path | None = None, settings: dict | None = None) -> Server:
    """JupyterLab 4 serving a copy of ``notebooks``; ``window.jupyterapp`` is exposed."""
    root = copy_notebooks(notebooks, home / "root")
    env = isolated_env(home, settings)
    args = [sys.executable, "-m", "jupyterlab", *_jupyter_server_args(root)]
    args.append("--LabApp.expose_app_in_browser=True")
    server = _launch("lab", args, home, root, env)
    server.wait_ready("api/status")
    return server


def start_notebook(
    home: Path, notebooks: Path | None = None, settings: dict | None = None
) -> Server:
    """Notebook 7 serving a copy of ``notebooks``; ``window.jupyterapp`` is exposed."""
    root = copy_notebooks(notebooks, home / "root")
    env = isolated_env(home, settings)
    args = [sys.executable, "-m", "notebook", *_jupyter_server_args(root)]
    args.append("--JupyterNotebookApp.expose_app_in_browser=True")
    server = _launch("notebook", args, home, root, env)
    server.wait_ready("api/status")
    return server


def start_voila(home: Path, notebook: Path, env: dict[str, str] | None = None) -> Server:
    """Voila rendering ``notebook`` (copied into ``home/root``) at ``/``.

    ``env``: variables added to the server's environment (its kernels inherit them).

    The notebook package's lab extension is denied: loaded into Voila it breaks the page
    (an allowlist instead would also drop the widget manager).
    """
    root = home / "root"
    root.mkdir(parents=True, exist_ok=True)
    target = root / notebook.name
    if notebook.resolve() != target.resolve():
        shutil.copy2(notebook, target)
    env = {**isolated_env(home), **(env or {})}
    args = [
        sys.executable,
        "-m",
        "voila",
        str(target),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.token={TOKEN}",
        "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
    ]
    server = _launch("voila", args, home, root, env)
    # Not "/": loading it starts a kernel and runs the notebook. Any answer means "up".
    server.wait_ready("voila/static/", any_status=True)
    return server


#: marimo's user settings for the tests (``~/.marimo.toml`` under the server's own HOME):
#: run every cell when a notebook opens, and follow the page's colour scheme, which each
#: test picks (Playwright's ``color_scheme``) to see light and dark.
MARIMO_CONFIG = '[runtime]\nauto_instantiate = true\n\n[display]\ntheme = "system"\n'


def start_marimo(
    home: Path, mode: str, notebook: Path, env: dict[str, str] | None = None
) -> Server:
    """``marimo edit`` (with a token) or ``marimo run`` serving ``notebook`` at ``/``.

    The server's HOME is ``home`` (its settings, and where a sign-in stores tokens);
    ``env``: variables added to its environment (its kernels inherit them).
    """
    home.mkdir(parents=True, exist_ok=True)
    (home / ".marimo.toml").write_text(MARIMO_CONFIG)
    env = {**isolated_env(home), "HOME": str(home), "MARIMO_SKIP_UPDATE_CHECK": "1", **(env or {})}
    args = [sys.executable, "-m", "marimo", "-q", mode, str(notebook), "--headless"]
    args += ["--host", "127.0.0.1", "--no-sandbox"]
    args += [f"--token-password={TOKEN}"] if mode == "edit" else []
    server = _launch(f"marimo-{mode}", args, home, notebook.parent, env)
    server.wait_ready("health", any_status=True)
    return server
