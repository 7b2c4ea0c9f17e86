"""A real `hausruf serve` process on a free local port, for tests that need HTTP and restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpTransport:
    """What CallSimulator needs from a transport, over real HTTP."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def post(self, url, data, headers, timeout):
        return self.session.post(url, data=data, headers=headers, timeout=timeout)


class ServerProcess:
    """Start, kill and restart the production server with a given environment."""

    def __init__(self, env: dict[str, str], port: int | None = None, workers: int = 1, threads: int = 4):
        self.port = port or free_port()
        # `hausruf serve` refuses to start without the staff console's cookie key.
        self.env = {**os.environ, "HAUSRUF_SECRET_KEY": "test-secret-key-for-hausruf-serve", **env}
        self.args = ["serve", "--host", "127.0.0.1", "--port", str(self.port),
                     "--workers", str(workers), "--threads", str(threads)]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        return self.launch().ready()

    def launch(self) -> "ServerProcess":
        """Start the process without waiting (servers that start side by side start sooner)."""
        hausruf = str(Path(sys.executable).parent / "hausruf")
        self.process = subprocess.Popen([hausruf, *self.args], env=self.env, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        return self

    def ready(self) -> "ServerProcess":
        """Wait until the launched server answers /healthz."""
        # 90 s: the server loads its speech models before it answers (seconds, more on a busy machine).
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code in (200, 503):
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("server did not answer /healthz within 90 s")

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, like a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self) -> None:
        """Ask the server to stop (SIGTERM to the whole group) without waiting: servers stop side by side."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), SIGKILL after 15 s."""
        if self.process and self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
