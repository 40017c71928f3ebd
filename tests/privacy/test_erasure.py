"""Erasure (SPEC §15): erase_user, erase_due_users, retention, what goes and what stays."""

from __future__ import annotations

import io
import itertools
import sqlite3
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from api.models import IdempotencyRecord
from documents.models import Document
from privacy.models import Erasure, ErasureRequest, ErasureRequestState
from privacy.services import ERASED, ErasureRefused, erase_user
from risk.models import BlacklistEntry
from risk.services import blacklist_entry_save
from tests.conftest import api_for
from tests.documents import files
from tests.documents.conftest import stored_names
from tests.documents.test_services import upload
from tests.factories import AccountHolderFactory
from users.lifecycle import Actor, user_change_status
from users.models import (
    AccountHolder,
    Address,
    Channel,
    EventType,
    Identification,
    Status,
    StatusChange,
    TaxResidency,
    UserEvent,
    UserNote,
)

_keys = itertools.count(1)
OPERATOR = Actor("operator", "olga")
CLI = Actor("cli", "erase_user")

# the erased user's values, in every form a table could hold them
SECRETS = {
    "first name": ["Zenobia"],
    "last name": ["Quillfeather"],
    "email": ["zenobia.quill@example.org"],
    "mobile": ["91234987"],
    "id number": ["K9876543X", "k9876543x"],
    "tin": ["TQ5550123"],
    "birth date": ["1985-07-23", "19850723", "23/07/1985"],
    "address": ["77 Wisteria Lane"],
}


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "type": "customer",
        "first_name": "Zenobia",
        "last_name": "Quillfeather",
        "preferred_name": "Zen",
        "email": "zenobia.quill@example.org",
        "mobile_country_code": "65",
        "mobile": "91234987",
        "identification": [
            {
                "type": "passport",
                "number": "K9876543X",
                "issue_date": "2020-01-01",
                "expiry_date": "2035-01-01",
                "country_of_issue": "SGP",
                "is_primary": True,
            }
        ],
        "birth": {"date": "1985-07-23", "place": "Singapore", "country": "SGP"},
        "addresses": [{"type": "residential", "address_1": "77 Wisteria Lane", "country": "SGP"}],
        "tax_residencies": [{"country": "SGP", "tin": "TQ5550123"}],
        "metadata": {"note": "Zenobia Quillfeather VIP"},
        "created_by": {"agent": "zenobia.quill@example.org"},
    }
    values.update(overrides)
    return values


def closed_user(client: Any, *, days_ago: int = 0) -> AccountHolder:
    """The user created through the v2 API (audit trail, stored idempotent answer), updated,
    noted, with a document, then terminated `days_ago` days ago."""
    api = api_for(client)
    response = api.post(
        f"/{client.program.code}/v2/users",
        body(),
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"zq-{next(_keys)}",
    )
    assert response.status_code == 201, response.content
    user = AccountHolder.objects.get(public_id=response.json()["id"])
    patched = api.put(
        f"/{client.program.code}/v2/users/{user.public_id}",
        {"middle_name": "Quill", "job_title": "Zenobia's own firm"},
        format="json",
        HTTP_IF_MATCH=response["ETag"],
    )
    assert patched.status_code == 200, patched.content
    UserNote.objects.create(user=user, text="Called Zenobia Quillfeather on 91234987")
    user.refresh_from_db()
    user.title, user.gender = "Ms", "female"
    user.save(update_fields=["title", "gender"])
    upload(user, files.pdf())
    user_change_status(
        user=user,
        to_status=Status.TERMINATED,
        actor=OPERATOR,
        channel=Channel.ADMIN,
        reason="customer closed the account",
    )
    if days_ago:
        StatusChange.objects.filter(user=user).update(at=timezone.now() - timedelta(days=days_ago))
    user.refresh_from_db()
    return user


def found_in(text: str) -> list[str]:
    return [
        f"{what}: {form}"
        for what, forms in SECRETS.items()
        for form in forms
        if form.lower() in text.lower()
    ]


def database_text() -> str:
    """Everything the test database holds: `pg_dump` on PostgreSQL, the file on SQLite."""
    if connection.vendor == "postgresql":
        params = connection.settings_dict
        command = ["pg_dump", "--no-owner", "-h", params["HOST"] or "127.0.0.1"]
        if params.get("PORT"):
            command += ["-p", str(params["PORT"])]
        if params.get("USER"):
            command += ["-U", params["USER"]]
        command.append(params["NAME"])
        return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout.decode(
            "utf-8", "replace"
        )
    connection.ensure_connection()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "copy.sqlite3"
        target = sqlite3.connect(path)
        connection.connection.backup(target)  # page by page: free pages too
        target.close()
        return path.read_bytes().decode("latin-1")


@pytest.mark.django_db(transaction=True)
def test_after_erase_user_no_table_holds_the_users_values(client_a: Any) -> None:
    client_a.program.retention_days = 30
    client_a.program.save(update_fields=["retention_days"])
    user = closed_user(client_a, days_ago=31)
    keeper = api_for(client_a).post(
        f"/{client_a.program.code}/v2/users",
        body(
            first_name="Keeper",
            last_name="Person",
            email="keeper@example.org",
            mobile="98887777",
            identification=[{"type": "passport", "number": "E5550001", "is_primary": True}],
            birth={"date": "1970-01-01"},
            addresses=[{"type": "residential", "address_1": "1 Other Road", "country": "SGP"}],
            tax_residencies=[],
            metadata=None,
            created_by=None,
        ),
        format="json",
    )
    assert keeper.status_code == 201, keeper.content
    before = found_in(database_text())
    assert {"email: zenobia.quill@example.org", "mobile: 91234987"} <= set(before), before
    file_names = set(Document.objects.filter(user=user).values_list("storage_name", flat=True))
    assert file_names and file_names <= stored_names()

    out = io.StringIO()
    call_command("erase_user", user.public_id, reason="retention ended", stdout=out)
    assert "1 document file(s) deleted" in out.getvalue()

    assert found_in(database_text()) == []
    assert not file_names & stored_names()
    # the other user is untouched
    assert AccountHolder.objects.get(public_id=keeper.json()["id"]).email == "keeper@example.org"


@pytest.mark.django_db
def test_erasure_keeps_the_skeleton(client_a: Any, django_capture_on_commit_callbacks) -> None:
    client_a.program.retention_days = 0
    client_a.program.save(update_fields=["retention_days"])
    user = closed_user(client_a)
    events_before = list(UserEvent.objects.filter(user=user).values_list("type", flat=True))
    history_before = StatusChange.objects.filter(user=user).count()
    with django_capture_on_commit_callbacks(execute=True):
        result = erase_user(user=user, reason="retention ended", actor=CLI, channel=Channel.CLI)
    user.refresh_from_db()
    assert result.files == 1 and result.erasure.documents_deleted == 1
    # kept: the row, its statuses, its history, the trail's skeleton
    assert (user.status, user.public_id, user.program_id) == (
        Status.TERMINATED,
        result.erasure.user.public_id,
        client_a.program_id,
    )
    assert StatusChange.objects.filter(user=user).count() == history_before
    events = list(UserEvent.objects.filter(user=user).order_by("at", "id"))
    assert [e.type for e in events][:-1] == list(reversed(events_before))
    created = next(e for e in events if e.type == EventType.CREATED)
    assert created.changes["email"] == [None, ERASED]
    assert all(
        value in (None, ERASED)
        for event in events[:-1]
        for values in event.changes.values()
        for value in values
    )
    erased_event = events[-1]
    assert (erased_event.type, erased_event.reason, erased_event.actor_kind) == (
        EventType.ERASED,
        "retention ended",
        "cli",
    )
    # gone: every personal value
    assert user.first_name is user.last_name is user.email is user.mobile is None
    assert user.birth_date is None and user.metadata is None and user.created_by is None
    assert user.job_title is None and user.middle_name is None and user.title is None
    for model in (Identification, Address, TaxResidency, Document):
        assert not model.objects.filter(user=user).exists()
    assert set(UserNote.objects.filter(user=user).values_list("text", flat=True)) == {ERASED}
    assert not IdempotencyRecord.objects.filter(key__startswith="zq-").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "days_ago", "message"),
    [
        (None, 0, "only a user in a terminal status"),
        (Status.TERMINATED, 10, "retention period of user"),
    ],
)
def test_erasure_refused_before_closure_or_retention(
    client_a: Any, status: str | None, days_ago: int, message: str
) -> None:
    client_a.program.retention_days = 30
    client_a.program.save(update_fields=["retention_days"])
    response = api_for(client_a).post(f"/{client_a.program.code}/v2/users", body(), format="json")
    user = AccountHolder.objects.get(public_id=response.json()["id"])
    if status:
        user_change_status(
            user=user, to_status=status, actor=OPERATOR, channel=Channel.ADMIN, reason="closed"
        )
        StatusChange.objects.filter(user=user).update(at=timezone.now() - timedelta(days=days_ago))
    with pytest.raises(CommandError, match=message):
        call_command("erase_user", user.public_id, reason="asked")
    user.refresh_from_db()
    assert user.email == "zenobia.quill@example.org"
    assert not Erasure.objects.exists()
    assert not UserEvent.objects.filter(type=EventType.ERASED).exists()


@pytest.mark.django_db
def test_retention_default_is_five_years(client_a: Any) -> None:
    assert client_a.program.retention_days == 1825
    user = closed_user(client_a, days_ago=1824)
    with pytest.raises(ErasureRefused, match="retention period"):
        erase_user(user=user, reason="r", actor=CLI, channel=Channel.CLI)
    StatusChange.objects.filter(user=user).update(at=timezone.now() - timedelta(days=1826))
    erase_user(user=user, reason="r", actor=CLI, channel=Channel.CLI)
    assert Erasure.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_erase_user_command_errors(client_a: Any) -> None:
    client_a.program.retention_days = 0
    client_a.program.save(update_fields=["retention_days"])
    user = closed_user(client_a)
    with pytest.raises(CommandError, match="not a user id"):
        call_command("erase_user", "nope", reason="r")
    with pytest.raises(CommandError, match="no user"):
        call_command("erase_user", "0" * 32, reason="r")
    with pytest.raises(CommandError, match="a reason is required"):
        call_command("erase_user", user.public_id, reason="  ")
    call_command("erase_user", user.public_id, reason="r", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already erased"):
        call_command("erase_user", user.public_id, reason="r")
    assert UserEvent.objects.filter(user=user, type=EventType.ERASED).count() == 1


@pytest.mark.django_db
def test_legal_override_needs_an_approved_request(client_a: Any) -> None:
    user = closed_user(client_a)  # retention: 1 825 days from today
    with pytest.raises(CommandError, match="second operator's approval"):
        call_command("erase_user", user.public_id, reason="court order", legal_override=True)
    operators = get_user_model().objects
    ann = operators.create_user("ann", is_staff=True)
    bob = operators.create_user("bob", is_staff=True)
    ErasureRequest.objects.create(
        user=user,
        reason="court order 12/2026",
        requested_by=ann,
        requested_at=timezone.now(),
        state=ErasureRequestState.APPROVED,
        decided_by=bob,
        decided_at=timezone.now(),
    )
    call_command(
        "erase_user",
        user.public_id,
        reason="court order",
        legal_override=True,
        stdout=io.StringIO(),
    )
    erasure = Erasure.objects.get(user=user)
    assert erasure.legal_override


@pytest.mark.django_db
def test_erase_due_users_erases_only_closed_users_past_retention(client_a: Any) -> None:
    client_a.program.retention_days = 100
    client_a.program.save(update_fields=["retention_days"])
    due = closed_user(client_a, days_ago=101)
    AccountHolder.objects.filter(pk=due.pk).update(email="due@example.org")  # a second user
    recent = closed_user(client_a, days_ago=99)
    AccountHolder.objects.filter(pk=recent.pk).update(email="recent@example.org")
    api = api_for(client_a)
    live = api.post(
        f"/{client_a.program.code}/v2/users",
        body(email="live@example.org", mobile="97776666", identification=[]),
        format="json",
    )
    assert live.status_code == 201, live.content
    AccountHolder.objects.filter(public_id=live.json()["id"]).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("erase_due_users", "--dry-run", stdout=out)
    assert "1 user(s) due" in out.getvalue()
    assert not Erasure.objects.exists()
    call_command("erase_due_users", stdout=out, stderr=err)
    assert "erased 1 user(s), skipped 0" in out.getvalue()
    assert "erasing" in err.getvalue()  # the progress bar
    assert list(Erasure.objects.values_list("user_id", flat=True)) == [due.pk]
    assert Erasure.objects.get().actor_kind == "system"
    call_command("erase_due_users", stdout=out, stderr=err)  # nothing left: idempotent
    assert Erasure.objects.count() == 1


@pytest.mark.django_db
def test_blacklist_block_still_enforced_after_erasure(client_a: Any) -> None:
    client_a.program.retention_days = 0
    client_a.program.save(update_fields=["retention_days"])
    blacklist_entry_save(
        entry=BlacklistEntry(
            entity_attribute="customer.id_number", value="K9876543X", action="block"
        ),
        by_label="test",
    )
    response = api_for(client_a).post(f"/{client_a.program.code}/v2/users", body(), format="json")
    assert response.status_code in (400, 403), response.content
    user = kyc_user_for_blacklist(client_a)
    erase_user(user=user, reason="retention ended", actor=CLI, channel=Channel.CLI)
    again = api_for(client_a).post(f"/{client_a.program.code}/v2/users", body(), format="json")
    assert again.status_code == response.status_code
    assert again.json()["code"] == response.json()["code"]


def kyc_user_for_blacklist(client: Any) -> AccountHolder:
    user = AccountHolderFactory(program=client.program, email="zenobia.quill@example.org")
    user_change_status(
        user=user, to_status=Status.BLACKLISTED, actor=OPERATOR, channel=Channel.ADMIN, reason="x"
    )
    user.refresh_from_db()
    return user
