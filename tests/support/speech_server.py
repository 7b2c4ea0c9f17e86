"""Measure a running `hausruf serve`: its processes' PSS, and streams that make every worker decode."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path

import websocket
from twilio.request_validator import RequestValidator

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The direct child processes of pid (gunicorn's workers under its master)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def pss_kb(pid: int) -> int:
    """Proportional set size of one process: shared pages count once, split among the processes sharing them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    raise RuntimeError(f"no Pss line for process {pid}")


def server_pss_mb(master: int) -> float:
    """PSS of the master and all its workers together, in MB: what the server really costs the machine."""
    return sum(pss_kb(pid) for pid in [master, *children(master)]) / 1024


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def stream_once(url_for, auth_token: str, params: dict, audio: list[bytes], call_sid: str) -> None:
    """One signed media stream carrying the audio, as Twilio sends it; returns when the server closes it."""
    url = url_for(call_sid)  # the stream URL of this call (keyed to call and step, as the TwiML names it)
    signature = RequestValidator(auth_token).compute_signature(url, {})
    ws = websocket.create_connection(url, header=[f"X-Twilio-Signature: {signature}"], timeout=30)
    try:
        start = {"streamSid": "MZ" + call_sid[2:], "callSid": call_sid, "customParameters": params,
                 "tracks": ["inbound"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}
        ws.send(json.dumps({"event": "start", "start": start}))
        for frame in audio:
            ws.send(json.dumps({"event": "media", "media": {"payload": base64.b64encode(frame).decode()}}))
        ws.send(json.dumps({"event": "stop"}))
        try:
            ws.recv()  # the server closes the stream when it is done
        except (websocket.WebSocketException, OSError):
            pass
    finally:
        ws.close()


def decode_in_every_worker(master: int, url_for, auth_token: str, params: dict, audio: list[bytes],
                           min_cpu: float = 0.15, rounds: int = 12) -> int:
    """Send concurrent streams until every worker has spent min_cpu seconds decoding; the streams sent."""
    workers = children(master)
    before = {pid: cpu_seconds(pid) for pid in workers}
    sent = 0
    for round_ in range(rounds):
        threads = [threading.Thread(target=stream_once,
                                    args=(url_for, auth_token, params, audio, f"CA{round_:04d}{k:028d}"))
                   for k in range(2 * len(workers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent += len(threads)
        if all(cpu_seconds(pid) - before[pid] >= min_cpu for pid in workers):
            return sent
    idle = [pid for pid in workers if cpu_seconds(pid) - before[pid] < min_cpu]
    raise RuntimeError(f"workers {idle} decoded nothing after {sent} streams")
