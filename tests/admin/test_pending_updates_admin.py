"""The pending-update review queue: approve / reject with a reason, compliance only."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from risk.services import risk_settings_ensure
from tests.factories import AccountHolderFactory
from users.models import AccountHolder, PendingUpdate, UserEvent

URL = reverse("admin:users_pendingupdate_changelist")


@pytest.fixture
def pending(holder):  # type: ignore[no-untyped-def]
    risk_settings_ensure(program=holder.program)
    AccountHolder.objects.filter(pk=holder.pk).update(is_email_verified=True)
    return PendingUpdate.objects.create(
        user=holder, field="email", value="grace@navy.example", requested_at=timezone.now()
    )


def decide(client, action, pendings, reason="customer confirmed by phone"):  # type: ignore[no-untyped-def]
    data = {"action": action, ACTION_CHECKBOX_NAME: [p.pk for p in pendings]}
    if reason is not None:
        data.update(confirm="yes", reason=reason)
    return client.post(URL, data)


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_queue_lists_masked_values(compliance, pending) -> None:
    html = compliance.get(URL).content.decode()

    assert pending.public_id in html and pending.user.public_id in html
    assert "g***@navy.example" in html
    assert "grace@navy.example" not in html


def test_approve_applies_the_value(compliance, compliance_user, pending) -> None:
    response = decide(compliance, "approve_pending_updates", [pending])

    assert messages_of(response) == ["1 approved"]
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("approved", compliance_user)
    assert pending.decision_reason == "customer confirmed by phone"
    user = AccountHolder.objects.get(pk=pending.user_id)
    assert user.email == "grace@navy.example" and user.is_email_verified


def test_reject_keeps_the_old_value(compliance, pending) -> None:
    decide(compliance, "reject_pending_updates", [pending])

    pending.refresh_from_db()
    assert pending.status == "rejected"
    assert AccountHolder.objects.get(pk=pending.user_id).email == "Grace.Hopper@Example.com"


def test_confirmation_page_first(compliance, pending) -> None:
    response = decide(compliance, "approve_pending_updates", [pending], reason=None)

    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    assert PendingUpdate.objects.get(pk=pending.pk).status == "pending"


def test_decided_updates_are_reported_unchanged(compliance, pending) -> None:
    decide(compliance, "reject_pending_updates", [pending])

    response = decide(compliance, "approve_pending_updates", [pending])

    # the first decision's message was never displayed, so both are pending
    assert messages_of(response)[-1] == (
        f"0 approved; 1 unchanged: {pending.public_id}: already rejected"
    )


def test_approval_refused_when_the_value_was_taken_meanwhile(compliance, pending) -> None:
    AccountHolderFactory(program=pending.user.program, email="GRACE@navy.example")

    response = decide(compliance, "approve_pending_updates", [pending])

    (message,) = messages_of(response)
    assert message.startswith(f"0 approved; 1 refused: {pending.public_id}: ")
    assert PendingUpdate.objects.get(pk=pending.pk).status == "pending"
    assert AccountHolder.objects.get(pk=pending.user_id).email == "Grace.Hopper@Example.com"


@pytest.mark.parametrize("persona", ["support", "nobody"])
def test_only_reviewers_may_decide(request, persona, pending) -> None:
    client = request.getfixturevalue(persona)

    decide(client, "approve_pending_updates", [pending])

    assert PendingUpdate.objects.get(pk=pending.pk).status == "pending"
    assert not UserEvent.objects.exists()


def test_support_sees_the_queue_without_actions(support, pending) -> None:
    response = support.get(URL)

    assert response.status_code == 200
    action_form = response.context.get("action_form")
    choices = action_form.fields["action"].choices if action_form else []
    assert [name for name, _ in choices if name] == []
