"""SPEC §2: every authentication and tenancy error case, in both envelopes."""

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core import error_codes
from programs.models import ApiClient
from tests.conftest import api_for, basic
from tests.factories import ApiClientFactory

URL = "/alpha/{v}/users/enumerations/titles"


def _code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["code"]


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer abc",
        "Basic",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":secret").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    ],
)
def test_missing_or_malformed_authorization_is_invalid_credentials(client_a, version, header):
    api = APIClient()
    if header is not None:
        api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get(URL.format(v=version))
    assert response.status_code == 401
    assert _code(response) == error_codes.INVALID_CREDENTIALS
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_unknown_client_wrong_secret_and_inactive_client(client_a, version):
    unknown = APIClient()
    unknown.credentials(HTTP_AUTHORIZATION=basic("cl_nobody", "whatever"))
    assert _code(unknown.get(URL.format(v=version))) == error_codes.INVALID_CREDENTIALS

    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=basic(client_a.client_id, client_a.plain_secret + "x"))
    assert wrong.get(URL.format(v=version)).status_code == 401

    ApiClient.objects.filter(pk=client_a.pk).update(is_active=False)
    response = api_for(client_a).get(URL.format(v=version))
    assert response.status_code == 401
    assert _code(response) == error_codes.INVALID_CREDENTIALS


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_other_or_unknown_program_is_invalid_tenant(api_a, program_b, version):
    for program in ("beta", "does-not-exist"):
        response = api_a.get(f"/{program}/{version}/users/enumerations/titles")
        assert response.status_code == 401
        assert _code(response) == error_codes.INVALID_TENANT


def test_read_only_client_may_read_but_not_write(api_readonly_a):
    assert api_readonly_a.get(URL.format(v="v1")).status_code == 200
    response = api_readonly_a.post(URL.format(v="v1"), {}, format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == error_codes.RESTRICTED_RESOURCE
    assert body["description"] == "Access with method `POST` denied"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_ip_allowlist(program_a, version):
    inside = ApiClientFactory(program=program_a, allowed_cidrs=["127.0.0.0/8"])
    outside = ApiClientFactory(program=program_a, allowed_cidrs=["10.0.0.0/8", "2001:db8::/32"])
    assert api_for(inside).get(URL.format(v=version), REMOTE_ADDR="127.0.0.1").status_code == 200
    response = api_for(outside).get(URL.format(v=version), REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 403
    assert _code(response) == error_codes.IP_NOT_ALLOWED


def test_secret_is_stored_only_as_keyed_hash(client_a):
    row = ApiClient.objects.get(pk=client_a.pk)
    assert client_a.plain_secret not in row.secret_hash
    assert len(row.secret_hash) == 64
    assert row.check_secret(client_a.plain_secret)
    assert not row.check_secret(client_a.plain_secret[:-1])


def test_last_used_is_recorded(api_a, client_a):
    assert ApiClient.objects.get(pk=client_a.pk).last_used_at is None
    api_a.get(URL.format(v="v1"))
    assert ApiClient.objects.get(pk=client_a.pk).last_used_at is not None


def test_authenticated_read_costs_two_queries_when_warm(api_a):
    api_a.get(URL.format(v="v1"))  # warms the catalog snapshot and last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert api_a.get(URL.format(v="v1")).status_code == 200
    # the client (with program and catalog version), then the rate-limit counter UPSERT
    assert len(queries) == 2, [q["sql"] for q in queries]
    assert "core_ratelimitcounter" in queries[1]["sql"]
