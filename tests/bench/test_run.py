"""The orchestration pieces of bench/run.py: options, the database guard, gunicorn + load."""

from __future__ import annotations

import importlib
import os

import psycopg
import pytest
from django.db import connection

from bench import dataset, run
from bench.scenarios import V1_CREATE_FIELDS, basic_auth, form_body
from tests.conftest import requires_postgres
from users.models import AccountHolder


def test_defaults_match_the_issue() -> None:
    args = run.parse_args([])
    assert (args.users, args.blacklist, args.concurrency) == (200_000, 100_000, 8)
    assert args.workers == 2 * (os.cpu_count() or 1) + 1
    assert not args.reuse
    with pytest.raises(SystemExit):
        run.parse_args(["--concurrency", "0"])


def _server_url() -> str:
    settings = connection.settings_dict
    user = settings["USER"] or "root"
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


@requires_postgres
def test_refuses_to_drop_a_database_not_named_bench(db) -> None:
    url = run._with_database(_server_url(), "h6_guard_probe")
    with psycopg.connect(run._with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS h6_guard_probe")
        conn.execute("CREATE DATABASE h6_guard_probe")
        try:
            with pytest.raises(SystemExit, match="Refusing to drop"):
                run.prepare_database(url, fresh=True)
            still = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = 'h6_guard_probe'"
            ).fetchone()
            assert still is not None
        finally:
            conn.execute("DROP DATABASE IF EXISTS h6_guard_probe")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_floor_to_a_separate_load_generator(seeded, settings, tmp_path) -> None:
    # the secret is hashed with the pepper of the settings gunicorn will run with
    settings.API_SECRET_PEPPER = importlib.import_module("config.settings.bench").API_SECRET_PEPPER
    program, _ = dataset.ensure_programs()
    credentials = dataset.issue_credentials(program)
    server = run.Server(_server_url(), workers=1, log_path=tmp_path / "gunicorn.log")
    try:
        body = form_body(V1_CREATE_FIELDS, "srv123")
        result = run.drive(
            {
                "host": "127.0.0.1",
                "port": server.port,
                "concurrency": 2,
                "duration": 5,
                "max_requests": 20,
                "warmup": 1,
                "n_start": 0,
                "mobile_base": dataset.CREATED_MOBILE_BASE,
                "request": {
                    "method": "POST",
                    "path": f"/{program.code}/v1/bench/floor/users",
                    "headers": {
                        "Authorization": basic_auth(
                            credentials.client_id, credentials.client_secret
                        ),
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                    "body": body,
                },
            }
        )
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert result["statuses"] == {"200": 20}, result.get("sample_error")
    # 20 timed + 2 warm-up requests, each a row with its own e-mail
    assert AccountHolder.objects.filter(email__startswith="bench.srv123.").count() == 22
