"""The load generator: a separate process that drives one scenario over loopback HTTP.

Run as `python -m bench.loadgen` with a JSON job on stdin; prints a JSON result on stdout.
Standard library only (threads + `http.client`), so it starts fast and never imports Django:
the process under test and the process measuring it share nothing but the socket.

A job is one request template sent by `concurrency` threads until `duration` seconds pass,
`max_requests` have been sent, or the id pool runs out (re-activations must each hit a
different suspended user). Templates may hold placeholders, expanded per request:
`{n}` a sequence number unique in the whole run, `{letters}` the same in letters a-z,
`{mobile}` `mobile_base + n`, `{id}` the next item of `pool`. A request may instead name a
`body_file`, sent byte for byte (uploads: read once, shared by the threads, no placeholders
expanded in it). Each thread first sends
`warmup` untimed requests, then all threads start the timed window together.
"""

from __future__ import annotations

import http.client
import itertools
import json
import sys
import threading
import time
from typing import Any


def letters(n: int) -> str:
    """n written with the letters a-z (for fields that accept letters only, e.g. names)."""
    text = ""
    while True:
        n, digit = divmod(n, 26)
        text = chr(ord("a") + digit) + text
        if not n:
            return text


def expand(template: str, *, n: int, mobile_base: int, pool: list[str], index: int) -> str:
    text = template.replace("{n}", str(n)).replace("{mobile}", str(mobile_base + n))
    if "{letters}" in text:
        text = text.replace("{letters}", letters(n))
    if "{id}" in text:
        text = text.replace("{id}", pool[index % len(pool)])
    return text


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * pct // 100))  # ceil(len * pct / 100)
    return sorted_values[int(rank) - 1]


def run(job: dict[str, Any]) -> dict[str, Any]:
    request = job["request"]
    pool: list[str] = job.get("pool") or []
    concurrency = int(job.get("concurrency", 1))
    duration = float(job.get("duration", 10))
    max_requests = int(job.get("max_requests", 1_000_000))
    warmup = int(job.get("warmup", 0))
    n_start = int(job.get("n_start", 0))
    mobile_base = int(job.get("mobile_base", 0))
    if "{id}" in request["path"] + (request.get("body") or "") and not pool:
        raise SystemExit("job needs a pool for {id}")
    body_file = request.get("body_file")
    raw_body: bytes | None = None
    if body_file:
        with open(body_file, "rb") as handle:
            raw_body = handle.read()
    limit = max_requests + warmup * concurrency
    if job.get("pool_exhaust") and pool:
        limit = min(limit, len(pool))

    sequence = itertools.count()  # next() is atomic under the GIL
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    sample_error: dict[str, Any] = {}
    window: dict[str, float] = {}
    clock: dict[str, float] = {}

    def start_window() -> None:
        # runs once, when every thread has warmed up: the timed window starts for all at once
        clock["start"] = time.monotonic()
        clock["deadline"] = clock["start"] + duration

    barrier = threading.Barrier(concurrency + 1, action=start_window)

    def send(connection: http.client.HTTPConnection, index: int) -> tuple[int, bytes]:
        n = n_start + index
        path = expand(request["path"], n=n, mobile_base=mobile_base, pool=pool, index=index)
        body = request.get("body")
        payload = (
            raw_body
            if raw_body is not None
            else expand(body, n=n, mobile_base=mobile_base, pool=pool, index=index).encode()
            if body is not None
            else None
        )
        connection.request(request["method"], path, body=payload, headers=request["headers"])
        response = connection.getresponse()
        return response.status, response.read()

    def worker() -> None:
        connection = http.client.HTTPConnection(job["host"], int(job["port"]), timeout=60)
        for _ in range(warmup):
            index = next(sequence)
            if index >= limit:
                break
            try:
                send(connection, index)
            except (OSError, http.client.HTTPException):
                connection.close()
        barrier.wait()
        deadline = clock["deadline"]
        mine: list[float] = []
        my_statuses: dict[str, int] = {}
        while time.monotonic() < deadline:
            index = next(sequence)
            if index >= limit:
                break
            began = time.perf_counter()
            try:
                status, body = send(connection, index)
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                status, body = 0, repr(exc).encode()
            elapsed = time.perf_counter() - began
            mine.append(elapsed)
            key = str(status)
            my_statuses[key] = my_statuses.get(key, 0) + 1
            if not 200 <= status < 300 and not sample_error:
                with lock:
                    sample_error.setdefault("status", status)
                    sample_error.setdefault("body", body[:600].decode("utf-8", "replace"))
        connection.close()
        with lock:
            latencies.extend(mine)
            for key, count in my_statuses.items():
                statuses[key] = statuses.get(key, 0) + count
            window["end"] = max(window.get("end", 0.0), time.monotonic())

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = clock["start"]
    for thread in threads:
        thread.join()
    elapsed = max(window.get("end", started) - started, 1e-9)
    ok = sum(c for s, c in statuses.items() if s.startswith("2"))
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "ok": ok,
        "elapsed_s": round(elapsed, 3),
        "rps": ok / elapsed if ordered else 0.0,
        "latency_ms": {
            "p50": percentile(ordered, 50) * 1000,
            "p95": percentile(ordered, 95) * 1000,
            "p99": percentile(ordered, 99) * 1000,
            "max": (ordered[-1] if ordered else 0.0) * 1000,
        },
        "statuses": statuses,
        "sample_error": sample_error,
        "sequence_used": min(next(sequence), limit),
    }


def main() -> None:
    job = json.load(sys.stdin)
    json.dump(run(job), sys.stdout)


if __name__ == "__main__":
    main()
