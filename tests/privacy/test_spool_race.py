"""The spool under real concurrent processes: appends while an erase rewrites it and the worker takes from it.

Three processes append missed calls (a third of them from the number being erased), one process
erases that number again and again (a rewrite by rename), one takes and finishes entries as the
worker does. Every other caller's entry must come out exactly once: none dropped by a rewrite or a
take, none handed out twice; none of the erased number's entries may be left.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ivr.calls.spool import spool_missed_call, spool_path, take_spooled

ROOT = Path(__file__).resolve().parents[2]
VICTIM = "+493023125301"
APPENDERS, PER_APPENDER = 3, 120

APPEND = """
import sys
from pathlib import Path
from ivr.calls.spool import spool_missed_call
data, me = Path(sys.argv[1]), sys.argv[2]
for i in range({n}):
    number = "{victim}" if i % 3 == 0 else f"+4930555{{me}}{{i:04d}}"
    spool_missed_call(data, "twilio", f"CA{{me}}-{{i}}", number, "database down")
"""
ERASE = """
import sys
from pathlib import Path
from ivr.privacy.person import remove_from_spool
data = Path(sys.argv[1])
while not (data / "stop").exists():
    remove_from_spool(data, "{victim}")
remove_from_spool(data, "{victim}")
"""
TAKE = """
import json, sys
from pathlib import Path
from ivr.calls.spool import finish_spooled, take_spooled
data, out = Path(sys.argv[1]), Path(sys.argv[2])
with open(out, "a") as taken:
    while not (data / "stop").exists():
        entries = take_spooled(data)
        taken.writelines(json.dumps(e) + "\\n" for e in entries)
        taken.flush()
        finish_spooled(data)
"""


def _start(script: str, *args) -> subprocess.Popen:
    code = textwrap.dedent(script).format(n=PER_APPENDER, victim=VICTIM)
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT)


def test_no_append_is_lost_or_doubled_while_erase_and_worker_rewrite_the_spool(tmp_path):
    data, taken = tmp_path / "data", tmp_path / "taken.jsonl"
    data.mkdir()
    spool_missed_call(data, "twilio", "CA-first", VICTIM, "database down")  # something to erase from the start
    eraser, taker = _start(ERASE, data), _start(TAKE, data, taken)
    appenders = [_start(APPEND, data, me) for me in range(APPENDERS)]
    started = time.monotonic()
    assert [p.wait(timeout=120) for p in appenders] == [0] * APPENDERS
    (data / "stop").touch()
    assert (eraser.wait(timeout=60), taker.wait(timeout=60)) == (0, 0)

    seen = [json.loads(line) for line in taken.read_text().splitlines()] + take_spooled(data)
    others = sorted(e["call_id"] for e in seen if e["from"] != VICTIM)
    expected = sorted(f"CA{me}-{i}" for me in range(APPENDERS) for i in range(PER_APPENDER) if i % 3)
    assert len(others) == len(expected) and others == expected  # none lost, none twice
    left = [e for e in take_spooled(data) if e["from"] == VICTIM]
    assert left == [] and not spool_path(data).exists()
    assert time.monotonic() - started < 60


def test_an_append_waits_for_a_holder_but_not_for_ever(tmp_path, monkeypatch, caplog):
    import fcntl
    import os

    from ivr.calls import spool

    data = tmp_path / "data"
    spool_missed_call(data, "twilio", "CA-a", VICTIM, "database down")
    holder = os.open(spool_path(data).with_suffix(".lock"), os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another open file: to the lock, another process
    monkeypatch.setattr(spool, "APPEND_WAIT", 0.3)
    started = time.monotonic()
    spool_missed_call(data, "twilio", "CA-b", VICTIM, "database down")  # a caller is waiting: appended after 0.3 s
    assert 0.3 <= time.monotonic() - started < 3
    assert "spool lock held for more than 0.3 s; appending without it" in caplog.text
    os.close(holder)
    assert [e["call_id"] for e in take_spooled(data)] == ["CA-a", "CA-b"]
