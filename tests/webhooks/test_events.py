"""Every write path publishes its §13 event in the write's transaction; refused or rolled-back
writes publish none; sequences increase per user; payloads carry no personal data."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connections, transaction
from django_tasks.backends.database.models import DBTaskResult

from core.exceptions import ApiError
from tests.conftest import requires_postgres
from tests.factories import AccountHolderFactory
from tests.risk.helpers import listed
from tests.users.conftest import v1_body
from users import kyc
from users.lifecycle import Actor, user_change_status
from users.models import AccountHolder, Channel, PendingUpdate, RiskStatus, UserEvent
from users.pending import pending_update_approve, pending_update_reject
from users.screening import risk_review
from webhooks import events as catalogue

pytestmark = pytest.mark.django_db


def published(user: AccountHolder) -> list[UserEvent]:
    return list(UserEvent.objects.filter(user=user, sequence__isnull=False).order_by("sequence"))


def topics(user: AccountHolder) -> list[str]:
    return [e.topic for e in published(user)]


def dispatch_rows() -> int:
    return DBTaskResult.objects.filter(task_path="webhooks.tasks.dispatch_users").count()


def v1_create(api: Any, **overrides: Any) -> AccountHolder:
    response = api.post("/alpha/v1/users", v1_body(**overrides), format="json")
    assert response.status_code == 200, response.content
    return AccountHolder.objects.get(public_id=response.json()["id"])


@pytest.fixture
def operator(db):  # type: ignore[no-untyped-def]
    return User.objects.create_user(username="compliance-1", password="x" * 12)


# --- the API


def test_v1_create_update_and_delete_publish_in_order(api_a, program_a):
    user = v1_create(api_a)
    assert topics(user) == ["user.created"]
    assert dispatch_rows() == 1  # the task row, written with the user
    response = api_a.put(
        "/alpha/v1/users",
        {"middle_name": "Byron"},
        format="json",
        HTTP_X_AUTH_USER_ID=user.public_id,
    )
    assert response.status_code == 200, response.content
    response = api_a.delete(f"/alpha/v1/users/{user.public_id}?state=suspended")
    assert response.status_code in (200, 204), response.content
    events = published(user)
    assert [e.topic for e in events] == ["user.created", "user.updated", "user.status_changed"]
    assert [e.sequence for e in events] == [1, 2, 3]
    assert dispatch_rows() == 3
    updated = json.loads(catalogue.payload(events[1], program="alpha", user_public_id="u"))
    assert updated["data"] == {"user_id": "u", "fields": ["middle_name"]}
    status = json.loads(catalogue.payload(events[2], program="alpha", user_public_id="u"))
    assert status["type"] == "user.status_changed" and status["sequence"] == 3
    assert (status["data"]["from"], status["data"]["to"]) == ("active", "suspended")
    assert status["id"] == f"evt_{events[2].public_id}" and status["program"] == "alpha"


def test_payloads_name_fields_never_values(api_a, program_a):
    user = v1_create(api_a, email="secret.person@example.com")
    api_a.put(
        "/alpha/v1/users",
        {"email": "other.person@example.com", "last_name": "Hidden"},
        format="json",
        HTTP_X_AUTH_USER_ID=user.public_id,
    )
    for event in published(user):
        body = catalogue.payload(event, program="alpha", user_public_id=user.public_id)
        assert "person@example.com" not in body and "Hidden" not in body and "Lovelace" not in body


def test_v2_create_and_update_publish(api_a, program_a):
    body = {
        "type": "customer",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": "v2@example.com",
        "mobile_country_code": "65",
        "mobile": "91234567",
    }
    response = api_a.post("/alpha/v2/users", body, format="json")
    assert response.status_code == 201, response.content
    user = AccountHolder.objects.get(public_id=response.json()["id"])
    response = api_a.put(f"/alpha/v2/users/{user.public_id}", {"title": "Dr"}, format="json")
    assert response.status_code == 200, response.content
    assert topics(user) == ["user.created", "user.updated"]


def test_a_refused_write_publishes_nothing(api_a, program_a):
    response = api_a.post("/alpha/v1/users", v1_body(email="not-an-email"), format="json")
    assert response.status_code == 400
    user = v1_create(api_a)
    response = api_a.put(
        "/alpha/v1/users", {"email": "broken"}, format="json", HTTP_X_AUTH_USER_ID=user.public_id
    )
    assert response.status_code == 400
    with pytest.raises(ApiError):  # active → active is not a transition
        user_change_status(
            user=user,
            to_status="active",
            actor=Actor.operator(None),
            channel=Channel.ADMIN,
            reason="x",
        )
    assert topics(user) == ["user.created"]
    assert dispatch_rows() == 1


def test_a_rolled_back_write_leaves_no_event_and_no_task(api_a, program_a):
    user = v1_create(api_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        user_change_status(
            user=user, to_status="locked", actor=Actor.cli("ops"), channel=Channel.CLI, reason="x"
        )
        assert topics(user) == ["user.created", "user.status_changed"]
        raise RuntimeError("the change fails after its event row was written")
    assert topics(user) == ["user.created"]
    assert dispatch_rows() == 1


# --- the back-office's workflows


def test_admin_status_change_kyc_and_contact_decisions_publish(program_a, api_a, operator):
    user = v1_create(api_a)
    user_change_status(
        user=user,
        to_status="locked",
        actor=Actor.operator(operator),
        channel=Channel.ADMIN,
        reason="fraud check",
    )
    kyc.kyc_approve(user=user, operator="compliance-1", reason="documents ok")
    kyc.contact_mark_verified(user=user, operator="compliance-1", reason="called", mobile=True)
    assert topics(user) == [
        "user.created",
        "user.status_changed",
        "user.kyc_status_changed",
        "user.updated",
    ]
    kyc_event = published(user)[2]
    data = catalogue.data_for(kyc_event, user.public_id)
    assert data["to"] == "completed" and data["sub_status"] == "approved"
    with pytest.raises(ValidationError):
        kyc.kyc_approve(user=user, operator="compliance-1", reason="again")  # refused
    assert len(published(user)) == 4


def test_pending_updates_publish_requested_then_approved_or_rejected(api_a, program_a, operator):
    user = v1_create(api_a)
    AccountHolder.objects.filter(pk=user.pk).update(is_email_verified=True, is_mobile_verified=True)
    api_a.put(
        "/alpha/v1/users",
        {"email": "new@example.com"},
        format="json",
        HTTP_X_AUTH_USER_ID=user.public_id,
    )
    pending_update_approve(
        pending=PendingUpdate.objects.get(user=user), operator=operator, reason="ok"
    )
    api_a.put(
        "/alpha/v1/users",
        {"mobile_country_code": "65", "mobile": "98887777"},
        format="json",
        HTTP_X_AUTH_USER_ID=user.public_id,
    )
    pending_update_reject(
        pending=PendingUpdate.objects.get(user=user, status="pending"),
        operator=operator,
        reason="no",
    )
    seen = topics(user)
    assert seen[0] == "user.created"
    assert seen.index("user.pending_update.requested") < seen.index("user.pending_update.approved")
    assert seen[-1] == "user.pending_update.rejected"
    assert seen.count("user.pending_update.requested") == 2
    assert [e.sequence for e in published(user)] == list(range(1, len(seen) + 1))


def test_risk_review_publishes_risk_status_changed_and_exemptions_stay_internal(
    program_a, operator
):
    user = AccountHolderFactory(program=program_a, risk_status=RiskStatus.PENDING)
    risk_review(user=user, outcome=RiskStatus.CLEARED, operator=operator, reason="false positive")
    assert topics(user) == ["user.risk_status_changed"]
    data = catalogue.data_for(published(user)[0], user.public_id)
    assert (data["from"], data["to"]) == ("PENDING", "CLEARED")


# --- commands


def test_change_user_status_command_publishes_and_its_refusal_does_not(api_a, program_a):
    user = v1_create(api_a)
    call_command("change_user_status", user.public_id, "locked", reason="ops", stdout=io.StringIO())
    with pytest.raises((CommandError, SystemExit)):
        call_command(
            "change_user_status", user.public_id, "locked", reason="again", stdout=io.StringIO()
        )
    assert topics(user) == ["user.created", "user.status_changed"]


def test_rescreen_users_publishes_risk_status_changes_only(program_a):
    flagged = AccountHolderFactory(
        program=program_a, email="bad@example.com", risk_status=RiskStatus.CLEARED
    )
    unchanged = AccountHolderFactory(program=program_a, risk_status=RiskStatus.CLEARED)
    listed("email", "bad@example.com")
    call_command("rescreen_users", "--no-progress", stdout=io.StringIO())
    assert topics(flagged) == ["user.risk_status_changed"]
    assert topics(unchanged) == []


# --- races


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_to_one_user_get_distinct_increasing_sequences(program_a):
    user = AccountHolderFactory(program=program_a)
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def write(i: int) -> None:
        try:
            barrier.wait(10)
            for n in range(4):
                user_change_status(
                    user=AccountHolder.objects.get(pk=user.pk),
                    to_status="locked" if (i + n) % 2 == 0 else "active",
                    actor=Actor.operator(None),
                    channel=Channel.ADMIN,
                    reason=f"{i}-{n}",
                )
        except ApiError:
            pass  # a transition the current status does not allow: refused, no event
        except BaseException as exc:  # pragma: no cover - the failure the test looks for
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    sequences = [e.sequence for e in published(user)]
    assert sequences == list(range(1, len(sequences) + 1))
    assert len(sequences) >= 2


def test_an_update_the_risk_engine_flags_publishes_risk_status_changed(api_a, program_a):
    user = v1_create(api_a)
    assert user.risk_status == RiskStatus.CLEARED
    listed("last_name", "Mohammed", match="fuzzy", action="score", weight=10)
    response = api_a.put(
        "/alpha/v1/users",
        {"last_name": "Muhammad"},
        format="json",
        HTTP_X_AUTH_USER_ID=user.public_id,
    )
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.risk_status == RiskStatus.PENDING
    assert topics(user) == ["user.created", "user.updated", "user.risk_status_changed"]
    data = catalogue.data_for(published(user)[-1], user.public_id)
    assert (data["from"], data["to"]) == ("CLEARED", "PENDING")
