"""Step a call through its flow: run nodes until one waits for the caller, a dial or a recording."""

from __future__ import annotations

from ivr.engine.actions import (
    Action,
    Ask,
    BookCallback,
    Dial,
    DiscardHouseMessage,
    DraftHouseMessage,
    Hangup,
    Outcome,
    Poll,
    Record,
    Say,
    SendHouseMessage,
)
from ivr.engine.context import CallContext
from ivr.engine.events import (
    CallerHungUp,
    CallStarted,
    DialFinished,
    DigitsPressed,
    Event,
    MessageTranscribed,
    NoInput,
    RecordingFinished,
    Resume,
    WordsSpoken,
)
from ivr.engine.state import CallState
from ivr.engine.conditions import holds
from ivr.engine.emergency import is_emergency_number
from ivr.engine.housenews import news_sentences
from ivr.engine.words import normalise, repeat_words
from ivr.flows import model as m
from ivr.flows.templates import render
from ivr.housing.actions import BookProjectCallback, HousingMatched, SendDetails
from ivr.housing.ranking import Seeker, rank
from ivr.housing.vocabulary import ANY, budget_band
from ivr.housing.wording import said_closest, said_matches

DIGIT_KEYS = tuple("0123456789")

# Nodes that run without waiting (say, goto, condition, callback) may chain, but a flow whose
# chain never reaches a waiting node would spin forever; the checker cannot see every runtime path.
MAX_CHAIN = 64
CONNECTED = ("completed", "answered")
# A message to the neighbours: while the worker transcribes it the call asks every POLL_SECONDS. The
# full-vocabulary decoder runs at about half real time on one core, so a message of n seconds is
# read back within n + POLL_SLACK_SECONDS, or the caller hears that it was not understood.
POLL_SECONDS = 3
POLL_SLACK_SECONDS = 20
WAIT_AGAIN_EVERY = 4  # polls between two "Einen Moment bitte": never a long silence


def advance(flow: m.Flow, state: CallState, event: Event, context: CallContext) -> tuple[CallState, list[Action]]:
    """Apply one event to a call; return the new state and what the hotline does now."""
    step = _Step(flow, context)
    step.service = state.service
    state = state.evolve(steps=state.steps + 1)
    if isinstance(event, CallerHungUp):
        return state.evolve(finished=True, waiting=None), []
    if state.finished:
        return state, [Hangup(outcome="already-finished")]
    if isinstance(event, CallStarted) or state.node is None:
        return step.run(state.at(flow.start))
    node = flow.nodes.get(state.node)
    if node is None:
        # Only possible if a call's flow revision was lost; get the caller to a person.
        step.actions.append(Outcome("error", f"unknown node '{state.node}'"))
        return step.run(state.at(flow.globals["person"].goto))
    if isinstance(node, m.HouseMessageNode) and state.waiting in ("transcribing", "menu"):
        return step.on_house_message(state, node, event)
    if isinstance(event, Resume):
        if state.waiting == "menu" and isinstance(node, (m.MenuNode, m.AskNode)):
            return step._repeat(state, node)
        return step.run(state.at(state.node))
    if state.waiting == "menu" and isinstance(node, m.MenuNode):
        return step.on_menu(state, node, event)
    if state.waiting == "menu" and isinstance(node, m.AskNode):
        return step.on_ask(state, node, event)
    if state.waiting == "dial" and isinstance(node, m.ConnectNode):
        return step.on_dial(state, node, event)
    if state.waiting == "record" and isinstance(node, m.MessageNode):
        return step.on_record(state, node, event)
    if state.waiting == "record" and isinstance(node, m.HouseMessageNode):
        return step.on_house_record(state, node, event)
    # An event the current node does not expect (a late key press during a dial, say): repeat
    # what the node was doing rather than guess; the adapter re-renders the waiting action.
    return step.run(state.at(state.node))


def menu_phrases(flow: m.Flow, node: m.MenuNode) -> tuple[str, ...]:
    """Every phrase a recogniser should listen for in this menu (options, globals, repeat)."""
    phrases: list[str] = []
    for option in _choices(flow, node):
        phrases.extend(option.phrases)
    phrases.extend(repeat_words(flow.language))
    return tuple(dict.fromkeys(phrases))


def _choices(flow: m.Flow, node: m.MenuNode | m.AskNode) -> tuple[m.Option | m.Choice, ...]:
    """A menu's (or question's) own options, then the global ones reachable from every menu."""
    return node.options + _globals(flow)


def _globals(flow: m.Flow) -> tuple[m.Option, ...]:
    return tuple(flow.globals[name] for name in m.GLOBAL_NAMES if name in flow.globals)


class _Step:
    """One call of advance(): collects actions while nodes run."""

    def __init__(self, flow: m.Flow, context: CallContext):
        self.flow = flow
        self.context = context
        self.actions: list[Action] = []
        self.service: str | None = None  # set from the state as nodes run
        self.answers: dict = {}  # set from the state as nodes run
        self._cached_variables: dict | None = None  # built for _variables_service
        self._variables_service: str | None = None

    # -- speaking -------------------------------------------------------------------------------

    def _variables(self) -> dict:
        # A menu renders a dozen segments; they share one set of variables until the service changes.
        if self._cached_variables is None or self._variables_service != self.service:
            self._cached_variables = self.context.template_variables(self.service).as_dict()
            self._variables_service = self.service
        self._cached_variables["answers"] = self.answers
        return self._cached_variables

    def _segments(self, prompt: m.Prompt | None) -> tuple[str, ...]:
        if prompt is None:
            return ()
        variables = self._variables()
        rendered = (render(segment, variables, str(prompt.where)) for segment in prompt.segments)
        return tuple(text for text in rendered if text)

    def say(self, prompt: m.Prompt | None) -> None:
        segments = self._segments(prompt)
        if segments:
            self.actions.append(Say(segments, self.flow.language))

    # -- running nodes --------------------------------------------------------------------------

    def run(self, state: CallState) -> tuple[CallState, list[Action]]:
        """Run from state.node until a node waits or the call ends."""
        emergency = self.flow.globals.get("emergency")
        for _ in range(MAX_CHAIN):
            node = self.flow.nodes[state.node]
            self.service = state.service
            self.answers = state.answers
            if emergency is not None and node.id == emergency.goto:
                # The advice comes first however the path is reached (key, word, or a goto from any
                # node), so no edit of the emergency node can put anything before it.
                self.say(emergency.advice)
            handler = getattr(self, f"_run_{type(node).__name__}")
            self._changes = {}
            next_id, waiting = handler(node, state)
            if self.service != state.service:
                state = state.evolve(service=self.service)
            if self._changes:
                state = state.evolve(**self._changes)
            if waiting is not None:
                return state.at(node.id, waiting=waiting), self.actions
            if next_id is None:
                return state.at(node.id).evolve(finished=True), self.actions
            state = state.at(next_id)
        self.actions.append(Outcome("error", f"flow loops without waiting at node '{state.node}'"))
        self.actions.append(Hangup(outcome="error"))
        return state.evolve(finished=True, waiting=None), self.actions

    def _run_SayNode(self, node: m.SayNode, state):
        self.say(node.prompt)
        return node.next, None

    def _run_GotoNode(self, node: m.GotoNode, state):
        return node.target, None

    def _run_ConditionNode(self, node: m.ConditionNode, state):
        for branch in node.branches:
            if holds(branch.test, self.context, state.answers):
                return branch.goto, None
        return node.otherwise, None

    def _run_HangupNode(self, node: m.HangupNode, state):
        self.say(node.prompt)
        self.actions.append(Hangup())
        return None, None

    def _run_CallbackNode(self, node: m.CallbackNode, state):
        if node.audience == "project":
            return self._project_callback(node, state)
        audience, topic = self._audience(node.audience), self._text(node.topic, node)
        self.actions.append(BookCallback(node=node.id, audience=audience, topic=topic))
        self.actions.append(Outcome("callback", audience, (("topic", topic),)))
        self.say(node.prompt)
        return node.next, None

    def _run_MenuNode(self, node: m.MenuNode, state, lead: tuple[str, ...] = ()):
        segments = lead + self._segments(node.prompt)
        # Global options (a person, emergency) are announced in every menu, after the menu's own.
        for option in _choices(self.flow, node):
            if option.say is None:
                continue
            if option.service and self.context.service(option.service).status == "unavailable":
                continue  # keys never move: the option still answers if pressed, it is only not offered
            segments += self._segments(option.say)
        segments += self._segments(node.closing)
        keys = tuple(o.key for o in _choices(self.flow, node))
        if node.repeat_key:
            keys += (node.repeat_key,)
        self.actions.append(Ask(node=node.id, segments=segments, language=self.flow.language,
                                timeout_seconds=node.timeout, keys=keys,
                                phrases=menu_phrases(self.flow, node)))
        return node.id, "menu"

    def _run_AskNode(self, node: m.AskNode, state, lead: tuple[str, ...] = ()):
        segments = lead + self._segments(node.prompt)
        for choice in _choices(self.flow, node) if node.options else ():
            segments += self._segments(choice.say)
        segments += self._segments(node.closing) if node.options else ()
        phrases = [p for c in _choices(self.flow, node) for p in c.phrases] if node.options else \
            [p for g in _globals(self.flow) for p in g.phrases]
        phrases += repeat_words(self.flow.language)
        if node.number is not None:
            keys, finish = DIGIT_KEYS + ("*", "#"), "#"
        else:
            keys, finish = tuple(c.key for c in _choices(self.flow, node)), None
            keys += (node.repeat_key,) if node.repeat_key else ()
        self.actions.append(Ask(node=node.id, segments=segments, language=self.flow.language,
                                timeout_seconds=node.timeout, keys=keys, phrases=tuple(dict.fromkeys(phrases)),
                                finish_on_key=finish))
        return node.id, "menu"

    def _run_MatchNode(self, node: m.MatchNode, state):
        seeker = self._seeker(node, state.answers)
        ranking = rank(self.context.projects, seeker)
        if ranking.found:
            self.say(node.prompt)
            segments, said = said_matches(ranking.matches, self.flow.language), ranking.matches
        else:
            self.say(node.none_prompt)
            segments, said = said_closest(ranking.closest, self.flow.language), ranking.closest
        if segments:
            self.actions.append(Say(segments, self.flow.language))
        ids = tuple(s.project.id for s in said)
        keep = bool(node.consent) and _yes(state.answers.get(node.consent))
        # A caller who hears the results again is counted once.
        self.actions.append(HousingMatched(node=node.id, seeker=seeker, projects=ids, found=ranking.found,
                                           answers=_answer_items(state.answers), keep=keep,
                                           count=not state.housing_counted))
        self.actions.append(Outcome("housing_match" if ranking.found else "housing_no_match", " ".join(ids),
                                    (("kept", "yes" if keep else "no"),)))
        self._changes = {"matched": list(ids) if ranking.found else [], "housing_counted": True, "answers_kept": keep}
        return (node.found if ranking.found else node.none), None

    def _seeker(self, node: m.MatchNode, answers: dict) -> Seeker:
        def answer(criterion: str):
            value = answers.get(node.criteria.get(criterion, ""))
            return None if value in (None, ANY, "", [], ()) else value

        def several(criterion: str) -> frozenset[str]:
            value = answer(criterion)
            return frozenset([value] if isinstance(value, str) else value or ())

        budget = answer("budget")
        if isinstance(budget, int) or (isinstance(budget, str) and budget.isdigit()):
            budget = budget_band(int(budget))
        return Seeker(region=answer("region"), needs=several("needs"), budget=budget, timing=answer("timing"),
                      kind=answer("kind"), wishes=several("wishes"))

    def _run_HouseNewsNode(self, node: m.HouseNewsNode, state):
        if not self.context.caller.house_chat:
            self.actions.append(Outcome("house_news", "no chat"))
            self.say(node.no_chat)
            return node.unavailable or node.next, None
        sentences = news_sentences(self.context.house_news, self.context.now, node.messages, node.days,
                                   self.flow.language)
        self.actions.append(Outcome("house_news", str(len(sentences))))
        if not sentences:
            self.say(node.empty)
            return node.next, None
        self.say(node.prompt)
        self.actions.append(Say(tuple(sentences), self.flow.language))
        return node.next, None

    def _run_SendDetailsNode(self, node: m.SendDetailsNode, state):
        projects = tuple(state.matched)
        if not projects or not self.context.caller_takes_sms:
            self.actions.append(Outcome("no_sms", "nothing matched" if not projects else "number takes no SMS"))
            return node.no_sms, None
        self.actions.append(SendDetails(node=node.id, projects=projects, language=self.flow.language))
        self.actions.append(Outcome("details_sms", " ".join(projects)))
        self.say(node.prompt)
        return node.next, None

    def _project_callback(self, node: m.CallbackNode, state):
        if not _yes(state.answers.get(node.consent)):
            # Without consent nothing is passed on: not the answers, not even the caller's number.
            self.actions.append(Outcome("no_consent", node.id))
            return node.no_consent or node.next, None
        project = state.matched[0] if state.matched else None
        self.actions.append(BookProjectCallback(node=node.id, project=project, answers=_answer_items(state.answers),
                                                language=self.flow.language))
        self.actions.append(Outcome("callback", "project" if project else "staff", (("project", project or "-"),)))
        self.say(node.prompt)
        return node.next, None

    def _run_ConnectNode(self, node: m.ConnectNode, state):
        target = node.target
        whisper = node.whisper
        if target.kind == "service":
            self.service = target.value
            service = self.context.service(target.value)
            if service.status != "open":
                self.actions.append(Outcome(f"service_{service.status}", target.value))
                follow = node.unavailable if service.status == "unavailable" else node.closed
                return follow or node.fallback, None
            numbers, label = service.numbers, f"partner:{service.partner_name or target.value}"
            if whisper is None and service.whisper:
                whisper = m.Prompt((service.whisper,), node.where)
        elif target.kind == "staff":
            numbers, label = tuple(n for n in (self.context.staff_number,) if n), "staff"
        elif target.kind == "volunteers":
            numbers, label = self.context.volunteer_numbers, "volunteers"
        else:
            numbers, label = (target.value,), f"number:{target.value}"
        dialable = tuple(n for n in numbers if not is_emergency_number(n))
        if dialable != tuple(numbers):
            # The checker refuses 110/112 in flows; a partner or staff number from the directory or the
            # settings could still be one. Forwarded, it would carry our line's location, not the caller's.
            self.actions.append(Outcome("emergency_number_refused", label))
            numbers = dialable
        if not numbers:
            self.actions.append(Outcome("no_number", label))
            return node.fallback, None
        self.say(node.prompt)
        self.actions.append(Dial(node=node.id, target=label, numbers=tuple(numbers),
                                 whisper=" ".join(self._segments(whisper)),
                                 language=self.flow.language, timeout_seconds=node.timeout))
        return node.id, "dial"

    def _run_MessageNode(self, node: m.MessageNode, state):
        self.say(node.prompt)
        self.actions.append(Record(node=node.id, max_seconds=node.max_seconds, language=self.flow.language))
        return node.id, "record"

    def _run_HouseMessageNode(self, node: m.HouseMessageNode, state):
        if not self.context.caller.house_chat:
            self.actions.append(Outcome("house_message_no_chat"))
            self.say(node.no_chat)
            return node.unavailable or node.next, None
        self.say(node.prompt)
        self.actions.append(Record(node=node.id, max_seconds=node.max_seconds, language=self.flow.language))
        self._changes = dict(_NO_DRAFT)
        return node.id, "record"

    def _text(self, source: str, node: m.Node) -> str:
        """A one-line template (a task topic) rendered with the caller's data."""
        return render(source, self._variables(), f"{node.where} (node '{node.id}')")

    def _audience(self, audience: str) -> str:
        # Volunteers serve one house; a caller the directory does not know has none, so staff call back.
        if audience == "volunteers" and not self.context.caller.house_id:
            return "staff"
        return audience

    # -- answers to waiting nodes ---------------------------------------------------------------

    def on_menu(self, state: CallState, node: m.MenuNode, event: Event):
        chosen, answered = self._heard(state, node, event, _choices(self.flow, node))
        if answered is not None:
            return answered
        if chosen is None:
            return self._retry(state, node, node.no_match, "no_match")
        return self._follow(state, node, chosen)

    def _heard(self, state: CallState, node: m.MenuNode | m.AskNode, event: Event, pool):
        """(the option of pool a key or word picks, None) or (None, the step when it repeats or retries)."""
        if isinstance(event, DigitsPressed):
            key = event.digits.strip()[:1]
            if key and key == node.repeat_key:
                return None, self._repeat(state, node)
            return next((o for o in pool if o.key == key), None), None
        if isinstance(event, WordsSpoken):
            heard = normalise(event.text)
            if heard in {normalise(w) for w in repeat_words(self.flow.language)}:
                return None, self._repeat(state, node)
            return next((o for o in pool if heard in {normalise(p) for p in o.phrases}), None), None
        if isinstance(event, NoInput):
            return None, self._retry(state, node, node.no_input, "no_input")
        return None, self._repeat(state, node)

    def _ask_again(self, node: m.MenuNode | m.AskNode, state: CallState, lead: tuple[str, ...] = ()) -> None:
        self.answers = state.answers
        if isinstance(node, m.AskNode):
            self._run_AskNode(node, state, lead=lead)
        else:
            self._run_MenuNode(node, state, lead=lead)

    def _repeat(self, state: CallState, node: m.MenuNode | m.AskNode):
        self._ask_again(node, state)
        return state.evolve(node=node.id, waiting="menu"), self.actions

    def _retry(self, state: CallState, node: m.MenuNode | m.AskNode, retry: m.Retry, counter: str):
        count = getattr(state, counter) + 1
        if count > retry.retries:
            self.actions.append(Outcome(f"{counter}_exhausted", node.id))
            return self.run(state.at(retry.then))
        self._ask_again(node, state, lead=self._segments(retry.prompt))
        return state.evolve(waiting="menu", **{counter: count}), self.actions

    def on_ask(self, state: CallState, node: m.AskNode, event: Event):
        """An answer to a question: a choice, a number ended with #, or a global (`*` then its key in numbers)."""
        if node.number is not None and isinstance(event, DigitsPressed):
            return self._on_number(state, node, event.digits.strip())
        # Spoken words during a number entry can still reach the globals and repeat the question.
        pool = _choices(self.flow, node) if node.options else _globals(self.flow)
        chosen, answered = self._heard(state, node, event, pool)
        if answered is not None:
            return answered
        if chosen is None:
            return self._retry(state, node, node.no_match, "no_match")
        if isinstance(chosen, m.Choice):
            return self._store(state, node, chosen.value if isinstance(chosen.value, str) else list(chosen.value))
        return self._follow(state, node, chosen)

    def _on_number(self, state: CallState, node: m.AskNode, keys: str):
        keys = keys.rstrip("#")
        if keys.startswith("*"):
            # During a number entry 0 and 9 are digits: `*` then the key reaches a global; `*` alone repeats.
            rest = keys[1:].lstrip("*")
            if not rest:
                return self._repeat(state, node)
            chosen = next((g for g in _globals(self.flow) if g.key == rest[:1]), None)
            if chosen is None:
                return self._retry(state, node, node.no_match, "no_match")
            return self._follow(state, node, chosen)
        if not keys:
            return self._retry(state, node, node.no_input, "no_input")
        if not keys.isdigit() or not node.number.low <= int(keys) <= node.number.high:
            return self._retry(state, node, node.no_match, "no_match")
        return self._store(state, node, int(keys))

    def _store(self, state: CallState, node: m.AskNode, value):
        state = state.evolve(answers={**state.answers, node.answer: value})
        self.actions.append(Outcome("answer", node.answer))
        return self.run(state.at(node.next))

    def _follow(self, state: CallState, node, chosen: m.Option):
        """Go where an option (or a global) leads; the emergency path is noted in the call's outcome."""
        if chosen is self.flow.globals.get("emergency"):
            self.actions.append(Outcome("emergency", node.id))
        return self.run(state.at(chosen.goto))

    def on_dial(self, state: CallState, node: m.ConnectNode, event: Event):
        if not isinstance(event, DialFinished):
            return self.run(state.at(node.id))
        if event.outcome in CONNECTED:
            self.actions.append(Outcome("connected", node.target.value or node.target.kind,
                                        (("seconds", str(event.seconds)),)))
            if node.next is None:
                self.actions.append(Hangup())
                return state.at(node.id).evolve(finished=True), self.actions
            return self.run(state.at(node.next))
        self.actions.append(Outcome("dial_failed", event.outcome))
        return self.run(state.at(node.fallback))

    def on_record(self, state: CallState, node: m.MessageNode, event: Event):
        recorded = isinstance(event, RecordingFinished) and event.reference and event.seconds > 0
        if not recorded:
            return self.run(state.at(node.no_input or node.next))
        audience, topic = self._audience(node.audience), self._text(node.topic, node)
        self.actions.append(BookCallback(node=node.id, audience=audience, topic=topic,
                                         recording=event.reference))
        self.actions.append(Outcome("callback", audience, (("topic", topic), ("message", "yes"))))
        return self.run(state.at(node.next))

    # -- a message to the neighbours: record, wait for the transcript, read back, confirm ---------

    def on_house_record(self, state: CallState, node: m.HouseMessageNode, event: Event):
        recorded = isinstance(event, RecordingFinished) and event.reference and event.seconds > 0
        if not recorded:
            self.actions.append(Outcome("house_message_nothing_recorded"))
            return self.run(state.at(node.no_input or node.cancel or node.next))
        self.actions.append(DraftHouseMessage(node=node.id, recording=event.reference, language=self.flow.language))
        self.say(node.wait)
        self.actions.append(Poll(node=node.id, seconds=POLL_SECONDS))
        polls = -(-(event.seconds + POLL_SLACK_SECONDS) // POLL_SECONDS)
        return state.at(node.id, waiting="transcribing").evolve(draft=event.reference, polls_left=polls), self.actions

    def on_house_message(self, state: CallState, node: m.HouseMessageNode, event: Event):
        """A poll while the transcript is made, or the caller's answer to the read-back."""
        if state.waiting == "transcribing":
            return self._on_transcribing(state, node, event)
        return self._on_read_back(state, node, event)

    def _on_transcribing(self, state: CallState, node: m.HouseMessageNode, event: Event):
        if isinstance(event, MessageTranscribed) and event.recording == state.draft and event.text is not None:
            if event.text.strip():
                return self._read_back(state, node, event.text.strip())
            self.actions.append(Outcome("house_message_not_understood"))
            return self._not_understood(state, node)
        # Not ready yet (a key pressed meanwhile, a doubled webhook: only a poll counts against the limit).
        left = state.polls_left - (1 if isinstance(event, MessageTranscribed) else 0)
        if left <= 0:
            self.actions.append(Outcome("house_message_not_understood", "too late"))
            return self._not_understood(state, node)
        if isinstance(event, MessageTranscribed) and left % WAIT_AGAIN_EVERY == 0:
            self.say(node.wait)
        self.actions.append(Poll(node=node.id, seconds=POLL_SECONDS))
        return state.evolve(waiting="transcribing", polls_left=left), self.actions

    def _read_back(self, state: CallState, node: m.HouseMessageNode, text: str):
        # The transcript is the caller's own words: one segment as it is, never rendered as a template.
        segments = self._segments(node.heard) + (text,) + self._segments(node.confirm)
        return self._ask_draft(state, node, segments, (m.SEND_KEY, m.AGAIN_KEY, m.CANCEL_KEY), understood=True)

    def _not_understood(self, state: CallState, node: m.HouseMessageNode, lead: tuple[str, ...] = ()):
        segments = lead + self._segments(node.not_understood)
        return self._ask_draft(state, node, segments, (m.AGAIN_KEY, m.CANCEL_KEY), understood=False)

    def _ask_draft(self, state: CallState, node: m.HouseMessageNode, segments: tuple[str, ...],
                   keys: tuple[str, ...], understood: bool):
        for option in _globals(self.flow):
            segments += self._segments(option.say)
        phrases = tuple(dict.fromkeys([p for g in _globals(self.flow) for p in g.phrases]
                                      + list(repeat_words(self.flow.language))))
        self.actions.append(Ask(node=node.id, segments=segments, language=self.flow.language,
                                timeout_seconds=node.timeout, keys=keys + tuple(g.key for g in _globals(self.flow))
                                + ("*",), phrases=phrases))
        return state.evolve(node=node.id, waiting="menu", draft_understood=understood), self.actions

    def _on_read_back(self, state: CallState, node: m.HouseMessageNode, event: Event):
        key, chosen = None, None
        if isinstance(event, DigitsPressed):
            key = event.digits.strip()[:1]
            chosen = next((g for g in _globals(self.flow) if g.key == key), None)
        elif isinstance(event, WordsSpoken):
            heard = normalise(event.text)
            chosen = next((g for g in _globals(self.flow) if heard in {normalise(p) for p in g.phrases}), None)
            key = "*" if heard in {normalise(w) for w in repeat_words(self.flow.language)} else None
        if chosen is not None:
            self.actions.append(DiscardHouseMessage(node=node.id, recording=state.draft))
            self.actions.append(Outcome("house_message_cancelled", chosen.label))
            return self._follow(state.evolve(**_NO_DRAFT), node, chosen)
        if key == m.SEND_KEY and state.draft_understood:
            self.actions.append(SendHouseMessage(node=node.id, recording=state.draft))
            self.actions.append(Outcome("house_message_sent"))
            self.say(node.sent)
            return self.run(state.at(node.next).evolve(**_NO_DRAFT))
        if key == m.AGAIN_KEY:
            self.actions.append(DiscardHouseMessage(node=node.id, recording=state.draft))
            self.actions.append(Outcome("house_message_again"))
            return self.run(state.at(node.id).evolve(**_NO_DRAFT))
        if key == m.CANCEL_KEY:
            return self._cancel(state, node, "cancelled")
        if isinstance(event, NoInput) or key is not None and key != "*":
            count = state.no_input + 1
            if count > node.retries:
                return self._cancel(state, node, "no answer")
            state = state.evolve(no_input=count)
        return self._repeat_draft(state, node)

    def _repeat_draft(self, state: CallState, node: m.HouseMessageNode):
        """Read back again: the transcript lives in the draft's row, so the call asks for it once more."""
        if not state.draft_understood:
            return self._not_understood(state, node)
        self.actions.append(Poll(node=node.id, seconds=0))
        return state.evolve(waiting="transcribing", polls_left=2), self.actions

    def _cancel(self, state: CallState, node: m.HouseMessageNode, why: str):
        self.actions.append(DiscardHouseMessage(node=node.id, recording=state.draft))
        self.actions.append(Outcome("house_message_cancelled", why))
        self.say(node.cancelled)
        return self.run(state.at(node.cancel or node.next).evolve(**_NO_DRAFT))


_NO_DRAFT = {"draft": None, "polls_left": 0, "draft_understood": False}


def _yes(value) -> bool:
    """A consent answer: only an explicit yes counts."""
    return isinstance(value, str) and value.strip().lower() in ("yes", "ja")


def _answer_items(answers: dict) -> tuple[tuple[str, str], ...]:
    """Answers as plain text pairs, for the seeker's record and the project's SMS."""
    return tuple((name, "+".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value))
                 for name, value in answers.items())
