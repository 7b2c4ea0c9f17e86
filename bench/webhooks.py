"""Webhook throughput and latency: a full menu step of Hausruf vs a bare Flask endpoint, same server settings.

Run: .venv/bin/python bench/webhooks.py [--seconds 10] [--connections 8] [--database sqlite|postgresql]

Both apps run under the production server (gunicorn gthread, the settings of `hausruf serve`). The
load comes from a separate process pool with keep-alive connections. A "menu step" is a signed Gather
action pressing * (repeat) for one of many calls in progress: signature check, call row locked and
read, directory context built, engine step, state and audit event written, TwiML rendered.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gunicorn.app.base import BaseApplication  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from ivr.web.server import server_options  # noqa: E402

TOKEN = "bench-secret"
CALLS = 64


class _Server(BaseApplication):
    def __init__(self, factory, options):
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.factory()


def _run_server(kind: str, port: int, env: dict) -> None:
    os.environ.update(env)
    if kind == "bare":
        sys.path.insert(0, str(ROOT / "bench"))
        from bare_app import create_bare_app as factory
    else:
        from ivr import create_app as factory
    options = server_options("127.0.0.1", port)
    options.update(loglevel="warning", errorlog="-")
    _Server(factory, options).run()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _requests(port: int) -> list[tuple[str, bytes, dict]]:
    """Signed Gather posts, one per call in progress (the same bytes can be replayed)."""
    validator = RequestValidator(TOKEN)
    path = "/twilio/voice/gather"
    items = []
    for i in range(CALLS):
        form = {"CallSid": f"CA{i:032x}", "From": "+493023125301", "Digits": "*"}
        signature = validator.compute_signature(f"http://127.0.0.1:{port}{path}", form)
        items.append((path, urlencode(form).encode(), {"X-Twilio-Signature": signature,
                                                       "Content-Type": "application/x-www-form-urlencoded"}))
    return items


def _load_worker(port: int, items, seconds: float, connections: int, queue) -> None:
    import threading

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def loop(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad, i = [], 0, offset
        while time.perf_counter() < stop_at:
            path, body, headers = items[i % len(items)]
            i += connections
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((latencies, errors[0]))


def measure(kind: str, env: dict, seconds: float, connections: int, setup=None) -> dict:
    """Start one server, warm it up, load it for `seconds`, stop it; throughput and latency figures."""
    port = _free_port()
    env = {**env, "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    server = mp.Process(target=_run_server, args=(kind, port, env), daemon=True)
    server.start()
    try:
        _wait(port)
        items = _requests(port)
        if setup:
            setup(port, items)
        queue = mp.Queue()
        # Warm-up: caches, connection pools, first compiles.
        _load_worker(port, items, 1.0, connections, queue)
        queue.get()
        procs = [mp.Process(target=_load_worker, args=(port, items, seconds, connections // 2, queue))
                 for _ in range(2)]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
    finally:
        server.terminate()
        server.join(10)
    latencies = sorted(l for lat, _ in results for l in lat)
    errors = sum(e for _, e in results)
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "errors": errors, "rps": len(latencies) / seconds,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def _start_calls(port: int, items) -> None:
    """Open every benchmark call with a signed incoming-call webhook."""
    validator = RequestValidator(TOKEN)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(CALLS):
        form = {"CallSid": f"CA{i:032x}", "From": "+493023125301"}
        signature = validator.compute_signature(f"http://127.0.0.1:{port}/twilio/voice", form)
        conn.request("POST", "/twilio/voice", body=urlencode(form),
                     headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200 and b"<Gather" in body, body[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hausruf-bench-"))
    pg = None
    if args.database == "postgresql":
        from tests.support.postgres import TemporaryPostgres

        pg = TemporaryPostgres().start()
        url = pg.create_database()
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {"HAUSRUF_DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "HAUSRUF_DATA_DIR": str(tmp),
           "HAUSRUF_STAFF_NUMBER": "+4927150100000", "HAUSRUF_LOG_LEVEL": "WARNING", "HAUSRUF_SPEECH": "off"}
    import subprocess

    subprocess.run([str(Path(sys.executable).parent / "hausruf"), "import", str(ROOT / "data" / "demo")],
                   env={**os.environ, **env}, check=True, capture_output=True)
    try:
        bare = measure("bare", env, args.seconds, args.connections)
        full = measure("hausruf", env, args.seconds, args.connections, setup=_start_calls)
    finally:
        if pg:
            pg.stop()
    options = server_options("127.0.0.1", 0)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"server: gunicorn {options['worker_class']} {options['workers']} workers x {options['threads']} threads; "
          f"database: {args.database}; {args.connections} connections, {args.seconds:.0f} s")
    print(f"{'endpoint':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in (("bare Flask constant TwiML", bare), ("Hausruf menu step", full)):
        print(f"{name:<28} {r['rps']:>8.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7}")
    ratio = full["rps"] / bare["rps"]
    print(f"throughput ratio (menu step / bare): {ratio:.2f}  (target >= 0.5); "
          f"menu step p99 {full['p99_ms']:.1f} ms (target < 20 ms)")
    print(json.dumps({"bare": bare, "menu_step": full, "ratio": ratio, "database": args.database}))


if __name__ == "__main__":
    main()
