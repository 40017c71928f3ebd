"""The back-office pages and the operators' commands for webhooks."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.users.conftest import v1_body
from users.models import AccountHolder
from webhooks import services
from webhooks.delivery import RESPONSE_EXCERPT_BYTES
from webhooks.models import Attempt, Delivery, DeliveryStatus, DisabledReason, Endpoint
from webhooks.outbox import dispatch_user

from .conftest import drain

pytestmark = pytest.mark.django_db


def status_lines() -> list[str]:
    out = io.StringIO()
    call_command("webhook_status", stdout=out)
    return out.getvalue().splitlines()


def test_admin_creates_an_endpoint_and_shows_the_secret_once(admin_client, program_a):
    response = admin_client.post(
        reverse("admin:webhooks_endpoint_add"),
        {"program": program_a.pk, "url": "https://example.com/h", "events": ["user.created"]},
        follow=True,
    )
    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert any(endpoint.secret in m for m in shown)
    page = admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert endpoint.secret not in page.content.decode()


def test_admin_refuses_a_bad_url_and_saves_nothing(admin_client, program_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = admin_client.post(
        reverse("admin:webhooks_endpoint_add"),
        {"program": program_a.pk, "url": "https://127.0.0.1/h", "events": ["*"]},
    )
    assert response.status_code == 200 and "loopback" in response.content.decode()
    assert not Endpoint.objects.exists()


def action(client: Any, name: str, model: str, pks: list[int]) -> Any:
    return client.post(
        reverse(f"admin:webhooks_{model}_changelist"),
        {"action": name, "_selected_action": pks},
        follow=True,
    )


def test_enable_disable_rotate_and_test_actions(admin_client, endpoint):
    action(admin_client, "disable", "endpoint", [endpoint.pk])
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason == DisabledReason.MANUAL
    assert any(endpoint.public_id in line for line in status_lines())
    action(admin_client, "enable", "endpoint", [endpoint.pk])
    endpoint.refresh_from_db()
    assert endpoint.active
    old = endpoint.secret
    action(admin_client, "rotate_secret", "endpoint", [endpoint.pk])
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    action(admin_client, "send_test", "endpoint", [endpoint.pk])
    assert Delivery.objects.get().event_type == "webhook.test"


@pytest.mark.django_db(transaction=True)
def test_delivery_log_shows_attempts_and_redelivers(admin_client, api_a, endpoint, receiver):
    receiver.respond = lambda n: 500 if n == 1 else 200
    api_a.post("/alpha/v1/users", v1_body(), format="json")
    drain(lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists())
    delivery = Delivery.objects.get()
    page = admin_client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "500" in html and "webhook-signature" in html
    action(admin_client, "redeliver", "delivery", [delivery.pk])
    assert Delivery.objects.count() == 2
    drain()
    assert len(receiver.ok()) == 3


@pytest.mark.django_db(transaction=True)
def test_response_excerpts_are_cut_at_4_kb(api_a, endpoint, receiver, monkeypatch):
    monkeypatch.setattr(receiver, "body", b"x" * 10_000, raising=False)
    api_a.post("/alpha/v1/users", v1_body(), format="json")
    drain()
    assert len(Attempt.objects.get().response_body) == RESPONSE_EXCERPT_BYTES == 4096


def test_admin_index_and_webhook_status_show_the_health(admin_client, api_a, endpoint):
    assert status_lines() == [
        "queue depth: 0",
        "oldest undelivered event: none",
        "disabled endpoints: 0",
    ]
    api_a.post("/alpha/v1/users", v1_body(), format="json")
    dispatch_user(AccountHolder.objects.get().pk)  # dispatched, not delivered yet
    lines = status_lines()
    assert lines[0] == "queue depth: 1" and lines[1].endswith("s old")
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="webhook-health"' in html and "Queue depth" in html


def test_a_users_page_shows_its_published_events(admin_client, api_a, program_a):
    api_a.post("/alpha/v1/users", v1_body(), format="json")
    user = AccountHolder.objects.get()
    html = admin_client.get(reverse("admin:users_accountholder_change", args=[user.pk])).content
    assert b"user.created" in html


@pytest.mark.django_db(transaction=True)
def test_run_worker_delivers(api_a, endpoint, receiver):
    api_a.post("/alpha/v1/users", v1_body(), format="json")
    call_command("run_worker", "--batch", stdout=io.StringIO())
    assert [r.type for r in receiver.ok()] == ["user.created"]
    assert services.program_endpoints(endpoint.program)
