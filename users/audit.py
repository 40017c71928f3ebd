"""The audit trail: one `UserEvent` per write, with field changes old → new, PII masked.

Events are read by operators (admin inline) and by partners (v2 `/events`), so values that
identify a person are masked when the event is written — the stored trail itself never holds
a full name, e-mail, phone, id number or birthday, and never anything of a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone

from users.models import AccountHolder, UserEvent

PASSWORD_MASK = "********"
DATE_MASK = "****-**-**"

_NAME_FIELDS = frozenset(
    {
        "first_name",
        "middle_name",
        "last_name",
        "maiden_name",
        "preferred_name",
        "mothers_first_name",
        "mothers_middle_name",
        "mothers_last_name",
        "mothers_maiden_name",
        "fathers_first_name",
        "fathers_middle_name",
        "fathers_last_name",
        "birth_place",
    }
)
_ADDRESS_LINES = frozenset({"address_1", "address_2", "address_3", "address_4", "zipcode"})


def mask_email(value: str) -> str:
    """`ada@example.com` → `a***@example.com`."""
    local, at, domain = value.partition("@")
    if not at:
        return mask_tail(value)
    return f"{local[:1]}***@{domain}"


def mask_tail(value: str, keep: int = 4) -> str:
    """All but the last `keep` characters replaced by `*` (everything, for short values)."""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def mask_name(value: str) -> str:
    return f"{value[:1]}***" if value else value


def mask_value(path: str, value: Any) -> Any:
    """The form of a canonical field's value that may be stored in the audit trail."""
    last = path.rsplit(".", 1)[-1]
    if path == "password":
        return PASSWORD_MASK if value is not None else None
    if value is None:
        return None
    if path in ("metadata", "created_by"):
        return "{…}"  # free-form objects may carry anything: record that they changed
    if isinstance(value, datetime | date):
        if path == "birth_date" or path.startswith("identification."):
            return DATE_MASK
        return _plain(value)
    text = str(value)
    if path == "email":
        return mask_email(text)
    if path == "mobile" or last in ("number", "tin"):
        return mask_tail(text)
    if path in _NAME_FIELDS or (path.startswith("addresses.") and last in _ADDRESS_LINES):
        return mask_name(text)
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def masked_changes(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """`{path: (old, new)}` → `{path: [masked old, masked new]}`, in a stable order."""
    return {
        path: [mask_value(path, old), mask_value(path, new)]
        for path, (old, new) in sorted(changes.items())
    }


def build_event(
    *,
    user: AccountHolder,
    type: str,
    actor_kind: str,
    actor_id: str,
    channel: str,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> UserEvent:
    """An unsaved event, for writes that insert several events in one statement."""
    return UserEvent(
        user=user,
        type=type,
        actor_kind=actor_kind,
        actor_id=actor_id,
        channel=channel,
        reason=reason,
        changes=masked_changes(changes or {}),
        at=at or timezone.now(),
    )


def record_event(
    *,
    user: AccountHolder,
    type: str,
    actor_kind: str,
    actor_id: str,
    channel: str,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> UserEvent:
    event = build_event(
        user=user,
        type=type,
        actor_kind=actor_kind,
        actor_id=actor_id,
        channel=channel,
        changes=changes,
        reason=reason,
        at=at,
    )
    event.save(force_insert=True)
    return event


def record_events(events: list[UserEvent]) -> list[UserEvent]:
    """Insert events made by `build_event` in one statement, in the order given (a write that
    leaves several events, a re-screening batch). Every `UserEvent` write passes through
    `record_event` or here."""
    return UserEvent.objects.bulk_create(events)
