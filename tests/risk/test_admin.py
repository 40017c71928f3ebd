"""The risk admin: blacklist CRUD, search, import / export, effect preview, settings,
exemptions and screenings, all through the risk services."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from risk.models import (
    BlacklistEntry,
    BlacklistState,
    BlacklistToken,
    ExemptionEnd,
    RiskExemption,
    RiskSettings,
    Screening,
)
from risk.services import screen_user_write
from tests.factories import AccountHolderFactory, ProgramFactory
from tests.risk.helpers import listed, values
from users.exemptions import exemption_grant
from users.models import RiskStatus, Status
from users.screening import record_screening

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:risk_blacklistentry_changelist"


@pytest.fixture
def operator(db: None):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_superuser("opadmin", "op@example.com", "pw")


@pytest.fixture
def web(client, operator):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    return client


def entry_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "entity_attribute": "customer.last_name",
        "value": "Lovelace",
        "match": "normalized",
        "program": "",
        "action": "score",
        "weight": "40",
        "reason": "watch list",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# --- blacklist CRUD -------------------------------------------------------------------------


def test_add_entry_goes_through_the_service(seeded, web, operator) -> None:  # type: ignore[no-untyped-def]
    before = BlacklistState.objects.get(pk=1).version
    response = web.post(
        reverse("admin:risk_blacklistentry_add"),
        entry_form(value="Mohammed", match="fuzzy"),
    )
    assert response.status_code == 302, response.content
    entry = BlacklistEntry.objects.get()
    assert entry.value_normalized == "mohammed"
    assert entry.added_by == operator and entry.added_by_label == "opadmin"
    assert entry.version == before + 1
    assert BlacklistToken.objects.filter(entry=entry).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"value": "R2D2"}, "value"),
        ({"weight": ""}, "weight"),
        ({"action": "block", "weight": "5"}, "weight"),
        (
            {"entity_attribute": "customer.email", "value": "x@example.com", "match": "fuzzy"},
            "match",
        ),
        ({"entity_attribute": "customer.mobile", "value": "123", "match": "exact"}, "value"),
    ],
)
def test_invalid_entry_is_refused_and_nothing_saved(seeded, web, overrides, field) -> None:  # type: ignore[no-untyped-def]
    before = BlacklistState.objects.get(pk=1).version
    response = web.post(reverse("admin:risk_blacklistentry_add"), entry_form(**overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not BlacklistEntry.objects.exists()
    assert BlacklistState.objects.get(pk=1).version == before


def test_duplicate_entry_is_refused(seeded, web) -> None:  # type: ignore[no-untyped-def]
    listed("last_name", "Lovelace", match="normalized", action="score", weight=10)
    response = web.post(reverse("admin:risk_blacklistentry_add"), entry_form(value="LOVELACE"))
    assert response.status_code == 200
    assert "already" in str(response.context["adminform"].form.non_field_errors()) or (
        "exists" in str(response.context["adminform"].form.non_field_errors())
    )
    assert BlacklistEntry.objects.count() == 1


def test_change_entry_rekeys_and_reindexes(seeded, web) -> None:  # type: ignore[no-untyped-def]
    entry = listed("last_name", "Mohammed", match="fuzzy", action="score", weight=10)
    old_keys = set(BlacklistToken.objects.filter(entry=entry).values_list("key", flat=True))
    response = web.post(
        reverse("admin:risk_blacklistentry_change", args=[entry.pk]),
        entry_form(value="Aleksandrov", match="fuzzy", weight="10"),
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.value_normalized == "aleksandrov"
    new_keys = set(BlacklistToken.objects.filter(entry=entry).values_list("key", flat=True))
    assert new_keys and not (new_keys & old_keys)


def test_entries_are_deactivated_not_deleted(seeded, web) -> None:  # type: ignore[no-untyped-def]
    entry = listed("email", "ada@example.com")
    response = web.post(
        reverse(CHANGELIST),
        {"action": "deactivate_entries", "_selected_action": [entry.pk]},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert not entry.is_active
    assert entry.version == BlacklistState.objects.get(pk=1).version
    assert web.get(reverse("admin:risk_blacklistentry_delete", args=[entry.pk])).status_code == 403


def test_changelist_masks_values_and_costs_constant_queries(seeded, web) -> None:  # type: ignore[no-untyped-def]
    listed("email", "ada.lovelace@example.com")
    listed("last_name", "Lovelace", match="normalized")
    listed("id_number", "S1234567D")
    web.get(reverse(CHANGELIST))  # warm-up (session, content types)
    with CaptureQueriesContext(connection) as few:
        response = web.get(reverse(CHANGELIST))
    body = response.content.decode()
    assert response.status_code == 200
    assert "ada.lovelace@example.com" not in body and "a***@example.com" in body
    assert "Lovelace" not in body and "L***" in body
    assert "S1234567D" not in body and "*****567D" in body
    for i in range(30):
        listed("email", f"user{i}@example.com", program=ProgramFactory())
    with CaptureQueriesContext(connection) as many:
        assert web.get(reverse(CHANGELIST)).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("term", ["LOVELACE", "lovelace", "Lövelace", "love"])
def test_search_compares_normalized_keys(seeded, web, term) -> None:  # type: ignore[no-untyped-def]
    entry = listed("last_name", "Lovelace", match="normalized")
    listed("last_name", "Hopper", match="normalized")
    response = web.get(reverse(CHANGELIST), {"q": term})
    assert [e.pk for e in response.context["cl"].result_list] == [entry.pk]


def test_search_with_a_nul_character_is_not_a_server_error(seeded, web) -> None:  # type: ignore[no-untyped-def]
    listed("last_name", "Lovelace", match="normalized")
    response = web.get(reverse(CHANGELIST), {"q": "love\x00"})
    assert response.status_code == 400  # the input boundary refuses a NUL: never a 500


def test_search_finds_canonical_exact_values(seeded, web) -> None:  # type: ignore[no-untyped-def]
    entry = listed("mobile", "+65 9123 4567")
    response = web.get(reverse(CHANGELIST), {"q": "+65 9123-4567"})
    assert [e.pk for e in response.context["cl"].result_list] == [entry.pk]


def test_scope_filter(seeded, web) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory(code="alpha")
    everywhere = listed("email", "a@example.com")
    own = listed("email", "b@example.com", program=program)
    response = web.get(reverse(CHANGELIST), {"scope": "global"})
    assert [e.pk for e in response.context["cl"].result_list] == [everywhere.pk]
    response = web.get(reverse(CHANGELIST), {"scope": str(program.pk)})
    assert [e.pk for e in response.context["cl"].result_list] == [own.pk]


# --- import / export ------------------------------------------------------------------------


def test_import_page_reports_rejected_lines_and_records_the_operator(seeded, web, operator) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory(code="alpha")
    upload = SimpleUploadedFile(
        "list.csv",
        b"entity_attribute,value,match,action,weight,reason\n"
        b"customer.email,ada@example.com,exact,block,,\n"
        b"customer.email,broken,exact,block,,\n",
        content_type="text/csv",
    )
    response = web.post(
        reverse("admin:risk_blacklistentry_import"), {"file": upload, "program": program.pk}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "1 added, 0 skipped, 1 rejected" in body
    assert "line 3: value: not a valid e-mail address" in body
    entry = BlacklistEntry.objects.get()
    assert (entry.program, entry.added_by) == (program, operator)


def test_import_page_refuses_a_bad_header(seeded, web) -> None:  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("list.csv", b"value\nx\n", content_type="text/csv")
    response = web.post(reverse("admin:risk_blacklistentry_import"), {"file": upload})
    assert response.status_code == 200
    assert "missing column" in response.content.decode()
    assert not BlacklistEntry.objects.exists()


def test_export_round_trips_through_import(seeded, web, tmp_path) -> None:  # type: ignore[no-untyped-def]
    listed("email", "ada@example.com", reason="sanctions, 2024")
    listed("last_name", "Mohammed", match="fuzzy", action="score", weight=30)
    response = web.get(reverse("admin:risk_blacklistentry_export"))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    got = {(r["entity_attribute"], r["value"], r["match"], r["action"], r["weight"]) for r in rows}
    assert got == {
        ("customer.email", "ada@example.com", "exact", "block", ""),
        ("customer.last_name", "Mohammed", "fuzzy", "score", "30"),
    }
    assert {r["reason"] for r in rows} == {"sanctions, 2024", "test"}
    # importing the export again skips everything
    from django.core.management import call_command

    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("import_blacklist", str(path), "--no-progress", stdout=out)
    assert out.getvalue().splitlines()[-1] == "0 added, 2 skipped, 0 rejected"


def test_export_respects_the_changelist_filters(seeded, web) -> None:  # type: ignore[no-untyped-def]
    listed("email", "ada@example.com")
    listed("last_name", "Hopper", match="normalized")
    response = web.get(
        reverse("admin:risk_blacklistentry_export"), {"entity_attribute": "customer.email"}
    )
    text = b"".join(response.streaming_content).decode()
    assert "ada@example.com" in text and "Hopper" not in text


# --- effect preview -------------------------------------------------------------------------


def test_effect_preview_counts_live_users_per_program(seeded, web) -> None:  # type: ignore[no-untyped-def]
    alpha, beta = ProgramFactory(code="alpha"), ProgramFactory(code="beta")
    AccountHolderFactory(program=alpha, email="Ada@Example.com", last_name="Muhammad")
    AccountHolderFactory(program=beta, email="ada@example.com", last_name="Mohamed")
    AccountHolderFactory(program=beta, email="x@example.com", last_name="Mohammad")
    AccountHolderFactory(
        program=beta, email="ada@example.com", last_name="Mohammed", status=Status.BLOCKED
    )
    AccountHolderFactory(program=alpha, mobile_country_code="65", mobile="91234567")
    email = listed("email", "ada@example.com")
    name = listed("last_name", "Mohammed", match="fuzzy", action="score", weight=10)
    phone = listed("mobile", "6591234567", program=alpha)
    response = web.post(
        reverse(CHANGELIST),
        {"action": "preview_effect", "_selected_action": [email.pk, name.pk, phone.pk]},
    )
    assert response.status_code == 200
    rows = {row["entry"].pk: row for row in response.context["rows"]}
    assert rows[email.pk]["by_program"] == [("alpha", 1), ("beta", 1)]
    assert rows[name.pk]["by_program"] == [("alpha", 1), ("beta", 2)]
    assert rows[name.pk]["scanned"]
    assert rows[phone.pk]["by_program"] == [("alpha", 1)]
    assert "ada@example.com" not in response.content.decode()


# --- settings, exemptions, screenings -------------------------------------------------------


def test_settings_threshold_must_be_positive(seeded, web) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory()
    settings = RiskSettings.objects.get(program=program)
    url = reverse("admin:risk_risksettings_change", args=[settings.pk])
    response = web.post(url, {"threshold": "0", "enabled": "on"})
    assert response.status_code == 200
    assert RiskSettings.objects.get(pk=settings.pk).threshold == 100
    response = web.post(url, {"threshold": "150"})
    assert response.status_code == 302
    settings.refresh_from_db()
    assert (settings.threshold, settings.enabled) == (150, False)
    assert web.get(reverse("admin:risk_risksettings_delete", args=[settings.pk])).status_code == 403


def test_settings_can_be_added_for_a_program_without(seeded, web) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory()
    RiskSettings.objects.filter(program=program).delete()
    response = web.post(
        reverse("admin:risk_risksettings_add"),
        {"program": program.pk, "threshold": "100", "enabled": "on"},
    )
    assert response.status_code == 302
    assert RiskSettings.objects.get(program=program).threshold == 100


def test_grant_exemption_in_the_admin_supersedes_the_open_one(seeded, web, operator) -> None:  # type: ignore[no-untyped-def]
    user = AccountHolderFactory(program=ProgramFactory(), risk_status=RiskStatus.PENDING)
    first = exemption_grant(
        user=user, reason="a", expires_at=timezone.now() + timedelta(days=1), granted_by=operator
    )
    expires = timezone.localtime() + timedelta(days=10)
    response = web.post(
        reverse("admin:risk_riskexemption_add"),
        {
            "user": user.pk,
            "reason": "verified in branch",
            "expires_at_0": expires.strftime("%Y-%m-%d"),
            "expires_at_1": expires.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    first.refresh_from_db()
    assert first.end_cause == ExemptionEnd.SUPERSEDED
    current = RiskExemption.objects.get(user=user, ended_at__isnull=True)
    assert current.reason == "verified in branch" and current.granted_by == operator


def test_grant_exemption_refuses_a_past_expiry(seeded, web) -> None:  # type: ignore[no-untyped-def]
    user = AccountHolderFactory(program=ProgramFactory())
    past = timezone.localtime() - timedelta(days=1)
    response = web.post(
        reverse("admin:risk_riskexemption_add"),
        {
            "user": user.pk,
            "reason": "x",
            "expires_at_0": past.strftime("%Y-%m-%d"),
            "expires_at_1": past.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200
    assert not RiskExemption.objects.exists()


def test_revoke_action_asks_for_a_reason(seeded, web, operator) -> None:  # type: ignore[no-untyped-def]
    user = AccountHolderFactory(program=ProgramFactory())
    exemption = exemption_grant(
        user=user, reason="a", expires_at=timezone.now() + timedelta(days=1), granted_by=operator
    )
    url = reverse("admin:risk_riskexemption_changelist")
    page = web.post(url, {"action": "revoke_exemptions", "_selected_action": [exemption.pk]})
    assert page.status_code == 200 and "reason" in page.content.decode()
    assert RiskExemption.objects.get(pk=exemption.pk).ended_at is None
    done = web.post(
        url,
        {
            "action": "revoke_exemptions",
            "_selected_action": [exemption.pk],
            "confirm": "yes",
            "reason": "fraud confirmed",
        },
    )
    assert done.status_code == 302
    exemption.refresh_from_db()
    assert (exemption.end_cause, exemption.ended_reason, exemption.ended_by) == (
        ExemptionEnd.REVOKED,
        "fraud confirmed",
        operator,
    )


def test_screenings_are_read_only_and_explain_the_matches(seeded, web) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory()
    entry = listed("last_name", "Lovelace", match="normalized", action="score", weight=20)
    user = AccountHolderFactory(program=program)
    screening = record_screening(
        user=user,
        decision=screen_user_write(program=program, values=values(last_name="Lovelace")),
        trigger="create",
    )
    listing = web.get(reverse("admin:risk_screening_changelist"))
    assert listing.status_code == 200 and user.public_id in listing.content.decode()
    detail = web.get(reverse("admin:risk_screening_change", args=[screening.pk]))
    body = detail.content.decode()
    assert detail.status_code == 200
    assert f"#{entry.pk}" in body and "customer.last_name" in body
    change_url = reverse("admin:risk_screening_change", args=[screening.pk])
    assert web.post(change_url, {}).status_code == 403
    assert web.get(reverse("admin:risk_screening_add")).status_code == 403
    assert Screening.objects.count() == 1
