"""A real Synapse homeserver for the tests: SQLite, a free local port, a registration shared secret.

Synapse lives in its own virtual environment (.venv-synapse, made by scripts/bootstrap) so its pins
never fight the project's. One server serves the whole test run (it starts in about 3 seconds);
tests register their own users with fresh names, so they do not see each other's rooms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SYNAPSE_PYTHON = Path(os.environ.get("HAUSRUF_SYNAPSE_PYTHON", ROOT / ".venv-synapse" / "bin" / "python"))
SERVER_NAME = "talblick.test"
SHARED_SECRET = "hausruf-test-shared-secret"

# No federation, no presence, no rate limits (the tests send quickly from one address).
CONFIG = """\
server_name: "{server_name}"
pid_file: {dir}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {dir}/homeserver.db
media_store_path: {dir}/media
signing_key_path: {dir}/signing.key
registration_shared_secret: "{secret}"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
macaroon_secret_key: "hausruf-test-macaroon"
form_secret: "hausruf-test-form"
enable_registration: false
federation_domain_whitelist: []
presence:
  enabled: false
rc_message: {{per_second: 1000, burst_count: 1000}}
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
rc_joins:
  local: {{per_second: 1000, burst_count: 1000}}
rc_invites:
  per_room: {{per_second: 1000, burst_count: 1000}}
  per_user: {{per_second: 1000, burst_count: 1000}}
"""


@dataclass(frozen=True)
class MatrixUser:
    """A registered account: its id, access token and device."""

    user_id: str
    access_token: str
    device_id: str


class Synapse:
    """Start, use and stop one Synapse process."""

    _names = itertools.count(1)

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Synapse":
        if not SYNAPSE_PYTHON.is_file():
            raise RuntimeError(f"Synapse is not installed at {SYNAPSE_PYTHON}; run scripts/bootstrap (make setup)")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "homeserver.yaml"
        config.write_text(CONFIG.format(server_name=SERVER_NAME, dir=self.directory, port=self.port,
                                        secret=SHARED_SECRET))
        command = [str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "-c", str(config)]
        # The signing key as `--generate-keys` writes it (signedjson: algorithm, version, unpadded base64 of an
        # ed25519 seed), without a second start of Synapse just for that (seconds on a busy machine).
        seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        (self.directory / "signing.key").write_text(f"ed25519 a_{secrets.token_hex(2)} {seed}\n")
        self.log = (self.directory / "homeserver.log").open("wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.directory)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited with {self.process.returncode}; see {self.log.name}")
            try:
                if requests.get(f"{self.url}/_matrix/client/versions", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Synapse did not answer within {timeout} s; see {self.log.name}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    # --- accounts (admin API "Shared-Secret Registration") ---------------------------------------

    def register(self, localpart: str | None = None, admin: bool = False, displayname: str | None = None
                 ) -> MatrixUser:
        """A new account with a fresh name (localpart plus a counter), signed in on one device."""
        name = f"{localpart or 'user'}{next(self._names)}"
        password = f"pw-{name}-secret"
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = requests.get(endpoint, timeout=10).json()["nonce"]
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        body = {"nonce": nonce, "username": name, "password": password, "admin": admin, "mac": mac.hexdigest()}
        if displayname:
            body["displayname"] = displayname
        answer = requests.post(endpoint, json=body, timeout=30)
        answer.raise_for_status()
        found = answer.json()
        return MatrixUser(found["user_id"], found["access_token"], found["device_id"])

    def password_of(self, user: MatrixUser) -> str:
        return f"pw-{user.user_id[1:].split(':')[0]}-secret"

    # --- a plain client for the tests' people (helpers, neighbours) --------------------------------

    def api(self, user: MatrixUser, method: str, path: str, **kwargs) -> dict:
        """One Client-Server API request as user; the JSON answer (raises on an error status)."""
        answer = requests.request(method, f"{self.url}/_matrix/client/v3{path}",
                                  headers={"Authorization": f"Bearer {user.access_token}"}, timeout=30, **kwargs)
        if not answer.ok:
            raise AssertionError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json()
