"""The canonical form of a user write, shared by the v1 and v2 APIs.

Both API versions parse their bodies into one `Changes` dict keyed by canonical names, and
the services validate, screen and apply that dict. Validation reports errors against
canonical paths; each API version renders those paths in its own names (v1 `birthday`,
v2 `birth.date`) through its own path renderer.

Canonical `Changes` (every key optional; a key present with `None` clears the value):

- scalar fields, named as the `AccountHolder` model fields in `SCALAR_FIELDS`
  (e.g. `first_name`, `birth_date`, `main_income_source`, `client_ref_id`), plus `password`
  (plain text, v1 only; hashed by the service);
- `identification`: `{"primary": item | None, "secondary": item | None}` where an item is
  `{"id_type", "number", "issue_date", "expiry_date", "country_of_issue"}` (all keys present
  on the item; a key set to `None` is absent). `None` for a rank removes that document.
  v1 PUT semantics: v1 sends id fields individually; the v1 parser merges them onto the
  user's current document before handing the item over, so an item is always the whole
  resulting document.
- `addresses`: `{"residential" | "billing" | "mailing" | "work" | "employer": item | None}`,
  item = `{"address_1", "address_2", "address_3", "address_4", "city", "state", "country",
  "zipcode"}`; `None` removes the address of that type. Types absent are kept.
- `tax_residencies`: list of `{"country", "tin"}` (replaces the whole list) or `None` (clears).

Canonical error paths: a scalar's name (`birth_date`), `identification.primary.number`,
`identification.secondary.id_type`, `addresses.billing.zipcode`, `tax_residencies.0.country`.

Error codes are built from the v1 name of the field where v1 has one (`birth_date` →
`resource_user_birthday_invalid`), otherwise from the canonical path with dots as underscores
(`addresses.billing.country` → `resource_user_address_country_not_allowed`; see CODE_NAMES).
"""

from __future__ import annotations

from typing import Any

Changes = dict[str, Any]

# AccountHolder fields a client may write (v1 and/or v2).
SCALAR_FIELDS: tuple[str, ...] = (
    "type",
    "salutation",
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "maiden_name",
    "preferred_name",
    "gender",
    "marital_status",
    "nationality",
    "birth_date",
    "birth_place",
    "birth_country",
    "email",
    "mobile_country_code",
    "mobile",
    "mothers_first_name",
    "mothers_middle_name",
    "mothers_last_name",
    "mothers_maiden_name",
    "fathers_first_name",
    "fathers_middle_name",
    "fathers_last_name",
    "client_ref_id",
    "customer_id",
    "partner_id",
    "agent_id",
    "employment_type",
    "occupation",
    "job_title",
    "employer_name",
    "employer_nature_of_business",
    "volume_of_assets",
    "main_income_source",
    "annual_income",
    "social_professional_category",
    "purpose_of_account",
    "country_of_residence",
    "fatca_crs_relevant",
    "fatca_crs_confirmation_date",
    "pep",
    "provider_reference_id",
    "provider_account_number",
    "provider_posting_status",
    "data_terms_signed_date",
    "metadata",
    "created_by",
)

ID_ITEM_KEYS: tuple[str, ...] = (
    "id_type",
    "number",
    "issue_date",
    "expiry_date",
    "country_of_issue",
)
ADDRESS_KEYS: tuple[str, ...] = (
    "address_1",
    "address_2",
    "address_3",
    "address_4",
    "city",
    "state",
    "country",
    "zipcode",
)
ADDRESS_TYPES: tuple[str, ...] = ("residential", "billing", "mailing", "work", "employer")

# Canonical path -> v1 field name, where they differ (v1 names drive error codes too).
V1_NAMES: dict[str, str] = {
    "birth_date": "birthday",
    "birth_place": "place_of_birth",
    "main_income_source": "source_of_funds",
    "client_ref_id": "client_reference_id",
    "employer_nature_of_business": "nature_of_business",
    "type": "account_type",
    "identification.primary.id_type": "id_type",
    "identification.primary.number": "id_number",
    "identification.primary.issue_date": "id_date_issue",
    "identification.primary.expiry_date": "id_date_expiry",
    "identification.primary.country_of_issue": "country_of_issue",
    "identification.secondary.id_type": "alt_id_type",
    "identification.secondary.number": "alt_id_number",
    "identification.secondary.issue_date": "alt_id_date_issue",
    "identification.secondary.expiry_date": "alt_id_date_expiry",
    "identification.secondary.country_of_issue": "alt_id_country_of_issue",
}

# The program's required-field names (v1 names, SPEC §2) -> canonical paths.
REQUIRED_FIELD_PATHS: dict[str, str] = {
    **{v1: canonical for canonical, v1 in V1_NAMES.items()},
    "address": "addresses.residential",
}


def v1_name(path: str) -> str:
    return V1_NAMES.get(path, path)


def code_name(path: str) -> str:
    """The `<field>` part of `resource_user_<field>_<rule>` for a canonical path."""
    if path in V1_NAMES:
        return V1_NAMES[path]
    if path.startswith("addresses."):
        # addresses.billing.country -> address_country
        return "address_" + path.split(".")[-1]
    if path.startswith("tax_residencies."):
        return "tax_residency_" + path.split(".")[-1]
    return path.replace(".", "_")
