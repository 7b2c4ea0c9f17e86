"""TwiML written as strings: the few verbs Hausruf answers with, without building an element tree.

The twilio library's VoiceResponse builds an ElementTree and serialises it, which cost about a tenth of
every menu step (bench/webhooks.py). tests/twilio/test_twiml.py checks our documents against the
library's for every kind of answer, so names and escaping stay exactly Twilio's.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def document(*verbs: str) -> str:
    """A whole TwiML answer: the declaration and a <Response> around the verbs."""
    return f"{DECLARATION}<Response>{''.join(verbs)}</Response>"


def verb(tag: str, body: str = "", /, **attributes: object) -> str:
    """<Tag attr="value">body</Tag>; snake_case attributes become Twilio's camelCase, None is left out."""
    attrs = "".join(_attribute(key, value) for key, value in attributes.items() if value is not None)
    return f"<{tag}{attrs}>{body}</{tag}>" if body else f"<{tag}{attrs} />"


# Characters XML 1.0 does not allow at all, escaped or not (a provider field or a directory entry
# with a control character would otherwise make the whole answer invalid XML).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: str) -> str:
    """Text content, escaped for XML."""
    return escape(NOT_XML.sub("", value))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _attribute(name: str, value: object) -> str:
    return f" {_camel(name)}={quoteattr(NOT_XML.sub('', _text(value)))}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
