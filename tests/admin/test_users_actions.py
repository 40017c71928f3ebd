"""Bulk status actions: a reason first, the lifecycle service, per-user results, per-group."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import AccountHolderFactory
from users import admin as users_admin
from users.models import AccountHolder, RiskStatus, Status, StatusChange

URL = reverse("admin:users_accountholder_changelist")

ALL_ACTIONS = {"lock_users", "suspend_users", "block_users", "reactivate_users"}
OFFERED = {
    "support": {"lock_users", "reactivate_users"},
    "compliance": ALL_ACTIONS,
    "admin_op": ALL_ACTIONS,
    "nobody": set(),
}


def offered_actions(client) -> set[str]:  # type: ignore[no-untyped-def]
    response = client.get(URL)
    if response.status_code != 200:
        return set()
    return {name for name, _ in response.context["action_form"].fields["action"].choices if name}


def run_action(client, action: str, users, reason: str | None = "ticket 42"):  # type: ignore[no-untyped-def]
    data = {"action": action, ACTION_CHECKBOX_NAME: [u.pk for u in users]}
    if reason is not None:
        data.update(confirm="yes", reason=reason)
    return client.post(URL, data)


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def statuses(*users) -> list[str]:  # type: ignore[no-untyped-def]
    return [AccountHolder.objects.get(pk=u.pk).status for u in users]


@pytest.mark.parametrize("persona", sorted(OFFERED))
def test_each_group_is_offered_exactly_its_actions(request, persona, holder) -> None:
    client = request.getfixturevalue(persona)

    assert offered_actions(client) == OFFERED[persona]


def test_first_post_shows_the_reason_form_and_changes_nothing(compliance, holder) -> None:
    response = run_action(compliance, "suspend_users", [holder], reason=None)

    assert response.status_code == 200
    assert "admin/backoffice/bulk_action_confirmation.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert holder.public_id in html and 'name="reason"' in html
    assert 'name="confirm" value="yes"' in html
    assert statuses(holder) == [Status.ACTIVE]


def test_an_empty_reason_is_refused(compliance, holder) -> None:
    response = run_action(compliance, "suspend_users", [holder], reason="   ")

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert statuses(holder) == [Status.ACTIVE]
    assert not StatusChange.objects.exists()


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [
        ("lock_users", Status.ACTIVE, Status.LOCKED),
        ("suspend_users", Status.ACTIVE, Status.SUSPENDED),
        ("suspend_users", Status.LOCKED, Status.SUSPENDED),
        ("block_users", Status.PENDING_VERIFICATION, Status.BLOCKED),
        ("reactivate_users", Status.LOCKED, Status.ACTIVE),
        ("reactivate_users", Status.SUSPENDED, Status.ACTIVE),
    ],
)
def test_compliance_actions_go_through_the_lifecycle(
    compliance, compliance_user, program_a, action, start, end
) -> None:
    user = AccountHolderFactory(program=program_a, status=start)

    response = run_action(compliance, action, [user], reason="fraud report 7")

    assert response.status_code == 302
    assert statuses(user) == [end]
    change = StatusChange.objects.get(user=user)
    assert (change.from_status, change.to_status) == (start, end)
    assert (change.actor_kind, change.actor_id) == ("operator", compliance_user.username)
    assert (change.channel, change.reason) == ("admin", "fraud report 7")


def test_bulk_results_are_reported_per_user(compliance, program_a) -> None:
    good = AccountHolderFactory.create_batch(3, program=program_a)
    already = AccountHolderFactory(program=program_a, status=Status.LOCKED)
    closed = AccountHolderFactory(program=program_a, status=Status.BLOCKED)

    response = run_action(compliance, "lock_users", [*good, already, closed])

    (message,) = messages_of(response)
    assert message.startswith("3 locked; 1 unchanged: ")
    assert f"{already.public_id}: already locked" in message
    assert f"1 refused: {closed.public_id}: " in message
    assert "cannot change from `blocked` to `locked`" in message
    assert statuses(*good, already, closed) == [Status.LOCKED] * 4 + [Status.BLOCKED]


@pytest.mark.parametrize("action", ["suspend_users", "block_users"])
def test_support_cannot_run_compliance_actions_even_by_posting(support, holder, action) -> None:
    response = run_action(support, action, [holder])

    assert statuses(holder) == [Status.ACTIVE]
    assert not StatusChange.objects.exists()
    assert response.status_code in (200, 302)
    assert any("No action selected" in m for m in messages_of(response))


def test_staff_without_group_cannot_even_see_users(nobody, holder) -> None:
    assert nobody.get(URL).status_code == 403
    assert run_action(nobody, "lock_users", [holder]).status_code == 403
    assert statuses(holder) == [Status.ACTIVE]


def test_support_locks_and_unlocks(support, support_user, program_a) -> None:
    user = AccountHolderFactory(program=program_a)

    run_action(support, "lock_users", [user])
    assert statuses(user) == [Status.LOCKED]
    run_action(support, "reactivate_users", [user])

    assert statuses(user) == [Status.ACTIVE]
    assert list(StatusChange.objects.filter(user=user).values_list("actor_id", "to_status")) == [
        (support_user.username, Status.ACTIVE),
        (support_user.username, Status.LOCKED),
    ]


def test_support_may_not_reactivate_a_suspended_user(support, program_a) -> None:
    user = AccountHolderFactory(program=program_a, status=Status.SUSPENDED)

    response = run_action(support, "reactivate_users", [user])

    (message,) = messages_of(response)
    assert message.startswith("0 re-activated; 1 refused: ")
    assert "Your role may not move a user from suspended to active" in message
    assert statuses(user) == [Status.SUSPENDED]


def test_reactivating_a_flagged_user_is_refused_with_the_service_message(
    compliance, program_a
) -> None:
    flagged = AccountHolderFactory(
        program=program_a, status=Status.SUSPENDED, risk_status=RiskStatus.PENDING
    )

    response = run_action(compliance, "reactivate_users", [flagged])

    (message,) = messages_of(response)
    assert message.startswith(f"0 re-activated; 1 refused: {flagged.public_id}: ")
    assert statuses(flagged) == [Status.SUSPENDED]
    assert not StatusChange.objects.filter(user=flagged).exists()


def test_too_large_a_selection_is_refused(compliance, program_a, monkeypatch) -> None:
    monkeypatch.setattr(users_admin, "MAX_BULK", 2)
    users = AccountHolderFactory.create_batch(3, program=program_a)

    response = run_action(compliance, "lock_users", users)

    assert any("at most 2 users" in m for m in messages_of(response))
    assert statuses(*users) == [Status.ACTIVE] * 3


# every (group, action) pair: the action changes the user exactly when the group may run it
ACTION_START = {
    "lock_users": (Status.ACTIVE, Status.LOCKED),
    "suspend_users": (Status.ACTIVE, Status.SUSPENDED),
    "block_users": (Status.ACTIVE, Status.BLOCKED),
    "reactivate_users": (Status.LOCKED, Status.ACTIVE),
}


@pytest.mark.parametrize("action", sorted(ACTION_START))
@pytest.mark.parametrize("persona", sorted(OFFERED))
def test_permission_matrix(request, program_a, persona, action) -> None:
    client = request.getfixturevalue(persona)
    start, end = ACTION_START[action]
    user = AccountHolderFactory(program=program_a, status=start)

    run_action(client, action, [user])

    allowed = action in OFFERED[persona]
    assert statuses(user) == [end if allowed else start]
    assert StatusChange.objects.filter(user=user).exists() == allowed
