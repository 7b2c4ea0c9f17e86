"""`hausruf call` (terminal call simulator) and `hausruf test` (flow conversation tests)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from ivr.config import Settings
from ivr.engine.actions import Ask
from ivr.engine.events import NoInput, WordsSpoken
from ivr.simulator.conversation import load_test_files, parse_tests, run_test
from ivr.simulator.directory import DirectoryContexts
from ivr.simulator.inputs import InputError, event_for_line
from ivr.simulator.render import describe, describe_caller
from ivr.simulator.session import SimulatedCall


def register(group: click.Group) -> None:
    """Add the simulator commands to the `hausruf` group."""
    group.add_command(call_command)
    group.add_command(test_command)


class _OneFlow:
    """A single flow file standing in for a FlowSet (`hausruf call --flow path/to/file.yaml`)."""

    def __init__(self, path: Path):
        from ivr.flows.loader import load_flow_file

        self.flow = load_flow_file(path)

    def get(self, name, language, fallback_language=None):
        return self.flow


def _flows(settings: Settings, flow: str | None):
    """The flows, and the flow name to use (`--flow` may name a flow or a file)."""
    from ivr.flows.flowset import FlowSet
    from ivr.flows.problems import FlowError

    try:
        if flow and Path(flow).is_file():
            single = _OneFlow(Path(flow))
            return single, single.flow.name
    except FlowError as exc:
        raise click.ClickException(f"the flow has problems:\n{exc}") from exc
    flowset = FlowSet.load(settings.flows_dir)
    errors = [p for p in flowset.problems if p.severity == "error"]
    if errors:
        click.echo("\n".join(str(p) for p in errors), err=True)
    name = flow or settings.flow_name
    names = sorted({f.name for f in flowset.flows()})
    if flow and name not in names:
        allowed = ", ".join(names) or f"none in {settings.flows_dir}"
        raise click.BadParameter(f"{name!r} is neither a flow nor a flow file; allowed: a flow name ({allowed}) "
                                 "or the path of a flow file", param_hint="'--flow'")
    return flowset, name


TIME_FORMAT = "%Y-%m-%d %H:%M"


def _when(at: str | None, zone: ZoneInfo) -> datetime:
    """--at as a local time; a usage error (exit 2) that shows the form when it is not one."""
    if not at:
        return datetime.now(zone)
    try:
        return datetime.strptime(at.strip(), TIME_FORMAT).replace(tzinfo=zone)
    except ValueError:
        raise click.BadParameter(f"{at!r} is not a date and time; allowed: 'YYYY-MM-DD HH:MM', e.g. "
                                 "'2026-03-04 10:00' (local time)", param_hint="'--at'") from None


def _caller(number: str) -> str:
    """--from as a phone number ('anonymous' for a withheld number); a usage error when it is neither."""
    from ivr.directory.phones import PhoneNumberError, normalise

    if number.strip().lower() in ("anonymous", "withheld"):
        return "anonymous"
    try:
        normalise(number)
    except PhoneNumberError:
        raise click.BadParameter(f"{number!r} is not a phone number; allowed: a number such as "
                                 "'+49 30 23125301' or '030 23125301', or 'anonymous'", param_hint="'--from'") from None
    return number


@click.command("call")
@click.option("--from", "number", required=True, help="The caller's number, in any formatting.")
@click.option("--flow", "flow", default=None, help="Flow name or flow file (default: the configured flow).")
@click.option("--at", "at", default=None, help="Local time of the call, e.g. '2026-03-04 10:00' (default: now).")
@click.option("--language", default=None, help="Flow language (default: the caller's, else the configured one).")
@click.option("--directory", "directory_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Directory folder to load into a temporary database instead of the configured database.")
@click.option("--audio", "audio_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A WAV file the caller speaks at the next menu (repeatable); recognised offline with Vosk.")
def call_command(number, flow, at, language, directory_dir, audio_files):
    """Simulate a call in the terminal: one key or spoken word per line on stdin.

    An empty line is silence; at a dial type completed, busy, no-answer or failed; at a recording
    type the message (empty: nothing said); 'hangup' or end of input hangs up. Nothing is booked
    and no SMS is sent: the simulator only shows what the hotline would do.
    """
    settings = Settings.from_env()
    zone = ZoneInfo(settings.timezone)
    when = _when(at, zone)
    number = _caller(number)
    flowset, name = _flows(settings, flow)
    with DirectoryContexts(settings, directory_dir) as contexts:
        if contexts.note:
            click.echo(contexts.note, err=True)
        context = contexts.context(number, when)
    try:
        chosen = flowset.get(name, language or context.caller.language, settings.default_language)
    except KeyError as exc:  # a broken flow is refused (its problems are printed above), or none has that name
        raise click.ClickException(str(exc.args[0])) from exc
    click.echo(describe_caller(number, context.caller))
    call = SimulatedCall(chosen, context)
    _show(call.start())
    audio = list(audio_files)
    while audio and isinstance(call.waiting_for, Ask) and not call.state.finished:
        _show(call.send(_hear_audio(audio.pop(0), call.waiting_for, settings)))
    while not call.state.finished:
        line = sys.stdin.readline()
        if not line:
            click.echo("caller hangs up")
            call.send(event_for_line("hangup", None))
            break
        try:
            event = event_for_line(line, call.waiting_for)
        except InputError as exc:
            click.echo(f"  ({exc})", err=True)
            continue
        click.echo(f"caller: {_caller_line(line)}")
        _show(call.send(event))


def _hear_audio(path: str, ask: Ask, settings: Settings):
    """Run the menu's recogniser over a WAV file, as the media stream would on a live call."""
    from speech.recognizer import MenuRecognizer, MissingModelError, ModelRegistry
    from speech.simulate import recognize_wav

    try:
        model = ModelRegistry(settings.vosk_models).get(ask.language)
    except MissingModelError as exc:
        raise click.ClickException(str(exc)) from exc
    match = recognize_wav(MenuRecognizer(model, list(ask.phrases)), path)
    if match is None:
        click.echo(f"caller speaks {path}: nothing recognised (treated as silence)")
        return NoInput()
    click.echo(f"caller speaks {path}: heard {match.phrase!r} (confidence {match.confidence:.2f})")
    return WordsSpoken(match.phrase)


def _caller_line(line: str) -> str:
    text = line.strip()
    return f"presses {text}" if text and set(text) <= set("0123456789*#") else (f"says {text!r}" if text else "(silence)")


def _show(actions) -> None:
    for action in actions:
        for text in describe(action):
            click.echo(text)


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--directory", "directory_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Directory folder for tests whose caller is a number (default: data/demo).")
def test_command(paths, directory_dir):
    """Run flow conversation tests (default: the tests/ folder next to the flows)."""
    settings = Settings.from_env()
    flowset, _ = _flows(settings, None)
    files = load_test_files(list(paths) or [settings.flows_dir])
    if not files:
        raise click.ClickException("no conversation test files found")
    failed = total = unreadable = 0
    with DirectoryContexts(settings, directory_dir or str(settings.data_dir / "demo"), prefer_folder=True) as contexts:
        for file in files:
            tests, problems = parse_tests(file.read_text(encoding="utf-8"), _shown(file), settings.timezone)
            for problem in problems:
                click.echo(str(problem), err=True)
            if problems:
                unreadable += 1
                continue  # a file with problems is not run: they are what it has to say
            for test in tests:
                flow_for = lambda language, test=test: flowset.get(test.flow, language, settings.default_language)
                result = run_test(test, flow_for, contexts.context)
                total += 1
                failed += not result.passed
                click.echo(str(result))
    summary = f"{total - failed} passed, {failed} failed"
    if unreadable:
        click.echo(f"{summary}; {unreadable} of {len(files)} files are not conversation tests that can run "
                   "(a file needs 'version: 1' and a 'tests:' list; see flows/tests/hotline.yaml)", err=True)
        sys.exit(2)
    click.echo(summary)
    sys.exit(1 if failed else 0)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
