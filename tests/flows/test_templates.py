"""Templates are checked against the variables the engine really provides, and never drop a call at run time."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.engine import CallContext, Caller, CallStarted, CallState, Say, advance
from ivr.engine.context import ServiceStatus, TemplateVariables
from ivr.flows.loader import parse_flow_text
from ivr.flows.templates import ALLOWED_FILTERS, render
from ivr.flows.variables import engine_variables
from tests.flows.flowtext import EXTRA_LINE, HEAD, problems_of, with_node

ROOT = Path(__file__).resolve().parents[2]
AT = f"t.yaml:{EXTRA_LINE}: node 'extra'"
ALLOWED = (
    "caller.number, caller.known, caller.first_name, caller.last_name, caller.salutation, caller.language, "
    "caller.house_id, caller.house_name, caller.region_id, caller.region_name, caller.house_chat, hotline, now, service.kind, "
    "service.status, service.partner_name, service.numbers, service.whisper, service.hours_text, "
    "service.next_open_text"
)
FILTERS = ", ".join(ALLOWED_FILTERS)

CASES = {
    "misspelt caller field": (
        '{kind: say, prompt: "Guten Tag, {{ caller.salutaton }}.", next: bye}',
        [f"{AT}: prompt uses unknown variable 'caller.salutaton'; did you mean 'caller.salutation'? allowed: {ALLOWED}"],
    ),
    "misspelt service field": (
        '{kind: say, prompt: "{{ service.partnername }} ist zu.", next: bye}',
        [f"{AT}: prompt uses unknown variable 'service.partnername'; did you mean 'service.partner_name'? allowed: {ALLOWED}"],
    ),
    "unknown name, in the second segment": (
        '{kind: say, prompt: ["Hallo.", "{{ anrufer.name }}"], next: bye}',
        [f"{AT}: prompt[1] uses unknown variable 'anrufer'; allowed: {ALLOWED}"],
    ),
    "item access is checked like attribute access": (
        """{kind: say, prompt: "{{ caller['vorname'] }}", next: bye}""",
        [f"{AT}: prompt uses unknown variable 'caller.vorname'; allowed: {ALLOWED}"],
    ),
    "attribute of a plain value": (
        '{kind: say, prompt: "Es ist {{ now.huor }} Uhr.", next: bye}',
        [f"{AT}: prompt uses unknown variable 'now.huor'; allowed: {ALLOWED}"],
    ),
    "a whole record spoken": (
        '{kind: say, prompt: "Hallo {{ caller }}.", next: bye}',
        [
            f"{AT}: prompt speaks 'caller' itself, which is not text; use one of: caller.number, caller.known, "
            "caller.first_name, caller.last_name, caller.salutation, caller.language, caller.house_id, "
            "caller.house_name, caller.region_id, caller.region_name, caller.house_chat"
        ],
    ),
    "a filter the sandbox does not offer": (
        '{kind: say, prompt: "{{ caller.first_name | safe }}", next: bye}',
        [f"{AT}: prompt uses filter 'safe', which prompts may not use; allowed: {FILTERS}"],
    ),
    "a misspelt filter": (
        '{kind: say, prompt: "{{ caller.first_name | uper }}", next: bye}',
        [f"{AT}: prompt uses filter 'uper', which prompts may not use; did you mean 'upper'? allowed: {FILTERS}"],
    ),
    "a test the sandbox does not offer": (
        '{kind: say, prompt: "{% if caller.first_name is sameas 1 %}x{% endif %}", next: bye}',
        [
            f"{AT}: prompt uses test 'sameas', which prompts may not use; allowed: defined, divisibleby, eq, even, "
            "false, ge, gt, in, le, lt, ne, none, number, odd, string, true, undefined"
        ],
    ),
    "a global function": (
        '{kind: say, prompt: "{% for i in range(3) %}Hallo {% endfor %}", next: bye}',
        [f"{AT}: prompt uses unknown variable 'range'; allowed: {ALLOWED}"],
    ),
    "whisper of a connect": (
        '{kind: connect, target: staff, whisper: "Anruf von {{ caller.hous_name }}", fallback: bye}',
        [f"{AT}: whisper uses unknown variable 'caller.hous_name'; did you mean 'caller.house_name'? allowed: {ALLOWED}"],
    ),
    "task topic (the SMS text)": (
        '{kind: callback, for: staff, topic: "Rückruf {{ service.knd }}", next: bye}',
        [f"{AT}: topic uses unknown variable 'service.knd'; did you mean 'service.kind'? allowed: {ALLOWED}"],
    ),
}


@pytest.mark.parametrize("node, expected", CASES.values(), ids=CASES.keys())
def test_template_problem_messages(node, expected):
    assert problems_of(with_node(node)) == expected


@pytest.mark.parametrize("prompt", [
    "Guten Tag, {{ caller.salutation }}.",
    "{% if caller.known %}{{ caller.first_name | upper }} aus {{ caller.house_name }}{% endif %}",
    "{% set name = caller.first_name %}{{ name }} {{ hotline }} {{ now.hour }}",
    "{% if service %}{{ service.partner_name }}: {{ service.hours_text }}{% endif %}",
    "{{ caller.salutation.upper() }}",
])
def test_variables_the_engine_provides_pass(prompt):
    assert problems_of(with_node(f'{{kind: say, prompt: "{prompt}", next: bye}}')) == []


def test_allowed_variables_follow_the_engine_context_classes(monkeypatch):
    """One source of truth: a field added to Caller is allowed at once, nothing is listed by hand."""
    assert engine_variables().allowed() == ALLOWED.split(", ")
    field_names = [f.name for f in dataclasses.fields(TemplateVariables)]
    context = CallContext(now=datetime(2026, 3, 4, 10, tzinfo=ZoneInfo("Europe/Berlin")))
    assert list(context.template_variables(None).as_dict()) == field_names == ["caller", "service", "hotline", "now", "answers"]


def test_a_flow_can_declare_its_own_variables():
    """Room for answers a flow collects: a declared key is allowed, an undeclared one is not."""
    variables = engine_variables({"answers": ("street",)})
    variables = dataclasses.replace(variables, types={**variables.types, "answers": dict[str, str]})
    from ivr.flows.templates import template_problems

    assert template_problems("{{ answers.street }}", variables) == []
    assert template_problems("{{ answers.stret }}", variables)[0].startswith(
        "uses unknown variable 'answers.stret'; did you mean 'answers.street'? allowed: "
    )


# -- at run time ---------------------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
RUNTIME_FLOW = HEAD.replace("start: menu", "start: hello") + """\
nodes:
  hello: {kind: say, prompt: "Guten Tag, {{ service.partner_name }}. Hier ist {{ hotline }}.", next: bye}
  bye: {kind: hangup, prompt: "Auf Wiederhören."}
"""


@pytest.mark.parametrize("source, expected", [
    ("Guten Tag, {{ service.partner_name }}. Hier ist {{ hotline }}.", "Guten Tag. Hier ist Hausruf."),
    ("{{ service.partner_name }} ist gerade nicht besetzt.", "ist gerade nicht besetzt."),
    ("Es ruft {{ caller.first_name | int(1) + service.kind }} an.", "Es ruft an."),
])
def test_a_failing_template_is_spoken_without_its_variable_part(source, expected, caplog):
    variables = {"caller": Caller(), "service": None, "hotline": "Hausruf", "now": datetime(2026, 3, 4, tzinfo=BERLIN)}
    with caplog.at_level(logging.WARNING, logger="hausruf.templates"):
        assert render(source, variables, where="t.yaml:9") == expected
    assert "prompt template at t.yaml:9 failed" in caplog.text


def test_a_call_through_a_failing_template_goes_on_instead_of_the_apology(caplog):
    flow, problems = parse_flow_text(RUNTIME_FLOW, "t.yaml")
    assert flow is not None, problems
    context = CallContext(now=datetime(2026, 3, 4, 10, tzinfo=BERLIN), caller=Caller(number="+4930999", known=False))
    with caplog.at_level(logging.WARNING, logger="hausruf.templates"):
        state, actions = advance(flow, CallState(), CallStarted(), context)
    assert [a for a in actions if isinstance(a, Say)][0].segments == ("Guten Tag. Hier ist Hausruf.",)
    assert state.finished
    assert "t.yaml:9" in caplog.text and "+4930999" not in caplog.text


def _copy_of_demo(tmp_path: Path, old: str, new: str) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (ROOT / "flows" / "hotline.yaml").read_text(encoding="utf-8")
    assert old in text
    (flows / "hotline.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return flows / "hotline.yaml"


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


@pytest.mark.parametrize("old, new, node, field, suggestion", [
    ("{{ caller.salutation }}. Hier", "{{ caller.salutaton }}. Hier", "greet_known", "prompt[0]", "caller.salutation"),
    ("Einkaufsdienst {{ service.partner_name }}", "Einkaufsdienst {{ service.partnername }}", "groceries", "prompt",
     "service.partner_name"),
])
def test_hausruf_check_refuses_a_misspelt_variable_in_the_demo_flow(tmp_path, monkeypatch, old, new, node, field,
                                                                       suggestion):
    path = _copy_of_demo(tmp_path, old, new)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "flows/hotline.yaml"])
    assert result.exit_code == 1, result.output
    wrong = new.split("{{ ")[1].split(" }}")[0]
    assert result.stdout.splitlines() == [
        f"flows/hotline.yaml:{_line_of(path, wrong)}: node '{node}': {field} uses unknown variable '{wrong}'; "
        f"did you mean '{suggestion}'? allowed: {ALLOWED}"
    ]


@pytest.mark.parametrize("args", [
    ["call", "--from", "+49 30 23125301", "--flow", "flows/hotline.yaml"],
    ["call", "--from", "+49 30 23125301"],
    ["test"],
], ids=["call --flow FILE", "call", "test"])
def test_hausruf_call_and_test_report_such_a_flow_without_a_traceback(tmp_path, monkeypatch, args):
    _copy_of_demo(tmp_path, "{{ caller.salutation }}. Hier", "{{ caller.salutaton }}. Hier")
    shutil.copytree(ROOT / "flows" / "tests", tmp_path / "flows" / "tests")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HAUSRUF_FLOWS_DIR", str(tmp_path / "flows"))
    monkeypatch.setenv("HAUSRUF_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, [*args, "--directory", str(ROOT / "data" / "demo")], input="")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    assert "caller.salutaton" in result.stderr
