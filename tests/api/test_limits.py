"""Limits (issue 7): body size → 413 in the envelope before anything runs; hostile bodies →
400, never 500; the PostgreSQL statement timeout is applied to every connection."""

from __future__ import annotations

import json

import psycopg
import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from api.models import IdempotencyRecord, RateLimitCounter
from config.settings.base import database_config
from core import error_codes
from tests.conftest import requires_postgres
from users.models import AccountHolder

pytestmark = pytest.mark.urls("tests.api.urls_probe")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_oversize_json_body_is_413_and_nothing_runs(api_a, version):
    body = json.dumps({"email": "big@example.com", "first_name": "x" * 2000})
    response = api_a.post(
        f"/alpha/{version}/probe", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 413
    assert response.json()["code"] == error_codes.REQUEST_TOO_LARGE
    assert response["X-Request-ID"]
    assert not AccountHolder.objects.exists()
    # refused before authentication: no key claimed, no request counted
    assert not IdempotencyRecord.objects.exists()
    assert not RateLimitCounter.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversize_form_body_is_413_in_v1_envelope(api_a):
    response = api_a.post(
        "/alpha/v1/probe",
        "email=big%40example.com&first_name=" + "x" * 2000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert set(response.json()) == {"code", "description", "link", "errors"}
    assert not AccountHolder.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_body_at_the_limit_is_accepted(api_a):
    prefix = '{"email": "edge@example.com", "padding": "'
    body = prefix + "x" * (1000 - len(prefix) - 2) + '"}'
    assert len(body) == 1000
    assert api_a.post("/alpha/v2/probe", body, content_type="application/json").status_code == 201


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversize_body_is_413_even_without_credentials(db):
    response = APIClient().post("/alpha/v2/probe", "x" * 5000, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["status"] == 413


@pytest.mark.parametrize(
    ("version", "code"),
    [("v1", error_codes.INVALID_REQUEST_BODY), ("v2", error_codes.INVALID_MODEL)],
)
def test_deeply_nested_json_is_400_not_500(api_a, version, code):
    body = "[" * 50_000 + "]" * 50_000
    response = api_a.post(f"/alpha/{version}/probe", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not AccountHolder.objects.exists()


def test_too_many_form_fields_is_400_not_500(api_a):
    body = "&".join(f"f{i}=1" for i in range(1500))
    response = api_a.post("/alpha/v1/probe", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["code"] == error_codes.INVALID_REQUEST_BODY


@requires_postgres
def test_statement_timeout_is_set_on_every_connection(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "15s"


@requires_postgres
def test_statement_timeout_cancels_a_long_query(monkeypatch):
    """The options string database_config builds really makes PostgreSQL cancel."""
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "200")
    settings = connection.settings_dict
    config = database_config(
        f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    )
    with (
        psycopg.connect(
            dbname=config["NAME"],
            user=config["USER"],
            host=config["HOST"],
            port=config["PORT"],
            options=config["OPTIONS"]["options"],
        ) as raw,
        pytest.raises(psycopg.errors.QueryCanceled),
    ):
        raw.execute("SELECT pg_sleep(2)")
