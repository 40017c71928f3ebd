"""Property-based fuzzing of the input boundary (issue 12, item 4) across the API's inputs.

The schema-driven fuzzing (tests/test_schemathesis.py) generates what the OpenAPI schema
describes, so it never sends what no schema can express: NUL characters, unpaired
surrogates, non-finite numbers, dates at the ends of the calendar. These strategies do, at
every kind of input — body fields (top-level and nested), query parameters, path ids and
headers, v1 and v2 — and every answer must be the version's 4xx envelope, never a 5xx, with
nothing saved.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from users.models import AccountHolder

pytestmark = pytest.mark.slow

V1 = "/alpha/v1/users"
V2 = "/alpha/v2/users"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the strategies: one per class of value the boundary refuses


def with_nul() -> st.SearchStrategy[str]:
    return st.tuples(st.text(max_size=8), st.text(max_size=8)).map(lambda p: f"{p[0]}\x00{p[1]}")


def with_lone_surrogate() -> st.SearchStrategy[str]:
    surrogate = st.integers(0xD800, 0xDFFF).map(chr)
    return st.tuples(st.text(max_size=8), surrogate, st.text(max_size=8)).map("".join)


def huge_date() -> st.SearchStrategy[str]:
    """ISO 8601 dates and date-times at (or past) either end of the calendar."""
    day = st.sampled_from(["9999-12-31", "0001-01-01", "0000-01-01", "10000-01-01"])
    time = st.sampled_from(["", "T00:00:00", "T23:59:59Z", "T12:00:00+14:00", "T00:00-05:00"])
    return st.tuples(day, time).map("".join)


def non_finite_literal() -> st.SearchStrategy[str]:
    """JSON number literals that decode to no finite number (written verbatim in the body)."""
    big = st.integers(309, 5000).map(lambda e: f"1e{e}")
    return st.one_of(
        st.sampled_from(["NaN", "Infinity", "-Infinity"]),
        big,
        big.map(lambda s: "-" + s),
        st.integers(1, 9).map(lambda d: f"{d}.5e999"),
    )


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(with_nul(), with_lone_surrogate(), huge_date())


def hostile_json_value() -> st.SearchStrategy[str]:
    """A JSON text fragment holding one hostile value, possibly nested."""
    leaf = st.one_of(hostile_text().map(json.dumps), non_finite_literal())
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            inner.map(lambda v: f"[1, {v}]"),
            st.tuples(st.text(max_size=5), inner).map(lambda p: f"{{{json.dumps(p[0])}: {p[1]}}}"),
        ),
        max_leaves=3,
    )


V2_FIELDS = ["first_name", "email", "metadata", "created_by", "birth", "addresses", "mobile"]
V1_FIELDS = ["first_name", "last_name", "email", "birthday", "id_number", "customer_id"]


def v2_text(field: str, fragment: str) -> str:
    body = {
        "type": "customer",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": "ada.fuzz@example.com",
        "mobile_country_code": "65",
        "mobile": "91234567",
        field: "__RAW__",
    }
    return json.dumps(body).replace('"__RAW__"', fragment)


def assert_refused(response: Any, version: str) -> None:
    assert response.status_code < 500, response.content
    assert 400 <= response.status_code < 500
    body = response.json()
    if version == "v2":
        assert {"id", "status", "code", "title", "detail", "source"} <= set(body)
    else:
        assert {"code", "description", "errors"} <= set(body)


@pytest.fixture
def fuzz_user(api_a) -> str:  # type: ignore[no-untyped-def]
    created = api_a.post(V2, json.loads(v2_text("client_ref_id", '"fuzz"')), format="json")
    assert created.status_code == 201, created.content
    return str(created.json()["id"])


# --- bodies


@FUZZ
@given(field=st.sampled_from(V2_FIELDS), fragment=hostile_json_value())
def test_v2_bodies_never_5xx(api_a, fuzz_user, field, fragment):
    before = AccountHolder.objects.count()
    text = v2_text(field, fragment)
    for method, path in (("post", V2), ("put", f"{V2}/{fuzz_user}")):
        response = getattr(api_a, method)(path, data=text, content_type="application/json")
        assert_refused(response, "v2")
        assert response.json()["code"] == "validation_error"
    assert AccountHolder.objects.count() == before


@FUZZ
@given(field=st.sampled_from(V1_FIELDS), value=hostile_text(), as_form=st.booleans())
def test_v1_bodies_never_5xx(api_a, field, value, as_form):
    before = AccountHolder.objects.count()
    body = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada.v1fuzz@example.com",
        "mobile_country_code": "65",
        "mobile": "91234568",
        field: value,
    }
    if any("\ud800" <= c <= "\udfff" for c in value):
        as_form = False  # a form cannot carry a surrogate (it is not encodable as UTF-8)
    if as_form:
        form = urlencode(body)
        response = api_a.post(V1, form, content_type="application/x-www-form-urlencoded")
    else:
        response = api_a.post(V1, json.dumps(body), content_type="application/json")
    assert_refused(response, "v1")
    assert AccountHolder.objects.count() == before


# --- query, path, headers


LIST_PARAMS = ["created_from", "created_to", "email", "q", "client_ref_id", "status", "cursor"]


@FUZZ
@given(param=st.sampled_from(LIST_PARAMS), value=st.one_of(with_nul(), huge_date()))
def test_v2_list_query_never_5xx(api_a, api_readonly_a, param, value):
    for api in (api_a, api_readonly_a):
        response = api.get(f"{V2}?{param}={quote(value)}")
        assert_refused(response, "v2")
        assert response.json()["code"] == "invalid_query_param"


@FUZZ
@given(suffix=st.one_of(with_nul(), st.sampled_from(["\n", "\r\n", " ", "\t"])))
def test_path_ids_never_5xx(api_a, fuzz_user, suffix):
    tail = quote(suffix, safe="")
    for version, path in (("v1", f"{V1}/{fuzz_user}{tail}"), ("v2", f"{V2}/{fuzz_user}{tail}")):
        response = api_a.get(path)
        assert_refused(response, version)
        assert response.json()["code"] in ("user_improper_id", "bad_request")


@FUZZ
@given(value=with_nul(), version=st.sampled_from(["v1", "v2"]))
def test_headers_never_5xx(api_a, value, version):
    response = api_a.get(f"/alpha/{version}/users/enumerations/titles", HTTP_X_PARTNER=value)
    assert_refused(response, version)
    assert response.json()["code"] == "bad_request"


@FUZZ
@given(raw=st.binary(max_size=40).map(lambda b: b"\x00" + b))
def test_credentials_never_5xx(client_a, raw):
    header = "Basic " + base64.b64encode(raw + b":" + raw).decode()
    response = APIClient().get(f"{V2}/enumerations/titles", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
