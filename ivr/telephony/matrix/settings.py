"""The Matrix channel's settings (HAUSRUF_MATRIX_*): a group of the settings registry (ivr.config).

The channel is off until HAUSRUF_MATRIX_HOMESERVER is set; then the hotline's account
(HAUSRUF_MATRIX_USER) and an access token or a password are required, checked at start by every
command that reads settings (serve, worker, demo, config), so the server and the worker agree.
Kept light: the registry imports this module at every start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivr.config import setting, text, url
from ivr.directory.fields import matrix_room as room
from ivr.directory.fields import matrix_user as user_id


def _needs_account(value: Any, values: Mapping[str, Any]) -> str | None:
    """With a homeserver, the hotline's account and a way to sign in are required."""
    if not value:
        return None
    if not values.get("user"):
        return "HAUSRUF_MATRIX_USER is missing; allowed: the hotline's own account, e.g. @hausruf:talblick.example"
    if not (values.get("access_token") or values.get("password")):
        return ("neither HAUSRUF_MATRIX_ACCESS_TOKEN nor HAUSRUF_MATRIX_PASSWORD is set; allowed: an access "
                "token of the hotline's account (preferred: one fixed device) or its password")
    return None


def _needs_homeserver(value: Any, values: Mapping[str, Any]) -> str | None:
    if value and not values.get("homeserver"):
        return "set HAUSRUF_MATRIX_HOMESERVER too (e.g. https://matrix.talblick.example), or nothing of Matrix"
    return None


@dataclass(frozen=True)
class MatrixSettings:
    """The cooperative's Matrix server: the hotline's account and the helpers' group room."""

    homeserver: str | None = setting("HAUSRUF_MATRIX_HOMESERVER", url("https", "http"), check=_needs_account,
                                     help="the cooperative's Matrix server, e.g. https://matrix.talblick.example "
                                          "(unset: no Matrix)")
    user: str | None = setting("HAUSRUF_MATRIX_USER", user_id, check=_needs_homeserver,
                               help="the hotline's own account, e.g. @hausruf:talblick.example")
    access_token: str | None = setting("HAUSRUF_MATRIX_ACCESS_TOKEN", text, secret=True,
                                       help="access token of the hotline's account (one fixed device)")
    password: str | None = setting("HAUSRUF_MATRIX_PASSWORD", text, secret=True,
                                   help="password of the hotline's account, when no access token is set")
    helpers_room: str | None = setting("HAUSRUF_MATRIX_HELPERS_ROOM", room,
                                       help="group room of all IT helpers, asked before staff, "
                                            "e.g. #it-helfer:talblick.example")
    device_name: str = setting("HAUSRUF_MATRIX_DEVICE_NAME", text, "Hausruf",
                               help="the device name shown to others when the hotline signs in with a password")

    @property
    def enabled(self) -> bool:
        """Matrix is configured (the start checks made sure the account is complete)."""
        return bool(self.homeserver and self.user and (self.access_token or self.password))
