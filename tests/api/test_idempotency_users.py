"""Idempotency-Key end to end on the real POST endpoints (v1 and v2 create / re-activate),
rate limits on the users API, and the guard that no POST route was left without the key."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
from django.db import connections
from django.urls import URLPattern, URLResolver, get_resolver

from api.models import IdempotencyRecord
from core import error_codes
from programs.models import Program
from tests.conftest import api_for, requires_postgres
from users.models import AccountHolder, StatusChange

V1 = "/alpha/v1/users"
V2 = "/alpha/v2/users"


def v1_body(n: int, **extra: str) -> dict[str, str]:
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": f"idem{n}@example.com",
        "mobile_country_code": "65",
        "mobile": f"9100000{n}",
        **extra,
    }


def v2_body(n: int) -> dict[str, str]:
    return {"type": "customer", **v1_body(n)}


def _post_views() -> list[tuple[str, type]]:
    found: list[tuple[str, type]] = []

    def walk(patterns, prefix=""):  # type: ignore[no-untyped-def]
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                view = getattr(p.callback, "view_class", None)
                if view is not None and hasattr(view, "post"):
                    found.append((prefix + str(p.pattern), view))

    walk(get_resolver().url_patterns)
    return found


def test_every_post_endpoint_of_the_api_takes_idempotency_keys():
    from api.views import ProgramAPIView

    posts = [(route, view) for route, view in _post_views() if issubclass(view, ProgramAPIView)]
    assert {route for route, _ in posts} >= {"<slug:program>/v1/users", "<slug:program>/v2/users"}
    for route, view in posts:
        assert getattr(view.post, "idempotent", False), f"POST {route} lacks @idempotent"


def test_v1_form_create_is_replayed_and_creates_one_user(api_a, program_a):
    body = urlencode(v1_body(1))
    kwargs = {"content_type": "application/x-www-form-urlencoded", "HTTP_IDEMPOTENCY_KEY": "v1"}
    first = api_a.post(V1, body, **kwargs)
    assert first.status_code == 200, first.content
    reordered = urlencode(dict(reversed(list(v1_body(1).items()))))
    second = api_a.post(V1, reordered, **kwargs)
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert AccountHolder.objects.filter(program=program_a).count() == 1


def test_v2_create_is_replayed_and_a_changed_body_is_refused(api_a, program_a):
    first = api_a.post(V2, v2_body(2), format="json", HTTP_IDEMPOTENCY_KEY="v2")
    assert first.status_code == 201, first.content
    again = api_a.post(V2, v2_body(2), format="json", HTTP_IDEMPOTENCY_KEY="v2")
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    changed = api_a.post(
        V2, {**v2_body(2), "first_name": "Eve"}, format="json", HTTP_IDEMPOTENCY_KEY="v2"
    )
    assert changed.status_code == 422
    assert changed.json()["code"] == error_codes.IDEMPOTENCY_KEY_REUSED
    assert list(AccountHolder.objects.values_list("first_name", flat=True)) == ["Ada"]


def test_a_refused_create_is_replayed_with_its_error(api_a, program_a):
    body = v1_body(3, email="not-an-email")
    first = api_a.post(V1, body, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert first.status_code == 400
    assert first.json()["code"] == "resource_user_email_invalid"
    second = api_a.post(V1, body, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert not AccountHolder.objects.exists()


def test_reactivation_with_a_key_runs_once(api_a, program_a):
    created = api_a.post(V2, v2_body(4), format="json").json()
    user = AccountHolder.objects.get(public_id=created["id"])
    api_a.delete(f"/alpha/v1/users/{user.public_id}", {"state": "suspended"}, format="json")
    before = StatusChange.objects.filter(user=user).count()
    for _ in range(2):
        response = api_a.post(
            V2, {"user_id": user.public_id}, format="json", HTTP_IDEMPOTENCY_KEY="react"
        )
        assert response.status_code == 200
        assert response.json()["status"] == "active"
    assert StatusChange.objects.filter(user=user).count() == before + 1


def test_users_api_writes_are_rate_limited(api_a, program_a):
    Program.objects.filter(pk=program_a.pk).update(write_rate_limit=1)
    assert api_a.post(V2, v2_body(5), format="json").status_code == 201
    refused = api_a.post(V1, v1_body(6), format="json")
    assert refused.status_code == 429
    assert refused.json()["code"] == error_codes.RATE_LIMITED
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert AccountHolder.objects.count() == 1
    # reads have their own budget
    assert api_a.get(V2).status_code == 200


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_creates_with_one_key_create_one_user(program_a, client_a):
    barrier = threading.Barrier(4)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            api = api_for(client_a)
            barrier.wait(10)
            response = api.post(V2, v2_body(7), format="json", HTTP_IDEMPOTENCY_KEY="race")
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 4
    assert 201 in statuses
    assert set(statuses) <= {201, 409}
    assert AccountHolder.objects.count() == 1
    assert IdempotencyRecord.objects.get().response_status == 201
