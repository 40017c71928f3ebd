"""The validator's plumbing: error collection and the generic cleaning of every field kind."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone

from core import error_codes
from core.exceptions import FieldError
from enumerations.catalog import Catalog, Entry
from programs.models import Program
from users import fields as f
from users.models import AccountHolder, Address
from users.validation.codes import code_for, field_error
from users.validation.rules import METADATA_MAX_KEYS, Rank, Spec
from users.validation.write import CleanWrite, current_addresses, current_identifications

SKIP = object()  # a value that is absent (blank) or already failed: not applied


class ValidatorBase:
    def __init__(
        self,
        program: Program,
        catalog: Catalog,
        changes: f.Changes,
        user: AccountHolder | None,
        sent: Iterable[str] | None,
        extra_required: tuple[str, ...],
    ) -> None:
        self.program = program
        self.catalog = catalog
        self.restrictions = program.restrictions or {}
        self.changes = changes if isinstance(changes, dict) else {}
        self.user = user
        self.sent = set(sent) if sent is not None else None
        self.extra_required = extra_required
        self.today = timezone.now().date()
        self.out = CleanWrite()
        self._errors: list[tuple[int, int, FieldError]] = []
        self.given: set[str] = set()  # paths the request supplied a non-blank value for
        self.current_ids = current_identifications(user)
        self._current_addresses: dict[str, Address] | None = None

    @property
    def current_addresses(self) -> dict[str, Address]:
        # read only when the write or the program's required fields involve addresses
        if self._current_addresses is None:
            self._current_addresses = current_addresses(self.user)
        return self._current_addresses

    # --- plumbing

    def error(self, rank: Rank, path: str, rule: str, **params: Any) -> None:
        self._errors.append((int(rank), len(self._errors), field_error(path, rule, **params)))

    def raw_error(self, rank: Rank, error: FieldError) -> None:
        self._errors.append((int(rank), len(self._errors), error))

    def current(self, name: str) -> Any:
        return getattr(self.user, name) if self.user is not None else None

    def resulting(self, name: str) -> Any:
        if name in self.out.scalars:
            return self.out.scalars[name]
        if name in self.changes and name in self.given:
            return SKIP  # given but invalid: present for the required check
        return self.current(name)

    def was_sent(self, path: str) -> bool:
        if self.sent is not None:
            return path in self.sent
        head, _, rest = path.partition(".")
        if not rest:
            value = self.changes.get(head, SKIP)
            return value is not SKIP and not (isinstance(value, str) and not value.strip())
        parts = path.split(".")
        container: Any = self.changes
        for part in parts:
            if not isinstance(container, dict) or part not in container:
                return False
            container = container[part]
        return container is not None and not (isinstance(container, str) and not container.strip())

    def _finish(self) -> CleanWrite:
        self._errors.sort(key=lambda e: (e[0], e[1]))
        self.out.errors = [e for _, _, e in self._errors]
        self.out.ranks = [rank for rank, _, _ in self._errors]
        return self.out

    # --- generic cleaning

    def text(self, rank: Rank, path: str, value: Any, *, trim: bool = True) -> Any:
        """A string value trimmed and NFC-normalised; SKIP when blank or of the wrong type."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(rank, path, "invalid")
            self.given.add(path)
            return SKIP
        cleaned = unicodedata.normalize("NFC", value.strip() if trim else value)
        if not cleaned.strip():
            return SKIP
        self.given.add(path)
        return cleaned

    def lookup(self, kind: str, value: str) -> Entry | None:
        return self.catalog.lookup(kind, value, restrictions=self.restrictions)

    def enum_error(self, spec: Spec, path: str) -> None:
        assert spec.enum_kind is not None
        if spec.not_allowed_code:
            allowed = ", ".join(
                e.code for e in self.catalog.values(spec.enum_kind, restrictions=self.restrictions)
            )
            code = spec.not_allowed_code
            self.raw_error(
                spec.rank,
                FieldError(
                    path,
                    code,
                    error_codes.describe(code, allowed=f"[{allowed}]", field=f.code_name(path)),
                ),
            )
        else:
            self.error(spec.rank, path, "not_allowed")

    def judge_text(self, spec: Spec, path: str, value: str, current: Any) -> Any:
        """Length, characters and enumeration of a text value; the value to store or SKIP."""
        ok = True
        if spec.max_length is not None and len(value) > spec.max_length:
            self.error(spec.rank, path, "lengthmax", max=spec.max_length)
            ok = False
        if spec.chars is not None and not spec.chars(value):
            self.error(spec.rank, path, "rule")
            ok = False
        if not ok:
            return SKIP
        if spec.enum_kind is not None:
            return self.judge_enum(spec, path, value, current)
        return value

    def judge_enum(self, spec: Spec, path: str, value: str, current: Any) -> Any:
        if isinstance(current, str) and current.lower() == value.lower():
            return current  # unchanged: a since-deactivated value the user holds stays valid
        assert spec.enum_kind is not None
        entry = self.lookup(spec.enum_kind, value)
        if entry is None:
            self.enum_error(spec, path)
            return SKIP
        return entry.code

    def scalar(self, name: str, spec: Spec, raw: Any) -> None:
        if spec.kind == "special":
            value = getattr(self, f"special_{name}")(spec, raw)
        else:
            value = self.generic(spec, name, raw, self.current(name))
        if value is not SKIP:
            value = self.fits_column(spec.rank, name, value)
        if value is not SKIP:
            self.out.scalars[name] = value

    def generic(self, spec: Spec, path: str, raw: Any, current: Any) -> Any:
        if spec.kind in ("text", "enum"):
            value = self.text(spec.rank, path, raw)
            if value is None or value is SKIP:
                return value
            if spec.kind == "enum":
                return self.judge_enum(spec, path, value, current)
            return self.judge_text(spec, path, value, current)
        if spec.kind == "date":
            return self.date_value(spec.rank, path, raw, current, past_only=True)
        if spec.kind == "datetime":
            return self.datetime_value(spec.rank, path, raw)
        if spec.kind == "bool":
            if raw is None or isinstance(raw, bool):
                if raw is not None:
                    self.given.add(path)
                return raw
            self.error(spec.rank, path, "invalid")
            return SKIP
        if spec.kind == "json":
            return self.json_value(spec, path, raw)
        raise AssertionError(spec.kind)

    def fits_column(self, rank: Rank, name: str, value: Any) -> Any:
        # an operator may add enumeration codes longer than the user's column: never let a
        # value reach the database that it would refuse (PostgreSQL would answer a 500)
        if isinstance(value, str) and name != "password":
            limit = AccountHolder._meta.get_field(name).max_length  # type: ignore[union-attr]
            if limit is not None and len(value) > limit:
                self.error(rank, name, "lengthmax", max=limit)
                return SKIP
        return value

    def parse_date(self, raw: str) -> date | None:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None

    def date_value(
        self, rank: Rank, path: str, raw: Any, current: Any, *, past_only: bool = False
    ) -> Any:
        value = self.text(rank, path, raw)
        if value is None or value is SKIP:
            return value
        parsed = self.parse_date(value)
        if parsed is None or parsed.year < 1900:
            self.error(rank, path, "invalid")
            return SKIP
        if past_only and parsed > self.today and parsed != current:
            self.error(rank, path, "invalid")
            return SKIP
        return parsed

    def datetime_value(self, rank: Rank, path: str, raw: Any) -> Any:
        value = self.text(rank, path, raw)
        if value is None or value is SKIP:
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None or parsed.year < 1900:
            self.error(rank, path, "invalid")
            return SKIP
        return parsed.astimezone(UTC)

    def json_value(self, spec: Spec, path: str, raw: Any) -> Any:
        if raw is None:
            return None
        self.given.add(path)
        if not isinstance(raw, dict):
            self.error(spec.rank, path, "invalid")
            return SKIP
        try:
            serialized = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            self.error(spec.rank, path, "invalid")
            return SKIP
        if "\\u0000" in serialized:
            # PostgreSQL's jsonb cannot store NUL characters: refuse them, never a 500
            self.error(spec.rank, path, "invalid")
            return SKIP
        size = len(serialized.encode())
        assert spec.max_bytes is not None
        if size > spec.max_bytes or (path == "metadata" and len(raw) > METADATA_MAX_KEYS):
            code = code_for(path, "lengthmax")
            description = (
                f"Parameter `{path}` must be a JSON object of at most {spec.max_bytes} bytes"
                + (f" and {METADATA_MAX_KEYS} keys." if path == "metadata" else ".")
            )
            self.raw_error(spec.rank, FieldError(path, code, description))
            return SKIP
        return raw


def pair_missing(
    sent: tuple[bool, bool], resulting: tuple[bool, bool], names: tuple[str, str]
) -> str | None:
    """The member of a "both or neither" pair that is missing, if exactly one is there.

    Judged on the request body first (SPEC §6), then on the resulting document, which must
    never be stored half (an id number without its type).
    """
    for first, second in (sent, resulting):
        if first != second:
            return names[1] if first else names[0]
    return None
