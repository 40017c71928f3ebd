"""The audit trail: one `UserEvent` per write, with field changes old → new, PII masked.

Events are read by operators (admin inline) and by partners (v2 `/events`), so values that
identify a person are masked when the event is written (with `core.masking`, the masks the
admin and the logs use too) — the stored trail itself never holds
a full name, e-mail, phone, id number or birthday, and never anything of a password.

Every `UserEvent` is written here (`record_event`, or `build_event` + `insert_events` for a
write that inserts several in one statement), and this is also where a write becomes a
partner event (SPEC §13): an audit row whose change partners hear about gets its `topic`
(`user.status_changed`, ...) and the user's next `sequence`, in the write's own INSERT. The
apps above `users` that deliver those events (webhooks) subscribe with `on_publish`; they are
called with the published rows inside the write's transaction, so whatever they write (the
delivery task) commits or rolls back with the change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import Max, Subquery, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.masking import (
    DATE_MASK,
    OBJECT_MASK,
    PASSWORD_MASK,
    mask_address_line,
    mask_email,
    mask_name,
    mask_number,
)
from users.models import AccountHolder, EventType, UserEvent

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
_ADDRESS_LINES = frozenset(
    {"address_1", "address_2", "address_3", "address_4", "city", "state", "zipcode"}
)


def mask_value(path: str, value: Any) -> Any:
    """The form of a canonical field's value that may be stored in the audit trail."""
    last = path.rsplit(".", 1)[-1]
    if path == "password":
        return PASSWORD_MASK if value is not None else None
    if value is None:
        return None
    if path in ("metadata", "created_by"):
        return OBJECT_MASK  # free-form objects may carry anything: record that they changed
    if isinstance(value, datetime | date):
        if path == "birth_date" or path.startswith("identification."):
            return DATE_MASK
        return _plain(value)
    text = str(value)
    if path == "email":
        return mask_email(text)
    if path == "mobile" or last in ("number", "tin"):
        return mask_number(text)
    if path in _NAME_FIELDS:
        return mask_name(text)
    if path.startswith("addresses.") and last in _ADDRESS_LINES:
        return mask_address_line(text)
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


# audit type → partner event type; `None` entries depend on the changes (see `topic_for`)
_TOPICS: dict[str, str | None] = {
    EventType.CREATED: "user.created",
    EventType.UPDATED: "user.updated",
    EventType.STATUS_CHANGED: "user.status_changed",
    EventType.SCREENED: None,
    EventType.REVIEWED: None,
    EventType.PENDING_UPDATE_REQUESTED: "user.pending_update.requested",
    EventType.PENDING_UPDATE_APPROVED: "user.pending_update.approved",
    EventType.PENDING_UPDATE_REJECTED: "user.pending_update.rejected",
    # written by the document and erasure work through this module
    "document_uploaded": "user.document.uploaded",
    "document_deleted": "user.document.deleted",
    "erased": "user.erased",
}

Publisher = Callable[[Sequence[UserEvent]], None]
_publishers: list[Publisher] = []


def on_publish(publisher: Publisher) -> None:
    """Call `publisher` with every write's published events, inside the write's transaction.

    Registered once by an app above `users` (in its `AppConfig.ready`); registering the same
    function twice is a no-op.
    """
    if publisher not in _publishers:
        _publishers.append(publisher)


def topic_for(type: str, changes: Mapping[str, Any]) -> str:
    """The partner event type an audit row publishes, or "" for an internal-only row.

    A screening publishes only when it moved the risk status, a review as the status it moved
    (or as `user.updated` for other fields); granting or revoking a risk exemption, and a
    screening that changed nothing, stay internal.
    """
    topic = _TOPICS.get(type, "")
    if topic is not None:
        return topic
    if "kyc_status" in changes or "kyc_sub_status" in changes:
        return "user.kyc_status_changed"
    if "risk_status" in changes:
        return "user.risk_status_changed"
    if type == EventType.REVIEWED and set(changes) - {"risk_exemption"}:
        return "user.updated"  # an operator's other decisions: contact verified, wallet created
    return ""


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
    masked = masked_changes(changes or {})
    return UserEvent(
        user=user,
        type=type,
        actor_kind=actor_kind,
        actor_id=actor_id,
        channel=channel,
        reason=reason,
        changes=masked,
        at=at or timezone.now(),
        topic=topic_for(type, masked),
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
    """Write one event; a published one takes the user's next sequence in the same INSERT.

    The caller holds the user's row lock (every write path does), so the `MAX + 1` cannot
    race; the unique `(user, sequence)` constraint is the database's guarantee behind it.
    """
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
    if event.topic:
        event.sequence = _next_sequence(event.user_id)  # type: ignore[assignment]
    event.save(force_insert=True)
    if event.topic:
        # the number was computed by the database: forget the expression, so that reading
        # `event.sequence` loads the value (a deferred field) instead of costing every write
        del event.__dict__["sequence"]
        _publish([event])
    return event


def insert_events(events: Sequence[UserEvent]) -> list[UserEvent]:
    """Insert built events in one statement, published ones numbered per user in list order.

    A new user's `created` event is its first (sequence 1); for the others one grouped read
    of the users' current maxima (under the row locks the callers hold) sets the numbers.
    """
    published = [e for e in events if e.topic]
    others = {e.user_id for e in published if e.type != EventType.CREATED}
    last: dict[int, int] = {}
    if others:
        last = {
            row["user_id"]: row["last"] or 0
            for row in UserEvent.objects.filter(user_id__in=others)
            .order_by()
            .values("user_id")
            .annotate(last=Max("sequence"))
        }
    for event in published:
        last[event.user_id] = last.get(event.user_id, 0) + 1
        event.sequence = last[event.user_id]
    saved = UserEvent.objects.bulk_create(events)
    if published:
        _publish(published)
    return saved


def _next_sequence(user_id: int) -> CombinedExpression:
    latest = (
        UserEvent.objects.filter(user_id=user_id)
        .order_by()
        .values("user_id")
        .annotate(last=Max("sequence"))
        .values("last")
    )
    return Coalesce(Subquery(latest), Value(0)) + 1


def _publish(events: Sequence[UserEvent]) -> None:
    for publisher in _publishers:
        publisher(events)
