"""First run (issue 13 item 4): `bootstrap_demo` keeps the demo credentials stable across
runs in a git-ignored local file, prints them (with HOST/PORT in every URL) and a line a
shell can use; `make serve` names every missing variable in one line; the dev server logs
each request once."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from programs.models import ApiClient
from tests.conftest import api_for

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def _run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("bootstrap_demo", "--no-seed", "--credentials-file", str(path), *args, stdout=out)
    return out.getvalue()


def _printed(out: str) -> dict[str, str]:
    found = dict(re.findall(r"^  (client_id|client_secret|admin login):\s+(.+)$", out, re.M))
    return found


def _works(client_id: str, secret: str) -> bool:
    client = ApiClient.objects.get(client_id=client_id)
    client.plain_secret = secret
    return api_for(client).get("/demo/v1/users/enumerations/titles").status_code == 200


def test_credentials_stay_the_same_across_runs(seeded, tmp_path):
    path = tmp_path / "creds.env"
    first = _printed(_run(path))
    second = _printed(_run(path))
    assert first == second
    assert _works(first["client_id"], first["client_secret"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    from django.contrib.auth import get_user_model

    username, password = first["admin login"].split(" / ")
    assert get_user_model().objects.get(username=username).check_password(password)


def test_credentials_are_reissued_when_the_file_is_gone_or_stale(seeded, tmp_path):
    path = tmp_path / "creds.env"
    first = _printed(_run(path))
    path.unlink()
    second = _printed(_run(path))
    assert second["client_secret"] != first["client_secret"]
    assert not _works(first["client_id"], first["client_secret"])
    assert _works(second["client_id"], second["client_secret"])
    # a secret rotated elsewhere (the admin) no longer verifies: a new one is issued and kept
    path.write_text(path.read_text().replace(second["client_secret"], "stale-secret"))
    third = _printed(_run(path))
    assert third["client_secret"] not in ("stale-secret", second["client_secret"])
    assert _printed(_run(path)) == third


def test_printed_urls_use_host_and_port_and_the_shell_can_source_the_file(seeded, tmp_path):
    path = tmp_path / "creds.env"
    out = _run(path, "--host", "0.0.0.0", "--port", "8123")
    urls = re.findall(r"https?://[^\s\"']+", out)
    assert urls and all(u.startswith("http://0.0.0.0:8123/") for u in urls), urls
    printed = _printed(out)
    export = next(line.strip() for line in out.splitlines() if "export CLIENT_ID=" in line)
    assert export == (
        f"export CLIENT_ID={printed['client_id']} CLIENT_SECRET={printed['client_secret']}"
    )
    sourced = subprocess.run(
        ["sh", "-c", f'. "{path}" && printf %s "$CLIENT_ID:$CLIENT_SECRET"'],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert sourced.stdout == f"{printed['client_id']}:{printed['client_secret']}"


def test_tests_never_write_credentials_into_the_checkout(seeded):
    call_command("bootstrap_demo", "--no-seed", stdout=StringIO())
    assert not str(settings.DEMO_CREDENTIALS_FILE).startswith(str(ROOT))
    Path(settings.DEMO_CREDENTIALS_FILE).unlink(missing_ok=True)


def test_credentials_file_is_git_ignored():
    assert ".demo-credentials.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_readme_curl_reads_the_credentials_file():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```sh", 2)[2].split("```", 1)[0]
    assert ". ./.demo-credentials.env" in block
    assert 'curl -u "$CLIENT_ID:$CLIENT_SECRET"' in block


def test_make_serve_names_every_missing_variable_in_one_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "serve"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "DJANGO_SECRET_KEY" in lines[0] and "DJANGO_ALLOWED_HOSTS" in lines[0]
    assert "Traceback" not in result.stderr


def test_dev_server_logs_api_requests_once():
    from config.devlog import NonApiRequestsOnly
    from config.settings import local

    def line(request_line: str) -> logging.LogRecord:
        return logging.LogRecord(
            "django.server", logging.INFO, "", 0, '"%s" %s %s', (request_line, "200", "9"), None
        )

    keep = NonApiRequestsOnly().filter
    assert not keep(line("GET /demo/v1/users/enumerations/titles HTTP/1.1"))
    assert not keep(line("POST /demo/v2/users?x=1 HTTP/1.1"))
    assert keep(line("GET /admin/ HTTP/1.1")) and keep(line("GET /api/docs/ HTTP/1.1"))
    server = local.LOGGING["loggers"]["django.server"]
    assert server["level"] == "INFO" and "non_api" in server["filters"]
    # 4xx answers are in the access line already; the error logger speaks for 5xx only
    assert local.LOGGING["loggers"]["onboard.errors"]["level"] == "WARNING"
