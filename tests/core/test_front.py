"""Issue 12 through real servers: gunicorn (sync workers, gunicorn.conf.py) alone and behind
Debian's nginx running deploy/nginx.conf.

- item 2: 50 slow clients (a header line every 2 s) do not take the service down;
- item 9: chunked request bodies are read (and bounded) like any other;
- item 12: what nginx or gunicorn answer themselves (414, 431, 400, 413, 502) is JSON in the
  version's envelope, and the app's own answers pass through untouched.

nginx comes from Debian (`make test` installs it, as it installs chromium for the browser
tests); without it the nginx tests skip, saying so.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import error_codes
from tests.core.servers import (
    NGINX_SITE,
    App,
    free_port,
    gunicorn,
    http,
    nginx,
    nginx_binary,
    prepare_database,
    raw_request,
)

pytestmark = pytest.mark.slow

NGINX = nginx_binary()
needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx not found: `make test` installs Debian's nginx-light"
)
V2_KEYS = {"id", "status", "code", "title", "detail", "source", "timestamp"}
V1_KEYS = {"code", "description", "link", "errors"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("front")
    env, credentials = prepare_database(tmp)
    with gunicorn(tmp, env, workers=2) as port:
        yield App(port, credentials["client_id"], credentials["client_secret"], tmp, env)


@pytest.fixture(scope="module")
def proxy(app: App) -> Iterator[int]:
    if NGINX is None:
        pytest.skip("nginx not found: `make test` installs Debian's nginx-light")
    with nginx(NGINX, app.tmp, app.port) as port:
        yield port


def assert_envelope(status: int, headers: dict[str, str], body: bytes, version: str) -> dict:
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    assert content_type.startswith("application/json"), (status, content_type, body[:200])
    data = json.loads(body)
    if version == "v2":
        assert set(data) == V2_KEYS
        assert data["status"] == status
        assert data["timestamp"].endswith("Z")
        assert len(data["id"]) == 32
    else:
        assert set(data) == V1_KEYS
    assert error_codes.status_for(data["code"]) == status, data["code"]
    return data


# --- item 2: slow clients


class SlowClients:
    """`count` connections that each send a request line, then a header line every
    `interval` seconds and never finish; dropped ones are reopened."""

    def __init__(self, port: int, count: int, interval: float) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.stop = threading.Event()
        self.sockets: list[socket.socket | None] = [None] * count
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            return sock
        except OSError:
            return None

    def _run(self) -> None:
        line = 0
        while not self.stop.is_set():
            for index in range(self.count):
                sock = self.sockets[index] or self._open()
                try:
                    if sock is not None:
                        sock.sendall(f"X-Slow-{line}: {index}\r\n".encode())
                except OSError:
                    sock.close()
                    sock = self._open()
                self.sockets[index] = sock
            line += 1
            self.stop.wait(self.interval)

    def __enter__(self) -> SlowClients:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        for sock in self.sockets:
            if sock is not None:
                sock.close()


def probe(base: str, app: App, seconds: float) -> list[tuple[str, int, float]]:
    """/healthz and an authenticated API read, alternately, for `seconds`."""
    results = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, path, headers in (
            ("healthz", "/healthz", {}),
            ("api", "/alpha/v2/users?records_per_page=1", {"Authorization": app.authorization}),
        ):
            started = time.monotonic()
            try:
                status = http(base + path, timeout=5, **headers)[0]
            except OSError:
                status = 0
            results.append((name, status, time.monotonic() - started))
        time.sleep(0.25)
    return results


@needs_nginx
def test_fifty_slow_clients_do_not_hold_the_workers(app, proxy):
    """Two sync workers behind nginx; 50 clients trickling headers at nginx.

    Against bare gunicorn (same two sync workers, same load, same probes) the first two slow
    clients hold both workers: measured, 0 of 4 probes answered in 12 s, each one waiting out
    its 5 s timeout, until gunicorn's worker timeout (30 s) kills the workers and the next
    slow clients take the fresh ones.
    """
    with SlowClients(proxy, count=50, interval=2.0) as slow:
        time.sleep(2.5)  # every slow client connected and has sent a header line
        held = sum(1 for s in slow.sockets if s is not None)
        results = probe(f"http://127.0.0.1:{proxy}", app, seconds=12)
    assert held == 50
    failures = [r for r in results if r[1] != 200]
    assert not failures, failures
    slowest = max(duration for _, _, duration in results)
    assert slowest < 2.0, results
    assert {name for name, _, _ in results} == {"healthz", "api"}


# --- item 9: chunked bodies


def chunked(body: bytes, size: int = 100) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def chunked_request(app: App, path: str, body: bytes, size: int = 100) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {app.authorization}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + chunked(body, size)


def user_body(n: int, **extra: str) -> dict[str, str]:
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": f"chunked{n}@example.com",
        "mobile_country_code": "65",
        "mobile": f"9123450{n}",
        **extra,
    }


def test_chunked_bodies_are_read(app):
    body = json.dumps(user_body(1)).encode()
    status, _, answer = raw_request(app.port, chunked_request(app, "/alpha/v1/users", body))
    assert status == 200, answer
    assert json.loads(answer)["email"] == "chunked1@example.com"
    body = json.dumps(user_body(2, type="customer")).encode()
    status, _, answer = raw_request(app.port, chunked_request(app, "/alpha/v2/users", body))
    assert status == 201, answer
    assert json.loads(answer)["email"] == "chunked2@example.com"


def test_chunked_bodies_over_the_limit_answer_413(app):
    body = json.dumps(user_body(3, client_ref_id="x" * 300_000)).encode()
    status, headers, answer = raw_request(app.port, chunked_request(app, "/alpha/v2/users", body))
    data = assert_envelope(status, headers, answer, "v2")
    assert (status, data["code"]) == (413, error_codes.REQUEST_TOO_LARGE)


def test_chunked_uploads_take_the_upload_routes_limit(app):
    """An upload route takes its 12 MiB chunked as with a Content-Length (it was capped at the
    general 256 KiB); past the route's limit, 413 without reading the rest into memory."""
    from tests.documents import files

    body = json.dumps(user_body(5, type="customer")).encode()
    status, _, answer = raw_request(app.port, chunked_request(app, "/alpha/v2/users", body))
    assert status == 201, answer
    documents = f"/alpha/v2/users/{json.loads(answer)['id']}/documents"
    pdf = files.pdf_of_size(2 * 1024 * 1024)
    upload = {"document_type": "passport", "kyc_type": "ekyc"}
    body = json.dumps({**upload, "data": base64.b64encode(pdf).decode()}).encode()
    status, _, answer = raw_request(
        app.port, chunked_request(app, documents, body, size=64 * 1024), timeout=30
    )
    assert status == 201, answer[:300]
    assert json.loads(answer)["size"] == len(pdf)
    # just past the route's 12 MiB: the answer comes before the client has sent everything
    too_big = b"x" * (9 * 1024 * 1024)
    body = json.dumps({**upload, "data": base64.b64encode(too_big).decode()}).encode()
    assert 12 * 1024 * 1024 < len(body) < 12 * 1024 * 1024 + 1024
    status, headers, answer = raw_request(
        app.port, chunked_request(app, documents, body, size=8 * 1024), timeout=30
    )
    data = assert_envelope(status, headers, answer, "v2")
    assert (status, data["code"]) == (413, error_codes.REQUEST_TOO_LARGE)


@needs_nginx
def test_chunked_bodies_through_the_proxy(app, proxy):
    body = json.dumps(user_body(4)).encode()
    status, _, answer = raw_request(proxy, chunked_request(app, "/alpha/v1/users", body))
    assert status == 200, answer
    assert json.loads(answer)["email"] == "chunked4@example.com"


# --- item 12: the front's own answers are JSON


def request_bytes(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close", "", ""]
    return "\r\n".join(lines).encode()


@needs_nginx
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_oversized_requests_answer_json_in_the_version_envelope(app, proxy, version):
    base = f"/alpha/{version}/users"
    cases = {
        "request line": (request_bytes(base + "?q=" + "a" * 9000), 414),
        "one huge header": (request_bytes(base, "X-Big: " + "b" * 9000), 431),
        # small headers, but more than gunicorn's limit_request_fields (100): gunicorn's 431
        "many headers": (request_bytes(base, *(f"X-H{i}: v" for i in range(150))), 431),
    }
    for name, (data, expected) in cases.items():
        status, headers, body = raw_request(proxy, data)
        assert status == expected, (name, body[:300])
        # a request line too long to read names no version yet: the v2 envelope
        envelope = assert_envelope(
            status, headers, body, "v2" if name == "request line" else version
        )
        assert envelope["code"] in (
            error_codes.REQUEST_URI_TOO_LONG,
            error_codes.REQUEST_HEADERS_TOO_LARGE,
        ), name
        assert headers.get("x-request-id"), name
    too_large = (
        f"POST {base} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {300 * 1024}\r\nConnection: close\r\n\r\n"
    ).encode()
    status, headers, body = raw_request(proxy, too_large)
    assert status == 413
    assert assert_envelope(status, headers, body, version)["code"] == "request_too_large"


@needs_nginx
def test_malformed_requests_answer_json(proxy):
    nul_header = b"GET /alpha/v2/users HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\x00b\r\n\r\n"
    for data in (b"GARBAGE\r\n\r\n", nul_header):
        status, headers, body = raw_request(proxy, data)
        assert status == 400, body[:300]
        assert assert_envelope(status, headers, body, "v2")["code"] == error_codes.BAD_REQUEST


@needs_nginx
def test_the_apps_own_answers_pass_through(app, proxy):
    base = f"http://127.0.0.1:{proxy}"
    status, headers, body = http(
        base + "/alpha/v2/users",
        method="POST",
        body=b"[1, 2",
        **{"Authorization": app.authorization, "Content-Type": "application/json"},
    )
    data = assert_envelope(status, headers, body, "v2")
    assert (status, data["code"]) == (400, error_codes.INVALID_MODEL)
    unknown = base + "/alpha/v1/users/" + "0" * 32
    status, headers, body = http(unknown, Authorization=app.authorization)
    data = assert_envelope(status, headers, body, "v1")
    assert (status, data["code"]) == (404, error_codes.USER_RECORD_NOT_FOUND)
    # the app's request id, not nginx's, and the client's own when it sent one
    status, headers, _ = http(base + "/healthz", **{"X-Request-ID": "probe-1"})
    assert (status, headers["X-Request-ID"]) == (200, "probe-1")


@needs_nginx
def test_no_app_server_answers_502_json(app, tmp_path: Path):
    assert NGINX is not None
    with nginx(NGINX, tmp_path, upstream_port=free_port()) as port:
        for version in ("v1", "v2"):
            status, headers, body = http(f"http://127.0.0.1:{port}/alpha/{version}/users")
            data = assert_envelope(status, headers, body, version)
            assert (status, data["code"]) == (502, error_codes.BAD_GATEWAY)
            assert headers["Retry-After"] == "5"
        status, headers, body = http(f"http://127.0.0.1:{port}/healthz")
        assert status == 502
        assert assert_envelope(status, headers, body, "v2")["code"] == error_codes.BAD_GATEWAY


def test_the_proxy_pages_speak_the_catalogue():
    """Every JSON page of deploy/nginx.conf: valid JSON, a code of core/error_codes.py with
    its status, description and title, in the v1 or the v2 envelope."""
    text = NGINX_SITE.read_text()
    pages = re.findall(r"return (\d{3}) '(.*)';", text)
    assert len(pages) == 12  # six statuses, two envelopes each
    seen = set()
    for status_text, page in pages:
        status = int(status_text)
        data = json.loads(
            page.replace("$request_id", "0" * 32)
            .replace("$onboard_error_time", "2026-01-01T00:00:00Z")
            .replace("\\n", "")
        )
        assert error_codes.status_for(data["code"]) == status
        if "status" in data:
            assert set(data) == V2_KEYS
            assert data["detail"] == error_codes.describe(data["code"])
            assert data["title"] == error_codes.TITLES[status]
            seen.add((status, "v2"))
        else:
            assert set(data) == V1_KEYS
            assert data["description"] == error_codes.describe(data["code"])
            seen.add((status, "v1"))
    assert {s for s, _ in seen} == {400, 413, 414, 431, 502, 504}
