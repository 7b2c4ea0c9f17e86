"""How the worker gets its Matrix side: one client (one device) shared by the channel and the listener."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ivr.config import Settings
from ivr.telephony.matrix.channel import ChannelRouter, MatrixChannel
from ivr.telephony.matrix.settings import MatrixSettings

log = logging.getLogger("hausruf.matrix")


def matrix_channel(settings: Settings) -> MatrixChannel | None:
    """The Matrix channel of settings, None when Matrix is not configured."""
    from ivr.telephony.matrix.client import MatrixClient

    matrix = settings.group(MatrixSettings)
    if not matrix.enabled:
        return None
    return MatrixChannel(MatrixClient(matrix, data_dir=settings.data_dir))


def messaging_channel(settings: Settings, sms: Callable[[], object]) -> ChannelRouter:
    """SMS (sms(): the SMS channel, ValueError without credentials) and Matrix, each message by its address.

    ValueError when neither can send: the outbox then holds every message until one is configured.
    """
    try:
        sms_channel = sms()
    except ValueError:
        sms_channel = None
    matrix = matrix_channel(settings)
    if sms_channel is None and matrix is None:
        raise ValueError("neither SMS (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN) nor Matrix "
                         "(HAUSRUF_MATRIX_HOMESERVER ...) is configured")
    return ChannelRouter(sms_channel, matrix)


def start_listener(router: ChannelRouter, sessions, config, on_queued: Callable[[], None]
                   ) -> tuple[threading.Thread, threading.Event] | None:
    """Run the listener's /sync loop in a daemon thread beside the worker; None without Matrix."""
    from ivr.telephony.matrix.listener import MatrixListener

    if router.matrix is None:
        return None
    listener = MatrixListener(router.matrix, sessions, config, on_queued=on_queued)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run_forever, args=(stop,), name="matrix-sync", daemon=True)
    thread.start()
    log.info("Matrix: listening for helpers' replies as %s", router.matrix.sender)
    return thread, stop
