"""Webhook delivery bench: throughput with N workers, and commit-to-delivery latency.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/webhooks.py

Runs against the database in DATABASE_URL (migrated first; use a scratch database: it adds
a program `whbench` and its users). A threaded receiver on loopback verifies every delivery
with `standardwebhooks`. Events are written through the real publish path
(`users.audit.record_event` in a transaction holding the user's row lock: event row + task
row), and delivered by `manage.py run_worker` processes.

The `--workers` workers start first and deliver a warm-up event (so process start-up is not
counted), then:

1. Throughput: a backlog of `--events` events over `--users` users (one write transaction
   each, as the API does) becomes visible at once — the writes are savepoints of one outer
   transaction — and events/s = events / (last arrival - that commit). `--cold` measures as
   the first version of this bench did instead: the backlog committed with no worker running,
   then the workers start; events/s = events / (last arrival - workers started).
2. Latency: with the workers running, events are committed at `--rate` per second for
   `--seconds`; latency = arrival at the receiver - the event's commit; p50/p95/max.

It also prints the workers' CPU time per event (user + system, from /proc) for each phase.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
os.environ["ONBOARD_WEBHOOK_ALLOW_PRIVATE"] = "true"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from standardwebhooks import Webhook  # noqa: E402

from programs.models import Program  # noqa: E402
from users import audit  # noqa: E402
from users.models import AccountHolder, ActorKind, Channel, EventType  # noqa: E402
from webhooks import services  # noqa: E402
from webhooks.models import Endpoint  # noqa: E402

arrivals: dict[str, float] = {}
failures: list[str] = []
lock = threading.Lock()


def receiver(secret: str) -> ThreadingHTTPServer:
    hook = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            now = time.time()
            try:
                hook.verify(body, {k.lower(): v for k, v in self.headers.items()})
            except Exception:
                failures.append(self.headers["webhook-id"])
            with lock:
                arrivals.setdefault(self.headers["webhook-id"], now)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def setup(users: int) -> tuple[list[AccountHolder], str, str]:
    call_command("migrate", verbosity=0)
    program, _ = Program.objects.get_or_create(
        code="whbench", defaults={"name": "webhook bench", "country": "SGP"}
    )
    Endpoint.objects.filter(program=program).delete()
    existing = list(AccountHolder.objects.filter(program=program).order_by("pk")[:users])
    now = timezone.now()
    for n in range(len(existing), users):
        existing.append(
            AccountHolder.objects.create(
                program=program,
                first_name="Bench",
                last_name="User",
                email=f"whbench{n}@example.com",
                mobile_country_code="65",
                mobile=f"8{n:07d}",
                created_at=now,
                updated_at=now,
            )
        )
    return existing, program.code, ""


def emit(user: AccountHolder, n: int) -> tuple[str, float]:
    with transaction.atomic():
        AccountHolder.objects.select_for_update().filter(pk=user.pk).values("pk").get()
        event = audit.record_event(
            user=user,
            type=EventType.UPDATED,
            actor_kind=ActorKind.SYSTEM,
            actor_id="bench",
            channel=Channel.CLI,
            changes={"middle_name": (None, f"x{n}")},
        )
    return f"evt_{event.public_id}", time.time()


# `python -c PROFILED out.prof manage.py run_worker ...`: the worker under cProfile, timed in
# CPU time (the machine is shared: wall time would mostly measure the other processes)
PROFILED = """
import cProfile, runpy, sys, time
out = sys.argv[1]
sys.argv = sys.argv[2:]
profiler = cProfile.Profile(time.process_time)
profiler.enable()
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
finally:
    profiler.disable()
    profiler.dump_stats(out)
"""


def start_workers(
    count: int, interval: float | None, profile: str | None = None, *extra: str
) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ}
    options = [*extra] + ([] if interval is None else ["--interval", str(interval)])
    return [
        subprocess.Popen(
            [
                sys.executable,
                *(["-c", PROFILED, f"{profile}/worker-{n}.prof"] if profile else []),
                "manage.py",
                "run_worker",
                *options,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(count)
    ]


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(15)
        except subprocess.TimeoutExpired:
            w.kill()


def cpu_seconds(workers: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU time the worker processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for w in workers:
        fields = Path(f"/proc/{w.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wait_for(ids: list[str], timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            if all(i in arrivals for i in ids):
                return
        time.sleep(0.01)
    missing = sum(1 for i in ids if i not in arrivals)
    raise SystemExit(f"{missing} events not delivered within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--interval", type=float, default=None, help="run_worker --interval (default: its own)"
    )
    parser.add_argument(
        "--cold", action="store_true", help="start the workers after the backlog (see above)"
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="run the workers under cProfile, one file each in DIR"
    )
    parser.add_argument(
        "--synchronous-commit",
        action="store_true",
        help="run_worker --synchronous-commit (its commits wait for the WAL flush)",
    )
    args = parser.parse_args()
    extra = ["--synchronous-commit"] if args.synchronous_commit else []

    users, _, _ = setup(args.users)
    program = users[0].program
    endpoint, secret = services.endpoint_create(
        program=program, url="http://127.0.0.1:1/placeholder", events=["*"]
    )
    server = receiver(secret)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        url=f"http://127.0.0.1:{server.server_address[1]}/hooks"
    )
    n = 0

    # 1. throughput: a backlog, drained by the workers
    workers: list[subprocess.Popen[bytes]] = []
    if not args.cold:
        workers = start_workers(args.workers, args.interval, args.profile, *extra)
        wait_for([emit(users[0], n)[0]], timeout=120)  # the workers are up
        n += 1
    try:
        cpu_before = cpu_seconds(workers)
        with transaction.atomic():
            backlog = [emit(users[(n + i) % len(users)], n + i)[0] for i in range(args.events)]
        n += args.events
        if args.cold:
            workers = start_workers(args.workers, args.interval, args.profile, *extra)
        started = time.time()
        wait_for(backlog, timeout=600)
        elapsed = max(arrivals[i] for i in backlog) - started
        throughput = len(backlog) / elapsed
        cpu_backlog = cpu_seconds(workers) - cpu_before

        # 2. latency at a steady rate
        cpu_before = cpu_seconds(workers)
        committed: dict[str, float] = {}
        interval = 1.0 / args.rate
        next_at = time.time()
        for i in range(int(args.rate * args.seconds)):
            time.sleep(max(0.0, next_at - time.time()))
            event_id, at = emit(users[(n + i) % len(users)], n + i)
            committed[event_id] = at
            next_at += interval
        wait_for(list(committed), timeout=120)
        cpu_steady = cpu_seconds(workers) - cpu_before
    finally:
        stop(workers)
        server.shutdown()
    latencies = sorted(arrivals[i] - at for i, at in committed.items())
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"workers: {args.workers} (interval {args.interval or 'default'}"
        f"{', synchronous commit' if args.synchronous_commit else ''}); "
        f"verification failures: {len(failures)}"
    )
    print(
        f"throughput: {len(backlog)} events over {args.users} users in {elapsed:.2f} s = "
        f"{throughput:.0f} events/s "
        + (
            "(backlog committed with no worker running, counted from the workers' start)"
            if args.cold
            else "(backlog made visible at once to running workers, counted from its commit)"
        )
    )
    print(
        f"latency at {args.rate:.0f} events/s for {args.seconds:.0f} s ({len(latencies)} events): "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    print(
        f"worker CPU per event: backlog {cpu_backlog / len(backlog) * 1000:.2f} ms, "
        f"steady rate {cpu_steady / len(committed) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
