"""One connection to the homeserver through matrix-nio, the only module that imports it.

matrix-nio is asyncio; the hotline's worker and web app are threads. MatrixClient runs nio's
AsyncClient on a private event loop in its own thread and offers blocking methods, so callers never
see a coroutine. Everything nio hands back is turned into plain values (room ids, ChatMessage) here.

Sign-in: an access token (HAUSRUF_MATRIX_ACCESS_TOKEN) is used as it is, one fixed device. With a
password, the client logs in once and keeps the token and device in the data directory (0600), so a
restart reuses the same device: the homeserver deduplicates transaction ids per device only
(Client-Server API, "Transaction identifiers"), and a new device per start would defeat that.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, ErrorResponse, RoomPreset
from nio.crypto import ENCRYPTION_ENABLED
from nio.responses import (
    DirectRoomsResponse,
    JoinResponse,
    LoginResponse,
    RoomCreateResponse,
    RoomMessagesResponse,
    RoomResolveAliasResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from ivr.telephony.matrix.settings import MatrixSettings

log = logging.getLogger("hausruf.matrix")

# A state event in each direct room the hotline creates, naming the helper it is for (a namespaced
# custom event type, Client-Server API "Types of room events"): how a room made just before a crash
# is found again instead of made twice.
DIRECT_MARKER = "org.hausruf.direct"


class MatrixError(Exception):
    """A request failed. permanent: the server refused (retrying cannot help); status: its HTTP status."""

    def __init__(self, message: str, status: int | None = None, errcode: str = "", permanent: bool = False):
        super().__init__(message)
        self.status = status
        self.errcode = errcode
        self.permanent = permanent


@dataclass(frozen=True)
class ChatMessage:
    """One message event as the hotline needs it (m.room.message; other events are left out)."""

    room_id: str
    event_id: str
    sender: str
    body: str
    msgtype: str
    timestamp_ms: int
    reply_to: str | None = None  # the event this one answers (m.relates_to / m.in_reply_to)
    content: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ReadReceipt:
    """Someone's m.read receipt: user_id has read event_id and everything before it in the room."""

    room_id: str
    event_id: str
    user_id: str
    timestamp_ms: int


@dataclass(frozen=True)
class SyncBatch:
    """What one /sync brought: the token to resume from, new messages (oldest first), rooms we are invited to,
    (room id, sender) of end-to-end encrypted messages we cannot read, rooms we left or were kicked from,
    and read receipts."""

    next_batch: str
    messages: list[ChatMessage]
    invites: list[str]
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    receipts: list[ReadReceipt] = field(default_factory=list)


def message_from_event(room_id: str, event: dict[str, Any]) -> ChatMessage | None:
    """An m.room.message event (its JSON) as a ChatMessage; None for other events and redacted ones."""
    content = event.get("content") or {}
    if event.get("type") != "m.room.message" or "body" not in content:
        return None
    relates = content.get("m.relates_to") or {}
    reply_to = (relates.get("m.in_reply_to") or {}).get("event_id")
    return ChatMessage(room_id=room_id, event_id=event.get("event_id", ""), sender=event.get("sender", ""),
                       body=str(content.get("body", "")), msgtype=str(content.get("msgtype", "m.text")),
                       timestamp_ms=int(event.get("origin_server_ts") or 0), reply_to=reply_to, content=content)


class MatrixClient:
    """Blocking calls to the homeserver for the hotline's account; close() when done."""

    def __init__(self, settings: MatrixSettings, data_dir: Path | None = None, timeout: float = 30.0):
        if not settings.enabled:
            raise ValueError("Matrix is not configured (HAUSRUF_MATRIX_HOMESERVER, _USER, _ACCESS_TOKEN or _PASSWORD)")
        self.settings = settings
        self.timeout = timeout
        self.session_file = (data_dir / "matrix" / "session.json") if data_dir else None
        # End-to-end encryption keys (vodozemac through nio) live beside it, private like it: with a data
        # directory the hotline reads and writes encrypted rooms; without one (tools, tests) it does not.
        self.store_dir = (data_dir / "matrix" / "keys") if data_dir and ENCRYPTION_ENABLED else None
        if self.store_dir is not None:
            self.store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.store_dir.parent, 0o700)
            os.chmod(self.store_dir, 0o700)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="matrix-client", daemon=True)
        self._thread.start()
        self._nio: AsyncClient = self._call(self._make_client())
        self._signed_in = False
        self._synced_once = False

    # --- plumbing -------------------------------------------------------------------------------

    async def _make_client(self) -> AsyncClient:
        # No retries inside nio: the outbox has its own backoff and needs to see every failure.
        config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=self.timeout,
                                   store_sync_tokens=False, encryption_enabled=self.store_dir is not None)
        store = str(self.store_dir) if self.store_dir is not None else ""
        return AsyncClient(self.settings.homeserver, self.settings.user, store_path=store, config=config)

    @property
    def fingerprint(self) -> str | None:
        """This device's ed25519 key in groups of four, as Element shows a session key for manual verification."""
        if self._nio.olm is None:
            return None
        key = self._nio.olm.account.identity_keys["ed25519"]
        return " ".join(key[i:i + 4] for i in range(0, len(key), 4))

    @property
    def encrypted(self) -> bool:
        """Whether this client takes part in end-to-end encryption (it has a key store)."""
        return self._nio.olm is not None

    def _call(self, coro, timeout: float | None = None):
        """Run a coroutine on the client's loop and wait for it; network failures become MatrixError."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout or self.timeout + 5)
        except MatrixError:
            raise
        except (OSError, asyncio.TimeoutError, TimeoutError) as exc:
            future.cancel()
            raise MatrixError(f"no answer from {self.settings.homeserver}: {exc!r}") from exc
        except Exception as exc:  # aiohttp's ClientError and nio's transport errors
            future.cancel()
            if type(exc).__module__.split(".")[0] in ("aiohttp", "nio"):
                raise MatrixError(f"request to {self.settings.homeserver} failed: {exc!r}") from exc
            raise

    @staticmethod
    def _check(response, expected: type, what: str):
        """The response if it is the expected kind, else MatrixError (4xx but 429 is permanent)."""
        if isinstance(response, expected):
            return response
        status = None
        transport = getattr(response, "transport_response", None)
        if transport is not None:
            status = getattr(transport, "status", None)
        errcode = getattr(response, "status_code", "") or ""
        message = getattr(response, "message", "") or repr(response)
        permanent = status is not None and 400 <= status < 500 and status != 429 and errcode != "M_LIMIT_EXCEEDED"
        raise MatrixError(f"{what}: {errcode or status} {message}", status, errcode, permanent)

    def close(self) -> None:
        """Close the HTTP session and stop the loop thread."""
        try:
            self._call(self._nio.close(), timeout=5)
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    # --- identity -------------------------------------------------------------------------------

    @property
    def user_id(self) -> str:
        return self.settings.user or ""

    @property
    def device_id(self) -> str | None:
        return self._nio.device_id

    def sign_in(self) -> None:
        """Use the access token (or the stored one, or log in once with the password and store it)."""
        if self._signed_in:
            return
        token = self.settings.access_token or self._stored_token()
        if token:
            self._nio.access_token = token
            self._nio.user_id = self.settings.user
            whoami = self._check(self._call(self._nio.whoami()), WhoamiResponse, "checking the access token")
            if whoami.user_id != self.settings.user:
                raise MatrixError(f"the access token belongs to {whoami.user_id}, not to {self.settings.user}",
                                  permanent=True)
            # Opens the key store of this device (nio: restore_login -> load_store).
            self._call(self._restore(whoami.user_id, whoami.device_id, token))
        else:
            login = self._check(self._call(self._nio.login(self.settings.password,
                                                           device_name=self.settings.device_name)),
                                LoginResponse, "signing in with HAUSRUF_MATRIX_PASSWORD")
            self._store_token(login.access_token, login.device_id)
            log.info("signed in to Matrix as %s, device %s (token kept in %s)", login.user_id, login.device_id,
                     self.session_file)
        self._signed_in = True
        self._call(self._keep_keys())

    async def _restore(self, user_id: str, device_id: str, token: str) -> None:
        self._nio.restore_login(user_id, device_id, token)

    async def _keep_keys(self) -> None:
        """Upload our device's keys, fetch others', hand out room keys (what nio's sync_forever does per round)."""
        if self._nio.olm is None:
            return
        if self._nio.should_upload_keys:
            await self._nio.keys_upload()
        if self._nio.should_query_keys:
            await self._nio.keys_query()
        if self._nio.should_claim_keys:
            await self._nio.keys_claim(self._nio.get_users_for_key_claiming())
        await self._nio.send_to_device_messages()

    def _stored_token(self) -> str | None:
        if self.session_file is None or not self.session_file.is_file():
            return None
        stored = json.loads(self.session_file.read_text())
        return stored.get("access_token") if stored.get("user_id") == self.settings.user else None

    def _store_token(self, token: str, device_id: str) -> None:
        if self.session_file is None:
            return
        self.session_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.session_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump({"user_id": self.settings.user, "device_id": device_id, "access_token": token}, out)

    # --- rooms and messages ---------------------------------------------------------------------

    def resolve(self, room: str) -> str:
        """The room id of an alias (#name:server) or a room id as it is."""
        if room.startswith("!"):
            return room
        self.sign_in()
        found = self._check(self._call(self._nio.room_resolve_alias(room)), RoomResolveAliasResponse,
                            f"resolving {room}")
        return found.room_id

    def join(self, room: str) -> str:
        """Join a room (alias or id) we are invited to or that is public; its room id."""
        self.sign_in()
        return self._check(self._call(self._nio.join(room)), JoinResponse, f"joining {room}").room_id

    def create_direct_room(self, user_id: str, name: str | None = None) -> str:
        """A new private room of just us and user_id, marked direct, whose history the invitee can read.

        It carries a DIRECT_MARKER state event naming user_id from its first moment, so that
        find_direct_room() finds it even when recording it in m.direct never happened (a crash).
        """
        self.sign_in()
        # trusted_private_chat: invite-only, history visible to members since they were invited, and
        # the invitee gets our power level (Client-Server API, "POST /createRoom", presets).
        marker = {"type": DIRECT_MARKER, "state_key": "", "content": {"user_id": user_id}}
        created = self._call(self._nio.room_create(is_direct=True, invite=[user_id], name=name,
                                                   preset=RoomPreset.trusted_private_chat, federate=True,
                                                   initial_state=[marker]))
        return self._check(created, RoomCreateResponse, f"creating a direct room with {user_id}").room_id

    def find_direct_room(self, user_id: str) -> str | None:
        """A room we are in that we created as the direct room with user_id (its marker), who is still in it.

        One request per room we are in: asked only before creating a direct room, which is rare.
        """
        from nio.responses import JoinedRoomsResponse, RoomGetStateEventResponse

        self.sign_in()
        joined = self._check(self._call(self._nio.joined_rooms()), JoinedRoomsResponse, "listing our rooms").rooms
        for room_id in joined:
            marker = self._call(self._nio.room_get_state_event(room_id, DIRECT_MARKER))
            if not isinstance(marker, RoomGetStateEventResponse) or marker.content.get("user_id") != user_id:
                continue
            member = self._call(self._nio.room_get_state_event(room_id, "m.room.member", user_id))
            if isinstance(member, RoomGetStateEventResponse) and member.content.get("membership") in ("invite",
                                                                                                     "join"):
                return room_id
        return None

    def direct_rooms(self) -> dict[str, list[str]]:
        """Our m.direct account data: each user's direct rooms with us (empty when never set)."""
        self.sign_in()
        found = self._call(self._nio.list_direct_rooms())
        if not isinstance(found, DirectRoomsResponse) and getattr(found, "status_code", "") == "M_NOT_FOUND":
            return {}
        return dict(self._check(found, DirectRoomsResponse, "reading m.direct").rooms)

    def set_direct_rooms(self, rooms: dict[str, list[str]]) -> None:
        """Replace our m.direct account data (Client-Server API, "Direct Messaging"); nio has no call for it."""
        self.sign_in()
        from urllib.parse import quote

        path = f"/_matrix/client/v3/user/{quote(self.user_id, safe='')}/account_data/m.direct"
        headers = {"Authorization": f"Bearer {self._nio.access_token}", "Content-Type": "application/json"}

        async def put():
            response = await self._nio.send("PUT", path, json.dumps(rooms), headers=headers)
            return response.status, await response.text()

        status, text = self._call(put())
        if status != 200:
            raise MatrixError(f"storing m.direct: {status} {text[:200]}", status, permanent=400 <= status < 500
                              and status != 429)

    def send(self, room_id: str, content: dict[str, Any], txn_id: str) -> str:
        """Send an m.room.message with our transaction id (the server keeps one event per id); its event id."""
        self.sign_in()

        async def go():
            if self._nio.olm is not None and room_id not in self._nio.rooms:
                # nio encrypts only for rooms it has synced: learn a room created or joined since.
                await self._nio.sync(timeout=0, full_state=True)
            # Helpers' devices are trusted as members of the room; staff verify the hotline's device
            # (README), the hotline does not verify each helper's phone.
            return await self._nio.room_send(room_id, "m.room.message", content, tx_id=txn_id,
                                             ignore_unverified_devices=True)

        sent = self._call(go())
        return self._check(sent, RoomSendResponse, f"sending to {room_id}").event_id

    def upload(self, data: bytes, content_type: str, filename: str) -> str:
        """Upload a file to the media repository; its mxc:// URI."""
        self.sign_in()
        import io

        async def go():
            response, _ = await self._nio.upload(io.BytesIO(data), content_type=content_type, filename=filename,
                                                 filesize=len(data))
            return response

        return self._check(self._call(go()), UploadResponse, f"uploading {filename}").content_uri

    def messages(self, room_id: str, limit: int = 50, since_ms: int | None = None) -> list[ChatMessage]:
        """The newest messages of a room, oldest first: `limit` of them, or (since_ms) all since then."""
        self.sign_in()
        found: list[ChatMessage] = []
        start = ""
        while True:
            page = self._check(self._call(self._nio.room_messages(room_id, start=start, limit=min(limit, 100)
                                                                  if since_ms is None else 100)),
                               RoomMessagesResponse, f"reading {room_id}")
            events = [message_from_event(room_id, event.source) for event in page.chunk]
            found += [message for message in events if message is not None]
            oldest = min((event.source.get("origin_server_ts", 0) for event in page.chunk), default=0)
            if since_ms is None or not page.chunk or not page.end or oldest < since_ms:
                break
            start = page.end
        if since_ms is not None:
            return [m for m in reversed(found) if m.timestamp_ms >= since_ms]
        return list(reversed(found[:limit]))

    def display_name(self, user_id: str) -> str | None:
        """A user's display name, None when they set none (or the profile cannot be read)."""
        self.sign_in()
        response = self._call(self._nio.get_displayname(user_id))
        return None if isinstance(response, ErrorResponse) else getattr(response, "displayname", None)

    def room_members(self, room_id: str) -> dict[str, str]:
        """The joined members of a room: user id -> display name (the user id when they set none)."""
        from nio.responses import JoinedMembersResponse

        self.sign_in()
        found = self._check(self._call(self._nio.joined_members(room_id)), JoinedMembersResponse,
                            f"listing members of {room_id}")
        return {member.user_id: member.display_name or member.user_id for member in found.members}

    def sync(self, since: str | None, timeout_ms: int = 30000) -> SyncBatch:
        """One /sync: long-polls up to timeout_ms for news after `since` (None: the first sync)."""
        self.sign_in()
        # The first sync of a process asks for the full state of every room, so that nio knows which
        # rooms are encrypted and who is in them before it sends there.
        full = since is None or not self._synced_once
        response = self._call(self._nio.sync(timeout=timeout_ms, since=since, full_state=full),
                              timeout=timeout_ms / 1000 + self.timeout)
        self._synced_once = True
        response = self._check(response, SyncResponse, "sync")
        self._call(self._keep_keys())
        messages, unreadable, receipts = [], [], []
        for room_id, joined in response.rooms.join.items():
            for event in joined.ephemeral:
                # m.receipt (Client-Server API, "Receipts"); m.read.private never reaches other users.
                receipts += [ReadReceipt(room_id, r.event_id, r.user_id, r.timestamp)
                             for r in getattr(event, "receipts", None) or ()
                             if getattr(r.receipt_type, "value", r.receipt_type) == "m.read"]
            for event in joined.timeline.events:
                source = getattr(event, "source", {}) or {}
                message = message_from_event(room_id, source)
                if message is not None:
                    messages.append(message)
                elif source.get("type") == "m.room.encrypted":  # nio could not decrypt it (no room key)
                    unreadable.append((room_id, source.get("sender", "")))
        messages.sort(key=lambda m: m.timestamp_ms)
        return SyncBatch(response.next_batch, messages, list(response.rooms.invite), unreadable,
                         list(response.rooms.leave), receipts)

    def may_post(self, room_id: str) -> bool:
        """Whether our power level lets us post messages there (m.room.power_levels; none: everyone may)."""
        from nio.responses import RoomGetStateEventResponse

        self.sign_in()
        found = self._call(self._nio.room_get_state_event(room_id, "m.room.power_levels"))
        if not isinstance(found, RoomGetStateEventResponse) and getattr(found, "status_code", "") == "M_NOT_FOUND":
            return True
        levels = self._check(found, RoomGetStateEventResponse, f"reading the power levels of {room_id}").content
        # Client-Server API, "m.room.power_levels": users_default and events_default apply when not listed.
        mine = (levels.get("users") or {}).get(self.user_id, levels.get("users_default", 0))
        needed = (levels.get("events") or {}).get("m.room.message", levels.get("events_default", 0))
        return int(mine) >= int(needed)

    def is_encrypted(self, room_id: str) -> bool:
        """Whether a room has end-to-end encryption switched on (its m.room.encryption state)."""
        from nio.responses import RoomGetStateEventResponse

        self.sign_in()
        found = self._call(self._nio.room_get_state_event(room_id, "m.room.encryption"))
        if isinstance(found, RoomGetStateEventResponse):
            return bool(found.content.get("algorithm"))
        if getattr(found, "status_code", "") == "M_NOT_FOUND":
            return False
        self._check(found, RoomGetStateEventResponse, f"reading the encryption state of {room_id}")
        return False
