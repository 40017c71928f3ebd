"""Risk services: screening values, the program's risk settings, the blacklist's one door.

The engine knows nothing of users: `screen_user_write` decides on a mapping of `customer.*`
attributes; screening a user, recording it, reviews, exemptions and re-screening are the
users app's (users/screening.py, users/exemptions.py). Every blacklist write — the admin form,
`blacklist_entry_save`, activation and the importer — refuses or skips the same duplicates
(`active_duplicates`: an active entry with the attribute, match, normalized value and scope).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from programs.models import Program
from risk.entries import clean_entry
from risk.matching import index_keys
from risk.models import BlacklistEntry, BlacklistState, BlacklistToken, RiskSettings
from risk.normalize import key_for
from risk.screening import ScreeningDecision, screen_many

__all__ = [
    "DUPLICATE_ENTRY",
    "ScreeningDecision",
    "active_duplicates",
    "blacklist_entries_set_active",
    "blacklist_entry_is_duplicate",
    "blacklist_entry_save",
    "bump_list_version",
    "risk_settings_ensure",
    "screen_user_write",
]

DUPLICATE_ENTRY = "An active entry with this attribute, match, value and scope exists."


# --- screening ----------------------------------------------------------------------------


def screen_user_write(*, program: Program, values: Mapping[str, list[str]]) -> ScreeningDecision:
    """Screen the values a create or update would leave on the user (SPEC §6b).

    `values` maps `customer.*` attributes to lists of strings (see
    `users.screening.screening_values_for`). Raises `ApiError(RISK_CONFIG_ERROR)` (500) when
    the program's settings are missing or have no positive threshold,
    `ApiError(RISK_ENGINE_ERROR)` (403) when matching fails. Costs a constant number of
    queries: settings and list version (1), exact and normalized keys (1), fuzzy name
    candidates (1, only when a name is screened).
    """
    return screen_many(program=program, subjects=[values])[0]


# --- settings and blacklist ---------------------------------------------------------------


def risk_settings_ensure(*, program: Program) -> RiskSettings:
    """The program's settings, created with the defaults (threshold 100, enabled) if missing."""
    settings, _ = RiskSettings.objects.get_or_create(program=program)
    return settings


def bump_list_version() -> int:
    """Advance the list version in the current transaction and return it.

    The row lock this takes serialises blacklist writers (operators, imports); screenings only
    read the row.
    """
    with transaction.atomic():
        state = BlacklistState.objects.select_for_update().filter(pk=1).first()
        if state is None:
            try:
                with transaction.atomic():
                    state = BlacklistState.objects.create(pk=1, version=0)
            except IntegrityError:
                state = BlacklistState.objects.select_for_update().get(pk=1)
        state.version += 1
        state.changed_at = timezone.now()
        state.save(update_fields=["version", "changed_at"])
        return state.version


def active_duplicates(
    *,
    program: Program | int | None,
    identities: Iterable[tuple[str, str, str]],
    exclude_pk: int | None = None,
) -> set[tuple[str, str, str]]:
    """Which (attribute, match, normalized value) identities an active entry of the scope
    (`program`, None = global) already has: the one duplicate rule of every blacklist door.

    One query whatever the number of identities (the importer asks per batch).
    """
    wanted = set(identities)
    if not wanted:
        return set()
    rows = BlacklistEntry.objects.filter(
        is_active=True, program=program, value_normalized__in={key for _, _, key in wanted}
    )
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    found = rows.values_list("entity_attribute", "match", "value_normalized")
    return wanted & set(found)


def blacklist_entry_is_duplicate(entry: BlacklistEntry) -> bool:
    """Whether an active entry other than `entry` has its attribute, match, normalized value
    and scope (`entry` may be unsaved; the admin form asks with the values it cleaned)."""
    identity = (entry.entity_attribute, entry.match, entry.value_normalized)
    return bool(
        active_duplicates(program=entry.program_id, identities=[identity], exclude_pk=entry.pk)
    )


@transaction.atomic
def blacklist_entry_save(
    *, entry: BlacklistEntry, by: User | None = None, by_label: str = ""
) -> BlacklistEntry:
    """Create or change an entry (admin): validate like an import row, key, index, version.

    Raises `ValidationError` for invalid values and for a duplicate of an active entry.
    """
    data = clean_entry(
        entity_attribute=entry.entity_attribute,
        value=entry.value,
        match=entry.match,
        action=entry.action,
        weight=entry.weight,
        reason=entry.reason,
    )
    entry.value = data.value
    entry.weight = data.weight
    entry.reason = data.reason
    entry.value_normalized = key_for(data.entity_attribute, data.match, data.value)
    if entry.pk is None:
        entry.added_by = by if by is not None and by.pk else None
        entry.added_by_label = by_label or (by.get_username() if by is not None else "")
    if entry.is_active and blacklist_entry_is_duplicate(entry):
        raise ValidationError(DUPLICATE_ENTRY)
    entry.version = bump_list_version()
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:
        # a concurrent writer added the same entry between the check and the insert
        raise ValidationError(DUPLICATE_ENTRY) from exc
    BlacklistToken.objects.filter(entry=entry).delete()
    BlacklistToken.objects.bulk_create(index_keys([entry]))
    return entry


@transaction.atomic
def blacklist_entries_set_active(*, entries: Iterable[BlacklistEntry], active: bool) -> int:
    """Activate or deactivate entries (entries are never deleted: screenings refer to them).

    Re-activating an entry that duplicates another active one is refused with
    `ValidationError`.
    """
    changed = [e for e in entries if e.is_active != active]
    if not changed:
        return 0
    version = bump_list_version()
    for entry in changed:
        entry.is_active = active
        if active and blacklist_entry_is_duplicate(entry):
            raise ValidationError(f"Entry {entry.pk} duplicates an active entry.")
        entry.version = version
        entry.updated_at = timezone.now()
    try:
        with transaction.atomic():
            BlacklistEntry.objects.bulk_update(changed, ["is_active", "version", "updated_at"])
    except IntegrityError as exc:
        raise ValidationError("Re-activating would duplicate an active entry.") from exc
    return len(changed)
