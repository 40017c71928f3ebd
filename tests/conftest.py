"""Personas and helpers shared by every test module.

Fixtures: `seeded` (enumerations loaded), `program_a` / `program_b` (two tenants, SGP),
`client_a` / `client_b` (API clients with full access), `readonly_client_a`,
`api_a` / `api_b` / `api_readonly_a` (DRF APIClients authenticated as those clients);
`browser` / `page` (headless Chromium for the browser tests).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
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


# --- a headless Chromium for the browser tests (tests/*/test_browser.py) ----------------------
#
# Never `playwright install`: the browser is the system's `/usr/bin/chromium` (`make browsers`
# installs it). One browser per test module; each `page` its own context, and a failing test
# leaves a screenshot of it in `test-artifacts/`.

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: `make browsers` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    # keep each phase's report on the test item, so fixtures can screenshot failures
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
