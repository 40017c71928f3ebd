"""What validation makes of a write (`CleanWrite`), and the user's current children by key."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.exceptions import FieldError
from users.models import AccountHolder, Address, Identification
from users.validation.chars import canonical_id_number
from users.validation.rules import Rank


@dataclass
class IdItem:
    """A cleaned identification document (the whole resulting document of its rank)."""

    id_type: str | None = None
    number: str | None = None
    issue_date: date | None = None
    expiry_date: date | None = None
    country_of_issue: str | None = None

    @property
    def number_canonical(self) -> str | None:
        return canonical_id_number(self.number) if self.number else None


@dataclass
class CleanWrite:
    """What `validate_write` made of a `Changes` dict."""

    scalars: dict[str, Any] = field(default_factory=dict)
    # rank -> whole resulting document, or None to remove it; only ranks the request named
    identification: dict[str, IdItem | None] = field(default_factory=dict)
    # rank -> dup_slot to store, for documents whose (type, number) is new to this user
    id_slots: dict[str, int] = field(default_factory=dict)
    addresses: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    tax_residencies: list[dict[str, Any]] | None = None
    tax_residencies_given: bool = False
    errors: list[FieldError] = field(default_factory=list)

    # the table row of each error in `errors`: their order is the table's (SPEC §6)
    ranks: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, rank: Rank, error: FieldError) -> None:
        """Add an error in its place: after every error of its row and the rows above."""
        index = bisect.bisect_right(self.ranks, int(rank))
        self.ranks.insert(index, int(rank))
        self.errors.insert(index, error)


def current_identifications(user: AccountHolder | None) -> dict[str, Identification]:
    """The user's documents by rank (no query when the selector prefetched them)."""
    if user is None or user.pk is None:
        return {}
    return {("primary" if i.is_primary else "secondary"): i for i in user.identifications.all()}


def current_addresses(user: AccountHolder | None) -> dict[str, Address]:
    if user is None or user.pk is None:
        return {}
    return {a.type: a for a in user.addresses.all()}
