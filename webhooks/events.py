"""The partner event catalogue and payloads (SPEC §13).

Payloads name the user and what changed — never a value that identifies a person: partners
fetch the user. `user.updated` lists the changed field names (dotted paths such as
`addresses.residential.city`), not their values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from users.models import UserEvent

TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class EventKind:
    type: str
    category: str
    description: str

    @property
    def hash(self) -> str:
        """The v1 `event_hash` / `category_hash`: a stable id of the category name."""
        return hashlib.md5(self.category.encode(), usedforsecurity=False).hexdigest()


CATALOGUE: tuple[EventKind, ...] = (
    EventKind("user.created", "USER.INDIVIDUAL.CREATE", "A user was created."),
    EventKind(
        "user.updated",
        "USER.INDIVIDUAL.INFORMATION_UPDATE",
        "A user's details changed; `fields` names them.",
    ),
    EventKind(
        "user.status_changed",
        "USER.INDIVIDUAL.INFORMATION_UPDATE.STATUS",
        "The account status changed: from, to, sub-status, reason.",
    ),
    EventKind(
        "user.kyc_status_changed",
        "USER.INDIVIDUAL.INFORMATION_UPDATE.KYC",
        "The KYC status changed.",
    ),
    EventKind(
        "user.risk_status_changed",
        "USER.INDIVIDUAL.INFORMATION_UPDATE.RISK",
        "The risk status changed (screening or review).",
    ),
    EventKind(
        "user.pending_update.requested",
        "USER.INDIVIDUAL.PENDING_UPDATE.REQUEST",
        "A change to a verified field awaits an operator.",
    ),
    EventKind(
        "user.pending_update.approved",
        "USER.INDIVIDUAL.PENDING_UPDATE.APPROVE",
        "An operator approved a pending change.",
    ),
    EventKind(
        "user.pending_update.rejected",
        "USER.INDIVIDUAL.PENDING_UPDATE.REJECT",
        "An operator rejected a pending change.",
    ),
    EventKind("user.document.uploaded", "USER.INDIVIDUAL.DOCUMENT.UPLOAD", "A document arrived."),
    EventKind(
        "user.document.deleted", "USER.INDIVIDUAL.DOCUMENT.DELETE", "A document was deleted."
    ),
    EventKind("user.erased", "USER.INDIVIDUAL.ERASE", "The user's personal data was erased."),
)
EVENT_TYPES: frozenset[str] = frozenset(kind.type for kind in CATALOGUE)
BY_HASH: dict[str, EventKind] = {kind.hash: kind for kind in CATALOGUE}
BY_TYPE: dict[str, EventKind] = {kind.type: kind for kind in CATALOGUE}


def utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_id(event: UserEvent) -> str:
    return f"evt_{event.public_id}"


def data_for(event: UserEvent, user_public_id: str) -> dict[str, Any]:
    """The type-specific `data` of a published audit row."""
    changes: dict[str, list[Any]] = event.changes or {}
    data: dict[str, Any] = {"user_id": user_public_id}
    topic = event.topic
    if topic == "user.updated":
        data["fields"] = sorted(changes)
    elif topic == "user.status_changed":
        data["from"], data["to"] = changes.get("status", [None, None])
        data["sub_status"] = changes.get("sub_status", [None, None])[1]
        data["reason"] = event.reason
    elif topic == "user.kyc_status_changed":
        data["from"], data["to"] = changes.get("kyc_status", [None, None])
        data["sub_status"] = changes.get("kyc_sub_status", [None, None])[1]
    elif topic == "user.risk_status_changed":
        data["from"], data["to"] = changes.get("risk_status", [None, None])
    elif topic.startswith("user.pending_update."):
        data["fields"] = sorted(changes)
    return data


def payload(event: UserEvent, *, program: str, user_public_id: str) -> str:
    """The body of every delivery of `event`, as sent (compact JSON, stable key order)."""
    return dumps(
        {
            "id": event_id(event),
            "type": event.topic,
            "created_at": utc(event.at),
            "program": program,
            "sequence": event.sequence,
            "data": data_for(event, user_public_id),
        }
    )


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
