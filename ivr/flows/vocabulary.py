"""Words a menu listens for that the language's Vosk model does not know (Vosk drops them silently)."""

from __future__ import annotations

from ivr.flows.loader import expand_paths, read_flow_file
from ivr.flows.model import Flow, MenuNode
from ivr.flows.problems import WARNING, Problem


def vocabulary_problems(flow: Flow, model, language_setting: str) -> list[Problem]:
    """One warning per option word the model cannot recognise, at the option's line."""
    from speech.models import missing_words

    problems = []
    options = [(node.id, option) for node in flow.nodes.values() if isinstance(node, MenuNode)
               for option in node.options]
    options += [("every menu", option) for option in flow.globals.values()]
    for menu, option in options:
        for word in missing_words(model, list(option.phrases)):
            problems.append(Problem(option.where.path, option.where.line, (
                f"menu '{menu}': option '{option.key}': the word '{word}' is not in the Vosk model for "
                f"'{flow.language}' ({language_setting}); callers can press the key but not say it"), WARNING))
    return problems


def check_vocabulary(paths: list[str], model_paths: dict[str, str]) -> list[Problem]:
    """Vocabulary warnings for every clean flow whose language has a configured model."""
    from speech.models import ModelRegistry

    registry = ModelRegistry(model_paths)
    files, _ = expand_paths(paths)
    problems: list[Problem] = []
    for path in files:
        flow, found = read_flow_file(path)
        if flow is None or flow.language not in registry.languages:
            continue
        setting = f"HAUSRUF_VOSK_MODEL_{flow.language.upper()}"
        problems.extend(vocabulary_problems(flow, registry.get(flow.language), setting))
    return sorted(problems)
