"""Settings modules: production refuses to start without its secrets; DATABASE_URL parsing."""

import os
import subprocess
import sys
from pathlib import Path

from config.settings.base import database_config

ROOT = Path(__file__).resolve().parents[2]


def _import_production(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.production"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_without_secret_key():
    result = _import_production({"DJANGO_ALLOWED_HOSTS": "api.example.com"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_without_allowed_hosts():
    result = _import_production({"DJANGO_SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_refuses_without_pii_keys():
    base = {"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "api.example.com"}
    result = _import_production({**base, "ONBOARD_PII_KEYS": ""})
    assert result.returncode != 0
    assert "ONBOARD_PII_KEYS" in result.stderr
    keys = {"ONBOARD_PII_KEYS": "prod1:" + "M" * 43 + "=", "ONBOARD_PII_INDEX_KEY": ""}
    result = _import_production({**base, **keys})
    assert result.returncode != 0
    assert "ONBOARD_PII_INDEX_KEY" in result.stderr


def test_production_check_deploy_is_clean():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k" * 20 + "-Q9v!x2#Lm4$Zp7&Rt8*Wy3^Hb6@Nc5%",
        DJANGO_ALLOWED_HOSTS="api.example.com",
        ONBOARD_PII_KEYS="prod1:" + "M" * 43 + "=",
        ONBOARD_PII_INDEX_KEY="production-test-index-key",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_url_parsing():
    sqlite = database_config("sqlite:////tmp/x.sqlite3")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["NAME"] == "/tmp/x.sqlite3"
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in sqlite["OPTIONS"]["init_command"]
    pg = database_config("postgres://root@127.0.0.1:5432/test")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert pg["NAME"] == "test"
    assert "statement_timeout" in pg["OPTIONS"]["options"]
