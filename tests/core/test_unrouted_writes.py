"""Writes to unrouted paths under /v1/ and /v2/ answer the version's 404 envelope, never
Django's CSRF page (issue 13 item 6): API clients send no CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize(
    "path", ["/alpha/v1/nope", "/alpha/v1/users/abc/extra", "/alpha/v2/nope", "/x/v2"]
)
def test_unrouted_write_is_the_version_404_envelope(method, path):
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(path, "{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "resource_not_found"
    if "/v2" in path:
        assert body["status"] == 404 and "detail" in body
    else:
        assert body["link"].endswith("/api/docs/errors/#resource_not_found")
