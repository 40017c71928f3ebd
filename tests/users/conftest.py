"""Builders for the users tests: valid v1 bodies, users created through the services."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from enumerations.catalog import get_catalog
from users.lifecycle import Actor
from users.models import AccountHolder, Channel
from users.services import user_create

_seq = itertools.count(1)

# Valid Singapore NRICs (checksum letters computed by the published algorithm)
NRICS = ("S1234567D", "T1234567J", "S0000001I", "S7654321A")


def unique_mobile() -> str:
    return f"9{next(_seq) % 10_000_000:07d}"


def v1_body(**overrides: Any) -> dict[str, Any]:
    """A v1 create body that passes every rule; `field=None` drops a field."""
    n = next(_seq)
    body: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": f"ada{n}@example.com",
        "mobile_country_code": "65",
        "mobile": f"9{n % 10_000_000:07d}",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def canonical(**overrides: Any) -> dict[str, Any]:
    """A canonical create `Changes` that passes every rule."""
    n = next(_seq)
    changes: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": f"ada{n}@example.com",
        "mobile_country_code": "65",
        "mobile": f"9{n % 10_000_000:07d}",
    }
    changes.update(overrides)
    return {k: v for k, v in changes.items() if v is not None}


def api_actor() -> Actor:
    return Actor.api_client(type("C", (), {"client_id": "test-client"})())


@pytest.fixture
def make_user(program_a):  # type: ignore[no-untyped-def]
    """Create a user of program A (or `program=`) through the real service."""

    def make(program=None, **overrides: Any) -> AccountHolder:  # type: ignore[no-untyped-def]
        return user_create(
            program=program or program_a,
            changes=canonical(**overrides),
            actor=api_actor(),
            channel=Channel.API_V1,
            catalog=get_catalog(),
        ).user

    return make


USERS_TABLES = (
    "users_accountholder",
    "users_identification",
    "users_address",
    "users_taxresidency",
    "users_statuschange",
    "users_userevent",
    "users_pendingupdate",
    "risk_screening",
)


def row_counts() -> dict[str, int]:
    """Rows of every table a user write touches (to prove a refused write left nothing)."""
    from django.db import connection

    with connection.cursor() as cursor:
        counts = {}
        for table in USERS_TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts
