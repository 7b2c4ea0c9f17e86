"""The browser simulator over HTTP (books and sends nothing) and `hausruf staff ...`."""

from __future__ import annotations

import re
import shutil

from click.testing import CliRunner
from sqlalchemy import func, select

from ivr.cli import main
from ivr.db import get_session
from ivr.db.models import CallbackTask, SmsMessage, StaffAccount
from ivr.wiring import hausruf
from tests.console.conftest import ERIKA, csrf_token


def _step(client, data: dict) -> str:
    response = client.post("/simulator", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    return response.get_data(as_text=True)


def _token(body: str) -> str:
    return re.search(r'name="sim" value="([^"]+)"', body).group(1)


def test_a_simulated_call_books_nothing_and_sends_nothing(app, staff_client):
    csrf = csrf_token(staff_client, "/simulator")
    body = _step(staff_client, {"csrf_token": csrf, "caller": ERIKA, "date": "2026-03-04", "time": "10:00",
                                "flow": "hotline", "start": "1"})
    assert "Guten Tag, Frau Becker." in body and "Anruf von Frau Becker (Lindenhof, Siegen), 04.03.2026 10:00" in body
    body = _step(staff_client, {"csrf_token": csrf, "sim": _token(body), "key": "5"})
    assert "Anrufer drückt 5." in body
    assert "Rückruf für die IT-Helfer des Hauses: Hilfe mit Telefon, Computer oder Haus-Chat" in body
    assert "Im Simulator wird nichts gebucht" in body
    body = _step(staff_client, {"csrf_token": csrf, "sim": _token(body), "message": "Mein Tablet geht nicht"})
    assert "Anrufer spricht: „Mein Tablet geht nicht“" in body and "Auf Wiederhören." in body
    assert "Der Anruf ist beendet." in body
    with app.app_context():
        session = get_session()
        assert session.scalar(select(func.count()).select_from(CallbackTask)) == 0
        assert session.scalar(select(func.count()).select_from(SmsMessage)) == 0


def test_the_simulator_plays_rendered_prompt_audio(app, staff_client):
    menu = hausruf(app).flows.current().get("hotline", "de").nodes["main_menu"].prompt.segments[0]
    path = hausruf(app).prompt_renderer.path_for(menu, "de")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVEfmt ")  # stands for `hausruf prompts build`'s file
    csrf = csrf_token(staff_client, "/simulator")
    body = _step(staff_client, {"csrf_token": csrf, "caller": ERIKA, "date": "2026-03-04", "time": "10:00",
                                "flow": "hotline"})
    url = re.search(r'<audio controls preload="none" src="(/prompts/de/[0-9a-f]+/' + path.name + ')"></audio>',
                    body).group(1)
    assert body.count("<audio") == 1  # the other prompts have no audio yet: their text is shown
    assert staff_client.get(url).data == path.read_bytes()


def test_simulator_words_dial_results_and_tampering(staff_client):
    csrf = csrf_token(staff_client, "/simulator")
    body = _step(staff_client, {"csrf_token": csrf, "caller": "unknown", "number": "0171 2345678",
                                "date": "2026-03-04", "time": "10:00", "flow": "hotline"})
    assert "unbekannte Nummer" in body
    body = _step(staff_client, {"csrf_token": csrf, "sim": _token(body), "word": "einkauf", "say": "1"})
    assert "Anrufer sagt „einkauf“" in body and "Die Hotline verbindet mit" in body
    body = _step(staff_client, {"csrf_token": csrf, "sim": _token(body), "dial": "busy"})
    assert "Gespräch: besetzt" in body and "Dort hat leider niemand abgenommen." in body
    forged = _token(body)[:-4] + "AAAA"
    response = staff_client.post("/simulator", data={"csrf_token": csrf, "sim": forged, "key": "1"})
    assert response.status_code == 422 and "nicht mehr gültig" in response.get_data(as_text=True)
    response = staff_client.post("/simulator", data={"csrf_token": csrf, "caller": "unknown", "number": "",
                                                     "date": "2026-03-04", "time": "10:00", "flow": "hotline"})
    assert response.status_code == 422 and "Bitte wählen Sie eine Person" in response.get_data(as_text=True)


def test_staff_commands(tmp_path, seed, monkeypatch):
    shutil.copyfile(seed, tmp_path / "db.sqlite3")
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    runner = CliRunner()
    result = runner.invoke(main, ["staff", "add", "Neu@Talblick.example", "--name", "Nora Neu", "--password-stdin"],
                           input="ein-langes-passwort\n")
    assert result.exit_code == 0, result.output
    assert "account neu@talblick.example (staff) created" in result.output
    result = runner.invoke(main, ["staff", "add", "kurz@talblick.example", "--name", "K", "--password-stdin"],
                           input="kurz\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    assert runner.invoke(main, ["staff", "add", "x@talblick.example", "--name", "X", "--password", "secret12345"]
                         ).exit_code == 2  # never on the command line
    result = runner.invoke(main, ["staff", "list"])
    assert "neu@talblick.example" in result.output and "admin@talblick.example" in result.output
    assert runner.invoke(main, ["staff", "disable", "neu@talblick.example"]).exit_code == 0
    assert "disabled" in runner.invoke(main, ["staff", "list"]).output
    result = runner.invoke(main, ["staff", "password", "neu@talblick.example", "--password-stdin"],
                           input="noch-ein-langes-passwort\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["staff", "disable", "ghost@talblick.example"])
    assert result.exit_code == 1 and "there is no account for ghost@talblick.example" in result.output
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with Session(engine) as session:
        account = session.scalar(select(StaffAccount).where(StaffAccount.email == "neu@talblick.example"))
        assert account.password_hash.startswith("$argon2id$") and "langes" not in account.password_hash
    engine.dispose()


def test_staff_secret_writes_a_key_once(tmp_path, monkeypatch):
    monkeypatch.delenv("HAUSRUF_SECRET_KEY", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("HAUSRUF_LOG_LEVEL=info")
    result = CliRunner().invoke(main, ["staff", "secret", "--env-file", str(env_file)])
    assert result.exit_code == 0 and "wrote a new HAUSRUF_SECRET_KEY" in result.output
    text = env_file.read_text()
    assert text.startswith("HAUSRUF_LOG_LEVEL=info\n") and re.search(r"^HAUSRUF_SECRET_KEY=\S{40,}$", text, re.M)
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    CliRunner().invoke(main, ["staff", "secret", "--env-file", str(env_file)])
    assert env_file.read_text() == text


def test_a_simulated_message_to_the_neighbours_is_read_back_and_posts_nothing(app, staff_client):
    from ivr.db.models import HouseMessage

    csrf = csrf_token(staff_client, "/simulator")
    body = _step(staff_client, {"csrf_token": csrf, "caller": "+493023125303", "date": "2026-03-04", "time": "10:00",
                                "flow": "hotline", "start": "1"})
    for key in ("5", "2"):
        body = _step(staff_client, {"csrf_token": csrf, "sim": _token(body), "key": key})
    assert "Please say your message to your neighbours after the tone." in body
    body = _step(staff_client, {"csrf_token": csrf, "sim": _token(body), "message": "Who has some flour"})
    assert "I understood:" in body and "Who has some flour" in body  # the typed words stand for the transcript
    body = _step(staff_client, {"csrf_token": csrf, "sim": _token(body), "key": "1"})
    assert "house_message_sent" in body and "Your message will be in the house chat in a moment." in body
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(HouseMessage)) == 0
