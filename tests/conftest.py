"""Personas and helpers shared by every test module.

Fixtures: `seeded` (enumerations loaded), `program_a` / `program_b` (two tenants, SGP),
`client_a` / `client_b` (API clients with full access), `readonly_client_a`,
`api_a` / `api_b` / `api_readonly_a` (DRF APIClients authenticated as those clients).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from django.db import connection
from rest_framework.test import APIClient

from enumerations import catalog
from enumerations.seeding import seed
from tests.factories import ApiClientFactory, ProgramFactory

# Hooks of the PII guard over every log line of the run (tests/log_guard.py).
from tests.log_guard import (  # noqa: F401
    pytest_configure,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)",
)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def api_for(client) -> APIClient:  # type: ignore[no-untyped-def]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=basic(client.client_id, client.plain_secret))
    return api


@pytest.fixture(autouse=True)
def _fresh_catalog_snapshot() -> Iterator[None]:
    # each test's database starts over; so must the in-process enumeration snapshot
    catalog._snapshot = None
    yield
    catalog._snapshot = None


@pytest.fixture
def seeded(db: None) -> None:
    seed()


@pytest.fixture
def program_a(seeded: None):  # type: ignore[no-untyped-def]
    return ProgramFactory(code="alpha", name="Alpha", country="SGP")


@pytest.fixture
def program_b(seeded: None):  # type: ignore[no-untyped-def]
    return ProgramFactory(code="beta", name="Beta", country="SGP")


@pytest.fixture
def client_a(program_a):  # type: ignore[no-untyped-def]
    return ApiClientFactory(program=program_a)


@pytest.fixture
def client_b(program_b):  # type: ignore[no-untyped-def]
    return ApiClientFactory(program=program_b)


@pytest.fixture
def readonly_client_a(program_a):  # type: ignore[no-untyped-def]
    return ApiClientFactory(program=program_a, allowed_methods=["GET"])


@pytest.fixture
def api_a(client_a) -> APIClient:  # type: ignore[no-untyped-def]
    return api_for(client_a)


@pytest.fixture
def api_b(client_b) -> APIClient:  # type: ignore[no-untyped-def]
    return api_for(client_b)


@pytest.fixture
def api_readonly_a(readonly_client_a) -> APIClient:  # type: ignore[no-untyped-def]
    return api_for(readonly_client_a)
