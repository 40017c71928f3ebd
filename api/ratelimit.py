"""Per-client rate limits (SPEC §3): reads and writes counted apart, limits from the program.

A fixed one-minute window per (API client, operation class). The counters must be shared by
every app process behind the balancer, so they live in the database by default (one atomic
UPSERT per request: the only query rate limiting costs) or, with
`ONBOARD_RATE_LIMIT_STORE=cache`, in the configured cache (`CACHE_URL`, e.g. Redis, whose
`incr` is atomic; no database query at all). The per-process local-memory cache is never
used for counting: it would multiply every limit by the number of workers.

A fixed window lets a client burst up to twice its limit across a window boundary; for limits
meant to protect the service (not to bill), that is the accepted trade for one cheap write.
"""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from api.models import RateLimitCounter
from programs.models import READ_METHODS, ApiClient

WINDOW_SECONDS = 60
READ = "read"
WRITE = "write"


def clock() -> float:
    """Seconds since the epoch; app servers are NTP-synchronised (tests move it)."""
    return time.time()


def scope_of(method: str) -> str:
    """Reads (GET, HEAD, OPTIONS) and writes (everything else) have separate budgets."""
    return READ if method.upper() in READ_METHODS else WRITE


def limit_for(client: ApiClient, scope: str) -> int:
    program = client.program
    return program.read_rate_limit if scope == READ else program.write_rate_limit


class CounterStore(Protocol):
    def hit(self, *, client_pk: int, scope: str, window: int) -> int:
        """Count one request in the window; return the window's count including it."""


class DatabaseCounterStore:
    """One row per (client, scope), reset by the UPSERT itself when a new window starts.

    `window_start` only moves forward, so a request stamped by an app server whose clock is a
    little behind counts in the current window instead of resetting it.
    """

    def hit(self, *, client_pk: int, scope: str, window: int) -> int:
        table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
        greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
        sql = (
            f"INSERT INTO {table} (client_id, scope, window_start, count) "  # noqa: S608
            "VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (client_id, scope) DO UPDATE SET "
            f"count = CASE WHEN {table}.window_start >= excluded.window_start "
            f"THEN {table}.count + 1 ELSE 1 END, "
            f"window_start = {greatest}({table}.window_start, excluded.window_start) "
            "RETURNING count"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [client_pk, scope, window])
            row = cursor.fetchone()
        return int(row[0])


class CacheCounterStore:
    """Counters in the default cache; only meaningful when that cache is shared (Redis)."""

    def hit(self, *, client_pk: int, scope: str, window: int) -> int:
        key = f"onboard:ratelimit:{client_pk}:{scope}:{window}"
        # add() is a no-op when the key exists; the timeout outlives the window, then expires.
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            return int(cache.incr(key))
        except ValueError:  # evicted between add() and incr()
            cache.add(key, 1, timeout=WINDOW_SECONDS * 2)
            return 1


def counter_store() -> CounterStore:
    if settings.RATE_LIMIT_STORE == "cache":
        return CacheCounterStore()
    return DatabaseCounterStore()


class ApiClientRateThrottle(BaseThrottle):
    """DRF throttle for program API views: 429 `rate_limited` with Retry-After when over.

    Runs after authentication, so only requests of a known client count. The limits are read
    from the program loaded with the client, so an operator's change applies on the next
    request.
    """

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.auth
        if not isinstance(client, ApiClient):
            return True
        scope = scope_of(request.method or "GET")
        now = clock()
        window = int(now // WINDOW_SECONDS)
        count = counter_store().hit(client_pk=client.pk, scope=scope, window=window)
        if count <= limit_for(client, scope):
            return True
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return False

    def wait(self) -> float | None:
        return None if self._wait is None else max(1, math.ceil(self._wait))
