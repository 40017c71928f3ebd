"""Issue 12 item 6: the admin login is throttled (django-axes) by operator name + address.

The attack: 86 password guesses in 15 s from 6 threads, each burning ~200 ms of Argon2 while
the API's latency climbed. Now the fifth failure of one name from one address locks that pair
out for the cool-off, and a locked attempt is refused before any password is hashed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tests.admin.conftest import PASSWORD
from tests.conftest import requires_postgres

LOGIN = "/admin/login/"
LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def argon2_calls() -> Iterator[list[int]]:
    """How many times Argon2 verified a password while the test ran."""
    calls: list[int] = []
    real = Argon2PasswordHasher.verify
    lock = threading.Lock()

    def counting(self, password, encoded):  # type: ignore[no-untyped-def]
        with lock:
            calls.append(1)
        return real(self, password, encoded)

    with mock.patch.object(Argon2PasswordHasher, "verify", counting):
        yield calls


def attempt(password: str, *, username: str = "ada.admin", address: str = "203.0.113.7") -> int:
    response = Client(REMOTE_ADDR=address).post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}
    )
    return response.status_code


def test_limit_is_about_five() -> None:
    assert LIMIT == 5
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_failures_lock_the_name_from_that_address(admin_user_op, argon2_calls) -> None:
    answers = [attempt("wrong guess") for _ in range(LIMIT)]
    # the form again with its error, until the limit-th failure answers the lockout
    assert answers == [200] * (LIMIT - 1) + [429]
    assert len(argon2_calls) == LIMIT

    # locked: even the right password is refused, and nothing is hashed any more
    assert [attempt("wrong again") for _ in range(20)] == [429] * 20
    assert attempt(PASSWORD) == 429
    assert len(argon2_calls) == LIMIT

    # the combination: the same operator from another address still logs in
    assert attempt(PASSWORD, address="198.51.100.9") == 302


def test_success_resets_the_count(admin_user_op) -> None:
    for _ in range(LIMIT - 1):
        attempt("wrong guess")
    assert attempt(PASSWORD) == 302
    assert [attempt("wrong guess") for _ in range(LIMIT - 1)] == [200] * (LIMIT - 1)
    assert attempt(PASSWORD) == 302


@pytest.mark.parametrize(
    ("command", "args"),
    [("axes_reset", []), ("axes_reset_username", ["ada.admin"])],
)
def test_unlock_commands(admin_user_op, command, args) -> None:
    for _ in range(LIMIT):
        attempt("wrong guess")
    assert attempt(PASSWORD) == 429
    call_command(command, *args, stdout=mock.MagicMock())
    assert attempt(PASSWORD) == 302


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_threaded_flood_is_locked_without_hashing_each_guess(argon2_calls) -> None:
    from backoffice.groups import ADMIN, setup_groups
    from tests.admin.conftest import make_operator

    setup_groups()
    make_operator("ada.admin", ADMIN)
    threads, per_thread = 6, 15
    answers: list[int] = []
    lock = threading.Lock()

    def flood(n: int) -> None:
        try:
            for i in range(per_thread):
                code = attempt(f"guess-{n}-{i}")
                with lock:
                    answers.append(code)
        finally:
            connection.close()  # this thread's own connection: the test database is dropped

    workers = [threading.Thread(target=flood, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert len(answers) == threads * per_thread
    assert set(answers) <= {200, 429} and answers.count(429) >= len(answers) - LIMIT - threads
    # at most the limit, plus the guesses already past the check when the lock fell
    assert len(argon2_calls) <= LIMIT + threads
    assert attempt(PASSWORD) == 429
