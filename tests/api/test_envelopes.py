"""SPEC §3: the v1 and v2 error envelopes for every error class, and X-Request-ID."""

import re

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from api.errors import render_envelope
from core import error_codes
from core.exceptions import ApiError, FieldError

HEX32 = re.compile(r"^[0-9a-f]{32}$")
V1_KEYS = {"code", "description", "link", "errors"}
V2_KEYS = {"id", "status", "code", "title", "detail", "source", "timestamp"}


def assert_v1(response, status, code):  # type: ignore[no-untyped-def]
    assert response.status_code == status
    body = response.json()
    assert set(body) == V1_KEYS
    assert body["code"] == code
    assert body["description"]
    assert code in body["link"]
    return body


def assert_v2(response, status, code):  # type: ignore[no-untyped-def]
    assert response.status_code == status
    body = response.json()
    assert set(body) == V2_KEYS
    assert body["code"] == code
    assert body["status"] == status
    assert HEX32.match(body["id"])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["timestamp"])
    return body


def test_401_both_envelopes(client_a):
    anonymous = APIClient()
    assert_v1(anonymous.get("/alpha/v1/users/enumerations/titles"), 401, "invalid_credentials")
    assert_v2(anonymous.get("/alpha/v2/users/enumerations/titles"), 401, "invalid_credentials")


def test_404_unknown_kind_and_unrouted_path(api_a):
    assert_v1(api_a.get("/alpha/v1/users/enumerations/nope"), 404, "resource_not_found")
    assert_v2(api_a.get("/alpha/v2/users/enumerations/nope"), 404, "resource_not_found")
    assert_v1(api_a.get("/alpha/v1/no/such/path"), 404, "resource_not_found")
    assert_v2(api_a.get("/alpha/v2/no/such/path"), 404, "resource_not_found")


def test_405_method_not_allowed(api_a):
    assert_v1(api_a.delete("/alpha/v1/users/enumerations/titles"), 405, "method_not_allowed")
    assert_v2(
        api_a.put("/alpha/v2/users/enumerations/titles", {}, format="json"),
        405,
        "method_not_allowed",
    )


def test_400_invalid_query_param(api_a):
    assert_v1(
        api_a.get("/alpha/v1/users/enumerations/countries?type=alpha2"), 400, "invalid_query_param"
    )
    assert_v2(
        api_a.get("/alpha/v2/users/enumerations/countries?type=x"), 400, "invalid_query_param"
    )


def test_validation_errors_render_first_in_v1_and_all_in_v2():
    error = ApiError.from_field_errors(
        [
            FieldError("email", "resource_user_email_invalid"),
            FieldError("birth.date", "future_birthday_not_allowed"),
        ]
    )
    v1 = render_envelope(error, "v1", "abc")
    assert v1["code"] == "resource_user_email_invalid"
    assert [e["code"] for e in v1["errors"]] == [
        "resource_user_email_invalid",
        "future_birthday_not_allowed",
    ]
    v2 = render_envelope(error, "v2", "abc")
    assert v2["code"] == error_codes.VALIDATION_ERROR
    assert v2["status"] == 400
    assert v2["source"] == [
        {
            "field": "email",
            "code": "resource_user_email_invalid",
            "detail": error.errors[0].description,
        },
        {
            "field": "birth.date",
            "code": "future_birthday_not_allowed",
            "detail": "Users `birthday` can not be a future date",
        },
    ]


def test_seed_descriptions_are_used():
    assert error_codes.describe("resource_user_email_unique") == "`email` is already in use"
    assert error_codes.describe("resource_user_first_name_lengthmax", max=50) == (
        "Parameter `first_name` is too long, it cannot exceed 50 characters"
    )
    assert error_codes.status_for(error_codes.RISK_CONFIG_ERROR) == 500
    assert error_codes.status_for("resource_user_email_invalid") == 400


def test_unexpected_exception_is_500_envelope_with_logged_id(api_a, monkeypatch, caplog):
    from enumerations import api as enum_api

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(enum_api, "render_kind", boom)
    response = api_a.get("/alpha/v2/users/enumerations/titles")
    body = assert_v2(response, 500, error_codes.INTERNAL_ERROR)
    assert any(getattr(r, "error_id", None) == body["id"] for r in caplog.records)
    response = api_a.get("/alpha/v1/users/enumerations/titles")
    assert_v1(response, 500, error_codes.INTERNAL_ERROR)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_oversized_body_is_413_envelope(api_a):
    response = api_a.post("/alpha/v2/users/enumerations/titles", {"x": "y" * 500}, format="json")
    # DRF reads the body lazily; the method check answers first for this read-only route
    assert response.status_code in (405, 413)
    assert response.json()["code"] in ("method_not_allowed", "request_too_large")


def test_request_id_is_echoed_or_generated(api_a):
    response = api_a.get("/alpha/v1/users/enumerations/titles", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    generated = api_a.get("/alpha/v1/users/enumerations/titles")["X-Request-ID"]
    assert HEX32.match(generated)
    # an unsafe id is replaced, not echoed
    assert (
        api_a.get("/alpha/v1/users/enumerations/titles", HTTP_X_REQUEST_ID="a\nb")["X-Request-ID"]
        != "a\nb"
    )
    assert APIClient().get("/healthz")["X-Request-ID"]


def test_healthz_is_public(db):
    response = APIClient().get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_openapi_schema_and_docs_are_public(db):
    schema = APIClient().get("/api/schema/?format=json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["components"]["securitySchemes"]["basicAuth"] == {
        "type": "http",
        "scheme": "basic",
        "description": "`client_id:client_secret` of an API client of the program in the URL.",
    }
    assert "/{program}/v1/users/enumerations/{kind}" in body["paths"]
    assert {"V1Error", "V2Error"} <= set(body["components"]["schemas"])
    assert APIClient().get("/api/docs/").status_code == 200


def test_schema_json_by_accept_header(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/")
    assert "openapi" in response.json()


@override_settings(ALLOWED_HOSTS=["api.example.com"])
def test_unknown_host_is_a_400_envelope_not_an_html_page(api_a):
    for version in ("v1", "v2"):
        response = api_a.get(
            f"/alpha/{version}/users/enumerations/titles", HTTP_HOST="evil.example"
        )
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == error_codes.BAD_REQUEST


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_unsupported_media_type_is_415_envelope_naming_the_type(api_a, version):
    response = api_a.generic("POST", f"/alpha/{version}/users", "<user/>", content_type="text/xml")
    assert response.status_code == 415
    body = response.json()
    assert body["code"] == error_codes.UNSUPPORTED_MEDIA_TYPE
    text = body["description"] if version == "v1" else body["detail"]
    assert "`text/xml`" in text
    from users.models import AccountHolder

    assert not AccountHolder.objects.exists()


def test_body_operations_document_415(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    for path in ("/{program}/v1/users", "/{program}/v2/users"):
        assert "415" in schema["paths"][path]["post"]["responses"]
