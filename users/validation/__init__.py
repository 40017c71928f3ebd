"""Every field rule of SPEC §6 (and the v2-only fields), over the canonical write form.

`validate_write` takes a canonical `Changes` dict (see `users/fields.py`), the program, the
enumeration catalog and — for an update — the current user, and returns a `CleanWrite`: the
cleaned values (trimmed, NFC-normalised, enumeration codes in their canonical spelling, dates
parsed, id numbers canonicalised) and the list of `FieldError`s, sorted in the order of the
§6 table (that order decides the v1 envelope's top-level code). Error `field`s are canonical
paths; each API version renders them in its own names.

Validation reads no table but the user's own children: the database's verdicts (uniqueness
pre-checks, the `dup_slot` each new id number takes, unique-index violations) are the
services' (`users/uniqueness.py`), which add their errors to the `CleanWrite` in table order.

The package, one module per concern:
- `rules`: the rule table (`Rank`, the SPEC §6 rows in order) and each field's `Spec`;
- `chars`: character classes, id-number checksums, the id number's canonical form;
- `codes`: `code_for(path, rule)` and `possible_codes()` — every code spelled once;
- `write`: `CleanWrite` / `IdItem`, what validation returns;
- `base`, `identification`, `validator`: the validator, in layers.

Conventions, so that both API versions behave the same:
- text is trimmed; an empty string counts as absent (the key is ignored, never a "clear");
  `None` (v2 `null`) clears an optional value;
- a value of the wrong JSON type (a number, a list, an object where text is expected) answers
  `resource_user_<field>_invalid`, never an exception;
- required fields are checked on the resulting user (current values overlaid with the
  changes), "both or neither" pairs on the request body (`sent`);
- on an update, values equal to what the user already holds are not re-judged by the
  enumeration, date and id-number rules (a value an operator deactivated since, or an id
  document that has since expired, does not block an unrelated change).
"""

from users.validation.chars import canonical_id_number, sg_nric_is_valid
from users.validation.codes import code_for, field_error, possible_codes
from users.validation.rules import RANKS, Rank
from users.validation.validator import validate_write
from users.validation.write import (
    CleanWrite,
    IdItem,
    current_addresses,
    current_identifications,
)

__all__ = [
    "RANKS",
    "CleanWrite",
    "IdItem",
    "Rank",
    "canonical_id_number",
    "code_for",
    "current_addresses",
    "current_identifications",
    "field_error",
    "possible_codes",
    "sg_nric_is_valid",
    "validate_write",
]
