"""Validating and bulk-loading blacklist entries (the `import_blacklist` command and the admin).

Every row is validated like user input (SPEC §6) by `risk.entries.clean_entry`, as the admin
form is. Rows that duplicate an active entry of the same scope (the rule of
`risk.services.active_duplicates`, the admin's too) or an earlier row of the file are skipped.
Valid rows are inserted in batches with `bulk_create`, each batch in its own transaction with
one list-version bump, so a million rows load in minutes and a failure keeps earlier batches.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.csv_cells import csv_lines, restore_cell
from enumerations.catalog import get_catalog
from programs.models import Program
from risk.entries import clean_entry
from risk.matching import index_keys, index_rows
from risk.models import BlacklistEntry, BlacklistToken
from risk.services import active_duplicates, bump_list_version

COLUMNS: tuple[str, ...] = ("entity_attribute", "value", "match", "action", "weight", "reason")


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
        # the quote our export puts before formula-like cells comes off again (core.csv_cells)
        yield line, dict(zip(header, map(restore_cell, cells), strict=True))


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
    report = ImportReport()
    catalog = get_catalog()
    seen: set[tuple[str, str, str]] = set()
    batch: list[BlacklistEntry] = []
    label = added_by_label or (added_by.get_username() if added_by is not None else "")

    def flush() -> None:
        if batch:
            added, skipped = _insert_batch(batch, program)
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


def _insert_batch(batch: list[BlacklistEntry], program: Program | None) -> tuple[int, int]:
    """Insert a batch minus the entries already listed; (added, skipped)."""
    with transaction.atomic():
        existing = active_duplicates(
            program=program,
            identities={(e.entity_attribute, e.match, e.value_normalized) for e in batch},
        )
        fresh = [
            e for e in batch if (e.entity_attribute, e.match, e.value_normalized) not in existing
        ]
        skipped = len(batch) - len(fresh)
        if not fresh:
            return 0, skipped
        version = bump_list_version()
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
        token_columns = "entry_id, entity_attribute, key, names"
        with raw.copy(f"COPY {token_table} ({token_columns}) FROM STDIN") as copy:
            for row in index_rows(entries):
                copy.write_row(row)


def export_csv(entries: Iterable[BlacklistEntry]) -> Iterator[str]:
    """CSV lines (header first) in the import format, for the admin's export; formula-like
    cells get a leading `'` (core.csv_cells), which `read_csv` strips again."""
    return csv_lines(
        COLUMNS,
        (
            [
                entry.entity_attribute,
                entry.value,
                entry.match,
                entry.action,
                "" if entry.weight is None else entry.weight,
                entry.reason,
            ]
            for entry in entries
        ),
    )
