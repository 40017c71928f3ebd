"""What makes delivery fast, and what it must not cost: one dispatch per burst of writes, a
stream drained in order by one task in a few statements, a failure mid-batch retrying only
the rest (in order), bursts split between workers, kept-alive connections that never bypass
the SSRF guard."""

from __future__ import annotations

import io
import itertools
import socket
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tasks.backends.database.management.commands.db_worker import Worker
from django_tasks.backends.database.models import DBTaskResult
from django_tasks.base import TaskResultStatus

from tests.conftest import requires_postgres
from tests.users.conftest import v1_body
from users.lifecycle import Actor, user_change_status
from users.models import AccountHolder, Channel
from webhooks import delivery, outbox, security, services, tasks, transport
from webhooks.models import Attempt, Delivery, DeliveryStatus

from .conftest import Receiver, drain

pytestmark = pytest.mark.django_db(transaction=True)
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")  # SQLite's show up


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


def run_one_task() -> None:
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=1,
        worker_id="test-worker",
    ).run()


def sequences_per_user(receiver: Receiver) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    for r in receiver.received:
        seen.setdefault(r.body["data"]["user_id"], []).append(r.body["sequence"])
    return seen


def test_one_task_dispatches_and_delivers_a_burst_of_writes(api_a, endpoint, receiver):
    users = [create_user(api_a) for _ in range(4)]
    for user in users:
        flip(user, 2)
    rows = DBTaskResult.objects.filter(task_path=tasks.dispatch_users.module_path)
    assert rows.count() == 12  # one task row per write: the outbox
    run_one_task()  # the first dispatch takes the other eleven with it
    assert len(receiver.received) == 12 and all(r.verified for r in receiver.received)
    assert sequences_per_user(receiver) == {u.public_id: [1, 2, 3] for u in users}
    assert not DBTaskResult.objects.ready().exists()
    ran = rows.exclude(metadata__has_key="dispatched_by").get()
    assert ran.status == TaskResultStatus.SUCCEEDED
    absorbed = rows.filter(metadata__dispatched_by=str(ran.pk))
    assert absorbed.count() == 11
    assert set(absorbed.values_list("status", flat=True)) == {TaskResultStatus.SUCCEEDED}


def test_a_failed_dispatch_leaves_the_other_writes_queued(api_a, endpoint, receiver, monkeypatch):
    for _ in range(3):
        create_user(api_a)

    def broken(user_ids: Any) -> Any:
        raise RuntimeError("database trouble")

    monkeypatch.setattr(outbox, "dispatch", broken)
    run_one_task()
    rows = DBTaskResult.objects.filter(task_path=tasks.dispatch_users.module_path)
    assert rows.filter(status=TaskResultStatus.FAILED).count() == 1
    assert rows.filter(status=TaskResultStatus.READY).count() == 2  # rolled back with it
    monkeypatch.undo()
    drain()
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2


def test_a_stream_is_drained_in_order_by_one_task_in_few_statements(api_a, endpoint, receiver):
    user = create_user(api_a)
    flip(user, 11)
    streams = outbox.dispatch([user.pk])
    assert streams == {(endpoint.pk, user.pk): 12}
    with CaptureQueriesContext(connection) as queries:
        come_back, attempted = delivery.run_stream(endpoint.pk, user.pk)
    assert (come_back, attempted) == (None, 12)
    assert [r.body["sequence"] for r in receiver.received] == list(range(1, 13))
    assert all(r.verified for r in receiver.received)
    # the endpoint, the stream, claim its head, lease the rest, log the attempts, record
    # them, the stream again (empty): 7 statements for 12 deliveries
    statements = [q["sql"] for q in queries if not q["sql"].startswith(TRANSACTION_CONTROL)]
    assert len(statements) == 7, statements
    assert receiver.connections == 1  # one kept-alive connection for the twelve
    assert Attempt.objects.count() == 12
    assert set(Delivery.objects.values_list("status", "attempts", "claimed_until")) == {
        (DeliveryStatus.SUCCEEDED, 1, None)
    }


@override_settings(WEBHOOK_RETRY_SCHEDULE=[0.3, 0.3, 0.3])
def test_a_failure_mid_batch_retries_only_the_rest_in_order(api_a, endpoint, receiver):
    receiver.respond = lambda n: 503 if n == 3 else 200
    user = create_user(api_a)
    flip(user, 5)
    streams = list(outbox.dispatch([user.pk]))
    assert tasks.run_streams(streams) == 3  # 1 and 2 delivered, 3 refused: the batch stops
    rows = {d.sequence: d for d in Delivery.objects.all()}
    assert [rows[n].status for n in (1, 2)] == [DeliveryStatus.SUCCEEDED] * 2
    assert (rows[3].status, rows[3].attempts) == (DeliveryStatus.PENDING, 1)
    retry = DBTaskResult.objects.get(task_path=tasks.deliver_stream.module_path)
    assert retry.run_after == rows[3].next_attempt_at  # the stream comes back for its retry
    # the rest was released unsent: no lease left behind, no attempt counted
    assert {(rows[n].attempts, rows[n].claimed_until) for n in (3, 4, 5, 6)} == {
        (1, None),
        (0, None),
    }
    drain(lambda: len(receiver.ok()) >= 7, timeout=20)
    assert [r.body["sequence"] for r in receiver.received] == [1, 2, 3, 3, 4, 5, 6]
    assert dict(Delivery.objects.values_list("sequence", "attempts")) == {
        1: 1,
        2: 1,
        3: 2,
        4: 1,
        5: 1,
        6: 1,
    }


def test_a_batch_ends_where_the_lease_could_run_out(api_a, endpoint, receiver, monkeypatch):
    user = create_user(api_a)
    flip(user, 3)
    outbox.dispatch([user.pk])
    receiver.delay = 0.15
    # a lease only just longer than an attempt's worst case: after one attempt, no room
    monkeypatch.setattr(
        delivery, "lease", lambda: delivery.attempt_budget() + timedelta(milliseconds=100)
    )
    claims = []
    real_claim = delivery.claim

    def counting_claim(*args: Any) -> Any:
        batch, wait = real_claim(*args)
        claims.append(len(batch))
        return batch, wait

    monkeypatch.setattr(delivery, "claim", counting_claim)
    assert delivery.run_stream(endpoint.pk, user.pk) == (None, 4)
    assert claims == [4, 3, 2, 1, 0]  # each claim sent only its head, then claimed again
    assert [r.body["sequence"] for r in receiver.received] == [1, 2, 3, 4]


def test_a_run_hands_the_rest_of_its_streams_to_a_new_task(api_a, endpoint, receiver, monkeypatch):
    monkeypatch.setattr(delivery, "MAX_PER_RUN", 3)
    monkeypatch.setattr(delivery, "BATCH", 2)
    users = [create_user(api_a) for _ in range(2)]
    for user in users:
        flip(user, 3)
    streams = list(outbox.dispatch([u.pk for u in users]))
    assert tasks.run_streams(streams) == 3
    assert len(receiver.received) == 3
    follow_up = DBTaskResult.objects.filter(task_path=tasks.deliver_stream.module_path)
    assert follow_up.count() == 1  # the first stream, cut by the limit, goes on later
    assert DBTaskResult.objects.filter(task_path=tasks.deliver_streams.module_path).count() == 1
    drain()
    assert sequences_per_user(receiver) == {u.public_id: [1, 2, 3, 4] for u in users}


def test_a_big_burst_is_split_between_tasks_for_the_other_workers(
    api_a, endpoint, receiver, monkeypatch
):
    monkeypatch.setattr(tasks, "CHUNK_DELIVERIES", 4)
    users = [create_user(api_a) for _ in range(5)]
    for user in users:
        flip(user, 1)
    run_one_task()  # dispatches the 10 deliveries, sends the first chunk (2 streams)
    assert len(receiver.received) == 4
    chunks = DBTaskResult.objects.filter(task_path=tasks.deliver_streams.module_path)
    assert chunks.count() == 2 and set(chunks.values_list("status", flat=True)) == {
        TaskResultStatus.READY
    }
    drain()
    assert sequences_per_user(receiver) == {u.public_id: [1, 2] for u in users}


# --- kept-alive connections and the SSRF guard


@pytest.fixture
def partner_host(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> dict[str, str]:
    """`hooks.partner.test` resolves to what the test says; plain http is let through."""
    answers = {"hooks.partner.test": "127.0.0.1"}
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], int(port)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(security.socket, "getaddrinfo", resolve)
    monkeypatch.setattr(security, "plain_http_allowed", lambda: True)
    return answers


def test_a_kept_alive_connection_does_not_bypass_the_guard(
    api_a, endpoint, receiver, partner_host, settings
):
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://hooks.partner.test:{port}/hooks"
    services.endpoint_update(endpoint, url=url)
    user = create_user(api_a)
    drain()
    assert len(receiver.received) == 1 and receiver.connections == 1  # kept alive

    settings.WEBHOOK_ALLOW_PRIVATE = False  # the guard is on: 127.0.0.1 is refused
    flip(user, 1)
    drain(lambda: Delivery.objects.filter(attempts__gte=1, sequence=2).exists())
    assert len(receiver.received) == 1  # nothing sent over the open connection
    refused = Attempt.objects.filter(delivery__sequence=2)
    assert refused and all(a.error.startswith("refused:") for a in refused)
    # the connection was still open and reusable: only the guard stopped the delivery
    transport.post(url, b"{}", {"content-type": "application/json"}, 1.0)
    assert len(receiver.received) == 2 and receiver.connections == 1


def test_a_new_connection_goes_only_to_an_address_the_guard_checked(
    api_a, endpoint, receiver, partner_host, settings, monkeypatch
):
    port = receiver.url.split(":")[2].split("/")[0]
    services.endpoint_update(endpoint, url=f"http://hooks.partner.test:{port}/hooks")
    settings.WEBHOOK_ALLOW_PRIVATE = False
    # DNS rebinding: public when the URL is checked, loopback when the worker connects
    lookups = itertools.cycle(["93.184.216.34", "127.0.0.1"])
    real_check = security.check_url

    def check_then_rebind(url: str) -> None:
        partner_host["hooks.partner.test"] = next(lookups)
        real_check(url)
        partner_host["hooks.partner.test"] = next(lookups)

    connects: list[Any] = []
    real_connect = transport.urllib3_connection.create_connection
    monkeypatch.setattr(security, "check_url", check_then_rebind)
    monkeypatch.setattr(
        transport.urllib3_connection,
        "create_connection",
        lambda address, *a, **k: connects.append(address) or real_connect(address, *a, **k),
    )
    create_user(api_a)
    drain(lambda: Delivery.objects.filter(attempts__gte=1).exists())
    assert receiver.received == [] and connects == []  # refused before any connect
    attempts = Attempt.objects.all()
    assert attempts and all(a.error.startswith("refused:") for a in attempts)


def test_connections_are_pinned_to_the_checked_addresses(monkeypatch, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        security,
        "_resolve",
        lambda host, port: [security.ipaddress.ip_address("93.184.216.34")],
    )
    assert security.allowed_addresses("hooks.partner.test", 443) == ["93.184.216.34"]
    monkeypatch.setattr(
        security,
        "_resolve",
        lambda host, port: [
            security.ipaddress.ip_address("93.184.216.34"),
            security.ipaddress.ip_address("169.254.169.254"),  # one bad address is enough
        ],
    )
    with pytest.raises(security.UrlNotAllowed):
        security.allowed_addresses("hooks.partner.test", 443)


@requires_postgres
def test_a_worker_commits_its_own_writes_without_waiting_for_the_flush(
    api_a, endpoint, receiver, monkeypatch
):
    create_user(api_a)
    seen: list[str] = []
    real_send = delivery.send

    def send(*args: Any) -> Any:
        with connection.cursor() as cursor:  # the worker's session, as it delivers
            cursor.execute("SHOW synchronous_commit")
            seen.append(cursor.fetchone()[0])
        return real_send(*args)

    monkeypatch.setattr(delivery, "send", send)
    call_command("run_worker", "--batch", stdout=io.StringIO())
    assert seen == ["off"]
    assert [r.type for r in receiver.ok()] == ["user.created"]
    connection.close()  # the next session of this process is as the server says
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
