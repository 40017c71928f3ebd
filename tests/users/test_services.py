"""The write services beyond the v1 surface: screening outcomes, pending updates, audit
masking, exemptions, the v2 channel's extra required fields."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import error_codes
from core.exceptions import ApiError
from core.masking import mask_email, mask_name, mask_number
from enumerations.catalog import get_catalog
from risk.models import BlacklistEntry, RiskExemption, Screening
from risk.services import blacklist_entry_save
from tests.users.conftest import api_actor, canonical, row_counts
from users.audit import mask_value
from users.exemptions import exemption_grant
from users.models import AccountHolder, Channel, EventType, PendingUpdate, Status
from users.services import (
    pending_update_approve,
    pending_update_reject,
    user_create,
    user_update,
)

pytestmark = pytest.mark.django_db


def _entry(value: str, attribute: str = "customer.last_name", **kwargs):  # type: ignore[no-untyped-def]
    entry = BlacklistEntry(entity_attribute=attribute, value=value, match="exact", **kwargs)
    return blacklist_entry_save(entry=entry, by_label="test")


def _create(program, **overrides):  # type: ignore[no-untyped-def]
    return user_create(
        program=program,
        changes=canonical(**overrides),
        actor=api_actor(),
        channel=Channel.API_V1,
        catalog=get_catalog(),
    ).user


def _update(user, **changes):  # type: ignore[no-untyped-def]
    return user_update(
        user=user, changes=changes, actor=api_actor(), channel=Channel.API_V2, catalog=get_catalog()
    ).user


# --- masking --------------------------------------------------------------------------------


def test_masking_helpers():
    assert mask_email("ada@example.com") == "a***@example.com"
    assert mask_number("S1234567D") == "*****567D" and mask_number("123") == "***"
    assert mask_name("Lovelace") == "L***"
    assert mask_value("birth_date", timezone.now().date()) == "****-**-**"
    assert mask_value("password", "argon2$...") == "********"
    assert mask_value("identification.primary.number", "K1234567") == "****4567"
    assert mask_value("mobile", "91234567") == "****4567"
    assert mask_value("nationality", "SGP") == "SGP"
    assert mask_value("metadata", {"a": 1}) == "{…}"


def test_created_event_masks_pii(program_a):
    user = _create(program_a, birth_date="1990-01-01", nationality="SGP", password="abc123!xyz")
    event = user.events.get(type=EventType.CREATED)
    assert event.changes["first_name"] == [None, "A***"]
    assert event.changes["email"][1].endswith("@example.com")
    assert event.changes["email"][1].startswith("a***@")
    assert event.changes["birth_date"] == [None, "****-**-**"]
    assert event.changes["password"] == [None, "********"]
    assert event.changes["nationality"] == [None, "SGP"]
    assert user.email not in str(event.changes)


# --- screening (SPEC §6b) -------------------------------------------------------------------


def test_create_blocked_by_blacklist_saves_nothing(program_a):
    _entry("Lovelace", action="block")
    before = row_counts()
    with pytest.raises(ApiError) as info:
        _create(program_a)
    assert info.value.code == error_codes.RISK_BLACKLISTED
    assert row_counts() == before


def test_create_over_threshold_names_the_entity(program_a):
    _entry("Lovelace", action="score", weight=150)
    before = row_counts()
    with pytest.raises(ApiError) as info:
        _create(program_a)
    assert (info.value.code, info.value.status) == (error_codes.RISK_ENTITY_THRESHOLD_EXCEEDED, 403)
    assert "customer.last_name" in info.value.description
    assert row_counts() == before


def test_create_flagged_below_threshold_is_pending(program_a):
    _entry("Lovelace", action="score", weight=10)
    user = _create(program_a)
    assert user.risk_status == "PENDING"
    assert Screening.objects.get(user=user).outcome == "flag"


def test_update_blocked_by_blacklist_changes_nothing(program_a):
    user = _create(program_a)
    _entry("Byron", action="block")
    before = row_counts()
    with pytest.raises(ApiError) as info:
        _update(user, last_name="Byron")
    assert info.value.code == error_codes.RISK_BLACKLISTED_UPDATE
    assert row_counts() == before
    assert AccountHolder.objects.get(pk=user.pk).last_name == "Lovelace"


def test_update_over_threshold_blacklists_the_user(program_a):
    user = _create(program_a)
    _entry("Byron", action="score", weight=500)
    with pytest.raises(ApiError) as info:
        _update(user, last_name="Byron")
    assert (info.value.code, info.value.status) == (error_codes.RISK_USER_THRESHOLD_EXCEEDED, 403)
    user.refresh_from_db()
    assert (user.status, user.risk_status, user.last_name) == (
        "blacklisted",
        "REJECTED",
        "Lovelace",
    )
    change = user.status_changes.order_by("-id").first()
    assert (change.to_status, change.actor_kind) == ("blacklisted", "system")


def test_name_change_ends_the_exemption(program_a):
    user = _create(program_a)
    exemption = exemption_grant(
        user=user, reason="ok", expires_at=timezone.now() + timedelta(days=5), granted_by=None
    )
    _update(user, nationality="MYS")
    exemption.refresh_from_db()
    assert exemption.ended_at is None
    _update(user, middle_name="Byron")
    exemption.refresh_from_db()
    assert exemption.ended_at is not None
    assert not RiskExemption.objects.filter(user=user, ended_at__isnull=True).exists()


# --- updates --------------------------------------------------------------------------------


def test_update_bumps_row_version_and_records_changes(program_a):
    user = _create(program_a)
    updated = _update(
        user,
        nationality="mys",
        addresses={"residential": {"address_1": "1 Main St", "country": "SGP"}},
        tax_residencies=[{"country": "SGP", "tin": "T1"}],
    )
    assert updated.row_version == 2
    assert [a.type for a in updated.addresses.all()] == ["residential"]
    event = updated.events.get(type=EventType.UPDATED)
    assert event.changes["nationality"] == [None, "MYS"]
    assert event.changes["addresses.residential.address_1"] == [None, "1***"]
    assert event.changes["tax_residencies.0.tin"] == [None, "**"]
    again = _update(updated, nationality="MYS")  # nothing changes: no write, no event
    assert again.row_version == 2
    assert updated.events.filter(type=EventType.UPDATED).count() == 1
    removed = _update(updated, addresses={"residential": None}, tax_residencies=None)
    assert list(removed.addresses.all()) == [] and list(removed.tax_residencies.all()) == []


def test_identification_is_replaced_and_removed(program_a):
    item = {"id_type": "passport", "number": "K1000001", "issue_date": None,
            "expiry_date": None, "country_of_issue": None}  # fmt: skip
    user = _create(program_a, identification={"primary": item})
    user = _update(user, identification={"primary": {**item, "number": "K1000002"}})
    assert [i.number for i in user.identifications.all()] == ["K1000002"]
    other = _create(program_a, identification={"primary": item})  # the old number is free
    assert other.identifications.get().number == "K1000001"
    user = _update(user, identification={"primary": None})
    assert user.identifications.count() == 0


def test_dry_run_returns_the_would_be_user_and_writes_nothing(program_a):
    user = _create(program_a)
    before = row_counts()
    after = user_update(
        user=user,
        changes={"last_name": "Byron"},
        actor=api_actor(),
        channel=Channel.API_V1,
        catalog=get_catalog(),
        dry_run=True,
    ).user
    assert after.last_name == "Byron" and after is not user
    assert row_counts() == before
    assert AccountHolder.objects.get(pk=user.pk).last_name == "Lovelace"


def test_v2_create_requires_type_and_preferred_name(program_a):
    with pytest.raises(ApiError) as info:
        user_create(
            program=program_a,
            changes=canonical(preferred_name=None),
            actor=api_actor(),
            channel=Channel.API_V2,
            catalog=get_catalog(),
        )
    assert [e.code for e in info.value.errors] == [
        "resource_user_account_type_required",
        "resource_user_preferred_name_required",
    ]


def test_initial_status_pending_verification(program_a):
    user = user_create(
        program=program_a,
        changes=canonical(type="customer"),
        actor=api_actor(),
        channel=Channel.API_V2,
        catalog=get_catalog(),
        initial_status=Status.PENDING_VERIFICATION,
    ).user
    assert (user.status, user.sub_status) == ("pending_verification", "user_created")
    with pytest.raises(ValueError, match="cannot be created"):
        user_create(
            program=program_a, changes=canonical(), actor=api_actor(),
            channel=Channel.API_V1, catalog=get_catalog(), initial_status=Status.LOCKED,
        )  # fmt: skip


# --- pending updates (SPEC §5) --------------------------------------------------------------


@pytest.fixture
def operator(db):  # type: ignore[no-untyped-def]
    return User.objects.create_user(username="compliance-1", password="x" * 12)


def test_verified_email_change_is_held_then_approved(program_a, operator):
    user = _create(program_a)
    AccountHolder.objects.filter(pk=user.pk).update(is_email_verified=True)
    user.refresh_from_db()
    updated = _update(user, email="new@example.com", middle_name="Byron")
    assert updated.email != "new@example.com" and updated.middle_name == "Byron"
    pending = PendingUpdate.objects.get(user=user)
    assert (pending.field, pending.value, pending.status, pending.reason) == (
        "email", "new@example.com", "pending", "verification_required"
    )  # fmt: skip
    # a newer request replaces the open one
    _update(updated, email="newer@example.com")
    pending = PendingUpdate.objects.get(user=user)
    assert pending.value == "newer@example.com"
    approved = pending_update_approve(pending=pending, operator=operator, reason="verified")
    assert approved.status == "approved" and approved.decided_by == operator
    user.refresh_from_db()
    assert (user.email, user.is_email_verified) == ("newer@example.com", True)
    assert user.events.filter(type=EventType.PENDING_UPDATE_APPROVED).exists()
    with pytest.raises(ValidationError):
        pending_update_approve(pending=pending, operator=operator, reason="again")


def test_verified_mobile_change_is_held_and_can_be_rejected(program_a, operator):
    user = _create(program_a)
    AccountHolder.objects.filter(pk=user.pk).update(is_mobile_verified=True)
    user.refresh_from_db()
    _update(user, mobile_country_code="65", mobile="98887777")
    pending = PendingUpdate.objects.get(user=user)
    assert pending.value == {"mobile_country_code": "65", "mobile": "98887777"}
    pending_update_reject(pending=pending, operator=operator, reason="not the customer")
    user.refresh_from_db()
    assert user.mobile != "98887777"
    assert PendingUpdate.objects.get(user=user).status == "rejected"


def test_approval_rechecks_uniqueness(program_a, operator):
    user = _create(program_a)
    AccountHolder.objects.filter(pk=user.pk).update(is_email_verified=True)
    user.refresh_from_db()
    _update(user, email="wanted@example.com")
    _create(program_a, email="WANTED@example.com")  # someone else took it meanwhile
    pending = PendingUpdate.objects.get(user=user)
    with pytest.raises(ValidationError) as info:
        pending_update_approve(pending=pending, operator=operator, reason="ok")
    assert info.value.code == "resource_user_email_unique"
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_approval_requires_a_reason(program_a, operator):
    user = _create(program_a)
    AccountHolder.objects.filter(pk=user.pk).update(is_email_verified=True)
    user.refresh_from_db()
    _update(user, email="wanted2@example.com")
    with pytest.raises(ValidationError):
        pending_update_approve(
            pending=PendingUpdate.objects.get(user=user), operator=operator, reason=" "
        )


# --- one transaction shape per write (issue 11 item 4) -------------------------------------


PASSPORT = {
    "id_type": "passport",
    "number": "K7000001",
    "issue_date": None,
    "expiry_date": None,
    "country_of_issue": None,
}


def test_writes_return_their_children_as_values(program_a):
    from users.services import UserWrite

    write = user_create(
        program=program_a,
        changes=canonical(identification={"primary": PASSPORT}),
        actor=api_actor(),
        channel=Channel.API_V1,
        catalog=get_catalog(),
    )
    assert isinstance(write, UserWrite)
    assert [i.number for i in write.identifications or []] == ["K7000001"]
    assert write.addresses == [] and write.tax_residencies == []
    # the service left no prefetch cache behind: the user's managers read the database
    assert "_prefetched_objects_cache" not in write.user.__dict__
    user = AccountHolder.objects.prefetch_related("identifications").get(pk=write.user.pk)
    updated = user_update(
        user=user, changes={"job_title": "Poet"}, actor=api_actor(), channel=Channel.API_V2,
        catalog=get_catalog(),
    )  # fmt: skip
    # children the write left alone are None: the caller's loaded ones are still true
    assert updated.changed and updated.identifications is None and updated.addresses is None
    noop = user_update(
        user=updated.user, changes={"job_title": "Poet"}, actor=api_actor(),
        channel=Channel.API_V2, catalog=get_catalog(),
    )  # fmt: skip
    assert not noop.changed


def test_precondition_sees_the_locked_row_and_one_lock_is_taken(program_a):
    """The service owns the lock: handed a stale user, it re-reads under the lock and the
    precondition (v2 If-Match) judges the row as locked; a refusal saves nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = _create(program_a)
    stale = AccountHolder.objects.prefetch_related(
        "identifications", "addresses", "tax_residencies"
    ).get(pk=user.pk)
    _update(user, job_title="First")  # another writer got in since `stale` was read
    seen: list[int] = []

    def precondition(locked: AccountHolder) -> None:
        seen.append(locked.row_version)
        if locked.row_version != stale.row_version:
            raise ApiError(error_codes.PRECONDITION_FAILED)

    before = row_counts()
    with pytest.raises(ApiError) as info:
        user_update(
            user=stale, changes={"job_title": "Second"}, actor=api_actor(),
            channel=Channel.API_V2, catalog=get_catalog(), precondition=precondition,
        )  # fmt: skip
    assert info.value.code == error_codes.PRECONDITION_FAILED
    assert seen == [stale.row_version + 1]
    assert row_counts() == before
    assert AccountHolder.objects.get(pk=user.pk).job_title == "First"

    fresh = AccountHolder.objects.prefetch_related(
        "identifications", "addresses", "tax_residencies"
    ).get(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        user_update(
            user=fresh, changes={"job_title": "Third"}, actor=api_actor(),
            channel=Channel.API_V2, catalog=get_catalog(), precondition=precondition_ok,
        )  # fmt: skip
    if connection.features.has_select_for_update:
        locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
        assert len(locks) == 1, locks


def precondition_ok(locked: AccountHolder) -> None:
    assert locked.pk is not None
