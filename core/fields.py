"""Model fields that keep personal data encrypted at rest, and their blind indexes (SPEC §15).

Built only on `core/crypto.py` (AES-GCM envelopes from `cryptography`, one random data key per
value, wrapped by the newest key of ONBOARD_PII_KEYS):

- `EncryptedTextField` / `EncryptedDateField` encrypt in `get_db_prep_value` and decrypt in
  `from_db_value`, so ORM code reading `user.birth_date` still gets a `date` and
  `address.city` a `str`. The column is `text` holding `pii1:` + base64url of the envelope.
  `None` and `""` are stored as they are (an absent value is not a secret, and erasure blanks
  with them).
- The associated data binds each value to its **table and column** (`users_address/city`), not
  to its row: the row id is only known once the INSERT ran, and one statement writes every
  column. A ciphertext moved to another column or table does not decrypt; one copied to another
  row of the same column does — only someone who can already write the table can do that.
- A ciphertext is random: it cannot be compared. These fields answer no lookup but `isnull`
  and `= ''` (a `filter(number="E123")` is an error, not a silent empty result); equality
  look-ups go
  through a `BlindIndexField`: HMAC-SHA256 (full-length hex) of the canonical form of another
  field of the row, computed in `pre_save` (so `save`, `create` and `bulk_create` all fill it;
  `save(update_fields=...)` must name it with its source: `with_indexes`).
- A value read that is not an envelope is returned as it is: rows written before encryption
  stay readable until `encrypt_pii` (or the migration) has encrypted them.

`encrypt_rows` (pending cleartext → envelopes + indexes) and `rewrap_rows` (envelopes under an
older key → the newest key) work in primary-key batches with raw SQL, each batch its own
transaction, compare-and-set on the old value so a concurrent write is never overwritten:
both are online and resumable.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from io import TextIOBase
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import connection, models, transaction
from django.db.models import Model
from django.db.models.lookups import Exact
from tqdm import tqdm

from core import crypto


class _EmptyExact(Exact):
    """`= ''` (stored as it is) compares; any other value is random ciphertext: refused."""

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.output_field.name} is encrypted: it compares only with '' "
                "(use its blind index for equality)."
            )
        return super().get_prep_lookup()


# the only lookups an encrypted column answers
_ENCRYPTED_LOOKUPS: dict[str, Any] = {"exact": _EmptyExact}


def column_associated_data(table: str, column: str) -> bytes:
    """What an encrypted column's values are bound to: `table/column`."""
    return f"{table}/{column}".encode()


class _EncryptedMixin:
    """Shared by the encrypted fields: the associated data, the column type, the lookups."""

    model: type[Model]
    column: str

    @cached_property
    def associated_data(self) -> bytes:
        return column_associated_data(self.model._meta.db_table, self.column)

    def get_internal_type(self) -> str:
        # `text` on every database, and no backend date converter in front of from_db_value
        return "TextField"

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name in _ENCRYPTED_LOOKUPS:
            return _ENCRYPTED_LOOKUPS[lookup_name]
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def encrypt_text(self, text: str) -> str:
        return crypto.encrypt_text(text, self.associated_data)

    def decrypt_text(self, stored: str) -> str:
        if not stored.startswith(crypto.TEXT_PREFIX):
            return stored  # written before encryption; `encrypt_pii` encrypts it
        return crypto.decrypt_text(stored, self.associated_data)


class EncryptedTextField(_EncryptedMixin, models.CharField):  # type: ignore[misc]
    """A `CharField` (max_length applies to the clear value) stored encrypted in a text column."""

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or value == "":
            return value
        return self.encrypt_text(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return self.decrypt_text(value)


class EncryptedDateField(_EncryptedMixin, models.DateField):  # type: ignore[misc]
    """A `DateField` stored encrypted (its ISO form) in a text column."""

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        return self.encrypt_text(value.isoformat())

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> datetime.date | None:
        if value is None or value == "":
            return None
        return datetime.date.fromisoformat(self.decrypt_text(value))


# --- blind indexes ---------------------------------------------------------------------------


def iso_date(value: datetime.date | str) -> str:
    """`YYYY-MM-DD` of a date (or of its ISO text)."""
    return value.isoformat() if isinstance(value, datetime.date) else str(value)[:10]


def iso_month(value: datetime.date | str) -> str:
    """`YYYY-MM`: the fuzzy month search's key."""
    return iso_date(value)[:7]


def iso_year(value: datetime.date | str) -> str:
    """`YYYY`: the fuzzy year search's key."""
    return iso_date(value)[:4]


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """HMAC-SHA256 (hex) of `transform(<source field's value>)`, derived on every save.

    `purpose` separates the index values of different fields: an equal value in two places
    does not give equal hashes. Empty when the source is.
    """

    def __init__(
        self,
        *args: Any,
        source: str,
        purpose: str,
        transform: Callable[[Any], str],
        **kwargs: Any,
    ) -> None:
        self.source = source
        self.purpose = purpose
        self.transform = transform
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, purpose=self.purpose, transform=self.transform)
        for key, default in (("max_length", 64), ("null", True), ("blank", True)):
            if kwargs.get(key) == default:
                del kwargs[key]
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def index_of(self, value: Any) -> str | None:
        """The index value of a clear source value (None for an empty one)."""
        if value is None or value == "":
            return None
        canonical = self.transform(value)
        return crypto.blind_index(self.purpose, canonical) if canonical else None

    def pre_save(self, model_instance: Model, add: bool) -> str | None:
        value = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def blind_index_fields(model: type[Model]) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


def encrypted_fields(model: type[Model]) -> list[EncryptedTextField | EncryptedDateField]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (EncryptedTextField, EncryptedDateField))
    ]


def with_indexes(model: type[Model], update_fields: Iterable[str]) -> set[str]:
    """`update_fields` plus the blind indexes derived from any of them."""
    names = set(update_fields)
    for field in blind_index_fields(model):
        if field.source in names:
            names.add(field.name)
    return names


def index_of(model: type[Model], index_name: str, value: Any) -> str | None:
    """The blind index `model.index_name` would hold for the clear source `value`."""
    field = model._meta.get_field(index_name)
    assert isinstance(field, BlindIndexField), index_name
    return field.index_of(value)


# --- batch work on stored rows: encrypt what is still clear, re-wrap under the newest key ---


@dataclass(frozen=True)
class BatchResult:
    rows: int  # rows read
    changed: int  # rows written


def encrypted_models() -> list[type[Model]]:
    """Every installed model with an encrypted column, in a stable order."""
    found = [m for m in apps.get_models() if encrypted_fields(m)]
    return sorted(found, key=lambda m: m._meta.label)


def _column(field: models.Field[Any, Any]) -> str:
    assert field.column is not None, field
    return field.column


def _batches(model: type[Model], columns: list[str], batch_size: int) -> Iterator[list[tuple]]:
    """Rows (pk, *columns) of the table, `batch_size` at a time in primary-key order, as stored
    (no decryption): a keyset walk, so rows inserted meanwhile are met or are already new."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    assert model._meta.pk is not None
    pk = quote(_column(model._meta.pk))
    selected = ", ".join([pk, *(quote(c) for c in columns)])
    last: Any = None
    while True:
        where = f"WHERE {pk} > %s " if last is not None else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {selected} FROM {table} {where}ORDER BY {pk} LIMIT %s",  # noqa: S608
                [*([last] if last is not None else []), batch_size],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _compare_and_set(model: type[Model], pk: Any, old: dict[str, Any], new: dict[str, Any]) -> int:
    """UPDATE the row's `new` columns only if its `old` columns still hold what was read."""
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(c)} = %s" for c in new)
    checks = " AND ".join(
        f"{quote(c)} IS NULL" if v is None else f"{quote(c)} = %s" for c, v in old.items()
    )
    params = [*new.values(), pk, *(v for v in old.values() if v is not None)]
    assert model._meta.pk is not None
    pk_column = quote(_column(model._meta.pk))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {sets} "  # noqa: S608
            f"WHERE {pk_column} = %s AND {checks}",
            params,
        )
        return int(cursor.rowcount)


def _clear_value(field: EncryptedTextField | EncryptedDateField, stored: Any) -> Any:
    """The clear value of a stored column value, encrypted or not."""
    if isinstance(stored, datetime.date):
        return stored
    return field.from_db_value(stored, None, connection)


def encrypt_rows(
    model: type[Model],
    *,
    batch_size: int = 1000,
    progress: Callable[[int], object] | None = None,
) -> BatchResult:
    """Encrypt the model's columns still in clear and fill its blind indexes (resumable).

    Values already `pii1:` are left alone; a row is rewritten only when one of its columns is
    clear or one of its indexes is missing. Works on the current model or a migration's
    historical one (the fields carry everything needed).
    """
    secret = encrypted_fields(model)
    indexes = blind_index_fields(model)
    by_name = {f.name: f for f in secret}
    columns = [_column(f) for f in secret] + [_column(f) for f in indexes]
    read = changed = 0
    for rows in _batches(model, columns, batch_size):
        with transaction.atomic():
            for pk, *values in rows:
                stored = dict(zip(columns, values, strict=True))
                new: dict[str, Any] = {}
                for field in secret:
                    value = stored[_column(field)]
                    if isinstance(value, datetime.date):  # a date column not yet converted
                        value = value.isoformat()
                    if value not in (None, "") and not str(value).startswith(crypto.TEXT_PREFIX):
                        new[_column(field)] = field.encrypt_text(str(value))
                for index in indexes:
                    source = by_name.get(index.source)
                    if source is None:
                        continue  # a clear source: `save` keeps its index
                    value = index.index_of(_clear_value(source, stored[_column(source)]))
                    if stored[_column(index)] is None and value is not None:
                        new[_column(index)] = value
                if new:
                    changed += _compare_and_set(model, pk, {c: stored[c] for c in new}, new)
        read += len(rows)
        if progress is not None:
            progress(len(rows))
    return BatchResult(rows=read, changed=changed)


def rewrap_rows(
    model: type[Model],
    *,
    batch_size: int = 1000,
    progress: Callable[[int], object] | None = None,
) -> BatchResult:
    """Re-wrap every envelope of the model's encrypted columns under the newest key (the
    ciphertext is untouched, so the indexes stay valid). Resumable: envelopes already under
    the newest key are skipped; a value written meanwhile is never overwritten."""
    columns = [_column(f) for f in encrypted_fields(model)]
    read = changed = 0
    for rows in _batches(model, columns, batch_size):
        with transaction.atomic():
            for pk, *values in rows:
                old: dict[str, Any] = {}
                new: dict[str, Any] = {}
                for column, value in zip(columns, values, strict=True):
                    if not isinstance(value, str) or not value.startswith(crypto.TEXT_PREFIX):
                        continue
                    moved = crypto.rewrap_text(value)
                    if moved != value:
                        old[column], new[column] = value, moved
                if new:
                    changed += _compare_and_set(model, pk, old, new)
        read += len(rows)
        if progress is not None:
            progress(len(rows))
    return BatchResult(rows=read, changed=changed)


def count_rows(model: type[Model]) -> int:
    return model._default_manager.count()


def over_encrypted_models(
    step: Callable[..., BatchResult], *, batch_size: int, progress: bool, stream: TextIOBase
) -> Iterator[tuple[type[Model], BatchResult]]:
    """Run `step` (`encrypt_rows` or `rewrap_rows`) over every encrypted model, with one
    progress bar per model on `stream`: what `encrypt_pii` and `rotate_pii_keys` report."""
    for model in encrypted_models():
        with tqdm(
            total=count_rows(model),
            desc=model._meta.label,
            unit="row",
            disable=not progress,
            file=stream,
        ) as bar:
            result = step(model, batch_size=max(1, batch_size), progress=bar.update)
        yield model, result


def key_ids_in_use(model: type[Model]) -> dict[str, int]:
    """How many envelopes of the model sit under each key id (a check after a rotation)."""
    counts: dict[str, int] = {}
    columns = [_column(f) for f in encrypted_fields(model)]
    for rows in _batches(model, columns, 5000):
        for _, *values in rows:
            for value in values:
                if isinstance(value, str) and value.startswith(crypto.TEXT_PREFIX):
                    key_id = crypto.text_key_id(value)
                    counts[key_id] = counts.get(key_id, 0) + 1
    return counts
