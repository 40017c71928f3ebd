"""The webhook management APIs: v2 `/webhooks` and the v1 consumer webhooks (SPEC §13)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import override_settings

from webhooks import events as catalogue
from webhooks.models import Delivery, Endpoint

from .conftest import drain

pytestmark = pytest.mark.django_db

LIST = "/alpha/v2/webhooks"


def create(api: Any, **body: Any) -> Any:
    return api.post(
        LIST, {"url": "https://example.com/hooks", "events": ["*"], **body}, format="json"
    )


def codes(response: Any) -> list[str]:
    return [s["code"] for s in response.json()["source"]]


def test_crud_and_the_secret_shown_once(api_a, program_a):
    response = create(api_a, description="main")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["*"] and created["active"] is True
    hook = f"{LIST}/{created['id']}"
    read = api_a.get(hook).json()
    assert "secret" not in read and read["url"] == "https://example.com/hooks"
    assert [w["id"] for w in api_a.get(LIST).json()["data"]] == [created["id"]]
    response = api_a.put(
        hook, {"events": ["user.created", "user.status_changed"], "active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False and response.json()["disabled_reason"] == "manual"
    assert api_a.delete(hook).status_code == 204
    assert api_a.get(hook).json()["code"] == "resource_webhook_not_found"


def test_another_programs_webhook_is_not_found(api_a, api_b, program_a, program_b):
    response = api_b.post(
        "/beta/v2/webhooks", {"url": "https://example.com/b", "events": ["*"]}, format="json"
    )
    assert response.status_code == 201
    webhook_id = response.json()["id"]
    for method, path in [
        ("get", f"{LIST}/{webhook_id}"),
        ("put", f"{LIST}/{webhook_id}"),
        ("delete", f"{LIST}/{webhook_id}"),
        ("post", f"{LIST}/{webhook_id}/test"),
        ("post", f"{LIST}/{webhook_id}/rotate_secret"),
        ("get", f"{LIST}/{webhook_id}/deliveries"),
    ]:
        answer = getattr(api_a, method)(path, {}, format="json")
        assert answer.status_code == 404 and answer.json()["code"] == "resource_webhook_not_found"
    assert api_a.get(LIST).json()["data"] == []
    assert Endpoint.objects.count() == 1


def test_read_only_clients_list_but_do_not_change(api_a, api_readonly_a, program_a):
    create(api_a)
    assert api_readonly_a.get(LIST).status_code == 200
    response = create(api_readonly_a)
    assert response.status_code == 403 and response.json()["code"] == "restricted_resource"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": "ftp://example.com"}, "url", "resource_webhook_url_invalid"),
        ({"url": ""}, "url", "resource_webhook_url_invalid"),
        ({"events": []}, "events", "resource_webhook_events_invalid"),
        ({"events": ["user.nope"]}, "events", "resource_webhook_events_invalid"),
        ({"events": ["*", "user.created"]}, "events", "resource_webhook_events_invalid"),
        ({"colour": "red"}, "colour", "resource_user_unknown_field"),
        ({"url": "https://[::1/hooks"}, "url", "resource_webhook_url_invalid"),
        ({"description": "x" * 201}, "description", "validation_error"),
    ],
)
def test_bad_bodies_say_what_is_wrong_and_save_nothing(api_a, program_a, body, field, code):
    response = create(api_a, **body)
    assert response.status_code == 400, response.content
    assert response.json()["source"][0]["field"] == field and code in codes(response)
    assert not Endpoint.objects.exists()


def test_a_body_that_is_not_an_object_is_invalid_model(api_a, program_a):
    response = api_a.post(LIST, ["x"], format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_model"


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.5/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://localhost/hooks",
    ],
)
def test_the_ssrf_guard_refuses_internal_addresses(api_a, program_a, url):
    response = create(api_a, url=url)
    assert response.status_code == 400
    assert codes(response) == ["resource_webhook_url_not_allowed"]


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_plain_http_is_refused_outside_the_demo_switch(api_a, program_a):
    response = create(api_a, url="http://example.com/hooks")
    assert codes(response) == ["resource_webhook_url_invalid"]


def test_rotate_returns_a_new_secret_with_the_overlap(api_a, program_a):
    created = create(api_a).json()
    response = api_a.post(f"{LIST}/{created['id']}/rotate_secret")
    assert response.status_code == 200
    assert response.json()["secret"].startswith("whsec_")
    assert response.json()["secret"] != created["secret"]
    endpoint = Endpoint.objects.get()
    assert endpoint.previous_secret == created["secret"]


def test_create_honours_idempotency_keys(api_a, program_a):
    one = api_a.post(
        LIST,
        {"url": "https://example.com/a", "events": ["*"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    two = api_a.post(
        LIST,
        {"url": "https://example.com/a", "events": ["*"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert one.status_code == two.status_code == 201
    assert two["Idempotent-Replayed"] == "true" and one.json() == two.json()
    assert Endpoint.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_test_event_deliveries_and_redeliver(api_a, program_a, receiver):
    created = create(api_a, url=receiver.url).json()
    receiver.secrets.append(created["secret"])
    hook = f"{LIST}/{created['id']}"
    response = api_a.post(f"{hook}/test")
    assert response.status_code == 202 and response.json()["event_type"] == "webhook.test"
    drain()
    deliveries = api_a.get(f"{hook}/deliveries").json()["data"]
    assert (
        deliveries[0]["status"] == "succeeded"
        and deliveries[0]["attempt_log"][0]["status_code"] == 200
    )
    response = api_a.post(f"{hook}/deliveries/{deliveries[0]['id']}/redeliver")
    assert response.status_code == 202
    drain()
    assert [r.verified for r in receiver.received] == [True, True]
    assert receiver.received[0].id == receiver.received[1].id
    missing = api_a.post(f"{hook}/deliveries/{'0' * 32}/redeliver")
    assert missing.status_code == 404 and missing.json()["code"] == "resource_delivery_not_found"
    assert Delivery.objects.count() == 2


# --- v1


def v1(client: Any, rest: str = "webhooks") -> str:
    return f"/alpha/v1/oauth/consumer/{client.client_id}/{rest}"


def test_v1_categories_create_update_delete(api_a, client_a, program_a):
    categories = api_a.get(v1(client_a, "event/categories")).json()
    by_name = {c["name"]: c for c in categories}
    assert by_name["user.status_changed"]["category"] == "USER.INDIVIDUAL.INFORMATION_UPDATE.STATUS"
    status_hash = by_name["user.status_changed"]["hash"]
    response = api_a.post(
        v1(client_a),
        urlencode({"url": "https://example.com/v1", "event_hash": status_hash}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert [e["name"] for e in created["events"]] == ["user.status_changed"]
    listed = api_a.get(v1(client_a)).json()
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    created_hash = catalogue.BY_TYPE["user.created"].hash
    response = api_a.put(
        v1(client_a, f"webhooks/{created['id']}"), {"category_hash": created_hash}, format="json"
    )
    assert [e["name"] for e in response.json()["events"]] == ["user.created"]
    response = api_a.delete(v1(client_a, f"webhooks/{created['id']}"))
    assert response.status_code == 200 and not Endpoint.objects.exists()


def test_v1_errors_use_the_v1_envelope(api_a, client_a, client_b, program_a):
    response = api_a.post(
        v1(client_a), {"url": "https://example.com/v1", "event_hash": "nope"}, format="json"
    )
    assert (
        response.status_code == 400 and response.json()["code"] == "resource_webhook_events_invalid"
    )
    assert response.json()["errors"][0]["field"] == "event_hash"
    response = api_a.get(v1(client_b))  # another consumer's path
    assert response.status_code == 404
    response = api_a.put(
        v1(client_a, f"webhooks/{'0' * 32}"), {"url": "https://e.com"}, format="json"
    )
    assert response.status_code == 404 and response.json()["code"] == "resource_webhook_not_found"
