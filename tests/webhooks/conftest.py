"""A real webhook receiver on loopback that verifies every delivery, and a way to drain the queue.

`receiver` is a threaded `http.server` on a free port. Every request is verified with
`standardwebhooks.Webhook(secret).verify` against the secrets the test set on it; the
answer is whatever `receiver.respond(n)` returns for the n-th request (200 by default).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django_tasks.backends.database.management.commands.db_worker import Worker
from django_tasks.backends.database.models import DBTaskResult
from standardwebhooks import Webhook, WebhookVerificationError

from webhooks import services, transport


@dataclass
class Received:
    id: str
    type: str
    body: dict[str, Any]
    verified: bool
    headers: dict[str, str]


@dataclass
class Receiver:
    url: str = ""
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    respond: Callable[[int], int] = lambda n: 200
    delay: float = 0.0
    body: bytes = b"ok"
    lock: threading.Lock = field(default_factory=threading.Lock)
    connections: int = 0  # TCP connections accepted

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    def ok(self) -> list[Received]:
        return [r for r in self.received if r.verified]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received) < count:
            time.sleep(0.02)
        return list(self.received)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as most receivers: the workers reuse it
        timeout = 5  # an idle kept-alive connection ends its thread

        def setup(self) -> None:
            super().setup()
            with receiver.lock:
                receiver.connections += 1

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            delay = receiver.delay
            with receiver.lock:
                n = len(receiver.received) + 1
                parsed = json.loads(body)
                receiver.received.append(
                    Received(
                        id=headers.get("webhook-id", ""),
                        type=parsed.get("type", ""),
                        body=parsed,
                        verified=receiver.verify(body, headers),
                        headers=headers,
                    )
                )
                status = receiver.respond(n)
            if delay:  # counted on arrival, answered after the delay
                time.sleep(delay)
            answer = receiver.body
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    block_on_close = False  # a worker's kept-alive connection must not hold the teardown


@pytest.fixture(autouse=True)
def _fresh_connections() -> Iterator[None]:
    """Each test starts without the kept-alive connections of the previous one."""
    transport.reset()
    yield
    transport.reset()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(rec))
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(program_a, client_a, receiver):  # type: ignore[no-untyped-def]
    ep, secret = services.endpoint_create(
        program=program_a, client=client_a, url=receiver.url, events=["*"]
    )
    receiver.secrets.append(secret)
    return ep


def drain(until: Callable[[], bool] | None = None, timeout: float = 10.0) -> None:
    """Run django-tasks' worker in this process until `until()` (or the queue is empty)."""
    deadline = time.monotonic() + timeout
    while True:
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
        ).run()
        if until is None or until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the condition was not reached before the timeout")
        time.sleep(0.02)


def queued_tasks() -> int:
    return DBTaskResult.objects.count()
