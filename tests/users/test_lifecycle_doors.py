"""One door per rule (SPEC §4): the API, the admin and `change_user_status` refuse alike.

Each door is tried the way a new user would: create through the API with a name on the
blacklist as a `score` entry (risk-flagged `PENDING`), suspend through the API, then re-activate
through the door. Then a Hypothesis state machine drives random sequences of transitions through
all three doors, with risk flags and exemptions coming and going, and checks after every step
that the doors agree, nothing leaves a terminal status and every change left one history row.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from backoffice.groups import COMPLIANCE, setup_groups
from core import error_codes
from risk.models import RiskExemption
from tests.admin.conftest import logged_in, make_operator
from tests.risk.helpers import listed
from tests.users.conftest import v1_body
from users.exemptions import exemption_grant, exemption_revoke
from users.models import (
    TERMINAL_STATUSES,
    AccountHolder,
    EventType,
    RiskStatus,
    Status,
    StatusChange,
    UserEvent,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:users_accountholder_changelist")
FLAGGED = error_codes.UNSUSPEND_FLAGGED_USER_NOT_ALLOWED


# --- the doors ---------------------------------------------------------------------------------
# Each returns the door's answer as ("ok", status after) or ("refused", code).


def api_reactivate(api: APIClient, user: AccountHolder) -> tuple[str, str]:
    response = api.post("/alpha/v1/users", {"id": user.public_id}, format="json")
    if response.status_code == 200:
        return "ok", AccountHolder.objects.get(pk=user.pk).status
    assert response.status_code == 400, response.content
    return "refused", response.json()["code"]


def api_deactivate(api: APIClient, user: AccountHolder, state: str) -> tuple[str, str]:
    response = api.delete(f"/alpha/v1/users/{user.public_id}", {"state": state}, format="json")
    if response.status_code == 200:
        return "ok", AccountHolder.objects.get(pk=user.pk).status
    assert response.status_code == 400, response.content
    return "refused", response.json()["code"]


ADMIN_ACTIONS: dict[str, str] = {
    Status.ACTIVE: "reactivate_users",
    Status.SUSPENDED: "suspend_users",
    Status.BLOCKED: "block_users",
    Status.LOCKED: "lock_users",
}


def admin_action(web: Client, user: AccountHolder, to_status: str) -> tuple[str, str]:
    response = web.post(
        CHANGELIST,
        {
            "action": ADMIN_ACTIONS[to_status],
            ACTION_CHECKBOX_NAME: [user.pk],
            "confirm": "yes",
            "reason": "door test",
        },
    )
    assert response.status_code == 302, response.content
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    if " refused: " in message:
        # the admin shows the service's description with the contract's code in brackets
        return "refused", message.rsplit("(", 1)[1].rstrip(")")
    return "ok", AccountHolder.objects.get(pk=user.pk).status


def command(user: AccountHolder, to_status: str) -> tuple[str, str]:
    try:
        call_command(
            "change_user_status", user.public_id, to_status, reason="door test", stdout=StringIO()
        )
    except CommandError as exc:
        return "refused", str(exc).split(":", 1)[0]
    return "ok", AccountHolder.objects.get(pk=user.pk).status


# --- a flagged, suspended user, tried at each door ------------------------------------------------


@pytest.fixture
def compliance_web(db: None) -> Client:
    setup_groups()
    return logged_in(make_operator("cleo.compliance", COMPLIANCE))


@pytest.fixture
def flagged_suspended(api_a: APIClient) -> AccountHolder:
    listed("last_name", "Lovelace", match="normalized", action="score", weight=50)
    created = api_a.post("/alpha/v1/users", v1_body(last_name="Lovelace"), format="json")
    assert created.status_code == 200, created.json()
    user = AccountHolder.objects.get(public_id=created.json()["id"])
    assert user.risk_status == RiskStatus.PENDING  # flagged by the score entry, not refused
    assert api_deactivate(api_a, user, "suspended") == ("ok", Status.SUSPENDED)
    return user


def _history(user: AccountHolder) -> int:
    return StatusChange.objects.filter(user=user).count()


def _exempt(user: AccountHolder) -> None:
    exemption_grant(
        user=user, reason="reviewed", expires_at=timezone.now() + timedelta(days=1), granted_by=None
    )


def test_api_refuses_the_flagged_user(api_a, flagged_suspended) -> None:
    before = _history(flagged_suspended)
    assert api_reactivate(api_a, flagged_suspended) == ("refused", FLAGGED)
    assert _history(flagged_suspended) == before
    _exempt(flagged_suspended)
    assert api_reactivate(api_a, flagged_suspended) == ("ok", Status.ACTIVE)


def test_admin_action_refuses_the_flagged_user(compliance_web, flagged_suspended) -> None:
    before = _history(flagged_suspended)
    assert admin_action(compliance_web, flagged_suspended, Status.ACTIVE) == ("refused", FLAGGED)
    assert _history(flagged_suspended) == before
    _exempt(flagged_suspended)
    assert admin_action(compliance_web, flagged_suspended, Status.ACTIVE) == ("ok", Status.ACTIVE)


def test_admin_status_form_refuses_the_flagged_user(compliance_web, flagged_suspended) -> None:
    url = reverse("admin:users_accountholder_status", args=[flagged_suspended.pk])
    response = compliance_web.post(url, {"to_status": "active", "sub_status": "", "reason": "r"})
    assert response.status_code == 200
    assert FLAGGED in " ".join(response.context["form"].non_field_errors())
    assert AccountHolder.objects.get(pk=flagged_suspended.pk).status == Status.SUSPENDED


def test_command_refuses_the_flagged_user(flagged_suspended) -> None:
    before = _history(flagged_suspended)
    with pytest.raises(CommandError, match=FLAGGED):
        call_command("change_user_status", flagged_suspended.public_id, "active", reason="r")
    assert AccountHolder.objects.get(pk=flagged_suspended.pk).status == Status.SUSPENDED
    assert _history(flagged_suspended) == before
    _exempt(flagged_suspended)
    assert command(flagged_suspended, Status.ACTIVE) == ("ok", Status.ACTIVE)


def test_command_exits_non_zero_with_the_code(flagged_suspended) -> None:
    # manage.py turns a CommandError into its exit status, the message on stderr
    with pytest.raises(CommandError) as refused:
        call_command("change_user_status", flagged_suspended.public_id, "active", reason="r")
    assert refused.value.returncode == 1
    assert str(refused.value).startswith(f"{FLAGGED}: ")


def test_command_reactivating_an_active_user_changes_nothing(api_a) -> None:
    created = api_a.post("/alpha/v1/users", v1_body(), format="json").json()
    user = AccountHolder.objects.get(public_id=created["id"])
    before = _history(user)
    out = StringIO()
    call_command("change_user_status", user.public_id, "active", reason="r", stdout=out)
    assert "already active" in out.getvalue()
    assert _history(user) == before


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_terminal_users_are_refused_alike(api_a, compliance_web, status) -> None:
    created = api_a.post("/alpha/v1/users", v1_body(), format="json").json()
    user = AccountHolder.objects.get(public_id=created["id"])
    AccountHolder.objects.filter(pk=user.pk).update(status=status)
    expected = ("refused", error_codes.USER_REACTIVATION_NOT_ALLOWED)
    assert api_reactivate(api_a, user) == expected
    assert admin_action(compliance_web, user, Status.ACTIVE) == expected
    assert command(user, Status.ACTIVE) == expected


# --- random sequences through all three doors ----------------------------------------------------


def _normalized(before: str, target: str, answer: tuple[str, str]) -> tuple[str, str]:
    """A request for the status the user already has changes nothing at every door, though the
    words differ by the contract (the API's `user_record_already_suspended`, the admin's
    "unchanged"): compare that case as one outcome."""
    if before == target:
        return ("already", target)
    return answer


class DoorsMachine(RuleBasedStateMachine):
    api: APIClient
    web: Client

    def __init__(self) -> None:
        super().__init__()
        self._new_user()

    def _new_user(self) -> None:
        response = self.api.post("/alpha/v1/users", v1_body(), format="json")
        assert response.status_code == 200, response.json()
        self.user = AccountHolder.objects.get(public_id=response.json()["id"])
        self.last_status = self.user.status
        self.history = _history(self.user)
        self.events = self._status_events()

    def _status_events(self) -> int:
        return UserEvent.objects.filter(user=self.user, type=EventType.STATUS_CHANGED).count()

    def _doors(self, target: str) -> dict[str, Any]:
        doors: dict[str, Any] = {
            "admin": lambda: admin_action(self.web, self.user, target),
            "command": lambda: command(self.user, target),
        }
        if target == Status.ACTIVE:
            doors["api"] = lambda: api_reactivate(self.api, self.user)
        elif target in (Status.SUSPENDED, Status.BLOCKED):
            doors["api"] = lambda: api_deactivate(self.api, self.user, target)
        return doors

    # blocking ends a user's interest (nothing leaves it), so it is drawn less often
    @rule(
        to=st.sampled_from(
            [Status.ACTIVE, Status.ACTIVE, Status.SUSPENDED, Status.LOCKED, Status.BLOCKED]
        ),
        door=st.sampled_from(["api", "admin", "command"]),
    )
    def transition(self, to: str, door: str) -> None:
        """Ask every door on the same state (each in a rolled-back savepoint), then one for real."""
        before = AccountHolder.objects.get(pk=self.user.pk).status
        doors = self._doors(to)
        answers = {}
        for name, attempt in doors.items():
            savepoint = transaction.savepoint()
            try:
                answers[name] = _normalized(before, to, attempt())
            finally:
                transaction.savepoint_rollback(savepoint)
        assert len(set(answers.values())) == 1, (before, to, answers)
        chosen = doors.get(door, doors["command"])  # the API has no door for locking
        assert _normalized(before, to, chosen()) == answers["command"]

    @rule(risk=st.sampled_from([RiskStatus.PENDING, RiskStatus.REJECTED, RiskStatus.CLEARED]))
    def risk_flag(self, risk: str) -> None:
        AccountHolder.objects.filter(pk=self.user.pk).update(risk_status=risk)

    @rule(change=st.sampled_from(["grant", "revoke", "expire"]))
    def exemption(self, change: str) -> None:
        open_ones = RiskExemption.objects.filter(user=self.user, ended_at__isnull=True)
        if change == "grant":
            if AccountHolder.objects.get(pk=self.user.pk).status not in TERMINAL_STATUSES:
                _exempt(self.user)
        elif change == "revoke":
            for exemption in open_ones:
                exemption_revoke(exemption=exemption, by=None, reason="revoked")
        else:
            open_ones.update(
                granted_at=timezone.now() - timedelta(days=2),
                expires_at=timezone.now() - timedelta(seconds=1),
            )

    @precondition(lambda self: self.last_status in TERMINAL_STATUSES)
    @rule()
    def next_user(self) -> None:
        self._new_user()

    @invariant()
    def terminal_is_final_and_each_change_left_one_row(self) -> None:
        status = AccountHolder.objects.get(pk=self.user.pk).status
        if self.last_status in TERMINAL_STATUSES:
            assert status == self.last_status
        history, events = _history(self.user), self._status_events()
        changed = int(status != self.last_status)
        assert (history - self.history, events - self.events) == (changed, changed)
        self.last_status, self.history, self.events = status, history, events


def test_the_three_doors_agree_on_random_sequences(api_a, compliance_web) -> None:
    DoorsMachine.api = api_a
    DoorsMachine.web = compliance_web
    run_state_machine_as_test(
        DoorsMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
