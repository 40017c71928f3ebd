"""screen_user_write and record_screening: every outcome of the SPEC §6b table, at the service.

The users services map these decisions to HTTP answers; the API tests live with them.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import error_codes
from core.exceptions import ApiError
from risk import matching
from risk.models import BlacklistEntry, RiskSettings, Screening
from risk.services import screen_user_write
from tests.factories import AccountHolderFactory, ProgramFactory
from tests.risk.helpers import listed, values
from users.models import AccountHolder, EventType, Identification, RiskStatus, UserEvent
from users.screening import next_risk_status, record_screening, screening_values_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(seeded: None):  # type: ignore[no-untyped-def]
    return ProgramFactory(code="alpha")


def test_block_entry_blocks(program) -> None:  # type: ignore[no-untyped-def]
    entry = listed("email", "ada@example.com")
    listed("first_name", "Ada", match="normalized", action="score", weight=10)
    decision = screen_user_write(
        program=program, values=values(first_name="Ada", email="ADA@example.com")
    )
    assert decision.outcome == "block"
    assert decision.refuses
    assert decision.heaviest_attribute == "customer.email"
    assert entry.pk in {m.entry_id for m in decision.matches}
    assert decision.score == 10


def test_scores_reaching_the_threshold_name_the_heaviest_match(program) -> None:  # type: ignore[no-untyped-def]
    listed("first_name", "Ada", match="normalized", action="score", weight=30)
    listed("last_name", "Lovelace", match="normalized", action="score", weight=70)
    decision = screen_user_write(
        program=program, values=values(first_name="ada", last_name="LOVELACE")
    )
    assert decision.outcome == "threshold"
    assert decision.score == 100 == decision.threshold
    assert decision.heaviest_attribute == "customer.last_name"
    description = error_codes.describe(
        error_codes.RISK_ENTITY_THRESHOLD_EXCEEDED, entity=decision.heaviest_attribute
    )
    assert description == "Entity 'customer.last_name' requested for evaluation is blacklisted"


def test_some_score_below_the_threshold_flags(program) -> None:  # type: ignore[no-untyped-def]
    listed("first_name", "Ada", match="normalized", action="score", weight=99)
    decision = screen_user_write(program=program, values=values(first_name="Ada"))
    assert (decision.outcome, decision.score, decision.threshold) == ("flag", 99, 100)
    assert not decision.refuses
    assert decision.heaviest_attribute == "customer.first_name"


def test_no_match_clears(program) -> None:  # type: ignore[no-untyped-def]
    listed("email", "someone@example.com")
    decision = screen_user_write(program=program, values=values(email="ada@example.com"))
    assert (decision.outcome, decision.score, decision.matches) == ("clear", 0, [])
    assert decision.heaviest_attribute is None


def test_the_threshold_is_the_programs(program) -> None:  # type: ignore[no-untyped-def]
    RiskSettings.objects.filter(program=program).update(threshold=40)
    listed("first_name", "Ada", match="normalized", action="score", weight=40)
    assert screen_user_write(program=program, values=values(first_name="Ada")).outcome == (
        "threshold"
    )


def test_disabled_screening_does_not_match(program) -> None:  # type: ignore[no-untyped-def]
    RiskSettings.objects.filter(program=program).update(enabled=False, threshold=None)
    listed("email", "ada@example.com")
    with CaptureQueriesContext(connection) as ctx:
        decision = screen_user_write(program=program, values=values(email="ada@example.com"))
    assert decision.outcome == "disabled"
    assert decision.matches == []
    assert len(ctx.captured_queries) == 1  # the settings only


@pytest.mark.parametrize("threshold", [None, 0, -5])
def test_unusable_threshold_is_a_config_error(program, threshold) -> None:  # type: ignore[no-untyped-def]
    RiskSettings.objects.filter(program=program).update(threshold=threshold)
    with pytest.raises(ApiError) as caught:
        screen_user_write(program=program, values=values(email="ada@example.com"))
    assert caught.value.code == error_codes.RISK_CONFIG_ERROR
    assert caught.value.status == 500


def test_missing_settings_is_a_config_error(program) -> None:  # type: ignore[no-untyped-def]
    RiskSettings.objects.filter(program=program).delete()
    with pytest.raises(ApiError) as caught:
        screen_user_write(program=program, values=values(email="ada@example.com"))
    assert (caught.value.code, caught.value.status) == (error_codes.RISK_CONFIG_ERROR, 500)


def test_matcher_failure_is_an_engine_error(program, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("index unavailable for ada@example.com")

    monkeypatch.setattr("risk.screening.find_matches_many", broken)
    with pytest.raises(ApiError) as caught:
        screen_user_write(program=program, values=values(email="ada@example.com"))
    assert (caught.value.code, caught.value.status) == (error_codes.RISK_ENGINE_ERROR, 403)
    # the failure is logged without the screened values
    assert "RuntimeError" in caplog.text
    assert "ada@example.com" not in caplog.text


def test_fuzzy_matcher_failure_is_an_engine_error(program, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    listed("first_name", "Mohammed", match="fuzzy")

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("boom")

    monkeypatch.setattr(matching, "names_match", broken)
    with pytest.raises(ApiError) as caught:
        screen_user_write(program=program, values=values(first_name="Muhammad"))
    assert caught.value.code == error_codes.RISK_ENGINE_ERROR


def test_decision_records_list_and_matcher_versions(program) -> None:  # type: ignore[no-untyped-def]
    first = screen_user_write(program=program, values=values(first_name="Ada"))
    entry = listed("first_name", "Ada", match="normalized", action="score", weight=5)
    second = screen_user_write(program=program, values=values(first_name="Ada"))
    assert second.list_version > first.list_version
    assert second.list_version == entry.version
    assert second.matcher_version == matching.MATCHER_VERSION
    assert second.matches[0].entry_version == entry.version


def test_screening_costs_constant_queries(program) -> None:  # type: ignore[no-untyped-def]
    listed("first_name", "Mohammed", match="fuzzy", action="score", weight=5)
    screened = values(
        first_name="Muhammad",
        last_name="Lovelace",
        email="ada@example.com",
        mobile="6591234567",
        id_number=["S1234567D"],
        nationality="SGP",
        birthday="1990-01-31",
    )
    with CaptureQueriesContext(connection) as ctx:
        decision = screen_user_write(program=program, values=screened)
    assert decision.outcome == "flag"
    # settings + list version (1), exact/normalized keys (1), fuzzy candidates (1)
    assert len(ctx.captured_queries) == 3


# --- the values screened ---------------------------------------------------------------------


def test_screening_values_for_an_unsaved_user(program) -> None:  # type: ignore[no-untyped-def]
    user = AccountHolder(
        program=program,
        first_name="Ada",
        middle_name=None,
        last_name=" Lovelace ",
        preferred_name="",
        maiden_name="Byron",
        email="ada@example.com",
        mobile_country_code="65",
        mobile="91234567",
        nationality="GBR",
        birth_date=date(1990, 1, 31),
    )
    got = screening_values_for(
        user, [Identification(number="S1234567D"), {"number": "E7654321"}, None]
    )
    assert got == values(
        first_name="Ada",
        last_name="Lovelace",
        maiden_name="Byron",
        name=["Ada Lovelace", "Ada Byron"],  # the full name, and with the maiden name
        email="ada@example.com",
        mobile="6591234567",
        id_number=["S1234567D", "E7654321"],
        nationality="GBR",
        birthday="1990-01-31",
    )


def test_each_listed_attribute_is_screened(program) -> None:  # type: ignore[no-untyped-def]
    user = AccountHolder(
        program=program,
        first_name="Ada",
        middle_name="Mary",
        last_name="Lovelace",
        preferred_name="Addie",
        maiden_name="Byron",
        email="ada@example.com",
        mobile_country_code="65",
        mobile="91234567",
        nationality="GBR",
        birth_date=date(1990, 1, 31),
    )
    screened = screening_values_for(user, [Identification(number="S1234567D")])
    for attribute, value in [
        ("first_name", "Ada"),
        ("middle_name", "Mary"),
        ("last_name", "Lovelace"),
        ("preferred_name", "Addie"),
        ("maiden_name", "Byron"),
        ("email", "ada@example.com"),
        ("mobile", "6591234567"),
        ("id_number", "S1234567D"),
        ("nationality", "GBR"),
        ("birthday", "1990-01-31"),
    ]:
        entry = listed(attribute, value)
        decision = screen_user_write(program=program, values=screened)
        assert decision.outcome == "block", attribute
        assert decision.heaviest_attribute == f"customer.{attribute}"
        BlacklistEntry.objects.filter(pk=entry.pk).update(is_active=False)


# --- recording ------------------------------------------------------------------------------


def test_record_screening_persists_the_decision_and_an_event(program) -> None:  # type: ignore[no-untyped-def]
    entry = listed("first_name", "Ada", match="normalized", action="score", weight=20)
    user = AccountHolderFactory(program=program, first_name="Ada")
    decision = screen_user_write(program=program, values=values(first_name="Ada"))
    screening = record_screening(user=user, decision=decision, trigger="create")
    stored = Screening.objects.get(pk=screening.pk)
    assert (stored.outcome, stored.score, stored.threshold, stored.trigger) == (
        "flag",
        20,
        100,
        "create",
    )
    assert stored.matches[0]["entry_id"] == entry.pk
    assert stored.matches[0]["matcher"] == "normalized"
    assert stored.list_version == decision.list_version
    assert stored.heaviest_attribute == "customer.first_name"
    event = UserEvent.objects.get(user=user, type=EventType.SCREENED)
    assert "flag" in event.reason and "20/100" in event.reason
    assert "Ada" not in event.reason  # no PII in the audit text


def test_record_screening_rejects_an_unknown_trigger(program) -> None:  # type: ignore[no-untyped-def]
    user = AccountHolderFactory(program=program)
    decision = screen_user_write(program=program, values={})
    with pytest.raises(ValueError):
        record_screening(user=user, decision=decision, trigger="whenever")
    assert not Screening.objects.exists()


@pytest.mark.parametrize(
    ("outcome", "current", "expected"),
    [
        ("flag", None, RiskStatus.PENDING),
        ("clear", None, RiskStatus.CLEARED),
        ("disabled", None, RiskStatus.UNKNOWN),
        ("flag", RiskStatus.CLEARED, RiskStatus.PENDING),
        ("clear", RiskStatus.PENDING, RiskStatus.PENDING),  # kept until a review clears it
        ("clear", RiskStatus.REJECTED, RiskStatus.REJECTED),
        ("clear", RiskStatus.CLEARED, RiskStatus.CLEARED),
        ("clear", RiskStatus.UNKNOWN, RiskStatus.CLEARED),
        ("disabled", RiskStatus.PENDING, RiskStatus.PENDING),
        ("threshold", RiskStatus.CLEARED, RiskStatus.REJECTED),
    ],
)
def test_next_risk_status(outcome, current, expected) -> None:  # type: ignore[no-untyped-def]
    from risk.screening import ScreeningDecision

    decision = ScreeningDecision(outcome=outcome, score=0, threshold=100)
    assert next_risk_status(decision=decision, current=current) == expected


def test_program_create_gives_default_risk_settings(seeded: None) -> None:
    from programs.services import program_create

    program = program_create(code="gamma", name="Gamma", country="SGP")
    settings = RiskSettings.objects.get(program=program)
    assert (settings.threshold, settings.enabled) == (100, True)
    # so the first write of a new program is screened, not refused as misconfigured
    decision = screen_user_write(program=program, values=values(email="ada@example.com"))
    assert decision.outcome == "clear"
