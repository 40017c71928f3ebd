"""SPEC §3 Idempotency-Key: replay, 422 on a different body, 409 while running, per client,
24 h retention, 5xx not stored; exercised through a test-only write endpoint."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.idempotency import (
    IN_PROGRESS_TIMEOUT,
    canonical_body,
    request_fingerprint,
    validate_key,
)
from api.models import IdempotencyRecord, IdempotencyState
from core import error_codes
from core.exceptions import ApiError
from tests.api.urls_probe import probe_gate
from tests.conftest import api_for, requires_postgres
from users.models import AccountHolder

pytestmark = pytest.mark.urls("tests.api.urls_probe")

V1 = "/alpha/v1/probe"
V2 = "/alpha/v2/probe"
BODY = {"email": "ada@example.com", "first_name": "Ada"}


def post(api, url, body, key=None, **extra):  # type: ignore[no-untyped-def]
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return api.post(url, body, format="json", **extra)


def test_without_key_every_post_runs(api_a, program_a):
    assert post(api_a, V2, BODY).status_code == 201
    assert post(api_a, V2, {**BODY, "email": "b@example.com"}).status_code == 201
    assert AccountHolder.objects.filter(program=program_a).count() == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("url", [V1, V2])
def test_same_key_same_body_replays_first_answer(api_a, program_a, url):
    first = post(api_a, url, BODY, key="k-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    second = post(api_a, url, BODY, key="k-1")
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    # each answer still has its own request id
    assert second["X-Request-ID"] != first["X-Request-ID"]
    assert AccountHolder.objects.filter(program=program_a).count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.state == IdempotencyState.COMPLETED
    assert record.response_status == 201


def test_body_is_compared_in_canonical_form(api_a, program_a):
    assert (
        post(api_a, V2, {"email": "c@example.com", "first_name": "C"}, key="k").status_code == 201
    )
    again = api_a.post(
        V2,
        '{ "first_name" : "C",\n "email": "c@example.com" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert canonical_body("application/x-www-form-urlencoded", b"b=2&a=1") == canonical_body(
        "application/x-www-form-urlencoded", b"a=1&b=2"
    )
    assert canonical_body("application/json", b"not json") == b"not json"


@pytest.mark.parametrize(("url", "code_key"), [(V1, "code"), (V2, "code")])
def test_same_key_different_body_is_422_and_changes_nothing(api_a, program_a, url, code_key):
    assert post(api_a, url, BODY, key="k-2").status_code == 201
    stored = IdempotencyRecord.objects.get()
    response = post(api_a, url, {**BODY, "first_name": "Eve"}, key="k-2")
    assert response.status_code == 422
    assert response.json()[code_key] == error_codes.IDEMPOTENCY_KEY_REUSED
    assert AccountHolder.objects.filter(program=program_a).count() == 1
    assert IdempotencyRecord.objects.get().fingerprint == stored.fingerprint


def test_same_key_on_another_path_is_reused(api_a):
    assert post(api_a, V1, BODY, key="k-3").status_code == 201
    response = post(api_a, V2, BODY, key="k-3")
    assert response.status_code == 422
    assert response.json()["code"] == error_codes.IDEMPOTENCY_KEY_REUSED


def test_keys_are_scoped_per_client(api_a, client_a, program_a):
    from tests.factories import ApiClientFactory

    other = api_for(ApiClientFactory(program=program_a))
    assert post(api_a, V2, BODY, key="shared").status_code == 201
    # another client's identical key is independent: its request runs (and meets the
    # database's e-mail uniqueness, proving it was not a replay)
    response = post(other, V2, BODY, key="shared")
    assert response.status_code == 400
    assert "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.parametrize("url", [V1, V2])
@pytest.mark.parametrize("key", ["x" * 256, "", "   ", "tab\tkey"])
def test_invalid_key_is_400_and_nothing_runs(api_a, program_a, url, key):
    response = post(api_a, url, BODY, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == error_codes.IDEMPOTENCY_KEY_INVALID
    assert not AccountHolder.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_longest_valid_key_is_accepted(api_a):
    assert post(api_a, V2, BODY, key="k" * 255).status_code == 201
    assert IdempotencyRecord.objects.get().key == "k" * 255
    assert validate_key("  padded  ") == "padded"
    with pytest.raises(ApiError):
        validate_key("é")


def test_client_errors_are_stored_and_replayed_without_running_again(api_a, program_a):
    first = post(api_a, V1, {"fail": "validation"}, key="k-4")
    assert first.status_code == 400
    assert first.json()["code"] == "resource_user_email_invalid"
    second = post(api_a, V1, {"fail": "validation"}, key="k-4")
    assert second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content


def test_server_errors_roll_back_and_release_the_key(api_a, program_a):
    body = {**BODY, "fail": "server"}
    response = post(api_a, V2, body, key="k-5")
    assert response.status_code == 500
    # the row the handler wrote before failing is gone with its transaction
    assert not AccountHolder.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    # the same key can be used again at once
    assert post(api_a, V2, BODY, key="k-5").status_code == 201


@pytest.mark.parametrize("url", [V1, V2])
def test_key_in_progress_is_409(api_a, client_a, program_a, url):
    now = timezone.now()
    IdempotencyRecord.objects.create(
        client=client_a,
        key="busy",
        fingerprint=_fingerprint_of(url, BODY),
        claimed_at=now,
        expires_at=now + timedelta(hours=24),
    )
    response = post(api_a, url, BODY, key="busy")
    assert response.status_code == 409
    assert response.json()["code"] == error_codes.IDEMPOTENCY_KEY_IN_USE
    assert not AccountHolder.objects.exists()


def test_stale_in_progress_key_is_taken_over(api_a, client_a, program_a):
    long_ago = timezone.now() - IN_PROGRESS_TIMEOUT - timedelta(seconds=1)
    IdempotencyRecord.objects.create(
        client=client_a,
        key="crashed",
        fingerprint=_fingerprint_of(V2, BODY),
        claimed_at=long_ago,
        expires_at=long_ago + timedelta(hours=24),
    )
    response = post(api_a, V2, BODY, key="crashed")
    assert response.status_code == 201
    assert AccountHolder.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.state == IdempotencyState.COMPLETED
    assert record.claimed_at > long_ago


def test_stale_in_progress_key_with_another_body_is_still_reused(api_a, client_a):
    long_ago = timezone.now() - IN_PROGRESS_TIMEOUT - timedelta(seconds=1)
    IdempotencyRecord.objects.create(
        client=client_a,
        key="crashed",
        fingerprint="0" * 64,
        claimed_at=long_ago,
        expires_at=long_ago + timedelta(hours=24),
    )
    assert post(api_a, V2, BODY, key="crashed").status_code == 422


def test_after_24_hours_the_key_is_new_again(api_a, program_a):
    assert post(api_a, V2, BODY, key="old").status_code == 201
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # expired: a different body is not "reused", it is a new request
    response = post(api_a, V2, {**BODY, "email": "new@example.com"}, key="old")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert AccountHolder.objects.count() == 2
    assert IdempotencyRecord.objects.get().expires_at > timezone.now() + timedelta(hours=23)


def test_keys_only_apply_to_post(api_a):
    response = api_a.get(V2, HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_query_cost(api_a, program_a):
    post(api_a, V2, {**BODY, "email": "warm@example.com"})  # warm catalog and last_used_at
    with CaptureQueriesContext(connection) as plain:
        assert post(api_a, V2, {**BODY, "email": "p@example.com"}).status_code == 201
    with CaptureQueriesContext(connection) as keyed:
        assert post(api_a, V2, BODY, key="q").status_code == 201
    with CaptureQueriesContext(connection) as replayed:
        assert post(api_a, V2, BODY, key="q").status_code == 201

    def real(queries):  # type: ignore[no-untyped-def]
        return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]

    # with a key: + the claim INSERT and the completion UPDATE
    assert len(real(keyed)) == len(real(plain)) + 2, real(keyed)
    # a replay: auth, rate limit, the failed INSERT and the SELECT of the stored answer
    assert len(real(replayed)) == 4, real(replayed)


def test_cleanup_command_deletes_expired_records_only(client_a, capsys):
    now = timezone.now()
    for i in range(3):
        IdempotencyRecord.objects.create(
            client=client_a,
            key=f"expired-{i}",
            fingerprint="f" * 64,
            claimed_at=now - timedelta(hours=25),
            expires_at=now - timedelta(hours=1),
        )
    IdempotencyRecord.objects.create(
        client=client_a,
        key="live",
        fingerprint="f" * 64,
        claimed_at=now,
        expires_at=now + timedelta(hours=24),
    )
    call_command("cleanup_idempotency")
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "3 expired idempotency records deleted"
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["live"]
    call_command("cleanup_idempotency")
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "0 expired idempotency records deleted"
    )


def _fingerprint_of(url, body):  # type: ignore[no-untyped-def]
    """The fingerprint the service computes for this POST."""
    raw = APIRequestFactory().post(url, body, format="json")
    return request_fingerprint(Request(raw, parsers=[JSONParser()]))


# --- concurrency, on PostgreSQL: the claim is a committed INSERT racing on a unique index


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_once(program_a, client_a):
    probe_gate["entered"] = threading.Event()
    probe_gate["release"] = threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        try:
            results["first"] = post(api_for(client_a), V2, BODY, key="race")
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert probe_gate["entered"].wait(10), "first request never reached the handler"
        # the first request holds the key inside its transaction: the second one is refused
        del probe_gate["entered"]
        second = post(api_for(client_a), V2, BODY, key="race")
        assert second.status_code == 409
        assert second.json()["code"] == error_codes.IDEMPOTENCY_KEY_IN_USE
        # nothing is committed yet: the user and the stored answer commit together
        assert not AccountHolder.objects.exists()
    finally:
        probe_gate["release"].set()
        thread.join(15)
        probe_gate.clear()
    assert results["first"].status_code == 201  # type: ignore[attr-defined]
    third = post(api_for(client_a), V2, BODY, key="race")
    assert third.status_code == 201
    assert third["Idempotent-Replayed"] == "true"
    assert AccountHolder.objects.count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_requests_one_key(program_a, client_a):
    barrier = threading.Barrier(6)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            api = api_for(client_a)
            barrier.wait(10)
            response = post(api, V2, BODY, key="stampede")
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 6
    # one request ran; the others were refused while it ran or got its replay
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    assert AccountHolder.objects.count() == 1
    assert IdempotencyRecord.objects.get().state == IdempotencyState.COMPLETED


def test_a_key_that_cannot_be_released_stays_reclaimable(api_a, monkeypatch, caplog):
    """When the database is what failed, releasing fails too: the client still gets the
    original 500, and the key is taken over once IN_PROGRESS_TIMEOUT has passed."""
    from django.db import OperationalError
    from django.db.models import QuerySet

    def broken_delete(self):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(QuerySet, "delete", broken_delete)
        response = post(api_a, V2, {**BODY, "fail": "server"}, key="stuck")
    assert response.status_code == 500
    assert response.json()["code"] == error_codes.INTERNAL_ERROR
    assert "idempotency key not released" in caplog.text
    record = IdempotencyRecord.objects.get()
    assert record.state == IdempotencyState.IN_PROGRESS
    failing = {**BODY, "fail": "server"}
    assert post(api_a, V2, failing, key="stuck").status_code == 409
    IdempotencyRecord.objects.update(claimed_at=record.claimed_at - IN_PROGRESS_TIMEOUT)
    # taken over: the retry runs (and fails again, this time releasing the key)
    assert post(api_a, V2, failing, key="stuck").status_code == 500
    assert not IdempotencyRecord.objects.exists()
