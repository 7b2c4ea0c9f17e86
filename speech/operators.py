"""`hausruf speech eval`: an operator's labelled recordings through the live path, with their flow's menu."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from speech.evaluation import NONE, ScriptedSocket, evaluate, read_labels, repeatable_decoding, table, twilio_messages
from speech.models import MissingModelError, ModelRegistry

MAX_GROUP_VALUES = 20  # a column with more distinct values (the words said, file notes) is not a breakdown


class EvalError(ValueError):
    """The flow, menu or model to evaluate with cannot be used (the message says why)."""


def _menu(flows, flow_name: str, language: str, menu_id: str | None):
    from ivr.flows.model import MenuNode

    try:
        flow = flows.get(flow_name, language)
    except KeyError as exc:
        raise EvalError(str(exc.args[0])) from None
    menus = [node_id for node_id, node in flow.nodes.items() if isinstance(node, MenuNode)]
    node_id = menu_id or (flow.start if flow.start in menus else (menus[0] if menus else None))
    if node_id not in menus:
        raise EvalError(f"flow '{flow.key}': '{node_id}' is not a menu; menus: {', '.join(menus) or 'none'}")
    return flow, flow.nodes[node_id]


def option_names(flow, node) -> dict[str, str]:
    """Every spoken phrase, label and key of the menu's options (and the globals) -> the option's label."""
    from ivr.engine.runner import _choices

    names: dict[str, str] = {}
    for option in _choices(flow, node):
        for name in (option.key, option.label, *option.phrases):
            names.setdefault(name.lower(), option.label.lower())
    return names


def evaluate_folder(settings, folder: Path, flow_name=None, language=None, menu_id=None) -> str:
    """The table for a folder of labelled WAV files, decided as a live call in that menu would."""
    from ivr.engine import menu_phrases
    from ivr.flows.flowset import FlowSet
    from ivr.telephony.twilio.stream import StreamSession

    flows = FlowSet.load(settings.flows_dir)
    flow, node = _menu(flows, flow_name or settings.flow_name, language or settings.default_language, menu_id)
    names = option_names(flow, node)
    items = []
    for item in read_labels(folder):  # the labels' mistakes first: loading a model takes seconds
        if item.expected != NONE and item.expected not in names:
            raise EvalError(f"{folder / 'labels.tsv'}: {item.path.name}: expected '{item.expected}' is no option of "
                            f"menu '{node.id}'; use 'none' or one of: {', '.join(sorted(set(names)))}")
        items.append(replace(item, expected=names.get(item.expected, NONE)))
    registry = ModelRegistry(settings.vosk_models)
    try:
        registry.get(flow.language)
    except MissingModelError as exc:
        raise EvalError(str(exc)) from None
    # Only what StreamSession reads of the app's wiring (ivr.wiring.Hausruf): the flows and the models.
    app = SimpleNamespace(extensions={"hausruf": SimpleNamespace(flows=SimpleNamespace(current=lambda: flows),
                                                                 speech_models=registry)})
    params = {"step": "1", "node": node.id, "language": flow.language, "revision": flow.revision}

    class EvalSession(StreamSession):
        """The live session with its own menu lookup; the redirect is noted instead of sent."""

        heard: str | None = None

        def _act(self, phrase: str) -> None:
            self.heard = phrase

    def decide(audio: list[bytes]) -> str | None:
        # The handshake's call and step, as the keyed stream URL carries them (twilio_messages' call sid).
        session = EvalSession(app, ScriptedSocket(twilio_messages(audio, params=params)), "CA" + "0" * 32, "1")
        # Two runs on the same folder (before and after changing a menu's words) print the same table
        # for the same recordings, rather than differing by Vosk's random dither.
        repeatable_decoding()
        session.run()
        return names.get(session.heard.lower()) if session.heard else None

    results = evaluate(items, decide)
    columns = sorted({key for item in items for key in item.columns})
    # A column whose every row differs (the words said, notes) would only repeat the rows.
    by = [c for c in columns if 1 < len({i.columns.get(c) for i in items}) <= min(MAX_GROUP_VALUES, len(items) - 1)]
    words = ", ".join(menu_phrases(flow, node))
    return (f"{len(items)} recordings in {folder}, menu '{node.id}' of flow '{flow.key}' ({words}), "
            f"model {registry.path(flow.language)}\n\n{table(results, by)}")
