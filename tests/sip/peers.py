"""Real SIP peers for the tests: baresip (Debian's baresip-core) on free local ports, driven over ctrl_tcp,
and `hausruf sip` itself as a subprocess.

baresip plays a WAV file as its microphone (aufile) and writes what it hears and sends to WAV files
(sndfile: dump-*-dec.wav is what it received), so tests assert on the audio that really crossed RTP.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BARESIP = shutil.which("baresip") or "/usr/bin/baresip"


def free_port(kind: int = socket.SOCK_DGRAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_sip_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP (SIP listens on both)."""
    for _ in range(50):
        port = free_port(host=host)
        with socket.socket() as tcp:
            try:
                tcp.bind((host, port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port for SIP")


def end_process(process: subprocess.Popen, grace: float = 5) -> None:
    """SIGTERM, then SIGKILL when it has not ended after `grace` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_for(predicate, timeout: float, what: str, step: float = 0.05):
    """Poll predicate() until it is truthy; AssertionError naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def read_wav(path: Path) -> np.ndarray:
    """16-bit mono samples of a WAV file baresip wrote (its header may lag while the call runs)."""
    data = path.read_bytes()
    start = data.find(b"data")
    return np.frombuffer(data[start + 8:] if start >= 0 else b"", dtype=np.int16)[: (len(data) - start - 8) // 2]


def loud_seconds(samples: np.ndarray, rate: int = 8000, threshold: float = 300.0) -> float:
    """Seconds of 20 ms frames whose RMS is above threshold (speech, not line noise)."""
    frame = rate // 50
    count = len(samples) // frame
    if not count:
        return 0.0
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    return float((np.sqrt((frames ** 2).mean(axis=1)) > threshold).sum()) / 50


def dominant_frequency(samples: np.ndarray, rate: int = 8000) -> float:
    """The strongest frequency in the samples (Hz)."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(spectrum.argmax())])


def silence_wav(seconds: int = 300) -> Path:
    """A long silent 8 kHz WAV (written once per run) for peers that only listen."""
    path = Path(tempfile.gettempdir()) / f"hausruf-test-silence-{seconds}s.wav"
    if not path.is_file():
        write_wav(path, np.zeros(8000 * seconds, dtype=np.int16))
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    """16-bit mono WAV, written atomically (several test processes may write the same file)."""
    import wave

    partial = path.with_suffix(f".{os.getpid()}.part")
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
    partial.replace(path)
    return path


class Baresip:
    """One baresip user agent: `user` is its SIP user (a phone number), `source` the WAV it speaks."""

    def __init__(self, user: str, codec: str = "PCMA", source: Path | None = None, auto_answer: bool = False,
                 host: str = "127.0.0.1"):
        self.user = user
        self.host = host
        self.dir = Path(tempfile.mkdtemp(prefix="baresip-"))
        self.dump = self.dir / "dump"
        self.dump.mkdir()
        # baresip sends RTP (and with it the DTMF events) only while its source gives audio: silence then.
        self.source = source or silence_wav()
        self.log_path = self.dir / "log"
        for attempt in range(3):
            try:
                self.sock = self._start(codec, auto_answer)
                return
            except RuntimeError:
                # A free port picked here can be taken by another test process before baresip binds it (and
                # baresip binds more than the SIP port free_sip_port() checks, e.g. for SIP over TLS): again.
                if attempt == 2 or "Address already in use" not in self.log():
                    raise
                end_process(self.process)
                self._log.close()

    def _start(self, codec: str, auto_answer: bool) -> socket.socket:
        """Write the configuration for new free ports, start baresip and connect to its ctrl_tcp."""
        host = self.host
        self.port = free_sip_port(host)
        self.ctrl_port = free_port(socket.SOCK_STREAM)
        (self.dir / "config").write_text(f"""poll_method epoll
sip_listen {host}:{self.port}
audio_player aubridge,play{self.port}
audio_source aufile,{self.source}
audio_alert aubridge,alert{self.port}
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}
snd_path {self.dump}
rtp_ports {self.rtp_ports()}
""")
        answer = "auto" if auto_answer else "manual"
        (self.dir / "accounts").write_text(
            f"<sip:{self.user}@{host}:{self.port}>;regint=0;audio_codecs={codec};answermode={answer}\n")
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen([BARESIP, "-f", str(self.dir)], stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        return self._connect()

    def rtp_ports(self) -> str:
        """Forty ports below the kernel's ephemeral range, where the SIP ports are picked, keyed by the SIP port."""
        first = 24000 + (self.port % 200) * 40
        return f"{first}-{first + 39}"

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + 10
        while True:
            try:
                return socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5)
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"baresip did not start: {self.log()[-2000:]}")
                time.sleep(0.05)

    def command(self, command: str, params: str = "") -> None:
        """Send one ctrl_tcp command (netstring-framed JSON)."""
        message = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.sock.sendall(str(len(message)).encode() + b":" + message + b",")

    def dial(self, uri: str) -> None:
        self.command("dial", uri)

    def press(self, keys: str) -> None:
        """Send DTMF (RFC 2833 telephone-events), one key after another."""
        for key in keys:
            self.command("sndcode", key)
            time.sleep(0.25)

    def accept(self) -> None:
        self.command("accept")

    def hangup(self) -> None:
        self.command("hangup")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def ringing(self) -> bool:
        """An incoming call is ringing here."""
        return "Incoming call from" in self.log()

    def established(self) -> bool:
        return "Call established" in self.log()

    def closed(self) -> bool:
        return bool(re.search(r"[Cc]all closed|session closed|Call terminated", self.log()))

    def received(self) -> np.ndarray:
        """What this peer heard so far: the decoded audio of its (last) call."""
        dumps = sorted(self.dump.glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime)
        return read_wav(dumps[-1]) if dumps else np.zeros(0, dtype=np.int16)

    def stop(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        end_process(self.process)
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class HausrufSip:
    """`hausruf sip` as its own process, as an operator runs it."""

    def __init__(self, env: dict[str, str], at: str | None = None):
        self.port = free_sip_port()
        self.env = {**os.environ, "HAUSRUF_SIP_LISTEN": f"127.0.0.1:{self.port}", **env}
        self.args = [str(Path(sys.executable).parent / "hausruf"), "sip"] + (["--at", at] if at else [])
        self.log_path = Path(tempfile.mkstemp(prefix="hausruf-sip-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None
        self._terminated = False

    @property
    def uri(self) -> str:
        return f"sip:hotline@127.0.0.1:{self.port}"

    def start(self) -> "HausrufSip":
        return self.launch().ready()

    def launch(self) -> "HausrufSip":
        """Start the process without waiting (several lines start side by side)."""
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(self.args, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def ready(self) -> "HausrufSip":
        """Wait until the line listens."""
        wait_for(lambda: "SIP line listening" in self.log() or self.process.poll() is not None, 60, "hausruf sip")
        if self.process.poll() is not None:
            raise RuntimeError(f"hausruf sip exited: {self.log()[-3000:]}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        """Ask the line to stop (SIGTERM), without waiting."""
        if self.process and self.process.poll() is None and not self._terminated:
            self._terminated = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        """Stop the line as systemd would (SIGTERM) and return its exit code."""
        if self.process and self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        return self.process.returncode
