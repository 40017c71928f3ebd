"""Uniqueness under concurrency (PostgreSQL): simultaneous creates with one email, mobile or id
number — exactly one wins, every other request loses with the contract's 400, never a 500."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from tests.conftest import api_for, requires_postgres
from tests.users.conftest import v1_body
from users.models import AccountHolder, Identification

THREADS = 12

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _race(client: Any, bodies: list[dict[str, Any]]) -> list[tuple[int, str]]:
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def run(body: dict[str, Any]) -> None:
        api = api_for(client)
        try:
            barrier.wait(timeout=30)
            response = api.post("/alpha/v1/users", body, format="json")
            code = "" if response.status_code == 200 else response.json()["code"]
            with lock:
                results.append((response.status_code, code))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.parametrize(
    ("shared", "code"),
    [
        ({"email": "race@example.com"}, "resource_user_email_unique"),
        ({"mobile_country_code": "65", "mobile": "96543210"}, "resource_user_mobile_unique"),
        ({"id_type": "passport", "id_number": "R1234567"}, "resource_id_type_unique"),
        ({"customer_id": "RACE-1"}, "resource_user_customer_id_in_use"),
    ],
    ids=["email", "mobile", "id_number", "customer_id"],
)
def test_simultaneous_creates_one_winner(client_a, shared, code):
    bodies = [v1_body(**shared) for _ in range(THREADS)]
    results = _race(client_a, bodies)
    assert len(results) == THREADS
    assert sorted(results) == [(200, "")] + [(400, code)] * (THREADS - 1), results
    assert AccountHolder.objects.count() == 1
    if "id_number" in shared:
        assert Identification.objects.count() == 1
