"""Delivery to a real receiver on loopback, verified with `standardwebhooks` on every request:
signing and rotation, order per user, retries on the schedule, 410, the 5-day disable, the
SSRF guard at delivery, redeliver and test events."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from tests.users.conftest import v1_body
from users.lifecycle import Actor, user_change_status
from users.models import AccountHolder, Channel
from webhooks import services
from webhooks.models import Attempt, Delivery, DeliveryStatus, DisabledReason, Endpoint

from .conftest import drain


def _status() -> list[str]:
    out = io.StringIO()
    call_command("webhook_status", stdout=out)
    return out.getvalue().splitlines()


pytestmark = pytest.mark.django_db(transaction=True)


def create_user(api: Any) -> AccountHolder:
    response = api.post("/alpha/v1/users", v1_body(), format="json")
    assert response.status_code == 200, response.content
    return AccountHolder.objects.get(public_id=response.json()["id"])


def lock_and_unlock(user: AccountHolder) -> None:
    for target in ("locked", "active", "locked"):
        user_change_status(
            user=user, to_status=target, actor=Actor.cli("ops"), channel=Channel.CLI, reason="t"
        )


def test_events_arrive_signed_in_sequence_order(api_a, endpoint, receiver):
    user = create_user(api_a)
    lock_and_unlock(user)
    drain(lambda: len(receiver.received) >= 4)
    got = receiver.received
    assert all(r.verified for r in got)
    assert [r.type for r in got] == ["user.created"] + ["user.status_changed"] * 3
    assert [r.body["sequence"] for r in got] == [1, 2, 3, 4]
    assert got[0].body["data"] == {"user_id": user.public_id}
    assert got[0].id == got[0].body["id"] and got[0].id.startswith("evt_")
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 4
    attempt = Attempt.objects.first()
    assert attempt is not None and attempt.status_code == 200 and attempt.response_body == "ok"


def test_only_subscribed_types_of_the_own_program_are_delivered(
    api_a, api_b, program_a, receiver, client_a
):
    _ep, secret = services.endpoint_create(
        program=program_a, client=client_a, url=receiver.url, events=["user.status_changed"]
    )
    receiver.secrets.append(secret)
    user = create_user(api_a)
    response = api_b.post("/beta/v1/users", v1_body(), format="json")  # another program
    assert response.status_code == 200
    lock_and_unlock(user)
    drain()
    assert [r.type for r in receiver.received] == ["user.status_changed"] * 3


def test_a_failing_event_holds_the_later_ones_then_all_arrive_in_order(api_a, endpoint, receiver):
    receiver.respond = lambda n: 503 if n <= 2 else 200
    user = create_user(api_a)
    lock_and_unlock(user)
    drain(lambda: len(receiver.ok()) >= 6)
    sequences = [r.body["sequence"] for r in receiver.received]
    assert sequences == [1, 1, 1, 2, 3, 4]  # 2 refusals of #1; nothing overtook it
    delivery = Delivery.objects.get(sequence=1)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert len({r.id for r in receiver.received[:3]}) == 1  # the same webhook-id on retries


@override_settings(WEBHOOK_DISABLE_AFTER_SECONDS=3600)
def test_500_forever_follows_the_schedule_then_fails(api_a, endpoint, receiver):
    receiver.respond = lambda n: 500
    create_user(api_a)
    drain(lambda: Delivery.objects.get().status == DeliveryStatus.FAILED, timeout=20)
    delivery = Delivery.objects.get()
    # one try plus one per step of the schedule [0.05, 0.1, 0.15]
    assert delivery.attempts == 4 and len(receiver.received) == 4
    times = list(Attempt.objects.order_by("at").values_list("at", flat=True))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    for gap, step in zip(gaps, [0.05, 0.1, 0.15], strict=True):
        assert gap >= step  # never earlier than the schedule (jitter only lengthens)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is not None  # not 5 days yet


def test_an_endpoint_failing_for_the_whole_window_is_disabled(api_a, endpoint, receiver):
    receiver.respond = lambda n: 500
    # it has failed every attempt since longer ago than the window (5 days; 1 h in tests)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(seconds=3601)
    )
    create_user(api_a)
    drain(lambda: not Endpoint.objects.get(pk=endpoint.pk).active)
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == DisabledReason.FAILING and endpoint.disabled_at
    assert len(receiver.received) == 1  # no attempt after the one that disabled it
    assert any(endpoint.public_id in line for line in _status())


def test_a_success_ends_the_failing_streak(api_a, endpoint, receiver):
    Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())
    create_user(api_a)
    drain()
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None


def test_410_disables_at_once_and_nothing_more_is_sent(api_a, endpoint, receiver):
    receiver.respond = lambda n: 410
    user = create_user(api_a)
    drain()
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason == DisabledReason.GONE
    lock_and_unlock(user)
    drain()
    assert len(receiver.received) == 1


def test_rotation_signs_with_both_secrets_for_the_overlap(api_a, endpoint, receiver):
    old = receiver.secrets[:]
    new = services.endpoint_rotate_secret(endpoint)
    assert new.startswith("whsec_") and new != old[0]
    receiver.secrets = [new]
    create_user(api_a)
    drain()
    receiver.secrets = old  # a receiver not yet updated still verifies
    user = create_user(api_a)
    drain()
    assert [r.verified for r in receiver.received] == [True, True]
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2
    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    lock_and_unlock(user)
    drain()
    assert not any(r.verified for r in receiver.received[2:])  # the old secret has expired


def test_the_ssrf_guard_is_checked_again_at_delivery(api_a, endpoint, receiver):
    with override_settings(WEBHOOK_ALLOW_PRIVATE=False):
        create_user(api_a)
        drain(lambda: Delivery.objects.get().attempts >= 1)
    assert receiver.received == []
    assert all(a.error.startswith("refused") for a in Attempt.objects.all())


def test_redeliver_and_test_events(api_a, endpoint, receiver):
    create_user(api_a)
    drain()
    first = Delivery.objects.get()
    again = services.redeliver(first)
    services.send_test(endpoint)
    drain()
    assert [r.type for r in receiver.received] == ["user.created", "user.created", "webhook.test"]
    assert receiver.received[1].id == receiver.received[0].id
    again.refresh_from_db()
    assert again.status == DeliveryStatus.SUCCEEDED
    assert all(r.verified for r in receiver.received)


@override_settings(WEBHOOK_RETRY_SCHEDULE=[1.0, 1.0, 1.0])
def test_a_disabled_endpoint_resumes_its_pending_deliveries_when_enabled(api_a, endpoint, receiver):
    receiver.respond = lambda n: 503 if n == 1 else 200
    create_user(api_a)
    drain(lambda: len(receiver.received) >= 1)
    services.endpoint_set_active(endpoint, False)
    drain()
    assert len(receiver.received) == 1
    services.endpoint_set_active(endpoint, True)
    drain(lambda: len(receiver.ok()) >= 2)
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED
