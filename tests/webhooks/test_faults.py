"""Faults, against a real receiver on loopback and real worker processes (`run_worker`).

Worker processes need a database other processes can see: PostgreSQL (the SQLite test
database lives in memory). The receiver-down case runs in-process on both databases.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from tests.conftest import requires_postgres
from tests.users.conftest import v1_body
from users.lifecycle import Actor, user_change_status
from users.models import AccountHolder, Channel
from webhooks import services
from webhooks.models import Delivery, DeliveryStatus

from .conftest import Receiver, drain

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def create_user(api: Any) -> AccountHolder:
    response = api.post("/alpha/v1/users", v1_body(), format="json")
    assert response.status_code == 200, response.content
    return AccountHolder.objects.get(public_id=response.json()["id"])


def flip(user: AccountHolder, times: int) -> None:
    for n in range(times):
        user_change_status(
            user=user,
            to_status="locked" if n % 2 == 0 else "active",
            actor=Actor.cli("ops"),
            channel=Channel.CLI,
            reason="t",
        )


def wait(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.fixture
def workers() -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )

    def start() -> subprocess.Popen[bytes]:
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.05"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@requires_postgres
def test_a_worker_killed_mid_delivery_is_replaced_and_delivers_at_most_once_more(
    api_a, endpoint, receiver, workers
):
    receiver.delay = 1.0  # the worker is killed while it waits for this answer
    first = workers()
    create_user(api_a)
    assert receiver.wait_for(1, timeout=60)  # worker start-up is slow on a loaded machine
    first.send_signal(signal.SIGKILL)
    first.wait(5)
    receiver.delay = 0
    workers()  # a new worker finds the expired claim and delivers again
    wait(lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists())
    time.sleep(1.5)  # nothing more comes
    assert len(receiver.received) == 2
    assert receiver.received[0].id == receiver.received[1].id
    assert all(r.verified for r in receiver.received)


@requires_postgres
def test_workers_survive_their_database_connections_being_dropped(
    api_a, endpoint, receiver, workers
):
    proc = workers()
    user = create_user(api_a)
    assert receiver.wait_for(1, timeout=60)
    with connection.cursor() as cursor:  # this test's own database only
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    flip(user, 3)
    wait(lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 4)
    assert proc.poll() is None  # the same process, never restarted
    sequences = [r.body["sequence"] for r in receiver.received]
    # at-least-once: an answer lost with the connection is sent again, never out of order
    assert list(dict.fromkeys(sequences)) == [1, 2, 3, 4] and len(sequences) <= 5
    assert sequences == sorted(sequences)


@requires_postgres
def test_two_workers_never_deliver_the_same_attempt_twice(
    api_a, program_a, endpoint, receiver, workers
):
    receiver.delay = 0.01
    workers()
    workers()
    users = [create_user(api_a) for _ in range(8)]
    for user in users:
        flip(user, 4)
    expected = len(users) * 5
    wait(lambda: len(receiver.received) >= expected, timeout=60)
    time.sleep(1.0)
    ids = [r.id for r in receiver.received]
    assert len(ids) == expected == len(set(ids))
    for user in users:
        seen = [
            r.body["sequence"]
            for r in receiver.received
            if r.body["data"]["user_id"] == user.public_id
        ]
        assert seen == [1, 2, 3, 4, 5]


@override_settings(WEBHOOK_RETRY_SCHEDULE=[0.2, 0.4, 0.8, 1.6, 3.2])
def test_a_receiver_down_for_a_while_gets_everything_later_in_order(
    api_a, program_a, client_a, receiver: Receiver
):
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        down_port = probe.getsockname()[1]
    endpoint, secret = services.endpoint_create(
        program=program_a,
        client=client_a,
        url=f"http://127.0.0.1:{down_port}/hooks",
        events=["*"],
    )
    receiver.secrets.append(secret)
    user = create_user(api_a)
    flip(user, 2)
    drain(lambda: Delivery.objects.filter(attempts__gte=2).exists())
    assert receiver.received == []
    services.endpoint_update(endpoint, url=receiver.url)  # the receiver is back
    drain(lambda: len(receiver.received) >= 3, timeout=20)
    assert [r.body["sequence"] for r in receiver.received] == [1, 2, 3]
    assert all(r.verified for r in receiver.received)
