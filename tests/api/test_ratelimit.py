"""SPEC §3 rate limits: per API client, reads and writes apart, limits from the program,
429 `rate_limited` with Retry-After in both envelopes, counters shared by every process."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api import ratelimit
from api.models import RateLimitCounter
from core import error_codes
from programs.models import Program
from tests.conftest import api_for, requires_postgres
from tests.factories import ApiClientFactory
from users.models import AccountHolder

pytestmark = pytest.mark.urls("tests.api.urls_probe")

READ_V1 = "/alpha/v1/users/enumerations/titles"
READ_V2 = "/alpha/v2/users/enumerations/titles"
WRITE_V1 = "/alpha/v1/probe"
WRITE_V2 = "/alpha/v2/probe"
T0 = 1_800_000_000.0  # a window boundary (divisible by 60)


@pytest.fixture
def frozen(monkeypatch):  # type: ignore[no-untyped-def]
    """A settable clock for the limiter; starts 15 s into a window."""
    now = {"t": T0 + 15}
    monkeypatch.setattr(ratelimit, "clock", lambda: now["t"])
    return now


def limits(program, *, reads=None, writes=None):  # type: ignore[no-untyped-def]
    Program.objects.filter(pk=program.pk).update(
        read_rate_limit=reads if reads is not None else program.read_rate_limit,
        write_rate_limit=writes if writes is not None else program.write_rate_limit,
    )


def write(api, url, n):  # type: ignore[no-untyped-def]
    return api.post(url, {"email": f"u{n}@example.com"}, format="json")


def test_defaults_are_1200_writes_and_6000_reads(program_a):
    assert program_a.write_rate_limit == 1200
    assert program_a.read_rate_limit == 6000


def test_reads_over_the_limit_answer_429_in_both_envelopes(api_a, program_a, frozen):
    limits(program_a, reads=3)
    for _ in range(3):
        assert api_a.get(READ_V1).status_code == 200
    v1 = api_a.get(READ_V1)
    assert v1.status_code == 429
    assert v1.json()["code"] == error_codes.RATE_LIMITED
    assert set(v1.json()) == {"code", "description", "link", "errors"}
    assert v1["Retry-After"] == "45"  # 15 s into the minute
    frozen["t"] = T0 + 59.2
    v2 = api_a.get(READ_V2)
    assert v2.status_code == 429
    body = v2.json()
    assert body["code"] == error_codes.RATE_LIMITED
    assert body["status"] == 429
    assert body["title"] == "Too many requests"
    assert v2["Retry-After"] == "1"


def test_writes_over_the_limit_answer_429_and_write_nothing(api_a, program_a, frozen):
    limits(program_a, writes=2)
    assert write(api_a, WRITE_V2, 1).status_code == 201
    assert write(api_a, WRITE_V1, 2).status_code == 201
    refused = write(api_a, WRITE_V2, 3)
    assert refused.status_code == 429
    assert refused.json()["code"] == error_codes.RATE_LIMITED
    assert int(refused["Retry-After"]) == 45
    assert AccountHolder.objects.count() == 2


def test_reads_and_writes_are_counted_apart(api_a, program_a, frozen):
    limits(program_a, reads=2, writes=2)
    assert write(api_a, WRITE_V2, 1).status_code == 201
    assert write(api_a, WRITE_V2, 2).status_code == 201
    assert write(api_a, WRITE_V2, 3).status_code == 429
    # writes are spent; reads are not
    assert api_a.get(READ_V2).status_code == 200
    assert api_a.get(READ_V2).status_code == 200
    assert api_a.get(READ_V2).status_code == 429
    counters = dict(RateLimitCounter.objects.values_list("scope", "count"))
    assert counters == {"read": 3, "write": 3}


def test_the_window_resets(api_a, program_a, frozen):
    limits(program_a, reads=1)
    assert api_a.get(READ_V1).status_code == 200
    assert api_a.get(READ_V1).status_code == 429
    frozen["t"] = T0 + 59.9
    assert api_a.get(READ_V1).status_code == 429
    frozen["t"] = T0 + 60
    assert api_a.get(READ_V1).status_code == 200
    assert api_a.get(READ_V1).status_code == 429
    assert RateLimitCounter.objects.get().window_start == (T0 + 60) // 60


def test_limits_are_per_program_and_per_client(program_a, program_b, client_a, client_b, frozen):
    limits(program_a, reads=1)
    api_a = api_for(client_a)
    sibling = api_for(ApiClientFactory(program=program_a))
    assert api_a.get(READ_V1).status_code == 200
    assert api_a.get(READ_V1).status_code == 429
    # another client of the same program has its own budget
    assert sibling.get(READ_V1).status_code == 200
    # program beta keeps the default limit
    api_b = api_for(client_b)
    for _ in range(5):
        assert api_b.get("/beta/v1/users/enumerations/titles").status_code == 200


def test_a_changed_limit_applies_on_the_next_request(api_a, program_a, frozen):
    limits(program_a, reads=1)
    assert api_a.get(READ_V1).status_code == 200
    assert api_a.get(READ_V1).status_code == 429
    limits(program_a, reads=10)
    assert api_a.get(READ_V1).status_code == 200


def test_a_zero_limit_refuses_every_request_of_that_class(api_a, program_a, frozen):
    limits(program_a, writes=0)
    assert write(api_a, WRITE_V2, 1).status_code == 429
    assert api_a.get(READ_V2).status_code == 200


def test_unauthenticated_requests_do_not_count(program_a, client_a, frozen):
    limits(program_a, reads=1)
    anonymous = APIClient()
    for _ in range(3):
        assert anonymous.get(READ_V1).status_code == 401
    assert not RateLimitCounter.objects.exists()
    assert api_for(client_a).get(READ_V1).status_code == 200


def test_rate_limiting_costs_one_query(api_a, program_a):
    api_a.get(READ_V1)  # warm
    with CaptureQueriesContext(connection) as queries:
        assert api_a.get(READ_V1).status_code == 200
    limiter = [q for q in queries if "core_ratelimitcounter" in q["sql"]]
    assert len(limiter) == 1
    assert limiter[0]["sql"].startswith("INSERT")


def test_database_store_counts_late_requests_in_the_current_window(client_a):
    store = ratelimit.DatabaseCounterStore()
    assert store.hit(client_pk=client_a.pk, scope="read", window=100) == 1
    assert store.hit(client_pk=client_a.pk, scope="read", window=100) == 2
    # an app server whose clock is behind must not reset the window
    assert store.hit(client_pk=client_a.pk, scope="read", window=99) == 3
    assert store.hit(client_pk=client_a.pk, scope="read", window=101) == 1
    counter = RateLimitCounter.objects.get()
    assert (counter.window_start, counter.count) == (101, 1)


@override_settings(RATE_LIMIT_STORE="cache")
def test_cache_store_limits_without_database_queries(api_a, program_a, frozen):
    from django.core.cache import cache

    cache.clear()
    limits(program_a, reads=2)
    api_a.get(READ_V1)
    with CaptureQueriesContext(connection) as queries:
        assert api_a.get(READ_V1).status_code == 200
    assert not [q for q in queries if "core_ratelimitcounter" in q["sql"]]
    assert api_a.get(READ_V1).status_code == 429
    frozen["t"] = T0 + 60
    assert api_a.get(READ_V1).status_code == 200
    assert not RateLimitCounter.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_lose_no_count(program_a, client_a, frozen):
    """The UPSERT is atomic: of 12 simultaneous reads against a limit of 5, exactly 5 pass."""
    limits(program_a, reads=5)
    barrier = threading.Barrier(12)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            api = api_for(client_a)
            barrier.wait(10)
            status = api.get(READ_V1).status_code
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 12
    assert statuses.count(200) == 5
    assert statuses.count(429) == 7
    assert RateLimitCounter.objects.get().count == 12
