"""One duplicate rule for every door that writes blacklist entries (issue 11).

An entry duplicates an active entry with the same attribute, match, normalized value and
scope. The admin form refuses it, `blacklist_entry_save` refuses it, re-activation refuses
it and the importer skips it: each door is run on the same table of cases and must agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from programs.models import Program
from risk.importing import import_rows
from risk.models import BlacklistEntry
from risk.services import (
    DUPLICATE_ENTRY,
    blacklist_entries_set_active,
    blacklist_entry_save,
)
from tests.factories import ProgramFactory
from tests.risk.helpers import listed

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    name: str
    value: str  # the new entry's value (last name)
    match: str
    scoped: bool  # the new entry is for program alpha (the listed one is global)
    listed_active: bool
    duplicate: bool


CASES = [
    Case("same value", "Lovelace", "normalized", False, True, True),
    Case("same normalized value", "  LOVELÂCE ", "normalized", False, True, True),
    Case("other scope", "Lovelace", "normalized", True, True, False),
    Case("other match", "Lovelace", "exact", False, True, False),
    Case("listed entry inactive", "Lovelace", "normalized", False, False, False),
    Case("other value", "Byron", "normalized", False, True, False),
]


@pytest.fixture
def alpha(seeded: None) -> Program:
    return ProgramFactory(code="alpha")


def _list_existing(case: Case) -> BlacklistEntry:
    entry = listed("last_name", "Lovelace", match="normalized", action="score", weight=10)
    if not case.listed_active:
        blacklist_entries_set_active(entries=[entry], active=False)
    return entry


def _new_entry(case: Case, alpha: Program) -> BlacklistEntry:
    return BlacklistEntry(
        entity_attribute="customer.last_name",
        value=case.value,
        match=case.match,
        action="score",
        weight=40,
        reason="watch list",
        program=alpha if case.scoped else None,
    )


def _admin_door(case: Case, alpha: Program, client) -> bool:  # type: ignore[no-untyped-def]
    operator = get_user_model().objects.create_superuser("opadmin", "op@example.com", "pw")
    client.force_login(operator)
    form = {
        "entity_attribute": "customer.last_name",
        "value": case.value,
        "match": case.match,
        "program": alpha.pk if case.scoped else "",
        "action": "score",
        "weight": "40",
        "reason": "watch list",
        "is_active": "on",
    }
    response = client.post(reverse("admin:risk_blacklistentry_add"), form)
    if response.status_code == 302:
        return False
    assert response.status_code == 200
    assert DUPLICATE_ENTRY in str(response.context["adminform"].form.non_field_errors())
    return True


def _service_door(case: Case, alpha: Program, client) -> bool:  # type: ignore[no-untyped-def]
    try:
        blacklist_entry_save(entry=_new_entry(case, alpha), by_label="test")
    except ValidationError as exc:
        assert exc.messages == [DUPLICATE_ENTRY]
        return True
    return False


def _importer_door(case: Case, alpha: Program, client) -> bool:  # type: ignore[no-untyped-def]
    row = {
        "entity_attribute": "customer.last_name",
        "value": case.value,
        "match": case.match,
        "action": "score",
        "weight": "40",
        "reason": "watch list",
    }
    report = import_rows(rows=[(2, row)], program=alpha if case.scoped else None)
    assert not report.rejected
    assert report.added + report.skipped == 1
    return report.skipped == 1


def _reactivation_door(case: Case, alpha: Program, client) -> bool:  # type: ignore[no-untyped-def]
    """The new entry is listed inactive first, then re-activated."""
    entry = _new_entry(case, alpha)
    entry.is_active = False
    blacklist_entry_save(entry=entry, by_label="test")
    try:
        blacklist_entries_set_active(entries=[entry], active=True)
    except ValidationError:
        return True
    return False


DOORS = {
    "admin": _admin_door,
    "service": _service_door,
    "importer": _importer_door,
    "reactivation": _reactivation_door,
}


@pytest.mark.parametrize("door", sorted(DOORS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_door_refuses_the_same_duplicates(case: Case, door: str, alpha, client) -> None:  # type: ignore[no-untyped-def]
    existing = _list_existing(case)
    before = set(BlacklistEntry.objects.filter(is_active=True).values_list("pk", flat=True))

    refused = DOORS[door](case, alpha, client)

    assert refused is case.duplicate
    active = set(BlacklistEntry.objects.filter(is_active=True).values_list("pk", flat=True))
    if case.duplicate:
        # nothing added or activated; the listed entry untouched
        assert active == before
        existing.refresh_from_db()
        assert existing.is_active is case.listed_active
    else:
        assert len(active - before) == 1
