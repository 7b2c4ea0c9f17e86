"""One simulated call: holds the state between events and keeps a transcript of actions."""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.engine import CallContext, CallStarted, CallState, advance
from ivr.engine.actions import Action, Ask, Dial, DraftHouseMessage, Hangup, Poll, Record
from ivr.engine.events import Event, MessageTranscribed
from ivr.flows.model import Flow


@dataclass
class SimulatedCall:
    """A call through a flow, event by event, with every action kept in order."""

    flow: Flow
    context: CallContext
    state: CallState = field(default_factory=CallState)
    actions: list[Action] = field(default_factory=list)
    # Recordings of messages to the neighbours and their "transcripts": the simulator's recordings are
    # typed ("simulated:<words>"), so the worker's part is instant; "simulated:" alone is not understood.
    drafts: dict[str, str] = field(default_factory=dict)

    def start(self) -> list[Action]:
        """Answer the call."""
        return self.send(CallStarted())

    def send(self, event: Event) -> list[Action]:
        """Feed one event; returns the actions it caused."""
        self.state, actions = advance(self.flow, self.state, event, self.context)
        self.actions.extend(actions)
        for action in actions:
            if isinstance(action, DraftHouseMessage):
                self.drafts[action.recording] = action.recording.removeprefix("simulated:")
        if any(isinstance(a, Poll) for a in actions) and not self.state.finished:
            # The call waits for the worker's transcript: here it is ready at the first poll.
            draft = self.state.draft
            actions = actions + self.send(MessageTranscribed(draft, self.drafts.get(draft or "", "")))
        return actions

    @property
    def waiting_for(self) -> Action | None:
        """The action the call now waits on (a menu, a dial, a recording), if any."""
        if self.state.finished:
            return None
        for action in reversed(self.actions):
            if isinstance(action, (Ask, Dial, Record)):
                return action
            if isinstance(action, Hangup):
                return None
        return None
