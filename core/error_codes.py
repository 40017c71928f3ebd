"""Every error code the API answers with, and its human description.

The API, the OpenAPI schema and the tests import these constants; a code is never spelled
anywhere else. Descriptions of the seed's own codes are the seed's text.
"""

from __future__ import annotations

from typing import Final

# --- authentication / tenancy (SPEC §2)
INVALID_CREDENTIALS: Final = "invalid_credentials"
INVALID_TENANT: Final = "invalid_tenant"
RESTRICTED_RESOURCE: Final = "restricted_resource"
IP_NOT_ALLOWED: Final = "ip_not_allowed"

# --- generic request errors
RESOURCE_NOT_FOUND: Final = "resource_not_found"
METHOD_NOT_ALLOWED: Final = "method_not_allowed"
UNSUPPORTED_MEDIA_TYPE: Final = "unsupported_media_type"
NOT_ACCEPTABLE: Final = "not_acceptable"
INVALID_REQUEST_BODY: Final = "invalid_request_body"
BAD_REQUEST: Final = "bad_request"
INVALID_MODEL: Final = "invalid_model"
VALIDATION_ERROR: Final = "validation_error"
INVALID_QUERY_PARAM: Final = "invalid_query_param"
REQUEST_TOO_LARGE: Final = "request_too_large"
PRECONDITION_FAILED: Final = "precondition_failed"
IDEMPOTENCY_KEY_REUSED: Final = "idempotency_key_reused"
IDEMPOTENCY_KEY_IN_USE: Final = "idempotency_key_in_use"
IDEMPOTENCY_KEY_INVALID: Final = "idempotency_key_invalid"
RATE_LIMITED: Final = "rate_limited"
INTERNAL_ERROR: Final = "internal_error"
SERVICE_UNAVAILABLE: Final = "service_unavailable"

# --- users (SPEC §4, §5)
USER_RECORD_NOT_FOUND: Final = "user_record_not_found"
USER_IMPROPER_ID: Final = "user_improper_id"
USER_UNKNOWN_FIELD: Final = "resource_user_unknown_field"
USER_STATUS_TRANSITION_NOT_ALLOWED: Final = "resource_user_status_transition_not_allowed"
USER_REACTIVATION_NOT_ALLOWED: Final = "resource_user_reactivation_not_allowed"
UNSUSPEND_FLAGGED_USER_NOT_ALLOWED: Final = "unsuspend_flagged_user_not_allowed"
USER_STATE_INVALID: Final = "resource_user_state_invalid"
USER_ALREADY_SUSPENDED: Final = "user_record_already_suspended"

# --- risk (SPEC §6b)
RISK_BLACKLISTED: Final = "resource_risk_service_blacklisted_error"
RISK_BLACKLISTED_UPDATE: Final = "resource_risk_service_blacklisted_update_error"
RISK_ENTITY_THRESHOLD_EXCEEDED: Final = "enity_blocked_risk_threshold_exceeded"
RISK_USER_THRESHOLD_EXCEEDED: Final = "user_blocked_risk_threshold_exceeded"
RISK_ENGINE_ERROR: Final = "risk_management_engine_error"
RISK_CONFIG_ERROR: Final = "resource_risk_service_config_error"

DESCRIPTIONS: dict[str, str] = {
    INVALID_CREDENTIALS: "Missing or invalid API client credentials.",
    INVALID_TENANT: "The API client does not belong to the program in the URL.",
    RESTRICTED_RESOURCE: "Access with method `{method}` denied",
    IP_NOT_ALLOWED: "Requests from this IP address are not allowed for this API client.",
    RESOURCE_NOT_FOUND: "The requested resource does not exist.",
    METHOD_NOT_ALLOWED: "Method `{method}` is not allowed on this resource.",
    UNSUPPORTED_MEDIA_TYPE: "Unsupported media type `{media_type}` in request.",
    NOT_ACCEPTABLE: "Could not satisfy the request Accept header.",
    INVALID_REQUEST_BODY: "The request body could not be parsed.",
    BAD_REQUEST: "The request is malformed (e.g. an unknown Host header).",
    INVALID_MODEL: "The request body must be a JSON object.",
    VALIDATION_ERROR: "One or more fields failed validation.",
    INVALID_QUERY_PARAM: "Invalid query parameter `{param}`.",
    REQUEST_TOO_LARGE: "The request body is too large.",
    PRECONDITION_FAILED: "The resource was changed since the version named in If-Match.",
    IDEMPOTENCY_KEY_REUSED: "This Idempotency-Key was already used with a different request.",
    IDEMPOTENCY_KEY_IN_USE: "A request with this Idempotency-Key is still being processed.",
    IDEMPOTENCY_KEY_INVALID: "Idempotency-Key must be 1 to 255 printable characters.",
    RATE_LIMITED: "Too many requests; retry after the number of seconds in Retry-After.",
    INTERNAL_ERROR: "An unexpected error occurred; quote the error id to support.",
    SERVICE_UNAVAILABLE: "The service is unavailable.",
    USER_RECORD_NOT_FOUND: "User record not found.",
    USER_IMPROPER_ID: "Resource incomplete",
    USER_UNKNOWN_FIELD: "Unknown field `{field}`.",
    USER_STATUS_TRANSITION_NOT_ALLOWED: "User status cannot change from `{from}` to `{to}`.",
    USER_REACTIVATION_NOT_ALLOWED: "User in status `{status}` cannot be re-activated.",
    UNSUSPEND_FLAGGED_USER_NOT_ALLOWED: (
        "Flagged user can not be unsuspended without risk exemption"
    ),
    USER_STATE_INVALID: "Parameter `state` must be `suspended` or `blocked`.",
    USER_ALREADY_SUSPENDED: "User record is already suspended.",
    RISK_BLACKLISTED: "Request parameters flagged and not allowed to signup",
    RISK_BLACKLISTED_UPDATE: "Request parameters flagged and not allowed to update.",
    RISK_ENTITY_THRESHOLD_EXCEEDED: ("Entity '{entity}' requested for evaluation is blacklisted"),
    RISK_USER_THRESHOLD_EXCEEDED: (
        "User have exceeded the risk and compliance threshold and was automatically blocked."
    ),
    RISK_ENGINE_ERROR: (
        "An exception occurred during the processing of the risk and compliance of the user."
    ),
    RISK_CONFIG_ERROR: ("Unable to process the request due invalid risk service configuration."),
}

# Field-rule codes follow `resource_user_<field>_<rule>`; their descriptions come from these
# templates unless DESCRIPTIONS has the seed's exact text for the full code.
RULE_TEMPLATES: dict[str, str] = {
    "required": "Parameter `{field}` is required.",
    "invalid": "Parameter `{field}` is invalid.",
    "lengthmax": "Parameter `{field}` is too long, it cannot exceed {max} characters",
    "rule": "Parameter `{field}` contains characters that are not allowed.",
    "not_allowed": "Invalid parameter `{field}`, value not allowed",
    "unique": "`{field}` is already in use",
}

# The seed's descriptions for field codes (002_ce51c457424078b8.txt).
DESCRIPTIONS.update(
    {
        "resource_user_customer_id_in_use": "Parameter `customer_id` is already in use",
        "resource_id_type_unique": "maximum allowed limit for re-using `id_number` reached",
        "resource_user_id_date_expiry_invalid": "Parameter `id_date_expiry` is invalid",
        "resource_user_country_of_issue_invalid": "`country_of_issue` is invalid",
        "resource_user_birthday_invalid": (
            "User `birthday` is invalid. Please make sure it is in ISO 8601 format"
        ),
        "resource_user_birthday_not_allowed": (
            "`birthday` is invalid. User must meet the age requirements."
        ),
        "user_password_below_min_length": (
            "Parameter user `password` must be at least 8 characters long"
        ),
        "user_password_above_max_length": "Parameter user `password` must not exceed 32 characters",
        "user_password_rule_mismatch": (
            "Parameter user `password` must be at least 8 characters long and must have a "
            "letter and a number"
        ),
        "resource_id_type_rule_not_matched": (
            "`id_number` format doesnt match the rule defined for the id_type"
        ),
        "resource_user_mothers_maiden_name_rule": (
            "Paramter `mothers_maiden_name` must only contain letters and spaces"
        ),
        "resource_user_mothers_first_name_rule": (
            "Paramter `mothers_first_name` must only contain letters and spaces"
        ),
        "resource_user_mothers_last_name_rule": (
            "Paramter `mothers_last_name` must only contain letters and spaces"
        ),
        "resource_user_marital_status_not_allowed": (
            "Invalid parameter `marital_status`, value not allowed"
        ),
        "resource_user_mobile_country_code_not_allowed": (
            "Invalid parameter `mobile_country_code`, value not allowed"
        ),
        "resource_user_mobile_country_code_lengthmax": (
            "`mobile_country_code` must not exceed 3 characters"
        ),
        "resource_user_email_unique": "`email` is already in use",
        "resource_user_unrecognized_title": "Invalid parameter `title`, Accepts {allowed}",
        "resource_user_unrecognized_gender": "Invalid parameter `gender`, Accepts {allowed}",
        "resource_user_unrecognized_id_type": "Invalid id_type",
        "resource_user_id_type_and_number_invalid": (
            "`id_number` must not be empty if `id_type` is provided and vice-versa"
        ),
        "user_id_number_above_max_length": "User `id_number` must not exceed 30 characters",
        "resource_user_unrecognized_alt_id_type": "Invalid alt_id_type",
        "resource_user_alt_id_type_and_number_invalid": (
            "`alt_id_number` must not be empty if `alt_id_type` is provided and vice-versa"
        ),
        "user_alt_id_number_above_max_length": (
            "User `alt_id_number` must not exceed 20 characters"
        ),
        "resource_user_first_name_last_name_preferred_name_error": (
            "`first_name`, `last_name` and/or `preferred_name` can only be changed before "
            "wallet/card creation."
        ),
        "resource_user_wallet_fund_mobile_insufficient_dependency": (
            "Both `mobile_country_code` and `mobile` must be specified"
        ),
        "future_birthday_not_allowed": "Users `birthday` can not be a future date",
        "resource_user_id_date_missing": (
            "Either `id_date_expiry` or `id_date_issue` parameter is empty"
        ),
        "resource_user_alt_id_date_missing": (
            "Either `alt_id_date_expiry` or `alt_id_date_issue` parameter is empty"
        ),
    }
)

HTTP_STATUS: dict[str, int] = {
    INVALID_CREDENTIALS: 401,
    INVALID_TENANT: 401,
    RESTRICTED_RESOURCE: 403,
    IP_NOT_ALLOWED: 403,
    RESOURCE_NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    NOT_ACCEPTABLE: 406,
    UNSUPPORTED_MEDIA_TYPE: 415,
    INVALID_REQUEST_BODY: 400,
    BAD_REQUEST: 400,
    INVALID_MODEL: 400,
    VALIDATION_ERROR: 400,
    INVALID_QUERY_PARAM: 400,
    REQUEST_TOO_LARGE: 413,
    PRECONDITION_FAILED: 412,
    IDEMPOTENCY_KEY_REUSED: 422,
    IDEMPOTENCY_KEY_IN_USE: 409,
    IDEMPOTENCY_KEY_INVALID: 400,
    RATE_LIMITED: 429,
    INTERNAL_ERROR: 500,
    SERVICE_UNAVAILABLE: 503,
    USER_RECORD_NOT_FOUND: 404,
    USER_IMPROPER_ID: 404,
    RISK_ENTITY_THRESHOLD_EXCEEDED: 403,
    RISK_USER_THRESHOLD_EXCEEDED: 403,
    RISK_ENGINE_ERROR: 403,
    RISK_CONFIG_ERROR: 500,
}

TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def status_for(code: str) -> int:
    """HTTP status of a code; field-rule and business-rule codes are 400."""
    return HTTP_STATUS.get(code, 400)


def describe(code: str, **params: object) -> str:
    """Human text for a code, with `{placeholders}` filled from params where given."""
    template = DESCRIPTIONS.get(code)
    if template is None:
        template = _rule_template(code, params)
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def _rule_template(code: str, params: dict[str, object]) -> str:
    for suffix, template in RULE_TEMPLATES.items():
        if code.endswith("_" + suffix):
            if "field" not in params and code.startswith("resource_user_"):
                params["field"] = code[len("resource_user_") : -len(suffix) - 1]
            return template
    return code.replace("_", " ").capitalize() + "."


# --- KYC documents (issue 14, SPEC §12)
DOCUMENT_TYPE_NOT_ALLOWED: Final = "resource_document_type_not_allowed"
KYC_TYPE_NOT_ALLOWED: Final = "resource_kyc_type_not_allowed"
DOCUMENT_DATA_INVALID: Final = "resource_document_data_invalid"
DOCUMENT_FORMAT_NOT_ALLOWED: Final = "resource_document_format_not_allowed"
DOCUMENT_TOO_LARGE: Final = "resource_document_too_large"
DOCUMENT_LIMIT_EXCEEDED: Final = "resource_document_limit_exceeded"
DOCUMENT_NOT_FOUND: Final = "resource_document_not_found"
KYC_ALREADY_SUBMITTED: Final = "resource_kyc_already_submitted"
KYC_NO_DOCUMENTS: Final = "resource_kyc_no_documents"
KYC_PREREQUISITES_MISSING: Final = "resource_kyc_prerequisites_missing"
KYC_NOT_SUBMITTED: Final = "resource_kyc_not_submitted"
KYC_MESSAGE_REQUIRED: Final = "resource_kyc_message_required"
KYC_STATUS_INVALID: Final = "resource_kyc_status_invalid"

DESCRIPTIONS.update(
    {
        DOCUMENT_TYPE_NOT_ALLOWED: (
            "Parameter `document_type` must be a code of the `document_types` enumeration."
        ),
        KYC_TYPE_NOT_ALLOWED: "Parameter `kyc_type` must be a code of the `kyc_types` enumeration.",
        DOCUMENT_DATA_INVALID: (
            "The document is empty or not valid base64 (plain, or a `data:` URI); send the "
            "file's bytes base64-encoded, or as the multipart part `file`."
        ),
        DOCUMENT_FORMAT_NOT_ALLOWED: (
            "The document must be a JPEG, PNG or PDF file that opens: no decompression bombs, "
            "no encrypted or scripted PDFs. The content decides, not the name or declared type."
        ),
        DOCUMENT_TOO_LARGE: "The document exceeds 8 MiB (8 388 608 bytes) once decoded.",
        DOCUMENT_LIMIT_EXCEEDED: (
            "The open KYC submission already holds 4 documents; delete one before adding another."
        ),
        DOCUMENT_NOT_FOUND: "Document not found.",
        KYC_ALREADY_SUBMITTED: (
            "The KYC submission is already submitted or decided; its documents cannot change."
        ),
        KYC_NO_DOCUMENTS: "Upload at least one document before confirming the KYC submission.",
        KYC_PREREQUISITES_MISSING: (
            "The user lacks details KYC needs (title, id_type, id_number, country_of_issue, "
            "gender, a residential address); each missing one is listed in `errors`."
        ),
        KYC_NOT_SUBMITTED: "The user has no submitted KYC to decide on.",
        KYC_MESSAGE_REQUIRED: "A rejection needs a message for the partner (`message`).",
        KYC_STATUS_INVALID: "Parameter `status` must be `approved` or `rejected`.",
        "resource_user_address_required": "A residential address is required.",
    }
)
HTTP_STATUS[DOCUMENT_NOT_FOUND] = 404

# --- v1 MatchMove endpoints beyond users: addresses, risk exceptions (issue 13, SPEC §11)
USER_ADDRESS_TYPE_INVALID: Final = "resource_user_address_type_invalid"
USER_ADDRESS_1_INVALID: Final = "user_address_1_invalid"
USER_ADDRESS_2_INVALID: Final = "user_address_2_invalid"
USER_ADDRESS_3_INVALID: Final = "user_address_3_invalid"
USER_ADDRESS_4_INVALID: Final = "user_address_4_invalid"
USER_CITY_INVALID: Final = "user_city_invalid"
USER_STATE_INVALID_ADDRESS: Final = "user_state_invalid"
USER_COUNTRY_INVALID: Final = "user_country_invalid"
USER_COUNTRY_CODE_INVALID: Final = "user_country_code_invalid"
USER_ZIPCODE_INVALID: Final = "user_zipcode_invalid"
RISK_EXCEPTION_DATE_EXPIRY_REQUIRED: Final = "resource_risk_exception_date_expiry_required"
RISK_EXCEPTION_DATE_EXPIRY_INVALID: Final = "resource_risk_exception_date_expiry_invalid"
RISK_EXCEPTION_REASON_REQUIRED: Final = "resource_risk_exception_reason_required"
RISK_EXCEPTION_REASON_LENGTHMAX: Final = "resource_risk_exception_reason_lengthmax"

DESCRIPTIONS.update(
    {
        USER_ADDRESS_TYPE_INVALID: "Address type must be `residential` or `billing`.",
        USER_ADDRESS_1_INVALID: "`address_1` is required, at most 35 characters.",
        USER_ADDRESS_2_INVALID: "`address_2` must be at most 35 characters.",
        USER_ADDRESS_3_INVALID: "`address_3` must be at most 35 characters.",
        USER_ADDRESS_4_INVALID: "`address_4` must be at most 35 characters.",
        USER_CITY_INVALID: "`city` is required, at most 35 characters.",
        USER_STATE_INVALID_ADDRESS: "`state` must be at most 20 characters.",
        USER_COUNTRY_INVALID: (
            "`country` must be a country's English name from GET /users/enumerations/countries "
            "(at most 50 characters), or send `country_code`."
        ),
        USER_COUNTRY_CODE_INVALID: (
            "`country_code` must be an ISO 3166 alpha-3 code from GET /users/enumerations/"
            "countries, and name the same country as `country` when both are sent."
        ),
        USER_ZIPCODE_INVALID: ("`zipcode` must be at most 16 letters, digits, spaces or `-`."),
        RISK_EXCEPTION_DATE_EXPIRY_REQUIRED: "Parameter `date_expiry` is required.",
        RISK_EXCEPTION_DATE_EXPIRY_INVALID: (
            "`date_expiry` must be a future date-time (`YYYY-MM-DD HH:MM:SS` UTC or ISO 8601) "
            "at most 5 years ahead."
        ),
        RISK_EXCEPTION_REASON_REQUIRED: "Parameter `reason` is required.",
        RISK_EXCEPTION_REASON_LENGTHMAX: "`reason` must be at most 500 characters.",
    }
)

# --- webhooks (issue 15, SPEC §13)
WEBHOOK_NOT_FOUND: Final = "resource_webhook_not_found"
WEBHOOK_URL_INVALID: Final = "resource_webhook_url_invalid"
WEBHOOK_URL_NOT_ALLOWED: Final = "resource_webhook_url_not_allowed"
WEBHOOK_EVENTS_INVALID: Final = "resource_webhook_events_invalid"
DELIVERY_NOT_FOUND: Final = "resource_delivery_not_found"

DESCRIPTIONS.update(
    {
        WEBHOOK_NOT_FOUND: "Webhook `{webhook_id}` was not found in this program.",
        WEBHOOK_URL_INVALID: "{detail}",
        WEBHOOK_URL_NOT_ALLOWED: (
            "The webhook url resolves to a loopback, private, link-local or metadata address; "
            "use a public https address."
        ),
        WEBHOOK_EVENTS_INVALID: (
            "`events` must be a non-empty list of event types (see /event/categories), "
            'or ["*"] for all. {detail}'
        ),
        DELIVERY_NOT_FOUND: "Delivery `{delivery_id}` was not found for this webhook.",
    }
)
HTTP_STATUS.update({WEBHOOK_NOT_FOUND: 404, DELIVERY_NOT_FOUND: 404})

# --- input boundary and production front (issue 12)
# A body value the service cannot store or compute with (api/boundary.py).
INVALID_VALUE: Final = "invalid_value"
# Answered by the reverse proxy in front of the app servers (deploy/nginx.conf), never by the
# app itself: the request line or the headers exceed the proxy's limits, or no app server
# answered in time.
REQUEST_URI_TOO_LONG: Final = "request_uri_too_long"
REQUEST_HEADERS_TOO_LARGE: Final = "request_headers_too_large"
BAD_GATEWAY: Final = "bad_gateway"
GATEWAY_TIMEOUT: Final = "gateway_timeout"

DESCRIPTIONS.update(
    {
        INVALID_VALUE: (
            "`{field}` is not accepted: it holds {reason}. Send text without NUL characters "
            "or unpaired surrogates, finite numbers, and dates between 0001-01-02 and "
            "9999-12-30."
        ),
        REQUEST_URI_TOO_LONG: "The request line is too long (at most 8 KiB).",
        REQUEST_HEADERS_TOO_LARGE: (
            "A request header is too large (at most 8 KiB each, 32 KiB in all)."
        ),
        BAD_GATEWAY: "No application server answered; retry after Retry-After seconds.",
        GATEWAY_TIMEOUT: "The application server did not answer in time; retry with the same "
        "Idempotency-Key.",
    }
)
HTTP_STATUS.update(
    {
        INVALID_VALUE: 400,
        REQUEST_URI_TOO_LONG: 414,
        REQUEST_HEADERS_TOO_LARGE: 431,
        BAD_GATEWAY: 502,
        GATEWAY_TIMEOUT: 504,
    }
)
TITLES.update(
    {
        414: "URI too long",
        431: "Request header fields too large",
        502: "Bad gateway",
        504: "Gateway timeout",
    }
)
