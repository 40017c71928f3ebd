"""What blacklist entries would match among today's users: the effect preview for operators."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from programs.models import Program
from risk.matching import entry_matches_value
from risk.models import BlacklistEntry, EntityAttribute, MatchType
from users.models import (
    TERMINAL_STATUSES,
    AccountHolder,
    Identification,
    birth_date_indexes,
    canonical_id_number,
    id_number_index,
)

# The user column each name attribute reads.
_NAME_COLUMNS: dict[str, str] = {
    EntityAttribute.FIRST_NAME: "first_name",
    EntityAttribute.MIDDLE_NAME: "middle_name",
    EntityAttribute.LAST_NAME: "last_name",
    EntityAttribute.PREFERRED_NAME: "preferred_name",
    EntityAttribute.MAIDEN_NAME: "maiden_name",
}
MAX_PREVIEW_ENTRIES = 20


@dataclass
class EffectPreview:
    """How many live users (not in a terminal status) of which programs an entry matches."""

    entry: BlacklistEntry
    by_program: dict[str, int] = field(default_factory=dict)
    scanned: bool = False  # answered by reading every user's value (no index for this form)

    @property
    def total(self) -> int:
        return sum(self.by_program.values())


def _live_users(entry: BlacklistEntry) -> QuerySet[AccountHolder]:
    users = AccountHolder.objects.exclude(status__in=sorted(TERMINAL_STATUSES))
    if entry.program_id is not None:
        users = users.filter(program_id=entry.program_id)
    return users


def _count_by_program(users: QuerySet[AccountHolder]) -> dict[str, int]:
    rows = users.order_by().values("program__code").annotate(n=Count("id"))
    return {row["program__code"]: row["n"] for row in rows}


def _indexed_users(entry: BlacklistEntry) -> QuerySet[AccountHolder] | None:
    """The matching users by an indexed (or cheap) query, or None when only a scan can tell."""
    users = _live_users(entry)
    key = entry.value_normalized
    attribute = entry.entity_attribute
    exact = entry.match == MatchType.EXACT
    if attribute == EntityAttribute.EMAIL and exact:
        return users.annotate(email_lower=Lower("email")).filter(email_lower=key)
    if attribute == EntityAttribute.MOBILE:
        # country code + number, however the digits split between the two columns
        split = Q(pk__in=[])
        for cut in (1, 2, 3):
            if len(key) > cut:
                split |= Q(mobile_country_code=key[:cut], mobile=key[cut:])
        return users.filter(split)
    if attribute == EntityAttribute.ID_NUMBER:
        # numbers are encrypted: the blind index of the canonical (upper-case) number
        index = id_number_index(canonical_id_number(key))
        holders = Identification.objects.filter(number_index=index).values("user_id")
        return users.filter(pk__in=holders)
    if attribute == EntityAttribute.NATIONALITY:
        return users.filter(nationality=key) if exact else users.filter(nationality__iexact=key)
    if attribute == EntityAttribute.BIRTHDAY:
        text = key if exact else f"{key[:4]}-{key[4:6]}-{key[6:8]}"
        try:
            text = date.fromisoformat(text).isoformat()
        except ValueError:
            return users.none()
        # birth dates are encrypted: their blind indexes, which lead with the program
        if entry.program_id is None:
            programs = list(Program.objects.order_by("pk").values_list("pk", flat=True))
            users = users.filter(program_id__in=programs)  # one index descent per program
        return users.filter(**birth_date_indexes(text))
    if attribute in _NAME_COLUMNS and exact:
        return users.filter(**{_NAME_COLUMNS[attribute]: key})
    return None


def effect_preview(entries: Sequence[BlacklistEntry]) -> list[EffectPreview]:
    """What each entry would match among today's users (an operator's on-demand check).

    Canonical forms with an index (e-mail, mobile, id number and birthday by their blind
    indexes, nationality) are counted by query. Folded e-mails and normalized / fuzzy names
    have no index on the users table, so those are found by reading the attribute's column
    once for all such entries (a few seconds at a million users): this is why the preview is
    an action on at most MAX_PREVIEW_ENTRIES entries, never part of a page.
    """
    if len(entries) > MAX_PREVIEW_ENTRIES:
        raise ValueError(f"preview at most {MAX_PREVIEW_ENTRIES} entries at a time")
    previews = [EffectPreview(entry) for entry in entries]
    scans: dict[str, list[EffectPreview]] = {}
    for preview in previews:
        users = _indexed_users(preview.entry)
        if users is not None:
            preview.by_program = _count_by_program(users)
        else:
            scans.setdefault(preview.entry.entity_attribute, []).append(preview)
    for attribute, waiting in scans.items():
        column = _NAME_COLUMNS.get(attribute, "email")
        counters = {id(p): Counter[str]() for p in waiting}
        scoped = [p.entry.program_id for p in waiting]
        users = AccountHolder.objects.exclude(status__in=sorted(TERMINAL_STATUSES))
        if None not in scoped:
            users = users.filter(program_id__in=[pk for pk in scoped if pk is not None])
        rows = (
            users.exclude(**{f"{column}__isnull": True})
            .order_by()
            .values_list("program_id", "program__code", column)
        )
        for program_id, code, value in rows.iterator(chunk_size=5000):
            for preview in waiting:
                entry = preview.entry
                if entry.program_id is not None and entry.program_id != program_id:
                    continue
                if entry_matches_value(entry, value):
                    counters[id(preview)][code] += 1
        for preview in waiting:
            preview.by_program = dict(counters[id(preview)])
            preview.scanned = True
    return previews
