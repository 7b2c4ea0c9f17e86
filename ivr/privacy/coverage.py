"""Every column that holds a phone number or a person's words, and how access, erasure and retention treat it.

tests/privacy/test_coverage.py walks the models' metadata and the migrated schema: a column named
like a phone number, a caller, a contact or someone's answers, text or message body that is listed
neither in PERSONAL nor in NOT_PERSONAL fails the suite. So a new table that stores numbers cannot
land without being handled in ivr.privacy.person (export, erase) and ivr.privacy.retention (purge)
and written down here. The `export` key names the section of `hausruf person export` that shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Coverage:
    """How one personal column is exported, erased and aged out."""

    export: str  # the key path in export_person's result
    erase: str
    retention: str


_CALL = "deleted with its call"
PERSONAL: dict[str, Coverage] = {
    "tenant_phones.number": Coverage("directory.tenants", "deleted with the tenant (kept with --keep-directory)",
                                     "directory: kept while the tenant is in the directory"),
    "volunteers.phone": Coverage("directory.volunteers", "deleted with the volunteer (kept with --keep-directory)",
                                 "directory: kept while the helper is in the directory"),
    "volunteers.matrix": Coverage("directory.volunteers", "deleted with the volunteer (kept with --keep-directory); "
                                  "messages to and from it in the outbox are deleted too; the chat's own copies "
                                  "are the cooperative's Matrix server's", "directory: kept while the helper is in "
                                  "the directory"),
    "calls.from_number": Coverage("calls", "deleted (and the call record at the provider)", "HAUSRUF_RETENTION_DAYS"),
    "calls.state": Coverage("calls", _CALL, "HAUSRUF_RETENTION_DAYS"),  # the answers given in the call
    "call_events.detail": Coverage("calls", _CALL, "HAUSRUF_RETENTION_DAYS"),  # keys pressed, words heard
    "callback_tasks.callback_number": Coverage("tasks", "deleted with the task", "finished tasks: RETENTION_DAYS"),
    "callback_tasks.caller_name": Coverage("tasks", "deleted with the task", "finished tasks: RETENTION_DAYS"),
    "callback_tasks.transcript": Coverage("tasks", "deleted with the task", "finished tasks: RETENTION_DAYS"),
    "sms_messages.to_number": Coverage("sms", "deleted (and the message at the provider)", "RETENTION_DAYS"),
    "sms_messages.from_number": Coverage("sms", "deleted (and the message at the provider)", "RETENTION_DAYS"),
    "sms_messages.body": Coverage("sms", "deleted when to, from or about the number", "RETENTION_DAYS"),
    "housing_seekers.phone": Coverage("housing_seekers", "deleted", "RETENTION_DAYS"),
    "housing_seekers.answers": Coverage("housing_seekers", "deleted (needs may be health data)", "RETENTION_DAYS"),
    "housing_projects.contact_name": Coverage("directory.housing_projects", "blanked, the project stays listed",
                                              "directory: kept while the project lists them as contact"),
    "housing_projects.contact_phone": Coverage("directory.housing_projects", "blanked, the project stays listed",
                                               "directory: kept while the project lists them as contact"),
    "partners.phone": Coverage("directory.partners", "kept: a partner service's business line (staff delete the "
                               "partner in the console if it is a private person's)", "directory"),
    "staff_audit.target": Coverage("staff_audit_entries", "entries about the person: target and detail anonymised, "
                                   "who did what and when kept", "HAUSRUF_AUDIT_RETENTION_DAYS"),
    "staff_audit.detail": Coverage("staff_audit_entries", "entries about the person: target and detail anonymised, "
                                   "who did what and when kept", "HAUSRUF_AUDIT_RETENTION_DAYS"),
    "house_chat_messages.body": Coverage("chat_messages", "a post the hotline made for the tenant: deleted (the "
                                         "room's copy is the Matrix server's); neighbours' messages are theirs",
                                         "trimmed by the worker after 31 days; RETENTION_DAYS"),
    "house_messages.transcript": Coverage("house_messages", "deleted with her calls (the recording too; a posted "
                                          "message's copy in the room is the Matrix server's)", "not confirmed: "
                                          "deleted when she cancels or the call ends; posted: with its call, "
                                          "HAUSRUF_RETENTION_DAYS (the recording: HAUSRUF_RECORDING_RETENTION_DAYS)"),
    "house_chat_messages.sender": Coverage("chat_messages", "as body", "as body"),
    "house_chat_messages.sender_name": Coverage("chat_messages", "as body", "as body"),
}

# Named like personal data, but they are not (each with the reason).
NOT_PERSONAL: dict[str, str] = {
    "callback_tasks.number": "the task's short public number used in SMS replies, not a phone number",
    "housing_projects.phone_text": "the project's description read out on the phone",
}

# Column names that suggest a phone number or a person's own words.
SUSPECT = re.compile(r"number|phone|caller|msisdn|sender|recipient|contact|answer|transcript|body|detail|target")


def suspects(tables) -> set[str]:
    """'table.column' of every column named like personal data, from SQLAlchemy Table objects."""
    return {f"{table.name}.{column.name}" for table in tables for column in table.columns
            if SUSPECT.search(column.name)}
