"""SPEC §4: the transition table, iterated; status history; the change_user_status command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core import error_codes
from core.exceptions import ApiError
from tests.users.conftest import NRICS
from users.lifecycle import (
    TRANSITIONS,
    Actor,
    allowed_targets,
    is_allowed,
    user_change_status,
)
from users.models import (
    TERMINAL_STATUSES,
    AccountHolder,
    ActorKind,
    Channel,
    EventType,
    Status,
    StatusChange,
)

pytestmark = pytest.mark.django_db

ACTORS = {
    ActorKind.API_CLIENT: Actor(ActorKind.API_CLIENT, "client-1"),
    ActorKind.OPERATOR: Actor(ActorKind.OPERATOR, "alice"),
    ActorKind.SYSTEM: Actor(ActorKind.SYSTEM, "risk-engine"),
    ActorKind.CLI: Actor(ActorKind.CLI, "root"),
}
ALL = [(f, t, k) for f in Status.values for t in Status.values for k in ActorKind.values]


def _expected(from_status: str, to_status: str, kind: str) -> bool:
    return any(
        from_status in t.sources and to_status == t.target and kind in t.actors for t in TRANSITIONS
    )


def test_table_matches_the_spec_rows():
    op, api, system = ActorKind.OPERATOR, ActorKind.API_CLIENT, ActorKind.SYSTEM
    assert is_allowed("locked", "active", api) and is_allowed("suspended", "active", op)
    assert is_allowed("active", "suspended", api) and is_allowed("locked", "suspended", api)
    assert not is_allowed("pending", "suspended", api)
    assert is_allowed("active", "locked", system) and not is_allowed("active", "locked", api)
    assert is_allowed("pending", "blocked", api) and is_allowed("locked", "blacklisted", system)
    assert not is_allowed("active", "blacklisted", api)
    assert is_allowed("active", "terminated", op) and not is_allowed("active", "terminated", api)
    assert is_allowed("pending_verification", "verification_completed", op)
    assert not is_allowed("verification_completed", "pending_verification", op)
    for terminal in TERMINAL_STATUSES:
        for kind in ActorKind.values:
            assert allowed_targets(terminal, kind) == []
    assert allowed_targets("active", ActorKind.CLI) == allowed_targets("active", op)


def test_allowed_targets_lists_exactly_the_legal_moves():
    for status in Status.values:
        for kind in ActorKind.values:
            expected = [t for t in Status.values if _expected(status, t, kind)]
            assert sorted(allowed_targets(status, kind)) == sorted(expected)


@pytest.mark.parametrize(("from_status", "to_status", "kind"), ALL)
def test_every_transition_is_allowed_or_refused_by_the_table(
    make_user, from_status, to_status, kind
):
    user = make_user(identification=None)
    AccountHolder.objects.filter(pk=user.pk).update(status=from_status)
    user.status = from_status
    before = StatusChange.objects.filter(user=user).count()
    if _expected(from_status, to_status, kind):
        user_change_status(
            user=user, to_status=to_status, actor=ACTORS[kind], channel=Channel.ADMIN, reason="r"
        )
        user.refresh_from_db()
        assert user.status == to_status
        change = StatusChange.objects.filter(user=user).order_by("-id").first()
        assert (change.from_status, change.to_status, change.actor_kind) == (
            from_status,
            to_status,
            kind,
        )
        assert change.reason == "r" and change.actor_id == ACTORS[kind].id
    else:
        with pytest.raises(ApiError) as info:
            user_change_status(
                user=user,
                to_status=to_status,
                actor=ACTORS[kind],
                channel=Channel.ADMIN,
                reason="r",
            )
        assert info.value.code == error_codes.USER_STATUS_TRANSITION_NOT_ALLOWED
        user.refresh_from_db()
        assert user.status == from_status
        assert StatusChange.objects.filter(user=user).count() == before


def test_status_change_records_history_event_and_bumps_version(make_user):
    user = make_user()
    version = user.row_version
    user_change_status(
        user=user,
        to_status=Status.LOCKED,
        actor=ACTORS[ActorKind.OPERATOR],
        channel=Channel.ADMIN,
        reason="fraud check",
    )
    user.refresh_from_db()
    assert (user.status, user.sub_status, user.row_version) == (
        "locked",
        "account_locked",
        version + 1,
    )
    event = user.events.filter(type=EventType.STATUS_CHANGED).get()
    assert event.changes["status"] == ["active", "locked"]
    assert event.reason == "fraud check" and event.actor_id == "alice"


def test_terminal_status_frees_email_mobile_and_id_number(make_user):
    user = make_user(
        identification={
            "primary": {"id_type": "nric", "number": NRICS[0], "issue_date": None,
                        "expiry_date": None, "country_of_issue": None},
        },
    )  # fmt: skip
    assert user.identifications.get().holder_live is True
    user_change_status(
        user=user, to_status=Status.BLOCKED, actor=ACTORS[ActorKind.API_CLIENT],
        channel=Channel.API_V1, reason="closed",
    )  # fmt: skip
    assert user.identifications.get().holder_live is False
    again = make_user(
        email=user.email,
        mobile=user.mobile,
        identification={
            "primary": {"id_type": "nric", "number": NRICS[0].lower(), "issue_date": None,
                        "expiry_date": None, "country_of_issue": None},
        },
    )  # fmt: skip
    assert again.pk != user.pk


def test_explicit_sub_status(make_user):
    user = make_user()
    user_change_status(
        user=user, to_status=Status.SUSPENDED, actor=ACTORS[ActorKind.OPERATOR],
        channel=Channel.ADMIN, reason="docs", sub_status="waiting_for_approval_by_issuer",
    )  # fmt: skip
    assert user.sub_status == "waiting_for_approval_by_issuer"
    with pytest.raises(ValueError, match="sub-status"):
        user_change_status(
            user=user, to_status=Status.ACTIVE, actor=ACTORS[ActorKind.OPERATOR],
            channel=Channel.ADMIN, reason="x", sub_status="nonsense",
        )  # fmt: skip


def test_actor_kind_is_checked():
    with pytest.raises(ValueError, match="actor kind"):
        Actor("robot", "x")


# --- change_user_status -----------------------------------------------------------------------


def test_command_changes_status_as_cli(make_user):
    user = make_user()
    out = StringIO()
    call_command(
        "change_user_status", user.public_id, "LOCKED", reason="support ticket 42", stdout=out
    )
    user.refresh_from_db()
    assert user.status == "locked"
    assert "active → locked" in out.getvalue()
    change = StatusChange.objects.filter(user=user).order_by("-id").first()
    assert (change.actor_kind, change.channel, change.reason) == ("cli", "cli", "support ticket 42")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (["nothex", "locked"], {"reason": "r"}, "not a user id"),
        (["0" * 32, "locked"], {"reason": "r"}, "No user"),
        (["{id}", "sleeping"], {"reason": "r"}, "Unknown status"),
        (["{id}", "locked"], {"reason": "  "}, "must not be empty"),
        (["{id}", "locked"], {"reason": "r", "sub_status": "zzz"}, "Unknown sub-status"),
        (["{id}", "pending"], {"reason": "r"}, "Allowed from active"),
    ],
)
def test_command_errors_are_clear(make_user, args, kwargs, message):
    user = make_user()
    args = [a.format(id=user.public_id) for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("change_user_status", *args, **kwargs)
    user.refresh_from_db()
    assert user.status == "active"
