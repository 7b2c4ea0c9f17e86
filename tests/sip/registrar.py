"""A small SIP registrar over UDP for the tests: challenges every REGISTER (digest, RFC 2617 without qop),
checks the answer against the one known password, and says 200 or 403.

Debian has no registrar that runs without a database here (kamailio needs its auth_db tables, sipp is
gone from bookworm), so this stand-in speaks just enough SIP to test that `hausruf sip` registers and
answers a digest challenge correctly; everything it checks is computed, not assumed.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading

REALM = "hausruf.test"
LEASE_SECONDS = 8  # short, so a test sees the line register again within seconds


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class Registrar:
    """Listens on 127.0.0.1:<free port>; `registered` lists the users that registered with the right password."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.registered: list[str] = []
        self.refused: list[str] = []
        self.nonce = hashlib.sha1(str(self.port).encode()).hexdigest()[:16]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            message = data.decode(errors="replace")
            if message.startswith("REGISTER "):
                self.sock.sendto(self._answer(message).encode(), peer)

    def _answer(self, message: str) -> str:
        head = message.split("\r\n\r\n", 1)[0].split("\r\n")
        uri = head[0].split(" ")[1]
        fields = {}
        copied = []
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
            if name.strip().lower() in ("via", "v", "from", "f", "call-id", "i", "cseq"):
                copied.append(line)
        to = fields.get("to") or fields.get("t", "")
        copied.append(f"To: {to};tag=reg{self.port}" if "tag=" not in to else f"To: {to}")
        authorization = fields.get("authorization")
        if authorization is None:
            return self._response("401 Unauthorized", copied,
                                  f'WWW-Authenticate: Digest realm="{REALM}", nonce="{self.nonce}", algorithm=MD5')
        params = dict(re.findall(r'(\w+)="?([^",]+)"?', authorization))
        ha1 = _md5(f"{self.user}:{REALM}:{self.password}")
        ha2 = _md5(f"REGISTER:{params.get('uri', uri)}")
        expected = _md5(f"{ha1}:{self.nonce}:{ha2}")
        if params.get("username") == self.user and params.get("response") == expected:
            self.registered.append(params["username"])
            contact = fields.get("contact") or fields.get("m", "")
            return self._response("200 OK", copied, f"Contact: {contact};expires={LEASE_SECONDS}")
        self.refused.append(params.get("username", ""))
        return self._response("403 Forbidden", copied)

    @staticmethod
    def _response(status: str, headers: list[str], *extra: str) -> str:
        return "\r\n".join([f"SIP/2.0 {status}", *headers, *extra, "Content-Length: 0", "", ""])

    def stop(self) -> None:
        self.sock.close()
