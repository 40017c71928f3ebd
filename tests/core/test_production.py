"""Deploy (SPEC §10, issue 7): production settings behind a TLS-terminating proxy, and the
service really served by gunicorn with gunicorn.conf.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k" * 20 + "-Q9v!x2#Lm4$Zp7&Rt8*Wy3^Hb6@Nc5%"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        ONBOARD_PII_KEYS="prod1:" + "M" * 43 + "=",
        ONBOARD_PII_INDEX_KEY="production-test-index-key",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


# What a request answers under production settings, through Django's test client.
PROBE = """
import json, django
django.setup()
from django.test import Client
c = Client()
api = "/alpha/v1/users/enumerations/titles"
out = {}
r = c.get(api)
out["api_http"] = [r.status_code, r.get("Location")]
r = c.get("/healthz")
out["healthz_http"] = r.status_code
r = c.get(api, HTTP_X_FORWARDED_PROTO="https")
out["api_https"] = [r.status_code, r.get("Strict-Transport-Security"), r.json()["code"]]
print(json.dumps(out))
"""


def test_plain_http_is_redirected_except_the_health_check(tmp_path):
    result = run([sys.executable, "-c", PROBE], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["api_http"] == [301, "https://testserver/alpha/v1/users/enumerations/titles"]
    # the balancer's health check comes over plain HTTP
    assert out["healthz_http"] == 200
    # HTTPS as reported by the TLS-terminating proxy: served, with HSTS
    status, hsts, code = out["api_https"]
    assert status == 401
    assert code == "invalid_credentials"
    assert hsts == "max-age=31536000; includeSubDomains; preload"


def test_ssl_redirect_can_be_left_to_the_proxy(tmp_path):
    env = production_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="false")
    result = run([sys.executable, "-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["api_http"] == [401, None]
    # still a clean deploy check: the proxy redirects, so Django's warning is silenced
    check = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert check.returncode == 0, check.stdout + check.stderr


def test_deploy_check_includes_the_schema_checks():
    """drf-spectacular's schema warnings are part of `check --deploy`, so the clean deploy
    check (tests/core/test_settings.py) covers them too."""
    from django.core.checks.registry import registry

    deploy_checks = registry.get_checks(include_deployment_checks=True)
    assert "schema_check" in {check.__name__ for check in deploy_checks}


def test_gunicorn_config_worker_count(tmp_path):
    env = production_env(tmp_path)
    env.pop("WEB_CONCURRENCY", None)
    args = [
        str(ROOT / ".venv/bin/gunicorn"),
        "-c",
        "gunicorn.conf.py",
        "--print-config",
        "config.wsgi:application",
    ]
    default = run(args, env).stdout
    [workers_line] = [line for line in default.splitlines() if line.startswith("workers ")]
    workers = int(workers_line.split()[-1])
    assert workers == 2 * (os.cpu_count() or 1) + 1
    assert "accesslog                          = None" in default
    override = run(args, {**env, "WEB_CONCURRENCY": "3"}).stdout
    assert ["workers", "=", "3"] in [line.split() for line in override.splitlines()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.slow
def test_gunicorn_serves_the_service(tmp_path):
    """gunicorn with gunicorn.conf.py under production settings: health, API, static, logs."""
    env = production_env(tmp_path, WEB_CONCURRENCY="2")
    collect = run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    assert collect.returncode == 0, collect.stderr
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "config.wsgi:application",
            ],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = _get(base + "/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                assert server.poll() is None, log.read_text()
                time.sleep(0.2)
        assert status == 200
        assert json.loads(body) == {"status": "ok", "database": "ok"}
        status, headers, body = _get(
            base + "/alpha/v2/users/enumerations/titles",
            **{"X-Forwarded-Proto": "https", "X-Request-ID": "gunicorn-test-1"},
        )
        assert status == 401
        assert json.loads(body)["code"] == "invalid_credentials"
        assert headers["X-Request-ID"] == "gunicorn-test-1"
        status, headers, _ = _get(
            base + "/static/admin/css/base.css", **{"X-Forwarded-Proto": "https"}
        )
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
    finally:
        server.terminate()
        server.wait(15)
    access = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if line.startswith("{") and '"onboard.access"' in line
    ]
    assert [(a["request_id"], a["status"]) for a in access] == [("gunicorn-test-1", 401)]
