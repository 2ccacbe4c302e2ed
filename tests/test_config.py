"""Configuration is defined once: every environment variable in ``_config.py``, read only
through it, and listed on the reference page exactly as defined there."""

from __future__ import annotations

import ast
import copy
import pickle
import re
from pathlib import Path

import pytest

from search_task_widget._model import config as _config
from search_task_widget._model.config import ENV_VARS, EnvVar

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "search_task_widget"
#: A row of the reference page's table: | `NAME` | default | defined by | meaning |
ROW = re.compile(r"^\| `([A-Z_]+)` \| ([^|]+) \| ([^|]+) \| (.+) \|$", re.M)
#: How the package's own and globus-sdk's variables are spelled wherever they are named.
NAMED = re.compile(r"\b(SEARCH_TASK_WIDGET_[A-Z_]+|GLOBUS_SDK_[A-Z_]+|GLOBUS_DATA)\b")


def test_every_variable_is_in_the_list_once():
    defined = [value for value in vars(_config).values() if isinstance(value, EnvVar)]

    assert sorted(defined) == sorted(ENV_VARS)
    assert len(set(ENV_VARS)) == len(ENV_VARS)
    assert all(var.doc and var.defined_by for var in ENV_VARS)


def test_the_reference_page_lists_each_variable_as_defined():
    page = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    rows = ROW.findall(page)

    assert [name for name, *_ in rows] == [var.name for var in ENV_VARS]
    for (name, default, defined_by, meaning), var in zip(rows, ENV_VARS, strict=True):
        assert default == (f"`{var.default}`" if var.default else "(unset)"), name
        assert defined_by == var.defined_by, name
        assert meaning.replace("`", "") == var.doc, f"{name}: the page and _config.py differ"


def _named_in(paths: list[Path]) -> set[str]:
    return {name for path in paths for name in NAMED.findall(path.read_text(encoding="utf-8"))}


def test_the_docs_and_the_code_name_no_other_variable():
    pages = [*(REPO / "docs").glob("*.md"), REPO / "README.md"]
    named = _named_in(pages) | _named_in(sorted(PACKAGE.glob("*.py")))

    assert named - {var.name for var in ENV_VARS} == set()


def _environment_reads(path: Path) -> list[int]:
    """Lines of ``path`` that touch ``os.environ`` / ``os.getenv`` directly."""
    names = ("environ", "getenv", "putenv")
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        uses_os = (
            isinstance(node, ast.Attribute)
            and node.attr in names
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
        imports_from_os = isinstance(node, ast.ImportFrom) and node.module == "os"
        if uses_os or (imports_from_os and any(a.name in names for a in node.names)):
            lines.append(node.lineno)
    return lines


def test_only_the_config_module_reads_the_environment():
    readers = {
        path.relative_to(PACKAGE).as_posix(): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() != "_model/config.py"
        and (found := _environment_reads(path))
    }

    assert readers == {}, "read environment variables through search_task_widget._model.config"


def test_reading_strips_blanks_and_falls_back_to_the_default():
    var = EnvVar("STW_TEST_SETTING", default="fallback", doc="A test variable.")

    assert var.read({}) == "fallback"
    assert var.read({"STW_TEST_SETTING": "  "}) == "fallback"
    assert var.read({"STW_TEST_SETTING": " on \n"}) == "on"
    assert not var.is_set({"STW_TEST_SETTING": ""})
    assert var.is_set({"STW_TEST_SETTING": " "})  # as globus-sdk sees it: set
    assert f"${var}" == "$STW_TEST_SETTING"
    assert var.name == "STW_TEST_SETTING"
    assert type(var.name) is str


def test_reading_the_process_environment(monkeypatch):
    monkeypatch.setenv(_config.TOKEN_ENV_VAR, " a-token ")
    assert _config.TOKEN_ENV_VAR.read() == "a-token"
    monkeypatch.delenv(_config.TOKEN_ENV_VAR)
    assert _config.TOKEN_ENV_VAR.read() == ""


@pytest.mark.parametrize("var", ENV_VARS, ids=str)
def test_names_are_what_the_environment_holds(var):
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", var)


def test_a_variable_survives_copy_and_pickle():
    for clone in (
        copy.deepcopy(_config.HUB_ENV_VAR),
        pickle.loads(pickle.dumps(_config.HUB_ENV_VAR)),
    ):
        assert clone == "GLOBUS_DATA"
        assert (clone.doc, clone.defined_by) == (_config.HUB_ENV_VAR.doc, "JupyterHub")
