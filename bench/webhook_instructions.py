"""CPU instructions per webhook, counted by valgrind: a menu step vs the bare Flask endpoint, in process.

Run: .venv/bin/python bench/webhook_instructions.py [--requests 1000]   (about 3 minutes)

bench/webhooks.py measures the real server, but on a shared VM its rates move by a third between
runs. Instruction counts do not: valgrind's callgrind counts the same total for the same code and
inputs whatever the neighbours do, so a change to the step's own code shows up exactly. What this
leaves out is what only the server shows: gunicorn's share (the same for both endpoints), system
calls, and threads waiting for the GIL or the writer lock.

Three runs of this script under callgrind, two at a time: the apps set up and warmed without
requests (the baseline), then N bare requests, then N menu steps; each count minus the baseline,
divided by N, is the cost of one request. Requests are WSGI calls with prebuilt environs, the same
signed Gather posts (`Digits=*`) as bench/webhooks.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-secret"
PUBLIC_URL = "http://127.0.0.1:8000"
CALLS = 64
WARM_UP = 200


def _environ(path: str, form: dict) -> dict:
    from twilio.request_validator import RequestValidator

    body = urlencode(form).encode()
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
            "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1:8000", "wsgi.input": body, "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "HTTP_X_TWILIO_SIGNATURE": RequestValidator(TOKEN).compute_signature(PUBLIC_URL + path, form)}


def _call(app, environ: dict) -> None:
    status = []
    environ = {**environ, "wsgi.input": io.BytesIO(environ["wsgi.input"])}
    b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    if not status[0].startswith("200"):
        raise RuntimeError(f"{environ['PATH_INFO']} answered {status[0]}")


def _worker(kind: str, requests: int) -> None:
    """Set up both apps, warm them, then answer `requests` requests of one kind (or none)."""
    tmp = Path(tempfile.mkdtemp(prefix="hausruf-instr-"))
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "TWILIO_AUTH_TOKEN": TOKEN,
           "HAUSRUF_PUBLIC_URL": PUBLIC_URL, "HAUSRUF_DATA_DIR": str(tmp), "HAUSRUF_SPEECH": "off",
           "HAUSRUF_STAFF_NUMBER": "+4927150100000", "HAUSRUF_LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    sys.path.append(str(ROOT / "bench"))
    from bare_app import create_bare_app
    from webhooks import import_demo

    import_demo(env)

    from ivr import create_app

    hausruf, bare = create_app(), create_bare_app()
    steps = []
    for i in range(CALLS):
        form = {"CallSid": f"CA{i:032x}", "From": "+493023125301"}
        _call(hausruf, _environ("/twilio/voice", form))
        steps.append(_environ("/twilio/voice/gather", {**form, "Digits": "*"}))
    for n in range(WARM_UP):
        _call(hausruf, steps[n % CALLS])
        _call(bare, steps[n % CALLS])
    app = {"bare": bare, "step": hausruf}.get(kind)
    for n in range(requests if app else 0):
        _call(app, steps[n % CALLS])


def _count(kind: str, requests: int) -> int:
    """Instructions of one worker run under callgrind."""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                          __file__, "--worker", kind, "--requests", str(requests)],
                         capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or not found:
        raise RuntimeError(f"callgrind run for {kind} failed:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--worker", choices=("none", "bare", "step"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.requests)
        return
    with ThreadPoolExecutor(2) as pool:
        counts = dict(zip(("none", "bare", "step"),
                          pool.map(lambda kind: _count(kind, args.requests), ("none", "bare", "step"))))
    bare = (counts["bare"] - counts["none"]) / args.requests
    step = (counts["step"] - counts["none"]) / args.requests
    print(f"instructions per request, in process, {args.requests} requests each (valgrind callgrind):")
    print(f"  bare Flask constant TwiML  {bare:>12,.0f}")
    print(f"  Hausruf menu step          {step:>12,.0f}")
    print(f"  step / bare                {step / bare:>12.1f}")
    print(json.dumps({"bare": bare, "menu_step": step, "requests": args.requests}))


if __name__ == "__main__":
    main()
