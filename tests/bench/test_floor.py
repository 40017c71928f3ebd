"""The floor endpoint: bench settings only, same authentication, one INSERT, no validation."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from bench.scenarios import V1_CREATE_FIELDS, form_body
from users.models import AccountHolder, Identification

FLOOR = "/alpha/v1/bench/floor/users"
FORM = "application/x-www-form-urlencoded"


def _body(n: int) -> str:
    return (
        form_body(V1_CREATE_FIELDS, "abc123")
        .replace("{n}", str(n))
        .replace("{mobile}", str(81_000_000 + n))
    )


def test_bench_settings_route_the_floor_and_production_does_not() -> None:
    settings = importlib.import_module("config.settings.bench")
    assert settings.ROOT_URLCONF == "bench.urls"
    assert settings.DEBUG is False
    assert resolve(FLOOR, urlconf="bench.urls").url_name == "bench-floor"
    # production's URLconf sends the same path to the API's catch-all (404 envelope)
    assert resolve(FLOOR, urlconf="config.urls").func.__name__ == "api_not_found"


@pytest.mark.urls("bench.urls")
def test_floor_inserts_the_user_row_with_one_insert(api_a, client_a) -> None:
    api_a.post(FLOOR, data=_body(0), content_type=FORM)  # first call also stamps last_used_at
    with CaptureQueriesContext(connection) as captured:
        response = api_a.post(FLOOR, data=_body(1), content_type=FORM)
    assert response.status_code == 200, response.content
    # the shared pipeline (auth, rate-limit counter) runs as for the API; of the product's
    # tables, the floor touches exactly one row of one
    product = [q["sql"] for q in captured if '"users_' in q["sql"] or '"risk_' in q["sql"]]
    assert len(product) == 1
    assert product[0].startswith('INSERT INTO "users_accountholder"')
    user = AccountHolder.objects.get(public_id=response.json()["id"])
    assert user.program == client_a.program
    assert user.email == "bench.abc123.1@example.com"
    assert user.mobile == "81000001"
    assert user.birth_date.isoformat() == "1990-05-17"
    assert user.client_ref_id == "BENCH-abc123-1"
    assert user.main_income_source == "Salary"
    # the floor skips everything but the row: no identification, no hashing, no screening
    assert not Identification.objects.filter(user=user).exists()
    assert user.password is None


@pytest.mark.urls("bench.urls")
def test_floor_authenticates_like_the_api(api_a, api_b) -> None:
    from rest_framework.test import APIClient

    response = APIClient().post(FLOOR, data=_body(2), content_type=FORM)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    response = api_b.post(FLOOR, data=_body(3), content_type=FORM)  # beta's client on alpha
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_tenant"
    assert not AccountHolder.objects.exists()
