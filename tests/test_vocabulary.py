"""Each fact is written once per language, and both languages say the same.

The states, their words, their order and the palette live in
``search_task_widget/_model/vocabulary.py`` and ``js/vocabulary.js``; the synced trait names
in the Python traitlets and ``js/model.d.ts`` (which ``js/vocabulary.js`` lists, checked by
tsc). These tests read the sources, as ``test_config`` does for ``os.environ``: a state
literal or a hex colour anywhere else fails, and so does a disagreement between the sides.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from search_task_widget._model import vocabulary

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "search_task_widget"
JS = REPO / "js"
PY_HOME = PACKAGE / "_model" / "vocabulary.py"
JS_HOME = JS / "vocabulary.js"

STATES = frozenset(vocabulary.STATE_DESCRIPTIONS) | {vocabulary.UNCHECKED}
#: A CSS hex colour (#rgb, #rgba, #rrggbb, #rrggbbaa), not an HTML character reference.
HEX_COLOUR = re.compile(r"(?<![&\w])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3,4})\b")


def _python_sources() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path != PY_HOME)


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant of ``path`` (f-strings' literal parts too), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(REPO)}:{line}"


def test_python_writes_state_literals_only_in_the_vocabulary():
    found = [
        _where(path, line)
        for path in _python_sources()
        for line, text in _strings(path)
        if text in STATES
    ]

    assert found == [], "use the names of _model/vocabulary.py"


def test_python_writes_hex_colours_only_in_the_vocabulary():
    found = [
        f"{_where(path, line)} {HEX_COLOUR.search(text)[0]}"
        for path in _python_sources()
        for line, text in _strings(path)
        if HEX_COLOUR.search(text)
    ]

    assert found == [], "use PALETTE (and friends) of _model/vocabulary.py"


def test_the_checks_see_what_they_look_for():
    # The checks above would pass on an empty list: the home has what they look for.
    home = [text for _, text in _strings(PY_HOME)]
    assert set(home) >= STATES
    assert any(HEX_COLOUR.search(text) for text in home)
    js_home = set(re.findall(r'"([A-Z]+)"', JS_HOME.read_text(encoding="utf-8")))
    assert set(vocabulary.STATE_DESCRIPTIONS) <= js_home


def _code(path: Path) -> str:
    """A JS module without its comments (so prose may name a state)."""
    text = re.sub(r"/\*.*?\*/ ?", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"(?m)(^|\s)//.*$", r"\1", text)


def _js_sources() -> list[Path]:
    return sorted(path for path in JS.glob("*.js") if path != JS_HOME)


def test_javascript_writes_state_literals_only_in_the_vocabulary():
    states = "|".join(sorted(STATES))
    literal = re.compile(rf"([\"'`])({states})\1|[{{,]\s*({states})\s*:")
    found = [
        f"{path.name}: {match[0]}"
        for path in _js_sources()
        for match in literal.finditer(_code(path))
    ]

    assert found == [], "import the states from js/vocabulary.js"


def test_javascript_writes_no_hex_colour():
    # Colours are the stylesheets' (theme variables with fallbacks), never the scripts'.
    found = [
        f"{path.name}: {m[0]}" for path in _js_sources() for m in HEX_COLOUR.finditer(_code(path))
    ]

    assert found == []


# -- both sides say the same ----------------------------------------------------------------


def _js_constants() -> dict[str, object]:
    """The exported constants of js/vocabulary.js: strings, and arrays or frozen objects of
    names and strings, resolved to their values."""
    text = _code(JS_HOME)
    values: dict[str, object] = dict(re.findall(r'export const (\w+) = "([^"]*)";', text))

    def value(token: str) -> object:
        token = token.strip()
        if token.isdigit():
            return int(token)
        return token.strip('"') if token.startswith('"') else values[token]

    for name, items in re.findall(r"export const (\w+) = \[([^\]]*)\];", text):
        values[name] = [value(item) for item in items.split(",") if item.strip()]
    for name, items in re.findall(r"export const (\w+) = new Set\(\[([^\]]*)\]\);", text):
        values[name] = {value(item) for item in items.split(",") if item.strip()}
    for name, items in re.findall(r"export const (\w+) = Object\.freeze\(\{([^}]*)\}\);", text):
        pairs = [item.split(":") for item in items.split(",") if item.strip()]
        values[name] = {value(k.strip("[] ")): value(v) for k, v in pairs}
    return values


def test_javascript_says_what_python_says():
    js = _js_constants()

    for state in vocabulary.STATE_DESCRIPTIONS:
        assert js[state] == getattr(vocabulary, state)
    assert js["ACTIVE"] == vocabulary.ACTIVE_STATES
    assert js["QUEUED"] == vocabulary.QUEUED_STATES
    assert js["TERMINAL"] == vocabulary.TERMINAL_STATES
    assert js["STATE_ORDER"] == list(vocabulary.STATE_ORDER)
    assert js["STAGES"] == list(vocabulary.STAGES)
    assert js["STAGE_OF"] == dict(vocabulary.STAGE_OF)
    assert js["OUTCOME_WORDS"] == dict(vocabulary.OUTCOME_WORDS)
    for name in ("NOT_CHECKED", "NOT_CHECKED_YET", "NO_TASKS"):
        assert js[name] == getattr(vocabulary, name), name


# -- trait names ----------------------------------------------------------------------------


def _declared_types() -> dict[str, tuple[list[str], list[str]]]:
    """model.d.ts: each ``export type X = A & B & { field: ...; }`` as (parts, fields)."""
    text = (JS / "model.d.ts").read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    types = {}
    for name, body in re.findall(
        r"export type (\w+)(?:<[^>]*>)? = (.*?)(?=\n(?:export|declare|$))", text, re.S
    ):
        block = re.search(r"\{(.*)\}", body, re.S)
        fields = re.findall(r"(?m)^\s+(\w+)\??:", block[1]) if block else []
        head = body[: block.start()] if block else body
        types[name] = (re.findall(r"\b([A-Z]\w+)\b", head), fields)
    return types


def _fields(types: dict[str, tuple[list[str], list[str]]], name: str) -> set[str]:
    parts, fields = types[name]
    return set(fields).union(*(_fields(types, part) for part in parts if part in types))


def _js_trait_set(name: str) -> set[str]:
    text = _code(JS_HOME)
    body = re.search(rf"const {name} = Object\.freeze\(\{{(.*?)\}}\);", text, re.S)
    assert body is not None, name
    return set(re.findall(r"(\w+): true", body[1]))


@pytest.mark.parametrize(
    ("module", "cls", "own", "js_set"),
    [
        ("widget", "TaskWidget", "TaskOwnTraits", "TASK_TRAIT_SET"),
        ("list_widget", "TaskListWidget", "ListOwnTraits", "LIST_TRAIT_SET"),
    ],
)
def test_python_traits_model_d_ts_and_the_js_lists_agree(module, cls, own, js_set):
    import importlib

    widget = getattr(importlib.import_module(f"search_task_widget._views.{module}"), cls)
    types = _declared_types()

    python = set(widget._view_traits())
    assert python == _fields(types, own)
    assert python == _js_trait_set(js_set)


def test_the_traits_every_widget_has_agree():
    import ipywidgets

    from search_task_widget._views.base import PolledWidget
    from search_task_widget._views.sign_in import SignInWidget

    types = _declared_types()
    ipywidgets_own = set(ipywidgets.DOMWidget.class_trait_names(sync=True))

    def public(widget: type) -> set[str]:
        names = set(widget.class_trait_names(sync=True)) - ipywidgets_own
        return {name for name in names if not name.startswith("_")}

    assert public(PolledWidget) == _fields(types, "SignInTraits") | _fields(types, "NotifyTraits")
    assert _fields(types, "SignInTraits") == _js_trait_set("SIGN_IN_TRAIT_SET")
    assert public(SignInWidget) == _fields(types, "SignInWidgetTraits")


# -- lists that other lists used to repeat --------------------------------------------------


def test_the_cli_help_names_every_scenario_of_the_simulator(capsys):
    from search_task_widget._terminal import cli
    from search_task_widget.simulator import SCENARIOS

    _, watch = cli._parsers()
    text = " ".join(watch.format_help().split())

    assert (
        "SCENARIO: "
        + ", ".join(f"{name} (default)" if name == "success" else name for name in SCENARIOS)
        in text
    )


def test_every_call_that_creates_a_task_is_routed_and_recognised():
    from search_task_widget._service.reply import _TASK_CREATING_PATH
    from search_task_widget.simulator import service

    index = "/v1/index/85a76897-0d62-4677-a00b-06f5ed2acb0c/"
    assert set(service._TASK_ROUTES) == set(vocabulary.TASK_CALLS)
    for action, (method, _task_type) in vocabulary.TASK_CALLS.items():
        assert service._TASK_ROUTES[action][0] == method
        assert _TASK_CREATING_PATH.search(index + action), action
    assert not _TASK_CREATING_PATH.search(index + "search")


def test_the_stylesheets_paint_the_state_tones_with_the_palette():
    # The front end's colours live in its stylesheets (theme variables with fallbacks); the
    # tones of states must fall back to the same values as the documents' palette.
    fallbacks = re.compile(r"var\((--jp-[a-z0-9-]+),\s*(#[0-9a-fA-F]+)\)")
    used = {
        (v, c.lower()) for path in JS.glob("*.css") for v, c in fallbacks.findall(path.read_text())
    }
    for tone in ("success", "failed", "running"):
        variable, plain = vocabulary.PALETTE[tone]
        assert {c for v, c in used if v == variable} == {plain}, tone
