"""Issue 12, items 10 and 11, under production settings in a separate process.

- 10: with the database unreachable (a PostgreSQL port nobody listens on; a SQLite file that
  cannot be opened) the API answers `503 service_unavailable` with `Retry-After`, in the
  version's envelope — not `500 internal_error`; `/healthz` answers its own 503.
- 11: a balancer probing `/healthz` with the instance's IP as `Host` gets 200, while every
  other path still refuses a Host outside ALLOWED_HOSTS.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.errors import DATABASE_RETRY_AFTER_SECONDS
from tests.core.servers import ROOT, free_port, production_env

PROBE = """
import base64, json, django
django.setup()
from django.test import Client
c = Client(raise_request_exception=False)
auth = "Basic " + base64.b64encode(b"cl_someone:some-secret").decode()
out = {}
for name, method, path, body in (
    ("v1_read", "get", "/alpha/v1/users/enumerations/titles", None),
    ("v2_read", "get", "/alpha/v2/users", None),
    ("v2_write", "post", "/alpha/v2/users", {"type": "customer"}),
    ("v1_write", "post", "/alpha/v1/users", {"first_name": "Ada"}),
):
    kwargs = {"HTTP_AUTHORIZATION": auth, "HTTP_HOST": HOST}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    r = getattr(c, method)(path, **kwargs)
    out[name] = [r.status_code, r.get("Retry-After"), r.json()]
r = c.get("/healthz", HTTP_HOST=HOST)
out["healthz"] = [r.status_code, r.json()]
print(json.dumps(out))
"""


def run_probe(env: dict[str, str], host: str) -> dict:
    script = f"HOST = {host!r}\n" + PROBE
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_a_database_outage_answers_503_with_retry_after(tmp_path: Path, database: str):
    if database == "postgresql":
        url = f"postgres://root@127.0.0.1:{free_port()}/onboard"  # nobody listens there
    else:
        url = f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"  # cannot be opened
    env = production_env(tmp_path, DATABASE_URL=url, DJANGO_ALLOWED_HOSTS="api.example.com")
    out = run_probe(env, "api.example.com")
    for name in ("v1_read", "v1_write"):
        status, retry_after, body = out[name]
        assert (status, retry_after) == (503, str(DATABASE_RETRY_AFTER_SECONDS)), name
        assert set(body) == {"code", "description", "link", "errors"}
        assert body["code"] == "service_unavailable"
    for name in ("v2_read", "v2_write"):
        status, retry_after, body = out[name]
        assert (status, retry_after) == (503, str(DATABASE_RETRY_AFTER_SECONDS)), name
        assert body["code"] == "service_unavailable"
        assert body["status"] == 503
        assert len(body["id"]) == 32
    assert out["healthz"] == [503, {"status": "unavailable", "database": "down"}]


def test_healthz_answers_a_probe_by_ip_and_nothing_else_does(tmp_path: Path):
    env = production_env(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_ALLOWED_HOSTS="api.example.com",
    )
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    out = run_probe(env, "10.0.3.7:8000")
    # the probe: 200 and nothing but the health, whatever the Host
    assert out["healthz"] == [200, {"status": "ok", "database": "ok"}]
    # everything else still refuses a Host outside ALLOWED_HOSTS, in the envelope
    for name in ("v1_read", "v1_write", "v2_read", "v2_write"):
        status, _, body = out[name]
        assert status == 400, name
        assert body["code"] == "bad_request"
