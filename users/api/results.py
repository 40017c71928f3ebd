"""From a service's `UserWrite` to the user object the renderers read.

The renderers of both versions read a user's children through its related managers
(`user.identifications.all()`), which answer from what `prefetch_related` loaded. A write
already holds the children it created, changed or re-read (`UserWrite`): this hands them to
those managers as if prefetched, so answering a write costs no query for them. The one place
outside a queryset that fills that cache; the services only return values.
"""

from __future__ import annotations

from typing import Any

from users.models import AccountHolder, Address, Identification, TaxResidency
from users.services import UserWrite

_MODELS: dict[str, Any] = {
    "identifications": Identification,
    "addresses": Address,
    "tax_residencies": TaxResidency,
}


def children_of(write: UserWrite) -> dict[str, list[Any]]:
    """The children the write returned, by related name (those it left alone are absent)."""
    given = {
        "identifications": write.identifications,
        "addresses": write.addresses,
        "tax_residencies": write.tax_residencies,
    }
    return {name: rows for name, rows in given.items() if rows is not None}


def with_children(user: AccountHolder, children: dict[str, list[Any]]) -> AccountHolder:
    """`user` whose related managers answer `children` (by related name) without a query."""
    cache = dict(getattr(user, "_prefetched_objects_cache", {}))  # never share a copy's dict
    for name, rows in children.items():
        queryset = _MODELS[name].objects.filter(user_id=user.pk)
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        cache[name] = queryset
    user._prefetched_objects_cache = cache  # type: ignore[attr-defined]
    return user


def written_user(write: UserWrite) -> AccountHolder:
    """The written user, its children as the write left them."""
    return with_children(write.user, children_of(write))
