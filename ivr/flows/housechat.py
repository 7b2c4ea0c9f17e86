"""`hausruf check`: a house-chat node needs the Matrix chat configured, or every caller hears its `no_chat`.

A note, not a warning: a fresh checkout (the demo) has no Matrix server, and nothing in the flow is
wrong; the operator learns what to set up.
"""

from __future__ import annotations

from ivr.flows.loader import expand_paths, read_flow_file
from ivr.flows.model import HouseMessageNode, HouseNewsNode

HOUSE_CHAT_KINDS = (HouseNewsNode, HouseMessageNode)
NOT_CONFIGURED = ("{path}:{line}: note: node '{node}': the house chat is not configured (HAUSRUF_MATRIX_HOMESERVER is not set), so "
                  "every caller hears its 'no_chat'; connect the hotline to the cooperative's Matrix server "
                  "(README, \"Helpers in the cooperative's Matrix chat\"), give houses a 'chat_room' and tenants "
                  "'house_chat: true'")


NOT_CONFIGURED_MESSAGE = ("{path}:{line}: note: node '{node}': the house chat is not configured "
                          "(HAUSRUF_MATRIX_HOMESERVER is not set), so messages confirmed here wait and reach no room "
                          "(/healthz says so); connect the hotline to the cooperative's Matrix server (README, "
                          "\"Helpers in the cooperative's Matrix chat\")")


def check_house_chat(paths: list[str], matrix_enabled: bool) -> list[str]:
    """One note per house-chat node of the clean flows when Matrix is not configured."""
    if matrix_enabled:
        return []
    files, _ = expand_paths(paths)
    notes = []
    for path in files:
        flow, _ = read_flow_file(path)
        for node in (flow.nodes.values() if flow else ()):
            if isinstance(node, HOUSE_CHAT_KINDS):
                template = NOT_CONFIGURED_MESSAGE if isinstance(node, HouseMessageNode) else NOT_CONFIGURED
                notes.append(template.format(path=node.where.path, line=node.where.line, node=node.id))
    return sorted(notes)
