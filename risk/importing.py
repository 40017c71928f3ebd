"""Validating and bulk-loading blacklist entries (the `import_blacklist` command and the admin).

Every row is validated like user input (SPEC §6): names by the name rules, e-mails as
addresses, phones as valid numbers with their country code, id numbers by length and
characters, nationalities against the enumeration, birthdays as past ISO dates. Rows that
duplicate an active entry of the same scope (or an earlier row of the file) are skipped.
Valid rows are inserted in batches with `bulk_create`, each batch in its own transaction with
one list-version bump, so a million rows load in minutes and a failure keeps earlier batches.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO

import phonenumbers
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from enumerations.catalog import Catalog, get_catalog
from programs.models import Program
from risk.matching import index_keys, index_rows
from risk.models import Action, BlacklistEntry, BlacklistToken, EntityAttribute, MatchType
from risk.names import check_full_name
from risk.normalize import NAME_ATTRIBUTES, canonical_id_number, canonical_phone, key_for

COLUMNS: tuple[str, ...] = ("entity_attribute", "value", "match", "action", "weight", "reason")
MAX_WEIGHT = 1_000_000
MAX_REASON = 255

# SPEC §6: letters of any script (accents included), spaces and . ' -
_NAME = re.compile(r"^[^\W\d_]+(?:[ .'\-]+[^\W\d_]*)*\.?$")
# preferred_name: letters and spaces
_PREFERRED = re.compile(r"^[^\W\d_]+(?: +[^\W\d_]+)*$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-().]+$")
_ID_CHARS = re.compile(r"^[A-Z0-9]+$")
# Choices.values builds a new list on every access; an import checks millions of rows
_ATTRIBUTES: tuple[str, ...] = tuple(EntityAttribute.values)
_MATCHES: tuple[str, ...] = tuple(MatchType.values)
_ACTIONS: tuple[str, ...] = tuple(Action.values)


@dataclass(frozen=True)
class EntryData:
    """A validated entry, ready to become a `BlacklistEntry`."""

    entity_attribute: str
    value: str
    match: str
    action: str
    weight: int | None
    reason: str

    @property
    def key(self) -> str:
        return key_for(self.entity_attribute, self.match, self.value)


def _check_value(attribute: str, value: str, catalog: Catalog | None) -> str | None:
    """The error for a listed value, or None; mirrors the user write rules."""
    if attribute == EntityAttribute.NAME:
        return check_full_name(value)
    if attribute in NAME_ATTRIBUTES:
        limit = 25 if attribute == EntityAttribute.PREFERRED_NAME else 50
        if len(value) > limit:
            return f"at most {limit} characters"
        rule = _PREFERRED if attribute == EntityAttribute.PREFERRED_NAME else _NAME
        if not rule.match(value):
            allowed = "letters and spaces"
            if attribute != EntityAttribute.PREFERRED_NAME:
                allowed = "letters, spaces and . ' -"
            return f"only {allowed}"
        return None
    if attribute == EntityAttribute.EMAIL:
        if len(value) > 254:
            return "at most 254 characters"
        try:
            validate_email(value)
        except ValidationError:
            return "not a valid e-mail address"
        return None
    if attribute == EntityAttribute.MOBILE:
        if not _PHONE_CHARS.match(value):
            return "a phone number is the country code and digits, e.g. 6591234567"
        digits = canonical_phone(value)
        try:
            number = phonenumbers.parse("+" + digits)
        except phonenumbers.NumberParseException:
            return "not a valid phone number with its country code"
        if not phonenumbers.is_valid_number(number):
            return "not a valid phone number with its country code"
        return None
    if attribute == EntityAttribute.ID_NUMBER:
        canonical = canonical_id_number(value)
        if len(canonical) > 30:
            return "at most 30 characters"
        if not _ID_CHARS.match(canonical):
            return "only letters and digits (spaces and dashes are ignored)"
        return None
    if attribute == EntityAttribute.NATIONALITY:
        catalog = catalog or get_catalog()
        if catalog.lookup("nationalities", value) is None:
            return "not a nationality code of the enumeration (ISO 3166 alpha-3)"
        return None
    if attribute == EntityAttribute.BIRTHDAY:
        try:
            born = date.fromisoformat(value)
        except ValueError:
            return "not an ISO 8601 date (YYYY-MM-DD)"
        if born > timezone.localdate():
            return "in the future"
        return None
    return None


def clean_entry(
    *,
    entity_attribute: str | None,
    value: str | None,
    match: str | None,
    action: str | None,
    weight: str | int | None,
    reason: str | None,
    catalog: Catalog | None = None,
) -> EntryData:
    """Validate one entry's fields; raises `ValidationError({field: [message]})`."""
    errors: dict[str, str] = {}
    attribute = (entity_attribute or "").strip()
    text = (value or "").strip()
    match_type = (match or "").strip().lower() or MatchType.EXACT
    act = (action or "").strip().lower()
    why = (reason or "").strip()

    if attribute not in _ATTRIBUTES:
        errors["entity_attribute"] = (
            f"unknown attribute {attribute!r}; one of {', '.join(_ATTRIBUTES)}"
        )
    if match_type not in _MATCHES:
        errors["match"] = f"unknown match {match_type!r}; one of {', '.join(_MATCHES)}"
    elif (
        match_type == MatchType.FUZZY
        and attribute in _ATTRIBUTES
        and attribute not in NAME_ATTRIBUTES
        and attribute != EntityAttribute.NAME
    ):
        errors["match"] = "fuzzy matching is for names only"
    if act not in _ACTIONS:
        errors["action"] = f"unknown action {act!r}; one of {', '.join(_ACTIONS)}"

    parsed_weight: int | None = None
    raw_weight = "" if weight is None else str(weight).strip()
    if act == Action.BLOCK and raw_weight:
        errors["weight"] = "must be empty for block entries"
    elif act == Action.SCORE:
        if not raw_weight:
            errors["weight"] = "required for score entries"
        elif not raw_weight.isdigit() or not 0 < int(raw_weight) <= MAX_WEIGHT:
            errors["weight"] = f"a whole number from 1 to {MAX_WEIGHT}"
        else:
            parsed_weight = int(raw_weight)

    if "\x00" in text:
        errors["value"] = "contains a NUL character"
    elif not text:
        errors["value"] = "required"
    elif attribute in _ATTRIBUTES:
        problem = _check_value(attribute, text, catalog)
        if problem is None and match_type in _MATCHES and not key_for(attribute, match_type, text):
            problem = "nothing left to compare once normalized"
        if problem:
            errors["value"] = problem
    if "\x00" in why:
        errors["reason"] = "contains a NUL character"
    elif len(why) > MAX_REASON:
        errors["reason"] = f"at most {MAX_REASON} characters"

    if errors:
        raise ValidationError({name: [message] for name, message in errors.items()})
    if attribute == EntityAttribute.NATIONALITY:
        text = text.upper()
    return EntryData(attribute, text, match_type, act, parsed_weight, why)


# --- CSV ----------------------------------------------------------------------------------


@dataclass
class RejectedRow:
    line: int
    errors: dict[str, list[str]]

    def describe(self) -> str:
        detail = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items())
        return f"line {self.line}: {detail}"


@dataclass
class ImportReport:
    added: int = 0
    skipped: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.added} added, {self.skipped} skipped, {len(self.rejected)} rejected"


def read_csv(stream: IO[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; raises ValidationError for a bad header."""
    reader = csv.reader(stream)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ValidationError("The file is empty; expected a header line.") from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0].lstrip("\ufeff")
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise ValidationError(f"Bad header: {'; '.join(parts)}. Expected: {','.join(COLUMNS)}")
    start = reader.line_num + 1
    for cells in reader:
        line = start
        start = reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield line, {"__shape__": f"{len(cells)} columns, expected {len(header)}"}
            continue
        yield line, dict(zip(header, cells, strict=True))


def import_rows(
    *,
    rows: Iterable[tuple[int, dict[str, str]]],
    program: Program | None = None,
    added_by: User | None = None,
    added_by_label: str = "",
    batch_size: int = 5000,
    on_row: Callable[[], object] | None = None,
) -> ImportReport:
    """Validate and insert rows; returns the counts and the rejected rows with their lines."""
    from risk.services import bump_list_version

    report = ImportReport()
    catalog = get_catalog()
    seen: set[tuple[str, str, str]] = set()
    batch: list[BlacklistEntry] = []
    label = added_by_label or (added_by.get_username() if added_by is not None else "")

    def flush() -> None:
        if batch:
            added, skipped = _insert_batch(batch, program, bump_list_version)
            report.added += added
            report.skipped += skipped
            batch.clear()

    for line, row in rows:
        if on_row is not None:
            on_row()
        if "__shape__" in row:
            report.rejected.append(RejectedRow(line, {"row": [row["__shape__"]]}))
            continue
        try:
            data = clean_entry(
                entity_attribute=row.get("entity_attribute"),
                value=row.get("value"),
                match=row.get("match"),
                action=row.get("action"),
                weight=row.get("weight"),
                reason=row.get("reason"),
                catalog=catalog,
            )
        except ValidationError as exc:
            report.rejected.append(RejectedRow(line, exc.message_dict))
            continue
        identity = (data.entity_attribute, data.match, data.key)
        if identity in seen:
            report.skipped += 1
            continue
        seen.add(identity)
        batch.append(
            BlacklistEntry(
                entity_attribute=data.entity_attribute,
                value=data.value,
                value_normalized=data.key,
                match=data.match,
                program=program,
                action=data.action,
                weight=data.weight,
                reason=data.reason,
                added_by=added_by if added_by is not None and added_by.pk else None,
                added_by_label=label,
            )
        )
        if len(batch) >= batch_size:
            flush()
    flush()
    return report


def _insert_batch(
    batch: list[BlacklistEntry], program: Program | None, bump: Callable[[], int]
) -> tuple[int, int]:
    """Insert a batch minus the entries already listed; (added, skipped)."""
    with transaction.atomic():
        existing = set(
            BlacklistEntry.objects.filter(
                is_active=True,
                program=program,
                value_normalized__in={e.value_normalized for e in batch},
            ).values_list("entity_attribute", "match", "value_normalized")
        )
        fresh = [
            e for e in batch if (e.entity_attribute, e.match, e.value_normalized) not in existing
        ]
        skipped = len(batch) - len(fresh)
        if not fresh:
            return 0, skipped
        version = bump()
        for entry in fresh:
            entry.version = version
        try:
            with transaction.atomic():
                _bulk_insert(fresh)
            return len(fresh), skipped
        except IntegrityError:
            pass
        # a concurrent writer listed some of these meanwhile: insert one by one
        added = 0
        for entry in fresh:
            entry.pk = None
            try:
                with transaction.atomic():
                    entry.save()
                    BlacklistToken.objects.bulk_create(index_keys([entry]))
                added += 1
            except IntegrityError:
                skipped += 1
        return added, skipped


_ENTRY_COLUMNS = (
    "id",
    "entity_attribute",
    "value",
    "value_normalized",
    "match",
    "program_id",
    "action",
    "weight",
    "reason",
    "is_active",
    "added_by_id",
    "added_by_label",
    "version",
    "created_at",
    "updated_at",
)


def _bulk_insert(entries: list[BlacklistEntry]) -> None:
    """Insert entries and their fuzzy index rows.

    On PostgreSQL with COPY (ids drawn from the table's sequence first, so the index rows can
    name their entries): several times faster than multi-row INSERTs for a million rows.
    Elsewhere with bulk_create. A unique violation (a concurrent writer) raises IntegrityError.
    """
    if connection.vendor != "postgresql":
        BlacklistEntry.objects.bulk_create(entries)
        BlacklistToken.objects.bulk_create(index_keys(entries), batch_size=10_000)
        return
    entry_table = BlacklistEntry._meta.db_table
    token_table = BlacklistToken._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [entry_table, len(entries)],
        )
        for entry, (pk,) in zip(entries, cursor.fetchall(), strict=True):
            entry.pk = pk
            entry.created_at = entry.updated_at = now
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {entry_table} ({', '.join(_ENTRY_COLUMNS)}) FROM STDIN") as copy:
            for e in entries:
                copy.write_row(
                    (
                        e.pk,
                        e.entity_attribute,
                        e.value,
                        e.value_normalized,
                        e.match,
                        e.program_id,
                        e.action,
                        e.weight,
                        e.reason,
                        e.is_active,
                        e.added_by_id,
                        e.added_by_label,
                        e.version,
                        now,
                        now,
                    )
                )
        with raw.copy(f"COPY {token_table} (entry_id, entity_attribute, key) FROM STDIN") as copy:
            for row in index_rows(entries):
                copy.write_row(row)


def export_csv(entries: Iterable[BlacklistEntry]) -> Iterator[str]:
    """CSV lines (header first) in the import format, for the admin's export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for entry in entries:
        writer.writerow(
            [
                entry.entity_attribute,
                entry.value,
                entry.match,
                entry.action,
                "" if entry.weight is None else entry.weight,
                entry.reason,
            ]
        )
        yield flush()
