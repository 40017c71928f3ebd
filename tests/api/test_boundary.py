"""Issue 12, items 3 and 4: the input boundary (api/boundary.py) and anchored id patterns.

Each test replays an attack of the adversarial pass: it answered 500 (or the wrong 404)
before the boundary; now the version's 400 (or 401 / `user_improper_id`), and nothing saved.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django import forms
from rest_framework.test import APIClient

from api.boundary import DATE_MAX, DATE_MIN, loads_json, text_problem
from core import error_codes
from core.exceptions import ApiError
from tests.api.test_envelopes import assert_v1, assert_v2
from tests.users.conftest import v1_body
from users.filters import CreatedBoundField, filter_users
from users.models import AccountHolder

V1 = "/alpha/v1/users"
V2 = "/alpha/v2/users"
FORM = "application/x-www-form-urlencoded"


def v2_body(**extra: Any) -> dict[str, Any]:
    body = {
        "type": "customer",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": "ada.boundary@example.com",
        "mobile_country_code": "65",
        "mobile": "91234567",
    }
    body.update(extra)
    return body


def raw_json(api: APIClient, method: str, path: str, text: str) -> Any:
    return getattr(api, method)(path, data=text, content_type="application/json")


def with_raw(body: dict[str, Any], key: str, raw_value: str) -> str:
    """The body as JSON text with `key` holding `raw_value` verbatim (e.g. `1e309`)."""
    text = json.dumps({**body, key: "__RAW__"})
    return text.replace('"__RAW__"', raw_value)


# --- 3: credentials that cannot be looked up


@pytest.mark.parametrize("decoded", [b"\x00:x", b"abc\x00:secret", b"id:sec\x00ret"])
def test_basic_credentials_with_nul_answer_401(client_a, decoded):
    header = "Basic " + base64.b64encode(decoded).decode()
    api = APIClient()
    v1 = api.get(f"{V1}/enumerations/titles", HTTP_AUTHORIZATION=header)
    assert_v1(v1, 401, error_codes.INVALID_CREDENTIALS)
    assert v1["WWW-Authenticate"] == 'Basic realm="onboard"'
    assert_v2(
        api.get(f"{V2}/enumerations/titles", HTTP_AUTHORIZATION=header),
        401,
        error_codes.INVALID_CREDENTIALS,
    )


# --- 4: dates out of range in the query string


@pytest.mark.parametrize(
    "param,value",
    [
        ("created_to", "9999-12-31"),
        ("created_to", "9999-12-31T23:59:59"),
        ("created_from", "9999-12-31T23:59:59-05:00"),
        ("created_from", "0001-01-01T00:00:00+05:00"),
        ("created_to", "0001-01-01"),
    ],
)
def test_list_dates_at_the_calendar_ends_are_invalid_query_params(
    api_a, api_readonly_a, param, value
):
    for api in (api_a, api_readonly_a):
        body = assert_v2(api.get(V2, {param: value}), 400, error_codes.INVALID_QUERY_PARAM)
        assert [s["field"] for s in body["source"]] == [param]
        assert [s["code"] for s in body["source"]] == [error_codes.INVALID_QUERY_PARAM]
        assert "9999-12-30" in body["source"][0]["detail"]


def test_list_dates_just_inside_the_range_work(api_a):
    assert api_a.get(V2, {"created_to": DATE_MAX.isoformat()}).status_code == 200
    assert api_a.get(V2, {"created_from": "0001-01-02T00:00:00+14:00"}).status_code == 200


def test_the_filter_refuses_overflowing_bounds_by_itself(program_a):
    """Defence in depth: the filter's own cleaning turns an overflow into its 400."""
    with pytest.raises(forms.ValidationError):
        CreatedBoundField(exclusive_end=True).to_python("9999-12-31")
    with pytest.raises(ApiError) as raised:
        filter_users(AccountHolder.objects.all(), {"created_to": "9999-12-31"})
    assert raised.value.code == error_codes.INVALID_QUERY_PARAM


def test_nul_in_a_query_param_is_an_invalid_query_param(api_a):
    body = assert_v2(api_a.get(V2, {"email": "a\x00@example.com"}), 400, "invalid_query_param")
    assert body["source"][0]["field"] == "email"
    assert "NUL" in body["source"][0]["detail"]


# --- 4: non-finite numbers and lone surrogates in JSON bodies


@pytest.mark.parametrize("raw", ["1e309", "-1e309", "NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("field", ["metadata", "created_by"])
def test_non_finite_numbers_in_v2_objects_are_validation_errors(api_a, field, raw):
    text = with_raw(v2_body(), field, f'{{"amount": {raw}, "ok": 1.5}}')
    body = assert_v2(raw_json(api_a, "post", V2, text), 400, error_codes.VALIDATION_ERROR)
    assert [(s["field"], s["code"]) for s in body["source"]] == [
        (f"{field}.amount", error_codes.INVALID_VALUE)
    ]
    assert "non-finite" in body["source"][0]["detail"]
    assert not AccountHolder.objects.exists()


@pytest.mark.parametrize("field", ["metadata", "created_by"])
def test_lone_surrogates_in_v2_objects_are_validation_errors(api_a, field):
    text = with_raw(v2_body(), field, '{"name": "x\\ud800y", "list": ["ok", "\\udfff"]}')
    body = assert_v2(raw_json(api_a, "post", V2, text), 400, error_codes.VALIDATION_ERROR)
    assert [(s["field"], s["code"]) for s in body["source"]] == [
        (f"{field}.name", error_codes.INVALID_VALUE),
        (f"{field}.list[1]", error_codes.INVALID_VALUE),
    ]
    assert not AccountHolder.objects.exists()


def test_a_valid_surrogate_pair_is_an_ordinary_character(api_a):
    text = with_raw(v2_body(), "metadata", '{"emoji": "\\ud83d\\ude00"}')
    response = raw_json(api_a, "post", V2, text)
    assert response.status_code == 201, response.content
    assert response.json()["metadata"] == {"emoji": "\U0001f600"}


def test_update_is_guarded_the_same(api_a):
    created = api_a.post(V2, v2_body(), format="json")
    assert created.status_code == 201
    user_id = created.json()["id"]
    text = '{"metadata": {"a": 1e309}, "created_by": {"b": "\\ud800"}}'
    body = assert_v2(raw_json(api_a, "put", f"{V2}/{user_id}", text), 400, "validation_error")
    assert [s["field"] for s in body["source"]] == ["metadata.a", "created_by.b"]
    assert api_a.get(f"{V2}/{user_id}").json()["metadata"] is None


def test_v1_bodies_answer_the_v1_envelope(api_a):
    json_body = assert_v1(
        api_a.post(V1, v1_body(first_name="Ada\x00"), format="json"), 400, "invalid_value"
    )
    assert [(e["field"], e["code"]) for e in json_body["errors"]] == [
        ("first_name", "invalid_value")
    ]
    form = urlencode(v1_body(last_name="Love\x00lace"))
    form_body = assert_v1(api_a.post(V1, form, content_type=FORM), 400, "invalid_value")
    assert [e["field"] for e in form_body["errors"]] == ["last_name"]
    assert not AccountHolder.objects.exists()


def test_dates_at_the_calendar_ends_in_bodies(api_a):
    body = assert_v2(
        api_a.post(V2, v2_body(birth={"date": "0001-01-01"}), format="json"),
        400,
        "validation_error",
    )
    assert body["source"][0]["field"] == "birth.date"
    form = urlencode(v1_body(birthday="9999-12-31"))
    assert_v1(api_a.post(V1, form, content_type=FORM), 400, "invalid_value")


# --- 4: headers and path


def test_nul_in_a_header_or_the_path_is_a_bad_request(api_a):
    body = assert_v2(api_a.get(V2, HTTP_X_TRACE="a\x00b"), 400, error_codes.BAD_REQUEST)
    assert body["source"][0]["field"] == "X-Trace"
    assert_v1(api_a.get(f"{V1}/%00"), 400, error_codes.BAD_REQUEST)
    assert_v2(api_a.get(f"{V2}/%00abc"), 400, error_codes.BAD_REQUEST)


def test_pages_outside_the_api_answer_400_not_500(admin_client):
    response = admin_client.get("/admin/users/accountholder/", {"q": "\x00"})
    assert response.status_code == 400
    login = urlencode({"username": "a\x00", "password": "x"})
    response = admin_client.post("/admin/login/", login, content_type=FORM)
    assert response.status_code == 400
    response = admin_client.post("/admin/login/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400


# --- 4: ids anchored at the very end


@pytest.mark.parametrize("suffix", ["%0A", "%0D%0A", "%0a%20"])
def test_an_id_with_a_trailing_newline_is_improper(api_a, suffix):
    created = api_a.post(V2, v2_body(), format="json")
    user_id = created.json()["id"]
    for response in (
        api_a.get(f"{V1}/{user_id}{suffix}"),
        api_a.delete(f"{V1}/{user_id}{suffix}", {"state": "suspended"}),
    ):
        assert_v1(response, 404, error_codes.USER_IMPROPER_ID)
    for response in (
        api_a.get(f"{V2}/{user_id}{suffix}"),
        api_a.put(f"{V2}/{user_id}{suffix}", {"first_name": "Eve"}, format="json"),
        api_a.get(f"{V2}/{user_id}{suffix}/events"),
    ):
        assert_v2(response, 404, error_codes.USER_IMPROPER_ID)
    reactivate = api_a.post(V1, {"id": f"{user_id}\n"}, format="json")
    assert reactivate.status_code in (400, 404)
    assert reactivate.json()["code"] != error_codes.USER_RECORD_NOT_FOUND


# --- the rules themselves


@pytest.mark.parametrize(
    "value,reason",
    [
        ("a\x00", "NUL"),
        ("\ud800", "surrogate"),
        ("x\udfffy", "surrogate"),
        ("9999-12-31", "date outside"),
        ("0001-01-01T00:00:00Z", "date outside"),
        ("10000-01-01", "date outside"),
        ("0000-06-01", "date outside"),
    ],
)
def test_text_problem_refuses(value, reason):
    assert reason in (text_problem(value) or "")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Ada",
        "\U0001f600",
        "line\nbreak",
        DATE_MIN.isoformat(),
        DATE_MAX.isoformat(),
        "2024-02-30",  # not a date at all: the field's own validation answers
        "call 9999-12-31 later",  # contains a date, is not one
        "2024-01-01T10:00:00+08:00",
    ],
)
def test_text_problem_accepts(value):
    assert text_problem(value) is None


def test_loads_json_names_every_bad_value_by_its_path():
    with pytest.raises(ApiError) as raised:
        loads_json('{"a": [1, {"b": NaN}], "c": "\\u0000", "ok": 2.5, "d": -1e400}')
    assert [(e.field, e.code) for e in raised.value.errors] == [
        ("a[1].b", "invalid_value"),
        ("c", "invalid_value"),
        ("d", "invalid_value"),
    ]
    assert loads_json('{"n": 1e308, "s": "\\ud83d\\ude00"}') == {"n": 1e308, "s": "\U0001f600"}


def test_a_key_holding_nul_is_refused_without_echoing_it():
    with pytest.raises(ApiError) as raised:
        loads_json('{"meta": {"k\\u0000": 1}}')
    [error] = raised.value.errors
    assert error.field == "meta"
    assert "\x00" not in error.description
