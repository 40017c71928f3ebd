"""Operator review services in users/kyc.py: KYC decisions, verification, wallet, notes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from tests.conftest import requires_postgres
from tests.factories import AccountHolderFactory
from users import kyc
from users.models import (
    AccountHolder,
    EventType,
    KycStatus,
    KycSubStatus,
    RiskStatus,
    Status,
    StatusChange,
    UserEvent,
    UserNote,
)


@pytest.fixture
def kyc_program(program_a):  # type: ignore[no-untyped-def]
    program_a.kyc_required = True
    program_a.save()
    return program_a


def snapshot(user: AccountHolder) -> dict:
    return AccountHolder.objects.values().get(pk=user.pk)


@pytest.mark.parametrize(
    ("risk_status", "expected_status"),
    [
        (RiskStatus.CLEARED, Status.ACTIVE),
        (RiskStatus.UNKNOWN, Status.ACTIVE),
        (RiskStatus.PENDING, Status.VERIFICATION_COMPLETED),
        (RiskStatus.REJECTED, Status.VERIFICATION_COMPLETED),
    ],
)
def test_approve_moves_a_pending_user_on_through_the_lifecycle(
    kyc_program, risk_status, expected_status
) -> None:
    user = AccountHolderFactory(
        program=kyc_program, status=Status.PENDING_VERIFICATION, risk_status=risk_status
    )

    result = kyc.kyc_approve(user=user, operator="cleo", reason="documents match")

    user.refresh_from_db()
    assert result.status == user.status == expected_status
    assert (user.kyc_status, user.kyc_sub_status) == (KycStatus.COMPLETED, KycSubStatus.APPROVED)
    assert user.kyc_processed_at is not None
    change = StatusChange.objects.get(user=user)
    assert (change.from_status, change.to_status) == (Status.PENDING_VERIFICATION, expected_status)
    assert (change.actor_kind, change.actor_id, change.channel) == ("operator", "cleo", "admin")
    assert change.reason == "KYC approved: documents match"


def test_approve_records_a_reviewed_event_and_bumps_the_row_version(program_a) -> None:
    user = AccountHolderFactory(program=program_a)
    version = user.row_version

    kyc.kyc_approve(user=user, operator="cleo", reason="ok")

    user.refresh_from_db()
    assert user.row_version == version + 1
    assert user.status == Status.ACTIVE  # no KYC program: status untouched
    event = UserEvent.objects.get(user=user)
    assert (event.type, event.actor_kind, event.actor_id) == (
        EventType.REVIEWED,
        "operator",
        "cleo",
    )
    assert event.changes["kyc_sub_status"] == [
        KycSubStatus.PENDING_DOCUMENT_SUBMISSION,
        KycSubStatus.APPROVED,
    ]


def test_reject_keeps_the_status(kyc_program) -> None:
    user = AccountHolderFactory(program=kyc_program, status=Status.PENDING_VERIFICATION)

    kyc.kyc_reject(user=user, operator="cleo", reason="expired passport")

    user.refresh_from_db()
    assert user.kyc_sub_status == KycSubStatus.REJECTED
    assert user.status == Status.PENDING_VERIFICATION
    assert not StatusChange.objects.exists()


@pytest.mark.parametrize(
    ("call", "setup", "message"),
    [
        (kyc.kyc_approve, {"kyc_sub_status": KycSubStatus.APPROVED}, "already approved"),
        (kyc.kyc_reject, {"kyc_sub_status": KycSubStatus.REJECTED}, "already rejected"),
        (kyc.kyc_approve, {"status": Status.BLOCKED}, "closed account"),
        (kyc.kyc_reject, {"status": Status.TERMINATED}, "closed account"),
    ],
)
def test_refused_decisions_change_nothing(program_a, call, setup, message) -> None:
    user = AccountHolderFactory(program=program_a, **setup)
    before = snapshot(user)

    with pytest.raises(ValidationError, match=message):
        call(user=user, operator="cleo", reason="x")

    assert snapshot(user) == before
    assert not UserEvent.objects.exists()


def test_mark_verified(program_a) -> None:
    user = AccountHolderFactory(program=program_a)

    kyc.contact_mark_verified(user=user, operator="cleo", reason="called", mobile=True)

    user.refresh_from_db()
    assert (user.is_email_verified, user.is_mobile_verified) == (False, True)
    assert UserEvent.objects.get(user=user).changes == {"is_mobile_verified": [False, True]}


@pytest.mark.parametrize(
    ("setup", "kwargs", "message"),
    [
        ({}, {}, "Choose the email"),
        ({"email": None}, {"email": True}, "no email"),
        (
            {"mobile": None, "mobile_country_code": None},
            {"mobile": True},
            "no mobile",
        ),
        ({"is_email_verified": True}, {"email": True}, "already verified"),
        ({"is_email_verified": True}, {"mobile": True, "email": True}, "already verified"),
    ],
)
def test_mark_verified_refusals_change_nothing(program_a, setup, kwargs, message) -> None:
    user = AccountHolderFactory(program=program_a, **setup)
    before = snapshot(user)

    with pytest.raises(ValidationError, match=message):
        kyc.contact_mark_verified(user=user, operator="cleo", reason="x", **kwargs)

    assert snapshot(user) == before


def test_wallet_created_freezes_names_once(program_a) -> None:
    user = AccountHolderFactory(program=program_a)
    at = timezone.now() - timedelta(hours=1)

    kyc.wallet_created_set(user=user, operator="cleo", reason="card issued", at=at)
    user.refresh_from_db()
    assert user.wallet_created_at == at and user.names_frozen

    before = snapshot(user)
    with pytest.raises(ValidationError, match="already has a wallet"):
        kyc.wallet_created_set(user=user, operator="cleo", reason="again")
    assert snapshot(user) == before


def test_wallet_time_cannot_be_in_the_future(program_a) -> None:
    user = AccountHolderFactory(program=program_a)

    with pytest.raises(ValidationError, match="future"):
        kyc.wallet_created_set(
            user=user, operator="cleo", reason="x", at=timezone.now() + timedelta(days=1)
        )

    assert AccountHolder.objects.get(pk=user.pk).wallet_created_at is None


def test_notes_need_text(program_a) -> None:
    user = AccountHolderFactory(program=program_a)

    with pytest.raises(ValidationError):
        kyc.user_note_add(user=user, author=None, text="   ")
    note = kyc.user_note_add(user=user, author=None, text="  called back  ")

    assert list(UserNote.objects.values_list("text", flat=True)) == ["called back"]
    assert note.user == user


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_decide_once(kyc_program) -> None:
    user = AccountHolderFactory(program=kyc_program, status=Status.PENDING_VERIFICATION)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(operator: str) -> None:
        barrier.wait()
        try:
            kyc.kyc_approve(user=user, operator=operator, reason="race")
            outcomes.append("approved")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["KYC is already approved.", "approved"]
    assert UserEvent.objects.filter(user=user, type=EventType.REVIEWED).count() == 1
    assert StatusChange.objects.filter(user=user).count() == 1
