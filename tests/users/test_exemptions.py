"""Risk exemptions (grant, expiry, revoke, end on data change) and risk reviews."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from risk.models import ExemptionEnd, RiskExemption
from tests.conftest import requires_postgres
from tests.factories import AccountHolderFactory, ProgramFactory
from users.exemptions import (
    end_exemptions,
    exemption_grant,
    exemption_revoke,
    has_active_exemption,
)
from users.models import AccountHolder, EventType, RiskStatus, UserEvent
from users.screening import risk_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db: None):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user("compliance1", password="x")


@pytest.fixture
def flagged(seeded: None):  # type: ignore[no-untyped-def]
    return AccountHolderFactory(program=ProgramFactory(), risk_status=RiskStatus.PENDING)


def test_grant_holds_until_expiry(flagged, operator) -> None:  # type: ignore[no-untyped-def]
    assert not has_active_exemption(flagged)
    exemption = exemption_grant(
        user=flagged,
        reason="documents verified",
        expires_at=timezone.now() + timedelta(days=7),
        granted_by=operator,
    )
    assert has_active_exemption(flagged)
    assert exemption.granted_by == operator
    event = UserEvent.objects.get(user=flagged, type=EventType.REVIEWED)
    assert event.actor_id == "compliance1"
    # expiry: the same exemption no longer holds once its time has passed
    RiskExemption.objects.filter(pk=exemption.pk).update(
        granted_at=timezone.now() - timedelta(days=2),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert not has_active_exemption(flagged)


@pytest.mark.parametrize(
    ("reason", "delta"),
    [("", timedelta(days=1)), ("   ", timedelta(days=1)), ("ok", timedelta(seconds=-1))],
)
def test_grant_needs_a_reason_and_a_future_expiry(flagged, operator, reason, delta) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        exemption_grant(
            user=flagged, reason=reason, expires_at=timezone.now() + delta, granted_by=operator
        )
    assert not RiskExemption.objects.exists()
    assert not UserEvent.objects.exists()


def test_a_new_grant_supersedes_the_open_one(flagged, operator) -> None:  # type: ignore[no-untyped-def]
    first = exemption_grant(
        user=flagged, reason="a", expires_at=timezone.now() + timedelta(days=1), granted_by=operator
    )
    second = exemption_grant(
        user=flagged, reason="b", expires_at=timezone.now() + timedelta(days=9), granted_by=operator
    )
    first.refresh_from_db()
    assert first.end_cause == ExemptionEnd.SUPERSEDED and first.ended_at is not None
    assert second.ended_at is None
    assert RiskExemption.objects.filter(user=flagged, ended_at__isnull=True).count() == 1


def test_database_allows_one_open_exemption_per_user(flagged, operator) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    RiskExemption.objects.create(
        user=flagged, reason="a", granted_at=now, expires_at=now + timedelta(days=1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskExemption.objects.create(
            user=flagged, reason="b", granted_at=now, expires_at=now + timedelta(days=1)
        )


def test_database_refuses_expiry_before_grant(flagged) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskExemption.objects.create(user=flagged, reason="a", granted_at=now, expires_at=now)


def test_revoke_ends_it_once(flagged, operator) -> None:  # type: ignore[no-untyped-def]
    exemption = exemption_grant(
        user=flagged, reason="a", expires_at=timezone.now() + timedelta(days=1), granted_by=operator
    )
    exemption_revoke(exemption=exemption, by=operator, reason="new evidence")
    assert not has_active_exemption(flagged)
    assert exemption.end_cause == ExemptionEnd.REVOKED
    assert exemption.ended_reason == "new evidence"
    with pytest.raises(ValidationError):
        exemption_revoke(exemption=exemption, by=operator, reason="again")


def test_end_exemptions_on_data_change(flagged, operator) -> None:  # type: ignore[no-untyped-def]
    exemption_grant(
        user=flagged, reason="a", expires_at=timezone.now() + timedelta(days=1), granted_by=operator
    )
    assert end_exemptions(user=flagged, reason="last_name changed") == 1
    assert not has_active_exemption(flagged)
    ended = RiskExemption.objects.get(user=flagged)
    assert (ended.end_cause, ended.ended_reason) == (ExemptionEnd.DATA_CHANGED, "last_name changed")
    assert end_exemptions(user=flagged, reason="again") == 0


def test_exemptions_are_per_user(seeded, operator) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory()
    one, other = AccountHolderFactory(program=program), AccountHolderFactory(program=program)
    exemption_grant(
        user=one, reason="a", expires_at=timezone.now() + timedelta(days=1), granted_by=operator
    )
    assert has_active_exemption(one) and not has_active_exemption(other)
    assert end_exemptions(user=other, reason="x") == 0
    assert has_active_exemption(one)


# --- reviews --------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [RiskStatus.CLEARED, RiskStatus.REJECTED])
def test_review_moves_pending_to_the_outcome(flagged, operator, outcome) -> None:  # type: ignore[no-untyped-def]
    version = flagged.row_version
    risk_review(user=flagged, outcome=outcome, operator=operator, reason="checked the documents")
    stored = AccountHolder.objects.get(pk=flagged.pk)
    assert stored.risk_status == outcome
    assert stored.row_version == version + 1
    assert stored.status == flagged.status  # the account status is the lifecycle's business
    event = UserEvent.objects.get(user=flagged, type=EventType.REVIEWED)
    assert event.changes == {"risk_status": ["PENDING", outcome]}
    assert event.actor_kind == "operator" and event.actor_id == "compliance1"


@pytest.mark.parametrize(
    ("current", "outcome", "reason"),
    [
        (RiskStatus.CLEARED, RiskStatus.REJECTED, "x"),  # only PENDING users are reviewed
        (RiskStatus.UNKNOWN, RiskStatus.CLEARED, "x"),
        (RiskStatus.PENDING, RiskStatus.PENDING, "x"),  # not an outcome
        (RiskStatus.PENDING, RiskStatus.CLEARED, " "),  # reason required
    ],
)
def test_review_refusals_change_nothing(seeded, operator, current, outcome, reason) -> None:  # type: ignore[no-untyped-def]
    user = AccountHolderFactory(program=ProgramFactory(), risk_status=current)
    with pytest.raises(ValidationError):
        risk_review(user=user, outcome=outcome, operator=operator, reason=reason)
    assert AccountHolder.objects.get(pk=user.pk).risk_status == current
    assert not UserEvent.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_grants_leave_one_open_exemption(seeded) -> None:  # type: ignore[no-untyped-def]
    operator = get_user_model().objects.create_user("racer", password="x")
    user = AccountHolderFactory(program=ProgramFactory(), risk_status=RiskStatus.PENDING)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def grant(i: int) -> None:
        try:
            barrier.wait()
            exemption_grant(
                user=user,
                reason=f"r{i}",
                expires_at=timezone.now() + timedelta(days=1),
                granted_by=operator,
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=grant, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert RiskExemption.objects.filter(user=user).count() == 4
    assert RiskExemption.objects.filter(user=user, ended_at__isnull=True).count() == 1
