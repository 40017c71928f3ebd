"""Real servers for the tests that need them: gunicorn (gunicorn.conf.py, production
settings, a SQLite database of its own) and Debian's nginx with deploy/nginx.conf in front.

Everything binds loopback on free ports, lives in a temporary directory and is stopped by
the fixture that started it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k" * 20 + "-Q9v!x2#Lm4$Zp7&Rt8*Wy3^Hb6@Nc5%"
NGINX_SITE = ROOT / "deploy" / "nginx.conf"
# The two lines of deploy/nginx.conf an installation edits (and the tests rewrite).
NGINX_LISTEN = "listen 80 default_server;"
NGINX_UPSTREAM = "server 127.0.0.1:8000 max_fails=0;"

# One process: migrate, seed, a program and an API client, printed as JSON.
SETUP = """
import io, json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
call_command("seed_enumerations", stdout=io.StringIO())
call_command("create_program", "alpha", name="Alpha", country="SGP", stdout=io.StringIO())
out = io.StringIO()
call_command("create_api_client", "alpha", stdout=out)
print(out.getvalue().strip().splitlines()[-1])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def production_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # the proxy (or the test) speaks plain HTTP; TLS terminates in front of it
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        # personal-data keys production refuses to start without (SPEC §15)
        ONBOARD_PII_KEYS="front1:" + "M" * 43 + "=",
        ONBOARD_PII_INDEX_KEY="front-test-index-key",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def http(
    url: str,
    *,
    timeout: float = 5.0,
    method: str = "GET",
    body: bytes | None = None,
    **headers: str,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; read the whole answer (the server closes the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return status, headers, body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


def wait_until(check, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("server did not come up")
        time.sleep(0.2)


@dataclass
class App:
    """gunicorn serving the service; `client_id`/`client_secret` of program `alpha`."""

    port: int
    client_id: str
    client_secret: str
    tmp: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def authorization(self) -> str:
        import base64

        token = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(token).decode()


def prepare_database(tmp: Path, **extra: str) -> tuple[dict[str, str], dict[str, str]]:
    env = production_env(tmp, **extra)
    done = subprocess.run(
        [sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    credentials = json.loads(done.stdout.strip().splitlines()[-1])
    return env, credentials


@contextmanager
def gunicorn(tmp: Path, env: dict[str, str], workers: int = 2) -> Iterator[int]:
    """gunicorn with the repository's gunicorn.conf.py (sync workers) on a free port."""
    port = free_port()
    log = (tmp / f"gunicorn-{port}.log").open("w")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "config.wsgi:application"],
        cwd=ROOT,
        env={**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: http(f"http://127.0.0.1:{port}/healthz", timeout=2)[0] == 200)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def render_nginx_site(listen_port: int, upstream_port: int) -> str:
    text = NGINX_SITE.read_text()
    assert NGINX_LISTEN in text and NGINX_UPSTREAM in text
    return text.replace(NGINX_LISTEN, f"listen 127.0.0.1:{listen_port} default_server;").replace(
        NGINX_UPSTREAM, f"server 127.0.0.1:{upstream_port} max_fails=0;"
    )


@contextmanager
def nginx(binary: str, tmp: Path, upstream_port: int) -> Iterator[int]:
    """Debian's nginx running deploy/nginx.conf (only listen and upstream rewritten)."""
    port = free_port()
    home = tmp / f"nginx-{port}"
    home.mkdir()
    (home / "site.conf").write_text(render_nginx_site(port, upstream_port))
    user = "user root;" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {home / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (home / "nginx.conf").write_text(
        f"""
{user}
daemon off;
worker_processes 1;
pid {home / "nginx.pid"};
error_log {home / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp_paths}
    include {home / "site.conf"};
}}
"""
    )
    args = [binary, "-e", str(home / "error.log"), "-p", str(home), "-c", str(home / "nginx.conf")]
    checked = subprocess.run([*args, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
