"""The v2 request body → the canonical `Changes` of `users/fields.py`, and error paths back.

The input serializers below are the OpenAPI request schema AND the parser's list of
accepted keys, so the two cannot drift apart. The parser checks the body's *shape* (a JSON
object, known keys at every level, JSON types) and maps it to the canonical form; every
business rule (lengths, enumerations, dates, uniqueness, required fields of the program)
belongs to the services, which report canonical paths that `V2Write.v2_path` renders as the
v2 dotted path of the value in the request (`identification.primary.number` →
`identification[0].number`, the index of that item in the body).

Semantics (SPEC §5), for PUT — POST is the same on a new user:
- a key present is changed, a key absent is kept, `null` clears; empty strings count as absent;
- `birth`, `mothers_details`, `fathers_details`, `employer`, `provider` are replaced whole:
  members absent from the object become `null` (`employer` without `address` removes the
  employer's address); the object `null` clears all of them;
- `metadata` and `created_by` are JSON objects, replaced whole;
- `identification` items are matched by `is_primary` (default `true`; at most one primary and
  one secondary per request) and replace that document whole; a document of the other rank
  is kept; `{"is_primary": false, "remove": true}` removes the secondary document (the same
  `remove` as for addresses — a partner needs a way to withdraw an alternative id);
- `addresses` items are matched by `type`; types absent are kept; `{"type": "billing",
  "remove": true}` removes one; the employer's address is `employer.address`;
- `tax_residencies` replaces the whole list (`[]` or `null` clears it);
- `identification: null` removes both documents and `addresses: null` every listed address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

from core import error_codes
from core.exceptions import ApiError, FieldError
from users import fields
from users.fields import ADDRESS_KEYS, ID_ITEM_KEYS, Changes
from users.models import AccountType
from users.validation.codes import rule_code

LISTED_ADDRESS_TYPES: tuple[str, ...] = ("residential", "billing", "mailing", "work")
# Required by a v2 create (the schema says so; the services judge it, see parse_v2_body).
REQUIRED_ON_CREATE: tuple[str, ...] = (
    "type",
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "mobile_country_code",
    "mobile",
)

# --- input serializers: the OpenAPI request schema and the accepted keys


def _text(max_length: int | None = None, help_text: str = "") -> serializers.CharField:
    kwargs: dict[str, Any] = {"required": False, "allow_null": True, "help_text": help_text}
    if max_length:
        kwargs["max_length"] = max_length
    return serializers.CharField(**kwargs)


def _date(help_text: str = "ISO 8601 date, `YYYY-MM-DD`.") -> serializers.DateField:
    return serializers.DateField(required=False, allow_null=True, help_text=help_text)


def _flag(help_text: str = "") -> serializers.BooleanField:
    return serializers.BooleanField(required=False, allow_null=True, help_text=help_text)


class BirthIn(serializers.Serializer):
    date = _date("Birthday, ISO 8601 `YYYY-MM-DD`; the program's minimum age applies.")
    place = _text(100)
    country = _text(3, "ISO 3166 alpha-3.")


class MothersDetailsIn(serializers.Serializer):
    first_name = _text(50)
    middle_name = _text(50)
    last_name = _text(50)
    maiden_name = _text(50)


class FathersDetailsIn(serializers.Serializer):
    first_name = _text(50)
    middle_name = _text(50)
    last_name = _text(50)


class AddressFieldsIn(serializers.Serializer):
    address_1 = _text(255)
    address_2 = _text(255)
    address_3 = _text(255)
    address_4 = _text(255)
    city = _text(100)
    state = _text(100)
    country = _text(3, "ISO 3166 alpha-3.")
    zipcode = _text(20)


class AddressIn(AddressFieldsIn):
    type = serializers.ChoiceField(
        choices=list(LISTED_ADDRESS_TYPES),
        help_text="Matches the user's address of this type (upsert); other types are kept.",
    )
    remove = serializers.BooleanField(
        required=False,
        help_text="`true` removes the address of this `type` (send only `type` with it).",
    )


class EmployerIn(serializers.Serializer):
    name = _text(50)
    nature_of_business = _text(100)
    address = AddressFieldsIn(required=False, allow_null=True)


class ProviderIn(serializers.Serializer):
    reference_id = _text(100, "Licensing provider reference id.")
    account_number = _text(100, "Licensing provider account number.")
    posting_status = _text(50)


class IdentificationIn(serializers.Serializer):
    type = _text(30, "Id type code (enumeration `id_types`).")
    number = _text(30)
    issue_date = _date()
    expiry_date = _date()
    country_of_issue = _text(3, "ISO 3166 alpha-3.")
    is_primary = serializers.BooleanField(
        required=False,
        help_text="`true` (default): the primary document; `false`: the secondary one. "
        "The item replaces the user's document of that rank.",
    )
    remove = serializers.BooleanField(
        required=False,
        help_text="`true` removes the document of this rank (send only `is_primary` with it).",
    )


class TaxResidencyIn(serializers.Serializer):
    country = _text(3, "ISO 3166 alpha-3.")
    tin = _text(50, "Tax identification number.")


class V2UserWriteIn(serializers.Serializer):
    """v2 user fields (PUT: every field optional; `null` clears)."""

    type = serializers.ChoiceField(
        choices=AccountType.values, required=False, help_text="`customer` or `corporate`."
    )
    client_ref_id = _text(50, "The partner's own reference for the user.")
    salutation = _text(20)
    title = _text(20, "Enumeration `titles`.")
    first_name = _text(50)
    middle_name = _text(50)
    last_name = _text(50)
    maiden_name = _text(50)
    preferred_name = _text(25, "The name used for wallets and cards.")
    gender = _text(20, "Enumeration `genders`.")
    email = _text(254)
    mobile_country_code = _text(3, "Calling code without `+` (enumeration `mobile_country_codes`).")
    mobile = _text(20, "National number, digits only.")
    marital_status = _text(20, "Enumeration `marital_status`.")
    identification = IdentificationIn(
        many=True, required=False, allow_null=True, help_text="At most one primary, one secondary."
    )
    birth = BirthIn(required=False, allow_null=True, help_text="Replaced whole.")
    nationality = _text(3, "ISO 3166 alpha-3 (enumeration `nationalities`).")
    mothers_details = MothersDetailsIn(required=False, allow_null=True, help_text="Replaced whole.")
    fathers_details = FathersDetailsIn(required=False, allow_null=True, help_text="Replaced whole.")
    addresses = AddressIn(
        many=True, required=False, allow_null=True, help_text="Upserted by `type`."
    )
    employment_type = _text(100, "Enumeration `employment_type`.")
    job_title = _text(100)
    employer = EmployerIn(required=False, allow_null=True, help_text="Replaced whole.")
    annual_income = _text(100, "Enumeration `annual_income`.")
    main_income_source = _text(100, "Enumeration `main_income_source`.")
    social_professional_category = _text(100, "Enumeration `social_professional_category`.")
    purpose_of_account = _text(100, "Enumeration `purpose_of_account`.")
    country_of_residence = _text(3, "ISO 3166 alpha-3.")
    tax_residencies = TaxResidencyIn(
        many=True, required=False, allow_null=True, help_text="Replaces the whole list."
    )
    fatca_crs_relevant = _flag("FATCA / CRS relevance.")
    fatca_crs_confirmation_date = serializers.DateTimeField(
        required=False, allow_null=True, help_text="ISO 8601 date-time with offset."
    )
    pep = _flag("Self-declared politically exposed person.")
    provider = ProviderIn(required=False, allow_null=True, help_text="Replaced whole.")
    data_terms_signed_date = _date()
    metadata = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="A JSON object (at most 50 keys, 16 KiB), replaced whole.",
    )
    created_by = serializers.JSONField(
        required=False, allow_null=True, help_text="A JSON object describing who created it."
    )
    customer_id = _text(50, "Unique in the program.")
    partner_id = _text(50)
    agent_id = _text(50)


class V2UserCreateIn(V2UserWriteIn):
    """v2 user fields for a create; the required ones are required, plus the program's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in REQUIRED_ON_CREATE:
            self.fields[name].required = True
            self.fields[name].allow_null = False


class V2ReactivateIn(serializers.Serializer):
    """Only the id: re-activates a locked or suspended user."""

    user_id = serializers.CharField(help_text="The user's id (32 lower-case hex characters).")


# --- parsing

_STRING, _BOOL, _OBJECT = "string", "boolean", "object"

# v2 name -> canonical name, for the members of the objects replaced whole
_OBJECTS: dict[str, dict[str, str]] = {
    "birth": {"date": "birth_date", "place": "birth_place", "country": "birth_country"},
    "mothers_details": {
        "first_name": "mothers_first_name",
        "middle_name": "mothers_middle_name",
        "last_name": "mothers_last_name",
        "maiden_name": "mothers_maiden_name",
    },
    "fathers_details": {
        "first_name": "fathers_first_name",
        "middle_name": "fathers_middle_name",
        "last_name": "fathers_last_name",
    },
    "provider": {
        "reference_id": "provider_reference_id",
        "account_number": "provider_account_number",
        "posting_status": "provider_posting_status",
    },
    "employer": {"name": "employer_name", "nature_of_business": "employer_nature_of_business"},
}
_ID_V2_NAMES: dict[str, str] = {"id_type": "type"}  # canonical item key -> v2 key
_TOP_KINDS: dict[str, str] = {
    "fatca_crs_relevant": _BOOL,
    "pep": _BOOL,
    "metadata": _OBJECT,
    "created_by": _OBJECT,
}
# canonical scalar -> its v2 dotted path, where they differ
_CANONICAL_TO_V2: dict[str, str] = {
    canonical: f"{obj}.{v2}"
    for obj, members in _OBJECTS.items()
    for v2, canonical in members.items()
}


def _keys(serializer_class: type[serializers.Serializer]) -> frozenset[str]:
    return frozenset(serializer_class().fields)


TOP_KEYS = _keys(V2UserWriteIn)
_OBJECT_KEYS: dict[str, frozenset[str]] = {
    "birth": _keys(BirthIn),
    "mothers_details": _keys(MothersDetailsIn),
    "fathers_details": _keys(FathersDetailsIn),
    "provider": _keys(ProviderIn),
    "employer": _keys(EmployerIn),
}
_ADDRESS_FIELD_KEYS = _keys(AddressFieldsIn)
_ADDRESS_ITEM_KEYS = _keys(AddressIn)
_ID_KEYS = _keys(IdentificationIn)
_TAX_KEYS = _keys(TaxResidencyIn)
_SCALARS = TOP_KEYS - set(_OBJECTS) - {"identification", "addresses", "tax_residencies"}


@dataclass
class V2Write:
    """A parsed v2 body: the canonical changes and where each list item sat in the body."""

    changes: Changes
    identification_index: dict[str, int] = field(default_factory=dict)
    identification_count: int = 0
    address_index: dict[str, int] = field(default_factory=dict)
    address_count: int = 0

    def v2_path(self, canonical: str) -> str:
        """The v2 dotted path of a canonical error path (unchanged when unknown).

        Items the request did not send (e.g. a required document) are named at the index
        they would take if appended to the request's list.
        """
        parts = canonical.split(".")
        head, rest = parts[0], parts[1:]
        if head == "identification" and rest and rest[0] in ("primary", "secondary"):
            index = self.identification_index.get(rest[0], self.identification_count)
            tail = [_ID_V2_NAMES.get(rest[1], rest[1]), *rest[2:]] if len(rest) > 1 else []
            return ".".join([f"identification[{index}]", *tail])
        if head == "addresses" and rest:
            if rest[0] == "employer":
                base = "employer.address"
            else:
                base = f"addresses[{self.address_index.get(rest[0], self.address_count)}]"
            return ".".join([base, *rest[1:]])
        if head == "tax_residencies" and rest and rest[0].isdigit():
            return ".".join([f"tax_residencies[{rest[0]}]", *rest[1:]])
        return _CANONICAL_TO_V2.get(canonical, canonical)

    def rendered(self, error: ApiError) -> ApiError:
        """The services' validation error with every field named by its v2 path."""
        if not error.is_validation:
            return error
        renamed = [
            FieldError(v2, e.code, v2_description(e.description, e.field, v2))
            for e in error.errors
            for v2 in (self.v2_path(e.field),)
        ]
        return ApiError(
            code=renamed[0].code,
            status=error.status,
            description=renamed[0].description,
            errors=renamed,
            headers=error.headers,
            is_validation=True,
        )


def v2_description(description: str, canonical: str, v2_path: str) -> str:
    """The services describe a field by its v1 / code name (`account_type`, `id_number`);
    a v2 client reads the name it sent (`type`, `identification[0].number`)."""
    for name in {fields.code_name(canonical), fields.v1_name(canonical)}:
        if name != v2_path:
            description = description.replace(f"`{name}`", f"`{v2_path}`")
    return description


def v2_field_name(canonical: str) -> str:
    """A canonical path in v2 names, outside any request (the audit trail's `changes`).

    List items are named by what matches them, `identification.primary.number`,
    `addresses.billing.city`; the employer's address is `employer.address.city`.
    """
    parts = canonical.split(".")
    if parts[0] == "identification" and len(parts) == 3:
        return ".".join([*parts[:2], _ID_V2_NAMES.get(parts[2], parts[2])])
    if parts[0] == "addresses" and len(parts) > 1 and parts[1] == "employer":
        return ".".join(["employer.address", *parts[2:]])
    return _CANONICAL_TO_V2.get(canonical, canonical)


def reactivation_id(data: Any) -> str | None:
    """The id when the body is exactly `{"user_id": ...}` (a re-activation), else None."""
    if isinstance(data, Mapping) and set(data) == {"user_id"}:
        value = data["user_id"]
        return value.strip() if isinstance(value, str) else ""
    return None


def parse_v2_body(data: Any) -> V2Write:
    """Shape-check and map a v2 body; raises 400 `invalid_model` / `validation_error`.

    Required fields are the services' rule (the v2 create's `type` and `preferred_name`
    included, with the program's own): they are judged with every other rule, so one
    answer lists every missing field.
    """
    if not isinstance(data, Mapping):
        raise ApiError(error_codes.INVALID_MODEL)
    parser = _Parser()
    write = parser.parse(data)
    if parser.errors:
        raise ApiError.from_field_errors(parser.errors)
    return write


class _Parser:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.write = V2Write(changes={})

    # --- errors

    def error(self, path: str, canonical: str, rule: str, detail: str = "") -> None:
        code = rule_code(canonical, rule)
        self.errors.append(FieldError(path, code, detail or error_codes.describe(code)))

    def unknown(self, obj: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
        allowed = set(allowed)
        for key in obj:
            if key not in allowed:
                path = f"{prefix}{key}"
                self.errors.append(
                    FieldError(
                        path,
                        error_codes.USER_UNKNOWN_FIELD,
                        error_codes.describe(error_codes.USER_UNKNOWN_FIELD, field=path),
                    )
                )

    # --- values

    def value(self, raw: Any, kind: str, path: str, canonical: str) -> tuple[bool, Any]:
        """(present, cleaned): strings trimmed, empty strings absent, JSON types checked."""
        if raw is None:
            return True, None
        if kind == _STRING:
            if not isinstance(raw, str):
                self.error(path, canonical, "invalid", f"`{path}` must be a string.")
                return False, None
            if "\x00" in raw:
                self.error(path, canonical, "invalid", f"`{path}` contains a NUL character.")
                return False, None
            text = raw.strip()
            return (True, text) if text else (False, None)
        if kind == _BOOL:
            if not isinstance(raw, bool):
                self.error(path, canonical, "invalid", f"`{path}` must be true or false.")
                return False, None
            return True, raw
        if not isinstance(raw, dict):
            self.error(path, canonical, "invalid", f"`{path}` must be a JSON object.")
            return False, None
        if _holds_nul(raw):
            # no database stores it in JSON text (PostgreSQL's jsonb refuses \u0000)
            self.error(path, canonical, "invalid", f"`{path}` contains a NUL character.")
            return False, None
        return True, raw

    def obj(
        self, raw: Any, path: str, allowed: Iterable[str], canonical: str
    ) -> dict[str, Any] | None:
        """A nested object (None when `null`); a wrong type is reported and skipped."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.error(path, canonical, "invalid", f"`{path}` must be a JSON object.")
            raise _Skip
        self.unknown(raw, allowed, f"{path}.")
        return raw

    def members(
        self, raw: dict[str, Any] | None, path: str, names: Mapping[str, str]
    ) -> dict[str, Any]:
        """Canonical values of an object replaced whole: absent members are None."""
        out: dict[str, Any] = {}
        for v2_name, canonical in names.items():
            present, value = False, None
            if raw is not None and v2_name in raw:
                present, value = self.value(raw[v2_name], _STRING, f"{path}.{v2_name}", canonical)
            out[canonical] = value if present else None
        return out

    # --- the body

    def parse(self, data: Mapping[str, Any]) -> V2Write:
        self.unknown(data, TOP_KEYS)
        changes = self.write.changes
        for key in data:
            if key not in TOP_KEYS:
                continue
            raw = data[key]
            try:
                if key in _SCALARS:
                    present, value = self.value(raw, _TOP_KINDS.get(key, _STRING), key, key)
                    if present:
                        changes[key] = value
                elif key == "employer":
                    self.employer(raw)
                elif key in _OBJECTS:
                    obj = self.obj(raw, key, _OBJECT_KEYS[key], key)
                    changes.update(self.members(obj, key, _OBJECTS[key]))
                elif key == "identification":
                    self.identification(raw)
                elif key == "addresses":
                    self.addresses(raw)
                elif key == "tax_residencies":
                    self.tax_residencies(raw)
            except _Skip:
                continue
        return self.write

    def employer(self, raw: Any) -> None:
        obj = self.obj(raw, "employer", _OBJECT_KEYS["employer"], "employer")
        self.write.changes.update(self.members(obj, "employer", _OBJECTS["employer"]))
        address = None
        if obj is not None and obj.get("address") is not None:
            address = self.address_fields(
                self.obj(
                    obj["address"], "employer.address", _ADDRESS_FIELD_KEYS, "employer.address"
                ),
                "employer.address",
                "employer",
            )
        self.write.changes.setdefault("addresses", {})["employer"] = address

    def address_fields(self, raw: dict[str, Any] | None, path: str, kind: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ADDRESS_KEYS:
            present, value = False, None
            if raw is not None and key in raw:
                present, value = self.value(
                    raw[key], _STRING, f"{path}.{key}", f"addresses.{kind}.{key}"
                )
            out[key] = value if present else None
        return out

    def items(self, raw: Any, name: str) -> list[Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, list):
            self.error(name, name, "invalid", f"`{name}` must be a list.")
            raise _Skip
        return raw

    def identification(self, raw: Any) -> None:
        items = self.items(raw, "identification")
        if items is None:
            self.write.changes["identification"] = {"primary": None, "secondary": None}
            return
        self.write.identification_count = len(items)
        documents: dict[str, dict[str, Any] | None] = {}
        for i, item in enumerate(items):
            path = f"identification[{i}]"
            try:
                obj = self.obj(item, path, _ID_KEYS, "identification")
            except _Skip:
                continue
            if obj is None:
                self.error(path, "identification", "invalid", f"`{path}` must be a JSON object.")
                continue
            is_primary = obj.get("is_primary", True)
            if is_primary is None:
                is_primary = True
            if not isinstance(is_primary, bool):
                self.error(
                    f"{path}.is_primary",
                    "identification.is_primary",
                    "invalid",
                    f"`{path}.is_primary` must be true or false.",
                )
                continue
            rank = "primary" if is_primary else "secondary"
            if rank in documents:
                self.error(
                    f"{path}.is_primary",
                    "identification.is_primary",
                    "unique",
                    f"Only one {rank} identification may be sent.",
                )
                continue
            self.write.identification_index[rank] = i
            if self.removal(obj, path, "identification", {"is_primary", "remove"}):
                documents[rank] = None
                continue
            document: dict[str, Any] = {}
            for key in ID_ITEM_KEYS:
                v2_key = _ID_V2_NAMES.get(key, key)
                present, value = False, None
                if v2_key in obj:
                    present, value = self.value(
                        obj[v2_key], _STRING, f"{path}.{v2_key}", f"identification.{rank}.{key}"
                    )
                document[key] = value if present else None
            documents[rank] = document
        self.write.changes["identification"] = documents

    def removal(self, obj: dict[str, Any], path: str, name: str, keys: set[str]) -> bool:
        remove = obj.get("remove", False)
        if remove is None or remove is False:
            return False
        if remove is not True:
            self.error(
                f"{path}.remove",
                f"{name}.remove",
                "invalid",
                f"`{path}.remove` must be true or false.",
            )
            raise _Skip
        extra = sorted(set(obj) - keys)
        if extra:
            self.error(
                f"{path}.remove",
                f"{name}.remove",
                "invalid",
                f"An item with `remove: true` carries nothing else (got `{extra[0]}`).",
            )
            raise _Skip
        return True

    def addresses(self, raw: Any) -> None:
        items = self.items(raw, "addresses")
        addresses = self.write.changes.setdefault("addresses", {})
        if items is None:
            addresses.update({t: None for t in LISTED_ADDRESS_TYPES})
            return
        self.write.address_count = len(items)
        for i, item in enumerate(items):
            path = f"addresses[{i}]"
            try:
                obj = self.obj(item, path, _ADDRESS_ITEM_KEYS, "address")
                if obj is None:
                    self.error(path, "address", "invalid", f"`{path}` must be a JSON object.")
                    continue
                kind = obj.get("type")
                if kind is None or (isinstance(kind, str) and not kind.strip()):
                    self.error(
                        f"{path}.type", "address.type", "required", f"`{path}.type` is required."
                    )
                    continue
                if not isinstance(kind, str) or kind.strip().lower() not in LISTED_ADDRESS_TYPES:
                    self.error(
                        f"{path}.type",
                        "address.type",
                        "invalid",
                        f"`{path}.type` must be one of {', '.join(LISTED_ADDRESS_TYPES)}.",
                    )
                    continue
                kind = kind.strip().lower()
                if kind in self.write.address_index:
                    self.error(
                        f"{path}.type",
                        "address.type",
                        "unique",
                        f"Only one `{kind}` address may be sent.",
                    )
                    continue
                self.write.address_index[kind] = i
                if self.removal(obj, path, "address", {"type", "remove"}):
                    addresses[kind] = None
                    continue
                addresses[kind] = self.address_fields(obj, path, kind)
            except _Skip:
                continue

    def tax_residencies(self, raw: Any) -> None:
        items = self.items(raw, "tax_residencies")
        if items is None:
            self.write.changes["tax_residencies"] = None
            return
        residencies: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            path = f"tax_residencies[{i}]"
            try:
                obj = self.obj(item, path, _TAX_KEYS, "tax_residency")
            except _Skip:
                continue
            if obj is None:
                self.error(path, "tax_residency", "invalid", f"`{path}` must be a JSON object.")
                continue
            residency: dict[str, Any] = {}
            for key in ("country", "tin"):
                present, value = False, None
                if key in obj:
                    present, value = self.value(
                        obj[key], _STRING, f"{path}.{key}", f"tax_residencies.{i}.{key}"
                    )
                residency[key] = value if present else None
            residencies.append(residency)
        self.write.changes["tax_residencies"] = residencies


def _holds_nul(value: Any) -> bool:
    """Whether a NUL character is in any key or string of a JSON value (iterative: any depth)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class _Skip(Exception):
    """A value of the wrong shape was reported; move on to the next one."""
