"""Property-based fuzzing of every API operation against the service's own OpenAPI schema.

The schema is loaded from `/api/schema/` of the WSGI app running in-process on the test
database; every operation of both versions is called with valid Basic credentials of a seeded
client and generated bodies, parameters and headers (valid and invalid). Each response must:

- never be a server error (`not_a_server_error`),
- have a status code the schema documents for the operation (`status_code_conformance`),
- have the documented content type and match the documented body schema
  (`content_type_conformance`, `response_schema_conformance`).

Run it alone with `pytest -m schemathesis`. `SCHEMATHESIS_MAX_EXAMPLES` (default 25) bounds
the cases per operation, which keeps the whole run within a few minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from enumerations.catalog import get_catalog
from programs.models import Program
from tests.conftest import basic
from users.lifecycle import Actor
from users.models import Channel
from users.services import user_create

pytestmark = [pytest.mark.schemathesis, pytest.mark.slow]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_test_connection():  # type: ignore[no-untyped-def]
    """The WSGI handler closes "old" database connections around each request, which on
    PostgreSQL would close the test's own transaction; Django's test client unhooks the
    same signal handlers for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_target(keep_test_connection, program_a, client_a) -> dict[str, Any]:
    """Program `alpha` with room for the whole run in its rate limits, and a few users whose
    ids the generated cases use half of the time (random ids only ever reach the 404s)."""
    Program.objects.filter(pk=program_a.pk).update(
        read_rate_limit=1_000_000, write_rate_limit=1_000_000
    )
    actor = Actor.api_client(client_a)
    users = [
        user_create(
            program=program_a,
            changes={
                "first_name": "Ada",
                "last_name": "Lovelace",
                "preferred_name": "Ada",
                "email": f"fuzz{n}@example.com",
                "mobile_country_code": "65",
                "mobile": f"9123456{n}",
            },
            actor=actor,
            channel=Channel.API_V1,
            catalog=get_catalog(),
        ).user
        for n in range(3)
    ]
    return {
        "headers": {"Authorization": basic(client_a.client_id, client_a.plain_secret)},
        "user_ids": [u.public_id for u in users],
    }


def load_schema():  # type: ignore[no-untyped-def]
    """The schema `/api/schema/` serves, generated in-process; requests go to the WSGI app.

    Built at import (Django is configured by then) so each operation is its own test item.
    """
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))
    loaded.app = get_wsgi_application()
    loaded.config.update(parameters={"program": "alpha"})
    loaded.config.generation.update(max_examples=MAX_EXAMPLES)
    return loaded


schema = load_schema()


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, fuzz_target):  # type: ignore[no-untyped-def]
    user_id = case.path_parameters.get("user_id") if case.path_parameters else None
    if isinstance(user_id, str):
        # half of the cases address a real user, so the 200 answers are checked too
        pick = int(hashlib.sha256(user_id.encode()).hexdigest(), 16)
        if pick % 2 == 0:
            ids = fuzz_target["user_ids"]
            case.path_parameters["user_id"] = ids[pick % len(ids)]
    case.call_and_validate(headers=fuzz_target["headers"], checks=CHECKS)


def test_every_operation_of_both_versions_is_fuzzed():
    """The parametrized test above covers the whole schema: both versions, every method."""
    operations = {
        (op.method.upper(), op.path)
        for op in (result.ok() for result in schema.get_all_operations())
    }
    assert ("POST", "/{program}/v1/users") in operations
    assert ("POST", "/{program}/v2/users") in operations
    assert {path.split("/")[2] for _, path in operations} == {"v1", "v2"}
