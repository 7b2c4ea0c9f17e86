"""Webhook throughput and latency: a full menu step of Hausruf vs a bare Flask endpoint, same server settings.

Run: .venv/bin/python bench/webhooks.py [--seconds 5] [--rounds 5] [--connections 8] [--database sqlite|postgresql]
     .venv/bin/python bench/webhooks.py --against ../old-checkout   (this code's menu step vs another's)

The floor a real hotline needs (docs/performance.md): at 8 connections at least 300 menu steps per
second with p99 under 50 ms on SQLite, 150 with p99 under 100 ms on PostgreSQL. The script says
whether this code clears it.

Both apps run under the production server (gunicorn gthread, the settings of `hausruf serve`), side
by side, and are loaded in alternating rounds so a busy neighbour on the machine hits both alike;
figures are medians over the rounds. The load comes from two client processes with keep-alive
connections. A "menu step" is a signed Gather
action pressing * (repeat) for one of many calls in progress: signature check, call row locked and
read, directory context built, engine step, state and audit event written, TwiML rendered.

With --against PATH the baseline is not the bare endpoint but the menu step of another checkout
(e.g. `git worktree add ../old HEAD~3`), run by that checkout's own `serve`: on a shared VM whose
speed moves between runs, only alternating rounds tell whether a change made the step faster.
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
# (menu steps per second, p99 in ms) a hotline serving many cooperatives needs at 8 connections.
FLOOR = {"sqlite": (300, 50), "postgresql": (150, 100)}


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


class _Checkout:
    """Another checkout's Hausruf, started by its own server code (so its own settings) in a subprocess."""

    def __init__(self, path: Path, port: int, env: dict):
        import subprocess

        code = f"from ivr.web.server import serve; serve('127.0.0.1', {port})"
        # cwd first on sys.path (python -c), so this checkout's ivr wins over the installed one.
        self._process = subprocess.Popen([sys.executable, "-c", code], cwd=path,
                                         env={**os.environ, **env})

    def terminate(self) -> None:
        self._process.terminate()

    def join(self, timeout: float) -> None:
        self._process.wait(timeout)


class RunningServer:
    """One benchmark server in its own process, warmed up and ready for load rounds.

    kind: "bare", "hausruf" (this checkout) or a Path to another checkout.
    """

    def __init__(self, kind: "str | Path", env: dict, setup=None):
        self.port = _free_port()
        env = {**env, "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{self.port}"}
        if isinstance(kind, Path):
            self.process = _Checkout(kind, self.port, env)
        else:
            self.process = mp.Process(target=_run_server, args=(kind, self.port, env), daemon=True)
            self.process.start()
        _wait(self.port)
        self.items = _requests(self.port)
        if setup:
            setup(self.port, self.items)
        self.load(1.0, 2)  # warm-up: caches, connection pools, first compiles

    def load(self, seconds: float, connections: int) -> tuple[list[float], int]:
        """Latencies and error count of `seconds` of load from two client processes."""
        queue = mp.Queue()
        procs = [mp.Process(target=_load_worker, args=(self.port, self.items, seconds, max(1, connections // 2), queue))
                 for _ in range(2)]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        return sorted(l for lat, _ in results for l in lat), sum(e for _, e in results)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def _figures(rounds: list[tuple[list[float], int]], seconds: float) -> dict:
    """Median over rounds of throughput and latency percentiles (robust to a noisy neighbour)."""
    per_round = []
    for latencies, errors in rounds:
        q = statistics.quantiles(latencies, n=100)
        per_round.append({"rps": len(latencies) / seconds, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000,
                          "errors": errors})
    return {key: statistics.median(r[key] for r in per_round) for key in ("rps", "p50_ms", "p99_ms")} | {
        "errors": sum(r["errors"] for r in per_round), "rounds": per_round}


def compare(env: dict, seconds: float, connections: int, rounds: int, against: Path | None = None,
            against_env: dict | None = None) -> tuple[dict, dict, list[float]]:
    """Baseline and Hausruf servers both up; load them in alternating rounds, so both see the same machine.

    The baseline is the bare endpoint, or the menu step of another checkout (with against_env: its own
    database).
    """
    if against is None:
        bare = RunningServer("bare", env)
    else:
        bare = RunningServer(against, against_env, setup=_start_calls)
    full = RunningServer("hausruf", env, setup=_start_calls)
    bare_rounds, full_rounds, ratios = [], [], []
    try:
        for _ in range(rounds):
            bare_rounds.append(bare.load(seconds, connections))
            full_rounds.append(full.load(seconds, connections))
            ratios.append(len(full_rounds[-1][0]) / max(1, len(bare_rounds[-1][0])))
    finally:
        for server in (bare, full):
            server.stop()
    return _figures(bare_rounds, seconds), _figures(full_rounds, seconds), ratios


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


def import_demo(env: dict, checkout: Path = ROOT) -> None:
    """The checkout's demo directory imported into env's database by its own code (and its migrations)."""
    import subprocess

    subprocess.run([sys.executable, "-m", "ivr.cli", "import", str(checkout / "data" / "demo")], cwd=checkout,
                   env={**os.environ, **env}, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="length of one load round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating bare/Hausruf rounds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--against", type=Path, help="another checkout: compare its menu step instead of bare")
    args = parser.parse_args()
    against = args.against.resolve() if args.against else None
    if against and not (against / "ivr" / "web" / "server.py").is_file():
        parser.error(f"--against {args.against}: not a Hausruf checkout (no ivr/web/server.py there)")
    tmp = Path(tempfile.mkdtemp(prefix="hausruf-bench-"))
    pg = None
    if args.database == "postgresql":
        from tests.support.postgres import TemporaryPostgres

        pg = TemporaryPostgres().start()
        url, against_url = pg.create_database(), pg.create_database()
    else:
        url, against_url = f"sqlite:///{tmp / 'bench.sqlite3'}", f"sqlite:///{tmp / 'against.sqlite3'}"
    env = {"HAUSRUF_DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "HAUSRUF_DATA_DIR": str(tmp),
           "HAUSRUF_STAFF_NUMBER": "+4927150100000", "HAUSRUF_LOG_LEVEL": "WARNING", "HAUSRUF_SPEECH": "off"}
    import_demo(env)
    against_env = {**env, "HAUSRUF_DATABASE_URL": against_url}
    if against:
        import_demo(against_env, against)
    load_before = os.getloadavg()[0]
    try:
        bare, full, ratios = compare(env, args.seconds, args.connections, args.rounds, against, against_env)
    finally:
        if pg:
            pg.stop()
    options = server_options("127.0.0.1", 0)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"server: gunicorn {options['worker_class']} {options['workers']} workers x {options['threads']} threads; "
          f"database: {args.database}; {args.connections} connections; {args.rounds} alternating rounds of "
          f"{args.seconds:.0f} s; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    baseline = f"menu step of {against.name}" if against else "bare Flask constant TwiML"
    print(f"{'endpoint (median of rounds)':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, r in ((baseline, bare), ("Hausruf menu step", full)):
        print(f"{name:<28} {r['rps']:>8.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7}")
    ratio = statistics.median(ratios)
    versus = "other checkout" if against else "bare"
    print(f"throughput ratio (menu step / {versus}), per round: "
          f"{' '.join(f'{r:.2f}' for r in ratios)}; median {ratio:.2f}")
    steps, p99 = FLOOR[args.database]
    cleared = full["rps"] >= steps and full["p99_ms"] < p99 and full["errors"] == 0
    print(f"floor ({args.database}): >= {steps} steps/s with p99 < {p99} ms: "
          f"{'cleared' if cleared else 'NOT cleared'} ({full['rps']:.0f} steps/s, p99 {full['p99_ms']:.1f} ms)")
    print(json.dumps({"bare" if not against else "against": bare, "menu_step": full, "ratio": ratio,
                      "ratios": ratios, "database": args.database, "floor_cleared": cleared}))


if __name__ == "__main__":
    main()
