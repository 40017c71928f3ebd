"""The load generator and the results table: counting, percentiles, bounds, the table."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.loadgen import expand, letters, percentile, run
from bench.report import Row, markdown_table, text_table, verdicts

ROOT = Path(__file__).resolve().parents[2]


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200, or 400 for paths containing 'bad'; records every path and body."""

    seen: list[tuple[str, str]] = []
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with self.lock:
            self.seen.append((self.path, body))
        status = 400 if "bad" in self.path else 200
        payload = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    _Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _job(port: int, **overrides: object) -> dict:
    job = {
        "host": "127.0.0.1",
        "port": port,
        "concurrency": 3,
        "duration": 5,
        "max_requests": 30,
        "warmup": 1,
        "n_start": 100,
        "mobile_base": 80_000_000,
        "request": {"method": "POST", "path": "/x/{n}", "headers": {}, "body": "m={mobile}"},
    }
    job.update(overrides)
    return job


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_expand_fills_every_placeholder() -> None:
    text = expand(
        "/u/{id}?n={n}&m={mobile}&l={letters}", n=27, mobile_base=100, pool=["a", "b"], index=3
    )
    assert text == "/u/b?n=27&m=127&l=bb"
    assert [letters(n) for n in (0, 25, 26, 675, 676)] == ["a", "z", "ba", "zz", "baa"]


def test_run_counts_requests_and_keeps_every_request_unique(server: int) -> None:
    result = run(_job(server))
    # 3 warm-up requests are sent but not timed; the cap applies to timed requests
    assert result["requests"] == 30
    assert result["ok"] == 30
    assert result["statuses"] == {"200": 30}
    assert len(_Recorder.seen) == 33
    paths = [path for path, _ in _Recorder.seen]
    assert len(set(paths)) == 33  # {n} unique across threads
    assert sorted(int(p.rsplit("/", 1)[1]) for p in paths) == list(range(100, 133))
    assert {body for _, body in _Recorder.seen} == {f"m={80_000_000 + n}" for n in range(100, 133)}
    assert result["sequence_used"] == 33
    latency = result["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert result["rps"] > 0


def test_pool_exhaust_sends_each_id_once(server: int) -> None:
    pool = [f"user{i}" for i in range(10)]
    job = _job(
        server,
        pool=pool,
        pool_exhaust=True,
        max_requests=1000,
        request={"method": "GET", "path": "/r/{id}", "headers": {}, "body": None},
    )
    result = run(job)
    assert sorted(path for path, _ in _Recorder.seen) == sorted(f"/r/{p}" for p in pool)
    assert result["sequence_used"] == 10


def test_non_2xx_answers_are_counted_with_a_sample(server: int) -> None:
    job = _job(server, request={"method": "GET", "path": "/bad/{n}", "headers": {}, "body": None})
    result = run(job)
    assert result["ok"] == 0
    assert result["statuses"] == {"400": 30}
    assert result["sample_error"]["status"] == 400
    assert result["rps"] == 0


def test_runs_as_a_separate_process(server: int) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(_job(server, max_requests=12)),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    result = json.loads(completed.stdout)
    assert result["requests"] == 12
    assert result["statuses"] == {"200": 12}


def _measured(rps: float, p95: float) -> dict:
    return {
        "rps": rps,
        "latency_ms": {"p50": p95 / 2, "p95": p95, "p99": p95, "max": p95},
        "statuses": {"200": 10},
    }


def test_table_and_verdicts() -> None:
    rows = [
        Row("floor", "floor", "ok", _measured(100, 10), _measured(50, 5), 3, None),
        Row("v1_create", "v1 create", "ok", _measured(55, 30), _measured(20, 15), 12, 0.55),
        Row("v2_list_first", "list", "ok", _measured(90, 40), _measured(60, 12.5), 7, None),
        Row("v2_list_deep", "deep", "ok", _measured(90, 40), _measured(60, 25.0), 7, None),
        Row("v2_update", "v2 update", "n/a (endpoint missing)", None, None, None, None),
    ]
    text = text_table(rows)
    assert "v2 update  " in text and "n/a (endpoint missing)" in text
    assert "0.55" in text
    markdown = markdown_table(rows)
    assert markdown.count("\n") == len(rows) + 1
    found = dict(verdicts({r.key: r for r in rows}, users=1_000_000, screening=None))
    assert found["v1 create ≥ 0.6x the floor"].startswith("NOT met: 0.55x")
    list_verdict = found["v2 list p95 ≤ 20 ms at any depth"]
    assert list_verdict.startswith("NOT met: worst p95 25.0 ms (deep")
    assert "only 2 of 3" in list_verdict
    screening = {
        "ratio": 1.05,
        "small_entries": 1000,
        "small_ms": 2.0,
        "large_entries": 1_000_000,
        "large_ms": 2.1,
    }
    found = dict(verdicts({r.key: r for r in rows}, users=200_000, screening=screening))
    assert found["screening at 1 000 000 entries ≤ 1.1x 1 000"].startswith("met: 1.05x")
    assert "measured at 200,000 users" in found["v2 list p95 ≤ 20 ms at any depth"]
    assert found["admin changelist ≤ 300 ms"] == "not measured"
