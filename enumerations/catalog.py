"""Enumeration values in memory, keyed by the catalog version so edits show at once.

Every write validates a dozen enumerated fields; reading them from the database each time
would cost a dozen queries. Instead each process keeps one immutable snapshot per catalog
version. The version is a value in the database that every enumeration change replaces (see
signals.py and seed_enumerations); the API's authentication query reads it alongside the
client, so checking freshness costs no extra query and an operator's edit is visible to every
app server on its next request.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from enumerations.models import CatalogVersion, IdType
from enumerations.registry import KINDS


@dataclass(frozen=True)
class Entry:
    code: str
    description: str
    is_active: bool
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    version: int
    entries: dict[str, tuple[Entry, ...]]
    # kind -> lower-cased code -> entry, active values only
    _active: dict[str, dict[str, Entry]]

    def values(self, kind: str, *, restrictions: dict[str, list[str]] | None = None) -> list[Entry]:
        """Active values of a kind, narrowed by a program's restrictions if given."""
        allowed = _allowed(kind, restrictions)
        return [
            e
            for e in self.entries[kind]
            if e.is_active and (allowed is None or e.code.lower() in allowed)
        ]

    def lookup(
        self, kind: str, value: str, *, restrictions: dict[str, list[str]] | None = None
    ) -> Entry | None:
        """The active entry matching value case-insensitively, if the program allows it."""
        entry = self._active[kind].get(value.strip().lower())
        if entry is None:
            return None
        allowed = _allowed(kind, restrictions)
        if allowed is not None and entry.code.lower() not in allowed:
            return None
        return entry

    def get_any(self, kind: str, code: str) -> Entry | None:
        """An entry by code even when inactive (to describe values users already hold)."""
        lowered = code.lower()
        for entry in self.entries[kind]:
            if entry.code.lower() == lowered:
                return entry
        return None


def _allowed(kind: str, restrictions: dict[str, list[str]] | None) -> set[str] | None:
    if not restrictions or not restrictions.get(kind):
        return None
    return {c.lower() for c in restrictions[kind]}


_lock = threading.Lock()
_snapshot: Catalog | None = None


def current_version() -> int:
    row = CatalogVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return int(row or 0)


def version_subquery() -> models.Subquery:
    """For annotating another query with the catalog version (no extra round trip)."""
    return models.Subquery(CatalogVersion.objects.filter(pk=1).values("version")[:1])


def get_catalog(version: int | None = None) -> Catalog:
    """The snapshot for `version` (read from the database when not given)."""
    global _snapshot
    if version is None:
        version = current_version()
    snapshot = _snapshot
    if snapshot is not None and snapshot.version == version:
        return snapshot
    with _lock:
        if _snapshot is None or _snapshot.version != version:
            _snapshot = _load(version)
        return _snapshot


def _load(version: int) -> Catalog:
    entries: dict[str, tuple[Entry, ...]] = {}
    active: dict[str, dict[str, Entry]] = {}
    for name, kind in KINDS.items():
        rows = []
        for obj in kind.model._default_manager.all().order_by("sort_order", "code"):
            extra: dict[str, Any] = {}
            if isinstance(obj, IdType):
                extra = {
                    "display_name": obj.display_name,
                    "regex_validation": obj.regex_validation,
                    "max_duplicate": obj.max_duplicate,
                    "masking": obj.masking,
                    "is_primary": obj.is_primary,
                    "is_secondary": obj.is_secondary,
                    "country": obj.country,
                    "checksum": obj.checksum,
                }
            elif name == "countries":
                extra = {"numeric": obj.numeric, "alpha_2": obj.alpha_2}  # type: ignore[attr-defined]
            rows.append(Entry(obj.code, obj.description, obj.is_active, extra))
        entries[name] = tuple(rows)
        active[name] = {e.code.lower(): e for e in rows if e.is_active}
    return Catalog(version=version, entries=entries, _active=active)


def bump_version() -> None:
    """Mark every cached snapshot stale, in the current transaction.

    The new version is random rather than the old one plus one: a snapshot read inside a
    transaction that later rolls back carries a version no committed state will ever have
    again, so it can never be served for different data.
    """
    new = secrets.randbelow(2**62) + 1
    with transaction.atomic():
        if not CatalogVersion.objects.filter(pk=1).update(version=new):
            CatalogVersion.objects.update_or_create(pk=1, defaults={"version": new})
