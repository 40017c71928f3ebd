"""The error catalogue (`/api/docs/errors/`, SPEC §10): every code the service answers —
HTTP status, API version(s), meaning, the usual cause and the fix.

Generated, never written by hand: the codes are `core.error_codes`' constants and
descriptions, plus the codes the OpenAPI schema documents per operation (every field-rule
code, with its statuses and versions). The cause and the fix come from `GUIDANCE` for codes
with their own story, else from the code's rule suffix (`_required`, `_lengthmax`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from drf_spectacular.generators import SchemaGenerator

from core import error_codes
from users.validation import possible_codes

_CODE_IN_TEXT = re.compile(r"`([a-z0-9_]+)`")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# the values an answer fills into a description, shown by name in the catalogue
_SHOWN_PARAMS = {
    name: f"<{name}>"
    for name in (
        "max",
        "allowed",
        "method",
        "media_type",
        "param",
        "entity",
        "status",
        "from",
        "to",
    )
}


@dataclass
class Entry:
    code: str
    statuses: set[int] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)
    meaning: str = ""
    cause: str = ""
    fix: str = ""


# code -> (usual cause, fix)
GUIDANCE: dict[str, tuple[str, str]] = {
    error_codes.INVALID_CREDENTIALS: (
        "No `Authorization` header, not HTTP Basic, an unknown client id, a wrong secret or "
        "a deactivated client.",
        "Send `Authorization: Basic base64(client_id:client_secret)` with an active client's "
        "credentials (`create_api_client` prints them; an operator can rotate the secret).",
    ),
    error_codes.INVALID_TENANT: (
        "The `{program}` segment of the URL is not the API client's program.",
        "Call the paths of the client's own program, or use that program's client.",
    ),
    error_codes.RESTRICTED_RESOURCE: (
        "A read-only client sent a write, or the client lacks a partner permission "
        "(`risk_exceptions`, `kyc_decisions`).",
        "Use a client allowed that method; an operator grants permissions on the API client "
        "in the admin.",
    ),
    error_codes.IP_NOT_ALLOWED: (
        "The client has an IP allowlist and the request came from outside it.",
        "Call from an allowed address, or ask an operator to add your CIDR.",
    ),
    error_codes.RESOURCE_NOT_FOUND: (
        "The path matches no endpoint (a typo, a wrong version segment, an unknown "
        "enumeration kind).",
        "Check the path against the API docs at `/api/docs/`.",
    ),
    error_codes.METHOD_NOT_ALLOWED: (
        "The endpoint exists but not with this HTTP method.",
        "Use a method the API docs list for the path.",
    ),
    error_codes.UNSUPPORTED_MEDIA_TYPE: (
        "The body's `Content-Type` is not JSON (or, for v1, form-encoded).",
        "Send `Content-Type: application/json` (v1 also accepts "
        "`application/x-www-form-urlencoded`).",
    ),
    error_codes.NOT_ACCEPTABLE: (
        "The `Accept` header asks for a format the API does not produce.",
        "Accept `application/json` (or omit the header).",
    ),
    error_codes.INVALID_REQUEST_BODY: (
        "The body could not be parsed (malformed JSON or form data, or not an object).",
        "Send a well-formed JSON object or form body.",
    ),
    error_codes.BAD_REQUEST: (
        "The request was refused before routing, typically a `Host` header the server does "
        "not serve.",
        "Call the service by one of its configured host names.",
    ),
    error_codes.INVALID_MODEL: (
        "The v2 body is not a JSON object (an array, a string, malformed JSON).",
        "Send one JSON object.",
    ),
    error_codes.VALIDATION_ERROR: (
        "One or more v2 fields failed their rules; `source` lists each with its own code.",
        "Fix every field named in `source` (each code has its own entry here).",
    ),
    error_codes.INVALID_QUERY_PARAM: (
        "A query parameter is unknown, repeated, or has a value outside its allowed set.",
        "Use only the documented parameters, once each, with allowed values.",
    ),
    error_codes.REQUEST_TOO_LARGE: (
        "The body exceeds the service's size limit (256 KiB by default).",
        "Send a smaller body.",
    ),
    error_codes.PRECONDITION_FAILED: (
        "`If-Match` named an older version: the user changed since you read it.",
        "Read the user again (new `ETag`) and retry the update on the fresh data.",
    ),
    error_codes.IDEMPOTENCY_KEY_REUSED: (
        "The same `Idempotency-Key` was used earlier (within 24 h) with a different body.",
        "Use a new key for a new request; reuse a key only to retry the identical request.",
    ),
    error_codes.IDEMPOTENCY_KEY_IN_USE: (
        "A request with this key is still being processed.",
        "Wait and retry with the same key: you then get the first request's answer.",
    ),
    error_codes.IDEMPOTENCY_KEY_INVALID: (
        "The key is empty, longer than 255 characters or not printable ASCII.",
        "Send 1 to 255 printable ASCII characters, e.g. a UUID.",
    ),
    error_codes.RATE_LIMITED: (
        "The client sent more requests per minute than its program allows.",
        "Wait the seconds in `Retry-After`, then retry; ask for a higher limit if needed.",
    ),
    error_codes.INTERNAL_ERROR: (
        "An unexpected failure on the server.",
        "Retry later; if it persists, quote the error id (v2 `id`) to support.",
    ),
    error_codes.SERVICE_UNAVAILABLE: (
        "The database does not answer (`/healthz`).",
        "Retry later; operators check the database.",
    ),
    error_codes.USER_RECORD_NOT_FOUND: (
        "No user with this id in your program (it may belong to another program).",
        "Use an id your program's create answered.",
    ),
    error_codes.USER_IMPROPER_ID: (
        "The user id is not 32 lower-case hex characters, or `X-Auth-User-ID` is missing on "
        "a user-scope endpoint.",
        "Send the id as created (32 hex characters), in the path or in `X-Auth-User-ID`.",
    ),
    error_codes.USER_UNKNOWN_FIELD: (
        "The body carries a field the endpoint does not accept (a typo, a response-only "
        "field such as `status`, or a field of the other API version).",
        "Remove the field; the API docs list the accepted ones.",
    ),
    error_codes.USER_STATUS_TRANSITION_NOT_ALLOWED: (
        "The user's current status does not allow this change (e.g. suspending a pending "
        "user, anything on a terminal user).",
        "Read the user's status first; the lifecycle table lists the allowed changes.",
    ),
    error_codes.USER_REACTIVATION_NOT_ALLOWED: (
        "The user is in a terminal status (blocked, blacklisted, rejected, terminated).",
        "Terminal users cannot come back; create a new user if the program allows it.",
    ),
    error_codes.UNSUSPEND_FLAGGED_USER_NOT_ALLOWED: (
        "The user is risk-flagged and has no unexpired risk exemption.",
        "An operator (or a client with `risk_exceptions`) grants an exemption first.",
    ),
    error_codes.USER_STATE_INVALID: (
        "`state` is not `suspended` or `blocked`, or the body and the query string disagree.",
        "Send `state=suspended` or `state=blocked`, once.",
    ),
    error_codes.USER_ALREADY_SUSPENDED: (
        "The user is already suspended.",
        "Nothing to do; re-activate with `POST /users` and the id if that was the intent.",
    ),
    error_codes.RISK_BLACKLISTED: (
        "A value of the new user matches a blocking blacklist entry.",
        "Nothing to retry: compliance reviews the blacklist.",
    ),
    error_codes.RISK_BLACKLISTED_UPDATE: (
        "A changed value matches a blocking blacklist entry.",
        "Nothing to retry: compliance reviews the blacklist.",
    ),
    error_codes.RISK_ENTITY_THRESHOLD_EXCEEDED: (
        "The values' screening score reached the program's risk threshold.",
        "Nothing to retry: compliance reviews the case.",
    ),
    error_codes.RISK_USER_THRESHOLD_EXCEEDED: (
        "The update's screening score reached the threshold; the user was blacklisted.",
        "Contact compliance.",
    ),
    error_codes.RISK_ENGINE_ERROR: (
        "The screening engine failed; nothing was saved.",
        "Retry later; quote the error id if it persists.",
    ),
    error_codes.RISK_CONFIG_ERROR: (
        "The program's risk settings cannot be evaluated (no or a non-positive threshold).",
        "An operator fixes the program's risk settings in the admin.",
    ),
}

# rule suffix -> (cause, fix); `{field}` is the field the code names
RULE_GUIDANCE: tuple[tuple[str, str, str], ...] = (
    ("_required", "`{field}` is missing and the program requires it.", "Send `{field}`."),
    (
        "_lengthmax",
        "`{field}` is longer than allowed.",
        "Shorten `{field}` to the limit in the description.",
    ),
    (
        "_above_max_length",
        "`{field}` is longer than allowed.",
        "Shorten `{field}` to the limit in the description.",
    ),
    (
        "_below_min_length",
        "`{field}` is shorter than allowed.",
        "Lengthen `{field}` to the minimum in the description.",
    ),
    (
        "_rule",
        "`{field}` contains characters its rule does not allow.",
        "Use only the characters the description lists.",
    ),
    (
        "_rule_mismatch",
        "`{field}` misses a required kind of character.",
        "Add what the description says is missing.",
    ),
    (
        "_not_allowed",
        "`{field}` is not one of the program's allowed values.",
        "Pick a value from the matching `GET /users/enumerations/{{kind}}`.",
    ),
    (
        "_invalid",
        "`{field}` is malformed or out of range.",
        "Send the format and range the description gives.",
    ),
    (
        "_unique",
        "Another live user of the program already has this `{field}`.",
        "Use a different value, or update the existing user.",
    ),
    (
        "_in_use",
        "Another user of the program already has this `{field}`.",
        "Use a different value.",
    ),
    (
        "_insufficient_dependency",
        "One of two fields that go together was sent alone.",
        "Send both or neither.",
    ),
    ("_missing", "One of a pair of dates was sent alone.", "Send both dates or neither."),
    ("_error", "The value cannot change any more.", "Keep the current value."),
)


def _rule_guidance(code: str) -> tuple[str, str]:
    if "_unrecognized_" in code:
        name = code.split("_unrecognized_", 1)[1]
        return (
            f"`{name}` is not one of the accepted values.",
            f"Send a `{name}` listed by `GET /users/enumerations/...` (the description names "
            "the accepted values).",
        )
    for suffix, cause, fix in RULE_GUIDANCE:
        if code.endswith(suffix):
            name = code.removesuffix(suffix).removeprefix("resource_user_")
            name = name.removeprefix("resource_risk_exception_").removeprefix("user_")
            return cause.format(field=name), fix.format(field=name)
    return (
        "The request broke the rule this code names.",
        "Read the description in the answer; it says what is wrong and how to fix it.",
    )


def module_codes() -> dict[str, str]:
    """Every code constant of `core.error_codes` (NAME -> code), however many are added."""
    return {
        name: value
        for name, value in vars(error_codes).items()
        if name.isupper() and isinstance(value, str) and not name.startswith("_")
    }


def _schema_codes() -> dict[str, tuple[set[int], set[str]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found: dict[str, tuple[set[int], set[str]]] = {}
    for path, operations in schema.get("paths", {}).items():
        version = "v2" if "/v2/" in path else "v1" if "/v1/" in path else ""
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if not str(status).isdigit() or int(status) < 400:
                    continue
                for code in _CODE_IN_TEXT.findall(response.get("description", "")):
                    statuses, versions = found.setdefault(code, (set(), set()))
                    statuses.add(int(status))
                    if version:
                        versions.add(version)
    return found


def field_rule_codes() -> set[str]:
    """The field-rule codes users.validation can answer (v2 `source[].code`, and v1 codes
    for the fields v1 has): the validation package's own `possible_codes()`."""
    return set(possible_codes())


@lru_cache(maxsize=1)
def catalogue() -> tuple[Entry, ...]:
    """Every code, alphabetically; built once per process (the schema is static)."""
    entries: dict[str, Entry] = {}
    for code in [*module_codes().values(), *error_codes.DESCRIPTIONS]:
        entries.setdefault(code, Entry(code))
    for code, (statuses, versions) in _schema_codes().items():
        entry = entries.setdefault(code, Entry(code))
        entry.statuses |= statuses
        entry.versions |= versions
    for code in field_rule_codes():
        entry = entries.setdefault(code, Entry(code))
        entry.statuses.add(400)
        entry.versions.add("v2")  # v2 answers every field rule as a `source[].code`
    for entry in entries.values():
        if not entry.statuses:
            entry.statuses.add(error_codes.status_for(entry.code))
        if not entry.versions:
            entry.versions |= {"v1", "v2"}
        # placeholders filled per answer are shown by name: `{method}` -> `<method>`
        meaning = error_codes.describe(entry.code, **_SHOWN_PARAMS)
        entry.meaning = _PLACEHOLDER.sub(r"<\1>", meaning)
        entry.cause, entry.fix = GUIDANCE.get(entry.code) or _rule_guidance(entry.code)
    return tuple(sorted(entries.values(), key=lambda e: e.code))


def as_rows() -> list[dict[str, Any]]:
    return [
        {
            "code": e.code,
            "statuses": ", ".join(str(s) for s in sorted(e.statuses)),
            "versions": ", ".join(sorted(e.versions)),
            "meaning": e.meaning,
            "cause": e.cause,
            "fix": e.fix,
        }
        for e in catalogue()
    ]
