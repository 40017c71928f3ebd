"""From a service's `UserWrite` to the renderers' arguments: the user's children, by value.

A write returns the children it created, changed or re-read under its row lock (`UserWrite`).
The renderers take children as arguments (`render_user(user, identifications=..., ...)`) and
read a user's related managers — what the view's selector prefetched — only for those not
given. Nothing here or there reaches into the ORM's prefetch caches.
"""

from __future__ import annotations

from typing import TypedDict, TypeVar

from django.db.models import Model, QuerySet

from users.models import AccountHolder, Address, Identification, TaxResidency
from users.services import UserWrite

_Row = TypeVar("_Row", bound=Model)


class Children(TypedDict):
    """A user's identifications, addresses and tax residencies, as a renderer takes them."""

    identifications: list[Identification]
    addresses: list[Address]
    tax_residencies: list[TaxResidency]


def written_children(write: UserWrite, loaded: AccountHolder) -> Children:
    """The children after `write`: those it returned, the others as `loaded` holds them.

    A child list the write returned as `None` did not change and was not re-read, so the
    user the view loaded (with its children prefetched by the selector) still tells it.
    """
    return {
        "identifications": _given(write.identifications, loaded.identifications.all()),
        "addresses": _given(write.addresses, loaded.addresses.all()),
        "tax_residencies": _given(write.tax_residencies, loaded.tax_residencies.all()),
    }


def _given(rows: list[_Row] | None, loaded: QuerySet[_Row]) -> list[_Row]:
    # `loaded` is a lazy queryset: evaluated (from the prefetch, or one query) only when needed
    return list(rows) if rows is not None else list(loaded)
